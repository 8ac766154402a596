"""Nothing the user asked for is silently ignored (issue 18, section 1).

Each test runs the real ``openstack`` CLI against the local cloud and
checks the cloud afterwards: rows and warnings describe the image as it
is after the run.
"""

from tests.functional.conftest import unique


def test_copy_rerun_brings_the_verified_copy_to_name_and_visibility(cloud):
    img = cloud.make_image('alice-alpha', name=unique('src'))
    first, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                          '--mode', 'copy', '--to-cloud', 'bob-beta')
    copy_id = first[0]['Image ID']
    new_name = unique('renamed')
    again, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                          '--mode', 'copy', '--to-cloud', 'bob-beta',
                          '--name', new_name, '--visibility', 'shared')
    assert (again[0]['Image ID'], again[0]['Image Name'],
            again[0]['Changes']) == (
        copy_id, new_name, "verified copy exists, name '%s'->'%s', "
        "visibility 'private'->'shared'" % (img['name'], new_name))
    copy = cloud.glance('admin').images.get(copy_id)
    assert (copy['name'], copy['visibility']) == (new_name, 'shared')
    third, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                          '--mode', 'copy', '--to-cloud', 'bob-beta',
                          '--name', new_name)
    assert third[0]['Changes'] == 'none (verified copy exists)'
    # Without --visibility a re-run leaves the copy's visibility alone.
    assert cloud.glance('admin').images.get(copy_id)[
        'visibility'] == 'shared'
