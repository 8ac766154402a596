"""Nothing the user asked for is silently ignored (issue 18, section 1).

Each test runs the real ``openstack`` CLI against the local cloud and
checks the cloud afterwards: rows and warnings describe the image as it
is after the run.
"""

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.plugin]


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


def test_status_after_revoke_all_unshare_says_only_what_holds(cloud):
    img = cloud.make_image('alice-alpha')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to-cloud',
               'bob-beta')
    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'revoke',
                         img['id'], '--all', '--unshare')
    assert [r['Result'] for r in rows] == ['removed',
                                           'visibility shared->private']
    data, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                img['id'])
    assert (data['visibility'], data['members']) == ('private', [])
    assert warnings == [
        "Image %s is private: no other project can use it. Glance does not "
        "list the members of a private image: those it had when it was "
        "made private, if any, get their access back if it is set 'shared' "
        "again." % img['id']]
    # And it is so: shared again, the image has no member back.
    admin = cloud.glance('admin')
    admin.images.update(img['id'], visibility='shared')
    assert list(admin.image_members.list(img['id'])) == []


def test_a_mistyped_to_cloud_names_the_closest_entry(cloud):
    img = cloud.make_image('alice-alpha')
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'bob-betta')
    assert res.returncode == 1 and res.stdout == ''
    [line] = stderr_lines(res)
    assert line.startswith("Cloud 'bob-betta' is not an entry of %s (did "
                           "you mean 'bob-beta'?); its entries: admin, "
                           "alice-alpha, " % cloud.clouds_yaml), line
    assert cloud.glance('admin').images.get(img['id'])[
        'visibility'] == 'private'


def test_a_failed_command_prints_nothing_on_stdout(cloud):
    for fmt in ((), ('-f', 'json'), ('-f', 'yaml'), ('-f', 'csv')):
        res = cloud.run('alice-alpha', 'image', 'transfer', 'no-such-image',
                        '--to-cloud', 'bob-beta', *fmt)
        assert (res.returncode, res.stdout) == (1, ''), fmt
        assert stderr_lines(res)[-1] == (
            'Failed to transfer 1 of 1 image/project pairs')


def copies_of(cloud, source_id, project='alpha'):
    return [i['id'] for i in cloud.glance('admin').images.list(filters={
        'owner': cloud.project(project), 'imageshare_source_id': source_id})]


def test_a_same_named_copy_beside_its_source_is_refused(cloud):
    img = cloud.make_image('alice-alpha', name=unique('inplace'))
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'], '--mode',
                    'copy', '--to-cloud', 'carol-alpha')
    assert (res.returncode, res.stdout) == (1, '')
    assert stderr_lines(res) == [
        "Image %s: project alpha (%s) owns it in this same Glance; a copy "
        "there would be a second image named '%s' beside it, and that name "
        "would no longer find either: give --name <another name>, or a "
        "--to-cloud entry of another region" % (
            img['id'], cloud.project('alpha'), img['name']),
        'Failed to copy 1 of 1 image/project pairs']
    assert copies_of(cloud, img['id']) == []
    name = unique('beside')
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--mode', 'copy', '--to-cloud', 'carol-alpha',
                         '--name', name)
    assert (rows[0]['Image Name'], rows[0]['Changes']) == (name, 'copied')
    assert copies_of(cloud, img['id']) == [rows[0]['Image ID']]


def test_two_clouds_of_one_project_are_refused_before_any_write(cloud):
    img = cloud.make_image('alice-alpha')
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'bob-beta', '--to-cloud', 'carol-beta')
    assert (res.returncode, res.stdout) == (1, '')
    assert stderr_lines(res) == [
        "Clouds 'bob-beta' and 'carol-beta' are both scoped to project beta "
        "(%s): which one's credentials (and region) should act for it is "
        "ambiguous; give one --to-cloud per project, and run once per "
        "region to copy into several" % cloud.project('beta')]
    assert cloud.glance('admin').images.get(img['id'])[
        'visibility'] == 'private'


def test_owner_mode_to_a_member_leaves_no_membership_of_the_owner(cloud):
    img = cloud.make_image('alice-alpha')
    beta, gamma = cloud.project('beta'), cloud.project('beta', 'other')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to-cloud',
               'bob-beta', '--to-cloud', 'dave-beta')
    # The dry run plans the removal: a step of its own, nothing written.
    rows, _ = cloud.json('admin', 'image', 'transfer', img['id'], '--mode',
                         'owner', '--to', beta, '--dry-run')
    assert rows[0]['Changes'] == (
        'plan: owner %s->%s, membership of the new owner removed'
        % (cloud.project('alpha'), beta))
    assert sorted(members_of(cloud, img['id'])) == sorted([beta, gamma])
    rows, warnings = cloud.json('admin', 'image', 'transfer', img['id'],
                                '--mode', 'owner', '--to', beta)
    assert rows[0]['Changes'] == (
        'owner %s->%s, membership of the new owner removed'
        % (cloud.project('alpha'), beta))
    assert warnings[1:] == [
        'Image %s keeps its members, who keep access: %s.' % (
            img['id'], gamma)]
    assert members_of(cloud, img['id']) == [gamma]
    data, status_warnings = cloud.json('bob-beta', 'image', 'share',
                                       'status', img['id'])
    assert (data['caller_role'], [m['project_id'] for m in data[
        'members']]) == ('owner', [gamma])


def members_of(cloud, image_id):
    return [m['member_id'] for m in
            cloud.glance('admin').image_members.list(image_id)]


def test_a_consumer_copy_named_as_its_source_is_said(cloud):
    img = cloud.make_image('alice-alpha', name=unique('shared'))
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to-cloud',
               'bob-beta')
    beta = cloud.project('beta')
    rows, warnings = cloud.json('bob-beta', 'image', 'transfer', img['id'],
                                '--mode', 'copy', '--to', beta)
    assert warnings == [
        "Image %s: its copy %s in your project beta (%s) has the same name "
        "'%s', in the same Glance: that name now finds both (use the IDs, "
        "or give --name)." % (img['id'], rows[0]['Image ID'], beta,
                              img['name'])]
