"""The heartbeat of a copy under way, and the signals that stop one."""

import os
import signal
import time
from unittest import mock

from osc_imageshare.imagecopy import heartbeat
from osc_imageshare.imagecopy import labels
from tests.unit import base


class TestHeartbeat(base.TestCase):

    def test_beats_the_copier_again_until_stopped(self):
        glance = mock.Mock(spec=['patch_image'])
        patch = glance.patch_image
        beat = heartbeat.Heartbeat(glance, 'copy-1', 'me', every=0.01)
        deadline = time.monotonic() + 30       # a loaded machine
        while not patch.call_count and time.monotonic() < deadline:
            time.sleep(0.01)
        beat.stop()
        beats = patch.call_count
        self.assertGreaterEqual(beats, 1)
        patch.assert_called_with('copy-1', replace={labels.COPIER: 'me'})
        time.sleep(0.05)
        self.assertEqual(beats, patch.call_count)

    def test_a_missed_beat_is_not_an_error(self):
        glance = mock.Mock(spec=['patch_image'])
        patch = glance.patch_image
        patch.side_effect = OSError('reset')
        beat = heartbeat.Heartbeat(glance, 'copy-1', 'me', every=0.01)
        deadline = time.monotonic() + 30
        while patch.call_count < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        beat.stop()
        self.assertGreaterEqual(patch.call_count, 2)


class TestSignals(base.TestCase):

    def test_term_and_hup_raise_with_their_name(self):
        for signum, name in ((signal.SIGTERM, 'SIGTERM'),
                             (signal.SIGHUP, 'SIGHUP')):
            with heartbeat.catch_signals():
                e = self.assertRaises(heartbeat.Caught, os.kill,
                                      os.getpid(), signum)
            self.assertEqual(name, e.name)

    def test_deaf_ignores_them(self):
        with heartbeat.deaf():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGHUP)
