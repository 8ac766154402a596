"""The run of a share plan: its steps on the executor, each one's undo.

``execute`` turns exactly the steps ``share.make_plan`` put in the plan
into ``executor.Step`` s, each sending what its text says, and runs them
with ``executor.run``, ``parallel`` at a time, in this order:

* per image, its own steps (``share_image``; on its first pair; group:
  the image): set shared (undo: private again), the earlier members
  (refuse, revoke or keep: it stands), finish a dead run's image,
  protect (undo: unprotected); the undos restore the image in one PATCH;
* per pair, once the image's steps are done (group: the pair, serving
  the image's): add the member (undo: removed again), accept as the
  target;
* per image labelled by the run, last: drop the run's label, once the
  image's steps are done and its members added (not waiting for the
  acceptances); closing: a signal does not stop it.

A pair that fails is undone on its own; an image none of whose pairs
stands is undone (``executor.Group``); with ``parallel`` 1 the images go
one after another: the fewest images shared at any moment.
"""

import dataclasses
import functools
import logging

from osc_imageshare.batch import executor
from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import base
from osc_imageshare.ops.modes import share_image

LOG = logging.getLogger(__name__)

ADD = 'add'                 # add the member
ACCEPT = 'accept'           # accept as the target
IMAGE_STEPS = share_image.IMAGE_STEPS
# The image's steps that label it: its label is dropped once it is done.
LABELLED = (share_image.SHARE, share_image.RESUME)


@dataclasses.dataclass(eq=False)
class _PairRun:
    """One pair's executor steps, and whether its member was added."""

    steps: list = dataclasses.field(default_factory=list)
    added: bool = False             # this run added the member
    removed: bool = False           # and removed it again
    undo_error: str = None          # why removing it failed


def execute(glance, ident, plan, stop=None):
    """Run the plan's steps; returns the warnings of what was done.

    With ``options['parallel']`` N: N steps at a time (with 1: image by
    image).  A signal (INT, TERM, HUP), at any parallelism: no step
    starts (but the labels' drops), a pair half-applied is rolled back,
    an image none of whose pairs is complete is restored; finished pairs
    are kept; each pair's ``state`` says how it ended.  ``stop``: the
    ``signals.Stop`` of a caller that catches signals already.
    """
    images, pair_runs, steps = _plan_steps(glance, ident, plan)
    run = executor.run(steps, plan.options.get('parallel') or 1, stop)
    warnings = []
    for img in images:
        warnings += _outcome(img, pair_runs, run.stopped)
    return warnings


def _plan_steps(glance, ident, plan):
    """``(images, {id(pair): _PairRun}, executor steps)``, in run order."""
    images, pair_runs, steps = [], {}, []
    for pairs in plan.by_image():
        img = share_image.Image(pairs)
        images.append(img)
        group = executor.Group('image %s' % img.image['id'])
        steps += _image_steps(glance, ident, plan, img, group)
        # A pair that takes no step stands as it is: so does the image.
        serves = all(p.error or _pair_steps(p) for p in pairs)
        adds = []
        for p in pairs:
            pair_runs[id(p)] = rec = _PairRun()
            mine = executor.Group('pair', group if serves else None)
            for step in _pair_steps(p):
                rec.steps.append(executor.Step(
                    _text(p, step), functools.partial(
                        _pair_step, glance, p, rec, step),
                    functools.partial(_remove_added, glance, p, rec)
                    if step.kind == ADD else None,
                    after=tuple(img.own) + tuple(rec.steps[-1:]),
                    group=mine, logged=False))
                if step.kind == ADD:
                    adds.append(rec.steps[-1])
            steps += rec.steps
        if any(s.kind in LABELLED for s in pairs[0].steps):
            # Not in the plan's words: the label is the run's own.
            img.drop = executor.Step(
                'Image %s: %s' % (img.image['id'], share_image.DROP_LABEL),
                functools.partial(share_image.drop_label, glance, img),
                after=tuple(img.own), follows=tuple(adds), closing=True,
                logged=False)
            steps.append(img.drop)
    return images, pair_runs, steps


def _image_steps(glance, ident, plan, img, group):
    """The image's own steps (on its first pair), one after another."""
    first = img.pairs[0]
    for step in [s for s in first.steps if s.kind in IMAGE_STEPS]:
        undo = (None if step.kind == share_image.EARLIER
                else functools.partial(share_image.restore, glance, img))
        img.own.append(executor.Step(
            _text(first, step), functools.partial(
                share_image.run_step, glance, ident, plan, img, step),
            undo, after=tuple(img.own[-1:]), group=group, logged=False))
    return img.own


def _pair_steps(p):
    return [s for s in p.steps if s.kind not in IMAGE_STEPS]


def _text(p, step):
    return 'Image %s, project %s: %s' % (p.image['id'],
                                         p.target.project_id, step.text)


def _pair_step(glance, p, rec, step):
    """Add the member, or accept as the target; refused: in words."""
    image_id, pid = p.image['id'], p.target.project_id
    p.start(step)
    try:
        if step.kind == ADD and p.member is None:
            try:
                p.member = glance.add_member(image_id, pid)
                rec.added = True
                p.changes.append('member added')
            except errors.Conflict:
                # Added meanwhile: as good as ours; read what it is.
                p.member = glance.get_member(image_id, pid)
        elif step.kind == ACCEPT and p.member['status'] != 'accepted':
            _accept(glance, p)
    except share_image.Failed:
        raise
    except errors.GlanceError as e:
        raise share_image.Failed(errors.explain(
            e, image_id, p.target.label, 'add member %s' % pid,
            client=glance))
    except errors.ImageShareError as e:
        raise share_image.Failed('Image %s, project %s: %s'
                                 % (image_id, pid, e))


def _remove_added(glance, p, rec):
    """The undo of adding the member: removed, if this run added it."""
    if not rec.added:
        return
    try:
        glance.remove_member(p.image['id'], p.target.project_id)
    except errors.ImageShareError as e:
        rec.undo_error = errors.describe(e, None)
        raise
    rec.removed = True


def _outcome(img, pair_runs, signal):
    """Each pair's error, state and changes from its steps; warnings."""
    pairs = img.pairs
    own = [s.outcome for s in img.own]
    if own and all(o == executor.NOT_STARTED for o in own):
        for p in pairs:
            if not p.error:
                _not_started(p, signal)
        return []
    if executor.FAILED in own or executor.NOT_STARTED in own:
        failed = [s.error for s in img.own if s.outcome == executor.FAILED]
        msg = failed[0] if failed else (
            'Image %s: interrupted by %s; its own changes were undone'
            % (img.image['id'], signal))
        if img.restored is False:
            msg += '; ' + share_image.left(img)
        for p in pairs:
            p.error, p.changes = msg, []
            p.status = (p.member or {}).get('status')
            if not failed:
                p.state = base.State.INTERRUPTED
        return []
    for p in pairs:
        _pair_outcome(p, pair_runs[id(p)], signal)
    if all(p.error for p in pairs):
        if img.restored is False:
            pairs[0].error += '; ' + share_image.left(img)
        else:
            # Undone (or never done): those changes no longer stand.
            pairs[0].changes = [c for c in pairs[0].changes
                                if c not in share_image.UNDONE.values()]
        return []
    _own_changes_to_a_row(pairs)
    if img.drop is not None and img.drop.outcome == executor.FAILED:
        return [img.drop.error]
    return [img.kept] if img.kept else []


def _not_started(p, signal):
    p.error = ('Image %s, project %s: not started (interrupted by %s)'
               % (p.image['id'], p.target.project_id, signal))
    p.status = (p.member or {}).get('status')
    p.state = base.State.NOT_STARTED


def _pair_outcome(p, rec, signal):
    """The pair's error, state, status and changes after the run."""
    outcomes = [s.outcome for s in rec.steps]
    if p.error or all(o == executor.DONE for o in outcomes):
        if not p.error:
            p.status = (p.member or {}).get('status')
        return
    if all(o == executor.NOT_STARTED for o in outcomes):
        _not_started(p, signal)
        return
    p.status = None if rec.added else (p.member or {}).get('status')
    p.changes = [c for c in p.changes if _image_change(c)] + (
        ['rolled back'] if rec.removed else [])
    failed = [s.error for s in rec.steps if s.outcome == executor.FAILED]
    if failed:
        p.error = failed[0]
    else:
        p.error = 'Image %s, project %s: interrupted by %s' % (
            p.image['id'], p.target.project_id, signal)
        p.state = base.State.INTERRUPTED
    if rec.added and not rec.removed:
        # The image may be private again by then (its other pairs
        # failed too): --share-briefly removes a member it hides.
        p.error += ('; rolling back also failed (%s): remove it with '
                    "'openstack image share revoke %s %s --share-briefly'"
                    % (rec.undo_error, messages.arg(p.image['id']),
                       messages.arg(p.target.project_id)))
    elif not failed:
        p.error += ('; the member it added was removed' if rec.removed
                    else '; nothing was changed')


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
    return (change in share_image.UNDONE.values()
            or change.startswith(share_image.EARLIER_REMOVED))


def _accept(glance, p):
    """Accept as the target; ``share_image.Failed`` unless it reads so."""
    image_id, acceptor = p.image['id'], p.target.glance or glance
    try:
        # Glance answers with the membership as stored: the answer is
        # the verification, no read-back needed.
        p.member = acceptor.set_member_status(
            image_id, p.target.project_id, 'accepted')
    except errors.GlanceError as e:
        raise share_image.Failed(errors.explain(
            e, image_id, p.target.label,
            'accept as %s' % p.target.accept_as, client=acceptor))
    if p.member.get('status') != 'accepted':
        raise share_image.Failed(
            'Image %s: membership of %s reads %s after accepting'
            % (image_id, p.target.label, p.member.get('status')))
    p.changes.append('accepted')
