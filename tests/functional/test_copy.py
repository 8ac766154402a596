"""``image transfer --mode copy`` and ``--mode owner`` on the local cloud."""

import hashlib
import os
import signal
import subprocess
import time

import pytest

from tests.functional.conftest import BIN
from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.server]

SOURCE_ID = 'imageshare_source_id'


def copies(cloud, cloud_name, source_id):
    """Images in the target project recording ``source_id`` as source."""
    glance = cloud.glance(cloud_name)
    return [i for i in glance.images.list(filters={SOURCE_ID: source_id})]


def source_state(cloud, image_id):
    img = cloud.glance('admin').images.get(image_id)
    return {k: img.get(k) for k in ('visibility', 'owner', 'protected',
                                    'updated_at', 'os_hash_value', 'size',
                                    'status')}


def make_source(cloud, size=1 << 20, **kw):
    return cloud.make_image(
        'alice-alpha', data=os.urandom(size), min_disk=1, min_ram=64,
        tags=['web', 'golden'], hw_disk_bus='scsi', os_distro='debian',
        architecture='x86_64', release='2026.11', **kw)


def test_copy_is_independent_verified_and_carries_properties(cloud):
    src = make_source(cloud)
    before = source_state(cloud, src['id'])
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                src['id'], '--mode', 'copy', '--to-cloud',
                                'bob-beta')
    [row] = rows
    assert row['Source ID'] == src['id']
    assert row['Changes'] == 'copied'
    assert row['Hash'] == 'sha512:' + src['os_hash_value']
    assert row['Size'] == src['size']
    assert row['Project ID'] == cloud.project('beta')
    assert warnings == []
    copy = cloud.glance('bob-beta').images.get(row['Image ID'])
    assert copy['owner'] == cloud.project('beta')
    assert copy['visibility'] == 'private'
    assert copy['os_hash_value'] == src['os_hash_value']
    assert copy['checksum'] == src['checksum']
    for key in ('name', 'disk_format', 'container_format', 'min_disk',
                'min_ram', 'hw_disk_bus', 'os_distro', 'architecture',
                'release'):
        assert copy[key] == src[key], key
    assert sorted(copy['tags']) == ['golden', 'web']
    assert copy[SOURCE_ID] == src['id']
    assert copy['imageshare_source_hash'] == 'sha512:' + src['os_hash_value']
    assert source_state(cloud, src['id']) == before
    # Deleting the source does not touch the copy.
    cloud.glance('alice-alpha').images.delete(src['id'])
    data = b''.join(cloud.glance('bob-beta').images.data(copy['id']))
    assert len(data) == src['size']


def test_rerun_reports_the_existing_copy(cloud):
    src = make_source(cloud)
    first, _ = cloud.json('alice-alpha', 'image', 'transfer', src['name'],
                          '--mode', 'copy', '--to-cloud', 'bob-beta',
                          '--name', 'renamed')
    again, _ = cloud.json('alice-alpha', 'image', 'transfer', src['name'],
                          '--mode', 'copy', '--to-cloud', 'bob-beta',
                          '--name', 'renamed')
    assert again[0]['Image ID'] == first[0]['Image ID']
    assert again[0]['Image Name'] == 'renamed'
    assert again[0]['Changes'] == 'none (verified copy exists)'
    assert len(copies(cloud, 'bob-beta', src['id'])) == 1


def test_copy_by_rescoping_and_to_another_region(cloud):
    src = cloud.make_image('carol-alpha', data=os.urandom(300000))
    rows, _ = cloud.json('carol-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to', 'beta')
    assert rows[0]['Project ID'] == cloud.project('beta')
    assert copies(cloud, 'bob-beta', src['id'])[0]['id'] == rows[0][
        'Image ID']
    # RegionTwo is another Glance, with its own database and store.
    rows, _ = cloud.json('carol-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to-cloud', 'bob-beta-r2')
    [there] = copies(cloud, 'bob-beta-r2', src['id'])
    assert there['id'] == rows[0]['Image ID'] != copies(
        cloud, 'bob-beta', src['id'])[0]['id']
    # RegionTwo hashes with sha256 and takes imports only (local-cloud).
    assert (there['os_hash_algo'], there['checksum']) == ('sha256',
                                                          src['checksum'])
    assert rows[0]['Method'] == 'glance-direct'


def test_corrupted_source_data_is_caught_and_the_copy_deleted(cloud):
    src = make_source(cloud)
    # Bit rot in the source store: Glance serves what the file holds.
    path = os.path.join(os.path.dirname(cloud.clouds_yaml), 'glance',
                        'images', src['id'])
    with open(path, 'r+b') as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xff]))
    with open(path, 'rb') as f:
        served = f.read()
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta')
    assert res.returncode == 1
    lines = stderr_lines(res)
    # An upload into a Glance hashing like the source: its own figures
    # of what it stored are compared with the source's.
    assert lines[0].startswith(
        'Could not copy image %s into project %s by upload: the data the '
        'target Glance stored (%d bytes, sha512 %s, checksum %s) does not '
        'match the source (%d bytes, sha512 %s, checksum %s)' % (
            src['id'], cloud.project('beta'), src['size'],
            hashlib.sha512(served).hexdigest(),
            hashlib.md5(served).hexdigest(), src['size'],
            src['os_hash_value'], src['checksum']))
    assert lines[0].endswith('; the partial copy %s in project %s was '
                             'deleted' % (lines[0].split()[-6],
                                          cloud.project('beta')))
    assert lines[-1] == 'Failed to copy 1 of 1 image/project pairs'
    assert copies(cloud, 'bob-beta', src['id']) == []
    # An import into RegionTwo (sha256): the stream is hashed on the way.
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta-r2')
    assert res.returncode == 1
    assert stderr_lines(res)[0].startswith(
        'Could not copy image %s into project %s by glance-direct: the data '
        'read (%d bytes, sha512 %s) does not match the source (%d bytes, '
        'sha512 %s)' % (src['id'], cloud.project('beta'), src['size'],
                        hashlib.sha512(served).hexdigest(), src['size'],
                        src['os_hash_value']))
    assert copies(cloud, 'bob-beta-r2', src['id']) == []


def test_interrupted_copy_leaves_nothing_in_the_target(cloud):
    src = make_source(cloud, size=300 << 20)
    proc = subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha',
         'image', 'transfer', src['id'], '--mode', 'copy', '--to-cloud',
         'bob-beta', '--progress'],
        env=cloud.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    saving = []
    while not saving and time.monotonic() < deadline:
        saving = [i for i in copies(cloud, 'bob-beta', src['id'])
                  if i['status'] == 'saving']
        time.sleep(0.05)
    assert saving, 'the upload never started'
    proc.send_signal(signal.SIGINT)  # Ctrl-C, mid-stream
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert copies(cloud, 'bob-beta', src['id']) == []
    assert source_state(cloud, src['id'])['status'] == 'active'


def test_owner_mode_is_refused_to_a_non_admin(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'], '--mode',
                    'owner', '--to-cloud', 'bob-beta')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Changing an image's owner needs the admin role, which your token "
        "for project alpha does not have; ask an admin, or use --mode copy "
        "(an independent copy owned by the target) or --mode share"]
    assert source_state(cloud, img['id'])['owner'] == cloud.project('alpha')


def test_owner_mode_as_admin(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    other = cloud.project('beta', 'other')
    cloud.glance('alice-alpha').image_members.create(img['id'], other)
    # What OSC core stores when a non-admin names a project: its name.
    cloud.glance('alice-alpha').image_members.create(img['id'], 'beta')
    alpha, beta = cloud.project('alpha'), cloud.project('beta')
    plan, _ = cloud.json('admin', 'image', 'transfer', img['id'], '--mode',
                         'owner', '--to', beta, '--dry-run')
    assert plan[0]['Changes'] == 'plan: owner %s->%s' % (alpha, beta)
    assert source_state(cloud, img['id'])['owner'] == alpha
    rows, warnings = cloud.json('admin', 'image', 'transfer', img['id'],
                                '--mode', 'owner', '--to', beta)
    assert [(r['Old Owner'], r['Project ID'], r['Changes']) for r in rows] \
        == [(alpha, beta, 'owner %s->%s' % (alpha, beta))]
    assert warnings == [
        'Project %s loses access to image %s: it now belongs to beta (%s).'
        % (alpha, img['id'], beta),
        "Image %s keeps its members, who keep access: %s; and 1 member "
        "that is not a project (Glance stores any string; it gives nobody "
        "access): 'beta'." % (img['id'], other)]
    assert source_state(cloud, img['id'])['owner'] == beta
    res = cloud.run('alice-alpha', 'image', 'share', 'status', img['id'])
    assert res.returncode == 1  # alice lost it


def test_mode_specific_options_are_refused_elsewhere(cloud):
    img = cloud.make_image('alice-alpha')
    for args, msg in (
            (['--mode', 'copy', '--protect'],
             '--protect applies to --mode share only'),
            (['--name', 'x'], '--name applies to --mode copy only')):
        res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                        '--to-cloud', 'bob-beta', *args)
        assert res.returncode == 2
        assert stderr_lines(res) == ['openstack image transfer: error: '
                                     + msg]
    assert source_state(cloud, img['id'])['visibility'] == 'private'


def test_consumer_copies_a_shared_image_into_its_own_project(cloud):
    src = make_source(cloud, visibility='shared')
    beta = cloud.project('beta')
    cloud.glance('alice-alpha').image_members.create(src['id'], beta)
    cloud.glance('bob-beta').image_members.update(src['id'], beta,
                                                  'accepted')
    rows, _ = cloud.json('bob-beta', 'image', 'transfer', src['name'],
                         '--mode', 'copy', '--to', 'beta')
    copy = cloud.glance('bob-beta').images.get(rows[0]['Image ID'])
    assert (copy['owner'], copy['os_hash_value']) == (
        beta, src['os_hash_value'])
    # bob's instances no longer depend on alice's image.
    cloud.glance('alice-alpha').images.delete(src['id'])
    assert cloud.glance('bob-beta').images.get(copy['id'])['status'] == \
        'active'
