"""Share mode: the images an image boots with travel with it.

``kernel_id`` and ``ramdisk_id`` name other images (see
``osc_imageshare.ops.kinds``); a project that can read the image but not them
cannot boot it.  ``expand`` (at read) adds the companions the caller owns
to the images of the run, before the images needing them: they get the
same steps, checks and rollback, a row per target, marked ``companion of
<image>``.  ``check`` (on the plan, before any write) fails the pairs
whose target could not read a companion the caller does not own; a
companion the target can already read needs nothing.  ``settle`` (after
the run) rolls back a pair whose owned companion failed for that target,
and a companion's pair whose images all failed for that target.
"""

import dataclasses
import logging

from osc_imageshare import errors
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import share_image
from osc_imageshare.ops import recipients
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

COMPANION = 'companion'     # the plan step that marks a companion's pair
READABLE = ('public', 'community')
E_GRANT_UNREADABLE = (
    "Image {id}, project {target}: it boots only with its {key}, which that "
    "project {cannot}, so it could not boot there; nothing was changed. "
    "{instead}")
GRANT_CANNOT = {
    True: 'cannot read',
    False: 'may not be able to read (only a token of that project could '
           "tell: you are neither a member of it nor the companion's owner)"}
GRANT_INSTEAD_OWN = (
    "'openstack image transfer {id} --to {target_arg}{pending}' shares the "
    "image with its companions")
GRANT_INSTEAD_FOREIGN = (
    "Ask the owner of {cids} to share it with that project first")


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
            comp = readable(glance, cid)
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


def readable(glance, image_id):
    """The image as the caller reads it, or None if it cannot."""
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
        if (p.target.glance is not None
                and readable(p.target.glance, cid) is not None):
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
    own = [s for s in pairs[0].steps if s.kind in share_image.IMAGE_STEPS]
    good[0].steps = own + [s for s in good[0].steps
                           if s.kind not in share_image.IMAGE_STEPS]
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
    _roll_back_companions(glance, plan, links)


def _roll_back_companions(glance, plan, links):
    """Undo a companion's pair none of whose images worked for its target.

    The run shared the companion for the images that need it only: where
    they all failed for a target, that target keeps nothing of the run.
    """
    ids = [pairs[0].image['id'] for pairs in plan.by_image()]
    worked = {(p.image['id'], p.target.project_id) for p in plan.pairs
              if not p.error}
    rolled = set()
    for p in plan.pairs:
        cid = p.image['id']
        if p.error or cid not in links.added:
            continue
        parents = links.parents(cid, ids)
        if not parents or any((i, p.target.project_id) in worked
                              for i in parents):
            continue
        why = ('Image %s, project %s: shared as a companion of %s, which '
               'failed for that project' % (cid, p.target.label,
                                            ', '.join(parents)))
        if 'member added' not in p.changes:
            continue
        try:
            glance.remove_member(cid, p.target.project_id)
        except (errors.GlanceError, errors.TransportError) as e:
            p.error = ("%s; rolling it back failed (%s): remove it with "
                       "'openstack image share revoke %s %s'" % (
                           why, errors.describe(e, side=None),
                           messages.arg(cid),
                           messages.arg(p.target.project_id)))
            continue
        p.changes = [c for c in p.changes if c not in (
            'member added', 'accepted')] + ['rolled back']
        p.status = None
        rolled.add(cid)
        LOG.info('%s: rolled back', why)
    for pairs in plan.by_image():
        if pairs[0].image['id'] in rolled and all(
                p.error or 'rolled back' in p.changes for p in pairs):
            _private_again(glance, pairs)


def _private_again(glance, pairs):
    """A companion the run set shared, and no target keeps: private."""
    shared = share_image.UNDONE['visibility']
    if shared not in pairs[0].changes:
        return
    try:
        glance.patch_image(pairs[0].image['id'],
                           replace={'visibility': 'private'})
    except (errors.GlanceError, errors.ImageShareError) as e:
        LOG.warning("Image %s is left shared, with no member this run "
                    "added (%s): set it private with 'openstack image set "
                    "--private %s'", pairs[0].image['id'],
                    errors.describe(e, None),
                    messages.arg(pairs[0].image['id']))
        return
    pairs[0].changes.remove(shared)


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
    except (errors.GlanceError, errors.TransportError) as e:
        p.error += ('; rolling back also failed (%s): remove it with '
                    "'openstack image share revoke %s %s'" % (
                        errors.glance_message(e), messages.arg(p.image['id']),
                        messages.arg(p.target.project_id)))


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
            comp = readable(glance, cid)
            why = copy_refusal(image, key, cid, comp)
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


def copy_refusal(image, key, cid, comp):
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
        if comp.error or comp.copy is None:
            raise errors.ImageShareError(
                'Image %s, project %s: its %s %s could not be copied there '
                '(see above), so a copy could not boot; nothing was copied '
                'for that project' % (source['id'], p.target.label, key, cid))
        source = dict(source, **{key: comp.copy.image['id']})
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
        result.image = point_at(target_glance, result.image, wrong)
    except (errors.GlanceError, errors.TransportError) as e:
        raise errors.ImageShareError(
            'A verified copy %s of image %s exists in project %s, but '
            'pointing its %s at the companions\' copies failed: %s' % (
                result.image['id'], wired['id'], result.project_id,
                ' and '.join(sorted(wrong)), errors.glance_message(e)))
    result.changes = 'verified copy exists, ' + changed


def point_at(target_glance, image, copies):
    """``image`` patched to name ``copies`` (companion key -> image ID).

    Raises the Glance client's errors; the caller says what failed.
    """
    return target_glance.patch_image(
        image['id'],
        add={k: v for k, v in copies.items() if k not in image},
        replace={k: v for k, v in copies.items() if k in image})


def unreadable_for(glance, ident, pairs):
    """Why each project given the image could not read its companions.

    For a command that gives one image to projects without sharing its
    companions (``image share set``, via ``gate.check_grant``): one
    sentence per pair, naming what works instead.
    """
    found = []      # (key, cid, comp, members)
    for key, cid in sorted(kinds.classify(pairs[0].image).companions.items()):
        comp = readable(glance, cid)
        if comp is not None and comp.get('visibility') in READABLE:
            continue
        mine = comp is not None and comp.get('owner') == ident.project_id
        found.append((key, cid, comp,
                      _member_ids(glance, cid) if mine else None))
    out = []
    for p in pairs:
        bad = [(key, cid, comp, members, _readable_by(p, cid, comp, members))
               for key, cid, comp, members in found]
        bad = [b for b in bad if not b[4]]
        if not bad:
            continue
        foreign = [(cid, comp) for _, cid, comp, members, _ in bad
                   if members is None]
        image_id = p.image['id']
        out.append(E_GRANT_UNREADABLE.format(
            id=image_id, target=p.target.label,
            key=' and '.join('%s %s' % (key, cid)
                             for key, cid, _, _, _ in bad),
            cannot=GRANT_CANNOT[all(b[4] is False for b in bad)],
            instead=GRANT_INSTEAD_FOREIGN.format(cids=' and '.join(
                cid + (' (owner %s)' % comp['owner'] if comp and
                       comp.get('owner') else '') for cid, comp in foreign))
            if foreign else GRANT_INSTEAD_OWN.format(
                id=messages.arg(image_id),
                target_arg=messages.arg(p.target.project_id),
                # Where this run leaves the member pending, so does it.
                pending=(' --no-accept' if p.target.accept is
                         recipients.Accept.NONE else ''))))
    return out


def _readable_by(pair, cid, comp, members):
    """Whether the pair's project can read companion ``cid``.

    True, False, or None (it may not: nothing here can tell).
    ``members``: the companion's members where the caller owns it (and
    so knows who can read it), else None.
    """
    t = pair.target
    if comp is not None and comp.get('owner') == t.project_id:
        return True
    if members is not None and t.project_id in members:
        return True
    if t.glance is not None:     # its own credentials: ask as it
        return readable(t.glance, cid) is not None
    return False if members is not None else None


def _member_ids(glance, image_id):
    try:
        return {m['member_id'] for m in glance.list_members(image_id)}
    except errors.GlanceError:
        return set()     # private: Glance lists no member
