"""--parallel, retries, image selection and --to-domain, on fakes."""

import http.server
import json
import threading
import unittest
from unittest import mock

from glanceclient import exc as glance_exc

from osc_imageshare.api import identity
from osc_imageshare.api import retry
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
                return glance_exc.HTTPForbidden('Forbidden')
            return None
        g = Locked(imgs, fail={
            ('POST', '/v2/images/%s/members' % IDS[2]):
                refuse_gamma_on_image_2})
        res = pipeline.transfer(g, Ident(admin=True), IDS,
                                to=['beta', 'gamma'], parallel=3)
        self.assertEqual([(i, p) for i in IDS for p in (BETA, GAMMA)],
                         [(r[0], r[2]) for r in res.rows])
        self.assertEqual(['failed' if (i, p) == (IDS[2], GAMMA)
                          else 'accepted' for i in IDS for p in (BETA, GAMMA)],
                         ['failed' if r[5] == 'failed' else r[4]
                          for r in res.rows])
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
                               glance_exc.HTTPForbidden('Forbidden')})
        res = pipeline.transfer(g, Ident(admin=True), IDS[:2],
                                to=['beta', 'gamma'], parallel=4)
        self.assertEqual((2, 4), (res.failed, res.total))
        self.assertEqual(['shared', 'private'],
                         [g.images[i]['visibility'] for i in IDS[:2]])


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers from ``server.script``: (status, headers, body) per request."""

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self.server.seen.append((self.command, self.path,
                                 json.loads(body) if body else None))
        status, headers, out = self.server.script.pop(0)
        data = json.dumps(out).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args):
        pass


class TestRetry(unittest.TestCase):
    """A real keystoneauth session and glanceclient against a tiny server."""

    def setUp(self):
        self.server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
        self.server.seen, self.server.script = [], []
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        from glanceclient.v2 import client
        from keystoneauth1 import noauth
        from keystoneauth1 import session
        url = 'http://127.0.0.1:%d' % self.server.server_port
        glance = client.Client(session=session.Session(auth=noauth.NoAuth()),
                               endpoint_override=url)
        self.sleeps = []
        self.glance = retry.RetryingGlance(glance, self.sleeps.append)
        self.url = '/v2/images/%s/members' % IDS[0]

    def test_get_honours_retry_after_then_succeeds(self):
        self.server.script = [(429, {'Retry-After': '0'}, {}),
                              (503, {'Retry-After': '0'}, {}),
                              (200, {}, {'members': []})]
        body = self.glance.http_client.get(self.url)[1]
        self.assertEqual({'members': []}, body)
        self.assertEqual([('GET', self.url, None)] * 3, self.server.seen)
        self.assertEqual([0.0, 0.0], self.sleeps)

    def test_idempotent_waits_as_retry_after_says_else_backs_off(self):
        self.server.script = [(503, {'Retry-After': '3'}, {}),
                              (429, {}, {}),
                              (200, {}, {'members': []})]
        self.glance.http_client.put(self.url + '/' + BETA,
                                    data={'status': 'accepted'})
        self.assertEqual([3.0, 2 * retry.BACKOFF], self.sleeps)
        self.assertEqual([('PUT', self.url + '/' + BETA,
                           {'status': 'accepted'})] * 3, self.server.seen)

    def test_retries_are_bounded(self):
        self.server.script = [(503, {'Retry-After': '0'}, {})] * 4
        self.assertRaises(glance_exc.HTTPServiceUnavailable,
                          self.glance.http_client.get, self.url)
        self.assertEqual(1 + retry.RETRIES, len(self.server.seen))
        self.assertEqual([0.0] * retry.RETRIES, self.sleeps)

    def test_a_503_while_keystone_is_down_is_not_retried(self):
        # The Glance's keystonemiddleware could not check the token:
        # waiting will not bring Keystone back.
        self.server.script = [(503, {}, {}), (503, {}, {}), (429, {}, {}),
                              (200, {}, {'members': []})]
        with mock.patch.object(retry.images, 'keystone_down',
                               return_value=True) as down:
            self.assertRaises(glance_exc.HTTPServiceUnavailable,
                              self.glance.http_client.get, self.url)
            self.assertRaises(glance_exc.HTTPServiceUnavailable,
                              self.glance.http_client.post, self.url,
                              data={'member': BETA})
            self.assertEqual(2, down.call_count)
            # A 429 is retried without asking Keystone.
            self.glance.http_client.get(self.url)
        self.assertEqual(2, down.call_count)
        self.assertEqual([('GET', self.url, None),
                          ('POST', self.url, {'member': BETA})]
                         + [('GET', self.url, None)] * 2, self.server.seen)
        self.assertEqual([retry.BACKOFF], self.sleeps)

    def test_post_checks_before_sending_again(self):
        member = {'member_id': BETA, 'status': 'pending'}
        # The refused POST did add it: read, found, no second POST.
        self.server.script = [(503, {'Retry-After': '2'}, {}),
                              (200, {}, member)]
        out = self.glance.http_client.post(self.url, data={'member': BETA})
        self.assertEqual(member, out[1])
        self.assertEqual([('POST', self.url, {'member': BETA}),
                          ('GET', self.url + '/' + BETA, None)],
                         self.server.seen)
        self.assertEqual([2.0], self.sleeps)

    def test_post_sent_again_only_when_absent(self):
        member = {'member_id': BETA, 'status': 'pending'}
        self.server.script = [(429, {}, {}), (404, {}, {}),
                              (201, {}, member)]
        out = self.glance.http_client.post(self.url, data={'member': BETA})
        self.assertEqual(member, out[1])
        self.assertEqual([('POST', self.url, {'member': BETA}),
                          ('GET', self.url + '/' + BETA, None),
                          ('POST', self.url, {'member': BETA})],
                         self.server.seen)
        self.assertEqual([retry.BACKOFF], self.sleeps)

    def test_other_errors_and_other_posts_are_not_retried(self):
        self.server.script = [(409, {}, {})]
        self.assertRaises(glance_exc.HTTPConflict,
                          self.glance.http_client.post, self.url,
                          data={'member': BETA})
        self.server.script = [(503, {}, {})]
        self.assertRaises(glance_exc.HTTPServiceUnavailable,
                          self.glance.http_client.post, '/v2/images',
                          data={'name': 'x'})
        self.assertEqual(2, len(self.server.seen))


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
