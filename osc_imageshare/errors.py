"""Errors the workflows raise, and Glance's answers put into plain words."""

import re

from osc_lib import exceptions


class ImageShareError(exceptions.CommandError):
    """A one-line error the user can act on (exit code 1)."""


class ProjectNotFound(ImageShareError):
    """No project the caller can see has that name or ID."""


def glance_message(exc):
    """The text Glance put in an error response, on one line."""
    details = getattr(exc, 'details', None) or str(exc)
    return ' '.join(str(details).split())


# Glance policy actions a role may be refused, in words.
POLICY_ACTIONS = {
    'modify_member': 'accept or reject an image',
    'add_member': 'add members to an image',
    'delete_member': 'remove members from an image',
    'modify_image': 'change an image',
    'add_image': 'create images',
    'upload_image': 'upload image data',
    'download_image': 'download image data',
    'delete_image': 'delete images',
}
# The roles Glance's default policies (secure RBAC) require for those.
WRITER_ROLES = ('member', 'admin')


def caller_of(client):
    """``(project, role names)`` of the token a Glance client acts with.

    Read from the client's keystoneauth session (no request: the token is
    already there); ``(None, None)`` where it cannot be told.
    """
    http = getattr(client, 'http_client', None)
    session = getattr(http, 'session', None)
    auth = getattr(http, 'auth', None) or getattr(session, 'auth', None)
    try:
        access = auth.get_access(session)
    except Exception:  # no keystoneauth plugin, or no token yet
        return None, None
    project = access.project_name or access.project_id
    return project, list(access.role_names or [])


def role_refusal(msg, project, roles):
    """Why Glance's policy refused, when the caller's role is the cause."""
    match = re.search(r'not authorized to complete (\w+) action', msg)
    if not match or roles is None or set(roles) & set(WRITER_ROLES):
        return None
    action = match.group(1)
    return ("Your role in project %s is %s; Glance requires the member "
            "role (or admin) to %s (its %s policy): ask for the member role "
            "there, or act with credentials that have it" % (
                project, ', '.join(sorted(roles)) or 'none',
                POLICY_ACTIONS.get(action, 'do that'), action))


def explain(exc, image_id, project=None, action='change', client=None):
    """A sentence for a Glance error met on ``image_id`` (and ``project``).

    ``action`` says what was attempted, in words ('add a member', ...);
    ``client``, the Glance client that met it, tells the caller's roles
    when a policy refused.
    """
    code = getattr(exc, 'code', None)
    msg = glance_message(exc)
    if code == 403 and client is not None:
        refusal = role_refusal(msg, *caller_of(client))
        if refusal:
            return refusal
    if code == 413:
        limit = re.search(r'Maximum: (\d+)', msg)
        return ("Image %s already has %s members, this cloud's limit; revoke "
                "unused members first ('openstack image share revoke')"
                % (image_id, limit.group(1) if limit else 'the most'))
    if code == 403 and 'Not allowed to create members' in msg:
        return ("Image %s is not 'shared' (Glance refuses members on "
                "private, public and community images); set it shared first"
                % image_id)
    if code == 403 and 'Only shared images have members' in msg:
        return ("Image %s is not 'shared': Glance neither lists nor changes "
                "its members" % image_id)
    if code == 403 and 'modify_member' in msg:
        return ("Only project %s itself (or an admin) may accept or reject "
                "image %s; act with that project's credentials"
                % (project, image_id))
    if code == 404 and 'member list' in msg:
        return ("Project %s is not a member of image %s" % (project, image_id))
    if code == 404:
        return ("Image %s no longer exists or is not visible to you"
                % image_id)
    return ("Glance refused to %s on image %s: %s (HTTP %s)"
            % (action, image_id, msg, code))
