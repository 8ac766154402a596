"""INT, TERM and HUP while ``--mode copy`` copies several pairs at once.

The copies run in worker threads (``--parallel``); the main thread
catches the signal, the workers delete their half-made copies, pairs not
started are not, and the command exits 1 with a line per pair and a
summary naming the signal.
"""

import os
import re
import signal
import subprocess
import time

import pytest

from tests.functional.conftest import BIN
from tests.functional.test_copy import make_source
from tests.functional.test_copy_robust import all_copies
from tests.functional.test_copy_robust import SOURCE_ID

pytestmark = [pytest.mark.concurrency]


# Each region's Glance takes one write at a time (tools/local-cloud:
# SQLite), so the two copies that run at once go to two regions: project
# beta in RegionOne and project alpha in RegionTwo, both streamed into
# the stage (glance-direct: left to itself, RegionTwo would pull the data
# by glance-download, often done in the time it takes to notice it).  Per
# region: a cloud that lists every copy there, and the project.
REGIONS = (('admin', 'beta'), ('alice-alpha-r2', 'alpha'))
TARGETS = ('--to-cloud', 'bob-beta', '--to-cloud', 'alice-alpha-r2',
           '--import-method', 'glance-direct')


@pytest.fixture(scope='module')
def bigs(cloud):
    """Two 300 MiB sources, long enough to be interrupted mid-stream."""
    return [make_source(cloud, size=300 << 20) for _ in range(2)]


def uploading(cloud, cloud_name, source_ids):
    """The copies of ``source_ids`` uploading there: one listing."""
    return [i for i in cloud.glance(cloud_name).images.list(
        filters={'status': 'uploading'})
        if i.get(SOURCE_ID) in source_ids]


def moving(cloud, proc, source_ids):
    """Copies of ``source_ids`` on their way, one per region.

    None (the command left to end, its copies deleted) when they were
    never seen uploading in both regions at once: on a busy machine a
    region's copies may pass through 'uploading' between two looks.
    """
    deadline = time.monotonic() + 120
    seen = set()
    while time.monotonic() < deadline and proc.poll() is None:
        found = [uploading(cloud, name, source_ids) for name, _ in REGIONS]
        if all(found):
            return [f[0] for f in found]
        seen.update((i['id'], i['owner']) for f in found for i in f)
        time.sleep(0.02)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (proc.returncode, err)
    for sid in source_ids:
        for r, _ in REGIONS:
            for c in all_copies(cloud, sid, r):
                cloud.glance(r).images.delete(c['id'])
    print('not seen uploading in both regions at once (seen: %s)'
          % sorted(seen))
    return None


def state(cloud, image_id):
    img = cloud.glance('admin').images.get(image_id)
    return (img['status'], img['owner'], img['visibility'],
            img['os_hash_value'], img['updated_at'])


def interrupt(cloud, images, signum, *args):
    """Copy ``images``, signal once a copy moves data in each region.

    Checks what every run must show, whatever the timing: exit 1, nothing
    on stdout, a summary naming the signal that adds up, the copies seen
    moving cut and deleted, every other pair listed as copied (and
    verified), interrupted or not started; no other image left in either
    region, in any status; the sources untouched.  Returns the summary's
    counts ``(copied, interrupted, not started)`` and the lines.
    """
    before = {i['id']: state(cloud, i['id']) for i in images}
    for i in images:
        # What an earlier failed test may have left: each test stands alone.
        for r, _ in REGIONS:
            for c in all_copies(cloud, i['id'], r):
                cloud.glance(r).images.delete(c['id'])
    for attempt in range(3):
        proc = subprocess.Popen(
            [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha',
             'image', 'transfer'] + [i['id'] for i in images] + [
                '--mode', 'copy', '-f', 'json', *TARGETS, *args],
            env=cloud.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True)
        partials = moving(cloud, proc, [i['id'] for i in images])
        if partials:
            break
    else:
        raise AssertionError('in 3 runs, the copies were never seen '
                             'uploading in both regions at once')
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    lines = err.splitlines()
    assert proc.returncode == 1, (proc.returncode, err)
    assert out == ''
    name = signal.Signals(signum).name
    total = len(images) * len(REGIONS)
    m = re.fullmatch(
        r'Interrupted by %s: of %d image/project pairs, (\d+) copied, 0 '
        r'failed, (\d+) interrupted \(their partial copies cleaned up as '
        r'said above\), (\d+) not started' % (name, total), lines[-1])
    assert m, lines
    copied, cut, idle = map(int, m.groups())
    assert copied + cut + idle == total, lines
    for p in partials:
        assert cut_line(cloud, signum, p) in lines, lines
    cut_lines = [line for line in lines if line.startswith(
        'Interrupted by %s while copying image ' % name)]
    assert len(cut_lines) == cut, lines
    for line in cut_lines:
        assert line.endswith((' was deleted', ': nothing was left behind'))
    kept = [re.fullmatch(r'Image (\S+): copied into project (\S+) as '
                         r'(\S+) \(copied\), kept', line) for line in lines]
    kept = {k.group(3): k.group(1) for k in kept if k}
    assert len(kept) == copied, lines
    for i in images:
        # No other image in either region, in any status: the copies
        # listed as kept are all there is, verified.
        for r, _ in REGIONS:
            for c in all_copies(cloud, i['id'], r):
                assert kept.pop(c['id']) == i['id'], (r, c, err)
                assert c['status'] == 'active'
                assert c['os_hash_value'] == i['os_hash_value'] or (
                    c['os_hash_algo'] != i['os_hash_algo'])
                cloud.glance(r).images.delete(c['id'])
        assert state(cloud, i['id']) == before[i['id']]
    assert kept == {}
    return partials, (copied, cut, idle), lines


def cut_line(cloud, signum, partial):
    pid = partial['owner']
    return ('Interrupted by %s while copying image %s into project %s: the '
            'partial copy %s in project %s was deleted' % (
                signal.Signals(signum).name, partial[SOURCE_ID], pid,
                partial['id'], pid))


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM,
                                    signal.SIGHUP])
def test_parallel_2_signal_deletes_every_partial_copy(cloud, bigs, signum):
    partials, counts, lines = interrupt(cloud, bigs, signum,
                                        '--parallel', '2')
    assert {p['owner'] for p in partials} == {
        cloud.project(name) for _, name in REGIONS}
    # Two at a time: the two copies seen moving are cut and deleted; the
    # pairs after them are not started (nor copied: two workers only).
    assert counts[1] == 2, lines
    if counts == (0, 2, 2):
        assert lines[-3:-1] == [cut_line(cloud, signum, p)
                                for p in partials], lines


def test_default_parallel_sigterm_deletes_every_partial_copy(cloud, bigs):
    partials, counts, lines = interrupt(cloud, bigs, signal.SIGTERM)
    # All four pairs start at once (--parallel 6): none is left unstarted.
    assert counts[2] == 0, lines
    assert counts[1] >= 2, lines
