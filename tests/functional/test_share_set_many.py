"""``image share set`` for many images and whole domains.

Images by --tag, members by --member-domain less --exclude: every
enabled project of the domain at the time of the run; a project created
since is added by a re-run, one deleted is kept (or revoked with
--prune); a re-run with nothing to do writes nothing.
"""

import json

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.plugin]

IDENTITY = {'endpoint_filter': {'service_type': 'identity',
                                'interface': 'public'}}


def members(cloud, image_id):
    return {m['member_id']: m['status']
            for m in cloud.glance('admin').image_members.list(image_id)}


def new_project(keystone, domain, name, enabled=True):
    return keystone.post('/projects', json={'project': {
        'name': name, 'domain_id': domain, 'enabled': enabled}},
        **IDENTITY).json()['project']


def test_a_tag_and_a_domain_less_one_project(cloud):
    keystone = cloud.session('admin')
    name = unique('customers')
    domain = keystone.post('/domains', json={'domain': {'name': name}},
                           **IDENTITY).json()['domain']['id']
    one, two, service = (new_project(keystone, domain, n)
                         for n in ('one', 'two', 'service'))
    new_project(keystone, domain, 'off', enabled=False)
    tag = unique('golden')
    images = sorted(cloud.make_image('admin', visibility='shared',
                                     tags=[tag])['id'] for _ in range(2))
    args = ['image', 'share', 'set', '--tag', tag, '--member-domain', name,
            '--exclude', 'service']

    # The dry run: the plan, one row per image and project; nothing written.
    rows, _ = cloud.json('admin', *args, '--dry-run')
    assert sorted((r['Image ID'], r['Project ID'], r['Diff']) for r in rows) \
        == sorted((i, p['id'], 'plan: added, accepted') for i in images
                  for p in (one, two))
    assert [members(cloud, i) for i in images] == [{}, {}]

    rows, warnings = cloud.json('admin', *args)
    assert sorted((r['Image ID'], r['Project Name'], r['Diff'])
                  for r in rows) == sorted(
        (i, p, 'added, accepted') for i in images for p in ('one', 'two'))
    want = {one['id']: 'accepted', two['id']: 'accepted'}
    assert [members(cloud, i) for i in images] == [want, want]

    # A project created in the domain since: the re-run adds it, and only
    # it; the others are unchanged.
    three = new_project(keystone, domain, 'three')
    rows, _ = cloud.json('admin', *args)
    assert sorted((r['Project Name'], r['Diff']) for r in rows) == sorted(
        [('one', 'unchanged'), ('two', 'unchanged'),
         ('three', 'added, accepted')] * 2)
    want[three['id']] = 'accepted'
    assert [members(cloud, i) for i in images] == [want, want]

    # A project deleted since: kept without --prune, revoked with it.
    keystone.delete('/projects/%s' % one['id'], **IDENTITY)
    rows, warnings = cloud.json('admin', *args)
    assert sorted((r['Project ID'], r['Diff']) for r in rows
                  if r['Project ID'] == one['id']) == [
        (one['id'], 'kept (not listed; --prune revokes)')] * 2
    # One line for both images (grouped, as every warning of a batch).
    [gone] = [w for w in warnings if one['id'] in w]
    assert gone.startswith(
        'Image <image>: member %s is kept (not listed), but no project has '
        'that ID (deleted since, or never a project): it gives nobody '
        'access; --prune revokes it (2 images: ' % one['id']), gone
    assert all(i in gone for i in images), gone
    rows, _ = cloud.json('admin', *args, '--prune')
    assert sorted((r['Project ID'], r['Diff']) for r in rows
                  if r['Project ID'] == one['id']) == [
        (one['id'], 'revoked')] * 2
    del want[one['id']]
    assert [members(cloud, i) for i in images] == [want, want]
    assert service['id'] not in want

    # Nothing to do: every row unchanged.
    rows, _ = cloud.json('admin', *args, '--prune')
    assert {r['Diff'] for r in rows} == {'unchanged'}


def test_a_member_may_not_list_a_domains_projects(cloud, tmp_path):
    img = cloud.make_image('alice-alpha')
    res = cloud.run('alice-alpha', 'image', 'share', 'set', img['id'],
                    '--member-domain', 'other', '-f', 'json')
    assert (res.returncode, res.stdout, stderr_lines(res)) == (1, '', [
        "Project alpha may not list the projects of domain 'other'; "
        "--member-domain needs that right (an admin's: a role on the "
        "domain does not count in a token scoped to a project): name the "
        "projects with --member instead"])
    assert cloud.glance('admin').images.get(img['id'])['visibility'] == \
        'private'

    # A policy says it in the file's words.
    policy = tmp_path / 'p.yaml'
    policy.write_text('rules:\n  - images: {names: [%s]}\n'
                      '    domains: [other]\n' % img['id'])
    res = cloud.run('alice-alpha', 'image', 'share', 'apply', str(policy),
                    '-f', 'json')
    assert (res.returncode, stderr_lines(res)) == (1, [
        "Rule 1 (line 2): Project alpha may not list the projects of domain "
        "'other'; the key 'domains' needs that right (an admin's: a role "
        "on the domain does not count in a token scoped to a project): name "
        "the projects with the key 'projects' instead"]), res.stderr
    assert cloud.glance('admin').images.get(img['id'])['visibility'] == \
        'private'


def test_several_images_one_not_found_the_others_set(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    beta = cloud.project('beta')
    res = cloud.run('alice-alpha', 'image', 'share', 'set', 'no-such-image',
                    img['id'], '--member', beta, '--no-accept', '-f', 'json')
    assert res.returncode == 1
    assert [(r['Image ID'], r['Project ID'], r['Diff'])
            for r in json.loads(res.stdout)] == [(img['id'], beta, 'added')]
    lines = stderr_lines(res)
    assert lines[-1] == 'Failed to set 1 of 2 image/project pairs', lines
    assert any('no-such-image' in line for line in lines[:-1]), lines
    assert members(cloud, img['id']) == {beta: 'pending'}


def apply(cloud, path, *args):
    return cloud.run('admin', 'image', 'share', 'apply', str(path), *args,
                     '-f', 'json')


def test_apply_two_rules_an_expiry_conflicts_and_check(cloud, tmp_path):
    keystone = cloud.session('admin')
    name = unique('partners')
    domain = keystone.post('/domains', json={'domain': {'name': name}},
                           **IDENTITY).json()['domain']['id']
    one, two = (new_project(keystone, domain, n) for n in ('one', 'two'))
    tag = unique('golden')
    web, db = (cloud.make_image('admin', visibility='shared', tags=[tag],
                                name=unique(n))['id'] for n in ('web', 'db'))
    beta = cloud.project('beta')
    # beta was granted web by a rule that expired: the policy revokes it.
    cloud.glance('admin').image_members.create(web, beta)
    path = tmp_path / 'policy.yaml'
    # The first rule: the tag's images to the domain's projects but two.
    domain_rule = ('rules:\n  - images: {tag: %s}\n    domains: [%s]\n'
                   '    exclude: [two]\n' % (tag, name))
    path.write_text(
        domain_rule +
        '  - images: {names: [%s]}\n'
        '    projects: [Default/beta]\n'
        '    expires: 2020-01-31T00:00:00Z\n'
        '  - images: {names: [%s]}\n'
        '    projects: [Default/alpha]\n'
        '    accept: false\n'
        '    expires: 2999-01-31T00:00:00Z\n' % (web, db))
    alpha = cloud.project('alpha')
    # --check and --dry-run write nothing; --check exits 1 on a difference.
    res = apply(cloud, path, '--check')
    assert res.returncode == 1, res.stderr
    assert stderr_lines(res)[-1].startswith(
        'The cloud differs from the policy %s: 4 row(s) would change' % path)
    # The membership whose rule expired is named so.
    assert (web, beta, 'plan: revoked (expired: rule 2, line 5)') in [
        (r['Image ID'], r['Project ID'], r['Diff'])
        for r in json.loads(res.stdout)]
    res = apply(cloud, path, '--dry-run')
    assert res.returncode == 0, res.stderr
    assert members(cloud, web) == {beta: 'pending'}
    assert members(cloud, db) == {}

    res = apply(cloud, path)
    assert res.returncode == 0, res.stderr
    got = sorted((r['Image ID'], r['Project ID'], r['Diff'])
                 for r in json.loads(res.stdout))
    assert got == sorted([
        (web, one['id'], 'added, accepted'),
        (web, beta, 'revoked (expired: rule 2, line 5)'),
        (db, one['id'], 'added, accepted'), (db, alpha, 'added')])
    assert 'Rule 2 (line 5) expired at 2020-01-31T00:00:00+00:00: it ' \
        'grants nothing, and a member only it granted is revoked' in \
        stderr_lines(res)
    assert members(cloud, web) == {one['id']: 'accepted'}
    assert members(cloud, db) == {one['id']: 'accepted', alpha: 'pending'}
    res = apply(cloud, path, '--check')
    assert (res.returncode, json.loads(res.stdout)) == (0, [])

    # Rules that decide an image differently: exit 2, nothing written.
    path.write_text(domain_rule + '  - images: {names: [%s]}\n'
                    '    projects: [%s]\n' % (web, two['id']))
    res = apply(cloud, path)
    assert (res.returncode, res.stdout, stderr_lines(res)) == (2, '', [
        'openstack image share apply: error: %s: rules 1 (line 2) and 2 '
        '(line 5) decide image %s differently (one grants project %s, the '
        'other excludes it); nothing was changed' % (path, web, two['id'])])
    assert members(cloud, web) == {one['id']: 'accepted'}

    # A file that is not a policy: exit 2, one line naming the line.
    path.write_text('rules:\n  - images: {tag: %s}\n    project: [x]\n'
                    % tag)
    res = apply(cloud, path)
    assert (res.returncode, res.stdout, stderr_lines(res)) == (2, '', [
        "openstack image share apply: error: %s, line 3: unknown key "
        "'project' in rule 1 (the keys: images, projects, domains, exclude, "
        "accept, protect, prune, expires, allow_volume_backed, "
        "allow_encrypted)" % path])


def test_a_member_named_domain_slash_name(cloud):
    img = cloud.make_image('admin', visibility='shared')['id']
    res = cloud.run('admin', 'image', 'share', 'set', img, '--member',
                    'other/beta', '--no-accept', '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert members(cloud, img) == {cloud.project('beta', 'other'): 'pending'}
    # Undone with the spelling it was made with.
    res = cloud.run('admin', 'image', 'share', 'revoke', img, 'other/beta',
                    '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert members(cloud, img) == {}
