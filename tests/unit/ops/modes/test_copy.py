"""Copy mode in the pipeline: one copy_image call per (image, target)."""

import unittest
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import reuse
from osc_imageshare.ops import pipeline
from tests.unit import fakes
from tests.unit.ops.modes import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
GAMMA = test_share.GAMMA


class Glance(fakes.FakeGlance):

    def get_endpoint(self):
        return 'http://glance.one'


class TestCopyMode(unittest.TestCase):

    def setUp(self):
        self.glance = Glance([fakes.image(size=10)])
        patcher = mock.patch.object(engine, 'copy_image')
        self.copy_image = patcher.start()
        self.addCleanup(patcher.stop)

    def copy(self, **kw):
        kw.setdefault('to', ['beta', GAMMA])
        return pipeline.transfer(
            self.glance, test_share.Ident(admin=True), [IMAGE_ID, 'gone'],
            'copy', name='n', visibility='shared', progress=False, **kw)

    def test_one_call_per_pair_and_one_result(self):
        def made(glance, target_glance, source, project_id, *a, **kw):
            if project_id == GAMMA:
                raise errors.ImageShareError('no room')
            return engine.CopyResult(source, dict(source, id='copy'),
                                     project_id, 2.0)
        self.copy_image.side_effect = made
        result = self.copy(copy_options={'extra': 1})
        self.assertEqual([
            mock.call(self.glance, self.glance, self.glance.images[IMAGE_ID],
                      pid, 'n', 'shared', 'RegionOne', False,
                      as_admin=True, warn=mock.ANY, extra=1,
                      methods=['upload', 'glance-direct'], listed=[])
            for pid in (BETA, GAMMA)],
            self.copy_image.call_args_list)
        self.assertEqual('copy', result.kind)
        self.assertEqual([(IMAGE_ID, 'copy', 'web', BETA, 10, 'None:None',
                           2.0, 0.0, 'copied', 'upload')], result.rows)
        self.assertEqual(["No image named or with ID 'gone' is visible to "
                          "project alpha: it does not exist, or it is "
                          "neither owned by, shared with, nor public to "
                          "that project", 'no room'], result.errors)
        self.assertEqual('Failed to copy 3 of 4 image/project pairs',
                         result.summary)

    def test_dry_run_steps_and_methods_are_what_the_run_takes(self):
        self.copy_image.side_effect = (
            lambda glance, tg, source, pid, *a, **kw: engine.CopyResult(
                source, dict(source, id='copy-' + pid), pid, 1.0))
        dry = self.copy(dry_run=True)
        run = self.copy()
        self.assertEqual([[]] * 2, [p.done for p in dry.plan.pairs])
        planned = [([s.text for s in p.steps], p.methods)
                   for p in dry.plan.pairs]
        self.assertEqual(planned, [([s.text for s in p.done], p.methods)
                                   for p in run.plan.pairs])
        self.assertEqual([p.methods for p in dry.plan.pairs], [
            c.kwargs['methods'] for c in self.copy_image.call_args_list])
        self.assertEqual(2, len(planned))

    def test_a_verified_copy_there_is_planned_kept_and_listed_once(self):
        copy = dict(self.glance.images[IMAGE_ID], id='old-copy',
                    owner=BETA, name='old')
        listing = []

        def copies(target_glance, source, project_id):
            listing.append(project_id)
            return [copy], (copy if project_id == BETA else None)
        with mock.patch.object(reuse, 'existing_copy', side_effect=copies):
            dry = self.copy(dry_run=True, to=['beta'])
            self.assertEqual(
                [["keep the verified copy old-copy (set name 'old'->'n')"]],
                [[s.text for s in p.steps] for p in dry.plan.pairs])
            self.assertEqual('none', dry.rows[0][-1])      # Method
            self.copy_image.return_value = engine.CopyResult(
                self.glance.images[IMAGE_ID], dict(copy, name='n'), BETA,
                0.0, "verified copy exists, name 'old'->'n'", 'none')
            self.copy(to=['beta'])
        self.assertEqual([BETA, BETA], listing)     # once per plan
        self.assertEqual([[copy]], [c.kwargs['listed'] for c in
                                    self.copy_image.call_args_list])
        self.assertIsNone(self.copy_image.call_args.kwargs['methods'])

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

    def test_one_image_named_twice_is_copied_once_per_target(self):
        self.copy_image.side_effect = lambda g, t, source, pid, *a, **kw: (
            engine.CopyResult(source, dict(source, id='copy'), pid, 2.0))
        result = pipeline.transfer(
            self.glance, test_share.Ident(admin=True),
            [IMAGE_ID, 'web', IMAGE_ID], 'copy', to=['beta'],
            progress=False)
        self.assertEqual(1, self.copy_image.call_count)
        self.assertEqual([IMAGE_ID], [r[0] for r in result.rows])
        self.assertEqual((0, 1, []), (result.failed, result.total,
                                      result.errors))

    def test_a_same_named_copy_beside_its_source_is_refused(self):
        result = pipeline.transfer(
            self.glance, test_share.Ident(admin=True), [IMAGE_ID], 'copy',
            to=['alpha'], progress=False)
        self.copy_image.assert_not_called()
        self.assertEqual(1, result.failed)
        self.assertTrue(result.errors[0].startswith(
            "Image %s: project alpha (%s) owns it in this same Glance; a "
            "copy there would be a second image named 'web' beside it"
            % (IMAGE_ID, ALPHA)), result.errors)
        self.copy_image.side_effect = lambda g, t, source, pid, *a, **kw: (
            engine.CopyResult(source, dict(source, id='copy'), pid, 2.0))
        renamed = pipeline.transfer(
            self.glance, test_share.Ident(admin=True), [IMAGE_ID], 'copy',
            to=['alpha'], name='web-2', progress=False)
        self.assertEqual((0, 1), (renamed.failed, renamed.total))

    def test_a_consumer_copy_named_as_its_source_is_warned_about(self):
        self.glance.images[IMAGE_ID]['owner'] = BETA
        self.copy_image.side_effect = lambda g, t, source, pid, *a, **kw: (
            engine.CopyResult(source, dict(source, id='copy'), pid, 2.0))
        for name, warned in ((None, True), ('mine', False)):
            result = pipeline.transfer(
                self.glance, test_share.Ident(admin=True), [IMAGE_ID],
                'copy', to=['alpha'], name=name, progress=False)
            self.assertEqual(0, result.failed)
            self.assertEqual(warned, any(
                w.startswith("Image %s: its copy copy in your project alpha "
                             "(%s) has the same name 'web'" % (
                                 IMAGE_ID, ALPHA))
                for w in result.warnings), result.warnings)


class TestCopyRefusedWhilePlanning(unittest.TestCase):
    """What refuses a copy before any write refuses its dry run too."""

    def setUp(self):
        patcher = mock.patch.object(engine, 'copy_image')
        self.copy_image = patcher.start()
        self.addCleanup(patcher.stop)
        self.copy_image.side_effect = lambda g, t, source, pid, *a, **kw: (
            engine.CopyResult(source, dict(source, id='copy-' + source['id']),
                              pid, 1.0))

    def transfer(self, glance, ids, dry_run, **kw):
        return pipeline.transfer(
            glance, test_share.Ident(admin=True), ids, 'copy', to=['beta'],
            progress=False, dry_run=dry_run, **kw)

    def test_keep_id_into_the_source_glance_is_refused_by_the_dry_run(self):
        glance = Glance([fakes.image(size=10)])
        said = []
        for dry_run in (True, False):
            result = self.transfer(glance, [IMAGE_ID], dry_run,
                                   copy_options={'keep_id': True})
            said.append((result.failed, result.errors, result.rows))
        self.assertEqual(said[0], said[1])
        self.assertEqual(1, said[0][0])
        self.assertTrue(said[0][1][0].startswith(
            "--keep-id cannot copy image %s into project %s: the target is "
            "the source's own Glance (region RegionOne)" % (IMAGE_ID, BETA)),
            said[0][1])
        self.copy_image.assert_not_called()
        self.assertEqual([], [c for c in glance.calls if c[0] != 'GET'])

    def test_keep_id_onto_a_taken_id_is_refused_by_the_dry_run(self):
        source = Glance([fakes.image(size=10)])
        target = Glance([dict(fakes.image(size=10), owner=GAMMA,
                              name='other')], region_name='RegionTwo')
        with mock.patch.object(source, 'identity_url',
                               return_value='http://k1'), \
                mock.patch.object(target, 'identity_url',
                                  return_value='http://k2'):
            result = pipeline.transfer(
                source, test_share.Ident(mine=[ALPHA, BETA]), [IMAGE_ID],
                'copy', to=['beta'],
                progress=False, dry_run=True, glance_for=lambda sess: target,
                copy_options={'keep_id': True})
        self.assertEqual(1, result.failed, result.rows)
        self.assertIn('already has an image with that ID', result.errors[0])

    def test_quotas_count_the_copies_planned_before(self):
        # 3 MiB left: the first 2 MiB copy fits, the second does not.
        ids = ['%d' % n * 8 + '-1111-4111-8111-111111111111' for n in (1, 2)]
        images = [dict(fakes.image(size=2 << 20), id=i, name='n' + i)
                  for i in ids]
        quota = {'image_size_total': {'limit': 10, 'usage': 7}}
        said = []
        for dry_run in (True, False):
            glance = Glance(images, quota=quota)
            result = self.transfer(glance, ids, dry_run)
            said.append((result.failed, result.errors,
                         [r[0] for r in result.rows]))
        self.assertEqual(said[0], said[1])
        self.assertEqual((1, ids[:1]), (said[0][0], said[0][2]))
        self.assertEqual([
            'Image %s cannot be copied into project %s: its quota '
            'image_size_total on the target is 10 MiB, 9 MiB used (2 MiB of '
            'it by the copies this run makes before it), and the copy needs '
            '2 MiB more; nothing was copied' % (ids[1], BETA)], said[0][1])
        self.assertEqual(1, self.copy_image.call_count)

    def test_the_plan_names_the_leftovers_the_copy_deletes(self):
        glance = Glance([fakes.image(size=10)])
        left = {'id': 'half', 'status': 'queued', 'owner': BETA}
        with mock.patch.object(reuse, 'existing_copy',
                               return_value=([left], None)):
            result = self.transfer(glance, [IMAGE_ID], True)
        self.assertEqual(
            'plan: copy 10 bytes as admin by upload (else glance-direct); '
            'first delete the image left by an interrupted copy (half)',
            result.rows[0][8])
