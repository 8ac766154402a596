"""The run of a share plan: its steps, each pair's rollback, signals.

``execute`` runs exactly the steps ``share.make_plan`` put in the plan,
in one schedule: the images in chunks of ``parallel``, each chunk's own
steps (set shared, earlier members, protect), then the chunk's pairs
(add the member, accept), ``parallel`` at a time.
"""

import logging

from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import base
from osc_imageshare.ops import stranded

LOG = logging.getLogger(__name__)

SHARE = 'share'             # visibility private -> shared
EARLIER = 'earlier'         # the members a private image hid
PROTECT = 'protect'
RESUME = 'resume'           # take over an image a dead run left shared
ADD = 'add'                 # add the member
ACCEPT = 'accept'           # accept as the target
IMAGE_STEPS = (SHARE, EARLIER, RESUME, PROTECT)
# The image's changes that a failure of all its pairs undoes.
UNDONE = {'visibility': 'visibility private->shared', 'protected': 'protected'}
EARLIER_REMOVED = 'earlier members removed: '


def execute(glance, ident, plan, batch=None):
    """Run the plan's steps; returns the warnings of what was done.

    With ``options['parallel']`` N: N images at a time, their own steps,
    then their pairs, N at a time (with 1: image by image, the fewest
    images shared at any moment).  A pair fails and is rolled back on
    its own.  A signal (INT, TERM, HUP), at any parallelism:
    pairs not started are not, a pair half-applied is rolled back, an
    image none of whose pairs is complete gets its own steps undone;
    finished pairs are kept; ``plan.stopped`` then names the signal.
    ``batch``: the ``signals.Stop`` of a caller that caught signals already.
    """
    batch = batch or signals.Stop()
    with signals.catching(batch), signals.joined(batch):
        warnings = _execute(glance, ident, plan, batch)
    plan.stopped = batch.name
    return warnings


def _execute(glance, ident, plan, batch):
    workers = plan.options.get('parallel') or 1
    groups = plan.by_image()
    prepared = []
    for start in range(0, len(groups), workers):
        prepared += _run_chunk(glance, ident, plan,
                               groups[start:start + workers], workers, batch)
    warnings = []
    for pairs, prep in zip(groups, prepared):
        if prep is not None:
            warnings += _finish_image(glance, pairs, *prep)
    return warnings


def _run_chunk(glance, ident, plan, groups, workers, batch):
    """The image steps, then the pairs, of ``groups``; each one's prep."""
    try:
        prepared = runner.run(lambda pairs: _image_steps(
            glance, ident, plan, pairs), groups, workers, batch)
    except signals.BatchStopped as e:
        prepared = [None if r is signals.NOT_STARTED
                    or isinstance(r, BaseException) else r
                    for r in e.results]
        for pairs, r in zip(groups, e.results):
            if r is signals.NOT_STARTED:
                _not_started(pairs, e.name)
    ready = [p for pairs, prep in zip(groups, prepared)
             if prep is not None for p in pairs]
    try:
        runner.run(lambda p: _apply_pair(glance, plan, p), ready,
                   workers, batch)
    except signals.BatchStopped as e:
        _not_started(e.pick(ready)[2], e.name)
    return prepared


def _finish_image(glance, pairs, undo, kept, labelled):
    """Undo the image if no pair is done, else drop the label; warnings."""
    image = pairs[0].image
    if all(p.error for p in pairs):
        if _undo_image(glance, image, undo, labelled):
            # Undone: those changes no longer stand.
            pairs[0].changes = [c for c in pairs[0].changes
                                if c not in [UNDONE[f] for f in undo]]
        else:
            pairs[0].error += '; ' + _left(image, 'shared' if undo.get(
                'visibility') else image.get('visibility'))
        return []
    _own_changes_to_a_row(pairs)
    if labelled:
        try:
            glance.patch_image(image['id'],
                               remove=[stranded.LABEL])
        except (errors.GlanceError, errors.ImageShareError) as e:
            LOG.debug('Image %s: removing %s failed: %s', image['id'],
                      stranded.LABEL, e)
            return [_left(image, 'shared') + ' (%s)' % errors.describe(
                e, None)]
    return [kept] if kept else []


def _own_changes_to_a_row(pairs):
    """The image's own changes stand: named in the first pair done.

    They are listed in its first pair; a failed pair has no row, so if
    that one failed they move to the first pair that has one.
    """
    first = pairs[0]
    if not first.error:
        return
    own = [c for c in first.changes if _image_change(c)]
    done = next(p for p in pairs if not p.error)
    done.changes[:0] = own
    first.changes = [c for c in first.changes if c not in own]


def _image_change(change):
    return change in UNDONE.values() or change.startswith(EARLIER_REMOVED)


def _left(image, state):
    """What an image left changed by this run needs, in words."""
    return (messages.W_LEFT.format(id=image['id'], state=state,
                                   label=stranded.LABEL))


def _not_started(pairs, name):
    """Mark ``pairs`` not started; the image's own changes stay listed."""
    for p in pairs:
        if not p.error:
            p.error = ('Image %s, project %s: not started (interrupted by '
                       '%s)' % (p.image['id'], p.target.project_id, name))
            p.status = (p.member or {}).get('status')
            p.state = base.State.NOT_STARTED


class _Failed(Exception):
    pass


def _image_steps(glance, ident, plan, pairs):
    """The image's own steps: ``(undo, kept, labelled)``, None if failed.

    Setting it shared adds this run's ``stranded.LABEL`` in the same
    PATCH: a run that dies before the image is finished leaves a label
    that a later run reads.
    """
    image, first = pairs[0].image, pairs[0]
    undo = {}   # image field -> value before this run
    kept = None
    labelled = False
    targets = [p.target.project_id for p in pairs]
    try:
        for step in [s for s in first.steps if s.kind in IMAGE_STEPS]:
            signals.check()
            first.start(step)
            if step.kind == SHARE:
                try:
                    glance.patch_image(image['id'], replace={
                        'visibility': 'shared'}, add={
                        stranded.LABEL: stranded.value(targets)})
                except errors.TransportError as e:
                    # The connection broke: the PATCH may have reached
                    # Glance.  Undo what it did (or name the image).
                    # Not when Keystone failed: Glance did not act on it.
                    if not e.identity:
                        labelled = _if_landed(glance, image, undo)
                    raise
                labelled = True
                undo['visibility'] = 'private'
                first.changes.append(UNDONE['visibility'])
            elif step.kind == EARLIER:
                kept = _earlier_members(glance, ident, plan, pairs)
            elif step.kind == RESUME:
                glance.patch_image(image['id'], add={
                    stranded.LABEL: stranded.value(targets, checked=True)})
                labelled = True
            elif step.kind == PROTECT:
                glance.update_image(image['id'], protected=True)
                undo['protected'] = False
                first.changes.append(UNDONE['protected'])
    except (errors.GlanceError, errors.ImageShareError, _Failed,
            signals.Stopped) as e:
        _image_failed(glance, pairs, e, undo, labelled)
        return None
    return undo, kept, labelled


def _if_landed(glance, image, undo):
    """After a broken share PATCH: what of it Glance holds, to undo.

    Adds the visibility to ``undo`` and returns whether the label is
    there; where Glance cannot be read either, as if all of it landed.
    """
    try:
        now = glance.get_image(image['id'])
    except (errors.GlanceError, errors.ImageShareError):
        now = None
    if now is None or now.get('visibility') == 'shared':
        undo['visibility'] = 'private'
    return now is None or stranded.LABEL in now


def _image_failed(glance, pairs, e, undo, labelled):
    image = pairs[0].image
    if isinstance(e, signals.Stopped):
        msg = ('Image %s: interrupted by %s; its own changes were '
               'undone' % (image['id'], e.name))
    elif isinstance(e, _Failed):
        msg = str(e)
    elif isinstance(e, errors.GlanceError):
        msg = errors.explain(e, image['id'], action='update the image',
                             client=glance)
    else:
        msg = 'Image %s: could not update the image: %s' % (image['id'], e)
    if not _undo_image(glance, image, undo, labelled):
        msg += '; ' + _left(image, 'shared' if undo.get('visibility')
                            else image.get('visibility'))
    for p in pairs:
        p.error, p.changes = msg, []
        p.status = (p.member or {}).get('status')
        if isinstance(e, signals.Stopped):
            p.state = base.State.INTERRUPTED


def _earlier_members(glance, ident, plan, pairs):
    """The members a private image hid: they have their access back now.

    Read once, right after the image became shared: the only moment
    Glance lists them, and the only one they can be removed.  Returns
    the warning naming those kept, if any.
    """
    image_id = pairs[0].image['id']
    listed = glance.list_members(image_id)
    ours = {p.target.project_id: p for p in pairs}
    # The members a dead run added for its own targets were not hidden.
    dead = set((stranded.stranded(pairs[0].image) or {}).get('targets', ()))
    others = []
    for m in listed:
        if m['member_id'] in ours:
            ours[m['member_id']].member = dict(m)
        elif m['member_id'] not in dead:
            others.append(m)
    if not others:
        return None
    plan.earlier[image_id] = others
    names = messages.member_list(others, ident.project_name_of)
    policy = plan.options['earlier_members']
    if policy == 'refuse':
        raise _Failed(messages.E_EARLIER.format(id=image_id, members=names))
    if policy == 'revoke':
        for m in others:
            glance.remove_member(image_id, m['member_id'])
        pairs[0].changes.append(EARLIER_REMOVED + ', '.join(
            m['member_id'] for m in others))
    # Checked: a run that takes over after a crash must not ask again.
    glance.patch_image(image_id, add={stranded.LABEL: stranded.value(
        list(ours), checked=True)})
    if policy == 'keep':
        return messages.W_KEPT.format(id=image_id, members=names)
    return None


def _apply_pair(glance, plan, p):
    image_id, pid = p.image['id'], p.target.project_id
    added = False
    done = len(p.changes)   # the image's own changes, on its first pair
    try:
        for step in [s for s in p.steps if s.kind not in IMAGE_STEPS]:
            signals.check()
            p.start(step)
            if step.kind == ADD and p.member is None:
                try:
                    p.member = glance.add_member(image_id, pid)
                    added = True
                    p.changes.append('member added')
                except errors.Conflict:
                    # Added meanwhile: as good as ours; read what it is.
                    p.member = glance.get_member(image_id, pid)
            elif step.kind == ACCEPT and p.member['status'] != 'accepted':
                _accept(glance, p)
        p.status = (p.member or {}).get('status')
    except errors.GlanceError as e:
        _fail(glance, p, added, errors.explain(
            e, image_id, p.target.label, 'add member %s' % pid,
            client=glance), done)
    except errors.ImageShareError as e:
        _fail(glance, p, added, 'Image %s, project %s: %s' % (
            image_id, pid, e), done)
    except _Failed as e:
        _fail(glance, p, added, str(e), done)
    except signals.Stopped as e:
        _fail(glance, p, added, 'Image %s, project %s: interrupted by %s'
              % (image_id, pid, e.name), done)
        p.state = base.State.INTERRUPTED
        if not added:
            p.error += '; nothing was changed'
        elif p.changes[done:] == ['rolled back']:
            p.error += '; the member it added was removed'


def _accept(glance, p):
    """Accept as the target; raises ``_Failed`` unless it reads so."""
    image_id, acceptor = p.image['id'], p.target.glance or glance
    try:
        # Glance answers with the membership as stored: the answer is
        # the verification, no read-back needed.
        p.member = acceptor.set_member_status(
            image_id, p.target.project_id, 'accepted')
    except errors.GlanceError as e:
        raise _Failed(errors.explain(
            e, image_id, p.target.label,
            'accept as %s' % p.target.accept_as, client=acceptor))
    if p.member.get('status') != 'accepted':
        raise _Failed('Image %s: membership of %s reads %s after '
                      'accepting' % (image_id, p.target.label,
                                     p.member.get('status')))
    p.changes.append('accepted')


def _fail(glance, p, added, msg, done=0):
    """Roll back the pair; the image's own changes (``done``) stand."""
    p.error = msg
    p.status = None if added else (p.member or {}).get('status')
    if added:
        try:
            glance.remove_member(p.image['id'],
                                 p.target.project_id)
            p.changes = p.changes[:done] + ['rolled back']
        except (errors.GlanceError, errors.ImageShareError) as e:
            p.error += ('; rolling back also failed (%s): re-run the same '
                        "command, or remove it with 'openstack image share "
                        "revoke %s %s'" % (errors.describe(e, None),
                                           p.image['id'],
                                           p.target.project_id))
    else:
        p.changes = p.changes[:done]


def _undo_image(glance, image, undo, labelled=False):
    """Restore the image's fields (and drop the label); False if refused."""
    if not undo and not labelled:
        return True
    try:
        glance.patch_image(image['id'], replace=undo,
                           remove=[stranded.LABEL] if labelled else ())
    except (errors.GlanceError, errors.ImageShareError) as e:
        # The caller names the image left changed, with what to do.
        LOG.debug('Could not restore %s of image %s: %s', ', '.join(
            '%s=%s' % kv for kv in sorted(undo.items())) or stranded.LABEL,
            image['id'], errors.describe(e, None))
        return False
    return True
