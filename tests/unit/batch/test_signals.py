"""INT, TERM and HUP while a batch runs in worker threads; on fakes."""

import signal
import threading
import unittest
from unittest import mock

from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import heartbeat
from osc_imageshare.ops import audit
from osc_imageshare.ops import membership
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import share_set
from tests.unit import base
from tests.unit import fakes
from tests.unit.imagecopy import test_engine as test_copy
from tests.unit.ops.modes import test_copy as test_transfer_copy
from tests.unit.ops.modes import test_share
from tests.unit.ops import test_audit

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
GAMMA = test_share.GAMMA


def handlers():
    return [signal.getsignal(getattr(signal, n)) for n in signals.SIGNALS]


class TestRun(unittest.TestCase):

    def test_signal_stops_workers_and_starts_nothing_more(self):
        before = handlers()
        started = threading.Barrier(2, timeout=30)
        calls = []

        def fn(i):
            calls.append(i)
            started.wait()
            if i == 0:
                base.signal_self(signal.SIGHUP)
            signals.sleep(5)          # cut short by the signal
            return i

        with self.assertRaises(signals.BatchStopped) as cm:
            runner.run(fn, range(3), 2)
        e = cm.exception
        self.assertEqual('SIGHUP', e.name)
        self.assertEqual([0, 1], sorted(calls))
        self.assertEqual(['SIGHUP', 'SIGHUP'],
                         [r.name for r in e.results[:2]])
        self.assertIs(signals.NOT_STARTED, e.results[2])
        self.assertEqual(([], [0, 1], [2]), (
            e.pick(range(3))[0], [i for i, _ in e.pick(range(3))[1]],
            e.pick(range(3))[2]))
        self.assertEqual(before, handlers())
        self.assertEqual('Interrupted by SIGHUP before anything was '
                         'changed', str(e))

    def test_a_second_signal_keeps_the_first_name(self):
        started = threading.Barrier(2, timeout=30)

        def fn(i):
            started.wait()
            if i == 0:
                base.signal_self(signal.SIGTERM)
                signals.current().event.wait(5)
                base.signal_self(signal.SIGINT)
            signals.sleep(5)

        with self.assertRaises(signals.BatchStopped) as cm:
            runner.run(fn, range(2), 2)
        self.assertEqual('SIGTERM', cm.exception.name)

    def test_without_a_signal_check_and_sleep_pass(self):
        def fn(i):
            signals.check()
            signals.sleep(0)
            return i

        self.assertEqual([0, 1, 2], runner.run(fn, range(3), 2))
        self.assertIsNone(signals.current())


class TestCopyInAWorker(test_copy.CopyCase):

    def test_stop_mid_stream_deletes_the_partial_copy(self):
        batch = signals.Stop()
        self.target.on_data = lambda chunk: batch.set(signal.SIGTERM)
        with signals.joined(batch):
            e = self.assertRaises(engine.Interrupted, self.copy)
        self.assertEqual(
            'Interrupted by SIGTERM while copying image %s into project '
            '%s: the partial copy new-1 in project %s was deleted'
            % (IMAGE_ID, BETA, BETA), str(e))
        self.assertEqual({}, self.target.images)
        self.assertEqual(signal.SIG_DFL, signal.getsignal(signal.SIGTERM))

    def test_stop_before_the_copy_is_made_leaves_nothing(self):
        batch = signals.Stop()
        batch.set(signal.SIGINT)
        with signals.joined(batch):
            e = self.assertRaises(engine.Interrupted, self.copy)
        self.assertEqual(
            'Interrupted by SIGINT while copying image %s into project '
            '%s: nothing was left behind' % (IMAGE_ID, BETA), str(e))
        self.assertEqual(0, self.target.created)

    def test_two_copies_at_once_both_deleted_on_sigterm(self):
        targets = [fakes.FakeGlance([], owner=BETA),
                   fakes.FakeGlance([], owner=GAMMA)]
        streaming = threading.Barrier(2, timeout=30)

        def first(chunk):
            if not first.sent:
                first.sent = True
                streaming.wait()
                base.signal_self(signal.SIGTERM)
                signals.current().event.wait(5)
        first.sent = False

        def second(chunk):
            if not second.waited:
                second.waited = True
                streaming.wait()
                signals.current().event.wait(5)
        second.waited = False
        targets[0].on_data, targets[1].on_data = first, second

        def one(t):
            return engine.copy_image(self.glance, t, self.src, t.owner,
                                     warn=self.warnings.append)

        e = self.assertRaises(signals.BatchStopped, runner.run, one,
                              targets, 2)
        self.assertEqual([
            'Interrupted by SIGTERM while copying image %s into project '
            '%s: the partial copy new-1 in project %s was deleted'
            % (IMAGE_ID, pid, pid) for pid in (BETA, GAMMA)],
            [str(r) for r in e.results])
        self.assertEqual([{}, {}], [t.images for t in targets])
        self.assertEqual(signal.SIG_DFL, signal.getsignal(signal.SIGTERM))


class TestCopyMode(unittest.TestCase):

    def setUp(self):
        self.glance = test_transfer_copy.Glance([fakes.image(size=10)])
        patcher = mock.patch.object(engine, 'copy_image')
        self.copy_image = patcher.start()
        self.addCleanup(patcher.stop)

    def test_one_line_per_pair_then_the_summary(self):
        started = threading.Barrier(2, timeout=30)

        def made(glance, target_glance, source, project_id, *a, **kw):
            started.wait()
            if project_id == BETA:
                base.signal_self(signal.SIGTERM)
                signals.current().event.wait(5)
                raise engine.Interrupted('cut: %s' % project_id)
            signals.current().event.wait(5)
            return engine.CopyResult(source, dict(source, id='copy'),
                                     project_id, 2.0)
        self.copy_image.side_effect = made
        with self.assertRaises(signals.Interrupted) as cm:
            pipeline.transfer(self.glance, test_share.Ident(admin=True),
                              [IMAGE_ID], 'copy', to=['beta', GAMMA],
                              parallel=2)
        e = cm.exception
        self.assertEqual(
            'Image %s: copied into project %s as copy (copied), kept\n'
            'cut: %s\n'
            'Interrupted by SIGTERM: of 2 image/project pairs, 1 copied, 0 '
            'failed, 1 interrupted (their partial copies cleaned up as said '
            'above), 0 not started' % (IMAGE_ID, GAMMA, BETA), str(e))
        self.assertEqual(2, self.copy_image.call_count)


class TestCopyModeOneAtATime(TestCopyMode):

    def test_at_parallel_1_the_summary_counts_each_pair(self):
        # Three targets, one copy at a time: the second is cut, the third
        # never starts; the first is kept, and the summary says so.
        def made(glance, target_glance, source, project_id, *a, **kw):
            if project_id == BETA:
                base.signal_self(signal.SIGTERM)
                signals.current().event.wait(5)
                raise engine.Interrupted('cut: %s' % project_id)
            return engine.CopyResult(source, dict(source, id='copy'),
                                     project_id, 2.0)
        self.copy_image.side_effect = made
        other = 'd4' * 16
        glance = test_transfer_copy.Glance([fakes.image(size=10),
                                            fakes.image(id=other, size=10)])
        with self.assertRaises(signals.Interrupted) as cm:
            pipeline.transfer(glance, test_share.Ident(admin=True),
                              [IMAGE_ID, other], 'copy', to=[GAMMA, 'beta'],
                              parallel=1)
        self.assertEqual(
            'Image %s: copied into project %s as copy (copied), kept\n'
            'cut: %s\n'
            'Interrupted by SIGTERM: of 4 image/project pairs, 1 copied, 0 '
            'failed, 1 interrupted (their partial copies cleaned up as said '
            'above), 2 not started' % (IMAGE_ID, GAMMA, BETA),
            str(cm.exception))
        self.assertEqual(2, self.copy_image.call_count)


class Hooked(fakes.FakeGlance):
    """One call at a time; ``hook(method, url)`` runs first, unlocked."""

    def __init__(self, *a, hook=None, **kw):
        super().__init__(*a, **kw)
        self.lock = threading.Lock()
        self.hook = hook

    def _call(self, method, url, data):
        if self.hook:
            self.hook(method, url, data)
        with self.lock:
            return super()._call(method, url, data)


class TestShareMode(unittest.TestCase):

    maxDiff = None

    def test_half_applied_pairs_rolled_back_and_the_image_restored(self):
        adding = threading.Barrier(2, timeout=30)

        def hook(method, url, data):
            if method == 'POST' and url.endswith('/members'):
                adding.wait()
                if data['member'] == BETA:
                    base.signal_self(signal.SIGTERM)
                signals.current().event.wait(5)
        glance = Hooked([fakes.image(visibility='private')], {IMAGE_ID: []},
                        hook=hook)
        res = pipeline.transfer(glance, test_share.Ident(admin=True),
                                [IMAGE_ID], 'share', to=['beta', GAMMA],
                                accept=True, parallel=2)
        self.assertEqual([
            'Image {id}, project {b}: interrupted by SIGTERM; the member it '
            'added was removed'.format(id=IMAGE_ID, b=BETA),
            'Image {id}, project {g}: interrupted by SIGTERM; the member it '
            'added was removed'.format(id=IMAGE_ID, g=GAMMA)], res.errors)
        self.assertEqual(
            'Interrupted by SIGTERM: of 2 image/project pairs, 0 done '
            '(kept), 0 failed, 2 interrupted (rolled back), 0 not started; '
            'images with no pair done are restored as they were',
            res.summary)
        self.assertEqual([], res.rows)
        self.assertEqual({}, glance.members[IMAGE_ID])
        self.assertEqual('private', glance.images[IMAGE_ID]['visibility'])
        # No accept was sent: the stop came first.
        self.assertEqual([], [c for c in glance.calls if c[0] == 'PUT'])

    def test_done_pairs_kept_and_listed(self):
        adding = threading.Barrier(2, timeout=30)

        def hook(method, url, data):
            if method == 'PUT' and url.endswith(GAMMA):
                adding.wait()           # GAMMA accepts as BETA adds
                signals.current().event.wait(5)
            if method == 'POST' and url.endswith('/members') and \
                    data['member'] == BETA:
                adding.wait()
                base.signal_self(signal.SIGTERM)
                signals.current().event.wait(5)
        glance = Hooked([fakes.image(visibility='shared')],
                        {IMAGE_ID: [fakes.member(GAMMA, status='pending')]},
                        hook=hook)
        res = pipeline.transfer(glance, test_share.Ident(admin=True),
                                [IMAGE_ID], 'share', to=['beta', GAMMA],
                                accept=True, parallel=2)
        self.assertEqual(
            ['Image %s, project %s: interrupted by SIGTERM; the member it '
             'added was removed' % (IMAGE_ID, BETA)], res.errors)
        # The pair done is a row; the run's summary says what stopped it.
        self.assertEqual([(IMAGE_ID, 'web', GAMMA, None, 'accepted',
                           'accepted')], res.rows)
        self.assertEqual(
            'Interrupted by SIGTERM: of 2 image/project pairs, 1 done '
            '(kept), 0 failed, 1 interrupted (rolled back), 0 not started; '
            'images with no pair done are restored as they were',
            res.summary)
        self.assertEqual({GAMMA: 'accepted'}, {
            m: v['status'] for m, v in glance.members[IMAGE_ID].items()})


class TestOwnerMode(unittest.TestCase):

    def test_changes_under_way_finish_the_rest_not_started(self):
        ids = ['%08d-0000-4000-8000-000000000000' % i for i in range(3)]
        patching = threading.Barrier(2, timeout=30)

        def hook(method, url, data):
            if method == 'PATCH':
                patching.wait()
                if url.endswith(ids[0]):
                    base.signal_self(signal.SIGTERM)
                signals.current().event.wait(5)
        glance = Hooked([fakes.image(id=i) for i in ids], hook=hook)
        with self.assertRaises(signals.Interrupted) as cm:
            pipeline.transfer(glance, test_share.Ident(admin=True), ids,
                              'owner', to=['beta'], parallel=2)
        lines = str(cm.exception).splitlines()
        self.assertEqual([
            'Image %s: owner not changed (not started)' % ids[2],
            'Interrupted by SIGTERM: of 3 image/project pairs, 2 changed '
            'owner (kept), 0 failed, 0 interrupted (none: a change under '
            'way finishes), 1 not started'], lines[-2:])
        self.assertIn('Image %s: owner %s->%s, kept' % (ids[0], ALPHA, BETA),
                      lines)
        self.assertEqual([BETA, BETA, ALPHA],
                         [glance.images[i]['owner'] for i in ids])

    def test_at_parallel_1_the_change_under_way_finishes(self):
        ids = ['%08d-0000-4000-8000-000000000000' % i for i in range(4)]

        def hook(method, url, data):
            if method == 'PATCH' and url.endswith(ids[1]):
                base.signal_self(signal.SIGHUP)
        glance = Hooked([fakes.image(id=i) for i in ids], hook=hook)
        with self.assertRaises(signals.Interrupted) as cm:
            pipeline.transfer(glance, test_share.Ident(admin=True), ids,
                              'owner', to=['beta'], parallel=1)
        lines = str(cm.exception).splitlines()
        self.assertEqual([
            'Image %s: owner not changed (not started)' % ids[2],
            'Image %s: owner not changed (not started)' % ids[3],
            'Interrupted by SIGHUP: of 4 image/project pairs, 2 changed '
            'owner (kept), 0 failed, 0 interrupted (none: a change under '
            'way finishes), 2 not started'], lines[-3:])
        self.assertEqual([BETA, BETA, ALPHA, ALPHA],
                         [glance.images[i]['owner'] for i in ids])
        # The rows of the owners changed, for stdout.
        self.assertEqual([(i, ALPHA, BETA, 'owner %s->%s' % (ALPHA, BETA))
                          for i in ids[:2]],
                         [(r[0], r[2], r[3], r[5])
                          for r in cm.exception.rows])


class TestIgnored(unittest.TestCase):

    def test_an_ignored_signal_stays_ignored(self):
        old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.addCleanup(signal.signal, signal.SIGHUP, old)
        batch = signals.Stop()
        with signals.catching(batch):
            self.assertEqual(signal.SIG_IGN,
                             signal.getsignal(signal.SIGHUP))
            self.assertEqual(batch.set, signal.getsignal(signal.SIGTERM))
        self.assertEqual(signal.SIG_IGN, signal.getsignal(signal.SIGHUP))
        with heartbeat.catch_signals():
            self.assertEqual(signal.SIG_IGN,
                             signal.getsignal(signal.SIGHUP))
        self.assertEqual(signal.SIG_IGN, signal.getsignal(signal.SIGHUP))


class TestOneWorker(unittest.TestCase):
    """--parallel 1: the batch's Stop in the main thread, as with several."""

    def test_given_stop_one_worker_stops_at_the_next_item(self):
        batch = signals.Stop()
        calls = []

        def fn(i):
            calls.append(i)
            if i == 1:
                base.signal_self(signal.SIGTERM)
                signals.check()
            return i

        with signals.catching(batch):
            with self.assertRaises(signals.BatchStopped) as cm:
                runner.run(fn, range(4), 1, batch)
        self.assertEqual([0, 1], calls)
        res = cm.exception.results
        self.assertEqual(0, res[0])
        self.assertEqual('SIGTERM', res[1].name)
        self.assertEqual([signals.NOT_STARTED] * 2, res[2:])

    def test_share_at_parallel_1_undoes_the_image_and_starts_no_more(self):
        ids = ['%08d-0000-4000-8000-000000000000' % i for i in range(3)]

        def hook(method, url, data):
            if method == 'POST' and ids[1] in url:
                base.signal_self(signal.SIGINT)
        glance = Hooked([fakes.image(id=i, visibility='private')
                         for i in ids], {i: [] for i in ids}, hook=hook)
        res = pipeline.transfer(glance, test_share.Ident(admin=True), ids,
                                'share', to=['beta'], accept=True,
                                parallel=1)
        self.assertEqual([ids[0]], [r[0] for r in res.rows])
        self.assertEqual(
            ['Image %s, project %s: interrupted by SIGINT; the member it '
             'added was removed' % (ids[1], BETA),
             'Image %s, project %s: not started (interrupted by SIGINT)'
             % (ids[2], BETA)], res.errors)
        self.assertEqual(['shared', 'private', 'private'],
                         [glance.images[i]['visibility'] for i in ids])
        self.assertEqual([{BETA}, set(), set()],
                         [set(glance.members[i]) for i in ids])
        self.assertFalse([i for i in ids if 'imageshare_sharing'
                          in glance.images[i]])
        self.assertTrue(res.summary.startswith(
            'Interrupted by SIGINT: of 3 image/project pairs, 1 done'))
        # Nothing was sent for the image not started.
        self.assertFalse([c for c in glance.calls
                          if c[0] != 'GET' and ids[2] in c[1]])


class TestTooLate(unittest.TestCase):
    """A signal once every pair had ended stops nothing: no interruption."""

    def test_share_after_the_last_accept_exits_as_if_none_came(self):
        def hook(method, url, data):
            # The label dropped once every pair is done: the signal lands.
            if method == 'PATCH' and any(
                    op['op'] == 'remove' for op in data):
                base.signal_self(signal.SIGTERM)
        glance = Hooked([fakes.image(visibility='private')], {IMAGE_ID: []},
                        hook=hook)
        res = pipeline.transfer(glance, test_share.Ident(admin=True),
                                [IMAGE_ID], 'share', to=['beta', GAMMA],
                                accept=True, parallel=2)
        self.assertEqual((None, [], 0), (res.summary, res.errors,
                                         res.failed))
        self.assertEqual([(BETA, 'accepted'), (GAMMA, 'accepted')],
                         [(r[2], r[4]) for r in res.rows])
        self.assertEqual(
            'SIGTERM came too late to stop anything: every image/project pair '
            'ran to its end, none was interrupted', res.warnings[-1])
        self.assertEqual('shared', glance.images[IMAGE_ID]['visibility'])

    def test_share_with_wait_is_cut_after_one_poll(self):
        def hook(method, url, data):
            if method == 'PATCH' and any(
                    op['op'] == 'remove' for op in data):
                base.signal_self(signal.SIGHUP)
        glance = Hooked([fakes.image(visibility='private')], {IMAGE_ID: []},
                        hook=hook)
        res = pipeline.transfer(glance, test_share.Ident(admin=True),
                                [IMAGE_ID], 'share', to=['beta'],
                                accept=False, wait=60)
        self.assertEqual(
            'Interrupted by SIGHUP after 0 s waiting for image %s: project '
            'beta (%s) has not accepted it yet' % (IMAGE_ID, BETA),
            res.summary)
        self.assertEqual([(BETA, 'pending')],
                         [(r[2], r[4]) for r in res.rows])
        self.assertFalse([w for w in res.warnings if 'came after' in w])
        # One poll, then no sleep: the member list read once more.
        self.assertEqual(('GET', '/v2/images/%s/members' % IMAGE_ID),
                         glance.calls[-1][:2])

    def test_owner_after_the_last_change(self):
        ids = ['%08d-0000-4000-8000-000000000000' % i for i in range(2)]
        patched = threading.Barrier(2, timeout=30)

        def hook(method, url, data):
            if method == 'GET' and url.endswith(ids[0]) and \
                    glance.images[ids[0]]['owner'] == BETA:
                patched.wait()      # both changed: the signal now
                base.signal_self(signal.SIGTERM)
            elif method == 'GET' and url.endswith(ids[1]) and \
                    glance.images[ids[1]]['owner'] == BETA:
                patched.wait()
        glance = Hooked([fakes.image(id=i) for i in ids], hook=hook)
        res = pipeline.transfer(glance, test_share.Ident(admin=True), ids,
                                'owner', to=['beta'], parallel=2)
        self.assertIsNone(res.summary)
        self.assertEqual(
            'SIGTERM came too late to stop anything: every image/project pair '
            'ran to its end, none was interrupted', res.warnings[-1])
        self.assertEqual([BETA, BETA],
                         [glance.images[i]['owner'] for i in ids])

    @mock.patch.object(engine, 'copy_image')
    def test_copy_after_the_last_copy(self, copy_image):
        glance = test_transfer_copy.Glance([fakes.image(size=10)])
        copied = threading.Barrier(2, timeout=30)

        def made(glance, target_glance, source, project_id, *a, **kw):
            copied.wait()
            if project_id == BETA:
                base.signal_self(signal.SIGTERM)
            return engine.CopyResult(source, dict(source, id='copy'),
                                     project_id, 2.0)
        copy_image.side_effect = made
        res = pipeline.transfer(glance, test_share.Ident(admin=True),
                                [IMAGE_ID], 'copy', to=['beta', GAMMA],
                                parallel=2)
        self.assertEqual((None, 2), (res.summary, len(res.rows)))
        self.assertIn(
            'SIGTERM came too late to stop anything: every image/project pair '
            'ran to its end, none was interrupted', res.warnings)


class TestWriteCommands(unittest.TestCase):
    """The write commands beside the modes stop as the modes do."""

    OTHERS = ['%032d' % n for n in range(1, 4)]

    def set_prune(self, parallel, signum=signal.SIGTERM):
        sent = []

        def hook(method, url, data):
            if method == 'DELETE' and not sent:
                sent.append(url)
                base.signal_self(signum)
        glance = Hooked([fakes.image(visibility='shared')],
                        {IMAGE_ID: [fakes.member(m, 'accepted')
                                    for m in self.OTHERS]}, hook=hook)
        res = share_set.set_members(glance, test_share.Ident(admin=True),
                                    IMAGE_ID, ['beta'], prune=True,
                                    parallel=parallel)
        return glance, res

    def test_share_set_prune_at_parallel_1_starts_no_more_revoke(self):
        before = handlers()
        glance, res = self.set_prune(1)
        self.assertEqual(before, handlers())
        self.assertEqual(
            'Interrupted by SIGTERM: of 3 member(s) not listed, 1 revoked, '
            '0 failed, 2 not started (still members); run the command '
            'again to revoke them', res.summary)
        self.assertEqual([(BETA, 'added, accepted'),
                          (self.OTHERS[0], 'revoked')],
                         [(r[1], r[5]) for r in res.rows])
        self.assertEqual(
            ['Image %s, project %s: revoke not started (interrupted by '
             'SIGTERM)' % (IMAGE_ID, m) for m in self.OTHERS[1:]],
            res.errors)
        self.assertEqual({BETA} | set(self.OTHERS[1:]),
                         set(glance.members[IMAGE_ID]))
        # The re-run finishes it.
        glance.hook = None
        res = share_set.set_members(glance, test_share.Ident(admin=True),
                                    IMAGE_ID, ['beta'], prune=True)
        self.assertIsNone(res.summary)
        self.assertEqual({BETA}, set(glance.members[IMAGE_ID]))

    def test_share_set_prune_signalled_at_its_last_accept(self):
        # The add and accept end; the signal stops the revokes, none
        # started, and the summary says so (not "every pair done").
        sent = []

        def hook(method, url, data):
            if method == 'PUT' and not sent:
                sent.append(url)
                base.signal_self(signal.SIGHUP)
        glance = Hooked([fakes.image(visibility='shared')],
                        {IMAGE_ID: [fakes.member(m, 'accepted')
                                    for m in self.OTHERS]}, hook=hook)
        res = share_set.set_members(glance, test_share.Ident(admin=True),
                                    IMAGE_ID, ['beta'], prune=True,
                                    parallel=1)
        self.assertEqual(1, len(sent))
        self.assertEqual(
            'Interrupted by SIGHUP: of 3 member(s) not listed, 0 revoked, '
            '0 failed, 3 not started (still members); run the command '
            'again to revoke them', res.summary)
        self.assertEqual({BETA} | set(self.OTHERS),
                         set(glance.members[IMAGE_ID]))

    def test_share_set_prune_in_parallel_ends_the_revokes_under_way(self):
        # Two revokes under way when SIGHUP comes: both end, the third is
        # not started.
        both = threading.Barrier(2, timeout=30)
        sent = []

        def hook(method, url, data):
            if method != 'DELETE':
                return
            both.wait()
            if not sent:
                sent.append(url)
                base.signal_self(signal.SIGHUP)
            signals.current().event.wait(30)
        glance = Hooked([fakes.image(visibility='shared')],
                        {IMAGE_ID: [fakes.member(m, 'accepted')
                                    for m in self.OTHERS]}, hook=hook)
        res = share_set.set_members(glance, test_share.Ident(admin=True),
                                    IMAGE_ID, ['beta'], prune=True,
                                    parallel=2)
        self.assertEqual(
            'Interrupted by SIGHUP: of 3 member(s) not listed, 2 revoked, '
            '0 failed, 1 not started (still members); run the command '
            'again to revoke them', res.summary)
        self.assertEqual(2, len([r for r in res.rows if r[5] == 'revoked']))
        self.assertEqual({BETA, self.OTHERS[2]},
                         set(glance.members[IMAGE_ID]))

    def test_revoke_all_unshare_stops_and_says_what_is_left(self):
        sent = []

        def hook(method, url, data):
            if method == 'DELETE' and not sent:
                sent.append(url)
                base.signal_self(signal.SIGINT)
        glance = Hooked([fakes.image(visibility='shared')],
                        {IMAGE_ID: [fakes.member(m) for m in self.OTHERS]},
                        hook=hook)
        before = handlers()
        with self.assertRaises(signals.Interrupted) as cm:
            membership.revoke(glance, test_share.Ident(admin=True),
                              IMAGE_ID, None, unshare=True)
        self.assertEqual(before, handlers())
        self.assertEqual([(IMAGE_ID, self.OTHERS[0], None, 'removed')],
                         cm.exception.rows)
        self.assertEqual(
            'Interrupted by SIGINT: of 3 project(s), 1 removed, 0 failed, 2 '
            'not started (still members); image %s stays shared (--unshare '
            'not started); run the command again to finish' % IMAGE_ID,
            str(cm.exception).splitlines()[-1])
        self.assertEqual('shared', glance.images[IMAGE_ID]['visibility'])
        self.assertEqual(set(self.OTHERS[1:]), set(glance.members[IMAGE_ID]))
        # The re-run finishes it.
        glance.hook = None
        rows, _, errs = membership.revoke(
            glance, test_share.Ident(admin=True), IMAGE_ID, None,
            unshare=True)
        self.assertEqual(([], 'private'), (errs, glance.images[IMAGE_ID][
            'visibility']))

    def test_revoke_of_the_last_member_cut_leaves_the_unshare_unstarted(self):
        def hook(method, url, data):
            if method == 'DELETE':
                base.signal_self(signal.SIGTERM)
        glance = Hooked([fakes.image(visibility='shared')],
                        {IMAGE_ID: [fakes.member(BETA)]}, hook=hook)
        with self.assertRaises(signals.Interrupted) as cm:
            membership.revoke(glance, test_share.Ident(admin=True),
                              IMAGE_ID, ['beta'], unshare=True)
        self.assertTrue(str(cm.exception).endswith(
            'of 1 project(s), 1 removed, 0 failed, 0 not started (still '
            'members); image %s stays shared (--unshare not started); run '
            'the command again to finish' % IMAGE_ID), str(cm.exception))
        self.assertEqual('shared', glance.images[IMAGE_ID]['visibility'])

    def audit_fix(self, parallel, signum=signal.SIGTERM):
        names = ['m%d' % n for n in range(4)]       # not-a-project each
        g = test_audit.cloud({test_audit.ID1: [test_audit.member(m)
                                               for m in names]})
        rows = test_audit.run(g, test_audit.Ident())
        real = g._call
        both = threading.Barrier(parallel, timeout=30)

        def call(method, url, data):
            if method == 'DELETE' and url[-3:] in ('/m0', '/m1'):
                # The first two fixes under way when the signal comes.
                both.wait()
                if url.endswith('/m0'):
                    base.signal_self(signum)
                signals.current().event.wait(30)
            return real(method, url, data)
        with mock.patch.object(g, '_call', side_effect=call):
            with self.assertRaises(signals.Interrupted) as cm:
                audit.fix(g, test_audit.Ident(), rows, parallel=parallel)
        return g, cm.exception

    def test_audit_fix_at_parallel_1_starts_no_more_fix(self):
        g, e = self.audit_fix(1)
        self.assertEqual(
            'Interrupted by SIGTERM: of 4 fix(es), 1 done, 0 failed, 3 not '
            'started; run the command again to finish (the audit finds what '
            'is left)', str(e))
        self.assertEqual([('m0', 'removed')], [(r[3], r[8]) for r in e.rows])
        self.assertEqual({'m1', 'm2', 'm3'}, set(g.members[test_audit.ID1]))

    def test_audit_fix_in_parallel_says_what_it_changed(self):
        # Not 'before anything was changed': the two fixes under way end
        # and are counted, the other two are not started.
        g, e = self.audit_fix(2, signal.SIGHUP)
        self.assertEqual(
            'Interrupted by SIGHUP: of 4 fix(es), 2 done, 0 failed, 2 not '
            'started; run the command again to finish (the audit finds what '
            'is left)', str(e))
        self.assertEqual([('m0', 'removed'), ('m1', 'removed')],
                         [(r[3], r[8]) for r in e.rows])
        self.assertEqual({'m2', 'm3'}, set(g.members[test_audit.ID1]))

    def test_revoke_share_briefly_prints_the_members_it_removed(self):
        sent = []

        def hook(method, url, data):
            if method == 'DELETE' and not sent:
                sent.append(url)
                base.signal_self(signal.SIGTERM)
        glance = Hooked([fakes.image(visibility='private')],
                        {IMAGE_ID: [fakes.member(m) for m in self.OTHERS]},
                        hook=hook)
        with self.assertRaises(signals.Interrupted) as cm:
            membership.revoke(glance, test_share.Ident(admin=True),
                              IMAGE_ID, None, share_briefly=True)
        self.assertEqual([(IMAGE_ID, self.OTHERS[0], None, 'removed')],
                         cm.exception.rows)
        self.assertTrue(str(cm.exception).startswith(
            'Interrupted by SIGTERM while revoking the members of image %s '
            '(removed: %s)' % (IMAGE_ID, self.OTHERS[0])), str(cm.exception))
        self.assertEqual('private', glance.images[IMAGE_ID]['visibility'])

    def test_revoke_signalled_during_the_unshare_says_it_came_too_late(self):
        def hook(method, url, data):
            if method == 'PATCH':
                base.signal_self(signal.SIGTERM)
        glance = Hooked([fakes.image(visibility='shared')],
                        {IMAGE_ID: [fakes.member(BETA)]}, hook=hook)
        rows, warnings, errs = membership.revoke(
            glance, test_share.Ident(admin=True), IMAGE_ID, None,
            unshare=True)
        self.assertEqual(['removed', 'visibility shared->private'],
                         [r[3] for r in rows])
        self.assertEqual('SIGTERM came too late to stop anything: every '
                         'removal had ended', warnings[-1])
        self.assertEqual(([], 'private'), (errs, glance.images[IMAGE_ID][
            'visibility']))
