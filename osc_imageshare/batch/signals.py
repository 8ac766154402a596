"""INT, TERM and HUP during a batch whose pairs run in worker threads.

Python runs signal handlers in the main thread only.  While a batch runs
(``transfer.parallel.run``), the main thread's handlers set the batch's
``Stop``; each worker checks it (``check``, ``sleep``) where stopping is
safe, raises ``Stopped`` there and cleans up what its pair half made; a
pair not yet started is not started.  Once every worker has ended, the
batch raises ``BatchStopped``, which the mode turns into ``Interrupted``:
the command layer (``osc_imageshare.cli``) ends the process with exit code
1 and that summary of what was done, undone and not started.
Outside a batch (one pair, in the main thread) ``check`` and ``sleep``
do nothing but sleep: the signal raises where the code is.
"""

import contextlib
import signal
import threading
import time

SIGNALS = ('SIGINT', 'SIGTERM', 'SIGHUP')
NOT_STARTED = object()

_local = threading.local()


class Interrupted(BaseException):
    """A caught signal ended the run; the message says what was undone.

    A ``BaseException``, as the signal that caused it: no ``except
    Exception`` on the way up (a pair's failure handling, a worker's
    result) may take it for a failed item and go on.  Library code only
    raises it; ``osc_imageshare.cli`` turns it into the exit code and the
    message on stderr.  ``rows``: what the run knew when the signal came,
    rows for the command to print first (None: no rows).
    """

    def __init__(self, *args, rows=None):
        super().__init__(*args)
        self.rows = rows


class Stopped(BaseException):
    """Raised in a worker: its batch is stopping on signal ``name``."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class BatchStopped(Interrupted):
    """The batch stopped; how each item ended.

    ``results``, in the order of the items: a value, the exception the
    item raised, or ``NOT_STARTED``.
    """

    def __init__(self, name, results):
        super().__init__('Interrupted by %s before anything was changed'
                         % name)
        self.name = name
        self.results = results

    @property
    def too_late(self):
        """Whether every item had ended by itself, none cut or not started.

        The signal then came too late to stop anything.
        """
        return not any(res is NOT_STARTED or isinstance(res, BaseException)
                       for res in self.results)

    def pick(self, items):
        """``(done, failed, not_started)``: the items, sorted by outcome.

        ``failed`` holds ``(item, exception)``.
        """
        done, failed, idle = [], [], []
        for item, res in zip(items, self.results):
            if res is NOT_STARTED:
                idle.append(item)
            elif isinstance(res, BaseException):
                failed.append((item, res))
            else:
                done.append(item)
        return done, failed, idle


class Stop:
    """Set once, by the first of the signals, with that signal's name."""

    def __init__(self):
        self.event = threading.Event()
        self.name = None

    def set(self, signum, frame=None):
        if self.name is None:
            self.name = signal.Signals(signum).name
        self.event.set()


@contextlib.contextmanager
def handled_by(handler):
    """In the main thread: INT, TERM and HUP go to ``handler`` meanwhile.

    A signal the process was told to ignore (``nohup``, a background job)
    stays ignored.  In another thread (where Python cannot set handlers)
    nothing changes.
    """
    old = swap(handler)
    try:
        yield
    finally:
        restore(old)


def swap(handler):
    """``handled_by``'s start: ``handler`` set; ``{signal: previous}``."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    old = {}
    for name in SIGNALS:
        num = getattr(signal, name)
        if signal.getsignal(num) != signal.SIG_IGN:
            old[num] = signal.signal(num, handler)
    return old


def restore(old):
    """``handled_by``'s end: the handlers ``swap`` replaced, back."""
    for num, previous in old.items():
        signal.signal(num, previous)


def install(handler):
    """In the main thread: INT, TERM and HUP go to ``handler`` from now on.

    A signal the process was told to ignore stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for name in SIGNALS:
        num = getattr(signal, name)
        if signal.getsignal(num) != signal.SIG_IGN:
            signal.signal(num, handler)


def catching(stop):
    """In the main thread: INT, TERM and HUP set ``stop`` meanwhile."""
    return handled_by(stop.set)


@contextlib.contextmanager
def joined(stop):
    """In a worker: ``check`` and ``sleep`` answer to ``stop``."""
    _local.stop = stop
    try:
        yield
    finally:
        _local.stop = None


def current():
    """The ``Stop`` of this worker's batch, or None."""
    return getattr(_local, 'stop', None)


def check():
    """Raise ``Stopped`` if this worker's batch is stopping."""
    stop = current()
    if stop is not None and stop.event.is_set():
        raise Stopped(stop.name)


def sleep(seconds):
    """``time.sleep``, cut short by ``Stopped`` in a stopping batch."""
    stop = current()
    if stop is None:
        time.sleep(seconds)
    elif stop.event.wait(seconds):
        raise Stopped(stop.name)
