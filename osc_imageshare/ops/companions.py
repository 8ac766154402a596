"""Share mode: the images an image boots with travel with it.

``kernel_id`` and ``ramdisk_id`` name other images (see
``osc_imageshare.ops.kinds``); a project that can read the image but not them
cannot boot it.  ``expand`` (at read) adds the companions the caller owns
to the images of the run, before the images needing them: they get the
same steps, checks and rollback, a row per target, marked ``companion of
<image>``.  ``check`` (on the plan, before any write) fails the pairs
whose target could not read a companion the caller does not own; a
companion the target can already read needs nothing.  ``settle`` (after
the run) rolls back a pair whose owned companion failed for that target.
"""

import dataclasses
import logging

from osc_imageshare import errors
from osc_imageshare.ops import kinds
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

COMPANION = 'companion'     # the plan step that marks a companion's pair
READABLE = ('public', 'community')


@dataclasses.dataclass
class Links:
    """Which image needs which companions, and where each one stands."""

    needs: dict = dataclasses.field(default_factory=dict)   # id -> [(k, c)]
    added: dict = dataclasses.field(default_factory=dict)   # c -> image
    foreign: dict = dataclasses.field(default_factory=dict)  # c -> image
    refused: dict = dataclasses.field(default_factory=dict)  # id -> why

    def parents(self, companion_id, ids):
        """The images among ``ids`` that need ``companion_id``."""
        return [i for i in ids if any(
            c == companion_id for _, c in self.needs.get(i, ()))]


def expand(glance, ident, found, check):
    """``(images, Links)``: owned companions put first, the rest noted.

    ``check(image)`` says why the caller cannot share an image, or None.
    """
    links = Links()
    have = {i['id'] for i in found}
    for image in found:
        for key, cid in sorted(kinds.classify(image).companions.items()):
            links.needs.setdefault(image['id'], []).append((key, cid))
            if cid in have or cid in links.foreign or cid in links.added:
                continue
            comp = _get(glance, cid)
            mine = comp is not None and comp.get('owner') == ident.project_id
            why = check(comp) if mine else None
            if not mine or comp.get('visibility') in READABLE:
                links.foreign[cid] = comp
            elif why:
                links.refused[image['id']] = (
                    'Image %s boots only with its %s %s, which cannot be '
                    'shared: %s; nothing was changed' % (image['id'], key,
                                                         cid, why))
            else:
                links.added[cid] = comp
    return list(links.added.values()) + list(found), links


def _get(glance, image_id):
    try:
        return glance.get_image(image_id)
    except (errors.NotFound, errors.Forbidden):
        return None


def check(plan):
    """Fail the pairs a companion stops, mark the companions' pairs."""
    links = plan.companions
    if not links:
        return []
    ids = [pairs[0].image['id'] for pairs in plan.by_image()]
    kept = []
    for pairs in plan.by_image():
        image_id = pairs[0].image['id']
        if image_id in links.added:
            parents = links.parents(image_id, ids)
            if not parents:      # its images left the plan (refused)
                continue
            for p in pairs:
                mark = 'companion of %s' % ', '.join(parents)
                p.steps.insert(0, transfer_plan.Step(COMPANION, mark))
                p.changes.append(mark)
        for p in pairs:
            p.error = links.refused.get(image_id) or _unreadable(links, p)
        kept += _reorder(pairs, plan)
    plan.pairs = kept


def _unreadable(links, p):
    """Why the pair's target cannot read a companion, or None."""
    for key, cid in links.needs.get(p.image['id'], ()):
        comp = links.foreign.get(cid)
        if cid not in links.foreign or (comp or {}).get(
                'visibility') in READABLE:
            continue
        if p.target.glance is not None and _get(p.target.glance,
                                                cid) is not None:
            continue
        owner = (comp or {}).get('owner')
        return ('Image %s, project %s: it boots only with its %s %s, which '
                'that project %s and your project does not own%s, so it '
                'could not boot there; nothing was changed for that '
                'project. Ask the owner of %s to share it with %s' % (
                    p.image['id'], p.target.label, key, cid,
                    'cannot read' if p.target.glance is not None
                    else 'may not be able to read (checked only with its '
                         'credentials: --to-cloud, or accepting for it)',
                    ' (owner %s)' % owner if owner else
                    ' (nor may it read it)', cid,
                    p.target.label))
    return None


def _reorder(pairs, plan):
    """Failed pairs last, the image's own steps on the first that is not.

    An image all of whose pairs fail leaves the plan, named once.
    """
    good = [p for p in pairs if not p.error]
    bad = [p for p in pairs if p.error]
    if not bad:
        return pairs
    if not good:
        plan.failed_images[pairs[0].image['id']] = bad[0].error if len(
            set(p.error for p in bad)) == 1 else '; '.join(
                p.error for p in bad)
        return []
    from osc_imageshare.ops.modes import share   # share imports us

    own = [s for s in pairs[0].steps if s.kind in share.IMAGE_STEPS]
    good[0].steps = own + [s for s in good[0].steps
                           if s.kind not in share.IMAGE_STEPS]
    for p in bad:
        p.steps, p.changes = [], []
    return good + bad


def settle(glance, plan):
    """Roll back a pair whose owned companion failed for its target."""
    links = plan.companions
    if not links or not links.added:
        return
    failed = {(p.image['id'], p.target.project_id): p.error
              for p in plan.pairs if p.error}
    for p in plan.pairs:
        if p.error:
            continue
        if len(p.changes) == 1 and p.changes[0].startswith('companion of'):
            p.changes = ['none (%s)' % p.changes[0]]   # a re-run
        for key, cid in links.needs.get(p.image['id'], ()):
            if (cid, p.target.project_id) in failed:
                _roll_back(glance, p, key, cid)
                break


def _roll_back(glance, p, key, cid):
    p.error = ('Image %s, project %s: its %s %s could not be shared with '
               'that project (see above), so it could not boot there'
               % (p.image['id'], p.target.label, key, cid))
    if 'member added' not in p.changes:
        return
    try:
        glance.remove_member(p.image['id'], p.target.project_id)
        p.changes = [c for c in p.changes if c not in (
            'member added', 'accepted')] + ['rolled back']
        p.status = None
    except errors.GlanceError as e:
        p.error += ('; rolling back also failed (%s): remove it with '
                    "'openstack image share revoke %s %s'" % (
                        errors.glance_message(e), p.image['id'],
                        p.target.project_id))


# ------------------------------------------------------------ copy mode
def expand_copy(glance, found):
    """``(images, Links, failed)`` of a copy: companions put first.

    Every companion the caller can read is copied (``Links.added``); a
    public or community one is also in ``Links.foreign``: where the
    target is the same Glance, its reference stays.  An image whose
    companion the caller cannot read fails (``failed``: id -> why).
    """
    links = Links()
    have = {i['id'] for i in found}
    failed = {}
    for image in found:
        for key, cid in sorted(kinds.classify(image).companions.items()):
            links.needs.setdefault(image['id'], []).append((key, cid))
            if cid in have or cid in links.added:
                continue
            comp = _get(glance, cid)
            why = _copy_refusal(image, key, cid, comp)
            if why:
                failed.setdefault(image['id'], why)
                continue
            links.added[cid] = comp
            if comp.get('visibility') in READABLE:
                links.foreign[cid] = comp
    kept = [i for i in found if i['id'] not in failed]
    ids = [i['id'] for i in kept]
    # A companion of refused images only is not copied either.
    links.added = {c: i for c, i in links.added.items()
                   if links.parents(c, ids)}
    return list(links.added.values()) + kept, links, failed


def _copy_refusal(image, key, cid, comp):
    if comp is None:
        return ('Image %s boots only with its %s %s, which your project '
                'cannot read, so a copy could not boot; nothing was copied. '
                'Ask the owner of %s to share it with your project' % (
                    image['id'], key, cid, cid))
    if comp.get('status') != 'active':
        return ('Image %s boots only with its %s %s, which is %s, not '
                'active, so it cannot be copied; nothing was copied' % (
                    image['id'], key, cid, comp.get('status')))
    return None


def stays(links, cid, same_glance):
    """Whether the target can read companion ``cid`` where it is."""
    return same_glance and cid in links.foreign


def mark_copy(links, image_id, ids):
    """The ``companion of <image>`` mark of a companion's pair, or None."""
    if image_id not in links.added:
        return None
    parents = links.parents(image_id, ids)
    return 'companion of %s' % ', '.join(parents) if parents else None


def wire(links, p, done):
    """The source to copy for pair ``p``: references to the copies.

    ``done``: ``(companion id, target) -> its pair``.  Raises
    ImageShareError where a companion's copy failed for that target.
    """
    source = p.image
    for key, cid in links.needs.get(source['id'], ()):
        comp = done.get((cid, id(p.target)))
        if comp is None:
            continue            # readable where it is: the reference stays
        if comp.error or comp.result is None:
            raise errors.ImageShareError(
                'Image %s, project %s: its %s %s could not be copied there '
                '(see above), so a copy could not boot; nothing was copied '
                'for that project' % (source['id'], p.target.label, key, cid))
        source = dict(source, **{key: comp.result.image['id']})
    return source


def rewire(target_glance, result, wired):
    """Point a reused copy at its companions' copies, where it does not.

    A copy made before companions were copied names the source's own;
    ``wired`` is the source as copied (``wire``).  Updates ``result``.
    """
    wrong = {k: wired[k] for k in kinds.COMPANION_KEYS
             if wired.get(k) and result.image.get(k) != wired[k]}
    if not wrong:
        return
    changed = ', '.join("%s '%s'->'%s'" % (k, result.image.get(k), v)
                        for k, v in sorted(wrong.items()))
    try:
        result.image = target_glance.patch_image(
            result.image['id'],
            add={k: v for k, v in wrong.items() if k not in result.image},
            replace={k: v for k, v in wrong.items() if k in result.image})
    except errors.GlanceError as e:
        raise errors.ImageShareError(
            'A verified copy %s of image %s exists in project %s, but '
            'pointing its %s at the companions\' copies failed: %s' % (
                result.image['id'], wired['id'], result.project_id,
                ' and '.join(sorted(wrong)), errors.glance_message(e)))
    result.changes = 'verified copy exists, ' + changed
