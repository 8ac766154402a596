"""Copy mode with companions: copied first, their copies' IDs wired in."""

import unittest
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.ops import pipeline
from tests.unit import fakes
from tests.unit.ops.modes import test_copy as test_transfer_copy
from tests.unit.ops.modes import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
KERNEL = 'k' * 32
RAMDISK = 'r' * 32
MARK = 'companion of %s' % IMAGE_ID


def made(glance, target_glance, source, project_id, *a, **kw):
    if source.get('name') == 'broken':
        raise errors.ImageShareError('no room for %s' % source['id'])
    return engine.CopyResult(source, dict(source, id='c-' + source['id']),
                             project_id, 1.0)


class TestCopyCompanions(unittest.TestCase):

    def setUp(self):
        patcher = mock.patch.object(engine, 'copy_image')
        self.copy_image = patcher.start()
        self.addCleanup(patcher.stop)
        self.copy_image.side_effect = made

    def copy(self, kernel=None, ramdisk=None, **kw):
        self.ami = fakes.image(size=10, kernel_id=KERNEL, ramdisk_id=RAMDISK)
        self.kernel = fakes.image(**dict(dict(
            id=KERNEL, name='aki', size=3, visibility='private'),
            **(kernel or {})))
        self.ramdisk = fakes.image(**dict(dict(
            id=RAMDISK, name='ari', size=4, visibility='public'),
            **(ramdisk or {})))
        self.glance = test_transfer_copy.Glance(
            [self.ami, self.kernel, self.ramdisk])
        return pipeline.transfer(
            self.glance, test_share.Ident(admin=True), [IMAGE_ID], 'copy',
            to=['beta'], name='n', progress=False, **kw)

    def call(self, source, name=None):
        return mock.call(self.glance, self.glance, source, BETA, name, None,
                         'RegionOne', False, as_admin=True, warn=mock.ANY,
                         methods=['upload', 'glance-direct'], listed=[])

    def test_private_copied_first_public_stays_in_the_same_glance(self):
        result = self.copy()
        self.assertEqual([
            self.call(self.kernel),
            self.call(dict(self.ami, kernel_id='c-' + KERNEL), 'n')],
            self.copy_image.call_args_list)
        self.assertEqual([(KERNEL, 'c-' + KERNEL, 'copied, ' + MARK),
                          (IMAGE_ID, 'c-' + IMAGE_ID, 'copied')],
                         [(r[0], r[1], r[8]) for r in result.rows])
        self.assertEqual([], result.errors)

    def test_dry_run_lists_the_companion_steps(self):
        result = self.copy(dry_run=True)
        self.assertEqual([], self.copy_image.call_args_list)
        self.assertEqual([
            (KERNEL, 'aki', 'plan: %s, copy 3 bytes as admin by upload '
             '(else glance-direct)' % MARK),
            (IMAGE_ID, 'n', 'plan: copy 10 bytes as admin by upload (else '
             'glance-direct), set kernel_id to the copy of %s' % KERNEL)],
            [(r[0], r[2], r[8]) for r in result.rows])

    def test_unreadable_companion_fails_the_image(self):
        result = self.copy(kernel={'id': 'other'})
        self.assertEqual([], self.copy_image.call_args_list)
        self.assertEqual([], result.rows)
        self.assertEqual([
            'Image %s boots only with its kernel_id %s, which your project '
            'cannot read, so a copy could not boot; nothing was copied. Ask '
            'the owner of %s to share it with your project'
            % (IMAGE_ID, KERNEL, KERNEL)], result.errors)

    def test_failed_companion_copy_fails_its_image(self):
        result = self.copy(kernel={'name': 'broken'})
        self.assertEqual([self.call(self.kernel)],
                         self.copy_image.call_args_list)
        self.assertEqual([], result.rows)
        self.assertEqual([
            'no room for %s' % KERNEL,
            'Image %s, project beta (%s): its kernel_id %s could not be '
            'copied there (see above), so a copy could not boot; nothing '
            'was copied for that project' % (IMAGE_ID, BETA, KERNEL)],
            result.errors)
        self.assertEqual('Failed to copy 2 of 2 image/project pairs',
                         result.summary)

    def test_reused_copy_naming_the_source_companion_is_rewired(self):
        def reused(glance, target_glance, source, project_id, *a, **kw):
            copy = dict(self.ami, id='old', owner=BETA)
            if source['id'] != IMAGE_ID:
                copy = dict(source, id='c-' + source['id'])
            return engine.CopyResult(source, copy, project_id, 0.0,
                                     'none (verified copy exists)')
        self.copy_image.side_effect = reused
        with mock.patch('osc_imageshare.api.glance.GlanceAPI.patch_image',
                        autospec=True) as patch:
            patch.side_effect = lambda g, i, add, replace: dict(
                self.ami, id=i, **replace)
            result = self.copy()
        self.assertEqual([mock.call(self.glance, 'old', add={},
                                    replace={'kernel_id': 'c-' + KERNEL})],
                         patch.call_args_list)
        self.assertEqual(
            "verified copy exists, kernel_id '%s'->'c-%s'" % (KERNEL, KERNEL),
            result.rows[1][8])
