"""The kinds of image clouds make, built as Nova and Cinder build them.

- A snapshot of a volume-backed server: Nova's ``snapshot_volume_backed``
  creates the image with ``block_device_mapping``, ``bdm_v2`` and
  ``root_device_name``, and force-activates it with 0 bytes of raw/bare.
- The image of an encrypted volume: Cinder's upload-to-image stores the
  (encrypted) data with ``cinder_encryption_key_id`` and
  ``cinder_encryption_key_deletion_policy``.
"""

import io
import json
import os
import uuid

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.plugin]

SNAP = str(uuid.uuid4())
KEY = str(uuid.uuid4())


def volume_backed(cloud, visibility='private'):
    bdm = [{'source_type': 'snapshot', 'destination_type': 'volume',
            'snapshot_id': SNAP, 'boot_index': 0, 'device_name': '/dev/vda',
            'delete_on_termination': False, 'volume_size': 1,
            'guest_format': None, 'disk_bus': 'virtio',
            'device_type': 'disk', 'no_device': None, 'tag': None,
            'image_id': None, 'volume_id': None}]
    return cloud.make_image(
        'alice-alpha', visibility=visibility, data=b'',
        name=unique('vbsnap'), block_device_mapping=json.dumps(bdm),
        bdm_v2='True', root_device_name='/dev/vda', image_type='snapshot',
        instance_uuid=str(uuid.uuid4()))


def encrypted(cloud):
    return cloud.make_image(
        'alice-alpha', visibility='private', data=os.urandom(4096),
        name=unique('encvol'), cinder_encryption_key_id=KEY,
        cinder_encryption_key_deletion_policy='on_image_deletion')


def state(cloud, image_id):
    """The image as the admin sees it, members included."""
    glance = cloud.glance('admin')
    img = glance.images.get(image_id)
    members = ([m['member_id'] for m in glance.image_members.list(image_id)]
               if img['visibility'] == 'shared' else None)
    return dict(img, members=members)


def copies(cloud, cloud_name, source_id):
    return list(cloud.glance(cloud_name).images.list(
        filters={'imageshare_source_id': source_id}))


def transfer(cloud, image, *args):
    return cloud.run('alice-alpha', 'image', 'transfer', image['id'],
                     *args, '-f', 'json')


def test_status_shows_the_kind_and_what_goes_wrong(cloud):
    img = volume_backed(cloud)
    assert img['size'] == 0 and img['status'] == 'active'
    data, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                img['id'])
    assert data['kind'] == ['volume-backed']
    alpha = cloud.project('alpha')
    assert warnings[0] == (
        "Image %s is a snapshot of a volume-backed server "
        "(block_device_mapping and bdm_v2 set): its data is not in Glance "
        "but in Cinder snapshot(s) %s of project alpha (%s), which another "
        "project cannot read: it can see the image but not boot from it; "
        "instead make a volume from the snapshot and upload it as an image "
        "('openstack volume create --snapshot %s --size <GiB> <volume>', "
        "then 'openstack image create --volume <volume> <image>') and "
        "transfer that image, or move the volume itself ('openstack volume "
        "transfer request create <volume>', accepted in the other project)."
        % (img['id'], SNAP, alpha, SNAP))
    res = cloud.run('alice-alpha', 'image', 'share', 'status', img['id'],
                    '-f', 'value', '-c', 'kind')
    # One spelling in every format: the keyword, as in JSON.
    assert res.stdout.strip() == 'volume-backed'
    assert data['risks'][0] == {'code': 'volume-backed',
                                'sentence': warnings[0]}
    plain, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                 encrypted(cloud)['id'])
    assert plain['kind'] == ['encrypted']
    assert warnings[0].startswith('Image %s is the image of an encrypted '
                                  'volume: its key %s stays in the key '
                                  'manager of project alpha (%s)'
                                  % (plain['id'], KEY, alpha))
    disk = cloud.make_image('alice-alpha')
    data, _ = cloud.json('alice-alpha', 'image', 'share', 'status',
                         disk['id'])
    assert data['kind'] == ['disk']
    # One spelling in every format (it read 'plain disk image' as text).
    for fmt, shown in (('value', 'disk\n'), ('shell', 'kind="disk"\n'),
                       ('yaml', 'kind:\n- disk\n')):
        res = cloud.run('alice-alpha', 'image', 'share', 'status',
                        disk['id'], '-f', fmt, '-c', 'kind')
        assert (res.returncode, res.stdout) == (0, shown), res.stderr
    res = cloud.run('alice-alpha', 'image', 'share', 'status', disk['id'],
                    '-f', 'table', '-c', 'kind')
    assert '| kind  | disk  |' in res.stdout.splitlines(), res.stdout


def test_another_projects_snapshot_id_is_data_in_the_command(cloud):
    # bob writes the block_device_mapping; alice, a member, is shown the
    # command: the snapshot ID in it quoted, the placeholders kept, and
    # stderr's line the same sentence as the risks' row; a snapshot ID
    # that is not a string is no snapshot (it was a crash).
    evil = "x $(touch pwned) '; id #"
    img = cloud.make_image(
        'bob-beta', visibility='shared', data=b'', name=unique('vbevil'),
        block_device_mapping=json.dumps([{'snapshot_id': evil},
                                         {'snapshot_id': {'not': 'an ID'}}]),
        bdm_v2='True')
    cloud.glance('bob-beta').image_members.create(img['id'],
                                                  cloud.project('alpha'))
    data, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                img['id'])
    [risk] = [r for r in data['risks'] if r['code'] == 'volume-backed']
    assert ("('openstack volume create --snapshot 'x $(touch pwned) '\"'\"'"
            "; id #' --size <GiB> <volume>', then 'openstack image create "
            "--volume <volume> <image>')") in risk['sentence']
    assert risk['sentence'] in warnings


@pytest.mark.parametrize('mode', ['share', 'copy'])
def test_volume_backed_refused_nothing_changed(cloud, mode):
    img = volume_backed(cloud)
    before = state(cloud, img['id'])
    res = transfer(cloud, img, '--mode', mode, '--to-cloud', 'bob-beta')
    assert res.returncode == 1, res.stderr
    assert res.stdout == ''    # nothing worked: nothing on stdout
    lines = stderr_lines(res)
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        'Image %s is a snapshot of a volume-backed server '
        '(block_device_mapping and bdm_v2 set): its data is Cinder '
        'snapshot(s) %s of project alpha' % (img['id'], SNAP))
    assert ("'openstack volume create --snapshot %s --size <GiB> <volume>'"
            % SNAP) in lines[0]
    assert "'openstack volume transfer request create <volume>'" in lines[0]
    assert 'nothing was changed' in lines[0]
    assert ('--allow-volume-backed' in lines[0]) == (mode == 'share')
    verb = 'transfer' if mode == 'share' else 'copy'
    assert lines[1] == 'Failed to %s 1 of 1 image/project pairs' % verb
    assert state(cloud, img['id']) == before
    assert copies(cloud, 'bob-beta', img['id']) == []


def test_volume_backed_shared_when_allowed(cloud):
    img = volume_backed(cloud)
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to-cloud', 'bob-beta',
                                '--allow-volume-backed')
    assert [r['Member Status'] for r in rows] == ['accepted']
    assert warnings[0] == (
        'Image %s is a snapshot of a volume-backed server, shared anyway '
        '(--allow-volume-backed): it boots in another project only if that '
        'project can read Cinder snapshot(s) %s itself.' % (img['id'], SNAP))
    assert cloud.glance('bob-beta').images.get(img['id'])['id'] == img['id']


def test_allow_volume_backed_is_for_share_mode_only(cloud):
    img = volume_backed(cloud)
    res = transfer(cloud, img, '--mode', 'copy', '--to-cloud', 'bob-beta',
                   '--allow-volume-backed')
    assert res.returncode == 2
    assert stderr_lines(res)[-1] == (
        'openstack image transfer: error: --allow-volume-backed applies to '
        '--mode share only (a copy of a volume-backed snapshot would be 0 '
        'bytes that boot nowhere)')
    assert copies(cloud, 'bob-beta', img['id']) == []


@pytest.mark.parametrize('mode', ['share', 'copy'])
def test_encrypted_refused_then_allowed(cloud, mode):
    img = encrypted(cloud)
    before = state(cloud, img['id'])
    res = transfer(cloud, img, '--mode', mode, '--to-cloud', 'bob-beta')
    assert res.returncode == 1
    lines = stderr_lines(res)
    assert lines[0] == (
        "Image %s is the image of an encrypted volume: its key %s stays in "
        "the key manager of project alpha (%s), so a volume made from it in "
        "another project cannot be opened unless that project's users are "
        "granted read access to the secret (Barbican: 'openstack acl user "
        "add --user <user-id> --operation-type read <secret-href>', the "
        "href ending in /secrets/%s); nothing was changed. Grant that "
        "access, then give --allow-encrypted"
        % (img['id'], KEY, cloud.project('alpha'), KEY))
    assert state(cloud, img['id']) == before
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--mode', mode, '--to-cloud',
                                'bob-beta', '--allow-encrypted')
    assert len(rows) == 1
    assert warnings[0].startswith(
        'Image %s is the image of an encrypted volume, given to project '
        'beta (%s) anyway (--allow-encrypted): its key %s stays'
        % (img['id'], cloud.project('beta'), KEY))
    seen = (cloud.glance('bob-beta').images.get(rows[0]['Image ID'])
            if mode == 'copy' else state(cloud, img['id']))
    if mode == 'copy':
        assert seen['cinder_encryption_key_id'] == KEY
    else:
        assert seen['members'] == [cloud.project('beta')]


def test_encrypted_copied_within_its_project_to_another_region(cloud):
    img = encrypted(cloud)
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--mode', 'copy', '--to-cloud',
                                'alice-alpha-r2')
    [row] = rows
    assert row['Changes'] == 'copied'
    assert warnings == [
        'Image %s is the image of an encrypted volume, copied within '
        'project alpha (%s): a volume made from the copy opens only if the '
        "key manager of the target's region holds its key %s too."
        % (img['id'], cloud.project('alpha'), KEY)]


def make(cloud, who, fmt, visibility='private', **props):
    """An image of ``fmt`` (aki, ari, ami) uploaded as ``who`` would."""
    glance = cloud.glance(who)
    img = glance.images.create(name=unique(fmt), disk_format=fmt,
                               container_format=fmt, visibility=visibility,
                               **props)
    data = os.urandom(2048)
    glance.images.upload(img['id'], io.BytesIO(data), image_size=len(data))
    return glance.images.get(img['id'])


def ami(cloud, kernel=None, ramdisk=None):
    """An AMI with its AKI and ARI, all alice's unless given."""
    kernel = kernel or make(cloud, 'alice-alpha', 'aki')
    ramdisk = ramdisk or make(cloud, 'alice-alpha', 'ari')
    img = make(cloud, 'alice-alpha', 'ami', kernel_id=kernel['id'],
               ramdisk_id=ramdisk['id'])
    return img, kernel, ramdisk


def test_companions_shared_with_their_image(cloud):
    img, kernel, ramdisk = ami(cloud)
    data, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                img['id'])
    assert data['kind'] == ['companions']
    assert warnings[0] == (
        'Image %s boots only with its companion images (kernel_id %s, '
        'ramdisk_id %s): a project that can read the image but not them '
        'cannot boot it; share or copy them with it.'
        % (img['id'], kernel['id'], ramdisk['id']))
    beta = cloud.project('beta')
    plan, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to-cloud', 'bob-beta', '--dry-run')
    mark = 'companion of %s' % img['id']
    assert [(r['Image ID'], r['Changes'].split(', ')[0]) for r in plan] == [
        (kernel['id'], 'plan: ' + mark), (ramdisk['id'], 'plan: ' + mark),
        (img['id'], 'plan: visibility private->shared')]
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to-cloud', 'bob-beta')
    assert [(r['Image ID'], r['Project ID'], r['Member Status'],
             r['Changes']) for r in rows] == [
        (kernel['id'], beta, 'accepted', mark + ', visibility '
         'private->shared, member added, accepted'),
        (ramdisk['id'], beta, 'accepted', mark + ', visibility '
         'private->shared, member added, accepted'),
        (img['id'], beta, 'accepted', 'visibility private->shared, member '
         'added, accepted')]
    bob = cloud.glance('bob-beta')
    for one in (img, kernel, ramdisk):
        assert bob.images.get(one['id'])['id'] == one['id']
        assert b''.join(bob.images.data(one['id'])) == b''.join(
            cloud.glance('alice-alpha').images.data(one['id']))
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to-cloud', 'bob-beta')
    assert [r['Changes'] for r in rows] == [
        'none (%s)' % mark, 'none (%s)' % mark, 'none']


def test_companion_readable_needs_nothing_unreadable_fails(cloud):
    public = make(cloud, 'admin', 'aki', visibility='public')
    hidden = make(cloud, 'admin', 'ari')
    img, _, _ = ami(cloud, kernel=public, ramdisk=hidden)
    before = state(cloud, img['id'])
    res = transfer(cloud, img, '--to-cloud', 'bob-beta')
    assert res.returncode == 1
    assert res.stdout == ''    # nothing worked: nothing on stdout
    lines = stderr_lines(res)
    assert lines == [
        'Image %s, project beta (%s): it boots only with its ramdisk_id %s, '
        'which that project cannot read and your project does not own (nor '
        'may it read it), so it could not boot there; nothing was changed '
        'for that project. Ask the owner of %s to share it with beta (%s)'
        % (img['id'], cloud.project('beta'), hidden['id'], hidden['id'],
           cloud.project('beta')),
        'Failed to transfer 1 of 1 image/project pairs']
    assert state(cloud, img['id']) == before
    # Once bob's project can read it, only the image itself is shared.
    admin = cloud.glance('admin')
    admin.images.update(hidden['id'], visibility='shared')
    admin.image_members.create(hidden['id'], cloud.project('beta'))
    cloud.glance('bob-beta').image_members.update(
        hidden['id'], cloud.project('beta'), 'accepted')
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to-cloud', 'bob-beta')
    assert [r['Image ID'] for r in rows] == [img['id']]


def share_set(cloud, image, *args):
    # alice sees no project but her own: she names beta by ID.
    return cloud.run('alice-alpha', 'image', 'share', 'set', image['id'],
                     '--member', cloud.project('beta'), *args, '-f', 'json')


@pytest.mark.parametrize('kind', ['volume-backed', 'encrypted'])
def test_share_set_refuses_what_transfer_refuses(cloud, kind):
    make_one, allow = {
        'volume-backed': (volume_backed, '--allow-volume-backed'),
        'encrypted': (encrypted, '--allow-encrypted')}[kind]
    img = make_one(cloud)
    before = state(cloud, img['id'])
    refused = transfer(cloud, img, '--to-cloud', 'bob-beta', '--dry-run')
    said = []
    for dry in (['--dry-run'], []):
        res = share_set(cloud, img, *dry)
        assert res.returncode == 1, res.stderr
        assert res.stdout == ''
        said.append(stderr_lines(res))
        assert state(cloud, img['id']) == before
    # One line, the dry run's as the run's, transfer's own sentence.
    assert said[0] == said[1] and len(said[0]) == 1, said
    assert said[0][0] == stderr_lines(refused)[0]
    assert allow in said[0][0]
    rows, warnings = cloud.json('alice-alpha', 'image', 'share', 'set',
                                img['id'], '--member', cloud.project('beta'),
                                allow)
    # alice has no role in beta: the member is added, pending.
    assert [(r['Project ID'], r['After'], r['Diff']) for r in rows] == [
        (cloud.project('beta'), 'pending',
         'visibility private->shared, added')]
    assert any('(%s)' % allow in w for w in warnings), warnings
    assert state(cloud, img['id'])['members'] == [cloud.project('beta')]


def test_share_set_refuses_an_image_whose_companion_it_cannot_read(cloud):
    img, kernel, ramdisk = ami(cloud)
    ids = (img['id'], kernel['id'], ramdisk['id'])
    before = {i: state(cloud, i) for i in ids}
    beta = cloud.project('beta')
    for dry in (['--dry-run'], []):
        res = share_set(cloud, img, *dry)
        assert res.returncode == 1, res.stderr
        assert res.stdout == ''
        assert stderr_lines(res)[0] == (
            "Image %s, project %s: it boots only with its kernel_id %s "
            "and ramdisk_id %s, which that project cannot read, so it could "
            "not boot there; nothing was changed. 'openstack image transfer "
            "%s --to %s --no-accept' shares the image with its companions"
            % (img['id'], beta, kernel['id'], ramdisk['id'], img['id'],
               beta))
        assert {i: state(cloud, i) for i in before} == before
    # The command it names (alice has no role in beta: members pending, as
    # share set leaves them) gives both; share set then has nothing to do.
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to', beta, '--no-accept')
    assert [r['Member Status'] for r in rows] == ['pending'] * 3
    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'set', img['id'],
                         '--member', beta)
    assert [r['Diff'] for r in rows] == ['unchanged']
