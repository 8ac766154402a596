"""Wait until the target projects have accepted an image.

One request per image per poll (its member list), polls spaced by a
growing delay, never past the deadline.  A rejection ends the wait with
an error naming the project; the deadline with one naming who is still
pending; a caught signal (INT, TERM, HUP) with ``signals.Interrupted``
naming them too.
"""

import logging
import time

from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import messages

LOG = logging.getLogger(__name__)

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
E_INTERRUPTED = ("Interrupted by {signal} after {waited:.0f} s waiting for "
                 "image {id}: {pending} not accepted it yet")


class Waiting:
    """What is awaited: ``{image_id: {project_id: label}}``."""

    def __init__(self):
        self.wanted = {}

    def add(self, image_id, project_id, label):
        self.wanted.setdefault(image_id, {})[project_id] = label


def wait_for(glance, waiting, timeout=DEFAULT_TIMEOUT, progress=None,
             clock=time.monotonic, sleep=None, stop=None):
    """Poll until every wanted member is accepted.

    Returns ``{image_id: {project_id: member}}`` as last read.  Raises
    ``ImageShareError`` on a rejection, a missing member or the deadline,
    and ``signals.Interrupted`` once ``stop`` (a ``signals.Stop`` the
    caller catches signals with) is set, after the poll under way; its
    ``seen`` is what was read until then.  ``progress(text)`` is told
    how things stand after each poll.  ``sleep``: by default, a wait
    that ``stop`` cuts short.
    """
    seen = {i: {} for i in waiting.wanted}
    if sleep is None:
        sleep = stop.event.wait if stop is not None else time.sleep
    try:
        return _poll(glance, waiting, timeout, progress, clock, sleep, seen,
                     stop)
    except (errors.ImageShareError, signals.Interrupted) as e:
        e.seen = seen
        raise


def _poll(glance, waiting, timeout, progress, clock, sleep, seen, stop):
    started = clock()
    deadline = started + timeout
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
        if stop is not None and stop.name:
            raise signals.Interrupted(_pending_error(
                E_INTERRUPTED, outstanding, signal=stop.name,
                waited=clock() - started))
        left = deadline - clock()
        if progress:
            progress('Waiting for %s to accept (%d s left)' % (
                _pending(outstanding), max(0, left)))
        if left <= 0:
            raise errors.ImageShareError(_pending_error(
                E_TIMEOUT, outstanding, timeout=timeout))
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


def _pending_error(template, outstanding, **fields):
    """``template`` per image, naming the projects that have not accepted."""
    parts = []
    for image_id, ps in outstanding.items():
        labels = list(ps.values())
        parts.append(template.format(
            id=image_id, pending='project %s has' % labels[0]
            if len(labels) == 1 else 'projects %s have' % ', '.join(labels),
            **fields))
    return '; '.join(parts)


def share_wait(glance, ident, image_ref, project_refs=(),
               project_domain=None, timeout=DEFAULT_TIMEOUT, progress=None,
               clock=time.monotonic, sleep=None):
    """``image share wait``: rows once every project has accepted.

    A row: image ID, image name, project ID, project name, member status,
    updated at.  A caught signal (INT, TERM, HUP) ends the wait at once
    with ``signals.Interrupted``: its rows say how each project stood at
    the last poll, its message who had not accepted.
    """
    stop = signals.Stop()
    with signals.catching(stop):
        return _share_wait(glance, ident, image_ref, project_refs,
                           project_domain, timeout, progress, clock, sleep,
                           stop)


def _share_wait(glance, ident, image_ref, project_refs, project_domain,
                timeout, progress, clock, sleep, stop):
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
                        messages.label(project['id'], project.get('name')))
    else:
        for m in glance.list_members(image['id']):
            name = ident.project_name_of(m['member_id'])
            names[m['member_id']] = name
            waiting.add(image['id'], m['member_id'],
                        messages.label(m['member_id'], name))
        if not waiting.wanted:
            raise errors.ImageShareError(
                'Image %s has no members to wait for' % image['id'])
    try:
        seen = wait_for(glance, waiting, timeout, progress, clock, sleep,
                        stop)
    except signals.Interrupted as e:
        raise signals.Interrupted(str(e), rows=_rows(
            image, waiting, names, e.seen)) from None
    return _rows(image, waiting, names, seen)


def _rows(image, waiting, names, seen):
    """A row per project waited for, as last read (None: not read yet)."""
    members = seen.get(image['id'], {})
    return [(image['id'], image.get('name'), pid, names.get(pid),
             members.get(pid, {}).get('status'),
             members.get(pid, {}).get('updated_at'))
            for pid in waiting.wanted[image['id']]]
