"""The one retry policy: each class of failure x each kind of request."""

import http.server
import json
import logging
import threading

import fixtures
from keystoneauth1 import adapter
from keystoneauth1 import noauth
from keystoneauth1 import session
import testtools

from osc_imageshare.api import glance as door
from osc_imageshare.api import retry
from osc_imageshare import errors
from tests.unit import fakes

ID = fakes.IMAGE_ID
IMG = '/v2/images/%s' % ID
MEMBERS = IMG + '/members'
MEMBER = MEMBERS + '/' + fakes.BETA
GATEWAY = {'message': 'An invalid response was received from the upstream '
                      'server'}


def failures():
    """Each retried class of failure: (name, a fresh injected failure)."""
    return [('429 with Retry-After',
             fakes.answer(429, {}, {'Retry-After': '2'})),
            ('429 without', fakes.answer(429, {})),
            ('500', fakes.answer(500, {'error': {'message': 'boom'}})),
            ('502 gateway', fakes.answer(502, GATEWAY)),
            ('503', fakes.answer(503, {})),
            ('504', fakes.answer(504, text='Gateway Timeout')),
            ('reset', fakes.reset())]


def glance(**kw):
    return fakes.FakeGlance(
        [fakes.image()], {ID: [fakes.member(fakes.BETA)]},
        data={ID: b'abc'}, **kw)


class TestSafeRequests(testtools.TestCase):
    """GET, PATCH, PUT of a member status, DELETE: retried for each."""

    def requests(self, g):
        return {
            ('GET', IMG): lambda: g.get_image(ID),
            ('PATCH', IMG): lambda: g.update_image(ID, name='n'),
            ('PUT', MEMBER): lambda: g.set_member_status(
                ID, fakes.BETA, 'accepted'),
            ('DELETE', MEMBER): lambda: g.remove_member(ID, fakes.BETA),
            ('GET', IMG + '/file'): lambda: g.download(ID),
        }

    def test_each_class_once_then_success(self):
        for name, failure in failures():
            for key in self.requests(glance()):
                g = glance()
                g.fail[key] = [failure]
                self.requests(g)[key]()
                sent = [c for c in g.calls if c[:2] == key]
                self.assertEqual(2, len(sent), (name, key))
                wait = 2.0 if 'Retry-After' in name else retry.BACKOFF
                self.assertEqual([wait], g.sleeps, (name, key))

    def test_a_retried_delete_answered_404_is_done(self):
        g = glance()
        g.fail[('DELETE', MEMBER)] = [fakes.answer(502, GATEWAY)]

        def landed_then_gone(body):
            g.members[ID].pop(fakes.BETA, None)
            return fakes.answer(502, GATEWAY)
        g.fail[('DELETE', MEMBER)] = [landed_then_gone]
        g.remove_member(ID, fakes.BETA)
        self.assertEqual([('DELETE', MEMBER)] * 2, g.calls)

    def test_bounded_by_three_retries(self):
        g = glance()
        g.fail[('GET', IMG)] = fakes.times(9, fakes.answer(503, {}))
        e = self.assertRaises(errors.ServiceUnavailable, g.get_image, ID)
        self.assertEqual(4, len(g.calls))
        self.assertEqual([0.5, 1.0, 2.0], g.sleeps)
        self.assertEqual(503, e.code)

    def test_bounded_by_thirty_seconds(self):
        g = glance()
        g.fail[('GET', IMG)] = fakes.times(
            9, fakes.answer(429, {}, {'Retry-After': '20'}))
        self.assertRaises(errors.GlanceError, g.get_image, ID)
        # 20 s, then a second 20 s would pass 30 s: not started.
        self.assertEqual([20.0], g.sleeps)
        self.assertEqual(2, len(g.calls))

    def test_zero_disables(self):
        g = glance(retries=0)
        g.fail[('GET', IMG)] = [fakes.answer(503, {})]
        self.assertRaises(errors.ServiceUnavailable, g.get_image, ID)
        self.assertEqual(([], 1), (g.sleeps, len(g.calls)))

    def test_other_answers_and_timeouts_are_not_retried(self):
        from keystoneauth1 import exceptions as ks_exc
        for failure, raised in (
                (errors.NotFound('gone'), errors.NotFound),
                (fakes.answer(400, {'error': {'message': 'bad'}}),
                 errors.BadRequest),
                (ks_exc.ConnectTimeout('Request to http://g timed out'),
                 errors.TransportError)):
            g = glance()
            g.fail[('GET', IMG)] = failure
            self.assertRaises(raised, g.get_image, ID)
            self.assertEqual(([], 1), (g.sleeps, len(g.calls)))


class TestMemberPost(testtools.TestCase):
    """Adding a member: read it first, send again only if absent."""

    def test_each_class_absent_then_sent_again(self):
        for name, failure in failures():
            g = glance()
            g.members[ID] = {}
            g.fail[('POST', MEMBERS)] = [failure]
            self.assertEqual(fakes.BETA,
                             g.add_member(ID, fakes.BETA)['member_id'])
            self.assertEqual([('POST', MEMBERS, {'member': fakes.BETA}),
                              ('GET', MEMBER),
                              ('POST', MEMBERS, {'member': fakes.BETA})],
                             g.calls, name)

    def test_a_post_that_landed_is_not_sent_again(self):
        g = glance()
        g.members[ID] = {}

        def landed(body):
            g.members[ID][fakes.BETA] = fakes.member(fakes.BETA)
            return fakes.answer(502, GATEWAY)
        g.fail[('POST', MEMBERS)] = [landed]
        self.assertEqual('pending',
                         g.add_member(ID, fakes.BETA)['status'])
        self.assertEqual([('POST', MEMBERS, {'member': fakes.BETA}),
                          ('GET', MEMBER)], g.calls)


class TestCreateAndStreams(testtools.TestCase):

    def test_create_only_after_429_or_503(self):
        for name, failure in failures():
            g = glance()
            g.fail[('POST', '/v2/images')] = [failure]
            if name.startswith(('429', '503')):
                self.assertEqual('new-1', g.create_image({})[0]['id'])
                self.assertEqual(2, len(g.calls), name)
            else:
                self.assertRaises(errors.ImageShareError, g.create_image, {})
                self.assertEqual(([], 1), (g.sleeps, len(g.calls)), name)

    def test_a_stream_is_never_replayed(self):
        for name, failure in failures():
            for send in ('upload', 'stage'):
                g = glance()
                g.fail[('PUT', '%s/%s' % (
                    IMG, 'file' if send == 'upload' else 'stage'))] = [
                        failure]
                self.assertRaises(errors.ImageShareError,
                                  getattr(g, send), ID, [b'x'])
                self.assertEqual(([], 1), (g.sleeps, len(g.calls)),
                                 (name, send))


class TestRetryAfter(testtools.TestCase):

    def test_seconds_and_http_date(self):
        self.assertEqual(3.0, retry.retry_after('3'))
        self.assertEqual(0.0, retry.retry_after('-1'))
        self.assertEqual(7.0, retry.retry_after(
            'Wed, 02 Dec 2026 00:00:07 GMT', now=1796169600.0))
        self.assertIsNone(retry.retry_after('soon'))
        self.assertIsNone(retry.retry_after(None))

    def test_http_date_honoured_by_the_door(self):
        g = glance()
        g.policy.wall = lambda: 1796169600.0    # 2026-12-02 00:00:00 UTC
        g.fail[('GET', IMG)] = [fakes.answer(
            503, {}, {'Retry-After': 'Wed, 02 Dec 2026 00:00:04 GMT'})]
        g.get_image(ID)
        self.assertEqual([4.0], g.sleeps)


class TestDebugLog(testtools.TestCase):

    def test_each_retry_one_debug_line(self):
        log = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG,
                                                  name=retry.__name__))
        g = glance()
        g.fail[('GET', IMG)] = [fakes.answer(502, GATEWAY), fakes.reset()]
        g.get_image(ID)
        self.assertEqual(
            'Glance answered 502 to GET %s; retry 1 of 3 in 0.5 s\n'
            'Connection reset to GET %s; retry 2 of 3 in 1.0 s\n'
            % (IMG, IMG), log.output)


class TestAnswers(testtools.TestCase):
    """Glance's words, whatever the shape of the error body."""

    def test_gateway_json_is_its_message(self):
        g = glance(retries=0)
        g.fail[('GET', MEMBERS)] = fakes.answer(502, GATEWAY)
        e = self.assertRaises(errors.GlanceError, g.list_members, ID)
        self.assertEqual((502, GATEWAY['message']), (e.code, e.message))
        self.assertEqual('Glance answered HTTP 502 to GET %s: %s'
                         % (MEMBERS, GATEWAY['message']), str(e))

    def test_webob_html_and_plain_text(self):
        html = ('<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n'
                ' <body>\n  <h1>404 Not Found</h1>\n  No image found with ID'
                ' x<br /><br />\n\n\n </body>\n</html>')
        self.assertEqual('404 Not Found: No image found with ID x',
                         errors.answer_message(html))
        self.assertEqual('Bad Gateway', errors.answer_message(b'Bad\nGateway'))
        self.assertEqual('m', errors.answer_message(
            '{"error": {"code": 409, "message": "m", "title": "Conflict"}}'))
        self.assertEqual('', errors.answer_message(''))


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


class TestRealAdapter(testtools.TestCase):
    """The door on a real keystoneauth Adapter against a tiny server."""

    def setUp(self):
        super().setUp()
        self.server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
        self.server.seen, self.server.script = [], []
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        url = 'http://127.0.0.1:%d' % self.server.server_port
        self.sleeps = []
        self.glance = door.GlanceAPI(
            adapter.Adapter(session.Session(auth=noauth.NoAuth()),
                            endpoint_override=url),
            endpoint=url, sleep=self.sleeps.append)

    def test_get_honours_retry_after_then_succeeds(self):
        self.server.script = [(429, {'Retry-After': '0'}, {}),
                              (503, {'Retry-After': '0'}, {}),
                              (200, {}, {'members': []})]
        self.assertEqual([], self.glance.list_members(ID))
        self.assertEqual([('GET', MEMBERS, None)] * 3, self.server.seen)
        self.assertEqual([0.0, 0.0], self.sleeps)

    def test_member_put_waits_as_retry_after_says_else_backs_off(self):
        self.server.script = [(503, {'Retry-After': '3'}, {}),
                              (429, {}, {}),
                              (200, {}, {'status': 'accepted'})]
        self.glance.set_member_status(ID, fakes.BETA, 'accepted')
        self.assertEqual([3.0, 2 * retry.BACKOFF], self.sleeps)
        self.assertEqual([('PUT', MEMBER, {'status': 'accepted'})] * 3,
                         self.server.seen)

    def test_member_post_reads_before_sending_again(self):
        member = {'member_id': fakes.BETA, 'status': 'pending'}
        self.server.script = [(502, {}, GATEWAY), (404, {}, {}),
                              (200, {}, member)]
        self.assertEqual(member, self.glance.add_member(ID, fakes.BETA))
        self.assertEqual([('POST', MEMBERS, {'member': fakes.BETA}),
                          ('GET', MEMBER, None),
                          ('POST', MEMBERS, {'member': fakes.BETA})],
                         self.server.seen)

    def test_create_not_retried_after_a_server_error(self):
        self.server.script = [(500, {}, {'error': {'message': 'x'}})]
        e = self.assertRaises(errors.ServerError, self.glance.create_image,
                              {'name': 'x'})
        self.assertEqual(('x', 1), (e.message, len(self.server.seen)))
