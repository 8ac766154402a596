"""``image share set``: make an image's members exactly a list.

Built on the share pipeline: the listed projects are its targets (added
and, where the caller can, accepted, exactly as ``image transfer`` does,
with its rollback), and the members not listed are revoked with
``prune``.  The result is the diff, one row per project: added,
accepted, revoked, unchanged, or kept (not listed, without ``prune``).
A second run finds nothing to do and writes nothing.
"""

import logging

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import glance as images
from osc_imageshare import messages
from osc_imageshare.transfer import parallel as parallel_mod
from osc_imageshare.transfer import plan as plan_mod
from osc_imageshare.transfer import retry
from osc_imageshare.transfer import share
from osc_imageshare.transfer import targets as targets_mod

LOG = logging.getLogger(__name__)

COLUMNS = ('Image ID', 'Project ID', 'Project Name', 'Before', 'After',
           'Diff')
VERB = 'set'
ALLOW_OWN = False
REVOKE = 'revoke'
KEPT = 'kept (not listed; --prune revokes)'
# The diff's words for the plan's steps (the others print their text)
# and for what the run changed.
PLANNED = {share.ADD: 'added', share.ACCEPT: 'accepted', REVOKE: 'revoked'}
DONE = {'member added': 'added'}
HIDDEN_THEN = {True: 'revokes them (--prune)',
               False: 'keeps them, naming them (no --prune)'}


def read_member_file(stream):
    """Project names or IDs, one per line; blank lines and '#' skipped."""
    out = []
    for line in stream:
        line = line.split('#', 1)[0].strip()
        if line:
            out.append(line)
    return out


def set_members(glance, ident, image_ref, members, project_domain=None,
                prune=False, accept=True, dry_run=False, glance_for=None,
                parallel=1):
    """Make ``members`` the image's members; returns a ``plan.Result``."""
    workers = parallel_mod.check(parallel)
    glance = retry.wrap(glance)
    found, failed, listed, _ = share.read(glance, ident, [image_ref],
                                          companions_too=False)
    if failed:
        raise errors.ImageShareError(failed[image_ref])
    image = found[0]
    targets = []
    if members:
        targets = targets_mod.resolve(
            ident, members, project_domain,
            accept=targets_mod.WHEN_POSSIBLE if accept else False,
            glance_for=glance_for)
        for t in targets:
            t.glance = retry.wrap(t.glance)
    options = dict(accept=accept, parallel=workers,
                   # A private image hides its earlier members: sharing it
                   # brings them back; they are extras like any other.
                   earlier_members='revoke' if prune else 'keep')
    plan = share.make_plan((found, failed, listed, None), targets, options)
    for p in plan.pairs:
        if p.target.accept is targets_mod.Accept.NONE:
            # No way to accept for it: it stays pending, for it to accept.
            p.steps = [s for s in p.steps if s.kind != share.ACCEPT]
    wanted = {t.project_id for t in targets}
    extras = [m for pid, m in listed.get(image['id'], {}).items()
              if pid not in wanted]
    for m in extras:
        t = targets_mod.Target(m['member_id'],
                               ident.project_name_of(m['member_id']))
        steps = [plan_mod.Step(REVOKE, 'revoke member')] if prune else []
        plan.pairs.append(plan_mod.Pair(image, t, dict(m), steps))
    before = {p.target.project_id: (p.member or {}).get('status')
              for p in plan.pairs}
    warnings = targets_mod.unverified_warnings(targets)
    share_pairs = [p for p in plan.pairs if p.target.project_id in wanted]
    revoking = [p for p in plan.pairs if p.steps and p.steps[0].kind ==
                REVOKE]
    if dry_run:
        if image.get('visibility') == 'private':
            warnings.append(messages.W_HIDDEN.format(
                id=image['id'], then=HIDDEN_THEN[prune]))
    else:
        if share_pairs:
            sub = plan_mod.Plan('share', share_pairs, {}, targets,
                                plan.options)
            warnings += share.execute(glance, ident, sub)
        parallel_mod.run(lambda p: _revoke(glance, p), revoking, workers)
    rows = [_row(p, before[p.target.project_id], wanted, dry_run)
            for p in plan.pairs]
    errs = [p.error for p in plan.pairs if p.error]
    return plan_mod.Result(COLUMNS, rows, warnings, errs, len(errs),
                           len(plan.pairs), VERB, plan)


def _revoke(glance, p):
    p.start(p.steps[0])
    try:
        images.remove_member(glance, p.image['id'], p.target.project_id)
    except glance_exc.HTTPNotFound:
        pass    # gone meanwhile: as good as revoked
    except glance_exc.HTTPException as e:
        p.error = errors.explain(e, p.image['id'], p.target.label,
                                 'remove member %s' % p.target.project_id)
        p.status = p.member['status']
        return
    p.status = None
    p.changes.append('revoked')


def _row(p, before, wanted, dry_run):
    extra = p.target.project_id not in wanted
    if dry_run:
        kinds = [s.kind for s in p.steps]
        after = (None if REVOKE in kinds else 'accepted'
                 if share.ACCEPT in kinds else 'pending'
                 if share.ADD in kinds else before)
        words = [PLANNED.get(s.kind, s.text) for s in p.steps]
        diff = 'plan: ' + (', '.join(words)
                           or (KEPT if extra else 'unchanged'))
    elif p.error:
        after, diff = p.status, 'failed'
    else:
        after = p.status if not extra or p.changes else before
        diff = ', '.join(DONE.get(c, c) for c in p.changes) or (
            KEPT if extra else 'unchanged')
    return (p.image['id'], p.target.project_id, p.target.project_name,
            before, after, diff)
