"""A verified copy already in the target project, kept instead of a new one.

It is brought to the name and visibility asked for.

The copy plan looks once (``existing_copy``); ``engine.copy_image`` keeps
what it found (``bring_to``) instead of copying again.
"""

import logging

from osc_imageshare import errors
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import verify

LOG = logging.getLogger(__name__)


def existing_copy(target_glance, source, project_id):
    """``(listed, copy)``: the labelled copies there, a verified one.

    The plan's one listing (``copy`` is None where none is verified):
    ``copy_image(..., listed=listed)`` uses it, lists nothing again.
    """
    algo, expected = verify.source_hash(source)
    listed = labels.copies(target_glance, source, project_id)
    # A plain copy: a replica of the same source is not one.
    return listed, verify.find_copy(labels.of_kind(listed), source,
                                    project_id, '%s:%s' % (algo, expected))


def _wanted(copy, name, visibility):
    """``(fields, changes)``: what a verified copy must change."""
    wanted = {k: v for k, v in (('name', name), ('visibility', visibility))
              if v is not None and copy.get(k) != v}
    return wanted, ["%s '%s'->'%s'" % (k, copy.get(k), v)
                    for k, v in sorted(wanted.items())]


def reuse_words(copy, name, visibility):
    """The plan's words for a verified copy there (what ``bring_to`` does)."""
    changes = _wanted(copy, name, visibility)[1]
    return 'keep the verified copy %s%s' % (
        copy['id'], ' (set %s)' % ' and '.join(changes) if changes else '')


def bring_to(target_glance, copy, project_id, name, visibility):
    """``(copy, changes)``: a verified copy renamed, its visibility set.

    Only what was asked (``--name``, ``--visibility``) and differs.
    """
    wanted, changes = _wanted(copy, name, visibility)
    if not wanted:
        return copy, 'none (verified copy exists)'
    try:
        copy = target_glance.update_image(copy['id'], **wanted)
    except (errors.GlanceError, errors.ImageShareError) as e:
        raise errors.ImageShareError(
            'A verified copy %s of image %s exists in project %s, but '
            'changing its %s failed: %s' % (
                copy['id'], copy.get(labels.SOURCE_ID), project_id,
                ' and '.join(changes), errors.describe(e)))
    return copy, 'verified copy exists, ' + ', '.join(changes)
