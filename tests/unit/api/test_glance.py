"""The one door to Glance: requests, data, import, info, failures."""

import socket
from unittest import mock

from keystoneauth1 import exceptions as ks_exc
import requests

from osc_imageshare.api import glance as api
from osc_imageshare import errors
from tests.unit import base
from tests.unit import fakes


def broken(inner, outer=ks_exc.ConnectFailure):
    """``outer`` raised while handling ``inner``, as keystoneauth does."""
    try:
        try:
            raise inner
        except Exception as e:
            raise requests.ConnectionError(e)
    except requests.ConnectionError as e:
        try:
            raise outer('Unable to establish connection to http://x: %s'
                        % e)
        except outer as final:
            return final


class TestCause(base.TestCase):

    def test_reset(self):
        self.assertEqual('connection reset by the target Glance',
                         errors.cause(broken(ConnectionResetError(104, 'x')),
                                      'target'))
        self.assertEqual('connection reset by the source Glance',
                         errors.cause(broken(BrokenPipeError()), 'source'))

    def test_timeout(self):
        self.assertEqual('timed out waiting for the Glance at http://g',
                         errors.cause(broken(socket.timeout('timed out')),
                                      where='http://g'))

    def test_refused(self):
        self.assertEqual(
            'connection refused by the target Glance at http://g (is it '
            'down?)', errors.cause(broken(ConnectionRefusedError(111, 'x')),
                                   'target', 'http://g'))

    def test_refused_by_keystone_is_keystones(self):
        # keystoneauth names the URL it could not reach: Keystone's, when
        # a token was fetched for a request to Glance.
        e = ConnectionRefusedError(
            111, 'Unable to establish connection to http://k/v3/auth/tokens'
            ': Connection refused')
        self.assertEqual(
            'connection refused by Keystone (the identity service) at '
            'http://k/v3 (is it down?)',
            errors.cause(e, None, 'http://g', 'http://k/v3'))
        e = ConnectionRefusedError(
            111, 'Unable to establish connection to http://g/v2/images: x')
        self.assertEqual(
            'connection refused by the Glance at http://g (is it down?)',
            errors.cause(e, None, 'http://g', 'http://k/v3'))

    def test_other(self):
        self.assertEqual(
            'the connection to the Glance failed (boom)',
            errors.cause(ValueError('boom')))


class TestKeystoneDown(base.TestCase):
    """A Glance's 401/503 or a refused token: Keystone named if it is."""

    KS = 'http://127.0.0.1/identity/v3'
    URL = '/v2/images/%s' % fakes.IMAGE_ID

    def setUp(self):
        super().setUp()
        self.glance = fakes.FakeGlance([fakes.image()])
        self.session = mock.Mock()
        patcher = mock.patch.object(fakes.FakeGlance, 'session',
                                    self.session)
        patcher.start()
        self.addCleanup(patcher.stop)

    def probe(self, answer):
        if isinstance(answer, Exception):
            self.session.get.side_effect = answer
        else:
            self.session.get.return_value = fakes.Response(answer)

    def test_503_with_keystone_refusing_is_keystones_and_not_retried(self):
        self.glance.fail[('GET', self.URL)] = fakes.answer(
            503, text='The Keystone service is temporarily unavailable.')
        self.probe(ks_exc.ConnectFailure('Unable to establish connection '
                                         'to %s: refused' % self.KS))
        e = self.assertRaises(errors.TransportError, self.glance.get_image,
                              fakes.IMAGE_ID)
        self.assertEqual('Keystone (the identity service) at %s does not '
                         'answer (the Glance answered HTTP 503)' % self.KS,
                         str(e))
        self.assertTrue(e.identity)
        self.session.get.assert_called_once_with(
            self.KS, authenticated=False, raise_exc=False, timeout=10)
        self.assertEqual([('GET', self.URL)], self.glance.calls)
        self.assertEqual([], self.glance.sleeps)

    def test_401_with_keystone_failing_is_keystones(self):
        self.glance.fail[('PATCH', self.URL)] = fakes.answer(
            401, text='This server could not verify that you are '
                      'authorized')
        self.probe(503)
        e = self.assertRaises(errors.TransportError, self.glance.patch_image,
                              fakes.IMAGE_ID,
                              replace={'visibility': 'shared'})
        self.assertIn('does not answer (the Glance answered HTTP 401)',
                      str(e))
        self.assertTrue(e.identity)

    def test_401_or_503_with_keystone_answering_stays_glances(self):
        for status, cls in ((401, errors.Unauthorized),
                            (503, errors.ServiceUnavailable)):
            self.glance.fail[('GET', self.URL)] = fakes.answer(
                status, text='busy')
            self.probe(200)
            self.glance.policy.retries = 0
            self.assertRaises(cls, self.glance.get_image, fakes.IMAGE_ID)

    def test_other_errors_do_not_ask_keystone(self):
        self.glance.fail[('GET', self.URL)] = fakes.answer(500, text='locked')
        self.glance.policy.retries = 0
        self.assertRaises(errors.ServerError, self.glance.get_image,
                          fakes.IMAGE_ID)
        self.session.get.assert_not_called()

    def test_a_refused_token_request_is_keystones_and_not_retried(self):
        self.glance.fail[('PATCH', self.URL)] = ks_exc.ConnectFailure(
            'Unable to establish connection to %s/auth/tokens: refused'
            % self.KS)
        e = self.assertRaises(errors.TransportError, self.glance.patch_image,
                              fakes.IMAGE_ID,
                              replace={'visibility': 'shared'})
        self.assertTrue(e.identity)
        self.assertEqual(1, len(self.glance.calls))
        self.glance.fail[('PATCH', self.URL)] = ks_exc.ConnectFailure(
            'Unable to establish connection to http://g/v2/images: refused')
        self.glance.policy.retries = 0
        e = self.assertRaises(errors.TransportError, self.glance.patch_image,
                              fakes.IMAGE_ID,
                              replace={'visibility': 'shared'})
        self.assertFalse(e.identity)


class TestRequests(base.TestCase):

    def setUp(self):
        super().setUp()
        self.glance = fakes.FakeGlance(
            [fakes.image()], data={fakes.IMAGE_ID: b'abc'},
            methods=['glance-direct', 'glance-download'])

    def test_a_name_glance_would_read_as_a_list_is_asked_quoted(self):
        self.glance.images['x'] = fakes.image(id='x', name='in:bm')
        self.glance.images['y'] = fakes.image(id='y', name='bm')
        self.glance.calls = []
        self.glance.list_named('in:bm')
        self.assertEqual(
            ['/v2/images?name=in%3A%22in%3Abm%22',
             '/v2/images?name=in%3A%22in%3Abm%22&os_hidden=true'],
            [c[1] for c in self.glance.calls])
        # Whatever a Glance answers, only the exact name is kept.
        self.glance.list_images_and_hidden = lambda **f: list(
            self.glance.images.values())
        self.assertEqual(['y'], [i['id'] for i in self.glance.list_named(
            'bm')])

    def test_http_error_keeps_its_type(self):
        self.glance.upload = False
        e = self.assertRaises(errors.Forbidden, api.GlanceAPI.upload,
                              self.glance, fakes.IMAGE_ID, [b'x'])
        self.assertEqual('the target Glance answered HTTP 403: You are not '
                         'authorized to complete upload_image action.',
                         errors.describe(e))

    def test_broken_connection_is_a_sentence(self):
        self.glance.fail[('GET', '/v2/images/%s/file' % fakes.IMAGE_ID)] = \
            broken(ConnectionResetError(104, 'reset'))
        e = self.assertRaises(errors.TransportError, api.GlanceAPI.download,
                              self.glance, fakes.IMAGE_ID)
        self.assertEqual('connection reset by the source Glance', str(e))

    def test_json_api_broken_connection(self):
        self.glance.fail[('DELETE', '/v2/images/x')] = \
            errors.TransportError('Error finding address: '
                                  'Connection refused')
        self.assertEqual(
            "the partial copy x in project p could not be deleted "
            "(connection refused by the target Glance (is it down?)): delete "
            "it with 'openstack image delete x', or re-run this command, "
            "which deletes it",
            self.glance.delete_quietly('x', 'p'))

    def test_delete_quietly_tries_again_after_a_server_error(self):
        answers = [None, errors.ServerError('locked')]
        self.glance.fail[('DELETE', '/v2/images/%s' % fakes.IMAGE_ID)] = \
            lambda body: answers.pop()
        self.assertEqual('the partial copy %s was deleted' % fakes.IMAGE_ID,
                         self.glance.delete_quietly(fakes.IMAGE_ID))
        self.assertEqual([0.5], self.glance.sleeps)

    def test_delete_quietly(self):
        self.assertEqual('the partial copy %s in project p was deleted'
                         % fakes.IMAGE_ID,
                         self.glance.delete_quietly(fakes.IMAGE_ID,
                                                    'p'))
        self.assertEqual('the partial copy %s was already gone'
                         % fakes.IMAGE_ID,
                         self.glance.delete_quietly(fakes.IMAGE_ID))

    def test_import_methods_from_info_and_header(self):
        self.assertEqual(['glance-direct', 'glance-download'],
                         self.glance.import_methods())
        image, methods = self.glance.create_image({'name': 'n'})
        self.assertEqual(['glance-direct', 'glance-download'], methods)
        self.glance.methods = None
        self.assertIsNone(self.glance.import_methods())
        self.assertEqual(None, self.glance.create_image({})[1])

    def test_stage_and_import(self):
        image, _ = self.glance.create_image({'name': 'n',
                                             'disk_format': 'raw'})
        self.glance.stage(image['id'], [b'ab', b'c'])
        self.assertEqual('uploading',
                         self.glance.get_image(image['id'])['status'])
        self.glance.import_image(image['id'], 'glance-direct')
        self.assertEqual(('active', 3), tuple(
            self.glance.get_image(image['id'])[k]
            for k in ('status', 'size')))
        self.assertEqual(
            ('POST', '/v2/images/new-1/import',
             {'method': {'name': 'glance-direct'}}), self.glance.calls[-3])

    def test_usage(self):
        self.assertIsNone(self.glance.usage())
        self.glance.quota = {'image_count_total': {'limit': 5, 'usage': 5}}
        self.assertEqual({'image_count_total': {'limit': 5, 'usage': 5}},
                         self.glance.usage())

    def test_patch_adds_replaces_removes(self):
        self.glance.patch_image(fakes.IMAGE_ID, add={'a': '1'},
                                replace={'name': 'n2'}, remove=['visibility'])
        img = self.glance.images[fakes.IMAGE_ID]
        self.assertEqual(('1', 'n2', False),
                         (img['a'], img['name'], 'visibility' in img))


class TestIterImages(base.TestCase):

    def glance(self):
        ids = ['%d' % i * 8 + '-0000-0000-0000-' + '0' * 12 for i in (1, 2, 3)]
        return ids, fakes.FakeGlance([
            fakes.image(id=ids[0]), fakes.image(id=ids[1], os_hidden=True),
            fakes.image(id=ids[2])])

    def test_hidden_and_visible_merged_in_id_order_page_by_page(self):
        ids, g = self.glance()
        found = g.iter_images({'visibility': 'shared'}, limit=1)
        self.assertEqual(ids, [i['id'] for i in found])
        self.assertEqual([
            ('GET', '/v2/images?limit=1&sort_dir=asc&sort_key=id'
                    '&visibility=shared'),
            ('GET', '/v2/images?limit=1&os_hidden=true&sort_dir=asc'
                    '&sort_key=id&visibility=shared'),
            ('GET', '/v2/images?limit=1&marker=%s&sort_dir=asc&sort_key=id'
                    '&visibility=shared' % ids[0])], g.calls)

    def test_without_hidden_images(self):
        ids, g = self.glance()
        self.assertEqual([ids[0], ids[2]], [i['id'] for i in g.iter_images(
            {}, include_hidden=False)])
        self.assertEqual(1, len(g.calls))
