"""``image replicate``: each series' newest images, copied to each target.

``read`` selects the caller's images (names or IDs, ``--tag``,
``--property``; hidden ones included), groups them into series
(``series``) and reads each target's replicas once (one paged listing per
target, by the label ``labels.REPLICA_OF``).  ``plan`` makes the
executor's steps: a ``copy`` step (copy mode's engine: verified, crash
and race safe) per missing replica of the newest ``--keep`` of a series,
after the copy of each companion (kernel, ramdisk) it boots with that
the target has no verified copy of (one per companion and target,
reused by later runs, never deleted by retention), then, once they are
done, a ``delete`` step per proven replica beyond ``--keep``.
``replicate`` runs them (or, ``dry_run``, returns the plan as rows);
``replicate_check.check`` reads the same state and writes
nothing.  Everything a run needs is in the target's labels: any host can
run it.
"""

from concurrent import futures
import dataclasses
import functools
import logging

from osc_imageshare.api import glance as glance_api
from osc_imageshare.batch import executor
from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import reuse
from osc_imageshare.ops import companions
from osc_imageshare.ops import gate
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import copy
from osc_imageshare.ops import recipients
from osc_imageshare.ops import replica_state
from osc_imageshare.ops import roles
from osc_imageshare.ops import selection
from osc_imageshare.ops import series
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

COPIED = 'copied'
COMPANION = 'copied (companion)'
KEPT = 'kept'
REWIRED = 'kept, companions set'
KEPT_COMPANION = 'kept (companion)'
DELETED = 'deleted (retention)'
PROTECTED = 'protected, kept'
PLANNED = {COPIED: 'would copy', COMPANION: 'would copy (companion)',
           REWIRED: 'kept, would set companions',
           DELETED: 'would delete (retention)'}
E_INTERRUPTED = (
    'Interrupted by {signal}: of {total} step(s), {done} done, {failed} '
    'failed, {idle} not started; every copy made is verified and kept, '
    'each cut one was cleaned up as said above: run the command again to '
    'finish')
E_DELETE = 'Could not delete replica {id} of image {source} in project ' \
           '{project}: {why}'
W_UNSEALED = ('Copy {id} is verified, but finishing its labels failed '
              '({why}): a replica left unsealed is left alone by retention '
              'once its source is deleted')
W_NOT_DELETED = ('Replica {id} of image {source} in project {project} was '
                 'not deleted: a copy of its series there did not succeed')
W_UNCHECKED = ('Replica {id} in project {project} was kept without checking '
               'that it names copies of its companions there: {why}')
N_DEBRIS = ('Image {id}: its copy into {where} would first delete {ids}, '
            'left by an interrupted copy')
N_REPLICAS = ('Left out {count} replica(s) the selection matched ({ids}): '
              'a replica is never replicated, its source is')
E_REPLICA = ('Image {id} is a replica of image {source}, made by image '
             'replicate: a replica is never replicated; replicate its source')
E_REMEDY = 'give a --to-cloud entry of another region'
E_NO_COMPANION = ('Image {id}, project {project}: its {key} {cid} could not '
                  'be copied there (see above), so a copy could not boot; '
                  'it was not copied')


@dataclasses.dataclass
class Request:
    """What ``image replicate`` was asked (see the command's options)."""

    refs: tuple = ()
    tags: tuple = ()
    properties: dict = None
    to: tuple = ()
    project_domain: str = None
    to_clouds: tuple = ()
    keep: int = None
    series_by: tuple = None
    dry_run: bool = False
    parallel: int = None
    source_cloud: str = None
    open_cloud: object = None
    glance_for: object = None


@dataclasses.dataclass(eq=False)
class Entry:
    """One row of a run: a replica kept, copied or deleted."""

    pair: object                    # replica_state.Pair
    source_id: str
    created: str
    replica: str = None
    action: str = KEPT
    method: str = 'none'
    step: object = None             # its executor.Step, if it writes
    methods: tuple = None
    cut: str = None                 # what a signal stopped, in words
    error: str = None               # why it failed (planning or its step)
    wires: dict = None              # companion key -> its copy there
    listed: list = None             # a companion's copies listed there
    debris: tuple = ()              # what its copy deletes first (IDs)

    def row(self, dry_run):
        action = PLANNED.get(self.action, self.action) if dry_run \
            else self.action
        return (self.pair.key, self.pair.where, self.source_id, self.created,
                self.replica, action, self.method)


@dataclasses.dataclass
class Result:
    """Rows, warnings, errors and the one summary line (or None)."""

    rows: list
    warnings: list
    errors: list
    summary: str = None


def read(glance, ident, req):
    """``(state, warnings)``: a ``replica_state.State``, nothing written.

    The targets are authenticated and their replicas listed while the
    sources are read: the two sides are independent.
    """
    with futures.ThreadPoolExecutor(1) as pool:
        there = pool.submit(_targets, glance, ident, req)
        try:
            sources, failed, notes, left = _sources(glance, ident, req)
        except BaseException:
            there.cancel()
            raise
        targets, listings = there.result()
    sources, allowed = _gated(ident, sources, targets, failed)
    state = replica_state.State(glance, ident, sources, targets, failed)
    state.warnings += allowed
    state.group(req.series_by)
    state.sort_targets(listings)
    state.warnings += left
    return state, notes if req.dry_run else []


def _targets(glance, ident, req):
    """``(targets, {id(target): its replicas listed, or the error})``."""
    targets = recipients.resolve(
        ident, req.to, req.project_domain, req.to_clouds,
        recipients.AcceptPolicy.REQUIRED, req.open_cloud, req.glance_for,
        allow_own=True, per_glance=True)
    replica_of = replica_state.replica_of(ident, glance)
    return targets, {id(t): replica_state.listing(glance, t, replica_of)
                     for t in targets}


def _sources(glance, ident, req):
    """``(sources, {ref: why refused}, notes, left)``: the images selected.

    ``notes``: what the selection matched (a dry run says it); ``left``:
    the replicas it left out (every run says it).
    """
    notes, selected, left = [], [], []
    check = functools.partial(_usable, ident)
    if req.tags or req.properties:
        # The listing's images as they are: no request per image.
        selected = selection.select_images(glance, ident, req.tags,
                                           req.properties,
                                           limit=glance.PAGE)
        notes.append(selection.selected_note(selected, req.tags,
                                             req.properties))
    # A replica (this command's copy) is never a source: its own source
    # is.  The selection leaves them out with a note; one named is refused.
    named, refs, replicas = _named(glance, ident, req.refs)
    replicas += [i for i in selected if i.get(labels.REPLICA_OF)]
    if replicas:
        selected = [i for i in selected if not i.get(labels.REPLICA_OF)]
        left.append(N_REPLICAS.format(count=len(replicas), ids=', '.join(
            i['id'] for i in replicas)))
    sources, failed = runner.find_images(
        glance, refs, ident.project_name or ident.project_id, check,
        runner.check(req.parallel))
    for image in named + selected:
        why = check(image)
        if why:
            failed[image['id']] = why
    sources = named + sources
    return runner.unique_images([
        i for i in sources + selected if i['id'] not in failed]), \
        failed, notes, left


def _named(glance, ident, refs):
    """``(images, refs left, replicas left out)``: each name's images.

    A name series is several images of one name: a name selects them
    all.  An ID, or a name no image of yours has, is left to
    ``runner.find_images`` (its lookup, its error).
    """
    images, left, replicas = [], [], []
    for ref in dict.fromkeys(refs):
        mine = [] if glance_api.is_uuid(ref) else \
            glance.list_named(ref, owner=ident.project_id)
        # Replicas among a name series are left out as a selection's are
        # (the caller's note); a name only replicas bear is refused.
        kept = [i for i in mine if not i.get(labels.REPLICA_OF)] or mine
        images += kept
        replicas += [i for i in mine if i not in kept]
        if not mine:
            left.append(ref)
    return images, left, replicas


def _usable(ident, image):
    """Why ``image`` cannot be replicated, or None."""
    if image.get(labels.REPLICA_OF):
        return E_REPLICA.format(id=image['id'],
                                source=image.get(labels.SOURCE_ID))
    if image.get('owner') != ident.project_id:
        return ("Image %s is owned by project %s, not yours: replicate "
                "copies your own project's images" % (
                    image['id'], image.get('owner')))
    if image.get('status') != 'active':
        return ('Image %s is %s, not active: only an active image can be '
                'replicated' % (image['id'], image.get('status')))
    return None


def _gated(ident, sources, targets, failed):
    """``(sources, warnings)``: less the kinds copy mode refuses (``gate``).

    The refused go into ``failed``; the warnings are of those it lets
    through (an encrypted image into its own project, another region).
    """
    plan = transfer_plan.Plan(
        'copy', [transfer_plan.Pair(s, t) for s in sources for t in targets],
        failed, targets, {})
    warnings = gate.apply(plan, ident)
    return [s for s in sources if s['id'] not in failed], warnings


def plan(state, keep, origin=None):
    """The entries of the run, in row order, each write one step."""
    entries = []
    for pair in state.pairs:
        if pair.error:
            continue
        wanted, beyond = pair.retention(keep)
        known = len(state.companion_entries)
        mine = [_keep_or_copy(state, pair, item, origin) for item in wanted]
        # The companions' copies first: the copies that boot with them
        # wait for them.
        entries += state.companion_entries[known:] + mine
        copies = tuple(e.step for e in mine if e.step)
        if any(e.error for e in mine):
            continue    # a copy refused while planning: no deletion
        for replica in beyond:
            entries.append(_delete(state, pair, replica, copies))
    return entries


def _keep_or_copy(state, pair, item, origin):
    """The entry of one wanted image: its replica kept, or a copy step."""
    image, replica = item
    entry = Entry(pair, image['id'] if replica is None or image is not
                  replica else replica.get(labels.SOURCE_ID),
                  image.get('created_at') if image is not replica
                  else series.source_created(replica))
    if replica is not None:
        entry.replica = replica['id']
        if image is not replica:
            _check_companions(state, entry, image, replica, origin)
        return entry
    refused = copy.in_place(state.glance, pair.target, image,
                            remedy=E_REMEDY)
    try:
        if refused:
            raise errors.ImageShareError(refused)
        entry.wires = _companions(state, pair, image, origin)
        words = _plan_methods(state, pair, entry, image)
    except errors.ImageShareError as e:
        entry.error = str(e)
        return entry
    entry.action = COPIED
    entry.debris = tuple(d['id'] for d in labels.leftovers(pair.debris)
                         if d.get(labels.SOURCE_ID) == image['id'])
    entry.step = executor.Step(
        'Image %s: copy into %s by %s (series %s)%s' % (
            image['id'], pair.where, words, pair.key, _first(entry)),
        functools.partial(_copy, state, entry, image, origin),
        after=tuple(c.step for c in entry.wires.values()
                    if isinstance(c, Entry)))
    return entry


def _plan_methods(state, pair, entry, image):
    """The import methods ``entry``'s copy tries, checked; their words.

    The Method a dry run shows is every method the run may use, in the
    order it tries them: a target may refuse the first only when asked.
    """
    entry.methods, words = engine.plan_copy(
        state.glance, pair.glance, image, 'auto')
    engine.check_copy(state.glance, pair.glance, image,
                      pair.target.project_id, entry.methods[0], False,
                      state.planned.setdefault(id(pair.glance), {}))
    entry.method = entry.methods[0] + (
        ' (else %s)' % ', '.join(entry.methods[1:])
        if entry.methods[1:] else '')
    return words


def _companions(state, pair, image, origin):
    """``{key: its copy there}`` of the companions ``image`` boots with.

    A copy is the ID of a verified copy already in the target project,
    or the ``Entry`` of the step that makes it (one per companion and
    target: the run's other images reuse it).  A public or community
    companion in the target's own Glance needs none: the reference
    stays.  Raises ImageShareError where a companion cannot be copied.
    """
    wires = {}
    for key, cid in sorted(kinds.classify(image).companions.items()):
        comp = state.companion(cid)
        why = companions.copy_refusal(image, key, cid, comp)
        if why:
            raise errors.ImageShareError(why)
        if (comp.get('visibility') in companions.READABLE
                and copy.same_glance(pair.glance, state.glance)):
            wires[key] = cid    # the target reads it where it is
            continue
        mark = (cid, id(pair.target))
        if mark not in state.companion_copies:
            state.companion_copies[mark] = _companion_copy(
                state, pair, comp, origin)
        made = state.companion_copies[mark]
        if isinstance(made, Entry) and made.error:
            raise errors.ImageShareError(E_NO_COMPANION.format(
                id=image['id'], project=pair.target.label, key=key, cid=cid))
        wires[key] = made
    return wires


def _check_companions(state, entry, image, replica, origin):
    """A kept replica names its companions' copies there, or is set to.

    A companion copy deleted at the target (copied again), or a replica
    made before its source had one: a step sets its ``kernel_id`` and
    ``ramdisk_id``, once those copies are made.  Where a companion can
    no longer be copied, a warning says the replica was not checked.
    """
    if not kinds.classify(image).companions:
        return
    pair = entry.pair
    try:
        wires = _companions(state, pair, image, origin)
    except errors.ImageShareError as e:
        state.warnings.append(W_UNCHECKED.format(
            id=replica['id'], project=pair.target.label, why=e))
        return
    # Copies known already (found, or kept to be finished) it names.
    if all(v is not None and replica.get(k) == v
           for k, v in _wired(wires).items()):
        return
    entry.wires, entry.action = wires, REWIRED
    entry.step = executor.Step(
        'Replica %s of image %s in %s: set %s to the companions\' copies' % (
            replica['id'], image['id'], pair.where, ' and '.join(
                sorted(wires))),
        functools.partial(_rewire, entry, replica),
        after=tuple(c.step for c in wires.values() if isinstance(c, Entry)))


def _rewire(entry, replica):
    """The step of ``_check_companions``: the replica names the copies."""
    want = {k: v for k, v in _wired(entry.wires).items()
            if replica.get(k) != v}
    try:
        companions.point_at(entry.pair.glance, replica, want)
    except (errors.GlanceError, errors.TransportError) as e:
        raise errors.ImageShareError(
            "Replica %s of image %s in project %s names companions that "
            "are not there, and setting %s failed: %s" % (
                replica['id'], entry.source_id, entry.pair.target.label,
                ' and '.join(sorted(want)), errors.describe(e)))


def _wired(wires):
    """``{key: the ID of its copy there}`` (once the copies are made)."""
    return {key: c if isinstance(c, str) else c.replica
            for key, c in wires.items()}


def _companion_copy(state, pair, comp, origin):
    """A verified copy's ID there, or the ``Entry`` of the copy to make.

    A verified copy a killed run left with its labels of a copy under way
    is kept, by a step that finishes its labels.
    """
    listed, found = reuse.existing_copy(pair.glance, comp,
                                        pair.target.project_id)
    unfinished = found and any(k in found for k in labels.IN_PROGRESS)
    if found and not unfinished:
        return found['id']
    entry = Entry(pair, comp['id'], comp.get('created_at'), action=COMPANION,
                  listed=listed)
    state.companion_entries.append(entry)
    if unfinished:
        entry.action, entry.replica = KEPT_COMPANION, found['id']
        words = 'none: finish the labels of the verified copy %s' % found[
            'id']
    else:
        try:
            words = 'by ' + _plan_methods(state, pair, entry, comp)
        except errors.ImageShareError as e:
            entry.error = str(e)
            return entry
        entry.debris = tuple(d['id'] for d in labels.leftovers(
            labels.of_kind(listed)))
    entry.step = executor.Step(
        'Image %s: copy into %s %s (a companion of series %s)%s' % (
            comp['id'], pair.where, words, pair.key, _first(entry)),
        functools.partial(_copy_companion, state, entry, comp, origin))
    return entry


def _first(entry):
    """The words of what a copy step deletes before it copies."""
    return '; first delete %s, left by an interrupted copy' % ', '.join(
        entry.debris) if entry.debris else ''


def _copy_companion(state, entry, comp, origin):
    """A companion's copy step: a plain verified copy, not a replica."""
    made = _engine_copy(state, entry, comp, origin, listed=entry.listed)
    entry.replica, entry.method = made.image['id'], made.method
    if made.method == 'none':
        entry.action = KEPT_COMPANION   # another run made it meanwhile
    _finish(state, entry.pair, made.image, origin)


def _engine_copy(state, entry, source, origin, **how):
    """The engine's copy of ``source`` for ``entry``; stops on a signal."""
    pair = entry.pair
    try:
        return engine.copy_image(
            state.glance, pair.glance, source, pair.target.project_id,
            source_cloud=origin, as_admin=pair.admin,
            warn=state.warnings.append, methods=entry.methods, **how)
    except signals.Interrupted as e:
        # The engine cleaned up after itself: say how, stop as a step.
        entry.cut = str(e)
        raise signals.Stopped(getattr(signals.current(), 'name', None)
                              or 'a signal')


def _copy(state, entry, image, origin):
    """A copy step's action: the engine's copy, sealed as a replica.

    Its ``kernel_id`` and ``ramdisk_id`` name the companions' copies.
    """
    pair = entry.pair
    wired = dict(image, **_wired(entry.wires))
    made = _engine_copy(state, entry, wired, origin,
                        replica=pair.labels(image))
    # A copy found already made may still name the source's companions.
    companions.rewire(pair.glance, made, wired)
    entry.replica, entry.method = made.image['id'], made.method
    if made.method == 'none':
        entry.action = KEPT     # another run made it meanwhile
    _finish(state, pair, made.image, origin, seal=True)


def _finish(state, pair, image, origin, seal=False):
    """A copy a killed run had verified, reused as it was left, finished.

    Its labels of a copy under way dropped, the source's cloud added;
    ``seal``: a replica's seal too.
    """
    drop = [k for k in labels.IN_PROGRESS if k in image]
    add = {labels.REPLICA_PROOF: series.seal(image)} if seal and not \
        image.get(labels.REPLICA_PROOF) else {}
    if origin and not image.get(labels.SOURCE_CLOUD):
        add[labels.SOURCE_CLOUD] = origin
    if not drop and not add:
        return
    try:
        pair.glance.patch_image(image['id'], add=add, remove=drop)
    except (errors.GlanceError, errors.TransportError) as e:
        # Verified all the same; unsealed, a replica is proven while its
        # source lives, and left alone by retention once it is gone.
        state.warnings.append(W_UNSEALED.format(
            id=image['id'], why=errors.describe(e)))


def _delete(state, pair, replica, copies):
    """The entry of a replica beyond ``--keep``: deleted, or protected."""
    entry = Entry(pair, replica.get(labels.SOURCE_ID),
                  series.source_created(replica), replica['id'], DELETED)
    if replica.get('protected'):
        entry.action = PROTECTED
        cloud = '--os-cloud %s ' % messages.arg(pair.target.cloud) \
            if pair.target.cloud else ''
        state.warnings.append(
            "Replica %s of image %s in project %s is protected: kept beyond "
            "--keep; 'openstack %simage set --unprotected %s' lets the next "
            "run delete it" % (replica['id'], entry.source_id,
                               pair.target.label, cloud,
                               messages.arg(replica['id'])))
        return entry
    entry.step = executor.Step(
        'Replica %s of image %s in %s: delete (beyond --keep)' % (
            replica['id'], entry.source_id, pair.where),
        functools.partial(_delete_one, pair, entry), after=copies)
    return entry


def _delete_one(pair, entry):
    try:
        pair.glance.delete_image(entry.replica, 'target')
    except errors.NotFound:
        return      # gone already: what the step wanted
    except (errors.GlanceError, errors.TransportError) as e:
        raise errors.ImageShareError(E_DELETE.format(
            id=entry.replica, source=entry.source_id,
            project=pair.target.label, why=errors.describe(e)))


def replicate(glance, ident, req):
    """Read, plan, run (or only plan: ``req.dry_run``); a ``Result``."""
    state, notes = read(glance, ident, req)
    entries = plan(state, req.keep, req.source_cloud)
    if req.dry_run:
        return _result(state, entries, True, notes + _roles(entries) + [
            N_DEBRIS.format(id=e.source_id, where=e.pair.where,
                            ids=', '.join(e.debris))
            for e in entries if e.debris and e.step is not None])
    steps = [e.step for e in entries if e.step]
    run = executor.run(steps, runner.check(req.parallel))
    if run.stopped:
        raise signals.Interrupted(_interrupted(state, entries, run),
                                  rows=_rows(entries, False))
    return _result(state, entries, False)


def _roles(entries):
    """A dry run's line per target whose role cannot write there."""
    return roles.warnings(
        (roles.of_client(e.pair.glance), 'The run in %s' % e.pair.where,
         roles.DELETE if e.action == DELETED else roles.CREATE)
        for e in entries if e.step is not None)


def _rows(entries, dry_run):
    return [e.row(dry_run) for e in entries if not e.error and (
        dry_run or e.step is None or e.step.outcome == executor.DONE)]


def _result(state, entries, dry_run, notes=()):
    """The Result: rows done (or planned), a line per failure, summary.

    A series/target pair failed when it could not be read, or one of its
    copies or deletions was refused or failed; the others are not
    stopped by it.
    """
    for e in entries:
        if dry_run or e.error or e.step is None:
            continue
        if e.step.outcome == executor.FAILED:
            e.error = e.step.error
        elif e.step.outcome == executor.NOT_STARTED and e.wires and any(
                isinstance(c, Entry) and c.error for c in e.wires.values()):
            key, cid = next((k, c.source_id) for k, c in e.wires.items()
                            if isinstance(c, Entry) and c.error)
            e.error = E_NO_COMPANION.format(
                id=e.source_id, project=e.pair.target.label, key=key, cid=cid)
        elif e.step.outcome != executor.DONE and e.action == DELETED:
            state.warnings.append(W_NOT_DELETED.format(
                id=e.replica, source=e.source_id, project=e.pair.target.label))
    errs = list(state.failed.values()) + [p.error for p in state.pairs
                                          if p.error]
    errs += [e.error for e in entries if e.error]
    errs = list(dict.fromkeys(errs))    # a target's one line, not per series
    failing = {id(p) for p in state.pairs if p.error} | {
        id(e.pair) for e in entries if e.error}
    failed = len(state.failed) * len(state.targets) + len(failing)
    total = len(state.pairs) + len(state.failed) * len(state.targets)
    summary = messages.E_PARTIAL.format(
        verb='replicate', failed=failed, total=total,
        things='series/target pairs') if failed else None
    return Result(_rows(entries, dry_run), list(notes) + state.warnings,
                  errs, summary)


def _interrupted(state, entries, run):
    """The lines of a run a signal stopped, then its summary."""
    lines = [w for w in state.warnings]
    lines += [e.cut or e.step.error for e in entries
              if e.step and e.step.outcome == executor.FAILED]
    lines.append(E_INTERRUPTED.format(
        signal=run.stopped, total=len(run.steps),
        done=len(run.having(executor.DONE)),
        failed=len(run.having(executor.FAILED)),
        idle=len(run.having(executor.NOT_STARTED))))
    return '\n'.join(lines)
