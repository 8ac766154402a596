"""``image replicate --check``: is replication keeping up?  Writes nothing.

One row per series and target: its newest source, the newest proven
replica there, the lag (how long ago the source of that replica was
created), and a status: ``missing`` (the newest source has no proven
replica there), ``lagging`` (it has, but with ``max_lag``, the newest
replica's source is older than that), ``stale-replicas`` (up to date, but
more proven replicas than ``keep``, or unfinished copies, are left for
a run to clean), ``ok``.  Missing and lagging are failures (exit 1).
"""

import datetime
import logging

from osc_imageshare.imagecopy import labels
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import copy
from osc_imageshare.ops import replicate
from osc_imageshare.ops import series

LOG = logging.getLogger(__name__)

OK = 'ok'
LAGGING = 'lagging'
MISSING = 'missing'
STALE = 'stale-replicas'
FAILING = (MISSING, LAGGING)
E_CHECK = ('{failed} of {total} series/target pairs are missing or lagging '
           '(their rows say which)')


def check(glance, ident, req, max_lag=None, now=None):
    """The rows of the check, and the usual ``replicate.Result``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    state, _ = replicate.read(glance, ident, req)
    for p in state.pairs:
        # A target a run refuses (your own project, in this Glance) has
        # nothing to check: its line, as the run's, not a 'missing' row.
        p.error = p.error or copy.in_place(
            glance, p.target, p.sources[0], remedy=replicate.E_REMEDY)
    rows = [_row(p, req.keep, max_lag, now) for p in state.pairs
            if not p.error]
    failed = sum(1 for r in rows if r[-1] in FAILING)
    errs = list(state.failed.values()) + [p.error for p in state.pairs
                                          if p.error]
    summary = None
    if failed or errs:
        summary = '\n'.join(
            ([E_CHECK.format(failed=failed, total=len(rows))]
             if failed else [])
            + ([messages.E_PARTIAL.format(
                verb='check', failed=len(errs), total=len(errs) + len(rows),
                things='series/target pairs or images')] if errs else []))
    # A target that could not be read: its one line, not one per series.
    return replicate.Result(rows, state.warnings, list(dict.fromkeys(errs)),
                            summary)


def _row(pair, keep, max_lag, now):
    """``(series, target, newest source, newest replica, lag, status)``."""
    newest = pair.sources[0]
    found = pair.by_source()
    # By the source's own creation time where it lives (a label another
    # project rewrote cannot make a replica look newer).
    ranked = sorted(found.values(), key=pair.source_time)
    last = ranked[-1] if ranked else None
    lag = None
    if last is not None:
        when = series.parse_time(pair.source_time(last))
        lag = (now - when).total_seconds() if when else None
    if newest['id'] not in found:
        status = MISSING
    elif max_lag is not None and (lag is None or lag > max_lag):
        status = LAGGING
    elif (keep is not None and len(found) > keep) or [
            d for d in pair.debris if not labels.is_live(d)]:
        status = STALE
    else:
        status = OK
    return (pair.key, pair.where, newest['id'],
            last['id'] if last else None,
            series.words(lag) if lag is not None else None, status)
