"""INT, TERM and HUP while a batch runs in worker threads; on fakes."""

import os
import signal
import threading
import unittest
from unittest import mock

from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import heartbeat
from osc_imageshare.ops import pipeline
from tests.unit import fakes
from tests.unit.imagecopy import test_engine as test_copy
from tests.unit.ops.modes import test_copy as test_transfer_copy
from tests.unit.ops.modes import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
GAMMA = test_share.GAMMA


def handlers():
    return [signal.getsignal(getattr(signal, n)) for n in signals.SIGNALS]


class TestRun(unittest.TestCase):

    def test_signal_stops_workers_and_starts_nothing_more(self):
        before = handlers()
        started = threading.Barrier(2, timeout=5)
        calls = []

        def fn(i):
            calls.append(i)
            started.wait()
            if i == 0:
                os.kill(os.getpid(), signal.SIGHUP)
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
        started = threading.Barrier(2, timeout=5)

        def fn(i):
            started.wait()
            if i == 0:
                os.kill(os.getpid(), signal.SIGTERM)
                signals.current().event.wait(5)
                os.kill(os.getpid(), signal.SIGINT)
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
        streaming = threading.Barrier(2, timeout=5)

        def first(chunk):
            if not first.sent:
                first.sent = True
                streaming.wait()
                os.kill(os.getpid(), signal.SIGTERM)
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
        started = threading.Barrier(2, timeout=5)

        def made(glance, target_glance, source, project_id, *a, **kw):
            started.wait()
            if project_id == BETA:
                os.kill(os.getpid(), signal.SIGTERM)
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
        adding = threading.Barrier(2, timeout=5)

        def hook(method, url, data):
            if method == 'POST' and url.endswith('/members'):
                adding.wait()
                if data['member'] == BETA:
                    os.kill(os.getpid(), signal.SIGTERM)
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
        adding = threading.Barrier(2, timeout=5)

        def hook(method, url, data):
            if method == 'PUT' and url.endswith(GAMMA):
                adding.wait()           # GAMMA accepts as BETA adds
                signals.current().event.wait(5)
            if method == 'POST' and url.endswith('/members') and \
                    data['member'] == BETA:
                adding.wait()
                os.kill(os.getpid(), signal.SIGTERM)
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
        patching = threading.Barrier(2, timeout=5)

        def hook(method, url, data):
            if method == 'PATCH':
                patching.wait()
                if url.endswith(ids[0]):
                    os.kill(os.getpid(), signal.SIGTERM)
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
                os.kill(os.getpid(), signal.SIGTERM)
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
                os.kill(os.getpid(), signal.SIGINT)
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
