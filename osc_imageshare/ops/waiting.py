"""Wait until the target projects have accepted an image.

One request per image per poll (its member list), polls spaced by a
growing delay, never past the deadline.  A rejection ends the wait with
an error naming the project; the deadline with one naming who is still
pending.
"""

import logging
import time

from osc_imageshare import errors

LOG = logging.getLogger(__name__)

COLUMNS = ('Image ID', 'Image Name', 'Project ID', 'Project Name',
           'Member Status', 'Updated At')
FIRST_DELAY = 1.0       # seconds between the first two polls
GROWTH = 1.5
MAX_DELAY = 10.0
DEFAULT_TIMEOUT = 600

E_REJECTED = ("Project {label} rejected image {id}; it can still accept "
              "it ('openstack image share accept {id}')")
E_NOT_MEMBER = ("Project {label} is not a member of image {id}: there is "
                "nothing to wait for; add it first ('openstack image "
                "transfer {id} --to {pid} --no-accept')")
E_TIMEOUT = ("Timed out after {timeout:g} s waiting for image {id}: "
             "{pending} not accepted it yet")


class Waiting:
    """What is awaited: ``{image_id: {project_id: label}}``."""

    def __init__(self):
        self.wanted = {}

    def add(self, image_id, project_id, label):
        self.wanted.setdefault(image_id, {})[project_id] = label


def wait_for(glance, waiting, timeout=DEFAULT_TIMEOUT, progress=None,
             clock=time.monotonic, sleep=time.sleep):
    """Poll until every wanted member is accepted.

    Returns ``{image_id: {project_id: member}}`` as last read.  Raises
    ``ImageShareError`` on a rejection, a missing member or the deadline;
    its ``seen`` is what was read until then.  ``progress(text)`` is told
    how things stand after each poll.
    """
    seen = {i: {} for i in waiting.wanted}
    try:
        return _poll(glance, waiting, timeout, progress, clock, sleep, seen)
    except errors.ImageShareError as e:
        e.seen = seen
        raise


def _poll(glance, waiting, timeout, progress, clock, sleep, seen):
    deadline = clock() + timeout
    outstanding = {i: dict(ps) for i, ps in waiting.wanted.items() if ps}
    delay = FIRST_DELAY
    while True:
        for image_id in list(outstanding):
            members = _members(glance, image_id)
            for pid, label in list(outstanding[image_id].items()):
                m = members.get(pid)
                if m is None:
                    raise errors.ImageShareError(E_NOT_MEMBER.format(
                        label=label, id=image_id, pid=pid))
                seen[image_id][pid] = m
                if m['status'] == 'rejected':
                    raise errors.ImageShareError(E_REJECTED.format(
                        label=label, id=image_id))
                if m['status'] == 'accepted':
                    del outstanding[image_id][pid]
            if not outstanding[image_id]:
                del outstanding[image_id]
        if not outstanding:
            return seen
        left = deadline - clock()
        if progress:
            progress('Waiting for %s to accept (%d s left)' % (
                _pending(outstanding), max(0, left)))
        if left <= 0:
            raise errors.ImageShareError(_timeout(outstanding, timeout))
        sleep(min(delay, left))
        delay = min(delay * GROWTH, MAX_DELAY)


def _members(glance, image_id):
    try:
        return {m['member_id']: m for m in glance.list_members(image_id)}
    except errors.GlanceError as e:
        raise errors.ImageShareError(errors.explain(
            e, image_id, action='list the members'))


def _pending(outstanding):
    return '; '.join('%s (image %s)' % (', '.join(ps.values()), i)
                     for i, ps in outstanding.items())


def _timeout(outstanding, timeout):
    parts = []
    for image_id, ps in outstanding.items():
        labels = list(ps.values())
        parts.append(E_TIMEOUT.format(
            timeout=timeout, id=image_id,
            pending='project %s has' % labels[0] if len(labels) == 1
            else 'projects %s have' % ', '.join(labels)))
    return '; '.join(parts)


def share_wait(glance, ident, image_ref, project_refs=(),
               project_domain=None, timeout=DEFAULT_TIMEOUT, progress=None,
               clock=time.monotonic, sleep=time.sleep):
    """``image share wait``: rows once every project has accepted."""
    image = glance.find_image(image_ref,
                              ident.project_name or ident.project_id)
    if image.get('owner') != ident.project_id and not ident.is_admin:
        raise errors.ImageShareError(
            'Image %s is owned by project %s; only its owner (or an admin) '
            'sees its members' % (image['id'], image.get('owner')))
    if image.get('visibility') != 'shared':
        raise errors.ImageShareError(
            "Image %s is %s, not shared: it has no members to wait for"
            % (image['id'], image.get('visibility')))
    waiting = Waiting()
    names = {}
    if project_refs:
        for ref in project_refs:
            project, _verified = ident.resolve_project(ref, project_domain)
            names[project['id']] = project.get('name')
            waiting.add(image['id'], project['id'],
                        _label(project['id'], project.get('name')))
    else:
        for m in glance.list_members(image['id']):
            name = ident.project_name_of(m['member_id'])
            names[m['member_id']] = name
            waiting.add(image['id'], m['member_id'],
                        _label(m['member_id'], name))
        if not waiting.wanted:
            raise errors.ImageShareError(
                'Image %s has no members to wait for' % image['id'])
    seen = wait_for(glance, waiting, timeout, progress, clock, sleep)
    return [(image['id'], image.get('name'), pid, names.get(pid),
             m['status'], m.get('updated_at'))
            for pid, m in seen[image['id']].items()]


def _label(project_id, name):
    return '%s (%s)' % (name, project_id) if name else project_id
