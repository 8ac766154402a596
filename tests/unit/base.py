"""Test case bases for the unit tests.

Our own, so that the unit tests run under every supported osc-lib
(``osc_lib.test`` only appeared in osc-lib 4.3.0, after the 2025.2 set).
"""

import signal
import threading
import time

import fixtures
import testtools

from osc_imageshare.batch import signals
from tests.unit import fakes


def signal_self(signum):
    """Send ``signum`` to this process, and let its handler run first.

    Python runs handlers in the main thread only, at its next check: the
    signal goes to the main thread itself (a signal for the process may
    reach any thread, and the main thread then runs the handler later,
    not always before the code under test looks: seen on Python 3.10).
    Sent from another thread, it returns once the handler has run (the
    batch's Stop is set) or the main thread had time to.
    """
    signal.pthread_kill(threading.main_thread().ident, signum)
    stop = signals.current() or getattr(signal.getsignal(signum),
                                        '__self__', None)
    if isinstance(stop, signals.Stop):
        deadline = time.monotonic() + 30
        # In slices: in the main thread, the handler runs between two.
        while not stop.event.wait(0.01) and time.monotonic() < deadline:
            pass
    elif threading.current_thread() is not threading.main_thread():
        time.sleep(0.5)


class ParserException(Exception):
    """The parser refused the arguments (argparse called sys.exit)."""


class TestCase(testtools.TestCase):

    maxDiff = None

    def setUp(self):
        super().setUp()
        # The copy proof's key (imagecopy.engine.proof_key): not ours.
        self.useFixture(fixtures.EnvironmentVariable(
            'XDG_CONFIG_HOME', self.useFixture(fixtures.TempDir()).path))


class TestCommand(TestCase):
    """A cliff command beside a fake app, with a parser check."""

    def setUp(self):
        super().setUp()
        self.app = fakes.FakeApp()

    def check_usage_error(self, cmd, args, message):
        """Parsing ``args`` exits 2 with ``message`` as its one line."""
        import io
        from unittest import mock

        stderr = io.StringIO()
        with mock.patch('sys.stderr', stderr):
            e = self.assertRaises(SystemExit, cmd.get_parser(
                'check_parser').parse_args, args)
        self.assertEqual(2, e.code)
        self.assertEqual(['check_parser: error: ' + message],
                         stderr.getvalue().splitlines())

    def check_parser(self, cmd, args, expected):
        """Parse ``args``; each ``(dest, value)`` of ``expected`` must hold."""
        try:
            parsed = cmd.get_parser('check_parser').parse_args(args)
        except SystemExit:
            raise ParserException('argument parsing failed: %r' % (args,))
        for dest, value in expected:
            self.assertIn(dest, parsed)
            self.assertEqual(value, getattr(parsed, dest))
        return parsed
