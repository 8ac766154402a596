#!/usr/bin/env python3
"""``image transfer --parallel``: one worker, the default, and eight.

On the local cloud, behind the latency proxy of bench/transfer.py (25 ms
each way), in one run, interleaved: the admin transfers 20 fresh private
images to 3 projects (alpha, beta, other/beta; the admin accepts for
each) with ``--parallel 1``, the default and ``--parallel 8``.  Prints
the medians, their ratios to ``--parallel 1`` (target: the default at
least 3x faster) and the requests of each case.  Then the peak RSS of
the ``openstack`` process for 20 and for 200 images (default
parallelism, no delay), which should not grow with the batch.

Usage: python bench/parallel.py [--runs N] [--images N] [--big N]
[--sweep 1,2,4,...]  (default 3, 20 and 200; --sweep compares those
values, the first as the base, and skips the memory measurement).  Run
where the ``openstack`` next to this Python has the plugin, e.g.
``tox -e bench``.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time

from common import env
from common import glance
from common import local_cloud
from common import OPENSTACK
from common import STATE
from transfer import proxied

PROJECTS = ('Default/alpha', 'Default/beta', 'other/beta')
CASES = (('--parallel 1', ['--parallel', '1']), ('default', []),
         ('--parallel 8', ['--parallel', '8']))
# Runs a command and prints its peak RSS (KiB): the child's alone.
RSS = ('import resource, subprocess, sys; '
       'r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); '
       'print(r.returncode, '
       'resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)')


def new_images(count):
    g = glance('admin')
    ids = []
    for i in range(count):
        img = g.images.create(name='bench-par-%d' % i, disk_format='raw',
                              container_format='bare', visibility='private')
        g.images.upload(img['id'], io.BytesIO(b'x' * 1024), image_size=1024)
        ids.append(img['id'])
    return ids


def delete_images(ids):
    g = glance('admin')
    for image_id in ids:
        g.images.delete(image_id)


def command(yaml, ids, projects, extra):
    args = [OPENSTACK, '--os-cloud', 'admin', 'image', 'transfer'] + ids
    for p in projects:
        args += ['--to', p]
    return args + extra + ['-f', 'value', '-c', 'Member Status']


def run(yaml, ids, projects, extra):
    e = dict(env(), OS_CLIENT_CONFIG_FILE=yaml)
    res = subprocess.run(command(yaml, ids, projects, extra), env=e,
                         capture_output=True, text=True)
    want = ['accepted'] * (len(ids) * len(projects))
    if res.returncode or res.stdout.split() != want:
        raise SystemExit('failed: %s\n%s' % (extra, res.stderr))


def peak_rss(yaml, ids, projects):
    e = dict(env(), OS_CLIENT_CONFIG_FILE=yaml)
    out = subprocess.run([sys.executable, '-c', RSS]
                         + command(yaml, ids, projects, []), env=e,
                         capture_output=True, text=True, check=True)
    code, kib = out.stdout.split()
    if code != '0':
        raise SystemExit('failed: %d images' % len(ids))
    return int(kib) / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--images', type=int, default=20)
    parser.add_argument('--big', type=int, default=200)
    parser.add_argument('--delay', type=float, default=0.025)
    parser.add_argument('--sweep', metavar='N,N,...',
                        help='Compare these --parallel values instead '
                             '(and skip the memory measurement)')
    args = parser.parse_args()
    cases = CASES
    if args.sweep:
        cases = tuple(('--parallel %s' % n, ['--parallel', n])
                      for n in args.sweep.split(','))
    times = {name: [] for name, _ in cases}
    counts = {}
    with local_cloud():
        with open(os.path.join(STATE, 'state.json')) as f:
            ids_of = json.load(f)['ids']['projects']
        projects = [ids_of[p] for p in PROJECTS]
        with proxied() as (yaml, proxies):
            for _ in range(args.runs):
                for name, extra in cases:
                    ids = new_images(args.images)
                    for p in proxies:
                        p.delay, p.requests = args.delay, 0
                    t0 = time.perf_counter()
                    run(yaml, ids, projects, extra)
                    times[name].append(time.perf_counter() - t0)
                    counts[name] = [p.requests for p in proxies]
                    for p in proxies:
                        p.delay = 0.0
                    delete_images(ids)
            rss = {}
            for n in () if args.sweep else (args.images, args.big):
                ids = new_images(n)
                rss[n] = peak_rss(yaml, ids, projects)
                delete_images(ids)
    med = {k: statistics.median(v) for k, v in times.items()}
    print('%d images x %d projects, %d runs each, interleaved; medians in '
          'seconds; latency %d ms each way'
          % (args.images, len(projects), args.runs, args.delay * 1000))
    print('%-16s %8s %8s   requests (identity, image)' % ('', 'seconds',
                                                          'speed-up'))
    base = med[cases[0][0]]
    for name, _ in cases:
        print('%-16s %8.2f %8.2fx  %s' % (
            name, med[name], base / med[name],
            ', '.join(map(str, counts[name]))))
    print('all runs: %s' % '; '.join('%s %s' % (
        name, ' '.join('%.2f' % t for t in times[name]))
        for name, _ in cases))
    for n, mib in sorted(rss.items()):
        print('peak RSS, %d images x %d projects (default): %.1f MiB'
              % (n, len(projects), mib))


if __name__ == '__main__':
    main()
