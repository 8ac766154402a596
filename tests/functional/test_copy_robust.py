"""``--mode copy`` under faults, races and on an import-only Glance.

RegionTwo's Glance (tools/local-cloud) is configured like many public
clouds': direct upload refused by policy, glance-direct and
glance-download enabled, sha256 hashing, 64 properties per image.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.functional.conftest import BIN
from tests.functional.conftest import LOCAL_CLOUD
from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique
from tests.functional.test_copy import make_source

pytestmark = [pytest.mark.server, pytest.mark.concurrency]

SOURCE_ID = 'imageshare_source_id'


def all_copies(cloud, source_id, cloud_name='admin'):
    """Every image recording ``source_id`` as source, any project/status."""
    glance = cloud.glance(cloud_name)
    return list(glance.images.list(filters={SOURCE_ID: source_id}))


def start_copy(cloud, cloud_name, image_id, *args):
    return subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', cloud_name, 'image',
         'transfer', image_id, '--mode', 'copy', '-f', 'json'] + list(args),
        env=cloud.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True)


def wait_for_data(cloud, source_id, cloud_name='admin'):
    """Wait until a copy of ``source_id`` is receiving data."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        moving = [i for i in all_copies(cloud, source_id, cloud_name)
                  if i['status'] in ('saving', 'uploading')]
        if moving:
            return moving[0]
        time.sleep(0.05)
    raise AssertionError('the copy never started to move data')


@pytest.fixture(scope='module')
def big(cloud):
    """A 300 MiB source: long enough to be interrupted mid-stream."""
    return make_source(cloud, size=300 << 20)


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM,
                                    signal.SIGHUP])
def test_a_signal_mid_copy_deletes_the_partial_copy(cloud, big, signum):
    proc = start_copy(cloud, 'alice-alpha', big['id'], '--to-cloud',
                      'bob-beta')
    partial = wait_for_data(cloud, big['id'])
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (proc.returncode, err)
    assert out == ''
    beta = cloud.project('beta')
    assert err.splitlines()[-1] == (
        'Interrupted by %s while copying image %s into project %s: the '
        'partial copy %s in project %s was deleted' % (
            signal.Signals(signum).name, big['id'], beta, partial['id'],
            beta))
    assert all_copies(cloud, big['id']) == []
    assert cloud.glance('admin').images.get(big['id'])['status'] == 'active'


def test_sigkill_then_rerun_ends_with_one_copy(cloud, big):
    proc = start_copy(cloud, 'alice-alpha', big['id'], '--to-cloud',
                      'bob-beta')
    partial = wait_for_data(cloud, big['id'])
    proc.kill()
    proc.communicate(timeout=60)
    [left] = all_copies(cloud, big['id'])
    # Glance puts an image whose upload broke back to queued.
    assert left['id'] == partial['id'] and left['status'] != 'active'
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                big['id'], '--mode', 'copy', '--to-cloud',
                                'bob-beta')
    assert rows[0]['Changes'] == 'copied'
    assert len(warnings) == 1
    assert warnings[0].startswith(
        'Image %s in project %s is the leftover of an interrupted copy of '
        '%s (' % (partial['id'], cloud.project('beta'), big['id']))
    assert ', started ' in warnings[0]
    assert warnings[0].endswith('): deleted')
    [one] = all_copies(cloud, big['id'])
    assert (one['id'], one['status']) == (rows[0]['Image ID'], 'active')
    cloud.glance('admin').images.delete(one['id'])


def test_two_identical_runs_at_once_end_with_one_copy(cloud):
    src = make_source(cloud, size=40 << 20)
    procs = [start_copy(cloud, 'alice-alpha', src['id'], '--to-cloud',
                        'bob-beta') for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    rows = [json.loads(out)[0] for out, _ in results]
    [one] = all_copies(cloud, src['id'])
    assert one['status'] == 'active'
    assert {r['Image ID'] for r in rows} == {one['id']}
    assert sorted(r['Changes'] for r in rows)[0] == 'copied'
    assert sorted(r['Changes'] for r in rows)[1] in (
        'none (copied by another run at the same time)',
        'none (verified copy exists)')
    assert one['os_hash_value'] == src['os_hash_value']


def test_target_glance_killed_mid_stream(cloud, big):
    state_dir = os.path.dirname(cloud.clouds_yaml)
    with open(os.path.join(state_dir, 'state.json')) as f:
        pid = json.load(f)['glance2_pid']
    proc = start_copy(cloud, 'alice-alpha', big['id'], '--to-cloud',
                      'bob-beta-r2')
    partial = wait_for_data(cloud, big['id'], 'bob-beta-r2')
    os.killpg(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    try:
        assert proc.returncode == 1
        lines = [line for line in err.splitlines() if line.strip()]
        beta = cloud.project('beta')
        assert lines[-2].startswith(
            'Could not copy image %s into project %s by glance-direct: '
            % (big['id'], beta)), lines
        assert ('connection reset by the target Glance at ' in lines[-2]
                or 'connection refused by the target Glance at '
                in lines[-2])
        assert ("the partial copy %s in project %s could not be deleted "
                "(connection refused by the target Glance at http://"
                "127.0.0.1:" % (partial['id'], beta)) in lines[-2]
        assert lines[-2].endswith(
            "(is it down?)): delete it with 'openstack image delete %s', or "
            "re-run this command, which deletes it" % partial['id'])
        assert lines[-1] == 'Failed to copy 1 of 1 image/project pairs'
    finally:
        res = subprocess.run([sys.executable, LOCAL_CLOUD, 'start'])
        assert res.returncode == 0
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                big['id'], '--mode', 'copy', '--to-cloud',
                                'bob-beta-r2')
    assert rows[0]['Changes'] == 'copied'
    assert any(w.startswith('Image %s in project' % partial['id'])
               and w.endswith('deleted') for w in warnings), warnings
    [one] = all_copies(cloud, big['id'], 'bob-beta-r2')
    assert (one['id'], one['status']) == (rows[0]['Image ID'], 'active')


def test_one_target_refused_among_several_the_others_copied(cloud):
    # RegionTwo allows 64 properties per image, RegionOne 128.
    many = {'p%02d' % i: 'v' for i in range(70)}
    src = make_source(cloud, **many)
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta-r2', '--to', 'alpha',
                    '--name', unique('beside'), '-f', 'json')
    assert res.returncode == 1
    [row] = json.loads(res.stdout)
    assert (row['Project ID'], row['Changes']) == (cloud.project('alpha'),
                                                   'copied')
    lines = stderr_lines(res)
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        'Image %s cannot be copied into project %s: the target allows fewer '
        'properties per image (image_property_quota; '
        % (src['id'], cloud.project('beta')))
    assert lines[0].endswith('; nothing was copied')
    assert lines[1] == 'Failed to copy 1 of 2 image/project pairs'
    assert all_copies(cloud, src['id'], 'bob-beta-r2') == []


def test_each_import_method(cloud):
    src = make_source(cloud, size=3 << 20)
    alpha = cloud.project('alpha')
    for args, method in (
            (['--to-cloud', 'bob-beta', '--import-method', 'upload'],
             'upload'),
            (['--to', 'alpha', '--import-method', 'glance-direct',
              '--name', 'direct'], 'glance-direct'),
            # Same project, another region: the target Glance pulls it.
            (['--to-cloud', 'alice-alpha-r2'], 'glance-download'),
            # bob may not read alice's image: upload is refused, import.
            (['--to-cloud', 'bob-beta-r2'], 'glance-direct')):
        plan, _ = cloud.json('alice-alpha', 'image', 'transfer', src['id'],
                             '--mode', 'copy', '--dry-run', *args)
        rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                    src['id'], '--mode', 'copy', *args)
        assert warnings == []
        [row] = rows
        assert (row['Method'], row['Changes']) == (method, 'copied'), args
        if '--import-method' in args or method == 'glance-download':
            assert plan[0]['Method'] == method
        assert plan[0]['Changes'].startswith('plan: copy %d bytes as '
                                             % src['size'])
        r2 = 'r2' in args[1]
        copy = cloud.glance(args[1] if args[0] == '--to-cloud'
                            else 'alice-alpha').images.get(row['Image ID'])
        if r2:     # sha256 there; verified against the source's sha512
            assert row['Hash'].startswith('sha256:')
            assert copy['checksum'] == src['checksum']
        else:
            assert row['Hash'] == 'sha512:' + src['os_hash_value']
        assert copy['imageshare_source_hash'] == 'sha512:' + src[
            'os_hash_value']
        # glance-download carries hw_ and os_distro only: the rest is set.
        for key in ('min_ram', 'hw_disk_bus', 'os_distro', 'architecture',
                    'release'):
            assert copy[key] == src[key], (method, key)
        assert sorted(copy['tags']) == ['golden', 'web']
    assert row['Project ID'] != alpha


def test_signature_properties_dropped_unless_kept(cloud):
    # Not the four that make Glance verify a signature at upload.
    src = make_source(cloud, img_signature='c2ln',
                      img_signature_hash_method='SHA-256')
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                src['id'], '--mode', 'copy', '--to-cloud',
                                'bob-beta')
    assert warnings == [
        'Image %s: signature properties not copied (img_signature, '
        'img_signature_hash_method): the target would verify them against '
        'a certificate it may not have; --keep-signature keeps them'
        % src['id']]
    copy = cloud.glance('bob-beta').images.get(rows[0]['Image ID'])
    assert 'img_signature' not in copy
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                src['id'], '--mode', 'copy', '--to-cloud',
                                'bob-beta-r2', '--keep-signature')
    assert warnings == []
    copy = cloud.glance('bob-beta-r2').images.get(rows[0]['Image ID'])
    assert copy['img_signature'] == 'c2ln'
