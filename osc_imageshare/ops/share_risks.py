"""The risks of a share: a table of small independent checks.

Each check reads the ``Facts`` of one (image, member) and returns the
sentence (the audit's Detail), or None where the risk is absent.  A new
risk is one function and one line of ``RISKS``, the table ``image share
audit`` runs (``osc_imageshare.ops.audit``) in its order.
"""

import collections
import datetime

from osc_imageshare.api import identity
from osc_imageshare.ops import access
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops import stranded

W_DELETED = ("Member {member} of image {id} was a project and no longer "
             "exists: nobody can use this membership; remove it with "
             "'openstack image share revoke {id} {member}'.")
W_UNVERIFIABLE = ("Member {member} of image {id} could not be verified: "
                  "Keystone refuses you both a deleted project and one you "
                  "may not see; ask an admin to run 'openstack image share "
                  "audit --all-projects', or remove it with 'openstack "
                  "image share revoke {id} {member}' if it is not meant to "
                  "be there.")
W_DISABLED = ("Project {member_label} is disabled: it cannot use image {id} "
              "until it is enabled again ('openstack project set --enable "
              "{member}'); if it is closed for good, remove it with "
              "'openstack image share revoke {id} {member}'.")
W_STALE = ("Project {member_label} has left image {id} pending since "
           "{since} ({days} days or more): it accepts it with 'openstack "
           "image share accept {id}', or the owner removes it with "
           "'openstack image share revoke {id} {member}'.")
W_OWNER_GONE = ("The owner project {owner} of image {id} no longer exists: "
                "nobody can maintain or protect the image; an admin gives it "
                "an owner with 'openstack image set --project <project> "
                "{id}', or each member copies it ('openstack image transfer "
                "{id} --mode copy').")
W_OWNER_DISABLED = ("The owner project {owner_label} of image {id} is "
                    "disabled: nobody can maintain the image while it is; "
                    "enable it ('openstack project set --enable {owner}'), "
                    "or each member copies the image ('openstack image "
                    "transfer {id} --mode copy').")
W_COMPANION_UNREADABLE = (
    "Project {member_label} cannot read the {key} {companion} of image "
    "{id} ({why}), so it cannot boot the image: share it too ('openstack "
    "image transfer {companion} --to {member}'), or copy the image with its "
    "companions ('openstack image transfer {id} --mode copy').")
COMPANION_WHY = {
    'private': 'the companion is private',
    'unlisted': 'the companion is shared, but not with that project',
    'hidden': 'you cannot read the companion either: it is not yours and '
              'not shared with you',
}


class Facts(collections.namedtuple('Facts', (
        'image', 'member', 'project', 'owner_project', 'accepted',
        'consumer', 'pending_days', 'now', 'kind', 'companions'))):
    """What a check may read about one (image, member).

    ``project`` and ``owner_project``: the Keystone project dict, False if
    it does not exist, None where the caller cannot tell.  ``accepted``:
    how many members listed have accepted; ``consumer``: Glance showed the
    caller its own membership only.  ``kind``: ``kinds.classify`` of the
    image; ``companions``: ``[(key, companion ID, why), ...]``, the
    companion images the member cannot read (why: a ``COMPANION_WHY`` key).
    """

    @property
    def member_id(self):
        return self.member['member_id']

    def fmt(self):
        owner = self.image.get('owner')
        return dict(
            id=self.image['id'], member=self.member_id, owner=owner,
            member_label=messages.label(self.member_id, _name(self.project)),
            owner_label=messages.label(owner, _name(self.owner_project)))


def _name(project):
    """The name of a Keystone project dict; None if unknown or no project."""
    return project.get('name') if project else None


# -------------------------------------------------------------- the risks
# Each check returns the Detail sentence, or None where the risk is absent.
def _not_a_project(f):
    if not f.project and not identity.looks_like_id(f.member_id):
        return messages.W_NOT_PROJECT.format(**f.fmt())


def _project_deleted(f):
    if f.project is False and identity.looks_like_id(f.member_id):
        return W_DELETED.format(**f.fmt())


def _unverifiable(f):
    if f.project is None and identity.looks_like_id(f.member_id):
        return W_UNVERIFIABLE.format(**f.fmt())


def _project_disabled(f):
    if f.project and not f.project.get('enabled', True):
        return W_DISABLED.format(**f.fmt())


def _unprotected(f):
    if f.member['status'] != 'accepted' or f.image.get('protected'):
        return None
    if f.consumer:
        return messages.W_UNPROTECTED_MEMBER.format(**f.fmt())
    return messages.W_UNPROTECTED.format(count=f.accepted, **f.fmt())


def _stale_pending(f):
    if f.member['status'] != 'pending':
        return None
    since = f.member.get('created_at')
    if not since:
        return None
    age = f.now - _when(since)
    if age.total_seconds() >= f.pending_days * 86400:
        return W_STALE.format(since=since, days=_days(f.pending_days),
                              **f.fmt())


def _owner_gone(f):
    if f.owner_project is False:
        return W_OWNER_GONE.format(**f.fmt())


def _owner_disabled(f):
    if f.owner_project and not f.owner_project.get('enabled', True):
        return W_OWNER_DISABLED.format(**f.fmt())


def _interrupted(f):
    return stranded.warning(f.image)


def _volume_backed(f):
    if kinds.VOLUME_BACKED in f.kind:
        return messages.W_KIND_VOLUME_BACKED.format(
            why=f.kind.reasons[kinds.VOLUME_BACKED],
            **access.volume_facts(f.kind), **f.fmt())


def _companions_unreadable(f):
    return ' '.join(W_COMPANION_UNREADABLE.format(
        key=key, companion=cid, why=COMPANION_WHY[why], **f.fmt())
        for key, cid, why in f.companions) or None


def _encrypted(f):
    if kinds.ENCRYPTED in f.kind:
        return messages.W_KIND_ENCRYPTED.format(key=f.kind.key_id,
                                                **f.fmt())


# The table: keyword -> check, in the order rows of one member are printed.
RISKS = collections.OrderedDict([
    ('not-a-project', _not_a_project),
    ('project-deleted', _project_deleted),
    ('unverifiable', _unverifiable),
    ('project-disabled', _project_disabled),
    ('owner-gone', _owner_gone),
    ('owner-disabled', _owner_disabled),
    ('unprotected', _unprotected),
    ('stale-pending', _stale_pending),
    ('interrupted', _interrupted),
    ('volume-backed', _volume_backed),
    ('companions-unreadable', _companions_unreadable),
    ('encrypted', _encrypted),
])


def _when(text):
    """A Glance timestamp ('2026-11-27T08:00:00Z') as an aware datetime."""
    value = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _days(value):
    return int(value) if float(value).is_integer() else value
