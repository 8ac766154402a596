"""Imports the target Glance runs: glance-download, and the wait."""

import time

from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.imagecopy import methods
from osc_imageshare.imagecopy import progress

# The slowest import waited for: 5 MiB/s, after 300 s of grace.
SLOWEST = 5 * 1024 * 1024


def pull(glance, target_glance, source, target, body, meter=None):
    """glance-download: the target Glance pulls the source itself."""
    try:
        target_glance.import_image(
            target['id'], 'glance-download',
            glance_image_id=source['id'],
            glance_region=methods.region(glance),
            glance_service_interface=getattr(glance,
                                             'interface', None)
            or 'public')
    except errors.GlanceError as e:
        raise methods.Unavailable(errors.describe(e))
    try:
        copy = wait_import(target_glance, target, source, meter)
    except ImportFailed as e:
        raise methods.Unavailable(str(e))
    # glance-download carries only an allow-list of properties.  The
    # formats were set at create; image_conversion changes disk_format,
    # and an active image's formats cannot be replaced.
    missing = {k: v for k, v in body.items()
               if k not in ('tags', 'owner') and k not in copy}
    differ = {k: v for k, v in body.items()
              if k not in ('tags', 'owner') and k in copy
              and copy[k] != v and k not in ('visibility', 'disk_format',
                                             'container_format')}
    if missing or differ:
        copy = target_glance.patch_image(copy['id'], add=missing,
                                         replace=differ)
    return copy


class ImportFailed(errors.ImageShareError):
    """The target Glance did not finish the import."""


def wait_import(target_glance, target, source, meter=None):
    """Wait for an import to end; the image, active.

    ``meter``: each poll tells it what the target Glance reports.
    """
    size = source.get('size') or 0
    deadline = time.monotonic() + 300 + size / SLOWEST
    pause = 0.2
    if meter:
        meter.phase('importing')
    while True:
        img = target_glance.get_image(target['id'])
        if meter:
            meter.status(progress.import_state(
                img, source, target_glance.import_task_message(img)))
        failed = img.get('os_glance_failed_import')
        # The import's last step saves the image once more and drops
        # os_glance_import_task: a property set before that is lost.
        if img.get('status') == 'active' and not img.get(
                'os_glance_import_task'):
            return img
        if img.get('status') == 'killed' or failed:
            raise ImportFailed(
                'the target Glance failed to import the data (status %s, '
                'os_glance_failed_import %r; see its log)'
                % (img.get('status'), failed or ''))
        if time.monotonic() > deadline:
            raise ImportFailed('the import did not finish in time (status '
                               '%s)' % img.get('status'))
        signals.sleep(pause)
        pause = min(pause * 1.5, 0.5)
