"""``image transfer`` as one pipeline: targets, plan, run, one Result.

``transfer`` resolves the targets once (how each accepts included) while
the owner's reads run, has the mode make a plan of explicit steps per
(image, target), and either returns that plan (``dry_run``) or executes
exactly its steps; every mode returns the same ``plan.Result``.
"""

from concurrent import futures
import logging

from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import companions
from osc_imageshare.ops import gate
from osc_imageshare.ops.modes import copy
from osc_imageshare.ops.modes import owner
from osc_imageshare.ops.modes import share
from osc_imageshare.ops import recipients
from osc_imageshare.ops import selection
from osc_imageshare.ops import transfer_plan
from osc_imageshare.ops import waiting

LOG = logging.getLogger(__name__)

MODES = {'share': share, 'copy': copy, 'owner': owner}
# What the target did while --wait watched, in the Changes column.
WAITED = {'accepted': 'accepted by the project',
          'rejected': 'rejected by the project'}


def transfer(glance, ident, image_refs, mode='share', to=(),
             project_domain=None, to_clouds=(), dry_run=False,
             open_cloud=None, glance_for=None, parallel=1, tags=(),
             properties=None, to_domain=None, wait=None, wait_progress=None,
             **options):
    """Transfer ``image_refs`` to the targets; returns a ``plan.Result``.

    ``options`` are the mode's: share: ``accept``, ``protect``,
    ``earlier_members`` ('refuse', 'revoke' or 'keep'),
    ``allow_volume_backed``; copy: ``name``, ``visibility``, ``progress``,
    ``copy_options`` (more keyword arguments of ``copy.copy_image``),
    ``source_cloud`` (the label naming where the source is); both:
    ``allow_encrypted`` (see ``gate``).  ``parallel``: pairs at a time.
    ``tags`` and ``properties`` add the caller's images matching all of them;
    ``to_domain`` adds every enabled project of that domain as a target.
    ``wait`` (share mode, seconds): then wait until every target whose
    membership is pending has accepted.
    """
    if mode == 'share':
        # A signal before the run writes stops it with nothing changed;
        # once it writes, share.execute stops it cleanly (same Stop).
        batch = signals.Stop()
        with signals.catching(batch):
            return _transfer(glance, ident, image_refs, mode, to,
                             project_domain, to_clouds, dry_run, open_cloud,
                             glance_for, parallel, tags, properties,
                             to_domain, wait, wait_progress, batch=batch,
                             **options)
    return _transfer(glance, ident, image_refs, mode, to, project_domain,
                     to_clouds, dry_run, open_cloud, glance_for, parallel,
                     tags, properties, to_domain, wait, wait_progress,
                     **options)


def _transfer(glance, ident, image_refs, mode, to, project_domain,
              to_clouds, dry_run, open_cloud, glance_for, parallel, tags,
              properties, to_domain, wait, wait_progress, batch=None,
              **options):
    impl = MODES[mode]
    workers = runner.check(parallel)
    options = dict(options, parallel=workers)
    impl.preflight(ident)
    if mode != 'copy':
        # The copy's data path sends streams, which no retry may replay.
        glance = glance
    notes = []
    if tags or properties:
        selected = selection.select_images(glance, ident, tags, properties)
        image_refs = list(image_refs) + [
            i['id'] for i in selected if i['id'] not in image_refs]
        notes.append(selection.selected_note(selected, tags, properties))
    projects = ident.domain_projects(to_domain) if to_domain else ()
    # Authenticating the targets (a token each) and reading the images
    # are independent: do both at once, one round trip saved or more.
    with futures.ThreadPoolExecutor(1) as pool:
        resolving = pool.submit(
            recipients.resolve, ident, to, project_domain, to_clouds,
            impl.needs_accept(options), open_cloud, glance_for,
            impl.ALLOW_OWN, projects)
        try:
            read, read_error = impl.read(glance, ident, image_refs,
                                         workers), None
        except Exception as e:
            read, read_error = None, e
        targets = resolving.result()   # a target's error comes first
    if read_error is not None:
        raise read_error
    if mode != 'copy':
        for t in targets:
            t.glance = t.glance
    plan = impl.make_plan(read, targets, options)
    warnings = recipients.unverified_warnings(targets)
    if batch is not None and batch.name:
        raise signals.Interrupted('Interrupted by %s before anything was '
                                  'changed' % batch.name)
    # Images of a kind the targets could not use leave the plan here.
    warnings += gate.apply(plan, ident)
    companions.check(plan)
    if dry_run:
        warnings += notes + impl.dry_run_warnings(plan, ident)
    else:
        warnings += (impl.execute(glance, ident, plan) if batch is None
                     else impl.execute(glance, ident, plan, batch))
        companions.settle(glance, plan)
    res = transfer_plan.result(plan, impl, dry_run, warnings)
    if wait is not None and not dry_run and not plan.stopped:
        before = share._warnings_for(plan, ident)
        res.wait_error = _wait(glance, plan, wait, wait_progress)
        # The risks as they stand after the wait (who accepted meanwhile).
        res.warnings = [w for w in res.warnings if w not in before] + (
            share._warnings_for(plan, ident))
        if res.wait_error and res.failed:
            res.errors.append(res.wait_error)
        res.rows = transfer_plan.result(plan, impl, dry_run, []).rows
    return res


def _wait(glance, plan, timeout, progress):
    """Wait for the pending members of the plan; the error, or None."""
    expected = waiting.Waiting()
    pending = {}
    for p in plan.pairs:
        if not p.error and p.status == 'pending':
            expected.add(p.image['id'], p.target.project_id, p.target.label)
            pending[p.image['id'], p.target.project_id] = p
    try:
        seen, error = waiting.wait_for(glance, expected, timeout,
                                       progress), None
    except errors.ImageShareError as e:
        # A rejection or the deadline: the rows say what was read.
        seen, error = getattr(e, 'seen', {}), str(e)
    finally:
        if progress:
            progress(None)
    for image_id, members in seen.items():
        for pid, m in members.items():
            p = pending[image_id, pid]
            if m['status'] in WAITED:
                p.member, p.status = m, m['status']
                p.changes.append(WAITED[m['status']])
    return error
