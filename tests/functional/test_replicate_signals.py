"""``image replicate`` cut by SIGTERM or SIGKILL, re-run; two runs at once.

Whatever the cut, a re-run ends with one verified replica per source
and nothing partial left: the copies are copy mode's (crash safe, race
safe), and the run keeps no state of its own.
"""

import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from tests.functional.conftest import BIN
from tests.functional.test_replicate import backups
from tests.functional.test_replicate import replicas

pytestmark = [pytest.mark.concurrency]

TARGET = 'bob-beta-r2'      # glance-direct: the data goes through the run
REPLICA_OF = 'imageshare_replica_of'
BIG = 120 << 20


def big_backups(cloud, server, count):
    """Backups large enough to be cut while one is being copied."""
    made = []
    for n in range(count):
        if made:
            time.sleep(1.1)
        made.append(cloud.make_image(
            'alice-alpha', data=os.urandom(BIG), name='big-%d' % n,
            instance_uuid=server, backup_type='daily', image_type='backup'))
    return made


def start(cloud, server, *args, target=TARGET):
    return subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha',
         'image', 'replicate', '--property', 'instance_uuid=' + server,
         '--to-cloud', target, '--keep', '3', '--parallel', '1', '-f',
         'value', '-c', 'Source ID', '-c', 'Action', *args],
        env=cloud.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True)


def all_labelled(cloud, server, target=TARGET):
    """Every image at the target labelled a replica of the server's."""
    glance = cloud.glance(target)
    found = []
    for hidden in (False, True):
        found += list(glance.images.list(filters={
            REPLICA_OF: cloud.project('alpha') + '@RegionOne',
            'os_hidden': hidden}))
    return [i for i in found if i.get('instance_uuid') == server]


def cut_mid_copy(cloud, server, proc):
    """A replica whose data is on its way (staging); None if none seen."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        moving = [i for i in all_labelled(cloud, server)
                  if i['status'] == 'uploading']
        if moving:
            return moving[0]
        time.sleep(0.05)
    return None


def settled(cloud, server, sources, target=TARGET):
    """One verified replica per source, nothing else labelled."""
    found = all_labelled(cloud, server, target)
    assert sorted(i['imageshare_source_id'] for i in found) == sorted(
        s['id'] for s in sources), found
    for img in found:
        src = next(s for s in sources if s['id'] == img[
            'imageshare_source_id'])
        assert (img['status'], img['checksum'], img['size']) == (
            'active', src['checksum'], src['size'])


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGKILL])
def test_cut_mid_run_then_a_rerun_finishes(cloud, signum):
    server = str(uuid.uuid4())
    sources = big_backups(cloud, server, 3)
    proc = start(cloud, server)
    moving = cut_mid_copy(cloud, server, proc)
    assert moving is not None, proc.communicate()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=300)
    if signum == signal.SIGTERM:
        assert proc.returncode == 1, (out, err)
        last = err.splitlines()[-1]
        assert re.fullmatch(
            r'Interrupted by SIGTERM: of 3 step\(s\), (\d) done, 1 failed, '
            r'(\d) not started; every copy made is verified and kept, each '
            r'cut one was cleaned up as said above: run the command again '
            r'to finish', last), err
        assert 'Interrupted by SIGTERM while copying image' in err
        # Nothing partial: the cut copy was deleted by the run itself.
        assert [i['status'] for i in all_labelled(cloud, server)
                if i['status'] != 'active'] == []
        done = out.split()
        assert done[1::2] == ['copied'] * (len(done) // 2)
    else:
        assert proc.returncode == -signal.SIGKILL
    rerun = start(cloud, server)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    settled(cloud, server, sources)
    if signum == signal.SIGKILL:
        # The killed run's partial copy: deleted by the re-run, and said.
        assert 'leftover of an interrupted copy' in err, (moving, out, err)
        assert moving['id'] not in [i['id'] for i in all_labelled(
            cloud, server)]


def test_two_runs_at_once_end_with_one_replica_per_source(cloud):
    # Into RegionOne (bob-beta: uploads): two imports at once into the
    # local RegionTwo Glance on SQLite may leave one never finishing.
    server = str(uuid.uuid4())
    sources = backups(cloud, server, 3)
    runs = [start(cloud, server, target='bob-beta') for _ in range(2)]
    results = [(p.communicate(timeout=300), p.returncode) for p in runs]
    assert [code for _, code in results] == [0, 0], results
    settled(cloud, server, sources, 'bob-beta')
    assert len(replicas(cloud, 'bob-beta', server)) == 3
    rows = sorted(line.split()[1] for (out, _), _ in results
                  for line in out.splitlines())
    # Each source copied once: by one run, found made by the other.
    assert rows.count('copied') + rows.count('kept') == 6
    assert rows.count('copied') == 3
