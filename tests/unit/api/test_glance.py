"""The one door to Glance: requests, data, import, info, failures."""

import socket
from unittest import mock

from glanceclient import exc as glance_exc
from keystoneauth1 import exceptions as ks_exc
import requests

from osc_imageshare.api import glance as api
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
                         api.cause(broken(ConnectionResetError(104, 'x')),
                                   'target'))
        self.assertEqual('connection reset by the source Glance',
                         api.cause(broken(BrokenPipeError()), 'source'))

    def test_timeout(self):
        self.assertEqual('timed out waiting for the Glance at http://g',
                         api.cause(broken(socket.timeout('timed out')),
                                   where='http://g'))

    def test_refused(self):
        self.assertEqual(
            'connection refused by the target Glance at http://g (is it '
            'down?)', api.cause(broken(ConnectionRefusedError(111, 'x')),
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
            api.cause(e, None, 'http://g', 'http://k/v3'))
        e = ConnectionRefusedError(
            111, 'Unable to establish connection to http://g/v2/images: x')
        self.assertEqual(
            'connection refused by the Glance at http://g (is it down?)',
            api.cause(e, None, 'http://g', 'http://k/v3'))

    def test_other(self):
        self.assertEqual(
            'the connection to the Glance failed (boom)',
            api.cause(ValueError('boom')))


class TestKeystoneDown(base.TestCase):
    """A Glance's 401/503 or a refused token: Keystone named if it is."""

    KS = 'http://127.0.0.1/identity/v3'
    URL = '/v2/images/%s' % fakes.IMAGE_ID

    def setUp(self):
        super().setUp()
        self.glance = fakes.FakeGlance([fakes.image()])
        self.glance.session = mock.Mock()

    def probe(self, answer):
        if isinstance(answer, Exception):
            self.glance.session.get.side_effect = answer
        else:
            self.glance.session.get.return_value = fakes.Response(answer)

    def test_503_with_keystone_refusing_is_keystones(self):
        self.glance.fail[('GET', self.URL)] = \
            glance_exc.HTTPServiceUnavailable('The Keystone service is '
                                              'temporarily unavailable.')
        self.probe(ks_exc.ConnectFailure('Unable to establish connection '
                                         'to %s: refused' % self.KS))
        e = self.assertRaises(api.TransportError, api.get_image,
                              self.glance, fakes.IMAGE_ID)
        self.assertEqual('Keystone (the identity service) at %s does not '
                         'answer (the Glance answered HTTP 503)' % self.KS,
                         str(e))
        self.assertTrue(e.identity)
        self.glance.session.get.assert_called_once_with(
            self.KS, authenticated=False, raise_exc=False, timeout=10)

    def test_401_with_keystone_failing_is_keystones(self):
        self.glance.fail[('PATCH', self.URL)] = glance_exc.HTTPUnauthorized(
            'This server could not verify that you are authorized')
        self.probe(503)
        e = self.assertRaises(api.TransportError, api.patch_image,
                              self.glance, fakes.IMAGE_ID,
                              replace={'visibility': 'shared'})
        self.assertIn('does not answer (the Glance answered HTTP 401)',
                      str(e))
        self.assertTrue(e.identity)

    def test_401_or_503_with_keystone_answering_stays_glances(self):
        for failure in (glance_exc.HTTPUnauthorized('no'),
                        glance_exc.HTTPServiceUnavailable('busy')):
            self.glance.fail[('GET', self.URL)] = failure
            self.probe(200)
            e = self.assertRaises(type(failure), api.get_image,
                                  self.glance, fakes.IMAGE_ID)
            self.assertIs(failure, e)

    def test_other_errors_do_not_ask_keystone(self):
        self.glance.fail[('GET', self.URL)] = \
            glance_exc.HTTPInternalServerError('locked')
        self.assertRaises(glance_exc.HTTPInternalServerError, api.get_image,
                          self.glance, fakes.IMAGE_ID)
        self.glance.session.get.assert_not_called()

    def test_a_refused_token_request_is_keystones_and_not_sent(self):
        # glanceclient's words for keystoneauth's ConnectFailure.
        self.glance.fail[('PATCH', self.URL)] = glance_exc.CommunicationError(
            'Error finding address for %s: Unable to establish connection '
            'to %s/auth/tokens: refused' % (self.URL, self.KS))
        e = self.assertRaises(api.TransportError, api.patch_image,
                              self.glance, fakes.IMAGE_ID,
                              replace={'visibility': 'shared'})
        self.assertTrue(e.identity)
        self.glance.fail[('PATCH', self.URL)] = glance_exc.CommunicationError(
            'Unable to establish connection to http://g/v2/images: refused')
        e = self.assertRaises(api.TransportError, api.patch_image,
                              self.glance, fakes.IMAGE_ID,
                              replace={'visibility': 'shared'})
        self.assertFalse(e.identity)


class TestRequests(base.TestCase):

    def setUp(self):
        super().setUp()
        self.glance = fakes.FakeGlance(
            [fakes.image()], data={fakes.IMAGE_ID: b'abc'},
            methods=['glance-direct', 'glance-download'])

    def test_http_error_keeps_its_type(self):
        self.glance.upload = False
        e = self.assertRaises(glance_exc.HTTPForbidden, api.upload,
                              self.glance, fakes.IMAGE_ID, [b'x'])
        self.assertEqual('the target Glance answered HTTP 403: You are not '
                         'authorized to complete upload_image action.',
                         api.describe(e))

    def test_broken_connection_is_a_sentence(self):
        self.glance.fail[('GET', '/v2/images/%s/file' % fakes.IMAGE_ID)] = \
            broken(ConnectionResetError(104, 'reset'))
        e = self.assertRaises(api.TransportError, api.download,
                              self.glance, fakes.IMAGE_ID)
        self.assertEqual('connection reset by the source Glance', str(e))

    def test_json_api_broken_connection(self):
        self.glance.fail[('DELETE', '/v2/images/x')] = \
            glance_exc.CommunicationError('Error finding address: '
                                          'Connection refused')
        self.assertEqual(
            "the partial copy x in project p could not be deleted "
            "(connection refused by the target Glance (is it down?)): delete "
            "it with 'openstack image delete x', or re-run this command, "
            "which deletes it",
            api.delete_quietly(self.glance, 'x', 'p'))

    def test_delete_quietly_tries_again_after_a_server_error(self):
        answers = [None, glance_exc.HTTPInternalServerError('locked')]
        self.glance.fail[('DELETE', '/v2/images/%s' % fakes.IMAGE_ID)] = \
            lambda body: answers.pop()
        with mock.patch.object(api.time, 'sleep') as sleep:
            self.assertEqual('the partial copy %s was deleted'
                             % fakes.IMAGE_ID,
                             api.delete_quietly(self.glance, fakes.IMAGE_ID))
        sleep.assert_called_once_with(0.5)

    def test_delete_quietly(self):
        self.assertEqual('the partial copy %s in project p was deleted'
                         % fakes.IMAGE_ID,
                         api.delete_quietly(self.glance, fakes.IMAGE_ID,
                                            'p'))
        self.assertEqual('the partial copy %s was already gone'
                         % fakes.IMAGE_ID,
                         api.delete_quietly(self.glance, fakes.IMAGE_ID))

    def test_import_methods_from_info_and_header(self):
        self.assertEqual(['glance-direct', 'glance-download'],
                         api.import_methods(self.glance))
        image, methods = api.create_image(self.glance, {'name': 'n'})
        self.assertEqual(['glance-direct', 'glance-download'], methods)
        self.glance.methods = None
        self.assertIsNone(api.import_methods(self.glance))
        self.assertEqual(None, api.create_image(self.glance, {})[1])

    def test_stage_and_import(self):
        image, _ = api.create_image(self.glance, {'name': 'n',
                                                  'disk_format': 'raw'})
        api.stage(self.glance, image['id'], [b'ab', b'c'])
        self.assertEqual('uploading',
                         api.get_image(self.glance, image['id'])['status'])
        api.import_image(self.glance, image['id'], 'glance-direct')
        self.assertEqual(('active', 3), tuple(
            api.get_image(self.glance, image['id'])[k]
            for k in ('status', 'size')))
        self.assertEqual(
            ('POST', '/v2/images/new-1/import',
             {'method': {'name': 'glance-direct'}}), self.glance.calls[-3])

    def test_usage(self):
        self.assertIsNone(api.usage(self.glance))
        self.glance.quota = {'image_count_total': {'limit': 5, 'usage': 5}}
        self.assertEqual({'image_count_total': {'limit': 5, 'usage': 5}},
                         api.usage(self.glance))

    def test_patch_adds_replaces_removes(self):
        api.patch_image(self.glance, fakes.IMAGE_ID, add={'a': '1'},
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
        found = api.iter_images(g, {'visibility': 'shared'}, limit=1)
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
        self.assertEqual([ids[0], ids[2]], [i['id'] for i in api.iter_images(
            g, {}, include_hidden=False)])
        self.assertEqual(1, len(g.calls))
