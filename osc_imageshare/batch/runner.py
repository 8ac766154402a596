"""Run the pairs of a batch concurrently; results stay in their order.

Thread safety: every worker uses the same ``GlanceAPI`` (its keystoneauth
``Adapter``; its retry policy keeps no state between requests) and the
same keystoneauth ``Session``.
Both hold no per-request state: the adapter only adds its endpoint rules
to each call, the session's auth plugin fetches or renews the token under
its own lock (``BaseIdentityPlugin._lock``), and requests' connection
pool (urllib3) is thread-safe; Glance sets no cookies.  So workers share
them.  The targets' clients (rescoped or ``--to-cloud``) are built and
authenticated before any worker starts; ``Identity``'s caches are dicts
filled with the same answer by whichever thread asks first (a race costs
one duplicate lookup, never a wrong one); each pair is written by one
worker only, and rows are built from the plan once all are done.

The pool keeps at most ``MAX`` connections per host (urllib3's default
for keystoneauth's session), hence the bound on ``--parallel``:
more workers would open connections that the pool then discards.

Signals: while workers run, the main thread catches INT, TERM and HUP,
starts no more items, lets each worker stop and clean up (see
``osc_imageshare.batch.signals``), then raises ``stop.BatchStopped``.
"""

from concurrent import futures
import contextlib

from osc_imageshare.batch import signals

# --parallel's default, from bench/parallel.py (see bench/README.rst).
DEFAULT = 6
MAX = 10
POLL = 0.1      # seconds: how soon the main thread sees a signal


def check(workers):
    """``workers`` if in 1..MAX, else the one-line error."""
    if workers is None:
        return DEFAULT
    if not 1 <= workers <= MAX:
        from osc_imageshare import errors
        raise errors.ImageShareError(
            '--parallel must be between 1 and %d (the connections a '
            'session keeps open per host)' % MAX)
    return workers


def run(fn, items, workers=1, stop=None):
    """``[fn(item) for item in items]``, ``workers`` at a time.

    Results (and the first exception, raised once all are done) come in
    the order of ``items``.  With one worker, or one item, no thread.
    A signal (INT, TERM, HUP) meanwhile: the items not started are not,
    and once the workers are done, ``stop.BatchStopped`` says how each
    item ended.  ``stop``: the ``Stop`` of a batch whose caller catches
    the signals itself (``stop.catching``); then one worker too runs the
    items under it, in this thread, and stops as several would.
    """
    items = list(items)
    workers = min(workers or 1, len(items))
    if workers <= 1 and stop is None:
        return [fn(item) for item in items]
    own = stop is None
    stop = stop or signals.Stop()

    def work(item):
        if stop.event.is_set():
            return signals.NOT_STARTED
        with signals.joined(stop):
            return fn(item)

    if workers <= 1:
        results = [_caught(work, item) for item in items]
    else:
        with signals.catching(stop) if own else contextlib.nullcontext():
            results = _pooled(work, items, workers)
    if stop.name is not None:
        raise signals.BatchStopped(stop.name, results)
    for res in results:
        if isinstance(res, BaseException):
            raise res
    return results


def run_stoppable(fn, items, workers=1, stop=None):
    """``run``, with INT, TERM and HUP caught at any ``workers``, 1 included.

    ``(results, stopped)``: ``stopped`` is the ``signals.BatchStopped`` of a
    signal meanwhile, whose ``results`` say how each item ended (a value,
    an exception, or ``signals.NOT_STARTED``); else None.  ``stop``: the
    ``signals.Stop`` of a caller that catches signals already (a signal
    sets it for both).
    """
    stop = stop or signals.Stop()
    with signals.catching(stop):
        try:
            return run(fn, items, workers, stop), None
        except signals.BatchStopped as e:
            return e.results, e


def _caught(work, item):
    try:
        return work(item)
    except signals.Stopped as e:
        return e


def _pooled(work, items, workers):
    with futures.ThreadPoolExecutor(workers) as pool:
        running = [pool.submit(work, item) for item in items]
        # A signal may land in any thread; Python runs the handler in
        # the main thread when it next runs: let it run often.
        while futures.wait(running, POLL).not_done:
            pass
    return [f.exception() or f.result() for f in running]


def find_images(glance, refs, project, check=None, workers=1):
    """``images.find_images``, ``workers`` refs at a time, in order.

    One image is one image: the refs are looked up once each, and an
    image named twice (by name and by ID, or also selected by --tag) is
    found once, where it was first named, and refused once.
    """
    found, failed = [], {}
    for f, fl in run(lambda ref: glance.find_images(
            [ref], project, check), list(dict.fromkeys(refs)),
            workers):
        found.extend(f)
        # The same image refused twice (name and ID): one failure.
        failed.update((ref, why) for ref, why in fl.items()
                      if why not in failed.values())
    return unique_images(found), failed


def unique_images(found):
    """``found`` without the images seen before it (same ID), in order."""
    seen = {}
    for image in found:
        seen.setdefault(image['id'], image)
    return list(seen.values())
