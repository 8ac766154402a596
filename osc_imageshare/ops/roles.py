"""A dry run's word on the roles Glance's default policies refuse.

Glance's default (secure RBAC) policies give every write to the member
role (or admin); a reader only reads.  A cloud may run the legacy
policies instead, under which a reader writes: only a try tells, so a
dry run refuses nothing for a role.  It says which credentials would act
with a role the defaults refuse, and for what; the run then meets
Glance's answer (``errors.explain`` names the role when it refuses).
"""

from osc_imageshare import errors

W_ROLE = ("{who} would act as project {project} with the role {roles}: "
          "Glance's default policies refuse it to {what} (its {policy} "
          "policy), so unless this cloud's policy allows it, that would "
          "fail; ask for the member role there, or use credentials that "
          "have it")

# Glance's policies for the writes (their words: errors.POLICY_ACTIONS).
CHANGE = 'modify_image'
SHARE = 'add_member'
ACCEPT = 'modify_member'
CREATE = 'add_image'
DELETE = 'delete_image'


def refused(project, roles):
    """``(project, roles)`` if only roles the defaults refuse, else None."""
    if roles is None or set(roles) & set(errors.WRITER_ROLES):
        return None
    return project, roles


def of_client(client):
    """The refused ``(project, roles)`` a Glance client acts with, or None."""
    return refused(*errors.caller_of(client))


def of_ident(ident):
    """The refused ``(project, roles)`` of the command's own token."""
    auth = getattr(ident, 'auth_ref', None)
    return refused(getattr(ident, 'project_name', None)
                   or getattr(ident, 'project_id', None),
                   getattr(auth, 'role_names', None))


def warnings(uses):
    """One line per refused use: ``(refused, who, policy)``.

    ``refused``: what ``of_client`` or ``of_ident`` gave; None is skipped.
    The same credentials for the same write are said once.
    """
    lines = {}
    for found, who, policy in uses:
        if found is None:
            continue
        project, roles = found
        lines.setdefault((who, project, policy), W_ROLE.format(
            who=who, project=project, policy=policy,
            what=errors.POLICY_ACTIONS[policy],
            roles=', '.join(sorted(roles)) or 'none'))
    return list(lines.values())
