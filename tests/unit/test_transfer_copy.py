"""Copy mode in the pipeline: one copy_image call per (image, target)."""

import unittest
from unittest import mock

from osc_imageshare import copy as copy_data
from osc_imageshare import errors
from osc_imageshare import transfer
from tests.unit import fakes
from tests.unit import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
GAMMA = test_share.GAMMA


class Glance(fakes.FakeGlance):

    def get_endpoint(self):
        return 'http://glance.one'


class TestCopyMode(unittest.TestCase):

    def setUp(self):
        self.glance = Glance([fakes.image(size=10)])
        patcher = mock.patch.object(copy_data, 'copy_image')
        self.copy_image = patcher.start()
        self.addCleanup(patcher.stop)

    def copy(self, **kw):
        kw.setdefault('to', ['beta', GAMMA])
        return transfer.transfer(
            self.glance, test_share.Ident(admin=True), [IMAGE_ID, 'gone'],
            'copy', name='n', visibility='shared', progress=False, **kw)

    def test_one_call_per_pair_and_one_result(self):
        def made(glance, target_glance, source, project_id, *a, **kw):
            if project_id == GAMMA:
                raise errors.ImageShareError('no room')
            return copy_data.CopyResult(source, dict(source, id='copy'),
                                        project_id, 2.0)
        self.copy_image.side_effect = made
        result = self.copy(copy_options={'extra': 1})
        self.assertEqual([
            mock.call(self.glance, self.glance, self.glance.images[IMAGE_ID],
                      pid, 'n', 'shared', 'RegionOne', False,
                      as_admin=True, warn=mock.ANY, extra=1)
            for pid in (BETA, GAMMA)],
            self.copy_image.call_args_list)
        self.assertEqual(copy_data.COLUMNS, result.columns)
        self.assertEqual([(IMAGE_ID, 'copy', 'web', BETA, 10, 'None:None',
                           2.0, 0.0, 'copied', 'upload')], result.rows)
        self.assertEqual(["No image named or with ID 'gone' is visible to "
                          "project alpha: it does not exist, or it is "
                          "neither owned by, shared with, nor public to "
                          "that project", 'no room'], result.errors)
        self.assertEqual('Failed to copy 3 of 4 image/project pairs',
                         result.summary)

    def test_dry_run_prints_the_plan_and_copies_nothing(self):
        result = self.copy(dry_run=True)
        self.assertEqual([], self.copy_image.call_args_list)
        self.assertEqual([
            (IMAGE_ID, None, 'n', BETA, 10, None, None, None,
             'plan: copy 10 bytes as admin by upload (else glance-direct)',
             'upload'),
            (IMAGE_ID, None, 'n', GAMMA, 10, None, None, None,
             'plan: copy 10 bytes as admin by upload (else glance-direct)',
             'upload')], result.rows)
