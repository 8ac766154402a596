"""Deterministic fakes for the client layer.

``FakeGlance`` stands in for glanceclient's HTTP client: an in-memory set
of images and members that answers the few Glance v2 calls the plugin
makes as Glance does (the same status codes and messages, probed on a real
Glance), and records every call for exact assertions.
"""

import io
import json
import sys
from unittest import mock
import urllib.parse

from glanceclient import exc as glance_exc

from osc_imageshare import identity

ALPHA = 'a1' * 16
BETA = 'b2' * 16
IMAGE_ID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'
WHEN = '2026-11-27T08:00:00Z'


def image(**over):
    img = {'id': IMAGE_ID, 'name': 'web', 'owner': ALPHA,
           'visibility': 'shared', 'protected': False, 'status': 'active'}
    img.update(over)
    return img


def member(member_id, status='pending', image_id=IMAGE_ID):
    return {'image_id': image_id, 'member_id': member_id, 'status': status,
            'created_at': WHEN, 'updated_at': WHEN}


class FakeGlance:
    """Glance v2 at the HTTP-client level; ``calls`` records each call.

    ``members`` maps image IDs to member dicts; ``fail`` maps
    ``(METHOD, path)`` to an exception, or to a function of the request
    body returning one (or None to let the call through).
    """

    def __init__(self, images=(), members=None, fail=None, owner=ALPHA):
        self.owner = owner      # the project that creates images
        self.created = 0
        self.images = {i['id']: dict(i) for i in images}
        self.members = {iid: {m['member_id']: dict(m) for m in ms}
                        for iid, ms in (members or {}).items()}
        self.fail = dict(fail or {})
        self.calls = []
        self.http_client = self

    # -- the HTTP client interface glanceclient's managers use
    def get(self, url, **kw):
        return self._call('GET', url, None)

    def post(self, url, data=None, **kw):
        return self._call('POST', url, data)

    def put(self, url, data=None, **kw):
        return self._call('PUT', url, data)

    def patch(self, url, data=None, headers=None, **kw):
        assert headers == {'Content-Type':
                           'application/openstack-images-v2.1-json-patch'}
        return self._call('PATCH', url, json.loads(data))

    def delete(self, url, **kw):
        return self._call('DELETE', url, None)

    # -- behaviour
    def _call(self, method, url, data):
        self.calls.append((method, url) if data is None
                          else (method, url, data))
        path, _, query = url.partition('?')
        failure = self.fail.get((method, path))
        if callable(failure) and not isinstance(failure, Exception):
            failure = failure(data)
        if failure is not None:
            raise failure
        parts = path.strip('/').split('/')   # v2 images [id [members [m]]]
        if len(parts) == 2 and method == 'POST':
            self.created += 1
            img = dict(data, id='new-%d' % self.created, status='queued')
            img.setdefault('owner', self.owner)
            self.images[img['id']] = img
            return None, dict(img)
        if len(parts) == 2:
            return None, {'images': self._list(
                dict(urllib.parse.parse_qsl(query)))}
        img = self.images.get(parts[2])
        if img is None:
            if len(parts) == 3:
                raise glance_exc.HTTPNotFound(
                    'No image found with ID %s' % parts[2])
            raise glance_exc.HTTPNotFound('Image %s not found.' % parts[2])
        if len(parts) == 3:
            if method == 'DELETE':
                del self.images[img['id']]
                return None, None
            if method == 'PATCH':
                for op in data:
                    img[op['path'].lstrip('/')] = op['value']
            return None, dict(img)
        return self._members(method, img, parts[4:], data)

    def _list(self, filters):
        return [dict(i) for i in self.images.values()
                if all(i.get(k) == v for k, v in filters.items()
                       if k not in ('member_status', 'limit'))]

    def _members(self, method, img, rest, data):
        iid = img['id']
        if img['visibility'] != 'shared':
            if method == 'POST':
                raise glance_exc.HTTPForbidden(
                    'Not allowed to create members for image %s.' % iid)
            raise glance_exc.HTTPForbidden(
                'Not allowed to list members for image %s: Only shared '
                'images have members.' % iid)
        members = self.members.setdefault(iid, {})
        if not rest:
            if method == 'GET':
                return None, {'members': [dict(m) for m in
                                          members.values()]}
            mid = data['member']
            if mid in members:
                raise glance_exc.HTTPConflict(
                    'Member %s is duplicated for image %s' % (mid, iid))
            members[mid] = member(mid, image_id=iid)
            return None, dict(members[mid])
        mid = rest[0]
        if mid not in members:
            raise glance_exc.HTTPNotFound(
                '%s not found in the member list of the image %s.'
                % (mid, iid))
        if method == 'DELETE':
            del members[mid]
            return None, None
        if method == 'PUT':
            members[mid]['status'] = data['status']
        return None, dict(members[mid])


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

    def can_rescope(self):
        return True

    # The real wording, on these fixed answers.
    cannot_act_for = identity.Identity.cannot_act_for


class FakeClientManager:
    """The attributes of OSC's ClientManager the commands read."""

    def __init__(self):
        self.session = None
        self.auth_ref = mock.Mock()
        self.interface = 'public'
        self.region_name = 'RegionOne'


class FakeStdout(io.StringIO):
    """stdout that keeps what the command printed."""

    def make_string(self):
        return self.getvalue()


class FakeApp:
    """What a cliff command needs of its app: streams, options, clients."""

    def __init__(self):
        self.stdin = sys.stdin
        self.stdout = FakeStdout()
        self.stderr = sys.stderr
        self.api_version = {}
        self.options = mock.Mock(debug=False)
        self.client_manager = FakeClientManager()
