#!/usr/bin/env python3
"""``image share audit --all-projects`` at 200 and 2,000 shared images.

On the local cloud: alice's project gets N shared images (queued records,
no data: Glance shares a queued image as any other), 2 members each (beta
and other/beta, pending), made straight through the Glance API with one
session and 8 threads.  Then, for each size, in one run, interleaved:

- the audit: ``openstack image share audit --all-projects -f json`` as
  the admin (default ``--parallel``);
- the raw limit: a minimal Python script, one token, the same requests
  (the pages of shared images, hidden ones included, and one member list
  per image) with the same concurrency;
- the manual loop: ``openstack image member list <image>`` on 20 images,
  one process each, extrapolated to N.

Prints wall times (median of ``--runs``), the ratios, and the peak RSS of
the audit's process.  Targets: at most 1.5x the raw limit, at least 100x
faster than the manual loop, peak RSS at most 150 MB and flat.

Usage: python bench/audit.py [--sizes 200,2000] [--runs 3] [--keep]
(``--keep`` leaves the images for the next run, which reuses them).
Run where the ``openstack`` next to this Python has the plugin.
"""

import argparse
from concurrent import futures
import json
import statistics
import subprocess
import sys
import time

from common import local_cloud
from common import measure
from common import OPENSTACK
from common import region
from common import STATE

PREFIX = 'bench-audit-'
IMAGE = {'service_type': 'image', 'interface': 'public',
         'region_name': 'RegionOne'}
WORKERS = 6         # --parallel's default

RAW = r'''
import sys
from concurrent import futures
import openstack.config
cfg = openstack.config.OpenStackConfig(config_files=[sys.argv[1]])
sess = cfg.get_one(cloud='admin').get_session()
ep = {'service_type': 'image', 'interface': 'public',
      'region_name': 'RegionOne'}
def pages(hidden):
    url = '/v2/images?limit=200&sort_key=id&sort_dir=asc&visibility=shared'
    url += '&os_hidden=true' if hidden else ''
    while url:
        body = sess.get(url, endpoint_filter=ep).json()
        yield [i['id'] for i in body['images']]
        url = body.get('next')
def members(image_id):
    return sess.get('/v2/images/%s/members' % image_id,
                    endpoint_filter=ep).json()['members']
n = 0
with futures.ThreadPoolExecutor(int(sys.argv[2])) as pool:
    for hidden in (False, True):
        for page in pages(hidden):
            n += sum(len(m) for m in pool.map(members, page))
print(n)
'''


def session(cloud):
    return region(cloud).get_session()


def ours(sess):
    """The IDs of the bench images already there."""
    url = '/v2/images?limit=1000&visibility=shared&sort_key=id'
    found = []
    while url:
        body = sess.get(url, endpoint_filter=IMAGE).json()
        found += [i['id'] for i in body['images']
                  if (i.get('name') or '').startswith(PREFIX)]
        url = body.get('next')
    return found


def make(count, members):
    """Make bench images until alice has ``count``; their IDs."""
    sess = session('alice-alpha')
    have = ours(sess)

    def one(i):
        img = sess.post('/v2/images', endpoint_filter=IMAGE, json={
            'name': '%s%d' % (PREFIX, i), 'visibility': 'shared',
            'disk_format': 'raw', 'container_format': 'bare'}).json()
        for m in members:
            sess.post('/v2/images/%s/members' % img['id'],
                      endpoint_filter=IMAGE, json={'member': m})
        return img['id']
    t0 = time.perf_counter()
    with futures.ThreadPoolExecutor(8) as pool:
        have += list(pool.map(one, range(len(have), count)))
    print('  %d bench images (%.0f s to make the missing ones)'
          % (len(have), time.perf_counter() - t0), flush=True)
    return have


def delete(ids):
    sess = session('alice-alpha')
    with futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: sess.delete(
            '/v2/images/%s' % i, endpoint_filter=IMAGE, raise_exc=False),
            ids))


def shared_count():
    return len(list(_all_shared()))


def _all_shared():
    sess = session('admin')
    for hidden in ('', '&os_hidden=true'):
        url = '/v2/images?limit=1000&visibility=shared' + hidden
        while url:
            body = sess.get(url, endpoint_filter=IMAGE).json()
            yield from body['images']
            url = body.get('next')


def audit_cmd():
    return [OPENSTACK, '--os-cloud', 'admin', 'image', 'share', 'audit',
            '--all-projects', '-f', 'json']


def raw_cmd():
    return [sys.executable, '-c', RAW, '%s/clouds.yaml' % STATE,
            str(WORKERS)]


def manual(ids):
    """Seconds for ``openstack image member list`` on each of ``ids``."""
    t0 = time.perf_counter()
    for image_id in ids:
        subprocess.run([OPENSTACK, '--os-cloud', 'admin', 'image', 'member',
                        'list', image_id, '-f', 'json'], check=True,
                       stdout=subprocess.DEVNULL, env=_env())
    return time.perf_counter() - t0


def _env():
    from common import env
    return env()


def bench_size(count, ids, runs, sample):
    total = shared_count()
    print('size %d: %d shared images in the cloud' % (count, total),
          flush=True)
    audit_t, raw_t, rss = [], [], []
    for _ in range(runs):
        a = measure(audit_cmd())
        json.loads(a.out)
        r = measure(raw_cmd())
        audit_t.append(a.seconds)
        rss.append(a.rss)
        raw_t.append(r.seconds)
    per_image = manual(ids[:sample]) / sample
    result = {'size': count, 'shared': total,
              'audit': statistics.median(audit_t),
              'raw': statistics.median(raw_t),
              'manual': per_image * total, 'rss_mb': max(rss) / 1024.0}
    print('  audit %(audit).1f s, raw %(raw).1f s, manual (extrapolated) '
          '%(manual).0f s, audit peak RSS %(rss_mb).0f MB' % result)
    print('  audit/raw %.2fx; manual/audit %.0fx' % (
        result['audit'] / result['raw'],
        result['manual'] / result['audit']), flush=True)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', default='200,2000')
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--sample', type=int, default=20)
    p.add_argument('--keep', action='store_true')
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(',')]
    with open('%s/state.json' % STATE) as f:
        projects = json.load(f)['ids']['projects']
    members = [projects['Default/beta'], projects['other/beta']]
    results, ids = [], []
    with local_cloud():
        try:
            for count in sizes:
                ids = make(count, members)
                results.append(bench_size(count, ids, args.runs,
                                          args.sample))
        finally:
            if not args.keep:
                delete(ours(session("alice-alpha")))
    print(json.dumps(results, indent=1))


if __name__ == '__main__':
    main()
