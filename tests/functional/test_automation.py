"""Batches at scale on the real local cloud: --parallel, --tag/--property
selection, --to-domain, and ``image share list --parallel``."""

import uuid

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique


def member_ids(cloud, image_id):
    return {m['member_id']: m['status']
            for m in cloud.glance('admin').image_members.list(image_id)}


def test_parallel_batch_one_failing_pair_rows_in_order(cloud):
    glance = cloud.glance('admin')
    imgs = [cloud.make_image('admin', name=unique('par%02d' % i))
            for i in range(10)]
    projects = [cloud.project('alpha'), cloud.project('beta'),
                cloud.project('beta', 'other')]
    # Image 4 holds 126 members already; the cloud's limit is 128, so of
    # its three pairs exactly one (whichever comes last) is refused.
    full = imgs[4]['id']
    glance.images.update(full, visibility='shared')
    dummies = {uuid.uuid4().hex for _ in range(126)}
    for d in dummies:
        glance.image_members.create(full, d)
    args = ['image', 'transfer'] + [i['id'] for i in imgs]
    for p in projects:
        args += ['--to', p]
    res = cloud.run('admin', *args, '--parallel', '4', '-f', 'value', '-c',
                    'Image ID', '-c', 'Project ID', '-c', 'Member Status',
                    '-c', 'Changes')
    assert res.returncode == 1, res.stderr
    rows = [line.split(' ', 3) for line in res.stdout.splitlines()]
    # One row per pair, in the order of the arguments.
    assert [(r[0], r[1]) for r in rows] == [
        (i['id'], p) for i in imgs for p in projects]
    failed = [r for r in rows if r[3] == 'failed']
    assert len(failed) == 1 and failed[0][0] == full, res.stderr
    assert all(r[2] == 'accepted' for r in rows if r not in failed)
    err = stderr_lines(res)
    assert err[-1] == 'Failed to transfer 1 of 30 image/project pairs'
    assert ("Image %s already has 128 members, this cloud's limit; revoke "
            "unused members first ('openstack image share revoke')"
            % full) in err
    # The refused pair left nothing behind; the other two are members.
    members = member_ids(cloud, full)
    assert set(members) == dummies | {p for p in projects
                                      if p != failed[0][1]}
    for img in imgs:
        if img['id'] != full:
            assert member_ids(cloud, img['id']) == {
                p: 'accepted' for p in projects}


def test_tag_and_property_select_own_images(cloud):
    tag = unique('ci')
    beta = cloud.project('beta')
    web = [cloud.make_image('alice-alpha', tags=[tag, 'x'], osc_team='web')
           for _ in range(2)]
    cloud.make_image('alice-alpha', tags=[tag], osc_team='db')
    cloud.make_image('admin', tags=[tag], osc_team='web',
                     visibility='public')
    want = sorted(web, key=lambda i: (i['name'], i['id']))
    rows, warnings = cloud.json(
        'alice-alpha', 'image', 'transfer', '--tag', tag, '--tag', 'x',
        '--property', 'osc_team=web', '--to', beta, '--no-accept',
        '--dry-run')
    assert [r['Image ID'] for r in rows] == [i['id'] for i in want]
    assert ('2 image(s) match --tag %s, --tag x, --property osc_team=web: '
            '%s' % (tag, ', '.join('%s (%s)' % (i['name'], i['id'])
                                   for i in want))) in warnings
    for i in web:
        assert cloud.glance('admin').images.get(i['id'])[
            'visibility'] == 'private'
    rows, _ = cloud.json(
        'alice-alpha', 'image', 'transfer', '--tag', tag, '--property',
        'osc_team=web', '--to', beta, '--no-accept')
    assert [(r['Image ID'], r['Member Status']) for r in rows] == [
        (i['id'], 'pending') for i in want]
    res = cloud.run('alice-alpha', 'image', 'transfer', '--tag', tag,
                    '--property', 'osc_team=nobody', '--to', beta)
    assert res.returncode == 1
    assert stderr_lines(res) == [
        'No image of project alpha matches --tag %s, --property '
        'osc_team=nobody' % tag]


def test_to_domain_targets_its_enabled_projects(cloud):
    keystone = cloud.session('admin')
    ident = {'endpoint_filter': {'service_type': 'identity',
                                 'interface': 'public'}}
    name = unique('dom')
    domain = keystone.post('/domains', json={'domain': {'name': name}},
                           **ident).json()['domain']
    made = []
    for pname, enabled in (('one', True), ('two', True), ('off', False)):
        made.append(keystone.post('/projects', json={'project': {
            'name': pname, 'domain_id': domain['id'],
            'enabled': enabled}}, **ident).json()['project'])
    img = cloud.make_image('admin')
    rows, _ = cloud.json('admin', 'image', 'transfer', img['id'],
                         '--to-domain', name, '--parallel', '2')
    got = {(r['Project ID'], r['Project Name'], r['Member Status'])
           for r in rows}
    assert got == {(p['id'], p['name'], 'accepted') for p in made[:2]}
    assert member_ids(cloud, img['id']) == {p['id']: 'accepted'
                                            for p in made[:2]}
    # Without the right to list a domain's projects: one clear line.
    mine = cloud.make_image('alice-alpha')
    res = cloud.run('alice-alpha', 'image', 'transfer', mine['id'],
                    '--to-domain', 'Default', '--no-accept')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Project alpha may not list the projects of domain 'Default'; "
        "--to-domain needs that right (an admin's, or a reader's of that "
        "domain): name the projects with --to instead"]
    assert cloud.glance('admin').images.get(mine['id'])[
        'visibility'] == 'private'


def test_share_list_parallel_same_rows_as_one_at_a_time(cloud):
    img = cloud.make_image('alice-alpha')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to',
               cloud.project('beta'), '--no-accept')
    one, _ = cloud.json('alice-alpha', 'image', 'share', 'list',
                        '--parallel', '1')
    four, _ = cloud.json('alice-alpha', 'image', 'share', 'list',
                         '--parallel', '4')
    assert one == four and img['id'] in [r['Image ID'] for r in one]
    res = cloud.run('alice-alpha', 'image', 'share', 'list', '--parallel',
                    '11')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        '--parallel must be between 1 and 10 (the connections a session '
        'keeps open per host)']


def test_parallel_copy_and_owner_modes(cloud):
    beta = cloud.project('beta')
    imgs = [cloud.make_image('alice-alpha', data=bytes([i]) * 8192)
            for i in range(3)]
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer',
                         *[i['id'] for i in imgs], '--mode', 'copy',
                         '--to-cloud', 'bob-beta', '--parallel', '3')
    assert [r['Source ID'] for r in rows] == [i['id'] for i in imgs]
    glance = cloud.glance('admin')
    for r, img in zip(rows, imgs):
        copy = glance.images.get(r['Image ID'])
        assert (copy['owner'], copy['checksum']) == (beta, img['checksum'])
    admin_imgs = [cloud.make_image('admin') for _ in range(3)]
    rows, _ = cloud.json('admin', 'image', 'transfer',
                         *[i['id'] for i in admin_imgs], '--mode', 'owner',
                         '--to', beta, '--parallel', '3')
    assert [r['Image ID'] for r in rows] == [i['id'] for i in admin_imgs]
    assert [glance.images.get(i['id'])['owner'] for i in admin_imgs] == [
        beta] * 3
