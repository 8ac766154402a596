"""Members a private image hides, the plan the run executes, text output.

Glance keeps the members of an image made private and gives them their
access back when it is shared again; these tests make such an image (shared
with beta and accepted, then made private) and transfer it to another
project, dave's beta in domain ``other``.
"""

import shlex

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.test_transfer import bob_sees
from tests.functional.test_transfer import members

pytestmark = [pytest.mark.plugin]


def dave_sees(cloud, image_id):
    listed = cloud.glance('dave-beta').images.list()
    return image_id in [i['id'] for i in listed]


@pytest.fixture
def was_shared(cloud):
    """An image of alpha, shared with beta and accepted, made private."""
    img = cloud.make_image('alice-alpha', visibility='private')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'],
               '--to-cloud', 'bob-beta')
    cloud.glance('alice-alpha').images.update(img['id'],
                                              visibility='private')
    assert not bob_sees(cloud, img['id'])
    return img


def visibility(cloud, image_id):
    return cloud.glance('admin').images.get(image_id)['visibility']


def test_dry_run_says_earlier_members_would_come_back(cloud, was_shared):
    img = was_shared
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to-cloud', 'dave-beta',
                                '--dry-run')
    assert rows[0]['Changes'] == (
        'plan: visibility private->shared, check earlier members, add '
        'member, accept as cloud dave-beta')
    assert warnings == [
        "Image %s is private: if it was shared before, it may still have "
        "members from then, whom Glance does not list (nobody can) and "
        "whom making it shared gives their access back; the run reads them "
        "right after sharing and stops, setting it private again, if there "
        "are any (give --revoke-earlier-members or "
        "--keep-earlier-members)." % img['id']]
    assert visibility(cloud, img['id']) == 'private'


def test_regrant_is_refused_and_the_image_private_again(cloud, was_shared):
    img, beta = was_shared, cloud.project('beta')
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'dave-beta', '-f', 'json')
    assert res.returncode == 1, res.stderr
    assert stderr_lines(res) == [
        "Image %s was private with earlier members, whom setting it shared "
        "gave their access back: %s accepted; it is private again and was "
        "not shared. Give --revoke-earlier-members to remove them, or "
        "--keep-earlier-members to keep them" % (img['id'], beta),
        'Failed to transfer 1 of 1 image/project pairs']
    assert res.stdout == ''     # a failed pair has no row
    assert visibility(cloud, img['id']) == 'private'
    assert not bob_sees(cloud, img['id'])
    assert not dave_sees(cloud, img['id'])


def test_revoke_earlier_members(cloud, was_shared):
    img, beta = was_shared, cloud.project('beta')
    other = cloud.project('beta', 'other')
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to-cloud', 'dave-beta',
                                '--revoke-earlier-members')
    assert [(r['Project ID'], r['Member Status'], r['Changes'])
            for r in rows] == [
        (other, 'accepted', 'visibility private->shared, earlier members '
                            'removed: %s, member added, accepted' % beta)]
    assert members(cloud, img['id']) == {other: 'accepted'}
    assert not bob_sees(cloud, img['id'])
    assert dave_sees(cloud, img['id'])


def test_keep_earlier_members(cloud, was_shared):
    img, beta = was_shared, cloud.project('beta')
    other = cloud.project('beta', 'other')
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to-cloud', 'dave-beta',
                                '--keep-earlier-members')
    assert rows[0]['Changes'] == ('visibility private->shared, member '
                                  'added, accepted')
    assert ("Image %s was private with earlier members, who have their "
            "access back (--keep-earlier-members): %s accepted."
            % (img['id'], beta)) == warnings[0]
    assert members(cloud, img['id']) == {beta: 'accepted',
                                         other: 'accepted'}
    # Both have accepted it: the kept member is counted.
    assert ("Image %s is not protected and 2 project(s) have accepted it"
            % img['id']) in ' '.join(warnings)
    assert bob_sees(cloud, img['id'])
    assert dave_sees(cloud, img['id'])


def test_revoke_on_a_private_image_explains_and_shares_briefly(
        cloud, was_shared):
    img, beta = was_shared, cloud.project('beta')
    res = cloud.run('alice-alpha', 'image', 'share', 'revoke', img['id'],
                    beta)
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Image %s is private: Glance neither lists nor removes the members "
        "of a private image (they are hidden, and come back if it is shared "
        "again); give --share-briefly to set it shared for as long as it "
        "takes to remove them, then private again" % img['id']]
    rows, warnings = cloud.json('alice-alpha', 'image', 'share', 'revoke',
                                img['id'], beta, '--share-briefly')
    assert [(r['Project ID'], r['Result']) for r in rows] == [
        (beta, 'removed'), (None, 'visibility private->shared->private')]
    assert visibility(cloud, img['id']) == 'private'
    # Nobody hidden is left: a transfer now goes ahead without a flag.
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to-cloud', 'dave-beta')
    assert members(cloud, img['id']) == {
        cloud.project('beta', 'other'): 'accepted'}


def test_revoke_all_hidden_members_of_a_private_image(cloud, was_shared):
    img, beta = was_shared, cloud.project('beta')
    rows, warnings = cloud.json('alice-alpha', 'image', 'share', 'revoke',
                                img['id'], '--all', '--share-briefly')
    assert [(r['Project ID'], r['Result']) for r in rows] == [
        (beta, 'removed'), (None, 'visibility private->shared->private')]
    assert visibility(cloud, img['id']) == 'private'
    assert not bob_sees(cloud, img['id'])
    usage = cloud.run('alice-alpha', 'image', 'share', 'revoke', img['id'])
    assert usage.returncode == 2
    assert stderr_lines(usage) == [
        'openstack image share revoke: error: name the projects to remove, '
        'or give --all (not both)']


def test_the_run_executes_the_steps_of_the_dry_run(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    args = ['image', 'transfer', img['id'], '--to-cloud', 'bob-beta',
            '--to-cloud', 'dave-beta', '--protect']
    plan, _ = cloud.json('alice-alpha', *args, '--dry-run')
    planned = [(r['Project ID'], step) for r in plan
               for step in r['Changes'][len('plan: '):].split(', ')]
    # -v: each step is logged as it starts, in the plan's words.
    res = cloud.run('alice-alpha', '-v', *args, '-f', 'json')
    assert res.returncode == 0, res.stderr
    done = [(line.split('project ')[1].split(':')[0],
             line.split(': ', 1)[1])
            for line in stderr_lines(res)
            if line.startswith('Image %s, project ' % img['id'])]
    # Pairs run concurrently (--parallel): each project's steps in order.
    assert (sorted(done, key=lambda d: d[0])
            == sorted(planned, key=lambda d: d[0]))
    assert len(done) == 7   # share, check, protect, 2 x (add, accept)
    cloud.glance('admin').images.update(img['id'], protected=False)


def test_members_as_plain_text_for_scripts(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'],
               '--to-cloud', 'bob-beta')
    data, _ = cloud.json('alice-alpha', 'image', 'share', 'status',
                         img['id'])
    [m] = data['members']
    line = '%s accepted since %s' % (beta, m['updated_at'])
    res = cloud.run('alice-alpha', 'image', 'share', 'status', img['id'],
                    '-f', 'value', '-c', 'members')
    assert res.returncode == 0
    assert res.stdout == line + '\n'
    res = cloud.run('alice-alpha', 'image', 'share', 'status', img['id'],
                    '-f', 'shell', '-c', 'members', '-c', 'visibility')
    assert res.returncode == 0
    parsed = dict(tok.split('=', 1) for tok in shlex.split(res.stdout))
    assert parsed == {'members': line, 'visibility': 'shared'}
    # csv: the list commands have no list-valued column, text already.
    res = cloud.run('alice-alpha', 'image', 'share', 'list', '-f', 'csv')
    assert res.returncode == 0
    assert '"%s","%s"' % (img['id'], img['name']) in res.stdout


def test_exit_codes(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    usage = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                      '--revoke-earlier-members', '--keep-earlier-members')
    assert usage.returncode == 2, usage.stderr
    missing = cloud.run('alice-alpha', 'image', 'transfer', '--to', 'beta')
    assert missing.returncode == 2
    failed = cloud.run('alice-alpha', 'image', 'transfer', 'no-such-image',
                       '--to-cloud', 'bob-beta')
    assert failed.returncode == 1
    done = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                     '--to-cloud', 'bob-beta')
    assert done.returncode == 0
