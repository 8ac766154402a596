"""Errors the workflows raise, and Glance's answers put into plain words."""

import re

from osc_lib import exceptions


class ImageShareError(exceptions.CommandError):
    """A one-line error the user can act on (exit code 1)."""


def glance_message(exc):
    """The text Glance put in an error response, on one line."""
    details = getattr(exc, 'details', None) or str(exc)
    return ' '.join(str(details).split())


def explain(exc, image_id, project=None, action='change'):
    """A sentence for a Glance error met on ``image_id`` (and ``project``).

    ``action`` says what was attempted, in words ('add a member', ...).
    """
    code = getattr(exc, 'code', None)
    msg = glance_message(exc)
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
