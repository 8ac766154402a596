"""The one retry policy of every request to Glance (used by GlanceAPI).

What is sent again, by request kind (``SAFE``, ``CHECKED``, ``CREATE``,
``STREAM``):

- 429 and 503 (a rate limiter, or a Glance not ready): every kind but a
  stream, after ``Retry-After`` (a finite number of seconds, 0 or more,
  or an HTTP date), else after 0.5 s doubling each time.  A
  ``Retry-After`` that is neither (``nan``, ``inf``, ``-1``, words)
  counts as absent; one that asks for less than 0.5 s (``0``, a date
  passed) waits 0.5 s: no retry is sent at once.
- 500, 502, 504 and a connection reset or refused: ``SAFE`` requests
  (GET, a PATCH that only adds or replaces, PUT of a member status,
  DELETE), which leave Glance in the same state however often they land,
  and ``CHECKED`` ones (below).
- ``CHECKED`` (adding a member, a POST; a JSON-patch that removes a
  property, which Glance refuses with 409 once the property is gone):
  after any of the above what the request makes is read first
  (``landed``), and the request is sent again only if it is not there.
- ``CREATE`` (creating an image, starting an import): only 429 and 503,
  which refuse before Glance acts; after a 5xx or a broken connection the
  image may exist, and finding it by its labels is the copy engine's job.
- ``STREAM`` (upload, stage: a generator body): never, not even a 429;
  whether any byte left is the copy engine's to tell (it restarts a copy
  whose stream failed before any byte).  A download is a GET: its request
  is retried, its body is read by the caller and never replayed.
- A connection that timed out, or failed its TLS handshake, is not
  retried: the next attempt would wait as long, or fail the same way.
  Nor is a failure of Keystone's (a refused token request, or a Glance's
  401/503 while Keystone does not answer: ``TransportError.identity``).
  A write whose answer is lost for good (a timeout, retries used up) is
  read back by the door (api/glance.py, ``Check``) before it is reported.

Bounded: at most ``retries`` (3 by default, ``MAX_RETRIES`` (10) at
most) retries and ``budget`` (30 s) per request, counted from its first
attempt, the attempts included: a wait that would end past the budget is
not started, whatever ``Retry-After`` asks for.  Each
retry is logged at debug level.  ``sleep`` and ``clock`` are injected.
"""

import email.utils
import logging
import math
import time

from osc_imageshare import errors

LOG = logging.getLogger(__name__)

SAFE, CHECKED, CREATE, STREAM = 'safe', 'checked', 'create', 'stream'
RETRIES = 3
MAX_RETRIES = 10            # --os-image-share-retries takes 0 to this
BUDGET = 30.0               # seconds per request, from its first attempt
BACKOFF = 0.5               # seconds, doubled each retry
MIN_WAIT = BACKOFF          # the shortest wait, whatever Retry-After says
LIMITED = (429, 503)
FLAKY = (500, 502, 504)


class Landed:
    """What ``landed()`` found: the refused POST took effect after all."""

    def __init__(self, value):
        self.value = value


def retry_after(value, now=None):
    """Seconds a ``Retry-After`` asks for (seconds or an HTTP date).

    None for no header, or one that is neither a finite number of
    seconds, 0 or more, nor an HTTP date: the backoff applies then.
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = None
    if seconds is not None:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now),
               0.0)


class Policy:
    """The rules above; ``call`` runs one request under them."""

    def __init__(self, retries=RETRIES, budget=BUDGET, sleep=time.sleep,
                 clock=time.monotonic, wall=time.time):
        self.retries = min(max(int(retries), 0), MAX_RETRIES)
        self.budget = budget
        self.sleep, self.clock, self.wall = sleep, clock, wall

    def why(self, kind, resp, failure):
        """Why this answer may be retried (words), or None if not."""
        if kind == STREAM:
            return None
        if failure is not None:
            if failure.identity:
                return None     # Keystone failed: Glance did nothing
            broke = errors.broken_kind(failure.__cause__ or failure)
            if broke in ('reset', 'refused') and kind in (SAFE, CHECKED):
                return 'Connection %s' % broke
            return None
        code = resp.status_code
        if code in LIMITED or (code in FLAKY and kind in (SAFE, CHECKED)):
            return 'Glance answered %s' % code
        return None

    def call(self, send, method, path, kind=SAFE, landed=None):
        """``(response, retried)``, or a ``Landed``; raises TransportError.

        ``send()`` makes the request once (a response, or raises
        ``errors.TransportError``); ``landed()`` (CHECKED) returns what the
        request made, if it did, else None.
        """
        start, attempt = self.clock(), 0
        while True:
            resp = failure = None
            try:
                resp = send()
            except errors.TransportError as e:
                failure = e
            why = self.why(kind, resp, failure)
            wait = self._wait(resp, attempt) if why else None
            if wait is None or self.clock() - start + wait > self.budget:
                if failure is not None:
                    raise failure
                return resp, attempt > 0
            attempt += 1
            LOG.debug('%s to %s %s; retry %d of %d in %.1f s', why, method,
                      path, attempt, self.retries, wait)
            self.sleep(wait)
            if landed is not None:
                found = landed()
                if found is not None:
                    return Landed(found)

    def _wait(self, resp, attempt):
        if attempt >= self.retries:
            return None
        asked = None
        if resp is not None and resp.status_code in LIMITED:
            asked = retry_after((resp.headers or {}).get('Retry-After'),
                                self.wall())
        return max(BACKOFF * 2 ** attempt if asked is None else asked,
                   MIN_WAIT)
