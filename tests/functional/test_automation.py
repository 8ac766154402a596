"""Batches at scale on the real local cloud: --parallel, --tag/--property
selection, --to-domain, and ``image share list --parallel``."""

import json
import uuid

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique
from tests.functional.test_credentials import policy
from tests.functional.test_credentials import role_error

pytestmark = [pytest.mark.plugin]

ACCEPT_REFUSED = role_error('beta', 'accept or reject an image',
                            'modify_member')


def member_ids(cloud, image_id):
    return {m['member_id']: m['status']
            for m in cloud.glance('admin').image_members.list(image_id)}


@pytest.mark.policy
def test_parallel_batch_failures_after_writes_rolled_back(cloud):
    """Failures after a write are undone, each on its own, in parallel.

    10 images x 3 projects, 4 pairs at a time, the other pairs finish.
    Image 6 is private and hides an earlier member: the run sets it
    shared (a write), meets that member, and sets it private again (all
    three of its pairs fail, under either policy).  One target is
    beta through ``rita-beta``, a reader there: under the secure-RBAC
    defaults Glance lets the owner add beta, then refuses rita's accept
    (modify_member), so each of those pairs removes the member it added;
    under the legacy policies a reader may accept, and those pairs pass.
    """
    glance = cloud.glance('admin')
    secure = policy(cloud) == 'secure'
    imgs = [cloud.make_image('admin', name=unique('par%02d' % i))
            for i in range(10)]
    hiding = imgs[6]['id']
    earlier = uuid.uuid4().hex
    glance.images.update(hiding, visibility='shared')
    glance.image_members.create(hiding, earlier)
    glance.images.update(hiding, visibility='private')
    alpha, beta = cloud.project('alpha'), cloud.project('beta')
    other = cloud.project('beta', 'other')
    projects = [beta, alpha, other]     # --to-cloud targets come first
    args = ['image', 'transfer'] + [i['id'] for i in imgs]
    res = cloud.run('admin', *args, '--to-cloud', 'rita-beta', '--to',
                    alpha, '--to', other, '--parallel', '4', '-f', 'value',
                    '-c', 'Image ID', '-c', 'Project ID', '-c',
                    'Member Status', '-c', 'Changes')
    assert res.returncode == 1, res.stderr
    rows = [line.split(' ', 3) for line in res.stdout.splitlines()]
    failed = [(i['id'], p) for i in imgs for p in projects
              if i['id'] == hiding or (p == beta and secure)]
    # One row per pair done, in the order of the arguments; a failed pair
    # has none (its error is on stderr).
    assert [(r[0], r[1]) for r in rows] == [
        (i['id'], p) for i in imgs for p in projects
        if (i['id'], p) not in failed]
    want = {}
    for i in imgs:
        done = [p for p in projects if (i['id'], p) not in failed]
        for p in done:
            # The image's own change (it stays shared) is named in the row
            # of its first pair done.
            want[i['id'], p] = ['accepted', (
                'visibility private->shared, member added, accepted'
                if p == done[0] else 'member added, accepted')]
    assert {(r[0], r[1]): r[2:] for r in rows} == want, res.stdout
    err = stderr_lines(res)
    hidden = ("Image %s was private with earlier members, whom setting it "
              "shared gave their access back: %s pending; it is private "
              "again and was not shared. Give --revoke-earlier-members to "
              "remove them, or --keep-earlier-members to keep them"
              % (hiding, earlier))
    # One translated line per failed pair, in the order of the pairs,
    # then the summary.
    errors = [hidden if i == hiding else ACCEPT_REFUSED for i, p in failed]
    assert err[-1 - len(errors):] == errors + [
        'Failed to transfer %d of 30 image/project pairs' % len(errors)]
    assert len(errors) == (12 if secure else 3)
    # As admin: the failing pairs left no member, the others accepted;
    # the image whose pairs all failed is private again, its earlier
    # member untouched (and hidden again).
    for img in imgs:
        got = glance.images.get(img['id'])
        if img['id'] == hiding:
            assert got['visibility'] == 'private'
            glance.images.update(hiding, visibility='shared')
            assert member_ids(cloud, hiding) == {earlier: 'pending'}
            continue
        assert got['visibility'] == 'shared'
        assert member_ids(cloud, img['id']) == {
            p: 'accepted' for p in projects if p != beta or not secure}


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
    # --exclude (the admin's Default has service): by name, or
    # domain/name; the dry run shows they are not there.
    other = cloud.make_image('admin')
    res = cloud.run('admin', 'image', 'transfer', other['id'],
                    '--to-domain', 'Default', '--exclude', 'service',
                    '--exclude', 'Default/alpha', '--dry-run', '-f', 'json')
    assert res.returncode == 0, res.stderr
    targets = {r['Project Name'] for r in json.loads(res.stdout)}
    assert 'beta' in targets and not targets & {'service', 'alpha', 'admin'}
    assert "Left out of domain 'Default' (--exclude): service (%s), alpha " \
        "(%s)" % (cloud.project('service'), cloud.project('alpha')) in \
        stderr_lines(res), res.stderr
    # A typo is caught: one line, nothing written.
    res = cloud.run('admin', 'image', 'transfer', other['id'],
                    '--to-domain', name, '--exclude', 'one', '--exclude',
                    'tow', '-f', 'json')
    assert (res.returncode, res.stdout, stderr_lines(res)) == (1, '', [
        "--exclude 'tow': no enabled project of domain '%s' has this ID or "
        "name; nothing was changed (give a project ID, a name, or "
        "%s/<name>)" % (name, name)])
    # Every project of the domain excluded: said as such, nothing written.
    res = cloud.run('admin', 'image', 'transfer', other['id'],
                    '--to-domain', name, '--exclude', 'one', '--exclude',
                    'two', '-f', 'json')
    assert (res.returncode, res.stdout, stderr_lines(res)) == (1, '', [
        "Domain '%s' has no enabled project to share with but those of "
        "--exclude (one (%s), two (%s)): no target project; nothing was "
        "changed" % (name, made[0]['id'], made[1]['id'])])
    assert cloud.glance('admin').images.get(other['id'])[
        'visibility'] == 'private'
    # Without the right to list a domain's projects: one clear line.
    mine = cloud.make_image('alice-alpha')
    res = cloud.run('alice-alpha', 'image', 'transfer', mine['id'],
                    '--to-domain', 'Default', '--no-accept')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Project alpha may not list the projects of domain 'Default'; "
        "--to-domain needs that right (an admin's: a role on the domain "
        "does not count in a token scoped to a project): name the projects "
        "with --to instead"]
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
    assert res.returncode == 2
    assert stderr_lines(res) == [
        "openstack image share list: error: argument --parallel: takes a "
        "whole number from 1 to 10 (the connections a session keeps open "
        "per host), not '11'"]


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
