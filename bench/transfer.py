#!/usr/bin/env python3
"""One ``image transfer`` against the manual sequence it replaces.

On the local cloud, in one run, interleaved, on a fresh private image each
time: the wall time of

  A. openstack --os-cloud alice-alpha image transfer IMG --to-cloud bob-beta
  B. the manual sequence of core OSC commands:
     image set --shared IMG; image add project IMG BETA   (as alice)
     image set --accept IMG                                (as bob)
     image member list IMG                                 (as alice)
     image show IMG                                        (as bob)

each plain and behind a latency proxy: a loopback TCP proxy, in this
script, in front of Keystone and Glance, which holds every chunk 25 ms
each way, like a cloud across the internet.  A copy of clouds.yaml points
auth_url to the Keystone proxy, which rewrites the ports in Keystone's
answers (same length) so that the catalog names the proxies; nothing in
the cloud changes.  "Plain" runs through the same proxy with no delay.
The proxy also counts the HTTP requests of each case, token requests
included.  Prints medians, their ratios (targets: <= 0.25 plain, <= 0.20
with latency) and the request counts.

Usage: python bench/transfer.py [--runs N] [--delay SECONDS]
(default 5 and 0.025; run where the ``openstack`` next to this Python has
the plugin, e.g. ``tox -e bench``)
"""

import argparse
import asyncio
import contextlib
import io
import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

from common import CLOUDS_YAML
from common import env
from common import local_cloud
from common import OPENSTACK
from common import region
from common import STATE

BETA_KEY = 'Default/beta'
REQUEST_LINE = re.compile(
    rb'(?:GET|POST|PUT|PATCH|DELETE|HEAD) /\S* HTTP/1\.[01]\r\n')
MAX_CONNECTIONS = 64        # the proxy's bounds
CHUNK = 64 * 1024
QUEUE_CHUNKS = 16           # chunks in flight per direction
IDLE = 60                   # seconds before an idle connection is closed


class LatencyProxy:
    """127.0.0.1:<free port> -> 127.0.0.1:<upstream>, ``delay`` each way.

    ``rewrite`` maps byte strings of the upstream's answers to strings of
    the same length (so that no Content-Length changes): Keystone's
    catalog then names the proxies instead of the services.
    """

    def __init__(self, kind, upstream_port, loop, rewrite=None):
        self.kind = kind
        self.upstream = upstream_port
        self.loop = loop
        self.rewrite = rewrite or {}
        self.delay = 0.0
        self.requests = 0
        self.slots = asyncio.Semaphore(MAX_CONNECTIONS)
        width = len(str(upstream_port))
        # A port of the same width as the upstream's, for same-length
        # rewriting of the URLs that name it.
        for _ in range(100):
            server = asyncio.run_coroutine_threadsafe(
                asyncio.start_server(self._serve, '127.0.0.1', 0),
                loop).result()
            port = server.sockets[0].getsockname()[1]
            if len(str(port)) == width:
                break
            server.close()
        self.server, self.port = server, port

    async def _serve(self, reader, writer):
        async with self.slots:
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    '127.0.0.1', self.upstream)
            except OSError:
                writer.close()
                return
            await asyncio.gather(self._pump(reader, up_writer, True),
                                 self._pump(up_reader, writer, False))

    def _held(self, data):
        """How many bytes at the end of ``data`` may start a rewrite."""
        for n in range(max(map(len, self.rewrite), default=1) - 1, 0, -1):
            if any(old.startswith(data[-n:]) for old in self.rewrite):
                return n
        return 0

    async def _pump(self, reader, writer, upstream):
        """Read, rewrite, count; a sender delivers each chunk when due.

        The delay is a line's, not a queue's: a chunk is delivered
        ``delay`` after it arrived, whatever came before it.
        """
        line = asyncio.Queue(QUEUE_CHUNKS)    # bounded memory
        sender = asyncio.ensure_future(self._send(line, writer))
        carry = b''
        try:
            while True:
                try:
                    data = await asyncio.wait_for(
                        reader.read(CHUNK), 0.05 if carry else IDLE)
                except asyncio.TimeoutError:
                    if not carry:
                        raise
                    data, carry, flush = carry, b'', True
                else:
                    if not data and not carry:
                        break
                    data, carry, flush = carry + data, b'', not data
                if upstream:
                    self.requests += len(REQUEST_LINE.findall(data))
                elif self.rewrite:
                    for old, new in self.rewrite.items():
                        data = data.replace(old, new)
                    held = 0 if flush else self._held(data)
                    if held:
                        data, carry = data[:-held], data[-held:]
                await line.put((self.loop.time() + self.delay, data))
                if flush and not carry and reader.at_eof():
                    break
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            await line.put(None)
            await sender

    async def _send(self, line, writer):
        try:
            while True:
                item = await line.get()
                if item is None:
                    break
                due, data = item
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    def close(self):
        self.server.close()


@contextlib.contextmanager
def proxied():
    """Keystone and Glance behind proxies: ``(clouds.yaml, proxies)``.

    Nothing changes in the cloud: the proxy in front of Keystone rewrites
    the ports in its answers (the catalog, the version links) to the
    proxies' ports, and a copy of clouds.yaml points auth_url to it.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    admin = region('admin').get_session()
    ident = {'service_type': 'identity', 'interface': 'public'}
    services = {s['id']: s['type'] for s in admin.get(
        '/services', endpoint_filter=ident).json()['services']}
    ports = {}
    for ep in admin.get('/endpoints', endpoint_filter=ident).json()[
            'endpoints']:
        kind = services.get(ep['service_id'])
        if kind in ('identity', 'image') and ep.get('region_id') in (
                None, 'RegionOne'):
            ports[kind] = urllib.parse.urlsplit(ep['url']).port
    glance = LatencyProxy('image', ports['image'], loop)
    rewrite = {b'127.0.0.1:%d' % ports['image']: b'127.0.0.1:%d'
               % glance.port}
    keystone = LatencyProxy('identity', ports['identity'], loop, rewrite)
    rewrite[b'127.0.0.1:%d' % ports['identity']] = (b'127.0.0.1:%d'
                                                    % keystone.port)
    try:
        with open(CLOUDS_YAML) as f:
            text = f.read().replace('127.0.0.1:%d' % ports['identity'],
                                    '127.0.0.1:%d' % keystone.port)
        with tempfile.NamedTemporaryFile('w', suffix='.yaml',
                                         delete=False) as f:
            f.write(text)
        yield f.name, [keystone, glance]
    finally:
        os.unlink(f.name)
        keystone.close()
        glance.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def osc(clouds_yaml, cloud, *args):
    e = dict(env(), OS_CLIENT_CONFIG_FILE=clouds_yaml)
    res = subprocess.run([OPENSTACK, '--os-cloud', cloud] + list(args),
                         env=e, capture_output=True, text=True)
    if res.returncode:
        raise SystemExit('failed: %s\n%s' % (' '.join(args), res.stderr))


def new_image():
    from common import glance
    g = glance('alice-alpha')
    img = g.images.create(name='bench-' + uuid.uuid4().hex[:8],
                          disk_format='raw', container_format='bare',
                          visibility='private')
    g.images.upload(img['id'], io.BytesIO(b'x' * 4096), image_size=4096)
    return img['id']


def plugin(yaml, image, beta):
    osc(yaml, 'alice-alpha', 'image', 'transfer', image, '--to-cloud',
        'bob-beta')


def manual(yaml, image, beta):
    osc(yaml, 'alice-alpha', 'image', 'set', '--shared', image)
    osc(yaml, 'alice-alpha', 'image', 'add', 'project', image, beta)
    osc(yaml, 'bob-beta', 'image', 'set', '--accept', image)
    osc(yaml, 'alice-alpha', 'image', 'member', 'list', image)
    osc(yaml, 'bob-beta', 'image', 'show', image)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--delay', type=float, default=0.025)
    args = parser.parse_args()
    cases = [('transfer', plugin), ('manual', manual)]
    times = {(name, d): [] for name, _ in cases for d in ('plain', 'lat')}
    counts = {}
    with local_cloud():
        with open(os.path.join(STATE, 'state.json')) as f:
            beta = json.load(f)['ids']['projects'][BETA_KEY]
        with proxied() as (yaml, proxies):
            for run in range(args.runs):
                for d, delay in (('plain', 0.0), ('lat', args.delay)):
                    for name, fn in cases:
                        image = new_image()
                        for p in proxies:
                            p.delay, p.requests = delay, 0
                        t0 = time.perf_counter()
                        fn(yaml, image, beta)
                        times[name, d].append(time.perf_counter() - t0)
                        counts[name] = [p.requests for p in proxies]
                        for p in proxies:
                            p.delay = 0.0
    med = {k: statistics.median(v) for k, v in times.items()}
    print('runs: %d each, interleaved; medians in seconds; latency %d ms '
          'each way' % (args.runs, args.delay * 1000))
    print('%-28s %8s %8s   requests (%s)' % (
        '', 'plain', 'latency', ', '.join(p.kind for p in proxies)))
    for name, label in (('transfer', 'image transfer --to-cloud'),
                        ('manual', 'manual sequence (5 cmds)')):
        print('%-28s %8.2f %8.2f   %s' % (label, med[name, 'plain'],
                                          med[name, 'lat'],
                                          ', '.join(map(str, counts[name]))))
    print('%-28s %8.3f %8.3f' % (
        'ratio transfer/manual', med['transfer', 'plain']
        / med['manual', 'plain'], med['transfer', 'lat']
        / med['manual', 'lat']))


if __name__ == '__main__':
    main()
