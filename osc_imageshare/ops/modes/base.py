"""The Mode protocol: what share, copy and owner each implement.

``ops.pipeline.transfer`` knows a mode only through these names (a mode
is a module that defines them all; ``missing`` names what one lacks):

``NAME``, ``VERB``
    The mode's name, and the verb of its partial-failure line ('Failed
    to <verb> N of M image/project pairs').
``ALLOW_OWN``
    Whether the caller's own project may be a target (a copy of someone
    else's image), see ``recipients.resolve``.
``OPTIONS``
    The names of the ``pipeline.Request`` fields it reads: with
    ``parallel``, its ``Plan.options``.
``needs_accept(options)``
    How the targets must be able to act: a ``recipients.AcceptPolicy``.
``preflight(ident)``
    Refuse the caller before any request (owner mode: not an admin).
``read(glance, ident, image_refs, workers)``
    Everything the plan needs, read and never written: a ``ReadResult``.
``make_plan(read, targets, options)``
    The ``transfer_plan.Plan``: per (image, target) pair, the steps the
    run will take; ``--dry-run`` prints exactly those steps, and the run
    records each in ``Pair.done`` as it starts it.
``dry_run_warnings(plan, ident)``
    What a dry run says beside the plan.
``execute(glance, ident, plan, stop=None)``
    Run the plan's steps on the executor (``batch.executor``), under
    ``stop``, the ``signals.Stop`` the pipeline catches INT, TERM and HUP
    with; returns the warnings of what was done.  A signal that cuts
    pairs: either each pair's ``state`` says how it ended (share: the
    Result's summary is ``summary``) or it raises ``signals.Interrupted``
    with a line per pair touched (copy, owner); both end with
    ``interrupted_summary``.  A signal once every pair had ended: the
    pipeline says it came too late (``W_LATE_SIGNAL``).
``risks(plan, ident)``
    The warnings about what the run left standing (share: who depends
    on whom), read after the run (and after ``--wait``).
``summary(plan, signal)``
    The summary line of a run ``signal`` cut (None: the mode raised).
``row(plan, pair, changes, dry_run)``
    The pair's row (None: no row), in the order of the command's
    columns.

Each pair's outcome is typed: ``Pair.state`` (a ``State``) says how it
ended; the mode's own fields of ``Pair`` (``old_owner``, ``methods``,
``copy``) hold what it made.
"""

import dataclasses
import enum
import logging
import typing

LOG = logging.getLogger(__name__)


class Mode(typing.Protocol):
    """The protocol above, as a type: each mode module satisfies it."""

    NAME: str
    VERB: str
    ALLOW_OWN: bool
    OPTIONS: tuple

    def needs_accept(self, options): ...

    def preflight(self, ident): ...

    def read(self, glance, ident, image_refs, workers=1): ...

    def make_plan(self, read, targets, options): ...

    def dry_run_warnings(self, plan, ident): ...

    def execute(self, glance, ident, plan, stop=None): ...

    def risks(self, plan, ident): ...

    def summary(self, plan, signal): ...

    def row(self, plan, pair, changes, dry_run): ...


# The names a mode defines, in the order above.
NAMES = tuple(Mode.__annotations__) + tuple(
    n for n, v in vars(Mode).items() if callable(v) and not n.startswith('_'))

SUMMARY = ('Interrupted by {signal}: of {total} image/project pairs, {done} '
           '{done_verb}, {failed} failed, {cut} interrupted ({cut_note}), '
           '{idle} not started{tail}')
# A signal that stopped no pair: it came once every pair had ended, or
# while a pair's last steps, which do not stop midway, were under way (an
# acceptance already sent). The run is not interrupted.
W_LATE_SIGNAL = ('{signal} came too late to stop anything: every '
                 'image/project pair ran to its end, none was interrupted')


class State(enum.Enum):
    """How a pair of a run ended."""

    DONE = 'done'
    FAILED = 'failed'
    INTERRUPTED = 'interrupted'     # a signal stopped it under way
    NOT_STARTED = 'not started'     # a signal came first


@dataclasses.dataclass
class ReadResult:
    """What every mode's ``read`` returns (all it read, nothing written)."""

    images: list                    # the images found, in order
    failed: dict                    # image ref -> why it cannot go
    members: dict = dataclasses.field(default_factory=dict)
    companions: object = None       # companions.Links, or None
    source: object = None           # the source's Glance client (copy)


def nothing_to_say(plan, ident):
    """``dry_run_warnings`` or ``risks`` of a mode with none."""
    return []


def no_summary(plan, signal):
    """``summary`` of a mode a signal stops by ``signals.Interrupted``."""
    return None


def missing(mode):
    """The protocol's names that ``mode`` does not define."""
    return [n for n in NAMES if not hasattr(mode, n)]


def state_of(pair):
    """The pair's ``State``: as the mode set it, else by its error."""
    if pair.state is not None:
        return pair.state
    return State.FAILED if pair.error else State.DONE


def finished(states):
    """Whether every pair of ``states`` ended by itself (done or failed).

    A signal caught then came too late to stop anything: the run reports
    as if none had come, and says so (``W_LATE_SIGNAL``).
    """
    return all(s in (State.DONE, State.FAILED) for s in states)


def interrupted_summary(signal, pairs, done_verb, cut_note, tail='',
                        states=None):
    """The one summary line of an interrupted run, for every mode.

    ``states``: the ``State`` of each of ``pairs`` where the caller knows
    better than ``state_of``.
    """
    states = list(map(state_of, pairs) if states is None else states)
    return SUMMARY.format(
        signal=signal, total=len(pairs), done_verb=done_verb,
        done=states.count(State.DONE), failed=states.count(State.FAILED),
        cut=states.count(State.INTERRUPTED), cut_note=cut_note,
        idle=states.count(State.NOT_STARTED), tail=tail)
