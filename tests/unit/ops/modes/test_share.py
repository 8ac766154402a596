"""Share mode of the transfer pipeline, on fakes: exact request lists."""

import json
import threading
import unittest
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import share
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import recipients
from osc_imageshare.ops import stranded
from tests.unit import fakes

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
GAMMA = 'c3' * 16


IMG_URL = '/v2/images/%s' % IMAGE_ID
MEMBERS_URL = IMG_URL + '/members'


def patch_call(**values):
    return ('PATCH', IMG_URL, [{'op': 'replace', 'path': '/%s' % k,
                                'value': v}
                               for k, v in sorted(values.items())])


LABEL_PATH = '/' + stranded.LABEL


# The label's timestamp, fixed: the calls compare whole.
_STAMP = mock.patch('osc_imageshare.batch.liveness.stamp',
                    return_value=fakes.WHEN)


def setUpModule():
    _STAMP.start()


def tearDownModule():
    _STAMP.stop()


def share_call(targets=(BETA,), op=stranded.SHARE):
    """The PATCH that sets a private image shared, labelled."""
    return ('PATCH', IMG_URL, [
        {'op': 'add', 'path': LABEL_PATH,
         'value': stranded.value(list(targets), op=op)},
        {'op': 'replace', 'path': '/visibility', 'value': 'shared'}])


def checked_call(targets=(BETA,)):
    """The PATCH that records the earlier members checked."""
    return ('PATCH', IMG_URL, [
        {'op': 'add', 'path': LABEL_PATH,
         'value': stranded.value(list(targets), checked=True)}])


def restore_call(**values):
    """The PATCH that undoes the image's changes and drops the label."""
    call = patch_call(**values)
    return call[:2] + (call[2] + [{'op': 'remove', 'path': LABEL_PATH}],)


UNLABEL_CALL = ('PATCH', IMG_URL, [{'op': 'remove', 'path': LABEL_PATH}])


class Ident(fakes.FakeIdentity):
    """Adds what the share workflow asks of Identity."""

    def __init__(self, mine=(), rescope=True, **kw):
        super().__init__(**kw)
        self.mine = {p: {'id': p} for p in mine}
        self.rescope = rescope
        self.rescoped = []
        self.names.setdefault(GAMMA, 'gamma')

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


class As:
    """A client of one party on the shared fake: logs ``(who, call)``."""

    def __init__(self, glance, who, log):
        self.glance, self.who, self.log = glance, who, log
        self.http_client = self

    def __getattr__(self, method):
        def call(url, *args, **kw):
            before = len(self.glance.calls)
            try:
                return getattr(self.glance, method)(url, *args, **kw)
            finally:
                self.log.extend((self.who,) + c
                                for c in self.glance.calls[before:])
        return call


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
        [t] = recipients.resolve(Ident(), ['beta'], accept=False)
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
                          Ident(), ['alpha'], accept=False)
        with self.assertRaises(errors.ImageShareError) as e:
            recipients.resolve(Ident(), [])
        self.assertEqual('Name at least one target project: --to <project> '
                         'or --to-cloud <cloud>', str(e.exception))

    def test_own_project_allowed_for_copies_only(self):
        [t] = recipients.resolve(Ident(), ['alpha'], allow_own=True)
        self.assertEqual((recipients.Accept.OWN, None), (t.accept, t.glance))

    def test_duplicates_collapse(self):
        found = recipients.resolve(Ident(), ['beta', BETA], accept=False)
        self.assertEqual([BETA], [t.project_id for t in found])


class TestRoundTrips(unittest.TestCase):
    """One image, one --to-cloud target: every Glance request, exactly."""

    def run_to_cloud(self, glance, **kw):
        log = []
        auth_threads = []
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')

        def open_cloud(name):
            auth_threads.append(threading.current_thread())
            return sess, As(glance, 'beta', log)

        result = pipeline.transfer(
            As(glance, 'alpha', log), Ident(), [IMAGE_ID], 'share',
            to_clouds=['bob-beta'], open_cloud=open_cloud, **kw)
        # The target authenticates while the owner's reads run.
        self.assertEqual(1, len(auth_threads))
        self.assertIsNot(threading.main_thread(), auth_threads[0])
        return result, log

    def test_shared_image_four_requests(self):
        glance = owner_glance(image=fakes.image())
        result, log = self.run_to_cloud(glance)
        self.assertEqual([
            ('alpha', 'GET', IMG_URL),
            ('alpha', 'GET', MEMBERS_URL),
            ('alpha', 'POST', MEMBERS_URL, {'member': BETA}),
            ('beta', 'PUT', MEMBERS_URL + '/' + BETA,
             {'status': 'accepted'})], log)
        self.assertEqual([(IMAGE_ID, 'web', BETA, 'beta', 'accepted',
                           'member added, accepted')], result.rows)
        self.assertEqual((0, 1, None), (result.failed, result.total,
                                        result.summary))

    def test_private_image_six_requests(self):
        glance = owner_glance()
        result, log = self.run_to_cloud(glance)
        self.assertEqual([
            ('alpha', 'GET', IMG_URL),
            ('alpha',) + share_call(),
            ('alpha', 'GET', MEMBERS_URL),
            ('alpha', 'POST', MEMBERS_URL, {'member': BETA}),
            ('beta', 'PUT', MEMBERS_URL + '/' + BETA,
             {'status': 'accepted'}),
            # Done: the label of the share under way goes.
            ('alpha',) + UNLABEL_CALL], log)
        self.assertNotIn(stranded.LABEL, glance.images[IMAGE_ID])
        self.assertEqual('visibility private->shared, member added, '
                         'accepted', result.rows[0][5])

    def test_rerun_two_requests(self):
        glance = owner_glance(image=fakes.image(), members=[
            fakes.member(BETA, 'accepted')])
        result, log = self.run_to_cloud(glance)
        self.assertEqual([('alpha', 'GET', IMG_URL),
                          ('alpha', 'GET', MEMBERS_URL)], log)
        self.assertEqual(('accepted', 'none'), result.rows[0][4:])

    def test_an_accept_answer_that_is_not_accepted_fails_and_rolls_back(self):
        glance = owner_glance(image=fakes.image())
        real_put = glance.put

        def put(url, data=None, **kw):
            real_put(url, data)
            return None, fakes.member(BETA, 'pending')
        glance.put = put
        result, log = self.run_to_cloud(glance)
        self.assertEqual(['Image %s: membership of beta (%s) reads pending '
                          'after accepting' % (IMAGE_ID, BETA)],
                         result.errors)
        self.assertEqual(('alpha', 'DELETE', MEMBERS_URL + '/' + BETA),
                         log[-1])
        self.assertEqual('failed, rolled back', result.rows[0][5])


class TestEarlierMembers(unittest.TestCase):
    """A private image hides members that sharing it brings back."""

    def glance(self):
        return owner_glance(members=[fakes.member(GAMMA, 'accepted')])

    def transfer(self, glance, **kw):
        return pipeline.transfer(glance, Ident(admin=True), [IMAGE_ID],
                                 'share', to=['beta'], **kw)

    def test_refused_by_default_and_the_image_is_private_again(self):
        glance = self.glance()
        result = self.transfer(glance)
        self.assertEqual([
            ('GET', IMG_URL),
            share_call(),
            ('GET', MEMBERS_URL),
            restore_call(visibility='private')], glance.calls)
        self.assertEqual('private', glance.images[IMAGE_ID]['visibility'])
        self.assertNotIn(stranded.LABEL, glance.images[IMAGE_ID])
        self.assertEqual([messages.E_EARLIER.format(
            id=IMAGE_ID, members='gamma (%s) accepted' % GAMMA)],
            result.errors)
        self.assertIn('Give --revoke-earlier-members to remove them, or '
                      '--keep-earlier-members to keep them',
                      result.errors[0])
        self.assertEqual((1, 1), (result.failed, result.total))
        self.assertEqual('failed', result.rows[0][5])
        self.assertEqual([], result.warnings)
        self.assertNotIn(BETA, glance.members[IMAGE_ID])

    def test_revoke_removes_them_in_the_same_run(self):
        glance = self.glance()
        result = self.transfer(glance, earlier_members='revoke')
        self.assertEqual([
            ('GET', IMG_URL),
            share_call(),
            ('GET', MEMBERS_URL),
            ('DELETE', MEMBERS_URL + '/' + GAMMA),
            checked_call(),
            ('POST', MEMBERS_URL, {'member': BETA}),
            ('PUT', MEMBERS_URL + '/' + BETA, {'status': 'accepted'}),
            UNLABEL_CALL], glance.calls)
        self.assertEqual([BETA], list(glance.members[IMAGE_ID]))
        self.assertEqual('visibility private->shared, earlier members '
                         'removed: %s, member added, accepted' % GAMMA,
                         result.rows[0][5])
        self.assertEqual([], result.errors)

    def test_keep_keeps_them_with_a_warning(self):
        glance = self.glance()
        result = self.transfer(glance, earlier_members='keep')
        self.assertEqual({GAMMA: 'accepted', BETA: 'accepted'}, {
            k: v['status'] for k, v in glance.members[IMAGE_ID].items()})
        self.assertEqual(messages.W_KEPT.format(
            id=IMAGE_ID, members='gamma (%s) accepted' % GAMMA),
            result.warnings[0])

    def test_kept_members_are_not_warned_about_when_the_image_fails(self):
        glance = owner_glance(members=[fakes.member(GAMMA, 'accepted')],
                              fail={('POST', MEMBERS_URL):
                                    errors.RequestEntityTooLarge(
                                        'Maximum: 1:')})
        result = self.transfer(glance, earlier_members='keep')
        self.assertEqual('private', glance.images[IMAGE_ID]['visibility'])
        self.assertEqual([], result.warnings)
        self.assertEqual(1, result.failed)

    def test_the_target_itself_hidden_is_no_earlier_member(self):
        glance = owner_glance(members=[fakes.member(BETA, 'accepted')])
        result = self.transfer(glance)
        self.assertEqual([
            ('GET', IMG_URL),
            share_call(),
            ('GET', MEMBERS_URL),
            UNLABEL_CALL], glance.calls)
        self.assertEqual(('accepted', 'visibility private->shared'),
                         result.rows[0][4:])

    def test_dry_run_says_they_cannot_be_seen(self):
        glance = self.glance()
        result = self.transfer(glance, dry_run=True)
        self.assertEqual([('GET', IMG_URL)], glance.calls)
        self.assertEqual('plan: visibility private->shared, check earlier '
                         'members, add member, accept as admin',
                         result.rows[0][5])
        self.assertEqual([messages.W_HIDDEN.format(
            id=IMAGE_ID, then=messages.HIDDEN_THEN['refuse'])],
            result.warnings)
        self.assertIn('nobody can list them', result.warnings[0])


class TestTransfer(unittest.TestCase):

    def transfer(self, glance, refs=(IMAGE_ID,), to=('beta',), **kw):
        kw.setdefault('accept', False)
        return pipeline.transfer(glance, Ident(admin=kw.pop('admin', False)),
                                 list(refs), 'share', to=list(to), **kw)

    def test_one_image_by_name_by_id_and_by_tag_is_one_pair(self):
        glance = owner_glance(image=fakes.image(tags=['gold']))
        result = self.transfer(glance, refs=('web', IMAGE_ID),
                               admin=True, accept=True, tags=['gold'])
        self.assertEqual([(IMAGE_ID, BETA, 'accepted')],
                         [(r[0], r[2], r[4]) for r in result.rows])
        self.assertEqual((0, 1), (result.failed, result.total))
        self.assertIn(messages.W_UNPROTECTED.format(
            id=IMAGE_ID, count=1), result.warnings)
        self.assertEqual(1, len([c for c in glance.calls
                                 if c[0] == 'POST']))

    def test_one_image_refused_twice_is_one_failure(self):
        glance = owner_glance(image=fakes.image(owner=BETA))
        result = self.transfer(glance, refs=('web', IMAGE_ID))
        self.assertEqual((1, 1), (result.failed, result.total))

    def test_a_broken_share_patch_is_read_back_and_undone(self):
        # A connection reset on the PATCH that shares: it may or may not
        # have reached Glance.  The run reads the image back: untouched,
        # nothing to undo; unreadable, it undoes it as if it had landed,
        # and, that failing too, names the image left shared.
        broken = errors.TransportError('connection reset by the Glance')
        glance = owner_glance(fail={('PATCH', IMG_URL): broken})
        glance.policy.retries = 0   # past the door's retries (test_retry)
        result = self.transfer(glance)
        self.assertEqual([('GET', IMG_URL), share_call(), ('GET', IMG_URL)],
                         glance.calls)
        self.assertEqual((1, 1), (result.failed, result.total))
        left = messages.W_LEFT.format(id=IMAGE_ID, state='shared',
                                      label=stranded.LABEL)
        self.assertNotIn(left, result.errors[0])
        reads = []

        def down_after_first(body):
            reads.append(body)
            return broken if len(reads) > 1 else None
        glance = owner_glance(fail={('PATCH', IMG_URL): broken,
                                    ('GET', IMG_URL): down_after_first})
        glance.policy.retries = 0
        result = self.transfer(glance)
        self.assertEqual([('GET', IMG_URL), share_call(), ('GET', IMG_URL),
                          restore_call(visibility='private')], glance.calls)
        self.assertIn(left, result.errors[0])

    def test_private_image_shared_member_added(self):
        glance = owner_glance()
        result = self.transfer(glance)
        self.assertEqual([
            ('GET', IMG_URL),
            share_call(),
            ('GET', MEMBERS_URL),
            ('POST', MEMBERS_URL, {'member': BETA}),
            UNLABEL_CALL], glance.calls)
        self.assertEqual([(IMAGE_ID, 'web', BETA, 'beta', 'pending',
                           'visibility private->shared, member added')],
                         result.rows)
        self.assertEqual((0, 1), (result.failed, result.total))
        self.assertEqual([], result.errors)
        self.assertEqual(messages.W_PENDING.format(
            member_label='beta (%s)' % BETA, id=IMAGE_ID,
            since=fakes.WHEN), result.warnings[1])

    def test_admin_accepts_and_protects(self):
        glance = owner_glance()
        result = self.transfer(glance, accept=True, admin=True,
                               protect=True)
        self.assertEqual([
            ('GET', IMG_URL),
            share_call(),
            ('GET', MEMBERS_URL),
            patch_call(protected=True),
            ('POST', MEMBERS_URL, {'member': BETA}),
            ('PUT', MEMBERS_URL + '/' + BETA, {'status': 'accepted'}),
            UNLABEL_CALL], glance.calls)
        self.assertEqual('visibility private->shared, protected, member '
                         'added, accepted', result.rows[0][5])
        self.assertEqual('accepted', result.rows[0][4])
        self.assertEqual([messages.W_DEPENDS.format(
            id=IMAGE_ID, owner_label='alpha (%s)' % ALPHA)],
            result.warnings)

    def test_unprotected_warning_counts_the_accepted(self):
        glance = owner_glance(image=fakes.image())
        result = self.transfer(glance, accept=True, admin=True)
        self.assertEqual(messages.W_UNPROTECTED.format(id=IMAGE_ID, count=1),
                         result.warnings[1])

    def test_dry_run_steps_are_the_steps_the_run_takes(self):
        dry = self.transfer(owner_glance(), accept=True, admin=True,
                            protect=True, to=['beta', GAMMA], dry_run=True)
        self.assertEqual([[]] * 2, [p.done for p in dry.plan.pairs])
        run = self.transfer(owner_glance(), accept=True, admin=True,
                            protect=True, to=['beta', GAMMA])
        texts = [[s.text for s in p.steps] for p in run.plan.pairs]
        self.assertEqual([[s.text for s in p.steps]
                          for p in dry.plan.pairs], texts)
        self.assertEqual([['visibility private->shared',
                           'check earlier members', 'protect', 'add member',
                           'accept as admin'],
                          ['add member', 'accept as admin']], texts)
        for p in run.plan.pairs:   # the very objects of the plan, in order
            self.assertEqual([id(s) for s in p.steps],
                             [id(s) for s in p.done])

    def test_dry_run_only_reads(self):
        glance = owner_glance()
        result = self.transfer(glance, accept=True, admin=True,
                               protect=True, dry_run=True)
        self.assertEqual([('GET', IMG_URL)], glance.calls)
        self.assertEqual('plan: visibility private->shared, check earlier '
                         'members, protect, add member, accept as admin',
                         result.rows[0][5])

    def test_member_quota_rolls_back_visibility(self):
        glance = owner_glance(fail={('POST', MEMBERS_URL):
                                    errors.RequestEntityTooLarge(
            'Image member limit exceeded for image x: The limit has been '
            'exceeded. Attempted: 129, Maximum: 128:')})
        result = self.transfer(glance)
        self.assertEqual([
            ('GET', IMG_URL),
            share_call(),
            ('GET', MEMBERS_URL),
            ('POST', MEMBERS_URL, {'member': BETA}),
            restore_call(visibility='private')], glance.calls)
        self.assertEqual('private', glance.images[IMAGE_ID]['visibility'])
        self.assertEqual(
            ["Image %s already has 128 members, this cloud's limit; revoke "
             "unused members first ('openstack image share revoke')"
             % IMAGE_ID], result.errors)
        self.assertEqual((1, 1), (result.failed, result.total))
        self.assertEqual('Failed to transfer 1 of 1 image/project pairs',
                         result.summary)
        self.assertEqual('failed', result.rows[0][5])
        self.assertEqual([], result.warnings)

    def test_failed_accept_removes_the_member_it_added(self):
        glance = owner_glance(image=fakes.image(), fail={
            ('PUT', MEMBERS_URL + '/' + BETA): errors.Forbidden(
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

    def test_a_failed_first_pair_keeps_the_image_changes_that_stand(self):
        refused = errors.Forbidden(
            'You are not authorized to complete modify_member action.')
        glance = owner_glance(fail={
            ('PUT', MEMBERS_URL + '/' + BETA): refused})
        result = self.transfer(glance, accept=True, admin=True,
                               to=['beta', GAMMA], parallel=2)
        self.assertEqual(['failed, visibility private->shared, rolled back',
                          'member added, accepted'],
                         [r[5] for r in result.rows])
        self.assertEqual('shared', glance.images[IMAGE_ID]['visibility'])
        self.assertEqual([GAMMA], list(glance.members[IMAGE_ID]))

    def test_all_pairs_failed_drops_the_image_changes_undone(self):
        refused = errors.Forbidden(
            'You are not authorized to complete modify_member action.')
        glance = owner_glance(fail={
            ('PUT', MEMBERS_URL + '/' + BETA): refused,
            ('PUT', MEMBERS_URL + '/' + GAMMA): refused})
        result = self.transfer(glance, accept=True, admin=True,
                               protect=True, to=['beta', GAMMA], parallel=2)
        self.assertEqual(['failed, rolled back'] * 2,
                         [r[5] for r in result.rows])
        self.assertEqual(('private', False), (
            glance.images[IMAGE_ID]['visibility'],
            glance.images[IMAGE_ID]['protected']))
        self.assertEqual({}, glance.members[IMAGE_ID])
        self.assertEqual(restore_call(visibility='private', protected=False),
                         glance.calls[-1])

    def test_batch_one_pair_fails_the_other_stays(self):
        glance = owner_glance(image=fakes.image(), fail={
            ('POST', MEMBERS_URL): lambda body: errors.RequestEntityTooLarge(
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

    def test_a_target_error_comes_before_any_write(self):
        glance = owner_glance()
        self.assertRaises(errors.ImageShareError, self.transfer, glance,
                          to=['betta'])
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
        self.assertEqual(messages.W_UNVERIFIED.format(to=GAMMA),
                         result.warnings[0])


DEAD_RUN = 'deadhost:1:1'   # another machine, started long ago: gone


def left_by_dead_run(checked, members, targets=(BETA,)):
    """An image a dead run set shared, its label left behind."""
    image = fakes.image(visibility='shared')
    image[stranded.LABEL] = json.dumps({
        'run': DEAD_RUN, 'started': '2020-01-01T00:00:00Z',
        'targets': list(targets), 'checked': checked, 'op': 'share'})
    return owner_glance(image=image, members=members)


class TestLeftByADeadRun(unittest.TestCase):

    def transfer(self, glance, **kw):
        return pipeline.transfer(glance, Ident(admin=True), [IMAGE_ID],
                                 'share', to=['beta'], accept=True, **kw)

    def test_unchecked_runs_the_check_and_refuses_hidden_members(self):
        glance = left_by_dead_run(False, [fakes.member(GAMMA, 'accepted')])
        result = self.transfer(glance)
        self.assertEqual([messages.E_EARLIER.format(
            id=IMAGE_ID, members='gamma (%s) accepted' % GAMMA)],
            result.errors)
        image = glance.images[IMAGE_ID]
        self.assertEqual(('private', None), (image['visibility'],
                                             image.get(stranded.LABEL)))

    def test_the_dead_runs_own_pending_member_is_accepted(self):
        # Unchecked, but the only member is one it added for its target.
        glance = left_by_dead_run(False, [fakes.member(BETA, 'pending')])
        result = self.transfer(glance)
        self.assertEqual([], result.errors)
        self.assertEqual({BETA: 'accepted'}, {
            m: v['status'] for m, v in glance.members[IMAGE_ID].items()})
        self.assertNotIn(stranded.LABEL, glance.images[IMAGE_ID])

    def test_checked_is_resumed_without_asking_again(self):
        glance = left_by_dead_run(True, [fakes.member(GAMMA, 'accepted'),
                                         fakes.member(BETA, 'pending')],
                                  targets=(BETA,))
        plan = self.transfer(glance, dry_run=True)
        self.assertEqual('plan: finish what run %s left (it died), accept '
                         'as admin' % DEAD_RUN, plan.rows[0][5])
        result = self.transfer(glance)
        self.assertEqual([], result.errors)
        self.assertEqual({GAMMA: 'accepted', BETA: 'accepted'}, {
            m: v['status'] for m, v in glance.members[IMAGE_ID].items()})
        image = glance.images[IMAGE_ID]
        self.assertEqual(('shared', None), (image['visibility'],
                                            image.get(stranded.LABEL)))

    def test_status_names_the_commands(self):
        from osc_imageshare.ops import access
        glance = left_by_dead_run(False, [])
        _, warnings = access.share_status(glance, Ident(), IMAGE_ID)
        self.assertEqual(messages.W_STRANDED.format(
            id=IMAGE_ID, run=DEAD_RUN, started='2020-01-01T00:00:00Z',
            unchecked=messages.W_STRANDED_UNCHECKED, to=' --to %s' % BETA),
            warnings[0])
