"""``openstack image share status`` against the real local cloud."""

import uuid

import pytest
import yaml

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.plugin]

FIELDS = ['id', 'name', 'owner', 'owner_name', 'visibility', 'protected',
          'status', 'caller_project', 'caller_role', 'member_status',
          'members', 'kind', 'risks']


def depends(image, owner_label):
    return ("Image %s stays in project %s: if that project deletes or "
            "unshares it, or the project is closed, instances booted from "
            "it in other projects can fail to rebuild, evacuate or migrate."
            % (image, owner_label))


def pending(member_label, image, since):
    return ("Project %s has not accepted image %s (pending since %s): the "
            "image is hidden from its image list until it runs 'openstack "
            "image share accept %s'." % (member_label, image, since, image))


def not_project(member, image):
    return ("Member %s of image %s is not an existing project (Glance "
            "accepts any string, a project name or a typo included): nobody "
            "can accept it; remove it with 'openstack image share revoke "
            "%s %s'." % (member, image, image, member))


def unprotected(image, count):
    return ("Image %s is not protected and %d project(s) have accepted it: "
            "the owner can delete it by accident; protect it with "
            "'openstack image set --protected %s'." % (image, count, image))


def member_unprotected(image, member_label, owner_label):
    return ("Image %s is not protected and your project %s has accepted it: "
            "the owner can delete it by accident (Glance shows a member only "
            "its own membership: other projects may use it too); ask project "
            "%s to protect it." % (image, member_label, owner_label))


def test_owner_view_of_private_image(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    data, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                img['name'])
    alpha = cloud.project('alpha')
    assert list(data) == FIELDS
    private = (
        "Image %s is private: no other project can use it. Glance does "
        "not list the members of a private image: those it had when it "
        "was made private, if any, get their access back if it is set "
        "'shared' again." % img['id'])
    assert data == {
        'id': img['id'], 'name': img['name'], 'owner': alpha,
        'owner_name': 'alpha', 'visibility': 'private', 'protected': False,
        'status': 'active', 'caller_project': alpha, 'caller_role': 'owner',
        'member_status': None, 'members': [], 'kind': ['disk'],
        'risks': [{'code': 'private', 'sentence': private}]}
    assert warnings == [private]


def test_a_rejected_member_is_a_risk(cloud):
    # A rejection hides the image from the member's lists, but it can
    # still accept it, and boot it by ID: the owner is told, as a transfer
    # to it tells.
    img = cloud.make_image('alice-alpha', visibility='shared')
    beta = cloud.project('beta')
    cloud.glance('alice-alpha').image_members.create(img['id'], beta)
    cloud.glance('bob-beta').image_members.update(img['id'], beta,
                                                  'rejected')
    data, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                img['id'])
    sentence = (
        "Project %s has rejected image %s: Glance hides it from that "
        "project's image lists, but the project can still accept it, and "
        "can still boot it by its ID; ask the project to accept it (in that "
        "project: 'openstack image share accept %s'), or revoke its "
        "membership ('openstack image share revoke %s %s')."
        % (beta, img['id'], img['id'], img['id'], beta))
    assert data['risks'][-1] == {'code': 'rejected', 'sentence': sentence}
    assert warnings[-1] == sentence
    # YAML carries the same risks; stderr is the same in every format.
    res = cloud.run('alice-alpha', 'image', 'share', 'status', img['id'],
                    '-f', 'yaml')
    assert res.returncode == 0, res.stderr
    assert yaml.safe_load(res.stdout)['risks'] == data['risks']
    assert stderr_lines(res) == warnings
    res = cloud.run('alice-alpha', 'image', 'share', 'status', img['id'],
                    '-f', 'value', '-c', 'risks')
    assert (res.stdout.splitlines(), stderr_lines(res)) == (
        [r['code'] for r in data['risks']], warnings)


@pytest.mark.policy
def test_owner_view_lists_members_with_names_and_risks(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    glance = cloud.glance('alice-alpha')
    beta = cloud.project('beta')
    glance.image_members.create(img['id'], beta)
    # What OSC core stores when a non-admin names a project: the name.
    glance.image_members.create(img['id'], 'beta')
    data, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                img['id'])
    members = {m['project_id']: m for m in data['members']}
    assert set(members) == {beta, 'beta'}
    assert members[beta]['project_name'] is None  # alice may not read beta
    assert members[beta]['status'] == 'pending'
    assert members['beta']['status'] == 'pending'
    since = members[beta]['updated_at']
    assert since and members[beta]['created_at']
    assert data['caller_role'] == 'owner'
    assert data['member_status'] is None
    alpha = cloud.project('alpha')
    assert warnings == [
        depends(img['id'], 'alpha (%s)' % alpha),
        pending(beta, img['id'], since),
        not_project('beta', img['id']),
    ]
    # The same risks for scripts: a keyword each, and the sentence.
    assert data['risks'] == [
        {'code': code, 'sentence': sentence} for code, sentence in zip(
            ('owner-dependency', 'pending', 'not-a-project'), warnings)]


@pytest.mark.policy
def test_admin_view_names_members_and_flags_unknown_ids(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    glance = cloud.glance('alice-alpha')
    beta = cloud.project('beta')
    ghost = uuid.uuid4().hex  # well-formed, but no such project
    glance.image_members.create(img['id'], beta)
    glance.image_members.create(img['id'], ghost)
    data, warnings = cloud.json('admin', 'image', 'share', 'status',
                                img['id'])
    assert data['caller_role'] == 'admin'
    names = {m['project_id']: m['project_name'] for m in data['members']}
    assert names == {beta: 'beta', ghost: None}
    assert not_project(ghost, img['id']) in warnings
    assert not_project(beta, img['id']) not in warnings


@pytest.mark.policy
def test_consumer_finds_pending_image_by_name(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    beta = cloud.project('beta')
    cloud.glance('alice-alpha').image_members.create(img['id'], beta)
    # Glance hides a pending image from the member's default image list.
    listed, _ = cloud.json('bob-beta', 'image', 'list')
    assert img['id'] not in [i['ID'] for i in listed]
    data, warnings = cloud.json('bob-beta', 'image', 'share', 'status',
                                img['name'])
    assert data['id'] == img['id']
    assert data['caller_role'] == 'member'
    assert data['caller_project'] == beta
    assert data['member_status'] == 'pending'
    assert data['owner'] == cloud.project('alpha')
    assert data['owner_name'] is None  # bob may not read alpha
    assert [m['project_id'] for m in data['members']] == [beta]
    since = data['members'][0]['updated_at']
    assert warnings == [
        depends(img['id'], cloud.project('alpha')),
        pending('beta (%s)' % beta, img['id'], since),
    ]


@pytest.mark.policy
def test_consumer_accepted_unprotected_then_protected(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    beta = cloud.project('beta')
    cloud.glance('alice-alpha').image_members.create(img['id'], beta)
    cloud.glance('bob-beta').image_members.update(img['id'], beta,
                                                  'accepted')
    data, warnings = cloud.json('bob-beta', 'image', 'share', 'status',
                                img['name'])
    assert data['member_status'] == 'accepted'
    assert warnings == [depends(img['id'], cloud.project('alpha')),
                        member_unprotected(img['id'], 'beta (%s)' % beta,
                                           cloud.project('alpha'))]
    cloud.glance('alice-alpha').images.update(img['id'], protected=True)
    try:
        data, warnings = cloud.json('alice-alpha', 'image', 'share',
                                    'status', img['id'])
        assert data['protected'] is True
        assert warnings == [depends(img['id'], 'alpha (%s)'
                                    % cloud.project('alpha'))]
    finally:
        cloud.glance('alice-alpha').images.update(img['id'], protected=False)


def test_columns_and_value_format(cloud):
    img = cloud.make_image('alice-alpha', visibility='shared')
    beta = cloud.project('beta')
    cloud.glance('alice-alpha').image_members.create(img['id'], beta)
    res = cloud.run('bob-beta', 'image', 'share', 'status', img['id'],
                    '-f', 'value', '-c', 'caller_role', '-c',
                    'member_status', '-c', 'kind', '-c', 'risks')
    assert res.returncode == 0, res.stderr
    # The kind spelt as in JSON; the risks as text, their codes a line
    # each (the list-valued columns' rule; the sentences are stderr's).
    [depends_line, pending_line] = stderr_lines(res)
    assert res.stdout == 'member\npending\ndisk\nowner-dependency\n' \
        'pending\n'
    assert 'has not accepted image %s' % img['id'] in pending_line
    assert depends_line.startswith('Image %s stays in project' % img['id'])


def test_unknown_image_is_one_line_error(cloud):
    name = unique('missing')
    res = cloud.run('alice-alpha', 'image', 'share', 'status', name)
    assert res.returncode == 1
    assert stderr_lines(res) == [
        "No image named or with ID '%s' is visible to project alpha: it "
        "does not exist, or it is neither owned by, shared with, nor public "
        "to that project" % name]
    assert res.stdout == ''


def test_ambiguous_name_lists_candidates(cloud):
    name = unique('twin')
    one = cloud.make_image('alice-alpha', name=name)
    two = cloud.make_image('alice-alpha', name=name)
    res = cloud.run('alice-alpha', 'image', 'share', 'status', name)
    assert res.returncode == 1
    [line] = stderr_lines(res)
    assert line.startswith("More than one image named '%s' is visible to "
                           "project alpha (" % name)
    assert one['id'] in line and two['id'] in line
    assert line.endswith('; use the image ID')


@pytest.mark.policy
def test_image_not_visible_to_other_project(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    for who, project in (('bob-beta', 'beta'), ('dave-beta', 'beta')):
        res = cloud.run(who, 'image', 'share', 'status', img['id'])
        assert res.returncode == 1
        assert stderr_lines(res) == [
            "No image named or with ID '%s' is visible to project %s: it "
            "does not exist, or it is neither owned by, shared with, nor "
            "public to that project" % (img['id'], project)]


def test_shell_completion_lists_the_plugin(cloud):
    res = cloud.run('alice-alpha', 'complete')
    assert res.returncode == 0, res.stderr
    lines = dict(line.strip().split('=', 1) for line in res.stdout.splitlines()
                 if line.strip().startswith('cmds_image_'))
    assert lines["cmds_image_share"] == (
        "'accept apply audit list reject revoke set status wait'")
    for option in ('--to', '--to-cloud', '--mode', '--project-domain',
                   '--no-accept', '--protect', '--dry-run'):
        assert option in lines['cmds_image_transfer'].strip("'").split()
    assert '--unshare' in lines['cmds_image_share_revoke']
