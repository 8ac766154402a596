"""``openstack image share revoke``: --dry-run, and members named by name."""


import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique
from tests.functional.test_credentials import policy
from tests.functional.test_transfer import members
from tests.functional.test_transfer import snapshot

pytestmark = [pytest.mark.policy]


def shared_with_beta(cloud, owner='alice-alpha'):
    img = cloud.make_image(owner, visibility='private')
    cloud.json(owner, 'image', 'transfer', img['id'], '--to-cloud',
               'bob-beta')
    return img['id']


def test_dry_run_writes_nothing_and_prints_the_rows_of_the_run(cloud):
    image = shared_with_beta(cloud)
    beta = cloud.project('beta')
    before = snapshot(cloud, image)
    plan, warnings = cloud.json('alice-alpha', 'image', 'share', 'revoke',
                                image, beta, '--unshare', '--dry-run')
    assert snapshot(cloud, image) == before
    assert before[3] == {beta: 'accepted'}
    assert [(r['Project ID'], r['Result']) for r in plan] == [
        (beta, 'plan: remove'), (None, 'plan: visibility shared->private')]
    assert warnings == [
        "Project %s has accepted image %s: once it is revoked, its "
        "instances booted from it can fail to rebuild, evacuate or migrate."
        % (beta, image)]
    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'revoke', image,
                         beta, '--unshare')
    # The same rows and columns; the results without 'plan: '.
    assert [list(r) for r in rows] == [list(r) for r in plan]
    assert [(r['Image ID'], r['Project ID'], r['Result']) for r in rows] == [
        (image, beta, 'removed'), (image, None, 'visibility shared->private')]
    assert [r['Project ID'] for r in rows] == [r['Project ID'] for r in plan]
    assert snapshot(cloud, image)[0] == 'private'


def test_dry_run_of_every_member_of_a_private_image(cloud):
    image = shared_with_beta(cloud)
    cloud.glance('alice-alpha').images.update(image, visibility='private')
    before = snapshot(cloud, image)
    plan, warnings = cloud.json('alice-alpha', 'image', 'share', 'revoke',
                                image, '--all', '--share-briefly',
                                '--dry-run')
    assert snapshot(cloud, image) == before
    assert [r['Result'] for r in plan] == [
        'plan: remove every hidden member',
        'plan: visibility private->shared->private']
    assert warnings == [
        "Image %s is private: Glance hides its members, so the dry run "
        "cannot tell which of them the run would remove; the run sets it "
        "shared for as long as that takes, then private again." % image]


def test_a_name_the_owner_cannot_read_says_to_give_the_id(cloud):
    image = shared_with_beta(cloud)
    beta = cloud.project('beta')
    res = cloud.run('alice-alpha', 'image', 'share', 'revoke', image, 'beta',
                    '-f', 'json')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "No member of image %s is named 'beta' as far as project alpha can "
        "tell, nor is there a project of that name or ID that it can see "
        "(without an admin role, Keystone shows only your own projects' "
        "names): give the member's project ID, as 'openstack image share "
        "status %s' lists it" % (image, image),
        'Failed to revoke 1 of 1 projects']
    assert res.stdout == ''     # a failure has no row: it is on stderr
    assert members(cloud, image) == {beta: 'accepted'}
    # The way the sentence gives: the ID, as image share status shows it.
    status, _ = cloud.json('alice-alpha', 'image', 'share', 'status', image)
    [shown] = status['members']
    listed = shown.split()[0] if isinstance(shown, str) else \
        shown['project_id']
    assert listed == beta
    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'revoke', image,
                         listed)
    assert [(r['Project ID'], r['Result']) for r in rows] == [
        (beta, 'removed')]


def test_a_name_the_owner_can_read_is_revoked(cloud):
    # carol is in alpha and beta: Keystone tells her beta's name.
    image = shared_with_beta(cloud, 'carol-alpha')
    beta = cloud.project('beta')
    rows, _ = cloud.json('carol-alpha', 'image', 'share', 'revoke', image,
                         'beta', '--dry-run')
    assert [(r['Project ID'], r['Project Name'], r['Result'])
            for r in rows] == [(beta, 'beta', 'plan: remove')]
    assert members(cloud, image) == {beta: 'accepted'}
    rows, _ = cloud.json('carol-alpha', 'image', 'share', 'revoke', image,
                         'beta')
    assert [(r['Project ID'], r['Project Name'], r['Result'])
            for r in rows] == [(beta, 'beta', 'removed')]
    assert members(cloud, image) == {}


def test_a_reader_is_told_the_role_glance_requires(cloud):
    # rita is a reader in alpha: Glance's delete_member policy refuses
    # her, and the line names her role and the one it takes, as the
    # other member commands do, not Glance's bare 403.
    img = cloud.make_image('alice-alpha')
    beta = cloud.project('beta')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to', beta,
               '--no-accept')
    res = cloud.run('rita-alpha', 'image', 'share', 'revoke', img['id'],
                    '--all', '-f', 'json')
    if policy(cloud) == 'legacy':
        # The legacy policies do not check the role: the reader may.
        assert res.returncode == 0, res.stderr
        assert members(cloud, img['id']) == {}
        return
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert stderr_lines(res) == [
        'Your role in project alpha is reader; Glance requires the member '
        'role (or admin) to remove members from an image (its delete_member '
        'policy): ask for the member role there, or act with credentials '
        'that have it', 'Failed to revoke 1 of 1 projects']
    assert [m['member_id'] for m in cloud.glance('admin').image_members.list(
        img['id'])] == [beta]


def test_a_reader_is_told_the_role_to_unshare(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    res = cloud.run('rita-alpha', 'image', 'share', 'revoke', img['id'],
                    '--all', '--unshare', '-f', 'json')
    if policy(cloud) == 'legacy':
        assert res.returncode == 0, res.stderr
        assert cloud.glance('admin').images.get(img['id'])[
            'visibility'] == 'private'
        return
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert stderr_lines(res)[0] == (
        'Your role in project alpha is reader; Glance requires the member '
        'role (or admin) to change an image (its modify_image policy): ask '
        'for the member role there, or act with credentials that have it')
    assert cloud.glance('admin').images.get(img['id'])['visibility'] == \
        'shared'


def test_a_readers_audit_fix_is_told_the_role(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    stray = unique('not-a-project')
    cloud.glance('alice-alpha').image_members.create(img['id'], stray)
    try:
        res = cloud.run('rita-alpha', 'image', 'share', 'audit', '--fix',
                        '--risk', 'not-a-project', '-f', 'json')
        left = [m['member_id'] for m in
                cloud.glance('admin').image_members.list(img['id'])]
        if policy(cloud) == 'legacy':
            assert left == []
            return
        assert res.returncode == 1, (res.stdout, res.stderr)
        assert (
            'Could not remove member %s (image %s): Your role in project '
            'alpha is reader; Glance requires the member role (or admin) to '
            'remove members from an image (its delete_member policy): ask '
            'for the member role there, or act with credentials that have '
            'it' % (stray, img['id'])) in stderr_lines(res)
        assert left == [stray]
    finally:
        cloud.glance('admin').images.delete(img['id'])


def test_a_member_glance_cannot_address_is_said_not_requested(cloud):
    # Glance stores any member string, but no URL reaches one outside
    # ASCII: neither revoke nor share set --prune sends a request that
    # would fail as "not a member" or "changed by another run".
    img = cloud.make_image('alice-alpha', visibility='shared')
    odd = unique('mem\u202eber')
    cloud.glance('alice-alpha').image_members.create(img['id'], odd)
    try:
        res = cloud.run('alice-alpha', 'image', 'share', 'set', img['id'],
                        '--no-members', '--prune', '-f', 'json')
        assert res.returncode == 0, res.stderr
        assert ('Member %s of image %s is not revoked: it can be removed '
                "only in Glance's database" % (
                    "'%s'" % odd.replace('\u202e', '\\u202e'), img['id'])
                ) in res.stderr
        res = cloud.run('alice-alpha', 'image', 'share', 'revoke', img['id'],
                        '--all', '-f', 'json')
        assert res.returncode == 1
        assert 'is not removed: it can be removed only in Glance' in \
            res.stderr
        assert 'not a member' not in res.stderr
    finally:
        cloud.glance('admin').images.delete(img['id'])
