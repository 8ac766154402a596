#!/usr/bin/env python3
"""``image transfer --mode copy`` against the ways users copy today.

On the local cloud, in one run, interleaved, median of --runs (>= 3), for
a 512 MiB image owned by alice (project alpha), copied to bob (beta):

  copy      openstack image transfer IMG --mode copy --to-cloud bob-beta
  anchor    openstack image save IMG --file F (as alice), then
            openstack image create --file F ... (as bob), default options
  raw HTTP  curl GET to a file, then curl PUT of that file with a
            Content-Length: the physical limit here

Also: the copy's data-phase rate (its own 'MiB/s' column, after start-up
and authentication) against the raw PUT's rate; the copy command's peak
RSS at 512 MiB and at 2 GiB; and the bytes it wrote to disk
(/proc/PID/io write_bytes: temp files would show there).

Usage: python bench/image_copy.py [--runs N] [--big-mib M]
(run where the ``openstack`` next to this Python has the plugin, e.g.
``tox -e bench``; needs curl).  Prints the figures; writes nothing else.
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid

from common import glance
from common import local_cloud
from common import measure
from common import OPENSTACK
from common import region

MIB = 1 << 20


def make_source(size):
    """A private image of ``size`` random-ish bytes, uploaded by alice."""
    g = glance('alice-alpha')
    img = g.images.create(name='bench-copy-' + uuid.uuid4().hex[:6],
                          disk_format='raw', container_format='bare',
                          visibility='private')
    block = os.urandom(MIB)

    class Data:
        def __init__(self):
            self.left = size

        def read(self, n=MIB):
            if not self.left:
                return b''
            self.left -= min(n, self.left)
            return block[:min(n, MIB)]
    g.images.upload(img['id'], Data(), image_size=size)
    return img['id']


def run(cmd):
    """Run a command; return (seconds, peak RSS KiB, bytes written, out)."""
    m = measure(cmd)
    return m.seconds, m.rss, m.written, m.out


def copy_once(source):
    seconds, rss, written, out = run(
        [OPENSTACK, '--os-cloud', 'alice-alpha', 'image', 'transfer',
         source, '--mode', 'copy', '--to-cloud', 'bob-beta', '-f', 'json'])
    row = json.loads(out)[0]
    glance('bob-beta').images.delete(row['Image ID'])
    return seconds, rss, written, row['MiB/s']


def anchor_once(source, tmp):
    path = os.path.join(tmp, 'anchor.img')
    t0 = time.perf_counter()
    run([OPENSTACK, '--os-cloud', 'alice-alpha', 'image', 'save', source,
         '--file', path])
    _, _, _, out = run([OPENSTACK, '--os-cloud', 'bob-beta', 'image',
                        'create', 'anchor-' + uuid.uuid4().hex[:6],
                        '--disk-format', 'raw', '--container-format', 'bare',
                        '--file', path, '-f', 'value', '-c', 'id'])
    seconds = time.perf_counter() - t0
    os.unlink(path)
    glance('bob-beta').images.delete(out.decode().strip())
    return seconds


def raw_once(source, tmp, size):
    alice, bob = region('alice-alpha'), region('bob-beta')
    a_sess, b_sess = alice.get_session(), bob.get_session()
    url = a_sess.get_endpoint(service_type='image', interface='public')
    target = glance('bob-beta').images.create(
        name='raw-' + uuid.uuid4().hex[:6], disk_format='raw',
        container_format='bare')
    path = os.path.join(tmp, 'raw.img')
    cfg = os.path.join(tmp, 'curl.cfg')   # tokens stay off the cmdline
    t0 = time.perf_counter()
    with open(cfg, 'w') as f:
        f.write('header = "X-Auth-Token: %s"\n' % a_sess.get_token())
    subprocess.check_call(['curl', '-sSf', '-K', cfg, '-o', path,
                           '%s/v2/images/%s/file' % (url, source)])
    t1 = time.perf_counter()
    with open(cfg, 'w') as f:
        f.write('header = "X-Auth-Token: %s"\n' % b_sess.get_token())
    subprocess.check_call(['curl', '-sSf', '-K', cfg, '-X', 'PUT', '-H',
                           'Content-Type: application/octet-stream',
                           '-T', path, '-o', '/dev/null',
                           '%s/v2/images/%s/file' % (url, target['id'])])
    t2 = time.perf_counter()
    os.unlink(cfg)
    os.unlink(path)
    glance('bob-beta').images.delete(target['id'])
    return t2 - t0, size / MIB / (t2 - t1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--mib', type=int, default=512)
    parser.add_argument('--big-mib', type=int, default=2048)
    args = parser.parse_args()
    sources = []
    with local_cloud():
        try:
            size = args.mib * MIB
            source = make_source(size)
            sources.append(source)
            res = {'copy': [], 'anchor': [], 'raw': [], 'rate': [], 'put': [],
                   'rss': [], 'written': []}
            with tempfile.TemporaryDirectory() as tmp:
                for _ in range(args.runs):
                    s, rss, written, rate = copy_once(source)
                    res['copy'].append(s)
                    res['rate'].append(rate)
                    res['rss'].append(rss)
                    res['written'].append(written)
                    res['anchor'].append(anchor_once(source, tmp))
                    s, put_rate = raw_once(source, tmp, size)
                    res['raw'].append(s)
                    res['put'].append(put_rate)
            big = make_source(args.big_mib * MIB)
            sources.append(big)
            _, big_rss, big_written, big_rate = copy_once(big)
        finally:
            for s in sources:
                glance('alice-alpha').images.delete(s)
    med = {k: statistics.median(v) for k, v in res.items()}
    print('%d MiB image, %d runs interleaved, medians'
          % (args.mib, args.runs))
    print('copy (image transfer --mode copy)  %6.2f s' % med['copy'])
    print('anchor (image save + image create) %6.2f s  -> copy is %.2fx '
          'faster' % (med['anchor'], med['anchor'] / med['copy']))
    print('raw HTTP (curl GET + PUT)          %6.2f s  -> copy takes %.2fx '
          'its time' % (med['raw'], med['copy'] / med['raw']))
    print('data-phase rate: copy %.1f MiB/s, raw PUT %.1f MiB/s -> %.2fx'
          % (med['rate'], med['put'], med['rate'] / med['put']))
    print('peak RSS of the copy: %.0f MB at %d MiB, %.0f MB at %d MiB '
          '(%.1f MiB/s there)' % (max(res['rss']) / 1024, args.mib,
                                  big_rss / 1024, args.big_mib, big_rate))
    print('bytes the copy wrote to disk: %d at %d MiB, %d at %d MiB'
          % (max(res['written']), args.mib, big_written, args.big_mib))


if __name__ == '__main__':
    main()
