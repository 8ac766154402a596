"""Waiting for acceptance on fakes: one request per poll, the backoff."""

import os
import signal
import unittest
from unittest import mock

from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import waiting
from tests.unit import fakes
from tests.unit.ops.modes.test_share import GAMMA
from tests.unit.ops.modes.test_share import Ident
from tests.unit.ops.modes.test_share import share_call
from tests.unit.ops.modes.test_share import UNLABEL_CALL

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = '/v2/images/%s' % IMAGE_ID
MEMBERS_URL = IMG_URL + '/members'


class Clock:
    """A fake clock; each sleep may change what Glance answers next."""

    def __init__(self, glance, script=()):
        self.now, self.glance, self.sleeps = 0.0, glance, []
        self.script = list(script)      # per sleep: {member: status}

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        if self.script:
            for mid, status in self.script.pop(0).items():
                self.glance.members[IMAGE_ID][mid]['status'] = status


def glance(*members):
    return fakes.FakeGlance([fakes.image()], {IMAGE_ID: list(members)})


class TestShareWait(unittest.TestCase):

    def run_wait(self, g, clock, refs=(), timeout=60, progress=None):
        ident = Ident(admin=True, names={ALPHA: 'alpha', BETA: 'beta'})
        return waiting.share_wait(g, ident, IMAGE_ID, refs,
                                  timeout=timeout, progress=progress,
                                  clock=clock, sleep=clock.sleep)

    def test_polls_with_backoff_one_request_each_until_accepted(self):
        g = glance(fakes.member(BETA), fakes.member(GAMMA))
        clock = Clock(g, [{}, {BETA: 'accepted'}, {GAMMA: 'accepted'}])
        seen = []
        rows = self.run_wait(g, clock, ['beta', 'gamma'],
                             progress=seen.append)
        self.assertEqual([('GET', IMG_URL)] + [('GET', MEMBERS_URL)] * 4,
                         g.calls)
        self.assertEqual([1.0, 1.5, 2.25], clock.sleeps)
        self.assertEqual([(BETA, 'accepted'), (GAMMA, 'accepted')],
                         [(r[2], r[4]) for r in rows])
        self.assertEqual('Waiting for beta (%s), gamma (%s) (image %s) to '
                         'accept (60 s left)' % (BETA, GAMMA, IMAGE_ID),
                         seen[0])

    def test_every_member_by_default(self):
        g = glance(fakes.member(BETA, 'accepted'))
        rows = self.run_wait(g, Clock(g))
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL),
                          ('GET', MEMBERS_URL)], g.calls)
        self.assertEqual(BETA, rows[0][2])

    def test_a_rejection_ends_it_naming_the_project(self):
        g = glance(fakes.member(BETA))
        clock = Clock(g, [{BETA: 'rejected'}])
        with self.assertRaises(errors.ImageShareError) as e:
            self.run_wait(g, clock, ['beta'])
        self.assertEqual(
            "Project beta (%s) rejected image %s; it can still accept it "
            "('openstack image share accept %s')"
            % (BETA, IMAGE_ID, IMAGE_ID), str(e.exception))

    def test_timeout_names_who_is_pending_and_never_sleeps_past_it(self):
        g = glance(fakes.member(BETA), fakes.member(GAMMA, 'accepted'))
        clock = Clock(g)
        with self.assertRaises(errors.ImageShareError) as e:
            self.run_wait(g, clock, timeout=5)
        self.assertEqual('Timed out after 5 s waiting for image %s: project '
                         'beta (%s) has not accepted it yet'
                         % (IMAGE_ID, BETA), str(e.exception))
        self.assertEqual([1.0, 1.5, 2.25, 0.25], clock.sleeps)
        # One list to know the members, then one per poll: 0, 1, 2.5,
        # 4.75 and 5 s.
        self.assertEqual(6, len([c for c in g.calls if c[1] == MEMBERS_URL]))

    def test_a_signal_ends_it_with_the_rows_as_they_stood(self):
        for name in signals.SIGNALS:
            self.check_signal(getattr(signal, name))

    def check_signal(self, signum):
        g = glance(fakes.member(BETA), fakes.member(GAMMA))
        clock = Clock(g, [{GAMMA: 'accepted'}])
        real_sleep = clock.sleep

        def sleep(seconds):
            real_sleep(seconds)
            if len(clock.sleeps) == 2:
                os.kill(os.getpid(), signum)
        clock.sleep = sleep
        before = signal.getsignal(signum)
        with self.assertRaises(signals.Interrupted) as e:
            self.run_wait(g, clock, ['beta', 'gamma'])
        self.assertEqual(
            'Interrupted by %s after 2 s waiting for image %s: project '
            'beta (%s) has not accepted it yet' % (
                signal.Signals(signum).name, IMAGE_ID, BETA),
            str(e.exception))
        # Each project as the last poll read it (the one after the sleep
        # the signal cut short).
        self.assertEqual([(BETA, 'pending'), (GAMMA, 'accepted')],
                         [(r[2], r[4]) for r in e.exception.rows])
        self.assertEqual(3, len([c for c in g.calls if c[1] == MEMBERS_URL]))
        self.assertEqual(before, signal.getsignal(signum))

    def test_not_a_member_and_not_shared_are_errors(self):
        g = glance(fakes.member(BETA))
        with self.assertRaises(errors.ImageShareError) as e:
            self.run_wait(g, Clock(g), ['gamma'])
        self.assertIn('Project gamma (%s) is not a member of image %s'
                      % (GAMMA, IMAGE_ID), str(e.exception))
        g = fakes.FakeGlance([fakes.image(visibility='private')])
        self.assertRaises(errors.ImageShareError, self.run_wait, g,
                          Clock(g))
        g = glance()
        self.assertRaises(errors.ImageShareError, self.run_wait, g,
                          Clock(g))


class TestTransferWait(unittest.TestCase):

    def transfer_waiting(self, g, clock):
        real = waiting.wait_for

        def fake_wait_for(*args, **kwargs):
            return real(*args, clock=clock, sleep=clock.sleep, **kwargs)

        waiting.wait_for, saved = fake_wait_for, waiting.wait_for
        try:
            return pipeline.transfer(g, Ident(), [IMAGE_ID], to=['beta'],
                                     accept=False, wait=30)
        finally:
            waiting.wait_for = saved

    def test_a_rejection_is_in_the_row_and_no_pending_warning(self):
        g = fakes.FakeGlance([fakes.image()])
        res = self.transfer_waiting(g, Clock(g, [{BETA: 'rejected'}]))
        self.assertEqual(('rejected', 'member added, rejected by the '
                          'project'), res.rows[0][4:])
        self.assertEqual(waiting.E_REJECTED.format(label='beta (%s)' % BETA,
                                                   id=IMAGE_ID), res.summary)
        self.assertFalse([w for w in res.warnings if 'has not accepted' in w])

    @mock.patch('osc_imageshare.batch.liveness.stamp', return_value=fakes.WHEN)
    def test_no_accept_then_wait(self, _stamp):
        g = fakes.FakeGlance([fakes.image(visibility='private')])
        clock = Clock(g, [{BETA: 'accepted'}])
        res = self.transfer_waiting(g, clock)
        self.assertEqual([
            ('GET', IMG_URL),
            share_call(),
            ('GET', MEMBERS_URL),
            ('POST', MEMBERS_URL, {'member': BETA}),
            UNLABEL_CALL,
            ('GET', MEMBERS_URL), ('GET', MEMBERS_URL)], g.calls)
        self.assertEqual(('accepted', 'visibility private->shared, member '
                          'added, accepted by the project'),
                         res.rows[0][4:])
        self.assertEqual((None, None), (res.wait_error, res.summary))
        self.assertFalse([w for w in res.warnings if 'has not accepted' in w])
