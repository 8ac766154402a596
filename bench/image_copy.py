#!/usr/bin/env python3
"""``image transfer --mode copy`` against the ways users copy today.

On the local cloud, in one run, interleaved, median of --runs (>= 3), for
a 512 MiB image owned by alice (project alpha), copied to bob (beta):

  copy      openstack image transfer IMG --mode copy --to-cloud bob-beta
  anchor    openstack image save IMG --file F (as alice), then
            openstack image create --file F ... (as bob), default options
  raw HTTP  curl GET to a file, then curl PUT of that file with a
            Content-Length
  pipe      the limit: one ``openstack --version`` (the process start
            every command pays), then ``curl GET | curl PUT -T -`` with a
            Content-Length, source Glance to target Glance, with real
            tokens (fetched inside the timing), as one figure; the copy's
            ratio to it is the figure to watch (target: at most 1.05x)
  other     with --compare-with OPENSTACK: the same copy by another
            ``openstack`` (another version of the plugin), interleaved

With the limit, the CPU each case costs, its commands and the local
cloud's servers together (user + system): on a loaded machine the wall
time is noise, the CPU is not, and on 2 cores the CPU is what the copy
and the target Glance compete for.

Also: the copy's data-phase rate (its own 'MiB/s' column, after start-up
and authentication) against the raw PUT's rate; the copy command's peak
RSS at 512 MiB and at 2 GiB; and the bytes it wrote to disk
(/proc/PID/io write_bytes: temp files would show there).

Usage: python bench/image_copy.py [--runs N] [--big-mib M]
                                  [--compare-with OPENSTACK] [--limit-only]
(run where the ``openstack`` next to this Python has the plugin, e.g.
``tox -e bench``; needs curl).  Prints the figures; writes nothing else.
"""

import argparse
import json
import os
import resource
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
from common import server_cpu

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


def copy_once(source, openstack=OPENSTACK):
    m = measure(
        [openstack, '--os-cloud', 'alice-alpha', 'image', 'transfer',
         source, '--mode', 'copy', '--to-cloud', 'bob-beta', '-f', 'json'])
    row = json.loads(m.out)[0]
    glance('bob-beta').images.delete(row['Image ID'])
    return m.seconds, m.rss, m.written, row['MiB/s'], m.cpu


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


def _curl_config(tmp, name, token):
    """A curl config file carrying the token: it stays off the cmdline."""
    path = os.path.join(tmp, name)
    with open(path, 'w') as f:
        f.write('header = "X-Auth-Token: %s"\n' % token)
    return path


def pipe_once(source, tmp, size):
    """The limit: a process start, then the bytes piped Glance to Glance.

    Returns its seconds and the CPU seconds of its commands (the
    ``openstack --version``, the two curls).
    """
    alice, bob = region('alice-alpha'), region('bob-beta')
    target = glance('bob-beta').images.create(
        name='pipe-' + uuid.uuid4().hex[:6], disk_format='raw',
        container_format='bare')
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run([OPENSTACK, '--version'])
    a_sess, b_sess = alice.get_session(), bob.get_session()
    url = a_sess.get_endpoint(service_type='image', interface='public')
    into = b_sess.get_endpoint(service_type='image', interface='public')
    get = subprocess.Popen(
        ['curl', '-sSf', '-K', _curl_config(tmp, 'get.cfg',
                                            a_sess.get_token()),
         '%s/v2/images/%s/file' % (url, source)], stdout=subprocess.PIPE)
    subprocess.check_call(
        ['curl', '-sSf', '-K', _curl_config(tmp, 'put.cfg',
                                            b_sess.get_token()),
         '-X', 'PUT', '-H', 'Content-Type: application/octet-stream',
         # A length, not chunks (curl would send both), no 100-continue.
         '-H', 'Content-Length: %d' % size, '-H', 'Transfer-Encoding:',
         '-H', 'Expect:', '-T', '-', '-o', '/dev/null',
         '%s/v2/images/%s/file' % (into, target['id'])], stdin=get.stdout)
    get.stdout.close()
    if get.wait():
        raise SystemExit('curl GET of %s failed' % source)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime
           - before.ru_stime)
    img = glance('bob-beta').images.get(target['id'])
    glance('bob-beta').images.delete(target['id'])
    if img['size'] != size or img['status'] != 'active':
        raise SystemExit('the pipe stored %s bytes (%s), not %d'
                         % (img['size'], img['status'], size))
    return seconds, cpu


def limits(args, source, tmp, size, res, backwards):
    """One run of the copy, the limit and the other copy, in turn.

    Every other run goes backwards, so that none always comes first.
    """
    def copy():
        s, rss, written, rate, cpu = copy_once(source)
        for key, value in (('copy', s), ('rate', rate), ('rss', rss),
                           ('written', written), ('cpu', cpu)):
            res[key].append(value)

    def other():
        s, _, _, _, cpu = copy_once(source, args.compare_with)
        res['other'].append(s)
        res['other_cpu'].append(cpu)

    def pipe():
        s, cpu = pipe_once(source, tmp, size)
        res['pipe'].append(s)
        res['pipe_cpu'].append(cpu)
    cases = [copy, pipe] + ([other] if args.compare_with else [])
    for case in (cases[::-1] if backwards else cases):
        servers = server_cpu()
        case()
        key = {copy: 'cpu', pipe: 'pipe_cpu', other: 'other_cpu'}[case]
        res[key][-1] += server_cpu() - servers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--mib', type=int, default=512)
    parser.add_argument('--big-mib', type=int, default=2048)
    parser.add_argument('--compare-with', metavar='OPENSTACK',
                        help='another openstack executable (another '
                        'version of the plugin) whose copy is measured too')
    parser.add_argument('--limit-only', action='store_true',
                        help='only the copy(s) against the limit: no '
                        'anchor, no raw HTTP, no big image')
    args = parser.parse_args()
    sources = []
    with local_cloud():
        try:
            size = args.mib * MIB
            source = make_source(size)
            sources.append(source)
            res = {'copy': [], 'anchor': [], 'raw': [], 'rate': [], 'put': [],
                   'rss': [], 'written': [], 'pipe': [], 'other': [],
                   'cpu': [], 'other_cpu': [], 'pipe_cpu': []}
            with tempfile.TemporaryDirectory() as tmp:
                for i in range(args.runs):
                    limits(args, source, tmp, size, res, i % 2)
                    if args.limit_only:
                        continue
                    res['anchor'].append(anchor_once(source, tmp))
                    s, put_rate = raw_once(source, tmp, size)
                    res['raw'].append(s)
                    res['put'].append(put_rate)
            if not args.limit_only:
                big = make_source(args.big_mib * MIB)
                sources.append(big)
                big_figures = copy_once(big)
        finally:
            for s in sources:
                glance('alice-alpha').images.delete(s)
    med = {k: statistics.median(v) for k, v in res.items() if v}
    print('%d MiB image, %d runs interleaved, medians'
          % (args.mib, args.runs))
    print('copy (image transfer --mode copy)  %6.2f s' % med['copy'])
    report_limit(args, res, med)
    if not args.limit_only:
        report_others(args, res, med, big_figures)


def report_limit(args, res, med):
    print('limit (--version + curl GET | PUT) %6.2f s  -> copy takes %.2fx '
          'its time (target: at most 1.05x)'
          % (med['pipe'], med['copy'] / med['pipe']))
    if args.compare_with:
        print('copy by %s  %6.2f s  -> %.2fx the limit'
              % (args.compare_with, med['other'],
                 med['other'] / med['pipe']))
    print('each run (copy, limit%s): %s' % (
        ', other' if args.compare_with else '', '; '.join(
            ', '.join('%.2f' % res[k][i] for k in ('copy', 'pipe', 'other')
                      if res[k]) for i in range(args.runs))))
    print('CPU, command and servers (user + sys): limit %.2f s, copy %.2f s'
          ' (%.2fx)' % (med['pipe_cpu'], med['cpu'],
                        med['cpu'] / med['pipe_cpu']), end='')
    if args.compare_with:
        print(', by %s %.2f s (%.2fx)' % (
            args.compare_with, med['other_cpu'],
            med['other_cpu'] / med['pipe_cpu']), end='')
    print()
    print('load average at the end: %.2f %.2f %.2f' % os.getloadavg())


def report_others(args, res, med, big_figures):
    _, big_rss, big_written, big_rate, _ = big_figures
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
