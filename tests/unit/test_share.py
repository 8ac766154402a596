"""The share workflow: plan, apply, verify, roll back, on fakes."""

from unittest import mock

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import share
from tests.unit import base
from tests.unit import fakes

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
GAMMA = 'c3' * 16


IMG_URL = '/v2/images/%s' % IMAGE_ID
MEMBERS_URL = IMG_URL + '/members'


def patch_call(**values):
    return ('PATCH', IMG_URL, [{'op': 'replace', 'path': '/%s' % k,
                                'value': v}
                               for k, v in sorted(values.items())])


class Ident(fakes.FakeIdentity):
    """Adds what the share workflow asks of Identity."""

    def __init__(self, mine=(), rescope=True, **kw):
        super().__init__(**kw)
        self.mine = {p: {'id': p} for p in mine}
        self.rescope = rescope
        self.rescoped = []

    def my_projects(self):
        return self.mine

    def can_rescope(self):
        return self.rescope

    def rescoped_session(self, project_id):
        self.rescoped.append(project_id)
        return 'session-for-%s' % project_id

    def resolve_project(self, ref, domain=None):
        known = {'beta': BETA, BETA: BETA, 'gamma': GAMMA, GAMMA: GAMMA,
                 'alpha': ALPHA}
        if ref not in known:
            raise errors.ImageShareError('no project %s' % ref)
        return {'id': known[ref], 'name': ref if ref in (
            'beta', 'gamma', 'alpha') else None}, ref != GAMMA

    def get_project(self, project_id):
        return None


def owner_glance(image=None, members=(), fail=None):
    return fakes.FakeGlance([image or fakes.image(visibility='private')],
                            {IMAGE_ID: members}, fail)


class TestResolveTargets(base.TestCase):

    def test_to_cloud_names_its_project(self):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        open_cloud = mock.Mock(return_value=(sess, 'bob-glance'))
        [t] = share.resolve_targets(Ident(), [], None, ['bob-beta'],
                                    open_cloud=open_cloud)
        open_cloud.assert_called_once_with('bob-beta')
        self.assertEqual((BETA, 'beta', 'cloud bob-beta', 'bob-glance'),
                         (t.project_id, t.project_name, t.accept_as,
                          t.glance))

    def test_rescope_when_the_user_is_in_the_target(self):
        ident = Ident(mine=[ALPHA, BETA])
        glance_for = mock.Mock(return_value='rescoped-glance')
        [t] = share.resolve_targets(ident, ['beta'], glance_for=glance_for)
        self.assertEqual([BETA], ident.rescoped)
        glance_for.assert_called_once_with('session-for-%s' % BETA)
        self.assertEqual(('rescoped token', 'rescoped-glance'),
                         (t.accept_as, t.glance))

    def test_admin_accepts_with_its_own_client(self):
        [t] = share.resolve_targets(Ident(admin=True), ['beta'])
        self.assertEqual(('admin', None), (t.accept_as, t.glance))

    def test_no_way_to_accept_is_an_error_unless_no_accept(self):
        e = self.assertRaises(errors.ImageShareError,
                              share.resolve_targets, Ident(), ['beta'])
        self.assertIn('Cannot accept for project beta (%s)' % BETA, str(e))
        [t] = share.resolve_targets(Ident(), ['beta'], accept=False)
        self.assertIsNone(t.accept_as)

    def test_application_credentials_are_not_rescoped(self):
        ident = Ident(mine=[BETA], rescope=False)
        e = self.assertRaises(errors.ImageShareError, share.resolve_targets,
                              ident, ['beta'])
        self.assertIn('application credential, which is bound to project '
                      'alpha and cannot switch projects', str(e))
        self.assertEqual([], ident.rescoped)

    def test_copy_advice_has_no_no_accept(self):
        e = self.assertRaises(errors.ImageShareError, share.resolve_targets,
                              Ident(), ['beta'], allow_own=True)
        self.assertEqual(
            "Cannot copy into project beta (%s): your user has no role "
            "there and is not an admin. Give --to-cloud <cloud> (a "
            "clouds.yaml entry scoped to that project)" % BETA,
            str(e))

    def test_to_cloud_accepts_in_the_images_region_copies_in_its_own(self):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        open_cloud = mock.Mock(return_value=(sess, 'glance-of-its-region'))
        glance_for = mock.Mock(return_value='glance-of-our-region')
        [t] = share.resolve_targets(Ident(), [], None, ['bob-beta-r2'],
                                    open_cloud=open_cloud,
                                    glance_for=glance_for)
        glance_for.assert_called_once_with(sess)
        self.assertEqual('glance-of-our-region', t.glance)
        [t] = share.resolve_targets(Ident(), [], None, ['bob-beta-r2'],
                                    open_cloud=open_cloud,
                                    glance_for=glance_for, allow_own=True)
        self.assertEqual('glance-of-its-region', t.glance)

    def test_own_project_and_no_target_are_refused(self):
        self.assertRaises(errors.ImageShareError, share.resolve_targets,
                          Ident(), ['alpha'], accept=False)
        e = self.assertRaises(errors.ImageShareError, share.resolve_targets,
                              Ident(), [])
        self.assertEqual('Name at least one target project: --to <project> '
                         'or --to-cloud <cloud>', str(e))

    def test_duplicates_collapse(self):
        targets = share.resolve_targets(Ident(), ['beta', BETA],
                                        accept=False)
        self.assertEqual([BETA], [t.project_id for t in targets])


class TestTransfer(base.TestCase):

    def transfer(self, glance, refs=(IMAGE_ID,), to=('beta',), **kw):
        kw.setdefault('accept', False)
        return share.transfer(glance, Ident(admin=kw.pop('admin', False)),
                              list(refs), to=list(to), **kw)

    def test_private_image_shared_member_added_verified(self):
        glance = owner_glance()
        result = self.transfer(glance)
        self.assertEqual([
            ('GET', IMG_URL),
            patch_call(visibility='shared'),
            ('POST', MEMBERS_URL, {'member': BETA}),
            ('GET', MEMBERS_URL + '/' + BETA)], glance.calls)
        self.assertEqual([(IMAGE_ID, 'web', BETA, 'beta', 'pending',
                           'visibility private->shared, member added')],
                         result.rows)
        self.assertEqual((0, 1), (result.failed, result.total))
        self.assertEqual([], result.errors)

    def test_admin_accepts_and_protects(self):
        glance = owner_glance()
        result = self.transfer(glance, accept=True, admin=True,
                               protect=True)
        self.assertEqual([
            ('GET', IMG_URL),
            patch_call(visibility='shared'),
            patch_call(protected=True),
            ('POST', MEMBERS_URL, {'member': BETA}),
            ('PUT', MEMBERS_URL + '/' + BETA, {'status': 'accepted'}),
            ('GET', MEMBERS_URL + '/' + BETA)], glance.calls)
        self.assertEqual('visibility private->shared, protected, member '
                         'added, accepted', result.rows[0][5])
        self.assertEqual('accepted', result.rows[0][4])
        self.assertEqual(1, len(result.warnings))  # depends; protected

    def test_rerun_changes_nothing(self):
        glance = owner_glance(image=fakes.image(), members=[
            fakes.member(BETA, 'accepted')])
        result = self.transfer(glance, accept=True, admin=True)
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL),
                          ('GET', MEMBERS_URL + '/' + BETA)], glance.calls)
        self.assertEqual('none', result.rows[0][5])
        self.assertEqual('accepted', result.rows[0][4])

    def test_dry_run_only_reads(self):
        glance = owner_glance()
        result = self.transfer(glance, accept=True, admin=True,
                               protect=True, dry_run=True)
        self.assertEqual([('GET', IMG_URL)], glance.calls)
        self.assertEqual('plan: visibility private->shared, protect, add '
                         'member, accept as admin', result.rows[0][5])

    def test_member_quota_rolls_back_visibility(self):
        glance = owner_glance(fail={('POST', MEMBERS_URL):
                                    glance_exc.HTTPOverLimit(
            'Image member limit exceeded for image x: The limit has been '
            'exceeded. Attempted: 129, Maximum: 128:')})
        result = self.transfer(glance)
        self.assertEqual([
            ('GET', IMG_URL),
            patch_call(visibility='shared'),
            ('POST', MEMBERS_URL, {'member': BETA}),
            patch_call(visibility='private')], glance.calls)
        self.assertEqual('private', glance.images[IMAGE_ID]['visibility'])
        self.assertEqual(
            ["Image %s already has 128 members, this cloud's limit; revoke "
             "unused members first ('openstack image share revoke')"
             % IMAGE_ID], result.errors)
        self.assertEqual((1, 1), (result.failed, result.total))
        self.assertEqual('failed', result.rows[0][5])
        self.assertEqual([], result.warnings)

    def test_failed_accept_removes_the_member_it_added(self):
        glance = owner_glance(image=fakes.image(), fail={
            ('PUT', MEMBERS_URL + '/' + BETA): glance_exc.HTTPForbidden(
                'You are not authorized to complete modify_member action.')})
        result = self.transfer(glance, accept=True, admin=True)
        self.assertEqual([
            ('GET', IMG_URL), ('GET', MEMBERS_URL),
            ('POST', MEMBERS_URL, {'member': BETA}),
            ('PUT', MEMBERS_URL + '/' + BETA, {'status': 'accepted'}),
            ('DELETE', MEMBERS_URL + '/' + BETA)], glance.calls)
        self.assertEqual({}, glance.members[IMAGE_ID])
        self.assertEqual(
            ['Only project beta (%s) itself (or an admin) may accept or '
             'reject image %s; act with that project\'s credentials'
             % (BETA, IMAGE_ID)], result.errors)
        self.assertEqual('failed, rolled back', result.rows[0][5])

    def test_batch_one_pair_fails_the_other_stays(self):
        glance = owner_glance(image=fakes.image(), fail={
            ('POST', MEMBERS_URL): lambda body: glance_exc.HTTPOverLimit(
                'Maximum: 7:') if body['member'] == GAMMA else None})
        result = self.transfer(glance, to=['beta', GAMMA])
        self.assertEqual((1, 2), (result.failed, result.total))
        self.assertEqual(['member added', 'failed'],
                         [r[5] for r in result.rows])
        self.assertEqual([BETA], list(glance.members[IMAGE_ID]))
        self.assertNotIn('PATCH', [c[0] for c in glance.calls])

    def test_image_problems_fail_alone(self):
        glance = owner_glance(image=fakes.image(owner=BETA))
        result = self.transfer(glance, to=['beta', GAMMA])
        self.assertEqual(['Image %s is owned by project %s; only the owner '
                          'can share it' % (IMAGE_ID, BETA)], result.errors)
        self.assertEqual((2, 2), (result.failed, result.total))
        self.assertEqual([('GET', IMG_URL)], glance.calls)

    def test_check_image(self):
        ident = Ident()
        for img, msg in [
                (fakes.image(visibility='public'), 'is public: every project'),
                (fakes.image(visibility='community'), 'is community'),
                (fakes.image(status='queued'), 'is queued, not active'),
                (fakes.image(), None)]:
            found = share.check_image(img, ident)
            if msg is None:
                self.assertIsNone(found)
            else:
                self.assertIn(msg, found)

    def test_unverified_target_warns(self):
        glance = owner_glance(image=fakes.image())
        result = self.transfer(glance, to=[GAMMA])
        self.assertIn('Project ID %s could not be verified' % GAMMA,
                      result.warnings[0])


class TestOwnProjectAsCopyTarget(base.TestCase):

    def test_allowed_for_copies_only(self):
        [t] = share.resolve_targets(Ident(), ['alpha'], allow_own=True)
        self.assertEqual(('your own project', None), (t.accept_as, t.glance))
        self.assertRaises(errors.ImageShareError, share.resolve_targets,
                          Ident(), ['alpha'])
