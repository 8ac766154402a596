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

and the HTTP requests each makes (counted from ``--debug``'s REQ lines).
Prints medians, their ratio (target <= 0.25) and the request counts.

Usage: python bench/transfer.py [--runs N]   (default 5; run where the
``openstack`` next to this Python has the plugin, e.g. ``tox -e bench``)
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import time
import uuid

from common import env
from common import glance
from common import local_cloud
from common import OPENSTACK
from common import STATE

BETA_KEY = 'Default/beta'


def osc(cloud, *args, debug=False):
    """Run one openstack command; return the number of HTTP requests."""
    cmd = [OPENSTACK, '--os-cloud', cloud] + (['--debug'] if debug else [])
    res = subprocess.run(cmd + list(args), env=env(), capture_output=True,
                         text=True)
    if res.returncode:
        raise SystemExit('failed: %s\n%s' % (' '.join(args), res.stderr))
    return sum(1 for line in res.stderr.splitlines() if 'REQ: curl' in line)


def new_image():
    g = glance('alice-alpha')
    img = g.images.create(name='bench-' + uuid.uuid4().hex[:8],
                               disk_format='raw', container_format='bare',
                               visibility='private')
    g.images.upload(img['id'], io.BytesIO(b'x' * 4096), image_size=4096)
    return img['id']


def plugin(image, debug=False):
    return osc('alice-alpha', 'image', 'transfer', image, '--to-cloud',
               'bob-beta', debug=debug)


def manual(image, beta, debug=False):
    return sum([
        osc('alice-alpha', 'image', 'set', '--shared', image, debug=debug),
        osc('alice-alpha', 'image', 'add', 'project', image, beta,
            debug=debug),
        osc('bob-beta', 'image', 'set', '--accept', image, debug=debug),
        osc('alice-alpha', 'image', 'member', 'list', image, debug=debug),
        osc('bob-beta', 'image', 'show', image, debug=debug),
    ])


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()
    with local_cloud():
        with open(os.path.join(STATE, 'state.json')) as f:
            beta = json.load(f)['ids']['projects'][BETA_KEY]
        reqs = {'plugin': plugin(new_image(), debug=True),
                'manual': manual(new_image(), beta, debug=True)}
        times = {'plugin': [], 'manual': []}
        for _ in range(args.runs):
            times['plugin'].append(timed(plugin, new_image()))
            times['manual'].append(timed(manual, new_image(), beta))
    a = statistics.median(times['plugin'])
    b = statistics.median(times['manual'])
    print('runs: %d each, interleaved; medians in seconds' % args.runs)
    print('image transfer --to-cloud   %6.2f s  %3d HTTP requests'
          % (a, reqs['plugin']))
    print('manual sequence (5 cmds)    %6.2f s  %3d HTTP requests'
          % (b, reqs['manual']))
    print('ratio transfer/manual       %6.3f' % (a / b))


if __name__ == '__main__':
    main()
