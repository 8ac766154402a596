"""Deterministic fakes for the client layer."""

from unittest import mock

from glanceclient import exc as glance_exc

ALPHA = 'a1' * 16
BETA = 'b2' * 16
IMAGE_ID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'


def image(**over):
    img = {'id': IMAGE_ID, 'name': 'web', 'owner': ALPHA,
           'visibility': 'shared', 'protected': False, 'status': 'active'}
    img.update(over)
    return img


def member(member_id, status='pending', when='2026-11-27T08:00:00Z'):
    return {'image_id': IMAGE_ID, 'member_id': member_id, 'status': status,
            'created_at': when, 'updated_at': when}


def glance(images=(), members=None, get=None):
    """A mock glanceclient: ``images.list`` and ``image_members.list``.

    ``get`` is what ``images.get`` returns (an exception is raised);
    ``members`` likewise for ``image_members.list``.
    """
    client = mock.Mock()
    client.images.list.return_value = iter(list(images))
    if isinstance(get, Exception) or get is None:
        client.images.get.side_effect = get or glance_exc.HTTPNotFound()
    else:
        client.images.get.return_value = get
    if isinstance(members, Exception):
        client.image_members.list.side_effect = members
    else:
        client.image_members.list.return_value = iter(list(members or []))
    return client


class FakeIdentity:
    """The Identity interface with fixed answers and a call log."""

    def __init__(self, project_id=ALPHA, project_name='alpha', admin=False,
                 names=None, exists=None):
        self.project_id = project_id
        self.project_name = project_name
        self.is_admin = admin
        self.names = names or {ALPHA: 'alpha'}
        self.exists = exists or {}
        self.calls = []

    def project_name_of(self, project_id):
        self.calls.append(('name', project_id))
        return self.names.get(project_id)

    def project_exists(self, project_id):
        self.calls.append(('exists', project_id))
        return self.exists.get(project_id)
