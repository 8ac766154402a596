"""INT, TERM and HUP while ``--mode copy`` copies several pairs at once.

The copies run in worker threads (``--parallel``); the main thread
catches the signal, the workers delete their half-made copies, pairs not
started are not, and the command exits 1 with a line per pair and a
summary naming the signal.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.functional.conftest import BIN
from tests.functional.test_copy import make_source
from tests.functional.test_copy_robust import all_copies
from tests.functional.test_copy_robust import SOURCE_ID


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


def moving(cloud, source_ids):
    """Copies of ``source_ids`` on their way, one per region."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [[i for sid in source_ids
                  for i in all_copies(cloud, sid, name)
                  if i['status'] == 'uploading'] for name, _ in REGIONS]
        if all(found):
            return [f[0] for f in found]
        time.sleep(0.05)
    raise AssertionError('the copies of %s never got on their way: %s'
                         % (source_ids, found))


def state(cloud, image_id):
    img = cloud.glance('admin').images.get(image_id)
    return (img['status'], img['owner'], img['visibility'],
            img['os_hash_value'], img['updated_at'])


def interrupt(cloud, images, signum, *args):
    """Copy ``images``, signal as the first image's two copies move.

    Returns those two copies, and the lines on stderr.
    """
    before = {i['id']: state(cloud, i['id']) for i in images}
    for i in images:
        # What an earlier failed test may have left: each test stands alone.
        for r, _ in REGIONS:
            for c in all_copies(cloud, i['id'], r):
                cloud.glance(r).images.delete(c['id'])
    proc = subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha',
         'image', 'transfer'] + [i['id'] for i in images] + [
            '--mode', 'copy', '-f', 'json', *TARGETS, *args],
        env=cloud.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True)
    partials = moving(cloud, [i['id'] for i in images])
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (proc.returncode, err)
    assert out == ''
    for i in images:
        # Nothing left in either region, in any status; sources untouched.
        for r, _ in REGIONS:
            assert all_copies(cloud, i['id'], r) == [], (r, err)
        assert state(cloud, i['id']) == before[i['id']]
    return partials, err.splitlines()


def cut_line(cloud, signum, partial):
    pid = partial['owner']
    image = {'id': partial[SOURCE_ID]}
    return ('Interrupted by %s while copying image %s into project %s: the '
            'partial copy %s in project %s was deleted' % (
                signal.Signals(signum).name, image['id'], pid,
                partial['id'], pid))


def summary(signum, interrupted, not_started):
    return ('Interrupted by %s: of 4 image/project pairs, 0 copied, 0 '
            'failed, %d interrupted (their partial copies cleaned up as '
            'said above), %d not started' % (
                signal.Signals(signum).name, interrupted, not_started))


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM,
                                    signal.SIGHUP])
def test_parallel_2_signal_deletes_every_partial_copy(cloud, bigs, signum):
    partials, lines = interrupt(cloud, bigs, signum, '--parallel', '2')
    assert {p['owner'] for p in partials} == {
        cloud.project(name) for _, name in REGIONS}
    # The two copies under way are cut and deleted; the other image's
    # two pairs are not started.
    assert [p[SOURCE_ID] for p in partials] == [bigs[0]['id']] * 2
    assert lines[-3:] == [cut_line(cloud, signum, p)
                          for p in partials] + [summary(signum, 2, 2)], lines


def test_default_parallel_sigterm_deletes_every_partial_copy(cloud, bigs):
    partials, lines = interrupt(cloud, bigs, signal.SIGTERM)
    # All four pairs started (--parallel 6); in each region one copy
    # streams, the other waits for its Glance's write lock and stops
    # before any data.
    assert lines[-1] == summary(signal.SIGTERM, 4, 0), lines
    cut = lines[-5:-1]
    for p in partials:
        assert cut_line(cloud, signal.SIGTERM, p) in cut, lines
    for image in bigs:
        prefix = ('Interrupted by SIGTERM while copying image %s into '
                  'project ' % image['id'])
        assert len([c for c in cut if c.startswith(prefix)]) == 2, lines
    for line in cut:
        assert line.endswith((' was deleted', 'nothing was left behind'))
