"""The run of a share plan: its steps on the executor, each one's undo.

``execute`` turns exactly the steps ``share.make_plan`` put in the plan
into ``executor.Step`` s, each sending what its text says, and runs them
with ``executor.run``, ``parallel`` at a time, in this order:

* per image, its own steps (on its first pair; group: the image): set
  shared (undo: private again), the earlier members (refuse, revoke or
  keep: it stands), finish a dead run's image, protect (undo:
  unprotected); the undos restore the image in one PATCH;
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
import threading

from osc_imageshare.batch import executor
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
DROP_LABEL = 'drop the run label %s' % stranded.LABEL


class _Failed(errors.ImageShareError):
    """A step refused, in the words the run reports."""


@dataclasses.dataclass(eq=False)
class _Image:
    """One image's run: what its steps changed, and its executor steps."""

    pairs: list
    undo: dict = dataclasses.field(default_factory=dict)  # field -> before
    labelled: bool = False
    restored: bool = None           # None: no undo tried
    kept: str = None                # the warning naming earlier members kept
    own: list = dataclasses.field(default_factory=list)     # its own steps
    drop: object = None             # the step that drops the label
    lock: object = dataclasses.field(default_factory=threading.Lock)

    @property
    def image(self):
        return self.pairs[0].image


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
        img = _Image(pairs)
        images.append(img)
        first = pairs[0]
        group = executor.Group('image %s' % img.image['id'])
        for step in [s for s in first.steps if s.kind in IMAGE_STEPS]:
            img.own.append(executor.Step(
                _text(first, step), functools.partial(
                    _image_step, glance, ident, plan, img, step),
                None if step.kind == EARLIER else functools.partial(
                    _restore, glance, img), after=tuple(img.own[-1:]),
                group=group, logged=False))
        steps += img.own
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
        if any(s.kind in (SHARE, RESUME) for s in first.steps):
            # Not in the plan's words: the label is the run's own.
            img.drop = executor.Step(
                'Image %s: %s' % (img.image['id'], DROP_LABEL),
                functools.partial(_drop_label, glance, img),
                after=tuple(img.own), follows=tuple(adds), closing=True,
                logged=False)
            steps.append(img.drop)
    return images, pair_runs, steps


def _pair_steps(p):
    return [s for s in p.steps if s.kind not in IMAGE_STEPS]


def _text(p, step):
    return 'Image %s, project %s: %s' % (p.image['id'],
                                         p.target.project_id, step.text)


def _image_step(glance, ident, plan, img, step):
    """One of the image's own steps; refused: ``_Failed``, in words."""
    image, first = img.image, img.pairs[0]
    first.start(step)
    try:
        if step.kind == SHARE:
            _share(glance, img)
        elif step.kind == EARLIER:
            img.kept = _earlier_members(glance, ident, plan, img.pairs)
        elif step.kind == RESUME:
            glance.patch_image(image['id'], add={
                stranded.LABEL: stranded.value(_targets(img),
                                               checked=True)})
            img.labelled = True
        elif step.kind == PROTECT:
            glance.update_image(image['id'], protected=True)
            img.undo['protected'] = False
            first.changes.append(UNDONE['protected'])
    except _Failed:
        raise
    except errors.GlanceError as e:
        raise _Failed(errors.explain(e, image['id'], action='update the '
                                     'image', client=glance))
    except errors.ImageShareError as e:
        raise _Failed('Image %s: could not update the image: %s'
                      % (image['id'], e))


def _targets(img):
    return [p.target.project_id for p in img.pairs]


def _share(glance, img):
    """Set it shared, labelled in the same PATCH.

    A run that dies before the image is finished leaves a label that a
    later run reads.  A broken connection: the PATCH may have reached
    Glance; what of it landed is undone here (the step failed: no undo
    of it follows), or the image named.
    """
    image = img.image
    try:
        glance.patch_image(image['id'], replace={'visibility': 'shared'},
                           add={stranded.LABEL: stranded.value(
                               _targets(img))})
    except errors.TransportError as e:
        # Not when Keystone failed: Glance did not act on it.
        if not e.identity:
            img.labelled = _if_landed(glance, image, img.undo)
        img.restored = _undo_image(glance, image, img.undo, img.labelled)
        img.labelled = img.labelled and not img.restored
        raise _Failed('Image %s: could not update the image: %s'
                      % (image['id'], e))
    img.labelled = True
    img.undo['visibility'] = 'private'
    img.pairs[0].changes.append(UNDONE['visibility'])


def _restore(glance, img):
    """The undo of the image's steps: one PATCH, tried once."""
    with img.lock:
        if img.restored is None:
            img.restored = _undo_image(glance, img.image, img.undo,
                                       img.labelled)
            img.labelled = img.labelled and not img.restored
    if not img.restored:
        raise errors.ImageShareError(_left(img))


def _drop_label(glance, img):
    """The image's run is under way no more: its label goes."""
    image = img.image
    with img.lock:
        if not img.labelled:
            return      # restored meanwhile, label and all
        try:
            glance.patch_image(image['id'], remove=[stranded.LABEL])
        except errors.ImageShareError as e:
            LOG.debug('Image %s: removing %s failed: %s', image['id'],
                      stranded.LABEL, e)
            raise errors.ImageShareError(messages.W_LEFT.format(
                id=image['id'], state='shared', label=stranded.LABEL)
                + ' (%s)' % errors.describe(e, None))
        img.labelled = False


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
    except _Failed:
        raise
    except errors.GlanceError as e:
        raise _Failed(errors.explain(e, image_id, p.target.label,
                                     'add member %s' % pid, client=glance))
    except errors.ImageShareError as e:
        raise _Failed('Image %s, project %s: %s' % (image_id, pid, e))


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
            msg += '; ' + _left(img)
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
            pairs[0].error += '; ' + _left(img)
        else:
            # Undone (or never done): those changes no longer stand.
            pairs[0].changes = [c for c in pairs[0].changes
                                if c not in UNDONE.values()]
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
        p.error += ('; rolling back also failed (%s): re-run the same '
                    "command, or remove it with 'openstack image share "
                    "revoke %s %s'" % (rec.undo_error, p.image['id'],
                                       p.target.project_id))
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
    return change in UNDONE.values() or change.startswith(EARLIER_REMOVED)


def _left(img):
    """What an image left changed by this run needs, in words."""
    state = ('shared' if img.undo.get('visibility')
             else img.image.get('visibility'))
    return (messages.W_LEFT.format(id=img.image['id'], state=state,
                                   label=stranded.LABEL))


def _if_landed(glance, image, undo):
    """After a broken share PATCH: what of it Glance holds, to undo.

    Adds the visibility to ``undo`` and returns whether the label is
    there; where Glance cannot be read either, as if all of it landed.
    """
    try:
        now = glance.get_image(image['id'])
    except errors.ImageShareError:
        now = None
    if now is None or now.get('visibility') == 'shared':
        undo['visibility'] = 'private'
    return now is None or stranded.LABEL in now


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


def _undo_image(glance, image, undo, labelled=False):
    """Restore the image's fields (and drop the label); False if refused."""
    if not undo and not labelled:
        return True
    try:
        glance.patch_image(image['id'], replace=undo,
                           remove=[stranded.LABEL] if labelled else ())
    except errors.ImageShareError as e:
        # The caller names the image left changed, with what to do.
        LOG.debug('Could not restore %s of image %s: %s', ', '.join(
            '%s=%s' % kv for kv in sorted(undo.items())) or stranded.LABEL,
            image['id'], errors.describe(e, None))
        return False
    return True
