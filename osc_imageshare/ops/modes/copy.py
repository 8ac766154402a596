"""Copy mode: each target gets its own verified copy (a new image).

The data path is ``osc_imageshare.imagecopy.engine.copy_image``; this
module makes it one step per (image, target) pair of the transfer plan.
"""

import contextlib
import functools
import logging

from osc_imageshare.batch import executor
from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import reuse
from osc_imageshare.ops import companions
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import base
from osc_imageshare.ops import recipients
from osc_imageshare.ops import roles
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

NAME = 'copy'
VERB = 'copy'
ALLOW_OWN = True
# The options it reads (``Plan.options``), named as in pipeline.Request.
OPTIONS = ('name', 'visibility', 'progress', 'copy_options', 'source_cloud',
           'allow_encrypted')
COPY = 'copy'
WIRE = 'wire'       # the copy's kernel_id/ramdisk_id name companions' copies


def needs_accept(options):
    # Each target must be able to create its copy.
    return recipients.AcceptPolicy.REQUIRED


def preflight(ident):
    pass


def _check(image):
    if image.get('status') == 'active':
        return None
    return ('Image %s is %s, not active: only an active image can be '
            'copied' % (image['id'], image.get('status')))


def read(glance, ident, image_refs, workers=1):
    sources, failed = runner.find_images(
        glance, image_refs, ident.project_name or ident.project_id, _check,
        workers)
    sources, links, refused = companions.expand_copy(glance, sources)
    failed.update(refused)
    return base.ReadResult(sources, failed, companions=links, source=glance)


def make_plan(read_result, targets, options):
    """One copy step per pair, naming the import method it will try.

    A pair whose target takes no usable method fails here, before any
    write; the other pairs go ahead.
    """
    glance, links = read_result.source, read_result.companions
    sources = read_result.images
    copy_options = options.get('copy_options', {})
    requested = copy_options.get('import_method', 'auto')
    ids = [s['id'] for s in sources]
    pairs = []
    planned = {}    # id(target Glance) -> what the copies before use there
    for source in sources:
        mark = companions.mark_copy(links, source['id'], ids)
        for t in targets:
            if mark and companions.stays(
                    links, source['id'],
                    _endpoint(t.glance or glance) == _endpoint(glance)):
                continue
            pair = transfer_plan.Pair(source, t)
            if mark:
                pair.steps.append(
                    transfer_plan.Step(companions.COMPANION, mark))
            pair.error = in_place(glance, t, source, options.get('name'))
            if pair.error:
                pairs.append(pair)
                continue
            step = _copy_step(glance, pair, None if mark else options,
                              requested, copy_options.get('keep_id'),
                              planned)
            if step:
                pair.steps.append(step)
                pair.steps += _wire_steps(links, pairs, source, t)
            pairs.append(pair)
    return transfer_plan.Plan(NAME, pairs, read_result.failed, targets,
                              options, copy_companions=links)


def _copy_step(glance, pair, options, requested, keep_id, planned):
    """The pair's copy step, from the plan's one look at the target.

    A verified copy there is kept (brought to ``--name``/``--visibility``;
    ``options`` None: a companion's, kept as it is); else the import
    methods are chosen once, and what would refuse the copy before any
    write (``--keep-id``, quotas: ``engine.check_copy``) refuses it here.
    None (and ``pair.error``) if it cannot be.
    """
    source, t = pair.image, pair.target
    target_glance = t.glance or glance
    try:
        pair.listed, found = reuse.existing_copy(
            target_glance, source, t.project_id)
        if found:
            return transfer_plan.Step(COPY, reuse.reuse_words(
                found, (options or {}).get('name'),
                (options or {}).get('visibility')))
        pair.methods, words = engine.plan_copy(
            glance, target_glance, source, requested)
        engine.check_copy(glance, target_glance, source, t.project_id,
                          pair.methods[0], keep_id,
                          planned.setdefault(id(target_glance), {}))
    except errors.ImageShareError as e:
        pair.error = str(e)
        return None
    text = 'copy %s bytes as %s by %s' % (source.get('size'), t.accept_as,
                                          words)
    if keep_id:
        text += '; with its ID %s' % source['id']
    debris = labels.leftovers(pair.listed or ())
    if debris:
        text += '; first delete %s left by an interrupted copy (%s)' % (
            'the image' if len(debris) == 1 else 'the %d images'
            % len(debris), ', '.join(i['id'] for i in debris))
    return transfer_plan.Step(COPY, text)


def _wire_steps(links, pairs, source, target):
    """The steps that point the copy at its companions' copies."""
    made = {p.image['id'] for p in pairs if p.target is target}
    return [transfer_plan.Step(WIRE, 'set %s to the copy of %s' % (key, cid))
            for key, cid in links.needs.get(source['id'], ())
            if cid in made]


def _endpoint(glance):
    get = getattr(glance, 'get_endpoint', None)
    url = get() if get else None
    return url.rstrip('/').removesuffix('/v2') if isinstance(url, str) \
        else None


def same_glance(one, other):
    """Whether two Glance clients reach the same Glance."""
    return _endpoint(one) == _endpoint(other)


def in_place(glance, target, source, name=None,
             remedy='give --name <another name>, or a --to-cloud entry of '
                    'another region'):
    """Why a copy into the source's own project and Glance is refused.

    It would be a second image of the same name beside the source, and
    the name would find neither; None where the name or Glance differ.
    """
    if (target.project_id != source.get('owner')
            or (name or source.get('name')) != source.get('name')
            or _endpoint(target.glance or glance) != _endpoint(glance)):
        return None
    return ("Image %s: project %s owns it in this same Glance; a copy there "
            "would be a second image named '%s' beside it, and that name "
            "would no longer find either: %s" % (
                source['id'], target.label,
                messages.visible(source.get('name')), remedy))


def beside_source(glance, p, name=None):
    """The warning for a copy into your project, named as its source.

    The source (shared with your project) and the copy are then two
    images of one name in one Glance; None where that is not so.
    """
    if (p.error or p.target.accept is not recipients.Accept.OWN
            or (name or p.image.get('name')) != p.image.get('name')
            or _endpoint(p.target.glance or glance) != _endpoint(glance)):
        return None
    return ("Image %s: its copy %s in your project %s has the same name "
            "'%s', in the same Glance: that name now finds both (use the "
            "IDs, or give --name)." % (p.image['id'], p.copy.image['id'],
                                       p.target.label,
                                       messages.visible(p.image.get('name'))))


def dry_run_warnings(plan, ident):
    """The credentials of a copy whose role Glance's defaults refuse."""
    return roles.warnings(
        (roles.of_ident(ident) if p.target.glance is None
         else roles.of_client(p.target.glance),
         'The copy into project %s' % p.target.label, roles.CREATE)
        for p in plan.pairs if not p.error and p.methods)   # it copies


# Nothing to warn of after the run; a signal raises signals.Interrupted
# (``interrupted``) rather than leave a summary.
risks = base.nothing_to_say
summary = base.no_summary


def execute(glance, ident, plan, stop=None):
    """Copy each image into each target, on the executor.

    A step per pair, ``parallel`` at a time; companions first, one at a
    time.  A signal meanwhile starts no other copy; each copy under way cleans
    up its half-made image, then ``signals.Interrupted`` lists them.
    """
    opts = plan.options
    origin = opts.get('source_cloud') or engine.region_of(glance)
    warnings = []
    workers = opts.get('parallel') or 1
    # One progress line at a time: with several copies at once, none.
    progress = opts.get('progress') if (
        workers == 1 or len(plan.pairs) == 1) else False

    links = plan.copy_companions or companions.Links()
    done = {}
    cut = {}        # id(pair) -> the Interrupted its copy ended with

    def one(p):
        mark = [s.text for s in p.steps if s.kind == companions.COMPANION]
        for step in p.steps:
            p.start(step)
            if step.kind != COPY:
                continue
            try:
                wired = companions.wire(links, p, done)
                p.copy = engine.copy_image(
                    glance, p.target.glance or glance, wired,
                    p.target.project_id, None if mark else opts.get('name'),
                    None if mark else opts.get('visibility'), origin,
                    progress,
                    as_admin=p.target.accept is recipients.Accept.ADMIN,
                    warn=warnings.append, methods=p.methods,
                    listed=p.listed,
                    **opts.get('copy_options', {}))
                companions.rewire(p.target.glance or glance, p.copy, wired)
            except errors.ImageShareError as e:
                p.error = str(e)
                raise
            except signals.Interrupted as e:    # cleaned up, as it says
                cut[id(p)] = e
                raise errors.ImageShareError(str(e))
            p.changes += [p.copy.changes] + mark

    def steps(pairs):
        return [executor.Step('Image %s into project %s: %s' % (
            p.image['id'], p.target.project_id,
            ', '.join(s.text for s in p.steps)), functools.partial(one, p),
            logged=False)    # each step of the plan is logged as it starts
            for p in pairs]

    first = [p for p in plan.pairs if p.image['id'] in links.added]
    rest = [p for p in plan.pairs if p not in first]
    done.update(((p.image['id'], id(p.target)), p) for p in first)
    own = stop is None
    stop = stop or signals.Stop()
    with signals.catching(stop) if own else contextlib.nullcontext():
        # Companions first: their copies' IDs go into their images' copies.
        # One at a time: two imports started at once into the local
        # RegionTwo Glance left one never finishing (seen once, under load).
        ran = executor.run(steps(first), 1, stop).steps
        ran += executor.run(steps(rest), workers, stop).steps
    if stop.name:
        outcomes = dict(zip(map(id, first + rest), ran))
        states = [_state(p, outcomes[id(p)], cut) for p in plan.pairs]
        if states == [base.State.INTERRUPTED]:
            # One copy, cut: its line says all (what became of its image).
            raise signals.Interrupted('\n'.join(
                warnings + [str(cut[id(plan.pairs[0])])]))
        if not base.finished(states):
            raise signals.Interrupted(interrupted(
                plan, stop.name, states, cut, warnings))
        # Every copy had ended when the signal came: nothing to stop
        # (the pipeline says so).
    return warnings + [w for w in (beside_source(glance, p, opts.get('name'))
                                   for p in plan.pairs) if w]


def _state(p, step, cut):
    """How the pair ended, by its step's outcome."""
    if step.outcome == executor.NOT_STARTED:
        return base.State.NOT_STARTED
    if id(p) in cut:
        return base.State.INTERRUPTED
    return base.State.FAILED if step.outcome == executor.FAILED \
        else base.State.DONE


def interrupted(plan, signal, states, cut, warnings=()):
    """What a signal stopped: a line per pair it touched, then a summary.

    Each interrupted copy says what became of its half-made image (its
    worker deleted it, or says how to); finished copies are kept (a
    later run finds them verified and copies only the rest).
    """
    lines = list(warnings)
    for p, state in zip(plan.pairs, states):
        p.state = state
        if state is base.State.FAILED:
            lines.append(p.error)
        elif state is base.State.DONE:
            lines.append('Image %s: copied into project %s as %s (%s), '
                         'kept' % (p.image['id'], p.target.project_id,
                                   p.copy.image['id'], p.copy.changes))
    # Then the copies cut, each saying what became of its image.
    lines += [str(cut[id(p)]) for p, state in zip(plan.pairs, states)
              if state is base.State.INTERRUPTED]
    lines.append(base.interrupted_summary(
        signal, plan.pairs, 'copied',
        'their partial copies cleaned up as said above', states=states))
    return '\n'.join(lines)


def row(plan, p, changes, dry_run):
    if p.error:
        return None
    if dry_run:
        own = p.steps and p.steps[0].kind == companions.COMPANION
        return (p.image['id'], None,
                (not own and plan.options.get('name')) or p.image.get('name'),
                p.target.project_id, p.image.get('size'), None, None, None,
                changes, p.methods[0] if p.methods else 'none')
    row = p.copy.row()
    return row[:8] + (changes,) + row[9:]    # a companion's is marked
