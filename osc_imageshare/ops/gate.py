"""The kinds of image a transfer refuses (see ``osc_imageshare.ops.kinds``).

``apply`` runs on a share or copy plan before anything is written: an
image whose kind the target could not use is taken out of the plan with
one line saying why and what works instead (nothing of it is changed),
unless an ``allow_*`` option says to go ahead, with a warning.

- volume-backed snapshot: refused in share mode unless
  ``allow_volume_backed``; always in copy mode (a copy would be 0 bytes).
- encrypted: refused unless ``allow_encrypted``; a copy into the owner's
  own project (another region) goes ahead with a warning.
"""

import dataclasses
import logging

from osc_imageshare import errors
from osc_imageshare.ops import companions
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops import share_status

LOG = logging.getLogger(__name__)

MODES = ('share', 'copy')


def check_grant(glance, ident, plan, adds):
    """Refuse what ``image transfer`` refuses, for a command that grants.

    ``plan``: a share plan of one image; ``adds``: the step kind that
    gives a project access (the pairs with one are checked).  Returns the
    warnings (kinds let through by an ``allow_*`` option); raises
    ImageShareError with the refusal, before any write, where the image's
    kind or companions would leave a project it is given to unable to use
    it.
    """
    granting = [p for p in plan.pairs
                if not p.error and any(s.kind == adds for s in p.steps)]
    if not granting:
        return []
    probe = dataclasses.replace(plan, pairs=list(granting),
                                failed_images={})
    warnings = apply(probe, ident)
    if probe.failed_images:
        raise errors.ImageShareError(
            '; '.join(probe.failed_images.values()))
    refusals = companions.unreadable_for(glance, ident, granting)
    if refusals:
        raise errors.ImageShareError('; '.join(refusals))
    return warnings


def apply(plan, ident):
    """Refuse what ``plan`` may not move; returns the warnings."""
    if plan.mode not in MODES:
        return []
    warnings = []
    kept = []
    for pairs in plan.by_image():
        image = pairs[0].image
        kind = kinds.classify(image)
        why = _refusal(plan, image, kind, ident, warnings)
        if why:
            plan.failed_images[image['id']] = why
            continue
        kept += pairs
        if kinds.ENCRYPTED in kind:
            for p in pairs:
                _encrypted_pair(plan, p, kind, ident, warnings)
    plan.pairs = kept
    return warnings


def _owner_label(image, ident):
    owner = image.get('owner')
    name = ident.project_name_of(owner) if owner else None
    return '%s (%s)' % (name, owner) if name else owner


def _refusal(plan, image, kind, ident, warnings):
    """Why the whole image is refused, or None (warnings for allowed)."""
    opts = plan.options
    fmt = dict(id=image['id'], owner_label=_owner_label(image, ident),
               **share_status.volume_facts(kind))
    if kinds.VOLUME_BACKED in kind:
        if plan.mode == 'share' and opts.get('allow_volume_backed'):
            warnings.append(messages.W_ALLOWED_VOLUME_BACKED.format(**fmt))
        else:
            return messages.E_VOLUME_BACKED.format(
                why=kind.reasons[kinds.VOLUME_BACKED],
                outcome=messages.VOLUME_OUTCOME[plan.mode],
                allow=(messages.ALLOW_VOLUME_BACKED
                       if plan.mode == 'share' else ''), **fmt)
    if kinds.ENCRYPTED in kind and not opts.get('allow_encrypted'):
        others = [p for p in plan.pairs if p.image is image
                  and p.target.project_id != image.get('owner')]
        if others:
            return messages.E_ENCRYPTED.format(key=kind.key_id, **fmt)
    return None


def _encrypted_pair(plan, pair, kind, ident, warnings):
    """The warning an encrypted image's pair goes ahead with."""
    image = pair.image
    fmt = dict(id=image['id'], key=kind.key_id, target=pair.target.label,
               owner_label=_owner_label(image, ident))
    if pair.target.project_id == image.get('owner'):
        warnings.append(messages.W_ENCRYPTED_REGION.format(**fmt))
    else:
        warnings.append(messages.W_ALLOWED_ENCRYPTED.format(**fmt))
