"""The client matrix's smoke test: one user's path through every command.

tox's ``clients-<release>`` envs run it with that release's
python-openstackclient, osc-lib and cliff (tests/constraints/); it is part
of the full suite too.
"""

import pytest

from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.policy, pytest.mark.server]


def test_status_share_copy_revoke(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    alpha, beta = cloud.project('alpha'), cloud.project('beta')

    shown, _ = cloud.json('alice-alpha', 'image', 'share', 'status',
                          img['name'])
    assert (shown['id'], shown['owner'], shown['visibility'],
            shown['members']) == (img['id'], alpha, 'private', [])

    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['name'],
                         '--to-cloud', 'bob-beta')
    assert [(r['Project ID'], r['Member Status'], r['Changes'])
            for r in rows] == [
        (beta, 'accepted',
         'visibility private->shared, member added, accepted')]
    shown, _ = cloud.json('bob-beta', 'image', 'share', 'status', img['id'])
    assert [(m['project_id'], m['status']) for m in shown['members']] == [
        (beta, 'accepted')]

    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--mode', 'copy', '--to-cloud', 'bob-beta')
    [row] = rows
    assert (row['Source ID'], row['Project ID'], row['Changes']) == (
        img['id'], beta, 'copied')
    copy = cloud.glance('bob-beta').images.get(row['Image ID'])
    assert (copy['owner'], copy['os_hash_value']) == (
        beta, img['os_hash_value'])

    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'revoke',
                         img['id'], beta, '--unshare')
    assert [(r['Project ID'], r['Result']) for r in rows] == [
        (beta, 'removed'), (None, 'visibility shared->private')]
    gone = cloud.run('bob-beta', 'image', 'share', 'status', img['id'])
    assert gone.returncode == 1
    assert len(stderr_lines(gone)) == 1
