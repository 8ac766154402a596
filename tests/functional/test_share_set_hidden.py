"""``image share set`` on a private image that hides an earlier member.

Setting the image shared gives other/beta (dave, who had accepted) its
access back: the earlier-members guard of ``image transfer`` applies,
and the diff names the hidden member.
"""

import json

import pytest

from tests.functional.test_share_interrupted import dave_sees
from tests.functional.test_share_interrupted import hides_dave  # noqa
from tests.functional.test_share_interrupted import seen

pytestmark = [pytest.mark.concurrency]


def unprotected(image_id, count):
    return ("Image %s is not protected and %d project(s) have accepted it: "
            "the owner can delete it by accident; protect it with "
            "'openstack image set --protected %s'." % (image_id, count,
                                                       image_id))


def diff(rows):
    return {r['Project ID']: (r['Before'], r['After'], r['Diff'])
            for r in rows}


def test_refused_without_an_option_and_the_image_private_again(
        cloud, hides_dave):  # noqa: F811
    img, beta = hides_dave, cloud.project('beta')
    other = cloud.project('beta', 'other')
    res = cloud.run('carol-alpha', 'image', 'share', 'set', img, '--member',
                    'beta', '-f', 'json')
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert ('Give --revoke-earlier-members to remove them, or '
            '--keep-earlier-members to keep them') in res.stderr
    assert other in res.stderr
    assert seen(cloud, img) == ('private', None, {other: 'accepted'})
    assert not dave_sees(cloud, img)
    # The diff names the hidden member; the options the message names
    # are share set's own (test_keep_and_revoke_...).
    rows = json.loads(res.stdout)
    assert diff(rows)[other] == (
        'accepted', 'accepted', 'unchanged (hidden while private; the run '
        'stopped)')
    assert beta not in diff(rows)   # it failed: no row, an error


def test_keep_and_revoke_show_the_hidden_member_in_the_diff(
        cloud, hides_dave):  # noqa: F811
    img, beta = hides_dave, cloud.project('beta')
    other = cloud.project('beta', 'other')
    rows, warnings = cloud.json('carol-alpha', 'image', 'share', 'set', img,
                                '--member', 'beta', '--keep-earlier-members')
    assert diff(rows) == {
        beta: (None, 'accepted', 'visibility private->shared, added, '
                                 'accepted'),
        other: ('accepted', 'accepted', 'kept (hidden while private)')}
    assert seen(cloud, img) == ('shared', None, {beta: 'accepted',
                                                 other: 'accepted'})
    # The count is of the members after the run: the kept one too.
    assert unprotected(img, 2) in warnings
    cloud.glance('alice-alpha').images.update(img, visibility='private')
    rows, warnings = cloud.json('carol-alpha', 'image', 'share', 'set',
                                img, '--member', 'beta', '--prune')
    assert diff(rows)[other] == ('accepted', None,
                                 'revoked (hidden while private)')
    assert seen(cloud, img) == ('shared', None, {beta: 'accepted'})
    assert unprotected(img, 1) in warnings
    assert not dave_sees(cloud, img)


def test_prune_with_nothing_to_add_promises_no_revoke_it_cannot_make(
        cloud, hides_dave):  # noqa: F811
    # Nothing to add: the run does not share the image, so it can neither
    # read nor revoke the member it hides; the dry run promised it did.
    img, other = hides_dave, cloud.project('beta', 'other')
    hint = ("Image %s is private and this run shares nothing, so it "
            "neither reads nor revokes the members the image hides, if any "
            "(those "
            "it had when it was made private); they have no access while it "
            "stays private. To remove them: 'openstack image share revoke %s "
            "--all --share-briefly' (shares it for as long as the removal "
            "takes)." % (img, img))
    for dry_run in (('--dry-run',), ()):
        res = cloud.run('carol-alpha', 'image', 'share', 'set', img,
                        '--no-members', '--prune', '-f', 'json', *dry_run)
        assert (res.returncode, res.stdout.strip(),
                res.stderr.splitlines()) == (0, '[]', [hint]), dry_run
        assert seen(cloud, img) == ('private', None, {other: 'accepted'})
    # The command it names does what the sentence says.
    rows, _ = cloud.json('carol-alpha', 'image', 'share', 'revoke', img,
                         '--all', '--share-briefly')
    assert other in [r['Project ID'] for r in rows]
    assert seen(cloud, img) == ('private', None, {})
