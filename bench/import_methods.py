#!/usr/bin/env python3
"""``--mode copy`` by each import method, RegionOne -> RegionTwo.

On the local cloud, in one run, interleaved, median of --runs (>= 3), a
512 MiB image owned by alice (project alpha, RegionOne):

  upload            --import-method upload to bob-beta (RegionOne: the
                    RegionTwo Glance refuses direct upload by policy)
  direct R1         --import-method glance-direct to bob-beta (RegionOne
                    allows both: the fair comparison with upload)
  direct R2         --import-method glance-direct to bob-beta-r2
  download R2       --import-method glance-download to alice-alpha-r2 (the
                    RegionTwo Glance pulls the image from RegionOne)
  raw limit         one ``openstack --version`` start plus a raw ``curl -T``
                    PUT of the same data, from a file, to a RegionOne image

For each: wall time, the bytes the command's sockets received (counted in
the process: /proc/PID/io's rchar counts read(), not the recv() sockets
use) and its peak RSS (wait4).  Targets: glance-download moves no image
byte through the client and is at least as fast as upload;
glance-direct within 1.2x of upload on a cloud that allows both; upload
within 1.15x of the raw limit.

Usage: python bench/import_methods.py [--runs N] [--mib M]
(``tox -e bench`` runs it; needs curl).  Prints the figures.
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
from image_copy import make_source

MIB = 1 << 20
CASES = (
    ('upload', 'bob-beta', 'upload'),
    ('direct R1', 'bob-beta', 'glance-direct'),
    ('direct R2', 'bob-beta-r2', 'glance-direct'),
    ('download R2', 'alice-alpha-r2', 'glance-download'),
)


def run(cmd):
    """``(seconds, peak RSS KiB, bytes received, stdout)`` of a command."""
    m = measure(cmd)
    return m.seconds, m.rss, m.received, m.out


def copy_once(source, cloud, method):
    seconds, rss, read, out = run(
        [OPENSTACK, '--os-cloud', 'alice-alpha', 'image', 'transfer',
         source, '--mode', 'copy', '--to-cloud', cloud, '--import-method',
         method, '-f', 'json'])
    row = json.loads(out)[0]
    assert (row['Method'], row['Changes']) == (method, 'copied'), row
    glance(cloud).images.delete(row['Image ID'])
    return seconds, rss, read


def raw_once(path):
    bob = region('bob-beta')
    sess = bob.get_session()
    url = sess.get_endpoint(service_type='image', interface='public')
    target = glance('bob-beta').images.create(
        name='raw-' + uuid.uuid4().hex[:6], disk_format='raw',
        container_format='bare')
    cfg = path + '.cfg'     # the token stays off the command line
    with open(cfg, 'w') as f:
        f.write('header = "X-Auth-Token: %s"\n' % sess.get_token())
    start, _, _, _ = run([OPENSTACK, '--version'])
    t0 = time.perf_counter()
    subprocess.check_call(['curl', '-sSf', '-K', cfg, '-X', 'PUT', '-H',
                           'Content-Type: application/octet-stream',
                           '-T', path, '-o', '/dev/null',
                           '%s/v2/images/%s/file' % (url, target['id'])])
    put = time.perf_counter() - t0
    os.unlink(cfg)
    glance('bob-beta').images.delete(target['id'])
    return start + put


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--mib', type=int, default=512)
    args = parser.parse_args()
    size = args.mib * MIB
    res = {name: {'s': [], 'rss': [], 'read': []} for name, _, _ in CASES}
    res['raw limit'] = {'s': [], 'rss': [], 'read': []}
    with local_cloud(), tempfile.TemporaryDirectory() as tmp:
        source = make_source(size)
        try:
            path = os.path.join(tmp, 'data')
            with open(path, 'wb') as f:
                for chunk in glance('alice-alpha').images.data(source):
                    f.write(chunk)
            for _ in range(args.runs):
                for name, cloud, method in CASES:
                    s, rss, read = copy_once(source, cloud, method)
                    res[name]['s'].append(s)
                    res[name]['rss'].append(rss)
                    res[name]['read'].append(read)
                s = raw_once(path)
                res['raw limit']['s'].append(s)
                res['raw limit']['read'].append(0)
        finally:
            glance('alice-alpha').images.delete(source)
    med = {k: {m: statistics.median(v) if v else 0 for m, v in r.items()}
           for k, r in res.items()}
    print('%d MiB image, %d runs interleaved, medians; "received": what the '
          "command's sockets received (API answers included)"
          % (args.mib, args.runs))
    print('%-12s %8s %14s %9s' % ('case', 'wall s', 'received MiB',
                                  'RSS MB'))
    for name in [c[0] for c in CASES]:
        m = med[name]
        print('%-12s %8.2f %14.2f %9.0f'
              % (name, m['s'], m['read'] / MIB, m['rss'] / 1024))
    print('%-12s %8.2f   (openstack --version + curl -T PUT)'
          % ('raw limit', med['raw limit']['s']))
    up = med['upload']['s']
    print('glance-download / upload  %.2fx' % (med['download R2']['s'] / up))
    print('glance-direct R1 / upload %.2fx' % (med['direct R1']['s'] / up))
    print('upload / raw limit        %.2fx' % (up / med['raw limit']['s']))


if __name__ == '__main__':
    main()
