"""A loopback fault proxy in front of a real Glance, for the retry tests.

``GlanceProxy(upstream)`` listens on 127.0.0.1 (a free port), forwards
every request to ``upstream`` and records it.  A test tells it, with
``fault()``, to answer the Nth request matching a method and a regular
expression (searched in the request target, path and query) with a given
status, body and headers, or to reset the connection (close it without
answering); ``after=True`` forwards the request first, so Glance acts on
it and only the answer is lost.  ``delay`` (at most ``MAX_DELAY`` s)
holds the answer that long; without a status or a reset, Glance's own
answer, late (a slow Glance or gateway: the client may have given up).
Each fault fires once, or for ``times`` matching requests in a row.

It is bounded: one thread per connection and at most ``max_connections``
at a time (more are closed at once), sockets time out, and the proxy
closes itself after ``lifetime`` seconds if the test has not.  Use it as
a context manager.
"""

import http.client
import json
import re
import socket
import struct
import threading
import time
import urllib.parse

HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-connection', 'te',
              'trailer', 'transfer-encoding', 'upgrade', 'content-length'}
GATEWAY_502 = {'status': 502, 'body': {'message': 'Bad gateway'}}
MAX_DELAY = 30      # seconds a fault may hold an answer


class Reset(Exception):
    """Close the client's connection without an answer."""


class Fault:
    """Answer the ``nth`` request matching ``method`` and ``pattern``.

    ``method`` is one method or a tuple of them.
    """

    def __init__(self, method, pattern, nth=1, status=None, body=None,
                 headers=None, reset=False, after=False, delay=0, times=1):
        methods = (method,) if isinstance(method, str) else method
        self.methods = {m.upper() for m in methods}
        self.pattern = re.compile(pattern)
        self.nth = nth
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.reset = reset
        self.after = after
        self.delay = min(float(delay), MAX_DELAY)
        self.times = times
        self.seen = 0
        self.fired = False

    @property
    def late_only(self):
        """Glance's own answer, only late (no status of its own)."""
        return self.status is None and not self.reset

    def matches(self, method, target):
        if method not in self.methods or not self.pattern.search(target):
            return False
        self.seen += 1
        if not self.nth <= self.seen < self.nth + self.times:
            return False
        self.fired = self.seen == self.nth + self.times - 1
        return True

    def answer(self):
        body = self.body
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            self.headers.setdefault('Content-Type', 'application/json')
        body = (body or '').encode() if isinstance(body, str) else body
        return self.status, self.headers, body or b''


class GlanceProxy:
    """The proxy; ``url`` to point clients at, ``log`` of what it saw."""

    def __init__(self, upstream, max_connections=32, lifetime=600):
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port or 80)
        self.max_connections = max_connections
        self.deadline = time.monotonic() + lifetime
        self.faults = []
        # (method, target, what): 'forwarded', 'answered <status>',
        # 'reset', or with ' after forwarding'; 'answered late'.
        self.log = []
        self.stamps = []    # time.monotonic() of each log entry
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._conns = set()
        self._closed = threading.Event()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(('127.0.0.1', 0))
        self._server.listen(max_connections)
        self._server.settimeout(0.5)
        self.url = 'http://127.0.0.1:%d' % self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fault(self, method, pattern, **kwargs):
        """Add a Fault (see its arguments); return it."""
        fault = Fault(method, pattern, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def requests(self, method=None, pattern=None):
        """The logged (method, target, what) entries that match."""
        return [entry for entry, _ in self._matching(method, pattern)]

    def moments(self, method=None, pattern=None):
        """When (time.monotonic()) the matching requests were handled."""
        return [stamp for _, stamp in self._matching(method, pattern)]

    def _matching(self, method, pattern):
        with self._lock:
            log = list(zip(self.log, self.stamps))
        return [(entry, stamp) for entry, stamp in log
                if (method is None or entry[0] == method)
                and (pattern is None or re.search(pattern, entry[1]))]

    def wait_closed(self, timeout):
        """True once the proxy no longer accepts connections."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self):
        self._closed.set()
        self._thread.join(5)
        self._server.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            _close(conn)

    # ------------------------------------------------------------ serving
    def _serve(self):
        while not self._closed.is_set() and time.monotonic() < self.deadline:
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            if not self._slots.acquire(blocking=False):
                _close(conn)
                continue
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._handle, args=(conn,),
                             daemon=True).start()
        self._closed.set()

    def _handle(self, conn):
        conn.settimeout(60)
        reader = conn.makefile('rb')
        try:
            while not self._closed.is_set():
                request = _read_request(reader)
                if request is None:
                    break
                if not self._exchange(conn, *request):
                    break
        except (OSError, ValueError, Reset, http.client.HTTPException):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            _close(conn, reset=True)
            self._slots.release()

    def _exchange(self, conn, method, target, headers, body):
        """Answer one request; False when the connection must close."""
        fault = self._fault_for(method, target)
        what = ''
        if fault is not None and fault.after:
            self._forward(method, target, headers, body)
            what = ' after forwarding'
        if fault is not None and fault.late_only:
            status, extra, payload = self._forward(method, target, headers,
                                                   body)
            self._note(method, target, 'answered late')
            self._closed.wait(fault.delay)
            _send(conn, status, extra, payload)
            return True
        if fault is not None and fault.delay:
            self._closed.wait(fault.delay)
        if fault is not None and fault.reset:
            self._note(method, target, 'reset' + what)
            raise Reset()
        if fault is not None:
            status, extra, payload = fault.answer()
            self._note(method, target, 'answered %d%s' % (status, what))
        else:
            status, extra, payload = self._forward(method, target, headers,
                                                   body)
            self._note(method, target, 'forwarded')
        _send(conn, status, extra, payload)
        return True

    def _fault_for(self, method, target):
        with self._lock:
            for fault in self.faults:
                if not fault.fired and fault.matches(method, target):
                    return fault
        return None

    def _note(self, method, target, what):
        with self._lock:
            self.log.append((method, target, what))
            self.stamps.append(time.monotonic())

    def _forward(self, method, target, headers, body):
        upstream = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            sent = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
            upstream.putrequest(method, target, skip_host=True,
                                skip_accept_encoding=True)
            for key, value in sent:
                upstream.putheader(key, value)
            upstream.putheader('Content-Length', str(len(body)))
            upstream.endheaders(body)
            resp = upstream.getresponse()
            payload = resp.read()
            kept = [(k, v) for k, v in resp.getheaders()
                    if k.lower() not in HOP_BY_HOP]
            return resp.status, kept, payload
        finally:
            upstream.close()


def _read_request(reader):
    """(method, target, headers, body) of the next request, or None."""
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode('latin-1').split(' ', 2)
    message = http.client.parse_headers(reader)
    headers = list(message.items())
    if message.get('Transfer-Encoding', '').lower() == 'chunked':
        body = _read_chunked(reader)
    else:
        body = reader.read(int(message.get('Content-Length') or 0))
    return method.upper(), target, headers, body


def _read_chunked(reader):
    chunks = []
    while True:
        size = int(reader.readline(1024).split(b';')[0].strip(), 16)
        if size == 0:
            while reader.readline(1024) not in (b'\r\n', b'\n', b''):
                pass
            return b''.join(chunks)
        chunks.append(reader.read(size))
        reader.readline(1024)


def _send(conn, status, headers, payload):
    if isinstance(headers, dict):
        headers = list(headers.items())
    reason = http.client.responses.get(status, 'Unknown')
    lines = ['HTTP/1.1 %d %s' % (status, reason)]
    lines += ['%s: %s' % (k, v) for k, v in headers]
    lines.append('Content-Length: %d' % len(payload))
    conn.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
                 + payload)


def _close(conn, reset=False):
    try:
        if reset:
            # SO_LINGER 0: the close sends a RST, as a dropped proxy does.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack('ii', 1, 0))
        conn.close()
    except OSError:
        pass
