"""``openstack image transfer`` (share mode) against the real local cloud."""

import json
import uuid

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.plugin]

COLUMNS = ['Image ID', 'Image Name', 'Project ID', 'Project Name',
           'Member Status', 'Changes']


def depends(image, alpha):
    return ("Image %s stays in project alpha (%s): if that project deletes "
            "or unshares it, or the project is closed, instances booted from "
            "it in other projects can fail to rebuild, evacuate or migrate."
            % (image, alpha))


def protect(image, count=1):
    return ("Image %s is not protected and %d project(s) have accepted it: "
            "the owner can delete it by accident; protect it with "
            "'openstack image set --protected %s'." % (image, count, image))


def pending(image, to):
    return ("Project %s has not accepted image %s (pending since "
            % (to, image))


def hidden(image, then):
    return ("Image %s is private: if it was shared before, it may still "
            "have members from then, whom Glance does not list (nobody can) "
            "and whom making it shared gives their access back; the run "
            "reads them right after sharing and %s." % (image, then))


def members(cloud, image_id):
    """The members as an admin sees them: {project: status}."""
    glance = cloud.glance('admin')
    try:
        return {m['member_id']: m['status']
                for m in glance.image_members.list(image_id)}
    except Exception:  # not shared: Glance refuses to list
        return None


def snapshot(cloud, image_id):
    img = cloud.glance('admin').images.get(image_id)
    return (img['visibility'], img['protected'], img['owner'],
            members(cloud, image_id))


def bob_sees(cloud, image_id):
    listed = cloud.glance('bob-beta').images.list()
    return image_id in [i['id'] for i in listed]


@pytest.mark.policy
def test_transfer_to_cloud_shares_accepts_and_reruns_clean(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['name'], '--to-cloud', 'bob-beta')
    assert rows == [dict(zip(COLUMNS, [
        img['id'], img['name'], beta, 'beta', 'accepted',
        'visibility private->shared, member added, accepted']))]
    assert warnings == [depends(img['id'], cloud.project('alpha')),
                        protect(img['id'])]
    assert snapshot(cloud, img['id']) == (
        'shared', False, cloud.project('alpha'), {beta: 'accepted'})
    assert bob_sees(cloud, img['id'])
    # The same command again changes nothing and succeeds.
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['name'],
                         '--to-cloud', 'bob-beta')
    assert [(r['Member Status'], r['Changes']) for r in rows] == [
        ('accepted', 'none')]
    assert snapshot(cloud, img['id']) == (
        'shared', False, cloud.project('alpha'), {beta: 'accepted'})


@pytest.mark.policy
def test_rescoped_acceptance_for_a_user_in_both_projects(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    beta = cloud.project('beta')
    plan, _ = cloud.json('carol-alpha', 'image', 'transfer', img['id'],
                         '--to', 'beta', '--protect', '--dry-run')
    assert plan[0]['Changes'] == (
        'plan: visibility private->shared, check earlier members, protect, '
        'add member, accept as rescoped token')
    rows, warnings = cloud.json('carol-alpha', 'image', 'transfer',
                                img['id'], '--to', 'beta', '--protect')
    assert rows[0]['Member Status'] == 'accepted'
    assert rows[0]['Changes'] == ('visibility private->shared, protected, '
                                  'member added, accepted')
    assert warnings == [depends(img['id'], cloud.project('alpha'))]
    assert snapshot(cloud, img['id']) == (
        'shared', True, cloud.project('alpha'), {beta: 'accepted'})
    cloud.glance('admin').images.update(img['id'], protected=False)


@pytest.mark.policy
def test_no_accept_then_member_accepts_by_name(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to', beta, '--no-accept')
    assert [(r['Member Status'], r['Changes']) for r in rows] == [
        ('pending', 'visibility private->shared, member added')]
    assert any(w.startswith(pending(img['id'], beta)) for w in warnings)
    assert not bob_sees(cloud, img['id'])
    data, warnings = cloud.json('bob-beta', 'image', 'share', 'accept',
                                img['name'])
    assert data == {'image_id': img['id'], 'image_name': img['name'],
                    'owner': cloud.project('alpha'), 'project_id': beta,
                    'project_name': 'beta', 'previous_status': 'pending',
                    'member_status': 'accepted'}
    assert warnings == []
    assert bob_sees(cloud, img['id'])
    data, _ = cloud.json('bob-beta', 'image', 'share', 'reject', img['id'])
    assert (data['previous_status'], data['member_status']) == (
        'accepted', 'rejected')
    assert not bob_sees(cloud, img['id'])
    # Its dry run says so before: the run would leave it rejected.
    _, warnings = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                             '--to', beta, '--no-accept', '--dry-run')
    assert [w for w in warnings if w.startswith(
        'Project %s has rejected image %s, and this run would leave it '
        'rejected: ' % (beta, img['id']))], warnings
    # The owner asks again, leaving it to beta: done as asked (exit 0), and
    # the rejection said, with what either side can do.
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to', beta, '--no-accept')
    assert [(r['Member Status'], r['Changes']) for r in rows] == [
        ('rejected', 'none')]
    assert warnings[-1] == (
        "Project %s has rejected image %s, and this run left it rejected: "
        "Glance hides the image from that "
        "project's image lists, but the project can still accept it, and "
        "can still boot it by its ID; ask the project to accept it (in that "
        "project: 'openstack image share accept %s'), or revoke its "
        "membership ('openstack image share revoke %s %s')."
        % (beta, img['id'], img['id'], img['id'], beta))
    assert snapshot(cloud, img['id'])[3] == {beta: 'rejected'}


@pytest.mark.policy
def test_admin_accepts_for_a_project_without_touching_the_owner(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    beta = cloud.project('beta')
    cloud.glance('alice-alpha').image_members.create(img['id'], beta)
    data, _ = cloud.json('admin', 'image', 'share', 'accept', img['id'],
                         '--project', 'beta', '--project-domain', 'Default')
    assert (data['project_id'], data['member_status']) == (beta, 'accepted')
    assert snapshot(cloud, img['id']) == (
        'shared', False, cloud.project('alpha'), {beta: 'accepted'})
    res = cloud.run('bob-beta', 'image', 'share', 'accept', img['id'],
                    '--project', 'alpha')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Only an admin may accept an image for another project ('alpha'); as "
        "a user of that project, run this without --project"]


@pytest.mark.policy
def test_accept_errors(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    # Not visible at all to a project that is no member.
    res = cloud.run('carol-beta', 'image', 'share', 'accept', img['id'])
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "No image named or with ID '%s' is visible to project beta: it does "
        "not exist, or it is neither owned by, shared with, nor public to "
        "that project" % img['id']]
    # Visible (an admin sees every image) but no member.
    res = cloud.run('admin', 'image', 'share', 'accept', img['id'])
    assert res.returncode == 1
    admin = cloud.project('admin')
    assert stderr_lines(res) == [
        "Project admin (%s) is not a member of image %s; its owner must add "
        "it first ('openstack image transfer %s --to %s --no-accept')"
        % (admin, img['id'], img['id'], admin)]
    # The owner cannot accept its own image.
    res = cloud.run('alice-alpha', 'image', 'share', 'accept', img['id'])
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Project alpha (%s) owns image %s; only a member project can accept "
        "or reject it" % (cloud.project('alpha'), img['id'])]


def test_dry_run_writes_nothing(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    before = snapshot(cloud, img['id'])
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to-cloud', 'bob-beta',
                                '--protect', '--dry-run')
    assert rows[0]['Changes'] == (
        'plan: visibility private->shared, check earlier members, protect, '
        'add member, accept as cloud bob-beta')
    assert rows[0]['Member Status'] is None
    # Never shared: no claim that it had members (nobody can tell).
    assert warnings == [hidden(img['id'], (
        'stops, setting it private again, if there are any (give '
        '--revoke-earlier-members or --keep-earlier-members)'))]
    assert snapshot(cloud, img['id']) == before


@pytest.mark.parametrize('case', ['not-owner', 'public', 'community',
                                  'queued', 'own-project', 'typo',
                                  'cannot-accept', 'ambiguous'])
def test_refusals_leave_the_image_as_it_was(cloud, case):
    alpha, beta = cloud.project('alpha'), cloud.project('beta')
    who, args = 'alice-alpha', ['--to-cloud', 'bob-beta']
    if case == 'queued':
        glance = cloud.glance('alice-alpha')
        img = glance.images.create(name=unique('queued'), disk_format='raw',
                                   container_format='bare',
                                   visibility='private')
    else:
        img = cloud.make_image(
            'admin' if case == 'public' else 'alice-alpha',
            visibility={'public': 'public', 'community': 'community',
                        'not-owner': 'shared'}.get(case, 'private'))
    expect = {
        'public': "Image %s is public: every project can already use it; "
                  "there is nothing to share" % img['id'],
        'community': "Image %s is community: every project can already use "
                     "it; there is nothing to share" % img['id'],
        'queued': "Image %s is queued, not active: only an active image can "
                  "be transferred" % img['id'],
        # Bob's own project, with alice's image: not the image's owner.
        'own-project': "Project beta (%s) is your own project, the one this "
                       "command acts as: a transfer is to another project; "
                       "choose another target" % beta,
        'typo': "No project named or with ID 'betta' that project alpha can "
                "see; without an admin role, name only projects your user "
                "belongs to, or give the project ID",
        'cannot-accept': "Cannot accept for project %s: your user has no "
                         "role there and is not an admin. Give --to-cloud "
                         "<cloud> (a clouds.yaml entry scoped to that "
                         "project), or --no-accept to leave the membership "
                         "pending for that project to accept" % beta,
        'not-owner': "Image %s is owned by project %s; only the owner can "
                     "share it" % (img['id'], alpha),
        'ambiguous': None,  # checked below: domain IDs vary
    }[case]
    if case == 'public':
        who, args = 'admin', ['--to', alpha]
    elif case == 'own-project':
        cloud.glance('alice-alpha').images.update(img['id'],
                                                  visibility='shared')
        cloud.glance('alice-alpha').image_members.create(img['id'], beta)
        who, args = 'bob-beta', ['--to', 'beta']
    elif case == 'typo':
        args = ['--to', 'betta']
    elif case == 'cannot-accept':
        args = ['--to', beta]
    elif case == 'not-owner':
        cloud.glance('alice-alpha').image_members.create(img['id'], beta)
        who, args = 'bob-beta', ['--to-cloud', 'carol-alpha']
    elif case == 'ambiguous':
        who, args = 'admin', ['--to', 'beta']
        img = cloud.make_image('admin', visibility='private')
    before = snapshot(cloud, img['id'])
    res = cloud.run(who, 'image', 'transfer', img['id'], *args)
    assert res.returncode == 1, res.stdout
    lines = stderr_lines(res)
    if case == 'ambiguous':
        assert len(lines) == 1
        assert lines[0].startswith("Project name 'beta' exists in 2 domains (")
        assert lines[0].endswith('); give --project-domain, or the project ID')
    elif case in ('own-project', 'typo', 'cannot-accept'):
        assert lines == [expect]
    else:
        # Preflight failures of an image are reported, then summarised.
        assert lines == [expect, 'Failed to transfer 1 of 1 image/project '
                                 'pairs']
    assert snapshot(cloud, img['id']) == before


@pytest.mark.policy
def test_unverifiable_project_id_is_used_with_a_warning(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    ghost = uuid.uuid4().hex
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer',
                                img['id'], '--to', ghost, '--no-accept')
    assert rows[0]['Project ID'] == ghost
    assert rows[0]['Member Status'] == 'pending'
    assert warnings[0] == (
        "Project ID %s could not be verified (you may not look projects up);"
        " Glance accepts any string as a member, so check it is right."
        % ghost)


def fill_members(cloud, image_id, count):
    glance = cloud.glance('alice-alpha')
    for _ in range(count):
        glance.image_members.create(image_id, uuid.uuid4().hex)


def test_failure_rolls_back_visibility_and_member(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    fill_members(cloud, img['id'], 128)  # the cloud's image_member_quota
    cloud.glance('alice-alpha').images.update(img['id'],
                                              visibility='private')
    # The 128 members are hidden earlier members: keep them to reach the
    # quota (the kept-members warning goes, as the image is private again).
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'bob-beta', '--keep-earlier-members',
                    '-f', 'json')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "Image %s already has 128 members, this cloud's limit; revoke unused "
        "members first ('openstack image share revoke')" % img['id'],
        'Failed to transfer 1 of 1 image/project pairs']
    assert res.stdout == ''     # a failed pair has no row
    img_now = cloud.glance('admin').images.get(img['id'])
    assert img_now['visibility'] == 'private'
    cloud.glance('alice-alpha').images.update(img['id'], visibility='shared')
    assert cloud.project('beta') not in members(cloud, img['id'])


def test_batch_reports_each_failure_and_a_summary(cloud):
    good = cloud.make_image('alice-alpha', visibility='private')
    full = cloud.make_image('alice-alpha', visibility='shared')
    fill_members(cloud, full['id'], 128)
    res = cloud.run('alice-alpha', 'image', 'transfer', good['id'],
                    full['id'], 'no-such-image-' + uuid.uuid4().hex[:6],
                    '--to-cloud', 'bob-beta', '-f', 'json')
    assert res.returncode == 1
    rows = {r['Image ID']: r for r in json.loads(res.stdout)}
    assert rows[good['id']]['Member Status'] == 'accepted'
    assert list(rows) == [good['id']]   # the failures are on stderr only
    lines = stderr_lines(res)
    assert lines[-1] == 'Failed to transfer 2 of 3 image/project pairs'
    assert sum('already has 128 members' in line for line in lines) == 1
    assert sum("No image named or with ID 'no-such-image-" in line
               for line in lines) == 1
    assert snapshot(cloud, good['id'])[3] == {
        cloud.project('beta'): 'accepted'}


def test_project_domain_picks_the_right_beta(cloud):
    other_beta = cloud.project('beta', 'other')
    img = cloud.make_image('admin', visibility='private')
    rows, _ = cloud.json('admin', 'image', 'transfer', img['id'], '--to',
                         'beta', '--project-domain', 'other')
    assert [(r['Project ID'], r['Member Status']) for r in rows] == [
        (other_beta, 'accepted')]
    # From alice, dave's credentials name the other 'beta' by themselves.
    img = cloud.make_image('alice-alpha', visibility='private')
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                         '--to-cloud', 'dave-beta')
    assert [(r['Project ID'], r['Member Status']) for r in rows] == [
        (other_beta, 'accepted')]


def test_revoke_unshare_and_rerun(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'],
               '--to-cloud', 'bob-beta')
    typo = cloud.run('alice-alpha', 'image', 'share', 'revoke', img['id'],
                     'betta')
    assert typo.returncode == 1
    assert stderr_lines(typo)[-1] == 'Failed to revoke 1 of 1 projects'
    assert members(cloud, img['id']) == {beta: 'accepted'}
    rows, warnings = cloud.json('alice-alpha', 'image', 'share', 'revoke',
                                img['id'], beta, '--unshare')
    assert [(r['Project ID'], r['Result']) for r in rows] == [
        (beta, 'removed'), (None, 'visibility shared->private')]
    assert warnings == [
        "Project %s had accepted image %s: its instances booted from it can "
        "now fail to rebuild, evacuate or migrate." % (beta, img['id'])]
    assert snapshot(cloud, img['id'])[0] == 'private'
    assert not bob_sees(cloud, img['id'])
    again = cloud.run('alice-alpha', 'image', 'share', 'revoke', img['id'],
                      beta, '--unshare')
    assert again.returncode == 0, again.stderr


def test_revoke_of_a_non_member_is_reported_not_failed(cloud):
    img = cloud.make_image('carol-alpha', visibility='shared')
    rows, warnings = cloud.json('carol-alpha', 'image', 'share', 'revoke',
                                img['id'], 'beta')
    beta = cloud.project('beta')
    assert [(r['Project ID'], r['Result']) for r in rows] == [
        (beta, 'not a member')]
    assert warnings == ["Project beta (%s) is not a member of image %s; "
                        "nothing to revoke." % (beta, img['id'])]


def test_list_and_incoming(cloud):
    accepted = cloud.make_image('alice-alpha', visibility='private')
    waiting = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    cloud.json('alice-alpha', 'image', 'transfer', accepted['id'],
               '--to-cloud', 'bob-beta')
    cloud.json('alice-alpha', 'image', 'transfer', waiting['id'],
               '--to', beta, '--no-accept')
    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'list')
    mine = {(r['Image ID'], r['Project ID']): r['Member Status']
            for r in rows}
    assert mine[(accepted['id'], beta)] == 'accepted'
    assert mine[(waiting['id'], beta)] == 'pending'
    assert all(r['Owner'] == cloud.project('alpha') for r in rows)
    rows, _ = cloud.json('bob-beta', 'image', 'share', 'list', '--incoming')
    incoming = {r['Image ID']: r for r in rows}
    assert incoming[accepted['id']]['Member Status'] == 'accepted'
    assert incoming[waiting['id']]['Member Status'] == 'pending'
    assert incoming[waiting['id']]['Owner'] == cloud.project('alpha')
    assert incoming[waiting['id']]['Project ID'] == beta
