"""What a finished copy carries, and what a re-run may delete."""

import os

from tests.functional.conftest import unique

SOURCE_ID = 'imageshare_source_id'


def copies(cloud, cloud_name, source_id):
    return list(cloud.glance(cloud_name).images.list(
        filters={SOURCE_ID: source_id}))


def source(cloud):
    return cloud.make_image('alice-alpha', data=os.urandom(64 << 10),
                            name=unique('src'), visibility='private')


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
