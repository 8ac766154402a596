"""Glance behind a rate limiter: honour 429 and 503, retry safely.

Idempotent requests (GET, PUT, PATCH replace, DELETE) are retried by
keystoneauth, which waits as long as ``Retry-After`` says (else 0.5 s,
doubling) at most ``RETRIES`` times.  Adding a member (POST) is not
idempotent: after a 429 or 503 the membership is read first, and the
POST is sent again only if it is not there.
"""

import logging
import re
import time

from glanceclient import exc as glance_exc

LOG = logging.getLogger(__name__)

RETRIABLE = (429, 503)
RETRIES = 3
BACKOFF = 0.5               # seconds, doubled each time (POST only)
_MEMBERS = re.compile(r'^/v2/images/([^/]+)/members$')


class RetryingGlance:
    """A Glance client whose requests follow the rules above."""

    def __init__(self, glance, sleep=time.sleep):
        self._glance = glance
        self.http_client = _Http(glance.http_client, sleep)

    def __getattr__(self, name):
        return getattr(self._glance, name)


def wrap(glance):
    """``glance`` with retries; a wrapped client is returned as it is."""
    if glance is None or isinstance(glance, RetryingGlance):
        return glance
    return RetryingGlance(glance)


def _code(e):
    return getattr(e, 'code', None)


class _Http:

    def __init__(self, http, sleep):
        self._http = http
        self._sleep = sleep

    def __getattr__(self, name):
        return getattr(self._http, name)

    def _idempotent(self, method, url, **kw):
        if not isinstance(kw.get('data'), (type(None), dict, list, str)):
            # A stream (image data) cannot be sent twice.
            return getattr(self._http, method)(url, **kw)
        kw.setdefault('status_code_retries', RETRIES)
        kw.setdefault('retriable_status_codes', list(RETRIABLE))
        return getattr(self._http, method)(url, **kw)

    def get(self, url, **kw):
        return self._idempotent('get', url, **kw)

    def put(self, url, **kw):
        return self._idempotent('put', url, **kw)

    def patch(self, url, **kw):
        return self._idempotent('patch', url, **kw)

    def delete(self, url, **kw):
        return self._idempotent('delete', url, **kw)

    def post(self, url, data=None, **kw):
        match = _MEMBERS.match(url)
        delay = BACKOFF
        for attempt in range(RETRIES + 1):
            try:
                return self._http.post(url, data=data, **kw)
            except glance_exc.HTTPException as e:
                if (not match or _code(e) not in RETRIABLE
                        or attempt == RETRIES):
                    raise
                LOG.warning('Glance answered %s to adding member %s of '
                            'image %s; checking before trying again',
                            _code(e), data['member'], match.group(1))
            self._sleep(delay)
            delay *= 2
            try:
                # Did the refused POST add it all the same?
                return self.get('%s/%s' % (url, data['member']))
            except glance_exc.HTTPNotFound:
                pass
