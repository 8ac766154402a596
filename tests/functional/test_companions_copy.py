"""Copy mode with companions: an AMI copied with its AKI and ARI.

The images are built as Nova and Glance make them (see
``test_image_kinds.make``): the AMI's ``kernel_id`` and ``ramdisk_id``
name alice's private kernel and ramdisk.  Each copy's references must
name verified copies that bob can read, in beta and in RegionTwo.
"""

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.test_image_kinds import ami
from tests.functional.test_image_kinds import copies
from tests.functional.test_image_kinds import make

pytestmark = [pytest.mark.server]


def copy(cloud, img, to, *extra):
    return cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                      '--mode', 'copy', '--to-cloud', to, *extra)


@pytest.mark.parametrize('to', ['bob-beta', 'bob-beta-r2'])
def test_ami_copied_with_its_kernel_and_ramdisk(cloud, to):
    img, kernel, ramdisk = ami(cloud)
    alice = cloud.glance('alice-alpha')
    mark = 'companion of %s' % img['id']
    plan, _ = copy(cloud, img, to, '--dry-run')
    assert [(r['Source ID'], r['Changes'].split(', ')[0]) for r in plan] == [
        (kernel['id'], 'plan: ' + mark), (ramdisk['id'], 'plan: ' + mark),
        (img['id'], plan[2]['Changes'].split(', ')[0])]
    assert plan[2]['Changes'].endswith(
        ', set kernel_id to the copy of %s, set ramdisk_id to the copy of %s'
        % (kernel['id'], ramdisk['id']))
    assert copies(cloud, to, img['id']) == []
    rows, _ = copy(cloud, img, to)
    assert [(r['Source ID'], r['Changes']) for r in rows] == [
        (kernel['id'], 'copied, ' + mark), (ramdisk['id'], 'copied, ' + mark),
        (img['id'], 'copied')]
    bob = cloud.glance(to)
    there = bob.images.get(rows[2]['Image ID'])
    assert (there['kernel_id'], there['ramdisk_id']) == (
        rows[0]['Image ID'], rows[1]['Image ID'])
    for source, row in zip((kernel, ramdisk, img), rows):
        made = bob.images.get(row['Image ID'])
        assert made['owner'] == cloud.project('beta')
        assert made['imageshare_source_id'] == source['id']
        assert b''.join(bob.images.data(made['id'])) == b''.join(
            alice.images.data(source['id']))
    again, _ = copy(cloud, img, to)
    assert [(r['Image ID'], r['Changes']) for r in again] == [
        (rows[0]['Image ID'], 'none (verified copy exists), ' + mark),
        (rows[1]['Image ID'], 'none (verified copy exists), ' + mark),
        (rows[2]['Image ID'], 'none (verified copy exists)')]
    for source in (kernel, ramdisk, img):
        assert len(copies(cloud, to, source['id'])) == 1


def test_public_kernel_stays_unreadable_ramdisk_fails(cloud):
    public = make(cloud, 'admin', 'aki', visibility='public')
    hidden = make(cloud, 'admin', 'ari')
    img, _, _ = ami(cloud, kernel=public, ramdisk=hidden)
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta', '-f', 'json')
    assert (res.returncode, res.stdout) == (1, '')
    assert stderr_lines(res) == [
        'Image %s boots only with its ramdisk_id %s, which your project '
        'cannot read, so a copy could not boot; nothing was copied. Ask the '
        'owner of %s to share it with your project'
        % (img['id'], hidden['id'], hidden['id']),
        'Failed to copy 1 of 1 image/project pairs']
    assert copies(cloud, 'bob-beta', img['id']) == []
    # Shared with alpha now: copied; the public kernel stays (same Glance).
    admin, alpha = cloud.glance('admin'), cloud.project('alpha')
    admin.images.update(hidden['id'], visibility='shared')
    admin.image_members.create(hidden['id'], alpha)
    cloud.glance('alice-alpha').image_members.update(hidden['id'], alpha,
                                                     'accepted')
    rows, _ = copy(cloud, img, 'bob-beta')
    assert [r['Source ID'] for r in rows] == [hidden['id'], img['id']]
    there = cloud.glance('bob-beta').images.get(rows[1]['Image ID'])
    assert (there['kernel_id'], there['ramdisk_id']) == (
        public['id'], rows[0]['Image ID'])
    assert copies(cloud, 'bob-beta', public['id']) == []
