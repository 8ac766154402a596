"""What a finished copy carries, and what a re-run may delete."""

import hashlib
import io
import os

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique
from tests.functional.test_conversion import conv  # noqa: F401 (fixture)
from tests.functional.test_conversion import glance3
from tests.functional.test_conversion import qcow2

pytestmark = [pytest.mark.plugin]

SOURCE_ID = 'imageshare_source_id'


def copies(cloud, cloud_name, source_id):
    return list(cloud.glance(cloud_name).images.list(
        filters={SOURCE_ID: source_id}))


def source(cloud):
    data = os.urandom(64 << 10)
    # As openstacksdk uploads it: with the checksums of the file it sent.
    return cloud.make_image('alice-alpha', data=data, name=unique('src'),
                            visibility='private', **{
                                'owner_specified.openstack.md5':
                                    hashlib.md5(data).hexdigest(),
                                'owner_specified.openstack.object':
                                    'images/src'})


def test_a_deactivated_copy_survives_a_rerun(cloud):
    src = source(cloud)
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to-cloud', 'bob-beta')
    first = rows[0]['Image ID']
    admin = cloud.glance('admin')
    admin.images.deactivate(first)
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                src['id'], '--mode', 'copy', '--to-cloud',
                                'bob-beta')
    assert rows[0]['Changes'] == 'copied'
    assert rows[0]['Image ID'] != first
    assert warnings == [
        "Image %s in project %s carries the labels of a copy of %s but is "
        "deactivated, which no unfinished copy is: it is that project's "
        "image and was left as it is"
        % (first, cloud.project('beta'), src['id'])]
    assert admin.images.get(first)['status'] == 'deactivated'
    assert {i['id'] for i in copies(cloud, 'bob-beta', src['id'])} == {
        first, rows[0]['Image ID']}


IN_PROGRESS = ('imageshare_copier', 'imageshare_started',
               'imageshare_heartbeat')


def test_a_finished_copy_carries_only_what_describes_it(cloud):
    src = source(cloud)
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to-cloud', 'bob-beta')
    copy = cloud.glance('bob-beta').images.get(rows[0]['Image ID'])
    labels = {k: v for k, v in copy.items() if k.startswith('imageshare_')}
    assert labels == {
        'imageshare_source_id': src['id'],
        'imageshare_source_hash': 'sha512:' + src['os_hash_value'],
        # The caller's clouds.yaml entry and region, not an endpoint URL.
        'imageshare_source_cloud': 'alice-alpha/RegionOne'}
    # Unconverted, the owner's checksums still describe the data.
    assert copy['owner_specified.openstack.object'] == src[
        'owner_specified.openstack.object']
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to-cloud', 'bob-beta')
    assert rows[0]['Changes'] == 'none (verified copy exists)'


def test_converted_copy_drops_owner_sums(conv, tmp_path):  # noqa: F811
    data = qcow2(tmp_path)
    glance = conv.glance('alice-alpha')
    img = glance.images.create(
        name=unique('sdk'), disk_format='qcow2', container_format='bare',
        **{'owner_specified.openstack.md5': hashlib.md5(data).hexdigest(),
           'owner_specified.openstack.sha256':
               hashlib.sha256(data).hexdigest(),
           'owner_specified.openstack.object': 'images/sdk'})
    glance.images.upload(img['id'], io.BytesIO(data), image_size=len(data))
    rows, warnings = conv.json('alice-alpha', 'image', 'transfer', img['id'],
                               '--mode', 'copy', '--to-cloud',
                               'bob-beta-conv')
    [row] = rows
    assert row['Changes'].startswith('copied, converted by the target: '
                                     'qcow2 -> raw, ')
    assert row['Changes'].endswith(
        ', dropped owner_specified.openstack.md5, owner_specified.openstack.'
        'object, owner_specified.openstack.sha256 (checksums of the data '
        'before conversion)')
    copy = glance3(conv, 'bob-beta-conv').images.get(row['Image ID'])
    assert [k for k in copy if k.startswith('owner_specified.')] == []
    assert [k for k in IN_PROGRESS if k in copy] == []
    assert copy['imageshare_converted'] == 'qcow2->raw'


def plant(cloud, src, **labels):
    """What a member of beta can make: an image with the copy's labels."""
    glance = cloud.glance('bob-beta')
    img = glance.images.create(
        name=unique('planted'), disk_format='raw', container_format='bare',
        imageshare_source_id=src['id'],
        imageshare_source_hash='sha512:' + src['os_hash_value'], **labels)
    glance.images.upload(img['id'], io.BytesIO(b'evil!'), image_size=5)
    return glance.images.get(img['id'])


def test_a_planted_look_alike_is_not_reused(cloud):
    src = source(cloud)
    beta = cloud.project('beta')
    for labels, why in (
            ({}, "Glance holds 5 bytes (sha512 %s) in it, not the source's "
                 "%d bytes (sha512 %s)"),
            ({'imageshare_converted': 'qcow2->raw',
              'imageshare_proof': 'f' * 64},
             "it is labelled converted, but its imageshare_proof is not "
             "one this user's runs made (a run on another machine, or "
             "labels written by someone else)")):
        planted = plant(cloud, src, **labels)
        if not labels:
            why %= (planted['os_hash_value'], src['size'],
                    src['os_hash_value'])
        rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                    src['id'], '--mode', 'copy',
                                    '--to-cloud', 'bob-beta')
        assert rows[0]['Changes'] == 'copied'
        assert rows[0]['Image ID'] != planted['id']
        assert warnings == [
            'Image %s in project %s is labelled a copy of %s but is not a '
            'proven one: %s; not reused, copying again'
            % (planted['id'], beta, src['id'], why)]
        # The planted image is beta's: left alone.
        assert cloud.glance('bob-beta').images.get(planted['id'])[
            'status'] == 'active'
        for done in (rows[0]['Image ID'], planted['id']):
            cloud.glance('bob-beta').images.delete(done)


def test_at_the_property_limit_minus_3_copies_into_the_same_glance(cloud):
    # RegionOne's Glance allows 128 properties per image (its default).
    props = {'p%03d' % i: 'v' for i in range(128 - 3)}
    src = cloud.make_image('alice-alpha', data=os.urandom(4096),
                           name=unique('full'), **props)
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                src['id'], '--mode', 'copy', '--to',
                                'alpha', '--name', unique('copy'))
    assert [r['Changes'] for r in rows] == ['copied'], warnings
    copy = cloud.glance('alice-alpha').images.get(rows[0]['Image ID'])
    assert sorted(k for k in copy if k.startswith('imageshare_')) == [
        'imageshare_source_cloud', 'imageshare_source_hash',
        'imageshare_source_id']
    assert all(copy[k] == 'v' for k in props)


def test_keep_id_into_another_region_refused_into_the_same(cloud):
    src = source(cloud)
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to-cloud', 'alice-alpha-r2',
                         '--keep-id')
    assert (rows[0]['Image ID'], rows[0]['Changes']) == (src['id'],
                                                         'copied')
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to-cloud', 'alice-alpha-r2',
                         '--keep-id')
    assert (rows[0]['Image ID'], rows[0]['Changes']) == (
        src['id'], 'none (verified copy exists)')
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta', '--keep-id', '-f',
                    'json')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "--keep-id cannot copy image %s into project %s: the target is the "
        "source's own Glance (region RegionOne), where an ID names one "
        "image only; copy without --keep-id, or into another region or "
        "cloud" % (src['id'], cloud.project('beta')),
        'Failed to copy 1 of 1 image/project pairs']
    assert copies(cloud, 'bob-beta', src['id']) == []
    # Taken in RegionTwo (alpha's copy, which beta cannot see).
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta-r2', '--keep-id', '-f',
                    'json')
    assert res.returncode == 1
    assert stderr_lines(res)[0].startswith(
        '--keep-id cannot copy image %s into project %s: the target Glance '
        'refuses the ID (' % (src['id'], cloud.project('beta')))
    assert copies(cloud, 'bob-beta-r2', src['id']) == []


def test_keep_id_into_an_import_only_region_of_another_project(cloud):
    # RegionTwo's Glance refuses direct upload by policy; beta's Glance
    # there cannot pull alpha's private image (glance-download).  Each
    # refused way in leaves the image queued for the next: glance-direct
    # stages into the image made with the source's ID, which is never
    # deleted and created again (Glance keeps a deleted image's ID).
    src = source(cloud)
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', src['id'],
                         '--mode', 'copy', '--to-cloud', 'bob-beta-r2',
                         '--keep-id')
    assert [(r['Image ID'], r['Changes']) for r in rows] == [
        (src['id'], 'copied')]
    [copy] = copies(cloud, 'bob-beta-r2', src['id'])
    assert (copy['id'], copy['owner'], copy['status']) == (
        src['id'], cloud.project('beta'), 'active')
    assert copy['size'] == src['size']
    assert copy['imageshare_source_hash'].endswith(src['os_hash_value'])
