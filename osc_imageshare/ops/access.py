"""Who can use an image, in which state, and what can go wrong.

``share_status`` reads (never writes) one image and its members, from the
owner's side or a consumer's, and returns the facts with the risks worded
as warnings.  The wording of each warning is stable: scripts may match it.
"""

import logging

from osc_imageshare import errors
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops import stranded

LOG = logging.getLogger(__name__)

FIELDS = ('id', 'name', 'owner', 'owner_name', 'visibility', 'protected',
          'status', 'caller_project', 'caller_role', 'member_status',
          'members', 'kind')


def share_status(glance, ident, image_ref):
    """Return ``(status dict, [warning, ...])`` for one image."""
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
    if owner == me:
        role = 'owner'
    elif mine:
        role = 'member'
    elif ident.is_admin:
        role = 'admin'
    else:
        role = 'none'
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
    out = kind_warnings(image, kind, _label(
        owner, status['owner_name'])) + warnings_for(status, ident)
    left = stranded.warning(image) if role in ('owner', 'admin') else None
    return status, ([left] if left else []) + out


def warnings_for(status, ident):
    """The risks of this share, one sentence each, most serious first."""
    out = []
    members = status['members']
    accepted = [m for m in members if m['status'] == 'accepted']
    fmt = dict(id=status['id'], visibility=status['visibility'],
               owner_label=_label(status['owner'], status['owner_name']))
    if status['visibility'] != 'shared' and status['caller_role'] in (
            'owner', 'admin'):
        out.append((messages.W_PRIVATE_HIDES
                    if status['visibility'] == 'private'
                    else messages.W_NOT_SHARED).format(**fmt))
    if members and status['caller_role'] != 'none':
        out.append(messages.W_DEPENDS.format(**fmt))
    if accepted and not status['protected']:
        if status['caller_role'] == 'member':
            # Only our own membership is visible: no count to give.
            mine = accepted[0]
            out.append(messages.W_UNPROTECTED_MEMBER.format(
                member_label=_label(mine['project_id'],
                                    mine['project_name']), **fmt))
        else:
            out.append(messages.W_UNPROTECTED.format(count=len(accepted),
                                                     **fmt))
    for m in members:
        if ident.project_exists(m['project_id']) is False:
            out.append(messages.W_NOT_PROJECT.format(
                member=m['project_id'], **fmt))
        elif m['status'] == 'pending':
            out.append(messages.W_PENDING.format(
                member_label=_label(m['project_id'], m['project_name']),
                since=m['updated_at'], **fmt))
    return out


def kind_warnings(image, kind, owner_label):
    """What another project cannot do with an image of a risky kind."""
    out = []
    fmt = dict(id=image['id'], owner_label=owner_label)
    if kinds.VOLUME_BACKED in kind:
        out.append(messages.W_KIND_VOLUME_BACKED.format(
            why=kind.reasons[kinds.VOLUME_BACKED],
            **volume_facts(kind), **fmt))
    if kinds.COMPANIONS in kind:
        out.append(messages.W_KIND_COMPANIONS.format(
            companions=kind.reasons[kinds.COMPANIONS], **fmt))
    if kinds.ENCRYPTED in kind:
        out.append(messages.W_KIND_ENCRYPTED.format(key=kind.key_id, **fmt))
    return out


def volume_facts(kind):
    """``snapshots`` and ``snapshot`` (the first) of the messages."""
    ids = kind.snapshot_ids
    return dict(snapshots=', '.join(ids) if ids else '(not named)',
                snapshot=ids[0] if ids else '<snapshot-id>')


def _label(project_id, name):
    """``name (id)`` where the name is known, else the ID."""
    return '%s (%s)' % (name, project_id) if name else project_id
