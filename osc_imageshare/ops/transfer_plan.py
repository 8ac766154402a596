"""A transfer as data: explicit steps per (image, target), one Result.

A mode turns what it read into a ``Plan``: for each (image, target) pair,
the ``Step`` objects it will take, in order.  ``--dry-run`` prints those
steps; the run executes the same objects and records each one in
``Pair.done`` as it starts it, so the two cannot drift apart.
"""

import dataclasses
import logging

from osc_imageshare.ops import messages

LOG = logging.getLogger(__name__)


# What the target did while ``image transfer --wait`` watched, in the
# Changes column (the wait's own error says so already).
WAITED = {'accepted': 'accepted by the project',
          'rejected': 'rejected by the project'}


@dataclasses.dataclass(frozen=True, eq=False)
class Step:
    """One action of a pair; ``text`` is how the plan prints it."""

    kind: str
    text: str
    why: str = None     # why the step is planned, when not the options


@dataclasses.dataclass
class Pair:
    """One image and one target: the plan for them, then the outcome."""

    image: dict
    target: object                  # targets.Target
    member: dict = None             # the membership, as last known
    steps: list = dataclasses.field(default_factory=list)
    done: list = dataclasses.field(default_factory=list)
    status: str = None              # the membership after the run
    changes: list = dataclasses.field(default_factory=list)
    error: str = None
    state: object = None            # modes.base.State, set by the run
    # The mode's own outcome (modes.base): owner mode: the owner before;
    # copy mode: the import methods the plan fixed and the target's
    # labelled copies it listed, then the copy made.
    old_owner: str = None
    methods: tuple = None
    listed: list = None
    copy: object = None             # imagecopy.engine.CopyResult

    def start(self, step):
        """Record that ``step`` of the plan is being executed."""
        self.done.append(step)
        LOG.info('Image %s, project %s: %s', self.image['id'],
                 self.target.project_id, step.text)


@dataclasses.dataclass
class Plan:
    mode: str
    pairs: list
    failed_images: dict             # image ref -> why, found at preflight
    targets: list
    options: dict
    # image id -> the members a private image hid, as the run found them
    earlier: dict = dataclasses.field(default_factory=dict)
    # image id -> {member ID: member}, as read before the run (share mode)
    members: dict = dataclasses.field(default_factory=dict)
    companions: object = None       # companions.Links, in share mode
    copy_companions: object = None  # companions.Links, in copy mode

    def by_image(self):
        """``[[pair, ...], ...]``, one list per image, in plan order."""
        out = {}
        for p in self.pairs:
            out.setdefault(p.image['id'], []).append(p)
        return list(out.values())


@dataclasses.dataclass
class Result:
    """What every mode returns: rows to print, and what went wrong.

    ``kind`` names the rows' shape (a mode's ``NAME``, or 'set'): the
    command that prints them owns their column names.
    """

    kind: str
    rows: list
    warnings: list
    errors: list
    failed: int                     # failed (image, target) pairs
    total: int                      # all (image, target) pairs
    verb: str                       # for 'Failed to <verb> N of M ...'
    plan: Plan = None
    wait_error: str = None          # --wait ended by a rejection, timeout
    interrupted: str = None         # the summary of a run a signal cut

    @property
    def summary(self):
        """The one-line error for a partial failure, or None."""
        if self.interrupted:
            return self.interrupted
        if not self.failed:
            return self.wait_error
        return messages.E_PARTIAL.format(
            verb=self.verb, failed=self.failed, total=self.total,
            things='image/project pairs')


def changes_text(pair, dry_run):
    """The Changes column: the plan's steps, or what the run changed."""
    if dry_run:
        return 'plan: ' + (', '.join(s.text for s in pair.steps)
                           or 'nothing to do')
    changes = ', '.join(pair.changes) or 'none'
    if pair.error:
        return 'failed' + (', ' + changes if pair.changes else '')
    return changes


def result(plan, mode, dry_run, warnings, signal=None):
    """The one Result of a run or a dry run of ``plan`` by ``mode``.

    The rows are of the pairs done, planned or unchanged; a pair that
    failed (or ``signal`` cut) has no row: its error says it, on
    stderr, and the summary counts it (``mode.summary`` for a signal).
    """
    rows = []
    for p in plan.pairs:
        if p.error:
            continue
        row = mode.row(plan, p, changes_text(p, dry_run), dry_run)
        if row is not None:
            rows.append(row)
    per_image = len(plan.targets)
    errors = list(plan.failed_images.values())
    errors += [p.error for p in plan.pairs if p.error]
    failed = (len(plan.failed_images) * per_image
              + sum(1 for p in plan.pairs if p.error))
    total = len(plan.pairs) + len(plan.failed_images) * per_image
    return Result(mode.NAME, rows, warnings, errors, failed, total,
                  mode.VERB, plan, interrupted=signal and mode.summary(
                      plan, signal))
