"""What every test run starts from, whatever started it.

A CI runner may start the tests with SIGINT ignored (a background job of a
non-interactive shell), or SIGHUP (nohup).  The code under test rightly
keeps ignoring a signal it was started to ignore, and the commands the
functional tests start inherit the ignoring: the tests that send INT, TERM
and HUP would see nothing happen.  They get the default dispositions
(Python's handler for SIGINT).

A test that hangs ends the run: pytest prints every thread's traceback
after ``faulthandler_timeout`` (setup.cfg), and 30 s later the process
exits with status 3.
"""

import os
import signal
import threading

import pytest

signal.signal(signal.SIGINT, signal.default_int_handler)
for _name in ('SIGTERM', 'SIGHUP'):
    signal.signal(getattr(signal, _name), signal.SIG_DFL)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    limit = float(item.config.getini('faulthandler_timeout') or 0)
    if not limit:
        yield
        return
    timer = threading.Timer(limit + 30, os._exit, (3,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
