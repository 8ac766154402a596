"""The executor: steps run once their predecessors are done; undo; signals."""

import signal
import threading
import unittest
from unittest import mock

from osc_imageshare.batch import executor
from osc_imageshare import errors
from tests.unit import base


class Log:
    """Actions and undos that record themselves, and the step running."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []

    def write(self, name, fail=False, then=None):
        def act():
            with self.lock:
                self.seen.append((name, executor.current().text))
            if then:
                then()
            if fail:
                raise errors.ImageShareError('%s refused' % name)
        return act


def step(log, text, fail=False, undo=True, then=None, **kw):
    return executor.Step(text, log.write(text, fail, then),
                         log.write('undo ' + text) if undo else None, **kw)


class TestOrder(unittest.TestCase):

    def test_each_write_runs_inside_its_own_step_once(self):
        log = Log()
        a, b = step(log, 'a'), step(log, 'b')
        res = executor.run([a, b], workers=2)
        self.assertEqual({('a', 'a'), ('b', 'b')}, set(log.seen))
        self.assertEqual([a, b], res.having(executor.DONE))
        self.assertIsNone(res.stopped)
        self.assertIsNone(executor.current())

    def test_a_step_logs_its_text_unless_its_action_logs_its_own(self):
        steps = [executor.Step('shown', lambda: None),
                 executor.Step('not shown', lambda: None, logged=False)]
        with self.assertLogs(executor.LOG, 'INFO') as logs:
            executor.run(steps)
        self.assertEqual(['shown'], [r.getMessage() for r in logs.records])

    def test_a_step_waits_for_its_predecessors(self):
        log = Log()
        first = [step(log, 'revoke %d' % n) for n in range(3)]
        last = step(log, 'unshare', after=tuple(first))
        executor.run([last] + first, workers=3)
        self.assertEqual(('unshare', 'unshare'), log.seen[-1])

    def test_a_failed_predecessor_leaves_it_not_started(self):
        log = Log()
        bad = step(log, 'revoke', fail=True)
        last = step(log, 'unshare', after=(bad,))
        res = executor.run([bad, last])
        self.assertEqual((executor.FAILED, 'revoke refused'),
                         (bad.outcome, bad.error))
        self.assertEqual(executor.NOT_STARTED, last.outcome)
        self.assertNotIn(('unshare', 'unshare'), log.seen)
        self.assertEqual([last], res.having(executor.NOT_STARTED))


class TestUndo(unittest.TestCase):

    def test_a_failure_undoes_its_group_newest_first(self):
        log = Log()
        group = object()
        add = step(log, 'add', group=group)
        protect = step(log, 'protect', group=group, after=(add,))
        accept = step(log, 'accept', fail=True, group=group,
                      after=(protect,))
        other = step(log, 'other add')
        executor.run([add, protect, accept, other])
        self.assertEqual(
            [('add', 'add'), ('protect', 'protect'), ('accept', 'accept'),
             ('undo protect', 'protect'), ('undo add', 'add')],
            [s for s in log.seen if s[0] != 'other add'])
        self.assertEqual([executor.UNDONE, executor.UNDONE, executor.FAILED,
                          executor.DONE],
                         [s.outcome for s in (add, protect, accept, other)])

    def test_a_step_without_undo_stands(self):
        log = Log()
        group = object()
        revoke = step(log, 'revoke', undo=False, group=group)
        bad = step(log, 'unshare', fail=True, group=group, after=(revoke,))
        executor.run([revoke, bad])
        self.assertEqual(executor.DONE, revoke.outcome)

    def test_a_bug_stops_the_run_and_is_raised(self):
        def broken():
            raise KeyError('bug')
        log = Log()
        first = executor.Step('broken', broken)
        second = step(log, 'next', after=())
        self.assertRaises(KeyError, executor.run, [first, second])
        self.assertEqual([], [s for s in log.seen if s[0] == 'next'][1:])


class TestFollowsAndParents(unittest.TestCase):

    def test_a_step_that_follows_starts_once_those_ended_however(self):
        log = Log()
        bad = step(log, 'add', fail=True)
        good = step(log, 'add 2')
        last = step(log, 'drop label', follows=(bad, good))
        executor.run([last, bad, good], workers=3)
        self.assertEqual(('drop label', 'drop label'), log.seen[-1])
        self.assertEqual(executor.DONE, last.outcome)

    def test_a_parent_stands_while_one_group_it_serves_does(self):
        for fails in ((True, True), (True, False)):
            log = Log()
            image = executor.Group('image')
            share = step(log, 'share', group=image)
            pairs = [step(log, 'add %d' % n, fail=fail, after=(share,),
                          group=executor.Group('pair', image))
                     for n, fail in enumerate(fails)]
            executor.run([share] + pairs, workers=2)
            undone = ('undo share', 'share') in log.seen
            self.assertEqual(all(fails), undone, log.seen)
            self.assertEqual(executor.UNDONE if all(fails) else
                             executor.DONE, share.outcome)
            if undone:      # after the last of the groups it served
                self.assertEqual(('undo share', 'share'), log.seen[-1])

    def test_a_group_that_just_failed_is_undone_before_its_parent(self):
        # The accept fails in its worker; the main thread's next look
        # (a poll, or another step ending) comes before it has seen that
        # end: the pair's member must still go before the image's undo.
        log = Log()
        image = executor.Group('image')
        pair = executor.Group('pair', image)
        share = step(log, 'share', group=image)
        add = step(log, 'add', after=(share,), group=pair)
        accept = step(log, 'accept', fail=True, after=(add,), group=pair)
        real = executor._do

        def slow_end(one, stop):
            real(one, stop)
            if one is accept:   # failed, but not yet seen to end
                threading.Event().wait(0.3)
        with mock.patch.object(executor, '_do', slow_end):
            executor.run([share, add, accept], workers=2)
        undos = [name for name, _ in log.seen if name.startswith('undo')]
        self.assertEqual(['undo add', 'undo share'], undos)


class TestSignals(unittest.TestCase):

    def test_a_closing_step_starts_after_a_signal(self):
        log = Log()
        add = step(log, 'add', then=lambda: base.signal_self(
            signal.SIGTERM))
        drop = step(log, 'drop label', after=(add,), closing=True)
        other = step(log, 'other', after=(add,))
        res = executor.run([add, other, drop])
        self.assertEqual('SIGTERM', res.stopped)
        self.assertEqual([executor.DONE, executor.NOT_STARTED,
                          executor.DONE],
                         [s.outcome for s in (add, other, drop)])
        self.assertEqual([('add', 'add'), ('drop label', 'drop label')],
                         log.seen)

    def test_a_signal_undoes_a_parent_none_of_whose_groups_started(self):
        log = Log()
        image = executor.Group('image')
        share = step(log, 'share', group=image, then=lambda: base.signal_self(
            signal.SIGHUP))
        add = step(log, 'add', after=(share,),
                   group=executor.Group('pair', image))
        executor.run([share, add])
        self.assertEqual([executor.UNDONE, executor.NOT_STARTED],
                         [share.outcome, add.outcome])
        self.assertEqual([('share', 'share'), ('undo share', 'share')],
                         log.seen)

    def test_no_step_starts_after_a_signal_and_a_cut_group_is_undone(self):
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            log = Log()
            group = object()
            add = step(log, 'add', group=group,
                       then=lambda: base.signal_self(signum))
            accept = step(log, 'accept', group=group, after=(add,))
            alone = step(log, 'alone', after=(add,))
            res = executor.run([add, accept, alone])
            self.assertEqual(signal.Signals(signum).name, res.stopped)
            self.assertEqual([('add', 'add'), ('undo add', 'add')],
                             log.seen)
            self.assertEqual(
                [executor.UNDONE, executor.NOT_STARTED,
                 executor.NOT_STARTED],
                [s.outcome for s in (add, accept, alone)])

    def test_steps_under_way_end_at_any_parallelism(self):
        log = Log()
        gate = threading.Event()
        first = step(log, 'first', then=gate.wait)
        second = step(log, 'second',
                      then=lambda: (base.signal_self(signal.SIGTERM),
                                    gate.set()))
        third = step(log, 'third', after=(first, second))
        res = executor.run([first, second, third], workers=2)
        self.assertEqual('SIGTERM', res.stopped)
        self.assertEqual([executor.DONE, executor.DONE,
                          executor.NOT_STARTED],
                         [s.outcome for s in (first, second, third)])
