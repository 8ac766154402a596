"""Project lookups against a fake Keystone session."""

from unittest import mock

from keystoneauth1 import exceptions as ks_exc

from osc_imageshare.api import identity
from tests.unit import base
from tests.unit import fakes

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID

FILTER = {'service_type': 'identity', 'version': '3', 'interface': 'public',
          'region_name': 'RegionOne'}


def response(body):
    return mock.Mock(json=mock.Mock(return_value=body))


class TestIdentity(base.TestCase):

    def setUp(self):
        super().setUp()
        self.session = mock.Mock()
        self.answers = {'/auth/projects': response(
            {'projects': [{'id': ALPHA, 'name': 'alpha'}]})}
        self.session.get.side_effect = self._get
        auth_ref = mock.Mock(project_id=ALPHA, project_name='alpha',
                             role_names=['member'])
        self.ident = identity.Identity(self.session, auth_ref, 'public',
                                       'RegionOne')

    def _get(self, path, endpoint_filter):
        self.assertEqual(FILTER, endpoint_filter)
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def test_own_projects_need_one_call(self):
        self.assertEqual('alpha', self.ident.project_name_of(ALPHA))
        self.assertTrue(self.ident.project_exists(ALPHA))
        self.session.get.assert_called_once_with(
            '/auth/projects', endpoint_filter=FILTER)

    def test_readable_project(self):
        self.answers['/projects/' + BETA] = response(
            {'project': {'id': BETA, 'name': 'beta'}})
        self.assertEqual('beta', self.ident.project_name_of(BETA))
        self.assertTrue(self.ident.project_exists(BETA))
        self.assertEqual(2, self.session.get.call_count)  # cached

    def test_missing_project(self):
        self.answers['/projects/' + BETA] = ks_exc.NotFound()
        self.assertIsNone(self.ident.project_name_of(BETA))
        self.assertIs(False, self.ident.project_exists(BETA))

    def test_forbidden_stops_asking(self):
        other = 'c3' * 16
        self.answers['/projects/' + BETA] = ks_exc.Forbidden()
        self.assertIsNone(self.ident.project_exists(BETA))
        self.assertIsNone(self.ident.project_exists(other))
        self.assertEqual(
            [mock.call('/auth/projects', endpoint_filter=FILTER),
             mock.call('/projects/' + BETA, endpoint_filter=FILTER)],
            self.session.get.call_args_list)

    def test_a_name_is_never_a_project_id(self):
        self.answers['/projects/beta'] = ks_exc.Forbidden()
        self.assertIs(False, self.ident.project_exists('beta'))

    def test_is_admin(self):
        self.assertFalse(self.ident.is_admin)
        self.ident.auth_ref.role_names = ['reader', 'admin']
        self.assertTrue(self.ident.is_admin)

    def test_looks_like_id(self):
        self.assertTrue(identity.looks_like_id(ALPHA))
        self.assertTrue(identity.looks_like_id(
            '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'))
        for value in ('beta', '', None, 'A1' * 16, ALPHA + '0'):
            self.assertFalse(identity.looks_like_id(value), value)
