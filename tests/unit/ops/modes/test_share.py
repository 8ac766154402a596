"""Share mode of the transfer pipeline, on fakes: exact request lists."""

import json
import threading
import unittest
from unittest import mock

from keystoneauth1 import exceptions as ks_exc

from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import share
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import stranded
from tests.unit import fakes

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
GAMMA = 'c3' * 16
OTHER = 'd4' * 16


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
        self.assertEqual([], result.rows)   # a failure has no row


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
        self.assertEqual([], result.rows)
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
        # The count is of every member that has accepted after the run.
        self.assertIn(messages.W_UNPROTECTED.format(id=IMAGE_ID, count=2),
                      result.warnings)

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
        self.assertIn('nobody can)', result.warnings[0])
        # Whether it was ever shared nobody knows: no claim that it was.
        self.assertIn('if it was shared before', result.warnings[0])
        self.assertNotIn('while it was shared', result.warnings[0])


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

    def test_a_share_patch_keystone_failed_is_not_read_back(self):
        # Keystone failed (the token, or the Glance's check of it): Glance
        # did not act on the PATCH; nothing to read back, undo or claim.
        broken = ks_exc.ConnectFailure(
            'Unable to establish connection to '
            'http://127.0.0.1/identity/v3/auth/tokens: [Errno 111] '
            'Connection refused')
        glance = owner_glance(fail={('PATCH', IMG_URL): broken})
        result = self.transfer(glance)
        self.assertEqual([('GET', IMG_URL), share_call()], glance.calls)
        self.assertEqual((1, 1), (result.failed, result.total))
        self.assertEqual(
            'Image %s: could not update the image: connection refused by '
            'Keystone (the identity service) at http://127.0.0.1/identity/v3 '
            '(is it down?)' % IMAGE_ID, result.errors[0])

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

    def test_unprotected_counts_the_members_it_had_before(self):
        glance = owner_glance(image=fakes.image(), members=[
            fakes.member(GAMMA, 'accepted'), fakes.member(OTHER)])
        result = self.transfer(glance, accept=True, admin=True)
        self.assertIn(messages.W_UNPROTECTED.format(id=IMAGE_ID, count=2),
                      result.warnings)

    def test_a_rejection_left_as_it_is_is_said(self):
        glance = owner_glance(image=fakes.image(), members=[
            fakes.member(BETA, 'rejected')])
        result = self.transfer(glance)
        self.assertEqual([(BETA, 'rejected', 'none')],
                         [(r[2], r[4], r[5]) for r in result.rows])
        self.assertEqual((0, None), (result.failed, result.summary))
        self.assertEqual(
            "Project beta (%s) has rejected image %s, and this run left it "
            "rejected: Glance hides the image from "
            "that project's image lists, but the project can still accept "
            "it, and can still boot it by its ID; ask the project to accept "
            "it (in that project: 'openstack image share accept %s'), or "
            "revoke its membership ('openstack image share revoke %s %s')."
            % (BETA, IMAGE_ID, IMAGE_ID, IMAGE_ID, BETA),
            result.warnings[-1])

    def test_parallel_1_goes_image_by_image(self):
        ids = ['%02d' % i * 16 for i in range(3)]
        for parallel in (1, 2):
            glance = fakes.FakeGlance([fakes.image(id=i,
                                                   visibility='private')
                                       for i in ids], {i: [] for i in ids})
            result = self.transfer(glance, refs=ids, parallel=parallel)
            writes = [(c[0], c[1].split('/')[3]) for c in glance.calls
                      if c[0] in ('PATCH', 'POST')]
            # Each image shared, its member added, its run label dropped.
            one = [[('PATCH', i), ('POST', i), ('PATCH', i)] for i in ids]
            if parallel == 1:
                # One image after another: the fewest shared at a time.
                self.assertEqual(sum(one, []), writes)
            else:
                for i, image_writes in zip(ids, one):
                    self.assertEqual(image_writes,
                                     [w for w in writes if w[1] == i])
            self.assertEqual(['pending'] * 3, [r[4] for r in result.rows])
            for i in ids:
                self.assertNotIn(stranded.LABEL, glance.images[i])

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
        self.assertEqual([], result.rows)
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
        self.assertEqual([], result.rows)

    def test_a_failed_first_pair_keeps_the_image_changes_that_stand(self):
        refused = errors.Forbidden(
            'You are not authorized to complete modify_member action.')
        glance = owner_glance(fail={
            ('PUT', MEMBERS_URL + '/' + BETA): refused})
        result = self.transfer(glance, accept=True, admin=True,
                               to=['beta', GAMMA], parallel=2)
        # The failed pair has no row: the image's own change that stands
        # is named in the row of the pair done.
        self.assertEqual([(GAMMA, 'visibility private->shared, member '
                                  'added, accepted')],
                         [(r[2], r[5]) for r in result.rows])
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
        self.assertEqual([], result.rows)
        self.assertEqual(2, len(result.errors))
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
        self.assertEqual([(BETA, 'member added')],
                         [(r[2], r[5]) for r in result.rows])
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
        from osc_imageshare.ops import share_status
        glance = left_by_dead_run(False, [])
        _, warnings = share_status.read(glance, Ident(), IMAGE_ID)
        self.assertEqual(
            "Image %s was left mid-transfer by run %s (started "
            "2020-01-01T00:00:00Z), which is gone%s: finish it by re-running "
            "the interrupted command ('openstack image transfer %s --to %s' "
            "with its other options), or undo it with 'openstack image share "
            "revoke %s --all --share-briefly'." % (
                IMAGE_ID, DEAD_RUN, messages.W_STRANDED_UNCHECKED, IMAGE_ID,
                BETA, IMAGE_ID), warnings[0])
