"""``openstack image share set``: desired-state membership, real cloud."""

import json
import os
import subprocess

import pytest

from tests.functional.conftest import BIN
from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.policy]

COLUMNS = ['Image ID', 'Project ID', 'Project Name', 'Before', 'After',
           'Diff']


def state(cloud, image_id):
    """Everything a write would change: the image's and members' times."""
    glance = cloud.glance('admin')
    img = glance.images.get(image_id)
    members = {m['member_id']: (m['status'], m['updated_at'])
               for m in glance.image_members.list(image_id)}
    return img['visibility'], img['updated_at'], members


def rows_of(rows):
    return [(r['Project ID'], r['Before'], r['After'], r['Diff'])
            for r in rows]


def test_set_adds_accepts_keeps_prunes_and_reruns_without_writes(
        cloud, tmp_path):
    img = cloud.make_image('carol-alpha', visibility='private')
    beta, other = cloud.project('beta'), cloud.project('beta', 'other')
    admin = cloud.glance('admin')
    admin.images.update(img['id'], visibility='shared')
    admin.image_members.create(img['id'], other)      # an extra member
    before = state(cloud, img['id'])

    # Dry run: the diff, and no write.
    rows, _ = cloud.json('carol-alpha', 'image', 'share', 'set', img['id'],
                         '--member', 'beta', '--prune', '--dry-run')
    assert list(rows[0]) == COLUMNS
    assert rows_of(rows) == [
        (beta, None, 'accepted', 'plan: added, accepted'),
        (other, 'pending', None, 'plan: revoked')]
    assert state(cloud, img['id']) == before

    # Without --prune: beta added and accepted (carol is in beta), the
    # member not listed is kept.
    rows, _ = cloud.json('carol-alpha', 'image', 'share', 'set',
                         img['name'], '--member', 'beta')
    assert rows_of(rows) == [
        (beta, None, 'accepted', 'added, accepted'),
        (other, 'pending', 'pending', 'kept (not listed; --prune revokes)')]
    after = state(cloud, img['id'])
    assert {m: s for m, (s, _) in after[2].items()} == {
        beta: 'accepted', other: 'pending'}

    # A re-run finds nothing to do and writes nothing.
    rows, _ = cloud.json('carol-alpha', 'image', 'share', 'set',
                         img['name'], '--member', beta)
    assert [r['Diff'] for r in rows] == [
        'unchanged', 'kept (not listed; --prune revokes)']
    assert state(cloud, img['id']) == after

    # --prune with the list in a file (a comment, a blank line).
    listing = tmp_path / 'members.txt'
    listing.write_text('# who may boot it\nbeta\n\n')
    rows, warnings = cloud.json('carol-alpha', 'image', 'share', 'set',
                                img['id'], '--member-file', str(listing),
                                '--prune')
    assert rows_of(rows) == [(beta, 'accepted', 'accepted', 'unchanged'),
                             (other, 'pending', None, 'revoked')]
    assert {m: s for m, (s, _) in state(cloud, img['id'])[2].items()} == {
        beta: 'accepted'}
    pruned = state(cloud, img['id'])
    rows, _ = cloud.json('carol-alpha', 'image', 'share', 'set', img['id'],
                         '--member-file', str(listing), '--prune')
    assert [r['Diff'] for r in rows] == ['unchanged']
    assert state(cloud, img['id']) == pruned


def test_set_leaves_pending_whom_it_cannot_accept_for_from_stdin(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta, other = cloud.project('beta'), cloud.project('beta', 'other')
    # alice is in neither beta: both stay pending; IDs from stdin (alice
    # may not look other projects up by name).
    res = subprocess.run(
        [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha',
         'image', 'share', 'set', img['id'], '--member-file', '-',
         '-f', 'json'],
        input='%s\n%s\n' % (beta, other), env=cloud.env(), capture_output=True,
        text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert rows_of(json.loads(res.stdout)) == [
        (beta, None, 'pending', 'visibility private->shared, added'),
        (other, None, 'pending', 'added')]
    assert any('has not accepted image %s' % img['id'] in w
               for w in stderr_lines(res))


def test_set_bad_member_changes_nothing(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    res = cloud.run('carol-alpha', 'image', 'share', 'set', img['id'],
                    '--member', 'beta', '--member', 'no-such-project')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "No project named or with ID 'no-such-project' that project alpha "
        "can see; without an admin role, name only projects your user "
        "belongs to, or give the project ID"]
    glance = cloud.glance('admin')
    assert glance.images.get(img['id'])['visibility'] == 'private'
    res = cloud.run('carol-alpha', 'image', 'share', 'set', img['id'])
    assert res.returncode == 2
    assert stderr_lines(res) == [
        'openstack image share set: error: give the members: --member '
        '<project>, --member-file <file> or --member-domain <domain>']
