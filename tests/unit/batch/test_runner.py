"""--parallel, retries, image selection and --to-domain, on fakes."""

import threading
import unittest
from unittest import mock

from osc_imageshare.api import identity
from osc_imageshare.batch import runner
from osc_imageshare import errors
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import selection
from osc_imageshare.ops import stranded
from tests.unit import fakes
from tests.unit.ops.modes.test_share import GAMMA
from tests.unit.ops.modes.test_share import Ident

ALPHA, BETA = fakes.ALPHA, fakes.BETA
IDS = ['%08d-0000-4000-8000-000000000000' % i for i in range(4)]
HIDDEN = '0000000h-0000-4000-8000-000000000000'


class Locked(fakes.FakeGlance):
    """FakeGlance for several threads: one call at a time."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.lock = threading.Lock()

    def _call(self, method, url, data):
        with self.lock:
            return super()._call(method, url, data)


class TestRun(unittest.TestCase):

    def test_results_in_order_while_running_together(self):
        barrier = threading.Barrier(3, timeout=5)

        def fn(i):
            barrier.wait()      # passes only if three run at once
            return i * 10

        self.assertEqual([0, 10, 20], runner.run(fn, range(3), 3))

    def test_one_worker_runs_inline(self):
        threads = runner.run(lambda i: threading.current_thread(),
                             range(2), 1)
        self.assertEqual([threading.current_thread()] * 2, threads)

    def test_an_exception_comes_after_all_are_done(self):
        done = []

        def fn(i):
            if i == 0:
                raise ValueError('first')
            done.append(i)

        self.assertRaises(ValueError, runner.run, fn, range(4), 2)
        self.assertEqual([1, 2, 3], sorted(done))

    def test_bounds(self):
        self.assertEqual(runner.DEFAULT, runner.check(None))
        self.assertEqual(10, runner.check(10))
        for bad in (0, 11):
            self.assertRaises(errors.ImageShareError, runner.check, bad)


class TestParallelShare(unittest.TestCase):

    @mock.patch('osc_imageshare.batch.liveness.stamp', return_value=fakes.WHEN)
    def test_four_images_two_projects_one_pair_fails_alone(self, _stamp):
        imgs = [fakes.image(id=i, name='img%d' % n, visibility='private')
                for n, i in enumerate(IDS)]

        def refuse_gamma_on_image_2(data):
            if data['member'] == GAMMA:
                return errors.Forbidden('Forbidden')
            return None
        g = Locked(imgs, fail={
            ('POST', '/v2/images/%s/members' % IDS[2]):
                refuse_gamma_on_image_2})
        res = pipeline.transfer(g, Ident(admin=True), IDS,
                                to=['beta', 'gamma'], parallel=3)
        # The failed pair has no row (its error says it).
        self.assertEqual([(i, p) for i in IDS for p in (BETA, GAMMA)
                          if (i, p) != (IDS[2], GAMMA)],
                         [(r[0], r[2]) for r in res.rows])
        self.assertEqual(['accepted'] * 7, [r[4] for r in res.rows])
        self.assertEqual((1, 8), (res.failed, res.total))
        # Every request was made once, whatever the order: per image, GET,
        # PATCH shared (labelled), GET members, PATCH the label away; per
        # pair POST and PUT accepted.
        expected = []
        label = '/' + stranded.LABEL
        for i in IDS:
            url = '/v2/images/%s' % i
            expected += [('GET', url), ('PATCH', url, [
                {'op': 'add', 'path': label,
                 'value': stranded.value([BETA, GAMMA])},
                {'op': 'replace', 'path': '/visibility',
                 'value': 'shared'}]), ('GET', url + '/members'),
                ('PATCH', url, [{'op': 'remove', 'path': label}])]
            for p in (BETA, GAMMA):
                expected.append(('POST', url + '/members', {'member': p}))
                if (i, p) != (IDS[2], GAMMA):
                    expected.append(('PUT', url + '/members/' + p,
                                     {'status': 'accepted'}))
        self.assertEqual(sorted(map(repr, expected)),
                         sorted(map(repr, g.calls)))
        self.assertEqual({BETA}, set(g.members[IDS[2]]))

    def test_an_image_whose_pairs_all_fail_is_private_again(self):
        imgs = [fakes.image(id=i, visibility='private') for i in IDS[:2]]
        g = Locked(imgs, fail={('POST', '/v2/images/%s/members' % IDS[1]):
                               errors.Forbidden('Forbidden')})
        res = pipeline.transfer(g, Ident(admin=True), IDS[:2],
                                to=['beta', 'gamma'], parallel=4)
        self.assertEqual((2, 4), (res.failed, res.total))
        self.assertEqual(['shared', 'private'],
                         [g.images[i]['visibility'] for i in IDS[:2]])


class TestSelect(unittest.TestCase):

    def test_own_images_with_every_tag_and_property(self):
        g = fakes.FakeGlance([
            fakes.image(id=IDS[0], name='b', tags=['ci', 'x'], team='web'),
            fakes.image(id=IDS[1], name='a', tags=['ci', 'x'], team='web'),
            fakes.image(id=IDS[2], name='c', tags=['ci'], team='web'),
            fakes.image(id=IDS[3], name='d', tags=['ci', 'x'], team='db'),
            fakes.image(id=HIDDEN, name='e', tags=['ci', 'x'], team='web',
                        os_hidden=True)])
        found = selection.select_images(g, Ident(), ['ci', 'x'],
                                        {'team': 'web'})
        self.assertEqual([IDS[1], IDS[0], HIDDEN], [i['id'] for i in found])
        self.assertEqual([
            ('GET', '/v2/images?owner=%s&tag=ci&team=web' % ALPHA),
            ('GET', '/v2/images?os_hidden=true&owner=%s&tag=ci&team=web'
             % ALPHA)], g.calls)
        self.assertEqual(
            "3 image(s) match --tag ci, --tag x, --property team=web: "
            "a (%s), b (%s), e (%s)" % (IDS[1], IDS[0], HIDDEN),
            selection.selected_note(found, ['ci', 'x'], {'team': 'web'}))

    def test_boolean_and_os_hidden_properties(self):
        g = fakes.FakeGlance([
            fakes.image(id=IDS[0], name='a', protected=True),
            fakes.image(id=HIDDEN, name='h', protected=True,
                        os_hidden=True)])
        found = selection.select_images(g, Ident(), [], {'protected': 'true'})
        self.assertEqual([IDS[0], HIDDEN], [i['id'] for i in found])
        g.calls.clear()
        found = selection.select_images(g, Ident(), [], {'os_hidden': 'true'})
        self.assertEqual([HIDDEN], [i['id'] for i in found])
        self.assertEqual([
            ('GET', '/v2/images?os_hidden=true&owner=%s' % ALPHA)], g.calls)

    def test_nothing_matches_and_bad_property(self):
        g = fakes.FakeGlance([])
        with self.assertRaises(errors.ImageShareError) as e:
            selection.select_images(g, Ident(), ['ci'], {})
        self.assertEqual('No image of project alpha matches --tag ci',
                         str(e.exception))
        self.assertRaises(errors.ImageShareError, selection.parse_properties,
                          ['team'])
        self.assertEqual({'a': 'b=c'}, selection.parse_properties(['a=b=c']))

    def test_dry_run_lists_the_selection(self):
        g = fakes.FakeGlance([fakes.image(tags=['ci'],
                                          visibility='private')])
        res = pipeline.transfer(g, Ident(admin=True), [], to=['beta'],
                                tags=['ci'], dry_run=True)
        self.assertEqual(['GET', 'GET', 'GET'], [c[0] for c in g.calls])
        self.assertIn('1 image(s) match --tag ci: web (%s)'
                      % fakes.IMAGE_ID, res.warnings)
        self.assertEqual(1, len(res.rows))


class TestToDomain(unittest.TestCase):

    def ident(self, answers):
        sess = mock.Mock()
        sess.get.side_effect = answers
        auth = mock.Mock(project_id=ALPHA, project_name='alpha',
                         project_domain_id='default',
                         project_domain_name='Default')
        return identity.Identity(sess, auth), sess

    def test_enabled_projects_of_the_domain(self):
        listed = mock.Mock()
        listed.json.return_value = {'projects': [
            {'id': BETA, 'name': 'beta', 'enabled': True},
            {'id': GAMMA, 'name': 'off', 'enabled': False}]}
        ident, sess = self.ident([listed])
        self.assertEqual([{'id': BETA, 'name': 'beta', 'enabled': True}],
                         ident.domain_projects('Default'))
        sess.get.assert_called_once_with(
            '/projects', params={'domain_id': 'default', 'enabled': 'true'},
            endpoint_filter={'service_type': 'identity', 'version': '3'})

    def test_without_the_right_one_line(self):
        from keystoneauth1 import exceptions as ks_exc
        ident, _ = self.ident(ks_exc.Forbidden())
        with self.assertRaises(errors.ImageShareError) as e:
            ident.domain_projects('Default')
        self.assertIn("Project alpha may not list the projects of domain "
                      "'Default'", str(e.exception))

    def test_domain_projects_are_targets_but_not_the_callers(self):
        from osc_imageshare.ops import recipients
        found = recipients.resolve(Ident(admin=True), [], projects=[
            {'id': ALPHA, 'name': 'alpha'}, {'id': BETA, 'name': 'beta'}])
        self.assertEqual([(BETA, 'beta', recipients.Accept.ADMIN)],
                         [(t.project_id, t.project_name, t.accept)
                          for t in found])
