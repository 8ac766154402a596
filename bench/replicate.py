#!/usr/bin/env python3
"""``image replicate`` with nothing to do, and copies in parallel.

On the local cloud, straight through the APIs (3 threads: more made
Glance on SQLite stop answering): alice's project owns ``--servers``
servers' worth of daily backups, ``--keep`` each (``--servers`` x
``--keep`` sources, 5 bytes each, tagged ``bench-replicate``); a first
``openstack image replicate --tag bench-replicate --to-cloud bob-beta
--keep K`` copies them all into bob's project (RegionOne: the local
RegionTwo Glance on SQLite stalls with several imports at once).  Then,
interleaved, ``--runs`` times:

- the no-op: the same command again (default ``--parallel``), its HTTP
  requests counted inside the process (a ``sitecustomize``);
- the raw limit: a minimal Python script, one token per side, the
  listings the no-op cannot do without (the tagged sources' pages and
  the target's replicas' pages, hidden ones included, each side).

Then ``--copies`` small images (each its own series) replicated into
bob's project at ``--parallel 1`` and at the default, their replicas
deleted between runs.

Targets: the no-op at most 1.5x the raw limit, its requests bounded
(pages, not a request per image).

Usage: python bench/replicate.py [--servers 100] [--keep 3] [--runs 3]
[--copies 20] [--keep-images]
"""

import argparse
from concurrent import futures
import json
import statistics
import sys
import time
import uuid

from common import local_cloud
from common import measure
from common import OPENSTACK
from common import region
from common import STATE
from share_apply import counted

TAG = 'bench-replicate'
PAR = 'bench-replicate-par'
IMAGE = {'service_type': 'image', 'interface': 'public',
         'region_name': 'RegionOne'}

RAW = r'''
import sys
import openstack.config
cfg = openstack.config.OpenStackConfig(config_files=[sys.argv[1]])
ep = {'service_type': 'image', 'interface': 'public',
      'region_name': 'RegionOne'}
def count(cloud, query):
    sess = cfg.get_one(cloud=cloud).get_session()
    n = 0
    for hidden in ('', '&os_hidden=true'):
        url = '/v2/images?limit=200&' + query + hidden
        while url:
            body = sess.get(url, endpoint_filter=ep).json()
            n += len(body['images'])
            url = body.get('next')
    return n
alpha = cfg.get_one(cloud='alice-alpha').get_session().get_project_id()
# The label of alice's replicas from RegionOne (replica_state.replica_of).
print(count('alice-alpha', 'tag=%s&owner=%s' % (sys.argv[2], alpha)),
      count('bob-beta', 'imageshare_replica_of=%s%%40RegionOne' % alpha))
'''


def session(cloud):
    return region(cloud).get_session()


def listed(sess, query):
    url, found = '/v2/images?limit=200&' + query, []
    while url:
        body = sess.get(url, endpoint_filter=IMAGE).json()
        found += body['images']
        url = body.get('next')
    return found


def make(tag, count, props):
    """Alice's ``count`` images tagged ``tag`` (made if missing); IDs.

    ``props(i)``: the properties of the i-th.
    """
    sess = session('alice-alpha')
    have = listed(sess, 'tag=' + tag)

    def image(i):
        image_id = sess.post('/v2/images', endpoint_filter=IMAGE, json=dict(
            props(i), name='%s-%d' % (tag, i), tags=[tag],
            disk_format='raw', container_format='bare')).json()['id']
        sess.put('/v2/images/%s/file' % image_id, endpoint_filter=IMAGE,
                 data=b'bench', headers={
                     'Content-Type': 'application/octet-stream'})
        return image_id
    t0 = time.perf_counter()
    with futures.ThreadPoolExecutor(3) as pool:
        new = list(pool.map(image, range(len(have), count)))
    print('  %d images tagged %s (%.0f s to make the missing ones)'
          % (len(have) + len(new), tag, time.perf_counter() - t0),
          flush=True)
    return [i['id'] for i in have] + new


def replicas_of(tag):
    sess = session('alice-alpha')
    sources = {i['id'] for i in listed(sess, 'tag=' + tag)}
    return [i['id'] for i in listed(session('bob-beta'), 'owner=%s' % (
        session('bob-beta').get_project_id())) if i.get(
        'imageshare_source_id') in sources]


def delete(cloud, ids):
    sess = session(cloud)
    with futures.ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda i: sess.delete(
            '/v2/images/%s' % i, endpoint_filter=IMAGE, raise_exc=False),
            ids))


def replicate_cmd(tag, *args):
    return [OPENSTACK, '--os-cloud', 'alice-alpha', 'image', 'replicate',
            '--tag', tag, '--to-cloud', 'bob-beta', '-f', 'json', *args]


def noop(args):
    """The no-op against the raw listings; prints and returns figures."""
    keep = ['--keep', str(args.keep)]
    t0 = time.perf_counter()
    measure(replicate_cmd(TAG, *keep, '--parallel', '3'))
    print('  first run (copies what is missing, --parallel 3): %.0f s'
          % (time.perf_counter() - t0), flush=True)
    requests, out = counted(replicate_cmd(TAG, *keep))
    rows = json.loads(out)
    actions = sorted({r['Action'] for r in rows})
    print('  requests of the no-op: %s; %d rows, actions %s'
          % (dict(sorted(requests.items())), len(rows), actions))
    ours, raw = [], []
    for _ in range(args.runs):
        ours.append(measure(replicate_cmd(TAG, *keep)).seconds)
        raw.append(measure([sys.executable, '-c', RAW,
                            '%s/clouds.yaml' % STATE, TAG]).seconds)
    # The raw limit lists what the no-op lists: the sources, and at least
    # their replicas (the other replicas of alice's there too).
    listed = [int(n) for n in measure([
        sys.executable, '-c', RAW, '%s/clouds.yaml' % STATE,
        TAG]).out.split()]
    assert listed[0] == len(rows) <= listed[1], listed
    return {'sources': len(rows), 'noop': statistics.median(ours),
            'raw': statistics.median(raw),
            'requests': sum(requests.values())}


def parallel(args):
    """Seconds to replicate ``--copies`` images at 1, then the default."""
    out = {}
    for name, extra in (('parallel_1', ['--parallel', '1']),
                        ('parallel_default', [])):
        delete('bob-beta', replicas_of(PAR))
        out[name] = measure(replicate_cmd(PAR, *extra)).seconds
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--servers', type=int, default=100)
    p.add_argument('--keep', type=int, default=3)
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--copies', type=int, default=20)
    p.add_argument('--keep-images', action='store_true')
    args = p.parse_args()
    servers = [str(uuid.UUID(int=i + 1)) for i in range(args.servers)]
    with local_cloud():
        made = make(TAG, args.servers * args.keep, lambda i: {
            'instance_uuid': servers[i % args.servers],
            'backup_type': 'daily', 'image_type': 'backup'})
        small = make(PAR, args.copies, lambda i: {})
        try:
            result = noop(args)
            print('  no-op %(noop).2f s, raw %(raw).2f s: %(ratio).2fx; '
                  '%(requests)d requests for %(sources)d sources' % dict(
                      result, ratio=result['noop'] / result['raw']),
                  flush=True)
            result.update(parallel(args))
            print('  %d copies: --parallel 1 %.1f s, default %.1f s'
                  % (args.copies, result['parallel_1'],
                     result['parallel_default']))
            print(json.dumps(result))
        finally:
            if not args.keep_images:
                delete('bob-beta', replicas_of(TAG) + replicas_of(PAR))
                delete('alice-alpha', made + small)


if __name__ == '__main__':
    main()
