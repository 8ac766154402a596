"""``image share set`` rolls back a member whose accept Glance refused.

The caller is a user made here: member of alpha (it owns the image) and
only reader of beta.  ``share set`` accepts for beta with its token
rescoped to beta; under the secure-RBAC defaults Glance refuses a reader
that accept (modify_member) after the member was added, so the member is
removed again; under the legacy policies a reader may accept.
"""

import uuid

import pytest
import yaml

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique
from tests.functional.test_automation import ACCEPT_REFUSED
from tests.functional.test_automation import member_ids
from tests.functional.test_credentials import policy

pytestmark = [pytest.mark.policy]

IDENTITY = {'endpoint_filter': {'service_type': 'identity',
                                'interface': 'public'}}


def reader_of_beta(cloud, tmp_path):
    """A clouds.yaml entry: member of alpha, reader of beta."""
    keystone = cloud.session('admin')
    name, password = unique('ursula'), uuid.uuid4().hex
    user = keystone.post('/users', json={'user': {
        'name': name, 'password': password, 'domain_id': 'default'}},
        **IDENTITY).json()['user']
    for project, role in (('alpha', 'member'), ('beta', 'reader')):
        role_id = keystone.get('/roles', params={'name': role},
                               **IDENTITY).json()['roles'][0]['id']
        keystone.put('/projects/%s/users/%s/roles/%s' % (
            cloud.project(project), user['id'], role_id), **IDENTITY)
    with open(cloud.clouds_yaml) as f:
        clouds = yaml.safe_load(f)
    entry = dict(clouds['clouds']['alice-alpha'])
    entry['auth'] = dict(entry['auth'], username=name, password=password)
    clouds['clouds']['ursula-alpha'] = entry
    path = tmp_path / 'clouds.yaml'
    path.write_text(yaml.safe_dump(clouds))
    return str(path)


def test_set_rolls_back_a_refused_accept(cloud, tmp_path, monkeypatch):
    secure = policy(cloud) == 'secure'
    monkeypatch.setattr(cloud, 'clouds_yaml', reader_of_beta(cloud,
                                                             tmp_path))
    glance = cloud.glance('admin')
    beta, other = cloud.project('beta'), cloud.project('beta', 'other')
    # beta (refused under secure RBAC) and other/beta (added, pending:
    # the caller cannot accept for it): one pair fails, the other stands.
    img = cloud.make_image('ursula-alpha', visibility='private')
    res = cloud.run('ursula-alpha', 'image', 'share', 'set', img['id'],
                    '--member', 'beta', '--member', other, '-f', 'value',
                    '-c', 'Project ID', '-c', 'Before', '-c', 'After', '-c',
                    'Diff')
    rows = [line.split(' ', 3) for line in res.stdout.splitlines()]
    pending = [other, 'None', 'pending', 'added']
    if secure:
        assert res.returncode == 1, res.stderr
        # The failed pair has no row; the image's own change, which
        # stands, is in the row of the pair done.
        assert rows == [[other, 'None', 'pending', 'visibility '
                         'private->shared, added']]
        assert stderr_lines(res)[-2:] == [
            ACCEPT_REFUSED, 'Failed to set 1 of 2 image/project pairs']
        assert member_ids(cloud, img['id']) == {other: 'pending'}
    else:
        assert res.returncode == 0, res.stderr
        assert rows == [[beta, 'None', 'accepted', 'visibility '
                         'private->shared, added, accepted'], pending]
        assert member_ids(cloud, img['id']) == {beta: 'accepted',
                                                other: 'pending'}
    assert glance.images.get(img['id'])['visibility'] == 'shared'
    # Its only pair failing: the image is private again, as it was.
    img = cloud.make_image('ursula-alpha', visibility='private')
    res = cloud.run('ursula-alpha', 'image', 'share', 'set', img['id'],
                    '--member', 'beta')
    if not secure:
        assert res.returncode == 0, res.stderr
        return
    assert res.returncode == 1
    assert stderr_lines(res)[-2:] == [
        ACCEPT_REFUSED, 'Failed to set 1 of 1 image/project pairs']
    assert glance.images.get(img['id'])['visibility'] == 'private'
    glance.images.update(img['id'], visibility='shared')
    assert member_ids(cloud, img['id']) == {}
