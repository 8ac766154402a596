"""Which run made a change, and whether that run is still alive.

A run that writes something a crash could strand records who it is
(``whoami``: ``host:pid:process start``) and when, on the image itself;
a later run tells a dead run from a live one with ``is_live``.  Used by
copy mode (its copier and heartbeat labels) and share mode (the
``imageshare_sharing`` label, see ``osc_imageshare.ops.stranded``).
"""

import datetime
import os
import socket

STALE_SECONDS = 90        # no heartbeat for that long: the run is gone


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def stamp(when=None):
    return (when or now()).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def parse(text):
    try:
        return datetime.datetime.strptime(
            text.replace('Z', ''), '%Y-%m-%dT%H:%M:%S.%f' if '.' in text
            else '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    except (AttributeError, ValueError):
        return None


def process_start(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def whoami():
    """``host:pid:start``: this process, told apart from a reused pid."""
    return '%s:%d:%s' % (socket.gethostname(), os.getpid(),
                         process_start(os.getpid()))


def is_live(run, beat, at=None):
    """Whether the run ``run`` (a ``whoami``) may still be at work.

    A run on this machine is asked directly (its process); one elsewhere
    cannot be, and is live while ``beat`` (its last sign of life, a
    timestamp) is less than ``STALE_SECONDS`` old.
    """
    host, _, rest = (run or '').partition(':')
    pid, _, start = rest.partition(':')
    if host == socket.gethostname() and pid.isdigit():
        return process_start(int(pid)) == start
    last = parse(beat)
    if last is None:
        return False
    return ((at or now()) - last).total_seconds() < STALE_SECONDS
