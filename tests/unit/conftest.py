"""Each unit test starts with the signal handlers the run started with.

A command that sent a write leaves handlers for the rest of its process
(``cli.Interruptible``): here the process is pytest's, so they are put
back after each test.
"""

import signal

import pytest

NAMES = ('SIGINT', 'SIGTERM', 'SIGHUP')


@pytest.fixture(autouse=True)
def _signal_handlers():
    saved = {n: signal.getsignal(getattr(signal, n)) for n in NAMES}
    yield
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)
