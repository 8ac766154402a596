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
script, in front of Keystone and Glance (clouds.yaml's auth_url and the
catalog's identity and image endpoints point to it for the run, and are
restored after), which holds every chunk 25 ms each way, like a cloud
across the internet.  "Plain" runs through the same proxy with no delay.
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
IDLE = 60                   # seconds before an idle connection is closed


class LatencyProxy:
    """127.0.0.1:<free port> -> 127.0.0.1:<upstream>, ``delay`` each way."""

    def __init__(self, upstream_port, loop):
        self.upstream = upstream_port
        self.loop = loop
        self.delay = 0.0
        self.requests = 0
        self.kind = None
        self.slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, '127.0.0.1', 0), loop).result()
        self.port = self.server.sockets[0].getsockname()[1]

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

    async def _pump(self, reader, writer, counting):
        try:
            while True:
                data = await asyncio.wait_for(reader.read(CHUNK), IDLE)
                if not data:
                    break
                if counting:
                    self.requests += len(REQUEST_LINE.findall(data))
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    def close(self):
        self.server.close()


@contextlib.contextmanager
def proxied():
    """Keystone and Glance behind proxies: ``(clouds.yaml, proxies)``."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    admin = region('admin').get_session()
    endpoints = admin.get('/endpoints', endpoint_filter={
        'service_type': 'identity', 'interface': 'public'}).json()[
        'endpoints']
    services = {s['id']: s['type'] for s in admin.get(
        '/services', endpoint_filter={'service_type': 'identity',
                                      'interface': 'public'}).json()[
        'services']}
    proxies, saved = {}, []
    try:
        for ep in endpoints:
            kind = services.get(ep['service_id'])
            if kind not in ('identity', 'image') or (
                    ep.get('region_id') not in (None, 'RegionOne')):
                continue
            url = urllib.parse.urlsplit(ep['url'])
            if url.port not in proxies:
                proxies[url.port] = LatencyProxy(url.port, loop)
                proxies[url.port].kind = kind
            new = url._replace(netloc='127.0.0.1:%d'
                               % proxies[url.port].port).geturl()
            saved.append((ep['id'], ep['url']))
            admin.patch('/endpoints/%s' % ep['id'],
                        json={'endpoint': {'url': new}},
                        endpoint_filter={'service_type': 'identity',
                                         'interface': 'public'})
        with open(CLOUDS_YAML) as f:
            text = f.read()
        for port, proxy in proxies.items():
            text = text.replace('127.0.0.1:%d' % port,
                                '127.0.0.1:%d' % proxy.port)
        with tempfile.NamedTemporaryFile('w', suffix='.yaml',
                                         delete=False) as f:
            f.write(text)
        yield f.name, sorted(proxies.values(), key=lambda p: p.kind)
    finally:
        for ep_id, url in saved:
            admin.patch('/endpoints/%s' % ep_id,
                        json={'endpoint': {'url': url}},
                        endpoint_filter={'service_type': 'identity',
                                         'interface': 'public'})
        for proxy in proxies.values():
            proxy.close()
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
