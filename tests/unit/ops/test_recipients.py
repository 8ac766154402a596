"""Unit tests of ops.recipients: the targets and how each accepts."""

import unittest
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.ops import recipients
from tests.unit.ops.modes import test_share

Ident = test_share.Ident

ALPHA, BETA = test_share.ALPHA, test_share.BETA
NONE = recipients.AcceptPolicy.NONE


class TestResolveTargets(unittest.TestCase):

    def test_to_cloud_names_its_project(self):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        open_cloud = mock.Mock(return_value=(sess, 'bob-glance'))
        [t] = recipients.resolve(Ident(), [], None, ['bob-beta'],
                                 open_cloud=open_cloud)
        open_cloud.assert_called_once_with('bob-beta')
        self.assertEqual((BETA, 'beta', recipients.Accept.CLOUD,
                          'cloud bob-beta', 'bob-glance'),
                         (t.project_id, t.project_name, t.accept,
                          t.accept_as, t.glance))

    def test_one_entry_twice_is_one_two_entries_of_a_project_refused(self):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        open_cloud = mock.Mock(return_value=(sess, 'bob-glance'))
        [t] = recipients.resolve(Ident(), [], None, ['bob-beta', 'bob-beta'],
                                 open_cloud=open_cloud)
        open_cloud.assert_called_once_with('bob-beta')
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(), [], None, ['bob-beta', 'bob-beta-r2'],
                               open_cloud=open_cloud)
        self.assertEqual(recipients.E_TWO_CLOUDS.format(
            first='bob-beta', second='bob-beta-r2', project='beta', id=BETA),
            str(e.exception))

    def test_a_copys_project_by_to_and_to_cloud_is_refused_a_share_one(self):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        open_cloud = mock.Mock(return_value=(sess, 'bob-glance'))
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(), ['beta'], None, ['bob-beta-r2'],
                               open_cloud=open_cloud, allow_own=True)
        self.assertEqual(recipients.E_TO_AND_CLOUD.format(
            label='beta (%s)' % BETA, cloud='bob-beta-r2'), str(e.exception))
        # Sharing: one membership in the image's Glance, either way.
        [t] = recipients.resolve(Ident(), ['beta'], None, ['bob-beta-r2'],
                                 open_cloud=open_cloud,
                                 glance_for=lambda sess: 'shared-glance')
        self.assertEqual(('bob-beta-r2', 'shared-glance'), (t.cloud, t.glance))

    def test_per_glance_one_project_in_two_regions_is_two_targets(self):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        glances = {'beta-r1': mock.Mock(endpoint='http://r1/image'),
                   'beta-r2': mock.Mock(endpoint='http://r2/image'),
                   'beta-r2b': mock.Mock(endpoint='http://r2/image')}

        def open_cloud(name):
            return sess, glances[name]
        targets = recipients.resolve(Ident(), [], None, ['beta-r1', 'beta-r2'],
                                     open_cloud=open_cloud, allow_own=True,
                                     per_glance=True)
        self.assertEqual([('beta-r1', BETA), ('beta-r2', BETA)],
                         [(t.cloud, t.project_id) for t in targets])
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(), [], None, ['beta-r2', 'beta-r2b'],
                               open_cloud=open_cloud, allow_own=True,
                               per_glance=True)
        self.assertEqual(recipients.E_ONE_GLANCE.format(
            first='beta-r2', second='beta-r2b', project='beta', id=BETA),
            str(e.exception))

    def test_rescope_when_the_user_is_in_the_target(self):
        ident = Ident(mine=[ALPHA, BETA])
        glance_for = mock.Mock(return_value='rescoped-glance')
        [t] = recipients.resolve(ident, ['beta'], glance_for=glance_for)
        self.assertEqual([BETA], ident.rescoped)
        glance_for.assert_called_once_with('session-for-%s' % BETA)
        self.assertEqual((recipients.Accept.RESCOPED, 'rescoped token',
                          'rescoped-glance'),
                         (t.accept, t.accept_as, t.glance))

    def test_admin_accepts_with_its_own_client(self):
        [t] = recipients.resolve(Ident(admin=True), ['beta'])
        self.assertEqual((recipients.Accept.ADMIN, None), (t.accept, t.glance))

    def test_no_way_to_accept_is_an_error_unless_no_accept(self):
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(), ['beta'])
        self.assertIn('Cannot accept for project beta (%s)' % BETA,
                      str(e.exception))
        [t] = recipients.resolve(Ident(), ['beta'], accept=NONE)
        self.assertIs(recipients.Accept.NONE, t.accept)

    def test_application_credentials_are_not_rescoped(self):
        ident = Ident(mine=[BETA], rescope=False)
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(ident, ['beta'])
        self.assertIn('application credential, which is bound to project '
                      'alpha and cannot switch projects', str(e.exception))
        self.assertEqual([], ident.rescoped)

    def test_copy_advice_has_no_no_accept(self):
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(), ['beta'], allow_own=True)
        self.assertEqual(
            "Cannot copy into project beta (%s): your user has no role "
            "there and is not an admin. Give --to-cloud <cloud> (a "
            "clouds.yaml entry scoped to that project)" % BETA,
            str(e.exception))

    def test_to_cloud_accepts_in_the_images_region_copies_in_its_own(self):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        open_cloud = mock.Mock(return_value=(sess, 'glance-of-its-region'))
        glance_for = mock.Mock(return_value='glance-of-our-region')
        [t] = recipients.resolve(Ident(), [], None, ['bob-beta-r2'],
                                 open_cloud=open_cloud, glance_for=glance_for)
        glance_for.assert_called_once_with(sess)
        self.assertEqual('glance-of-our-region', t.glance)
        [t] = recipients.resolve(Ident(), [], None, ['bob-beta-r2'],
                                 open_cloud=open_cloud, glance_for=glance_for,
                                 allow_own=True)
        self.assertEqual('glance-of-its-region', t.glance)

    def test_own_project_and_no_target_are_refused(self):
        self.assertRaises(errors.ImageShareError, recipients.resolve,
                          Ident(), ['alpha'], accept=NONE)
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(), [])
        self.assertEqual('Name at least one target project: --to <project> '
                         'or --to-cloud <cloud>', str(e.exception))

    def test_own_project_allowed_for_copies_only(self):
        [t] = recipients.resolve(Ident(), ['alpha'], allow_own=True)
        self.assertEqual((recipients.Accept.OWN, None), (t.accept, t.glance))

    def test_duplicates_collapse(self):
        found = recipients.resolve(Ident(), ['beta', BETA], accept=NONE)
        self.assertEqual([BETA], [t.project_id for t in found])


class TestExclude(unittest.TestCase):
    """--exclude: projects of the --to-domain left out, typos refused."""

    PROJECTS = [{'id': ALPHA, 'name': 'alpha', 'domain_id': 'default'},
                {'id': BETA, 'name': 'beta', 'domain_id': 'default'},
                {'id': 'c3' * 16, 'name': 'service', 'domain_id': 'default'}]

    def test_by_id_name_and_domain_slash_name(self):
        for refs in (['service'], ['c3' * 16], ['Default/service'],
                     ['default/service'], ['service', 'Default/service']):
            kept, left_out = recipients.exclude_projects(
                self.PROJECTS, refs, 'Default')
            self.assertEqual([ALPHA, BETA], [p['id'] for p in kept], refs)
            self.assertEqual(['c3' * 16], [p['id'] for p in left_out], refs)
        self.assertEqual(
            "Left out of domain 'Default' (--exclude): service (%s), beta "
            "(%s)" % ('c3' * 16, BETA), recipients.excluded_note(
                recipients.exclude_projects(
                    self.PROJECTS, ['service', BETA], 'Default')[1],
                'Default'))
        self.assertIsNone(recipients.excluded_note([], 'Default'))

    def test_one_that_names_no_project_of_the_domain_is_an_error(self):
        for ref in ('servce', 'other/service', 'Service'):
            with self.assertRaises(errors.ImageShareError) as e:
                recipients.exclude_projects(self.PROJECTS, ['beta', ref],
                                            'Default')
            self.assertEqual(
                "--exclude '%s': no enabled project of domain 'Default' has "
                "this ID or name; nothing was changed (give a project ID, a "
                "name, or Default/<name>)" % ref, str(e.exception))

    def test_a_target_named_and_excluded_is_refused(self):
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(admin=True), ['beta'], projects=[
                self.PROJECTS[0]], excluded=[self.PROJECTS[1]])
        self.assertEqual('Project beta (%s) is named as a target and '
                         'excluded (--exclude): give one or the other'
                         % BETA, str(e.exception))

    def test_a_domain_with_no_project_left_says_so(self):
        # Ident() acts as ALPHA: its own project is never a target.
        for projects, excluded, but in (
                ([], [], ''),
                ([self.PROJECTS[0]], [], ' but your own project'),
                ([self.PROJECTS[0]], self.PROJECTS[1:],
                 ' but your own project and those of --exclude (beta (%s), '
                 'service (%s))' % (BETA, 'c3' * 16)),
                ([], self.PROJECTS[1:2],
                 ' but those of --exclude (beta (%s))' % BETA)):
            with self.assertRaises(errors.ImageShareError) as e:
                recipients.resolve(Ident(admin=True), [], projects=projects,
                                   excluded=excluded, domain='Default')
            self.assertEqual("Domain 'Default' has no enabled project to "
                             "share with%s: no target project; nothing was "
                             "changed" % but, str(e.exception))
