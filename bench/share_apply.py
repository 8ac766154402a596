#!/usr/bin/env python3
"""``image share apply`` with nothing to do: 200 images x 30 projects.

On the local cloud: a domain ``bench-policy`` with N projects, and the
admin's project owning M shared images (queued records, no data) tagged
``bench-policy``, each with every project of the domain as an accepted
member, made straight through the APIs (one session, 8 threads).  The
policy grants the tag's images to the domain.  Then, interleaved,
``--runs`` times:

- the no-op: ``openstack image share apply policy.yaml -f json`` as the
  admin (default ``--parallel``), its requests counted inside the process
  (a ``sitecustomize`` on its ``PYTHONPATH`` counts what ``requests``
  sends, by service and method);
- the raw limit: a minimal Python script, one token, the requests the
  no-op cannot do without (the domain's projects, the two pages of the
  tagged images, hidden ones included, and one member list per image)
  with the same concurrency;
- the loop it replaces: ``openstack image share set <image>
  --member-domain bench-policy`` on ``--sample`` images, one process
  each, extrapolated to M.

Prints medians, ratios and the request counts.  Targets: at most 1.5x
the raw limit; requests bounded: one listing of the domain's projects,
the image pages, one member list per image, nothing else per image.

Usage: python bench/share_apply.py [--images 200] [--projects 30]
[--runs 3] [--sample 5] [--keep]
Run where the ``openstack`` next to this Python has the plugin.
"""

import argparse
import collections
from concurrent import futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import env
from common import local_cloud
from common import measure
from common import OPENSTACK
from common import region
from common import STATE

DOMAIN = TAG = 'bench-policy'
IMAGE = {'service_type': 'image', 'interface': 'public',
         'region_name': 'RegionOne'}
IDENTITY = {'service_type': 'identity', 'interface': 'public'}
WORKERS = 6         # --parallel's default

RAW = r'''
import sys
from concurrent import futures
import openstack.config
cfg = openstack.config.OpenStackConfig(config_files=[sys.argv[1]])
sess = cfg.get_one(cloud='admin').get_session()
ep = {'service_type': 'image', 'interface': 'public',
      'region_name': 'RegionOne'}
idp = {'service_type': 'identity', 'interface': 'public'}
dom = sess.get('/domains?name=%s' % sys.argv[3],
               endpoint_filter=idp).json()['domains'][0]['id']
projects = sess.get('/projects?domain_id=%s' % dom,
                    endpoint_filter=idp).json()['projects']
def pages(hidden):
    url = '/v2/images?limit=200&tag=%s' % sys.argv[3]
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
print(n, len(projects))
'''

# On the measured command's PYTHONPATH: counts its HTTP requests.
COUNTER = r'''import atexit, collections, json, os
import requests.adapters
_seen = collections.Counter()
_send = requests.adapters.HTTPAdapter.send
def _counted(self, request, *a, **k):
    path = request.path_url.split('?')[0]
    kind = ('identity' if path.startswith('/v3') or path in ('', '/')
            else 'image')
    _seen['%s %s' % (kind, request.method)] += 1
    return _send(self, request, *a, **k)
requests.adapters.HTTPAdapter.send = _counted
atexit.register(lambda: json.dump(dict(_seen), open(
    os.environ['BENCH_REQUESTS'], 'w')))
'''


def session(cloud):
    return region(cloud).get_session()


def projects(sess, count):
    """The domain and its ``count`` projects (made if missing); IDs."""
    found = sess.get('/domains?name=%s' % DOMAIN,
                     endpoint_filter=IDENTITY).json()['domains']
    if found:
        domain = found[0]['id']
    else:
        domain = sess.post('/domains', endpoint_filter=IDENTITY, json={
            'domain': {'name': DOMAIN}}).json()['domain']['id']
    have = sess.get('/projects?domain_id=%s' % domain,
                    endpoint_filter=IDENTITY).json()['projects']
    names = {p['name'] for p in have}
    for i in range(count):
        if 'p%02d' % i not in names:
            have.append(sess.post('/projects', endpoint_filter=IDENTITY,
                                  json={'project': {
                                      'name': 'p%02d' % i,
                                      'domain_id': domain}}).json()['project'])
    return [p['id'] for p in have]


def images(sess):
    url = '/v2/images?limit=1000&tag=%s' % TAG
    found = []
    while url:
        body = sess.get(url, endpoint_filter=IMAGE).json()
        found += [i['id'] for i in body['images']]
        url = body.get('next')
    return found


def make(count, members):
    """The admin's tagged images, each with every member accepted."""
    sess = session('admin')
    have = images(sess)
    if have and sess.get('/v2/images/%s' % have[0], endpoint_filter=IMAGE
                         ).json()['status'] != 'active':
        delete(have)    # an earlier version's queued records
        have = []

    def image(i):
        image_id = sess.post('/v2/images', endpoint_filter=IMAGE, json={
            'name': 'bench-policy-%d' % i, 'visibility': 'shared',
            'tags': [TAG], 'disk_format': 'raw',
            'container_format': 'bare'}).json()['id']
        sess.put('/v2/images/%s/file' % image_id, endpoint_filter=IMAGE,
                 data=b'bench', headers={
                     'Content-Type': 'application/octet-stream'})
        return image_id

    def missing(image_id):
        got = {m['member_id']: m['status'] for m in sess.get(
            '/v2/images/%s/members' % image_id,
            endpoint_filter=IMAGE).json()['members']}
        return [(image_id, p) for p in members if got.get(p) != 'accepted']

    def member(pair):
        image_id, pid = pair
        sess.post('/v2/images/%s/members' % image_id, endpoint_filter=IMAGE,
                  json={'member': pid}, raise_exc=False)
        sess.put('/v2/images/%s/members/%s' % (image_id, pid),
                 endpoint_filter=IMAGE, json={'status': 'accepted'})
    t0 = time.perf_counter()
    # Three at a time: more made Glance on SQLite stop answering.
    with futures.ThreadPoolExecutor(3) as pool:
        new = list(pool.map(image, range(len(have), count)))
        todo = [m for ms in pool.map(missing, have + new) for m in ms]
        list(pool.map(member, todo))
    print('  %d bench images, %d members each (%.0f s to make the missing '
          'ones)' % (len(have) + len(new), len(members),
                     time.perf_counter() - t0), flush=True)
    return have + new


def delete(ids):
    sess = session('admin')
    with futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: sess.delete(
            '/v2/images/%s' % i, endpoint_filter=IMAGE, raise_exc=False),
            ids))


def counted(cmd):
    """``measure(cmd)`` plus the HTTP requests it sent, by kind."""
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, 'sitecustomize.py'), 'w') as f:
        f.write(COUNTER)
    e = env()
    e['PYTHONPATH'] = tmp
    e['BENCH_REQUESTS'] = os.path.join(tmp, 'requests.json')
    proc = subprocess.run(cmd, env=e, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit('failed: %s\n%s' % (' '.join(cmd), proc.stderr))
    with open(e['BENCH_REQUESTS']) as f:
        return collections.Counter(json.load(f)), proc.stdout


def apply_cmd(path):
    return [OPENSTACK, '--os-cloud', 'admin', 'image', 'share', 'apply',
            path, '-f', 'json']


def raw_cmd():
    return [sys.executable, '-c', RAW, '%s/clouds.yaml' % STATE,
            str(WORKERS), DOMAIN]


def loop(ids):
    """Seconds per ``image share set`` of one image to the domain."""
    t0 = time.perf_counter()
    for image_id in ids:
        subprocess.run([OPENSTACK, '--os-cloud', 'admin', 'image', 'share',
                        'set', image_id, '--member-domain', DOMAIN, '-f',
                        'json'], check=True, stdout=subprocess.DEVNULL,
                       env=env())
    return (time.perf_counter() - t0) / len(ids)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--images', type=int, default=200)
    p.add_argument('--projects', type=int, default=30)
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--sample', type=int, default=5)
    p.add_argument('--keep', action='store_true')
    args = p.parse_args()
    policy = os.path.join(tempfile.mkdtemp(), 'policy.yaml')
    with open(policy, 'w') as f:
        f.write('rules:\n  - images: {tag: %s}\n    domains: [%s]\n'
                % (TAG, DOMAIN))
    with local_cloud():
        members = projects(session('admin'), args.projects)
        ids = make(args.images, members)
        try:
            requests, out = counted(apply_cmd(policy))
            changed = [r for r in json.loads(out)
                       if r['Diff'] != 'unchanged']
            print('  requests of the no-op: %s; rows not unchanged: %d'
                  % (dict(sorted(requests.items())), len(changed)))
            ours, raw = [], []
            for _ in range(args.runs):
                ours.append(measure(apply_cmd(policy)).seconds)
                raw.append(measure(raw_cmd()).seconds)
            per_image = loop(ids[:args.sample])
            result = {'images': len(ids), 'projects': len(members),
                      'apply': statistics.median(ours),
                      'raw': statistics.median(raw),
                      'loop': per_image * len(ids),
                      'requests': sum(requests.values())}
            print('  apply %(apply).2f s, raw %(raw).2f s, share set loop '
                  '(extrapolated) %(loop).0f s' % result)
            print('  apply/raw %.2fx; loop/apply %.0fx' % (
                result['apply'] / result['raw'],
                result['loop'] / result['apply']), flush=True)
            print(json.dumps(result))
        finally:
            if not args.keep:
                delete(ids)


if __name__ == '__main__':
    main()
