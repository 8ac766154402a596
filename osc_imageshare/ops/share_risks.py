"""The risks of a share: a table of small independent checks.

Each check reads the ``Facts`` of one (image, member) and returns the
sentence (the audit's Detail), or None where the risk is absent.  A new
risk is one function and one line of ``RISKS``, the table ``image share
audit`` runs (``osc_imageshare.ops.audit``) in its order.
"""

import collections
import datetime

from osc_imageshare.api import identity
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops import share_status
from osc_imageshare.ops import stranded

# Every value from the cloud in a command is quoted (messages.arg): the
# commands paste safely, and do exactly what their sentence says.
W_DELETED = ("Member {member} of image {id} was a project and no longer "
             "exists: nobody can use this membership; remove it {remove}.")
W_UNVERIFIABLE = ("Member {member} of image {id} could not be verified: "
                  "{cause}. {then}")
UNVERIFIABLE_THEN = {
    identity.HIDDEN: (
        "An admin verifies it with 'openstack image share audit --project "
        "{owner_arg}'; if it is not meant to be there, remove it "
        "{remove}."),
    identity.BAD_ANSWER: (
        "Check the identity service (or the identity_endpoint_override of "
        "your clouds.yaml entry); nothing was concluded from its answer."),
}
W_DISABLED = ("Project {member_label} is disabled: it cannot use image {id} "
              "until it is enabled again ('openstack project set --enable "
              "{member_arg}'); if it is closed for good, remove it "
              "{remove}.")
W_STALE = ("Project {member_label} has left image {id} pending since "
           "{since} ({days} days or more): it accepts it with 'openstack "
           "image share accept {id_arg}', or the owner removes it "
           "{remove}.")
W_OWNER_GONE = ("The owner project {owner} of image {id} no longer exists: "
                "nobody can maintain or protect the image; an admin gives it "
                "to this member with 'openstack image transfer {id_arg} "
                "--mode owner --to {member_arg}', or the member copies it "
                "with 'openstack image transfer {id_arg} --mode copy --to "
                "{member_arg}'.")
W_OWNER_DISABLED = ("The owner project {owner_label} of image {id} is "
                    "disabled: nobody can maintain the image while it is; "
                    "enable it ('openstack project set --enable "
                    "{owner_arg}'), or the member copies the image "
                    "('openstack image transfer {id_arg} --mode copy --to "
                    "{member_arg}').")
W_COMPANION_UNREADABLE = (
    "Project {member_label} cannot read the {key} {companion} of image "
    "{id} ({why}), so it cannot boot the image: {then}.")
COMPANION_THEN = (
    "share it too ('openstack image transfer {companion_arg} --to "
    "{member_arg} --no-accept'), then the member accepts it ('openstack "
    "image share accept {companion_arg}')")
COMPANION_THEN_HIDDEN = "the owner of the {key} must share it with them"
COMPANION_WHY = {
    'private': 'the companion is private',
    'unlisted': 'the companion is shared, but not with that project',
    'hidden': 'you cannot read the companion either: it is not yours and '
              'not shared with you',
}


class Facts(collections.namedtuple('Facts', (
        'image', 'member', 'project', 'owner_project', 'accepted',
        'consumer', 'pending_days', 'now', 'kind', 'companions', 'why',
        'member_is', 'domain', 'owns'),
        defaults=(None, None, None, True))):
    """What a check may read about one (image, member).

    ``project`` and ``owner_project``: the Keystone project dict, False if
    it does not exist, None where the caller cannot tell.  ``accepted``:
    how many members listed have accepted; ``consumer``: Glance showed the
    caller its own membership only.  ``kind``: ``kinds.classify`` of the
    image; ``companions``: ``[(key, companion ID, why), ...]``, the
    companion images the member cannot read (why: a ``COMPANION_WHY`` key).
    ``why``: where ``project`` is None, ``(identity.HIDDEN|BAD_ANSWER,
    cause)``; ``member_is``: 'domain' or 'user' for such a member;
    ``domain``: the member project's domain dict where known; ``owns``:
    the caller owns the image or is an admin (its labels may be read).
    """

    @property
    def member_id(self):
        return self.member['member_id']

    def fmt(self):
        owner = self.image.get('owner') or ''
        member = messages.arg(self.member_id)
        # member_arg ends the commands it is in (a real project's ID in
        # any other place, which never begins with '-').
        return dict(
            id=self.image['id'], member=member, owner=messages.arg(owner),
            id_arg=messages.arg(self.image['id']),
            member_arg=messages.positional(self.member_id),
            remove=messages.removal(self.image['id'], self.member_id),
            owner_arg=messages.arg(owner),
            member_label=messages.label(member, _name(self.project)),
            owner_label=messages.label(messages.arg(owner),
                                       _name(self.owner_project)))


def _name(project):
    """The name of a Keystone project dict; None if unknown or no project."""
    return project.get('name') if project else None


# -------------------------------------------------------------- the risks
# Each check returns the Detail sentence, or None where the risk is absent.
def _not_a_project(f):
    if f.member_is:
        return messages.W_NOT_KIND.format(what=f.member_is, **f.fmt())
    if not f.project and not identity.looks_like_id(f.member_id):
        return messages.W_NOT_PROJECT.format(**f.fmt())


def _project_deleted(f):
    if f.project is False and identity.looks_like_id(f.member_id) \
            and not f.member_is:
        return W_DELETED.format(**f.fmt())


def answered(f):
    """Whether the member answered (accepted or rejected) while unseen.

    Glance lets only the member project itself set its status: an answer
    proves it was a project when it answered.
    """
    return (f.why or (None,))[0] == identity.HIDDEN \
        and f.member['status'] in ('accepted', 'rejected')


def _unverifiable(f):
    if f.project is None and identity.looks_like_id(f.member_id) \
            and not answered(f):
        kind, cause = f.why or (identity.HIDDEN, 'Keystone does not say')
        return W_UNVERIFIABLE.format(
            cause=cause, then=UNVERIFIABLE_THEN[kind].format(**f.fmt()),
            **f.fmt())


def _project_disabled(f):
    if f.project and not f.member_is \
            and not f.project.get('enabled', True):
        return W_DISABLED.format(**f.fmt())


def _domain_disabled(f):
    if f.project and not f.member_is and f.project.get('enabled', True) \
            and f.domain and not f.domain.get('enabled', True):
        domain = f.domain.get('id') or ''
        return messages.W_DOMAIN_DISABLED.format(
            domain=messages.label(messages.arg(domain), f.domain.get('name')),
            domain_arg=messages.arg(domain), **f.fmt())


def _unprotected(f):
    if f.member['status'] != 'accepted' or f.image.get('protected'):
        return None
    if f.consumer:
        return messages.W_UNPROTECTED_MEMBER.format(**f.fmt())
    return messages.W_UNPROTECTED.format(count=f.accepted, **f.fmt())


def is_project(f):
    """Whether the member may be a project.

    A domain, a user, a deleted or never existing project cannot accept,
    nor be given a companion.
    """
    return not f.member_is and f.project is not False \
        and identity.looks_like_id(f.member_id)


def _stale_pending(f):
    if f.member['status'] != 'pending' or not is_project(f):
        return None
    since = f.member.get('created_at')
    if not since:
        return None
    age = f.now - _when(since)
    if age.total_seconds() >= f.pending_days * 86400:
        return W_STALE.format(since=since, days=_days(f.pending_days),
                              **f.fmt())


def _owner_gone(f):
    if f.owner_project is False and is_project(f):
        return W_OWNER_GONE.format(**f.fmt())


def _owner_disabled(f):
    if f.owner_project and not f.owner_project.get('enabled', True) \
            and is_project(f):
        return W_OWNER_DISABLED.format(**f.fmt())


def _interrupted(f):
    # An owner's label is its own data: never a consumer's risk.
    return stranded.warning(f.image) if f.owns else None


def _unrecognised_label(f):
    return stranded.unrecognised_warning(f.image) if f.owns else None


def _volume_backed(f):
    if kinds.VOLUME_BACKED in f.kind:
        return messages.W_KIND_VOLUME_BACKED.format(
            why=f.kind.reasons[kinds.VOLUME_BACKED],
            **share_status.volume_facts(f.kind), **f.fmt())


def _companions_unreadable(f):
    if not is_project(f):
        return None
    out = []
    for key, cid, why in f.companions:
        then = COMPANION_THEN_HIDDEN if why == 'hidden' else COMPANION_THEN
        fmt = dict(f.fmt(), key=key, companion=messages.arg(cid),
                   companion_arg=messages.arg(cid))
        out.append(W_COMPANION_UNREADABLE.format(
            why=COMPANION_WHY[why], then=then.format(**fmt), **fmt))
    return ' '.join(out) or None


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
    ('domain-disabled', _domain_disabled),
    ('owner-gone', _owner_gone),
    ('owner-disabled', _owner_disabled),
    ('unprotected', _unprotected),
    ('stale-pending', _stale_pending),
    ('interrupted', _interrupted),
    ('unrecognised-label', _unrecognised_label),
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
