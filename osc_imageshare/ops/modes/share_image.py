"""A share run's image steps: what each sends, and their one undo.

The image's own steps of a share plan (``share.make_plan`` puts them on
its first pair), run by ``share_run`` as ``executor.Step`` s:

* set a private image shared, with this run's ``stranded.LABEL`` in the
  same PATCH (a run that dies before the image is finished leaves a
  label that a later run reads);
* the earlier members: those the private image hid, read the moment it
  is shared; refused, revoked or kept, then the label says they were
  checked;
* finish what a dead run left (the label taken over);
* protect it.

Their undo, whichever step it is run for, restores the image in one
PATCH, once: the fields they changed, and the label.  The label goes
too once the image is finished (``drop_label``).
"""

import dataclasses
import logging
import threading

from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops import stranded

LOG = logging.getLogger(__name__)

SHARE = 'share'             # visibility private -> shared
EARLIER = 'earlier'         # the members a private image hid
PROTECT = 'protect'
RESUME = 'resume'           # take over an image a dead run left shared
IMAGE_STEPS = (SHARE, EARLIER, RESUME, PROTECT)
# The image's changes that a failure of all its pairs undoes.
UNDONE = {'visibility': 'visibility private->shared', 'protected': 'protected'}
EARLIER_REMOVED = 'earlier members removed: '
DROP_LABEL = 'drop the run label %s' % stranded.LABEL


class Failed(errors.ImageShareError):
    """A step refused, in the words the run reports."""


@dataclasses.dataclass(eq=False)
class Image:
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


def run_step(glance, ident, plan, img, step):
    """One of the image's own steps; refused: ``Failed``, in words."""
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
    except Failed:
        raise
    except errors.GlanceError as e:
        raise Failed(errors.explain(e, image['id'],
                                    action='update the image',
                                    client=glance))
    except errors.ImageShareError as e:
        raise Failed('Image %s: could not update the image: %s'
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
        raise Failed('Image %s: could not update the image: %s'
                     % (image['id'], e))
    img.labelled = True
    img.undo['visibility'] = 'private'
    img.pairs[0].changes.append(UNDONE['visibility'])


def restore(glance, img):
    """The undo of the image's steps: one PATCH, tried once."""
    with img.lock:
        if img.restored is None:
            img.restored = _undo_image(glance, img.image, img.undo,
                                       img.labelled)
            img.labelled = img.labelled and not img.restored
    if not img.restored:
        raise errors.ImageShareError(left(img))


def drop_label(glance, img):
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


def left(img):
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
        raise Failed(messages.E_EARLIER.format(id=image_id, members=names))
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
