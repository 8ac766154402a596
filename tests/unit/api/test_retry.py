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
                self.assertRaises((errors.GlanceError, errors.TransportError),
                                  g.create_image, {})
                self.assertEqual(([], 1), (g.sleeps, len(g.calls)), name)

    def test_a_stream_is_never_replayed(self):
        for name, failure in failures():
            for send in ('upload', 'stage'):
                g = glance()
                g.fail[('PUT', '%s/%s' % (
                    IMG, 'file' if send == 'upload' else 'stage'))] = [
                        failure]
                self.assertRaises((errors.GlanceError, errors.TransportError),
                                  getattr(g, send), ID, [b'x'])
                self.assertEqual(([], 1), (g.sleeps, len(g.calls)),
                                 (name, send))


class TestRetryAfter(testtools.TestCase):

    def test_seconds_and_http_date(self):
        self.assertEqual(3.0, retry.retry_after('3'))
        self.assertEqual(0.0, retry.retry_after('0'))
        self.assertEqual(1e9, retry.retry_after('1e9'))
        self.assertEqual(7.0, retry.retry_after(
            'Wed, 02 Dec 2026 00:00:07 GMT', now=1796169600.0))
        self.assertIsNone(retry.retry_after('soon'))
        for value in ('nan', 'NaN', 'inf', '-inf', '-1', '-0.5', ''):
            self.assertIsNone(retry.retry_after(value), value)
        self.assertIsNone(retry.retry_after(None))

    def test_http_date_honoured_by_the_door(self):
        g = glance()
        g.policy.wall = lambda: 1796169600.0    # 2026-12-02 00:00:00 UTC
        g.fail[('GET', IMG)] = [fakes.answer(
            503, {}, {'Retry-After': 'Wed, 02 Dec 2026 00:00:04 GMT'})]
        g.get_image(ID)
        self.assertEqual([4.0], g.sleeps)

    def test_a_value_that_is_not_a_delay_counts_as_absent(self):
        for value in ('nan', 'inf', '-1', 'soon'):
            g = glance()
            g.fail[('GET', IMG)] = fakes.times(2, fakes.answer(
                503, {}, {'Retry-After': value}))
            g.get_image(ID)
            self.assertEqual([0.5, 1.0], g.sleeps, value)
            self.assertEqual(3, len(g.calls), value)

    def test_a_wait_past_the_budget_is_not_started(self):
        g = glance()
        g.fail[('GET', IMG)] = [fakes.answer(503, {}, {'Retry-After': '1e9'})]
        e = self.assertRaises(errors.ServiceUnavailable, g.get_image, ID)
        self.assertEqual(([], 1, 503), (g.sleeps, len(g.calls), e.code))

    def test_retry_after_zero_waits_the_shortest_wait(self):
        g = glance(retries=1000)
        g.fail[('GET', IMG)] = fakes.times(
            99, fakes.answer(503, {}, {'Retry-After': '0'}))
        self.assertRaises(errors.ServiceUnavailable, g.get_image, ID)
        # Capped at 10 retries, each after 0.5 s.
        self.assertEqual(10, retry.MAX_RETRIES)
        self.assertEqual([retry.MIN_WAIT] * 10, g.sleeps)
        self.assertEqual(11, len(g.calls))

    def test_the_budget_counts_the_attempts_too(self):
        # Each attempt takes 9 s (a slow Glance): the budget of 30 s ends
        # the request after three attempts, whatever the retry count.
        clock = [0.0]
        sleeps = []

        def send():
            clock[0] += 9
            return fakes.answer(503, {})

        def sleep(s):
            sleeps.append(s)
            clock[0] += s
        policy = retry.Policy(10, sleep=sleep, clock=lambda: clock[0])
        resp, retried = policy.call(send, 'GET', IMG)
        self.assertEqual((503, True), (resp.status_code, retried))
        self.assertEqual([0.5, 1.0], sleeps)


class TestPatchThatRemoves(testtools.TestCase):
    """A JSON-patch with a remove: read the image before sending again."""

    def ops(self):
        return [{'op': 'replace', 'path': '/visibility', 'value': 'private'},
                {'op': 'remove', 'path': '/imageshare_sharing'}]

    def shared(self):
        g = glance()
        g.images[ID].update(visibility='shared', imageshare_sharing='x')
        return g

    def unshare(self, g):
        return g.patch_image(ID, replace={'visibility': 'private'},
                             remove=['imageshare_sharing'])

    def test_landed_then_502_is_not_sent_again(self):
        for failure in (fakes.answer(502, GATEWAY), fakes.reset()):
            g = self.shared()

            def landed(body, failure=failure):
                g.images[ID]['visibility'] = 'private'
                del g.images[ID]['imageshare_sharing']
                if isinstance(failure, Exception):
                    raise failure
                return failure
            g.fail[('PATCH', IMG)] = [landed]
            image = self.unshare(g)
            self.assertEqual('private', image['visibility'])
            self.assertNotIn('imageshare_sharing', image)
            self.assertEqual([('PATCH', IMG, self.ops()), ('GET', IMG)],
                             g.calls)
            self.assertEqual([0.5], g.sleeps)

    def test_not_landed_is_sent_again(self):
        g = self.shared()
        g.fail[('PATCH', IMG)] = [fakes.answer(502, GATEWAY)]
        self.assertEqual('private', self.unshare(g)['visibility'])
        self.assertEqual([('PATCH', IMG, self.ops()), ('GET', IMG),
                          ('PATCH', IMG, self.ops())], g.calls)

    def test_a_patch_that_only_replaces_is_sent_again_at_once(self):
        g = self.shared()
        g.fail[('PATCH', IMG)] = [fakes.answer(502, GATEWAY)]
        g.update_image(ID, visibility='private')
        self.assertEqual([('PATCH', IMG, self.ops()[:1])] * 2, g.calls)


def timeout():
    from keystoneauth1 import exceptions as ks_exc
    return ks_exc.ConnectTimeout('Request to http://glance timed out')


class TestLostAnswerReadBack(testtools.TestCase):
    """A write whose answer is lost for good is read back first."""

    def test_member_post_timed_out_but_landed_is_done(self):
        g = glance()
        g.members[ID] = {}

        def landed(body):
            g.members[ID][fakes.BETA] = fakes.member(fakes.BETA)
            raise timeout()
        g.fail[('POST', MEMBERS)] = [landed]
        self.assertEqual('pending', g.add_member(ID, fakes.BETA)['status'])
        self.assertEqual([('POST', MEMBERS, {'member': fakes.BETA}),
                          ('GET', MEMBER)], g.calls)
        self.assertEqual([], g.sleeps)

    def test_member_post_timed_out_and_absent_says_not_done(self):
        g = glance()
        g.members[ID] = {}
        g.fail[('POST', MEMBERS)] = [timeout()]
        e = self.assertRaises(errors.TransportError, g.add_member, ID,
                              fakes.BETA)
        self.assertEqual(
            "timed out waiting for the Glance; read back, POST %s had not "
            "taken effect (it may yet, if Glance is still acting on it): "
            "find out with 'openstack image member list %s'" % (MEMBERS, ID),
            str(e))
        self.assertEqual([('POST', MEMBERS, {'member': fakes.BETA}),
                          ('GET', MEMBER)], g.calls)

    def test_unknown_when_reading_back_fails_names_the_command(self):
        g = glance()
        g.members[ID] = {}
        g.fail[('POST', MEMBERS)] = [timeout()]
        g.fail[('GET', MEMBER)] = [timeout()]
        e = self.assertRaises(errors.TransportError, g.add_member, ID,
                              fakes.BETA)
        self.assertEqual(
            "timed out waiting for the Glance; whether POST %s took effect "
            "is unknown (reading it back failed: timed out waiting for the "
            "Glance): find out with 'openstack image member list %s'"
            % (MEMBERS, ID), str(e))

    def test_each_write_read_back_after_a_timeout(self):
        for key, write in (
                (('PATCH', IMG), lambda g: g.update_image(ID, name='n')),
                (('PUT', MEMBER), lambda g: g.set_member_status(
                    ID, fakes.BETA, 'accepted')),
                (('DELETE', MEMBER), lambda g: g.remove_member(
                    ID, fakes.BETA)),
                (('DELETE', IMG), lambda g: g.delete_image(ID))):
            g = glance()

            def lost(body, key=key, g=g):
                # Let the write land, then lose its answer.
                g.fail.pop(key)
                getattr(g, key[0].lower())(key[1], data=body)
                g.calls.pop()
                raise timeout()
            g.fail[key] = lost
            write(g)
            self.assertEqual(2, len(g.calls), key)
            self.assertEqual(key[:2], g.calls[0][:2])
            self.assertEqual('GET', g.calls[1][0], key)

    def test_server_error_when_retries_are_used_up_is_read_back(self):
        g = glance(retries=0)
        g.fail[('PUT', MEMBER)] = [fakes.answer(502, GATEWAY)]
        e = self.assertRaises(errors.GlanceError, g.set_member_status, ID,
                              fakes.BETA, 'accepted')
        self.assertEqual(
            GATEWAY['message'] + "; read back, PUT %s had not taken effect "
            "(it may yet, if Glance is still acting on it): find out with "
            "'openstack image member list %s'" % (MEMBER, ID), e.message)
        self.assertEqual([('PUT', MEMBER, {'status': 'accepted'}),
                          ('GET', MEMBER)], g.calls)

    def test_refused_and_limited_are_not_read_back(self):
        for failure in (fakes.answer(503, {}), fakes.answer(429, {}),
                        fakes.answer(409, {})):
            g = glance(retries=0)
            g.fail[('PUT', MEMBER)] = [failure]
            self.assertRaises(errors.GlanceError, g.set_member_status, ID,
                              fakes.BETA, 'accepted')
            self.assertEqual(1, len(g.calls))


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

    def test_control_characters_of_an_answer_are_escaped(self):
        self.assertEqual(
            '502 Bad Gateway: \\x1b[31mred \\x07 \\x9b',
            errors.answer_message('<html><h1>502 Bad Gateway</h1>'
                                  '\x1b[31mred \x07 \x9b</html>'))
        self.assertEqual('a \\x1b]0;x\\x07', errors.answer_message(
            '{"error": {"message": "a \\u001b]0;x\\u0007"}}'))

    def test_block_elements_are_spaced_and_entities_read(self):
        nginx = ('<html><head><title>502 Bad Gateway</title></head><body>'
                 '<center><h1>502 Bad Gateway</h1></center><hr><center>'
                 'nginx</center></body></html>')
        self.assertEqual('502 Bad Gateway: nginx',
                         errors.answer_message(nginx))
        self.assertEqual(
            "Invalid value 'True' for 'protected' & more",
            errors.answer_message('{"error": {"message": "Invalid value '
                                  '&#x27;True&#x27; for &#x27;protected'
                                  '&#x27; &amp; more"}}'))
        self.assertEqual(
            "400 Bad Request: Provided object does not match schema "
            "'image': x", errors.answer_message(
                '<html><body><h1>400 Bad Request</h1>Provided object does '
                'not match schema &#x27;image&#x27;: x<br /></body></html>'))


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
        # Retry-After: 0 still waits the shortest wait: never at once.
        self.assertEqual([retry.MIN_WAIT] * 2, self.sleeps)

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
