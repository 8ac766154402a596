"""``image transfer`` as one pipeline: targets, plan, run, one Result.

``transfer`` resolves the targets once (how each accepts included) while
the owner's reads run, has the mode make a plan of explicit steps per
(image, target), and either returns that plan (``dry_run``) or executes
exactly its steps; every mode returns the same ``plan.Result``.
"""

from concurrent import futures
import dataclasses
import logging

from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import companions
from osc_imageshare.ops import gate
from osc_imageshare.ops.modes import base
from osc_imageshare.ops.modes import copy
from osc_imageshare.ops.modes import owner
from osc_imageshare.ops.modes import share
from osc_imageshare.ops import recipients
from osc_imageshare.ops import selection
from osc_imageshare.ops import transfer_plan
from osc_imageshare.ops import waiting

LOG = logging.getLogger(__name__)

MODES = {m.NAME: m for m in (share, copy, owner)}
# What the target did while --wait watched, in the Changes column.
WAITED = transfer_plan.WAITED


@dataclasses.dataclass
class Request:
    """What ``image transfer`` was asked: every option, in one place.

    Targets: ``to`` (names or IDs, in ``project_domain``), ``to_clouds``
    (clouds.yaml entries, opened by ``open_cloud``), ``to_domain`` (every
    enabled project of it, but those ``exclude`` names, see
    ``recipients.exclude_projects``); ``glance_for(session)``: a Glance
    client.
    Images: the refs given, plus the caller's images matching all of
    ``tags`` and ``properties``.  ``parallel``: pairs at a time.  ``wait``
    (share mode, seconds): then wait until every target whose membership
    is pending has accepted.  The mode's options: share: ``accept``,
    ``protect``, ``earlier_members`` ('refuse', 'revoke' or 'keep'),
    ``allow_volume_backed``; copy: ``name``, ``visibility``, ``progress``,
    ``copy_options`` (more keyword arguments of ``engine.copy_image``),
    ``source_cloud`` (the label naming where the source is); both:
    ``allow_encrypted`` (see ``gate``).
    """

    mode: str = 'share'
    to: tuple = ()
    project_domain: str = None
    to_clouds: tuple = ()
    to_domain: str = None
    exclude: tuple = ()
    dry_run: bool = False
    open_cloud: object = None
    glance_for: object = None
    parallel: int = 1
    tags: tuple = ()
    properties: dict = None
    wait: float = None
    wait_progress: object = None
    accept: bool = True
    protect: bool = False
    earlier_members: str = None
    allow_volume_backed: bool = False
    allow_encrypted: bool = False
    name: str = None
    visibility: str = None
    progress: bool = False
    copy_options: dict = dataclasses.field(default_factory=dict)
    source_cloud: str = None

    def mode_options(self, workers):
        """The mode's options (``Plan.options``), ``parallel`` included."""
        return dict({k: getattr(self, k) for k in MODES[self.mode].OPTIONS},
                    parallel=workers)


def transfer(glance, ident, image_refs, mode='share', request=None,
             **fields):
    """Transfer ``image_refs`` as ``request`` says; a ``plan.Result``.

    ``request``: a ``Request``; or its fields, as keyword arguments.
    """
    request = request or Request(mode=mode, **fields)
    return _transfer(glance, ident, list(image_refs), request)


def _transfer(glance, ident, image_refs, req):
    impl = MODES[req.mode]
    workers = runner.check(req.parallel)
    options = req.mode_options(workers)
    impl.preflight(ident)
    notes = []
    if req.tags or req.properties:
        selected = selection.select_images(glance, ident, req.tags,
                                           req.properties)
        image_refs += [i['id'] for i in selected
                       if i['id'] not in image_refs]
        notes.append(selection.selected_note(selected, req.tags,
                                             req.properties))
    projects, left_out = _domain_projects(ident, req)
    if req.exclude:
        notes.append(recipients.excluded_note(left_out, req.to_domain))
    read, targets = _read(glance, ident, image_refs, req, impl, options,
                          projects, left_out)
    plan = impl.make_plan(read, targets, options)
    warnings = recipients.unverified_warnings(targets)
    # Images of a kind the targets could not use leave the plan here.
    warnings += gate.apply(plan, ident)
    companions.check(plan)
    if req.dry_run:
        warnings += notes + impl.dry_run_warnings(plan, ident)
        return transfer_plan.result(plan, impl, True, warnings)
    return _run(glance, ident, plan, impl, req, warnings)


def _domain_projects(ident, req):
    """``--to-domain``'s projects, ``--exclude``'s left out: two lists."""
    if not req.to_domain:
        return (), ()
    projects = ident.domain_projects(req.to_domain)
    return recipients.exclude_projects(projects, req.exclude, req.to_domain)


def _read(glance, ident, image_refs, req, impl, options, projects=(),
          left_out=()):
    """``(impl.read(...), targets)``: both at once, a round trip saved."""
    # Authenticating the targets (a token each) and reading the images
    # are independent.
    with futures.ThreadPoolExecutor(1) as pool:
        resolving = pool.submit(
            recipients.resolve, ident, req.to, req.project_domain,
            req.to_clouds, impl.needs_accept(options), req.open_cloud,
            req.glance_for, impl.ALLOW_OWN, projects, left_out,
            req.to_domain)
        try:
            read, read_error = impl.read(glance, ident, image_refs,
                                         options['parallel']), None
        except Exception as e:
            read, read_error = None, e
        targets = resolving.result()   # a target's error comes first
    if read_error is not None:
        raise read_error
    return read, targets


def _run(glance, ident, plan, impl, req, warnings):
    """Execute ``plan`` (then ``--wait``); the run's Result.

    INT, TERM and HUP are caught from the first write to the end of the
    wait, with one ``signals.Stop`` (before: the command's own handler
    ends it, nothing changed).  A signal that cut pairs: copy and owner
    modes raise ``signals.Interrupted``; share mode's pairs say how each
    ended, and ``summary`` is the Result's.
    """
    stop = signals.Stop()
    with signals.catching(stop):
        warnings += impl.execute(glance, ident, plan, stop)
    companions.settle(glance, plan)
    signal = late = stop.name
    if base.finished(map(base.state_of, plan.pairs)):
        # The signal came once every pair had ended: nothing was cut.
        signal = None
    else:
        late = None
    wait_error = cut = None
    if req.wait is not None and not signal:
        # A signal caught (even during the run) ends it after one poll.
        with signals.catching(stop):
            wait_error, cut = _wait(glance, plan, req.wait,
                                    req.wait_progress, stop)
    # The risks as they stand after the run (and who accepted meanwhile).
    warnings += impl.risks(plan, ident)
    if late and not cut:
        warnings.append(base.W_LATE_SIGNAL.format(signal=late))
    res = transfer_plan.result(plan, impl, False, warnings, signal)
    res.wait_error = wait_error
    if wait_error and res.failed:
        res.errors.append(wait_error)
    return res


def _wait(glance, plan, timeout, progress, stop=None):
    """Wait for the pending members of the plan.

    Returns ``(error or None, whether a signal ended the wait)``;
    ``stop``: the run's ``signals.Stop``, which catches the signals.
    """
    expected = waiting.Waiting()
    pending = {}
    for p in plan.pairs:
        # A target that had rejected it, and stays so, ends the wait too:
        # a rejection ends a wait, as it ends share wait.
        if not p.error and p.status in ('pending', 'rejected'):
            expected.add(p.image['id'], p.target.project_id, p.target.label)
            pending[p.image['id'], p.target.project_id] = p
    cut = False
    try:
        seen, error = waiting.wait_for(glance, expected, timeout,
                                       progress, stop=stop), None
    except (errors.ImageShareError, signals.Interrupted) as e:
        # A rejection, the deadline, a signal: the rows say what was read.
        seen, error = getattr(e, 'seen', {}), str(e)
        cut = isinstance(e, signals.Interrupted)
    finally:
        if progress:
            progress(None)
    for image_id, members in seen.items():
        for pid, m in members.items():
            p = pending[image_id, pid]
            if m['status'] in WAITED and m['status'] != p.status:
                p.member, p.status = m, m['status']
                p.changes.append(WAITED[m['status']])
    return error, cut
