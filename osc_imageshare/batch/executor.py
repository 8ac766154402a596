"""One executor for a write command's steps: order, parallelism, undo, signals.

A write command plans a list of ``Step`` s.  Each carries its action (the
one write it sends), its undo (the compensation that puts back what the
action changed, or None when what it did stands), the steps it waits
for (``after``: they must be done), those it only comes after
(``follows``: whatever their outcome) and its ``group`` (the steps that
stand or fall together: a pair's add and accept).  ``run`` starts each
step once every step it waits for is done, ``workers`` at a time, in the
order of the list, and types each outcome: ``DONE``, ``FAILED`` (its
error in words), ``UNDONE`` (done, then compensated because its group
failed or was cut), ``NOT_STARTED`` (a signal came first, or a step it
waits for did not end done).

A group may serve others: a ``Group`` whose ``parent`` is another group
(an image's pairs, the image's own steps).  The parent stands while one
of the groups it serves may: once every one of them has failed, been
undone or was never started, and none of its own steps is under way,
the parent is undone too.

INT, TERM and HUP meanwhile: no step starts any more, but a ``closing``
one (it finishes what others began, as dropping a run's label) once what
it waits for is done; the steps under way end, and each group left
incomplete is undone, newest step first, then the groups no other needs
any more; ``Run.stopped`` names the signal.  The dry run of a command is
its list of steps, printed: what the run would execute, by construction.

While a step's action or undo runs, ``current()`` is that step, in its
thread: logs, and the unit tests' fake Glance, name the step each write
belongs to.
"""

import dataclasses
import logging
import threading

from concurrent import futures

from osc_imageshare.batch import signals
from osc_imageshare import errors

LOG = logging.getLogger(__name__)

DONE = 'done'
FAILED = 'failed'
UNDONE = 'undone'
NOT_STARTED = 'not started'
POLL = 0.05     # seconds: how soon the main thread sees a signal

_local = threading.local()


@dataclasses.dataclass(eq=False)
class Step:
    """One write of a plan, with its undo; ``outcome`` once run."""

    text: str
    action: object                  # () -> None; raises on failure
    undo: object = None             # () -> None, or None: it stands
    after: tuple = ()               # the steps it waits for
    group: object = None            # stands or falls with these
    follows: tuple = ()             # starts after these ended, however
    closing: bool = False           # starts even after a signal
    outcome: str = None
    error: str = None               # why it failed (or its undo did)
    logged: bool = True             # False: its action logs its own words

    def __str__(self):
        return self.text


@dataclasses.dataclass(eq=False)
class Group:
    """Steps that stand or fall together; ``parent``: the group they need.

    The parent is undone once no group that needs it can stand.
    """

    name: str = ''
    parent: object = None


@dataclasses.dataclass
class Run:
    """What ``run`` did: the steps, typed; ``stopped``: the signal."""

    steps: list
    stopped: str = None

    def having(self, outcome):
        return [s for s in self.steps if s.outcome == outcome]


def current():
    """The step whose action or undo runs in this thread, or None."""
    return getattr(_local, 'step', None)


def run(steps, workers=1, stop=None):
    """Run ``steps`` in their order, ``workers`` at a time; a ``Run``.

    A step starts once every step in its ``after`` is done; one of them
    failed, undone or not started leaves it not started.  A failure
    undoes the done steps of its group.  ``stop``: the ``signals.Stop``
    of a caller that catches signals already (set by a signal for both).
    """
    steps = list(steps)
    own = stop is None
    stop = stop or signals.Stop()
    workers = max(1, min(workers or 1, len(steps) or 1))
    settled = set()     # the groups undone as a whole (once each)
    with signals.catching(stop) if own else _nothing():
        with futures.ThreadPoolExecutor(workers) as pool:
            running, crashed = {}, None
            while True:
                if crashed is None:
                    _settle(steps, bool(stop.name), settled, running)
                    for step in _ready(steps, running, workers,
                                       bool(stop.name)):
                        running[step] = pool.submit(_do, step, stop)
                if not running:
                    break
                done, _ = futures.wait(list(running.values()), POLL,
                                       futures.FIRST_COMPLETED)
                for step in [s for s, f in running.items() if f in done]:
                    # Not a refusal but a bug: no more starts, then raised.
                    crashed = crashed or running.pop(step).exception()
                    if step.outcome == FAILED:
                        _undo_group(step.group, steps)
    if crashed is not None:
        raise crashed
    for step in steps:
        if step.outcome is None:
            step.outcome = NOT_STARTED
    _settle(steps, bool(stop.name), settled)
    return Run(steps, stop.name)


def _settle(steps, stopped, settled, running=()):
    """Undo the groups that can no longer stand, none under way.

    Stopped: each group with a step that will not start now; then each
    parent none of whose groups can stand (nor is under way).  A step
    is under way until this thread has seen it end (``running``): one
    that failed in its worker a moment ago has its group undone first
    (a pair's member removed before its image is made private again).
    """
    groups = {}
    for step in steps:
        if step.group is not None:
            groups.setdefault(step.group, []).append(step)
    busy = {g for g, members in groups.items()
            if any(s.outcome == 'running' or s in running for s in members)}
    if stopped:
        for group, members in groups.items():
            if group not in busy and group not in settled and any(
                    _never(s, stopped) for s in members):
                settled.add(group)
                _undo_group(group, steps)
    served = {}
    for group in groups:
        if getattr(group, 'parent', None) is not None:
            served.setdefault(group.parent, []).append(group)
    for parent, children in served.items():
        if parent in busy or parent in settled or busy.intersection(
                children):
            continue
        if all(any(_never(s, stopped) or s.outcome in (FAILED, UNDONE)
                   for s in groups[child]) for child in children):
            settled.add(parent)
            _undo_group(parent, steps)


def _never(step, stopped):
    """Whether ``step`` will not start (any more)."""
    return step.outcome == NOT_STARTED or (
        stopped and step.outcome is None and not step.closing)


def _ready(steps, running, workers, stopped=False):
    """The steps that may start now (at most the free workers).

    ``stopped``: a signal came; only a closing step may start.
    """
    free = workers - len(running)
    out = []
    for step in steps:
        if free <= 0:
            break
        if step.outcome is not None or step in running:
            continue
        if any(s.outcome in (FAILED, UNDONE) or _never(s, stopped)
               for s in step.after):
            step.outcome = NOT_STARTED
            continue
        if stopped and not step.closing:
            continue
        if not all(s.outcome in (DONE, FAILED, UNDONE) or _never(s, stopped)
                   for s in step.follows):
            continue    # one it follows is under way, or may still start
        if all(s.outcome == DONE for s in step.after):
            step.outcome = 'running'
            out.append(step)
            free -= 1
    return out


def _do(step, stop):
    """Run ``step``'s action in a worker joined to the run's ``stop``."""
    _local.step = step
    try:
        with signals.joined(stop):
            if step.logged:
                LOG.info('%s', step.text)
            step.action()
        step.outcome = DONE
    except errors.ImageShareError as e:
        step.outcome, step.error = FAILED, str(e)
    except signals.Stopped as e:
        # The action stopped where it was safe to and cleaned up after
        # itself (signals.check): it did not happen.
        step.outcome, step.error = FAILED, 'interrupted by %s' % e.name
    finally:
        _local.step = None


def _undo_group(group, steps):
    """Undo the done steps of ``group``, newest first."""
    if group is None:
        return
    for step in reversed([s for s in steps if s.group is group
                          and s.outcome == DONE]):
        if step.undo is None:
            continue
        _local.step = step
        try:
            step.undo()
            step.outcome = UNDONE
        except errors.ImageShareError as e:
            step.error = 'its undo failed: %s' % e
        finally:
            _local.step = None


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
