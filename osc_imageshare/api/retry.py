"""Glance behind a rate limiter: honour 429 and 503, retry safely.

Idempotent requests (GET, PUT, PATCH replace, DELETE) are sent again
after a 429 or 503, once ``Retry-After`` has passed (else after 0.5 s,
doubling; at most ``MAX_WAIT``), at most ``RETRIES`` times.  The loop is
ours, not keystoneauth's: keystoneauth honours ``Retry-After`` only in
its newer releases, and glanceclient drops the header from its errors.
Adding a member (POST) is not idempotent: after a 429 or 503 the
membership is read first, and the POST is sent again only if it is not
there.  A 503 while Keystone does not answer is not retried: the Glance's
keystonemiddleware could not check the token, and waiting will not help.
"""

import logging
import re
import time

from glanceclient.common import http as glance_http
from glanceclient import exc as glance_exc
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc

from osc_imageshare.api import glance as images

LOG = logging.getLogger(__name__)

RETRIABLE = (429, 503)
RETRIES = 3
BACKOFF = 0.5               # seconds, doubled each time (POST only)
MAX_WAIT = 60.0             # the longest Retry-After a POST honours
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


def _final(resp, attempt, http):
    """Whether ``resp`` is the answer to return (no retry)."""
    return (resp.status_code not in RETRIABLE or attempt == RETRIES
            or (resp.status_code == 503 and images.keystone_down(http)))


class _Http:

    def __init__(self, http, sleep):
        self._http = http
        self._sleep = sleep

    def __getattr__(self, name):
        return getattr(self._http, name)

    def _idempotent(self, method, url, **kw):
        if (not isinstance(self._http, ks_adapter.Adapter)
                or not isinstance(kw.get('data'),
                                  (type(None), dict, list, str))):
            # A stream (image data) cannot be sent twice; the unit
            # tests' fake has no HTTP to retry.
            return getattr(self._http, method)(url, **kw)
        delay = BACKOFF
        for attempt in range(RETRIES + 1):
            resp = self._send(method.upper(), url, dict(kw))
            if _final(resp, attempt, self._http):
                return self._http._handle_response(resp)
            wait = _retry_after(resp.headers.get('Retry-After'), delay)
            LOG.info('Glance answered %s to %s %s; trying again in %.1f s',
                     resp.status_code, method.upper(), url, wait)
            self._sleep(wait)
            delay *= 2

    def _send(self, method, url, kw):
        """One request as glanceclient sends it, the answer unjudged."""
        headers = dict(kw.pop('headers', None) or {})
        data = self._http._set_common_request_kwargs(headers, kw)
        try:
            return ks_adapter.Adapter.request(
                self._http, url, method, raise_exc=False, data=data,
                headers=glance_http.encode_headers(headers), **kw)
        except ks_exc.ConnectTimeout as e:   # glanceclient's names
            raise glance_exc.InvalidEndpoint(message=str(e))
        except ks_exc.ConnectFailure as e:
            raise glance_exc.CommunicationError(message=str(e))

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
        if not match or not isinstance(self._http, ks_adapter.Adapter):
            return self._http.post(url, data=data, **kw)
        delay = BACKOFF
        for attempt in range(RETRIES + 1):
            # Past glanceclient's error handling, which drops the status
            # of a 429 and every Retry-After.
            resp = self._send('POST', url, {'data': data})
            if _final(resp, attempt, self._http):
                return self._http._handle_response(resp)
            wait = _retry_after(resp.headers.get('Retry-After'), delay)
            LOG.warning('Glance answered %s to adding member %s of image '
                        '%s; checking in %.1f s before trying again',
                        resp.status_code, data['member'], match.group(1),
                        wait)
            self._sleep(wait)
            delay *= 2
            try:
                # Did the refused POST add it all the same?
                return self.get('%s/%s' % (url, data['member']))
            except glance_exc.HTTPNotFound:
                pass


def _retry_after(value, default):
    """Seconds from a Retry-After of seconds, at most MAX_WAIT."""
    try:
        return min(max(float(value), 0.0), MAX_WAIT)
    except (TypeError, ValueError):
        return default
