"""Who can use an image, in which state, and what can go wrong.

``read`` reads (never writes) one image and its members, from the
owner's side or a consumer's, and returns the facts with the risks worded
as warnings.  The wording of each warning is stable: scripts may match it.

Each risk also has a keyword (``RISKS``), the same as the audit's
(``share_risks.RISKS``) where the risk is the same.
"""

import logging
import shlex

from osc_imageshare.api import identity
from osc_imageshare import errors
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops import stranded

LOG = logging.getLogger(__name__)

# The risks status names, in the ``risks`` of its dict: keyword -> what.
RISKS = {
    'interrupted': 'a run died with the image mid-transfer',
    'volume-backed': 'a snapshot of a volume-backed server',
    'companions': 'boots only with its companion images',
    'encrypted': 'the image of an encrypted volume',
    'private': 'private: any members it has are hidden',
    'not-shared': "members, inactive, of an image not 'shared'",
    'owner-dependency': "the consumers depend on the owner's project",
    'unprotected': 'accepted, and not protected',
    'unrecognised-label': 'a run label this plugin did not write',
    'not-a-project': 'a member that is not a project',
    'domain-disabled': "a member project whose domain is disabled",
    'pending': 'a member that has not accepted',
    'rejected': 'a member that rejected it (and can still boot it by ID)',
}


def read(glance, ident, image_ref):
    """Return ``(status dict, [warning, ...])`` for one image.

    The dict's keys: id, name, owner, owner_name, visibility, protected,
    status, caller_project, caller_role, member_status, members (dicts:
    project_id, project_name, status, created_at, updated_at), kind
    (the ``kinds`` keywords) and risks (dicts: code, a ``RISKS`` keyword,
    and sentence, the warning); the warnings are the risks' sentences.
    """
    image = glance.find_image(image_ref, ident.project_name
                              or ident.project_id)
    me = ident.project_id
    owner = image.get('owner')
    kind = kinds.classify(image)
    visibility = image.get('visibility')
    members = []
    if visibility == 'shared':
        # Glance answers the owner and admins with every member, a member
        # with its own membership only, and others with 404.
        try:
            members = glance.list_members(image['id'])
        except errors.NotFound:
            members = []
    mine = [m for m in members if m['member_id'] == me]
    role = _role(ident, owner, mine)
    if role == 'member':
        members = mine
    status = {
        'id': image['id'],
        'name': image.get('name'),
        'owner': owner,
        'owner_name': ident.project_name_of(owner) if owner else None,
        'visibility': visibility,
        'protected': bool(image.get('protected')),
        'status': image.get('status'),
        'caller_project': me,
        'caller_role': role,
        'member_status': mine[0]['status'] if mine else None,
        'members': [{
            'project_id': m['member_id'],
            'project_name': ident.project_name_of(m['member_id']),
            'status': m['status'],
            'created_at': m.get('created_at'),
            'updated_at': m.get('updated_at'),
        } for m in members],
        'kind': list(kind.kinds),
    }
    risks = kind_risks(image, kind, messages.label(
        owner, status['owner_name'])) + risks_for(status, ident)
    if role in ('owner', 'admin'):     # the owner's labels: its data
        for code, sentence in reversed((
                ('interrupted', stranded.warning(image)),
                ('unrecognised-label', stranded.unrecognised_warning(
                    image)))):
            if sentence:
                risks.insert(0, (code, sentence))
    status['risks'] = [{'code': code, 'sentence': sentence}
                       for code, sentence in risks]
    return status, [sentence for _code, sentence in risks]


def _role(ident, owner, mine):
    """The caller's side of the image: owner, member, admin or none."""
    if owner == ident.project_id:
        return 'owner'
    if mine:
        return 'member'
    return 'admin' if ident.is_admin else 'none'


def risks_for(status, ident):
    """``[(keyword, sentence), ...]``: the share's risks, worst first."""
    out = []
    members = status['members']
    accepted = [m for m in members if m['status'] == 'accepted']
    fmt = dict(id=status['id'], visibility=status['visibility'],
               owner_label=messages.label(status['owner'],
                                          status['owner_name']))
    if status['visibility'] != 'shared' and status['caller_role'] in (
            'owner', 'admin'):
        private = status['visibility'] == 'private'
        out.append(('private' if private else 'not-shared',
                    (messages.W_PRIVATE_HIDES if private
                     else messages.W_NOT_SHARED).format(**fmt)))
    if members and status['caller_role'] != 'none':
        out.append(('owner-dependency', messages.W_DEPENDS.format(**fmt)))
    if accepted and not status['protected']:
        if status['caller_role'] == 'member':
            # Only our own membership is visible: no count to give.
            mine = accepted[0]
            out.append(('unprotected', messages.W_UNPROTECTED_MEMBER.format(
                member_label=messages.label(mine['project_id'],
                                            mine['project_name']),
                **fmt)))
        else:
            out.append(('unprotected', messages.W_UNPROTECTED.format(
                count=len(accepted), **fmt)))
    for m in members:
        pid = m['project_id']
        member = dict(member=messages.arg(pid),
                      remove=messages.removal(status['id'], pid), **fmt)
        project = ident.get_project(pid)
        what = member_is(ident, pid, project)
        if what:
            out.append(('not-a-project', messages.W_NOT_KIND.format(
                what=what, **member)))
            continue
        if ident.project_exists(pid) is False:
            out.append(('not-a-project', messages.W_NOT_PROJECT.format(
                **member)))
            continue
        domain = domain_of(ident, project)
        if domain and not domain.get('enabled', True):
            out.append(('domain-disabled', messages.W_DOMAIN_DISABLED.format(
                member_label=messages.label(pid, m['project_name']),
                domain=messages.label(messages.arg(domain.get('id') or ''),
                                      domain.get('name')),
                domain_arg=messages.arg(domain.get('id') or ''), **member)))
        if m['status'] == 'pending':
            out.append(('pending', messages.W_PENDING.format(
                member_label=messages.label(m['project_id'],
                                            m['project_name']),
                since=m['updated_at'], **fmt)))
        elif m['status'] == 'rejected' and status['caller_role'] in (
                'owner', 'admin'):
            out.append(('rejected', messages.W_REJECTED.format(
                member_label=messages.label(m['project_id'],
                                            m['project_name']),
                accept=shlex.join(['openstack', 'image', 'share', 'accept',
                                   status['id']]),
                revoke=shlex.join(['openstack', 'image', 'share', 'revoke',
                                   status['id'], m['project_id']]),
                **fmt)))
    return out


def member_is(ident, member_id, project):
    """'domain' or 'user' for a member that is one, on Keystone's word.

    ``project``: ``ident.get_project(member_id)``.
    """
    if project and project.get('is_domain'):
        return 'domain'
    if project is False and identity.looks_like_id(member_id) \
            and ident.is_user(member_id):
        return 'user'
    return None


def domain_of(ident, project):
    """The domain of an enabled project, where the caller may read it."""
    if not project or project.get('is_domain') \
            or not project.get('enabled', True) \
            or not project.get('domain_id'):
        return None
    return ident.get_domain(project['domain_id']) or None


def kind_risks(image, kind, owner_label):
    """``[(keyword, sentence), ...]``: what a risky kind keeps others from."""
    out = []
    fmt = dict(id=image['id'], owner_label=owner_label)
    if kinds.VOLUME_BACKED in kind:
        out.append((kinds.VOLUME_BACKED, messages.W_KIND_VOLUME_BACKED.format(
            why=kind.reasons[kinds.VOLUME_BACKED],
            **volume_facts(kind), **fmt)))
    if kinds.COMPANIONS in kind:
        out.append((kinds.COMPANIONS, messages.W_KIND_COMPANIONS.format(
            companions=kind.reasons[kinds.COMPANIONS], **fmt)))
    if kinds.ENCRYPTED in kind:
        out.append((kinds.ENCRYPTED, messages.W_KIND_ENCRYPTED.format(
            key=kind.key_id, **fmt)))
    return out


def volume_facts(kind):
    """``snapshots`` and ``snapshot`` (the first) of the messages.

    The IDs are the image's properties, another project's data where it is
    not the caller's image: the one in the suggested command is quoted.
    """
    ids = kind.snapshot_ids
    return dict(snapshots=', '.join(ids) if ids else '(not named)',
                snapshot=messages.arg(ids[0]) if ids else '<snapshot-id>')
