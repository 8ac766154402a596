"""Project lookups against a fake Keystone session."""

from unittest import mock

from keystoneauth1 import exceptions as ks_exc

from osc_imageshare.api import identity
from osc_imageshare import errors
from tests.unit import base
from tests.unit import fakes

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID

FILTER = {'service_type': 'identity', 'version': '3', 'interface': 'public',
          'region_name': 'RegionOne'}


def response(body):
    return mock.Mock(json=mock.Mock(return_value=body), headers={},
                     content=b'{}')


def refused(cls, status, body=None, text='', ctype='application/json'):
    """A keystoneauth exception with a response as Keystone (or not)."""
    resp = mock.Mock(status_code=status, content=text.encode(),
                     headers={'Content-Type': ctype})
    resp.json.side_effect = ValueError if body is None else None
    resp.json.return_value = body
    return cls(response=resp, http_status=status)


def keystone_404(what='project'):
    return refused(ks_exc.NotFound, 404, {'error': {
        'code': 404, 'title': 'Not Found',
        'message': 'Could not find %s.' % what}})


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
        self.assertTrue(self.ident.project_exists(ALPHA))
        self.assertEqual('alpha', self.ident.project_name_of(ALPHA))
        self.session.get.assert_called_once_with(
            '/auth/projects', endpoint_filter=FILTER)

    def test_a_list_of_projects_that_is_not_keystones_is_a_sentence(self):
        for answer, why in (
                (refused(ks_exc.BadGateway, 502, text='<html>Bad</html>',
                         ctype='text/html'), 'it answered HTTP 502'),
                (response({'nope': []}),
                 'its answer is not a list of projects'),
                (response(None), 'its answer is not a list of projects')):
            self.answers['/auth/projects'] = answer
            ident = identity.Identity(self.session, self.ident.auth_ref,
                                      'public', 'RegionOne')
            e = self.assertRaises(errors.ImageShareError, ident.my_projects)
            self.assertEqual(
                'The identity service did not list your projects (%s): '
                'check it, and the identity_endpoint_override of your '
                'clouds.yaml entry if any' % why, str(e))

    def test_own_project_name_is_the_tokens(self):
        # A share's owner is the caller: its warnings name the project
        # without a round trip to Keystone.
        self.assertEqual('alpha', self.ident.project_name_of(ALPHA))
        self.session.get.assert_not_called()

    def test_readable_project(self):
        self.answers['/projects/' + BETA] = response(
            {'project': {'id': BETA, 'name': 'beta'}})
        self.assertEqual('beta', self.ident.project_name_of(BETA))
        self.assertTrue(self.ident.project_exists(BETA))
        self.assertEqual(2, self.session.get.call_count)  # cached

    def test_missing_project(self):
        self.answers['/projects/' + BETA] = keystone_404()
        self.assertIsNone(self.ident.project_name_of(BETA))
        self.assertIs(False, self.ident.project_exists(BETA))
        self.assertIsNone(self.ident.why_unknown(BETA))

    def test_answers_not_keystones_leave_it_unknown_with_the_cause(self):
        html = refused(ks_exc.NotFound, 404, text='<html>404</html>',
                       ctype='text/html')
        for answer, cause in (
                (html, 'the identity service answered 404 with a body of '
                       'type text/html, not its JSON error'),
                (refused(ks_exc.NotFound, 404, {'error': 'x'}),
                 'the identity service answered 404 with a body of type '
                 'application/json, not its JSON error'),
                (refused(ks_exc.InternalServerError, 500),
                 'the identity service answered HTTP 500'),
                (ks_exc.ConnectTimeout(),
                 'the identity service did not answer (ConnectTimeout)'),
                (response({'project': {'id': 'other'}}),
                 'the identity service answered with a body of no stated '
                 'type that does not describe the project asked for')):
            ident = identity.Identity(self.session, self.ident.auth_ref,
                                      'public', 'RegionOne')
            self.answers['/projects/' + BETA] = answer
            self.assertIsNone(ident.project_exists(BETA))
            self.assertEqual((identity.BAD_ANSWER, cause),
                             ident.why_unknown(BETA))
            # A bad answer does not stop the lookups as a refusal does.
            self.assertTrue(ident._may_read_projects)

    def test_domains_and_users_are_told_apart(self):
        self.answers['/projects/' + BETA] = response(
            {'project': {'id': BETA, 'name': 'd', 'is_domain': True}})
        self.assertIs(False, self.ident.project_exists(BETA))
        self.answers['/users/' + BETA] = response({'user': {'id': BETA}})
        other = 'c3' * 16
        self.answers['/users/' + other] = keystone_404('user')
        self.assertTrue(self.ident.is_user(BETA))
        self.assertFalse(self.ident.is_user(other))
        self.answers['/domains/d1'] = response(
            {'domain': {'id': 'd1', 'enabled': False}})
        self.assertEqual({'id': 'd1', 'enabled': False},
                         self.ident.get_domain('d1'))
        self.ident.get_domain('d1')
        self.assertEqual(1, [c.args[0] for c in
                             self.session.get.call_args_list].count(
                                 '/domains/d1'))

    def test_own_project_is_asked_for_real(self):
        self.answers['/projects/' + ALPHA] = keystone_404()
        self.assertEqual((False, None), self.ident.check_own_project())
        self.assertTrue(self.ident.project_exists(ALPHA))   # the shortcut

    def test_forbidden_stops_asking(self):
        other = 'c3' * 16
        self.answers['/projects/' + BETA] = ks_exc.Forbidden()
        self.assertIsNone(self.ident.project_exists(BETA))
        self.assertIsNone(self.ident.project_exists(other))
        hidden = (identity.HIDDEN, 'Keystone does not let project alpha '
                  'read other projects')
        self.assertEqual(hidden, self.ident.why_unknown(BETA))
        self.assertEqual(hidden, self.ident.why_unknown(other))
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


class TestFindProject(base.TestCase):
    """``<domain>/<name>`` wherever a project is named."""

    class Names:
        projects = {('beta', 'other'): 'b1', ('a/b', None): 'ab',
                    ('beta', None): 'b0'}

        def resolve_project(self, ref, domain=None):
            if (ref, domain) not in self.projects:
                raise errors.ImageShareError('no %s in %s' % (ref, domain))
            return {'id': self.projects[ref, domain]}, True

    def test_a_domain_and_a_name(self):
        find = identity.find_project
        self.assertEqual('b1', find(self.Names(), 'other/beta')[0]['id'])
        self.assertEqual('b0', find(self.Names(), 'beta')[0]['id'])
        # A name holding a '/' is found whole.
        self.assertEqual('ab', find(self.Names(), 'a/b')[0]['id'])
        # A domain given: the ref is a name, not split.
        self.assertRaises(errors.ImageShareError, find, self.Names(),
                          'other/beta', 'other')
        # Both readings name a project: neither is guessed.
        names = self.Names()
        names.projects = dict(names.projects)
        names.projects[('b', 'a')] = 'b2'
        e = self.assertRaises(errors.ImageShareError, find, names, 'a/b')
        self.assertEqual("'a/b' names b of domain a (b2) and the project "
                         "named 'a/b' (ab): give the project ID", str(e))
        # Neither: the error of the split, which names the domain.
        e = self.assertRaises(errors.ImageShareError, find, self.Names(),
                              'other/betta')
        self.assertEqual('no betta in other', str(e))
