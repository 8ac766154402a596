"""What every test run starts from, whatever started it.

A CI runner may start the tests with SIGINT ignored (a background job of a
non-interactive shell), or SIGHUP (nohup).  The code under test rightly
keeps ignoring a signal it was started to ignore, and the commands the
functional tests start inherit the ignoring: the tests that send INT, TERM
and HUP would see nothing happen.  They get the default dispositions
(Python's handler for SIGINT).
"""

import signal

signal.signal(signal.SIGINT, signal.default_int_handler)
for _name in ('SIGTERM', 'SIGHUP'):
    signal.signal(getattr(signal, _name), signal.SIG_DFL)
