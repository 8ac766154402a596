"""Errors that name the real cause, each met with the real credential.

The local cloud has ``rita`` with only the ``reader`` role in alpha and in
beta, ``carol-appcred`` (an application credential of carol, made in
alpha; carol is also in beta) and ``bob-beta-r2`` (bob in RegionTwo).
Under the secure-RBAC defaults Glance refuses a reader every write; under
the legacy ones it does not check the role, and the tests say so.
"""

import json
import os

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.test_transfer import members
from tests.functional.test_transfer import snapshot

pytestmark = [pytest.mark.policy]


def policy(cloud):
    with open(os.path.join(os.path.dirname(cloud.clouds_yaml),
                           'state.json')) as f:
        return json.load(f).get('policy', 'secure')


def role_error(project, what, action):
    return ("Your role in project %s is reader; Glance requires the member "
            "role (or admin) to %s (its %s policy): ask for the member role "
            "there, or act with credentials that have it"
            % (project, what, action))


def test_reader_accepting_is_told_its_role(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to', beta,
               '--no-accept')
    res = cloud.run('rita-beta', 'image', 'share', 'accept', img['id'])
    if policy(cloud) == 'legacy':
        assert res.returncode == 0, res.stderr
        assert members(cloud, img['id']) == {beta: 'accepted'}
        return
    assert res.returncode == 1
    assert stderr_lines(res) == [role_error(
        'beta', 'accept or reject an image', 'modify_member')]
    assert members(cloud, img['id']) == {beta: 'pending'}


def test_reader_sharing_is_told_its_role_and_nothing_changes(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    before = snapshot(cloud, img['id'])
    res = cloud.run('rita-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'bob-beta', '-f', 'json')
    if policy(cloud) == 'legacy':
        assert res.returncode == 0, res.stderr
        return
    assert res.returncode == 1
    assert stderr_lines(res) == [
        role_error('alpha', 'change an image', 'modify_image'),
        'Failed to transfer 1 of 1 image/project pairs']
    # A failure has no row, in any format: it is its line on stderr.
    assert res.stdout == ''
    assert snapshot(cloud, img['id']) == before


def test_a_readers_failed_writes_print_no_row(cloud):
    # One rule for stdout in every command: rows only for what was done.
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to-cloud',
               'bob-beta')
    before = snapshot(cloud, img['id'])
    runs = [(fmt, cloud.run('rita-alpha', *args, '-f', fmt))
            for args in (
                ('image', 'transfer', img['id'], '--to-cloud', 'dave-beta'),
                ('image', 'share', 'set', img['id'], '--no-members',
                 '--prune'),
                ('image', 'share', 'revoke', img['id'], beta))
            for fmt in ('json', 'value')]
    if policy(cloud) == 'legacy':
        return
    for fmt, res in runs:
        assert (res.returncode, res.stdout) == (1, ''), (fmt, res.args,
                                                         res.stderr)
        assert 'is reader' in res.stderr
    assert snapshot(cloud, img['id']) == before


def test_reader_copying_in_is_told_its_role(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--mode', 'copy', '--to-cloud', 'rita-beta', '-f', 'json')
    if policy(cloud) == 'legacy':
        assert res.returncode == 0, res.stderr
        return
    assert res.returncode == 1
    assert stderr_lines(res) == [
        role_error('beta', 'create images', 'add_image'),
        'Failed to copy 1 of 1 image/project pairs']
    copies = cloud.glance('bob-beta').images.list(
        filters={'imageshare_source_id': img['id']})
    assert list(copies) == []


def test_application_credential_cannot_switch_projects(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    before = snapshot(cloud, img['id'])
    beta = cloud.project('beta')
    res = cloud.run('carol-appcred', 'image', 'transfer', img['id'],
                    '--to', 'beta')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Cannot accept for project beta (%s): you authenticated with an "
        "application credential, which is bound to project alpha and "
        "cannot switch projects. Give --to-cloud <cloud> (a clouds.yaml "
        "entry scoped to that project), or --no-accept to leave "
        "the membership pending for that project to accept" % beta]
    res = cloud.run('carol-appcred', 'image', 'transfer', img['id'],
                    '--mode', 'copy', '--to', 'beta')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Cannot copy into project beta (%s): you authenticated with an "
        "application credential, which is bound to project alpha and "
        "cannot switch projects. Give --to-cloud <cloud> (a clouds.yaml "
        "entry scoped to that project)" % beta]
    assert snapshot(cloud, img['id']) == before
    # What the message advises works, with the application credential.
    rows, _ = cloud.json('carol-appcred', 'image', 'transfer', img['id'],
                         '--to-cloud', 'bob-beta')
    assert [(r['Project ID'], r['Member Status']) for r in rows] == [
        (beta, 'accepted')]


def test_copy_advice_does_not_offer_no_accept(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--mode', 'copy', '--to', cloud.project('beta'))
    assert res.returncode == 1
    [line] = stderr_lines(res)
    assert line == (
        "Cannot copy into project %s: your user has no role there and is "
        "not an admin. Give --to-cloud <cloud> (a clouds.yaml entry scoped "
        "to that project)" % cloud.project('beta'))


def test_share_to_an_entry_of_another_region_accepts_in_the_images(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to-cloud', 'bob-beta-r2')
    assert [(r['Project ID'], r['Member Status'], r['Changes'])
            for r in rows] == [
        (beta, 'accepted',
         'visibility private->shared, member added, accepted')]
    assert members(cloud, img['id']) == {beta: 'accepted'}
    # RegionTwo's Glance never heard of it: sharing is per region.
    assert img['id'] not in [i['id'] for i in
                             cloud.glance('bob-beta-r2').images.list()]


def test_member_view_says_what_the_member_can_see(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    for to in ('bob-beta', 'dave-beta'):
        cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                   '--to-cloud', to)
    _, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                             img['id'])
    assert ("Image %s is not protected and 2 project(s) have accepted it: "
            "the owner can delete it by accident; protect it with "
            "'openstack image set --protected %s'." % (img['id'], img['id'])
            in warnings)
    data, warnings = cloud.json('bob-beta', 'image', 'share', 'status',
                                img['id'])
    assert [m['project_id'] for m in data['members']] == [beta]
    assert warnings[-1] == (
        "Image %s is not protected and your project beta (%s) has accepted "
        "it: the owner can delete it by accident (Glance shows a member "
        "only its own membership: other projects may use it too); ask "
        "project %s to protect it." % (img['id'], beta,
                                       cloud.project('alpha')))
    assert not [w for w in warnings if 'project(s) have accepted' in w]


def role_line(who, project, what, action):
    return ("%s would act as project %s with the role reader: Glance's "
            "default policies refuse it to %s (its %s policy), so unless "
            "this cloud's policy allows it, that would fail; ask for the "
            "member role there, or use credentials that have it"
            % (who, project, what, action))


def test_a_dry_run_says_which_credentials_act_as_a_reader(cloud):
    # Whatever the cloud's policy: only the run can tell whether it
    # refuses the role; the dry run says what the defaults would do.
    img = cloud.make_image('alice-alpha', visibility='private')
    before = snapshot(cloud, img['id'])
    res = cloud.run('rita-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'bob-beta', '--dry-run', '-f', 'json')
    assert res.returncode == 0, res.stderr
    # After the line on the members a private image may hide.
    assert stderr_lines(res)[1:] == [
        role_line('This run', 'alpha', 'change an image', 'modify_image')]
    assert snapshot(cloud, img['id']) == before
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'], '--mode',
                    'copy', '--to-cloud', 'rita-beta', '--dry-run', '-f',
                    'json')
    assert res.returncode == 0, res.stderr
    assert stderr_lines(res) == [role_line(
        'The copy into project beta (%s)' % cloud.project('beta'), 'beta',
        'create images', 'add_image')]
    # A member's dry run says nothing of roles.
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'bob-beta', '--dry-run', '-f', 'json')
    assert res.returncode == 0
    assert [line for line in stderr_lines(res) if 'role' in line] == []
