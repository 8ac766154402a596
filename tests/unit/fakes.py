"""Deterministic fakes for the client layer.

``FakeGlance`` is a real ``GlanceAPI`` (the door, its retry policy and its
error translation) whose adapter is an in-memory Glance v2: images and
members that answer at the HTTP level as Glance does (the same status
codes and messages, probed on a real Glance), image data (``/file``,
``/stage``), imports (``/import``: glance-direct and glance-download,
synchronously), ``/info/import`` and ``/info/usage``.  It records every
request for exact assertions, and answers injected failures (``fail``).
"""

import hashlib
import io
import json
import sys
from unittest import mock
import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from requests import structures

from osc_imageshare.api import glance as door
from osc_imageshare.api import identity
from osc_imageshare import errors

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


class Response:
    """What a raw keystoneauth request returns, as far as we read it."""

    def __init__(self, status_code=200, body=None, data=b'', headers=None,
                 text=None):
        self.status_code = status_code
        self.headers = structures.CaseInsensitiveDict(headers or {})
        self._body = body
        self.data = data
        self.text = text if text is not None else (
            json.dumps(body) if body is not None else '')
        if body is not None:
            self.headers.setdefault('content-type', 'application/json')
        self.closed = False

    def json(self):
        if self._body is None:
            return json.loads(self.text)
        return self._body

    def iter_content(self, size):
        return (self.data[i:i + size] for i in range(0, len(self.data), size))

    def close(self):
        self.closed = True


def refusal(status, message):
    """Glance's error answer: its JSON error body with ``message``."""
    return Response(status, {'error': {'code': status, 'message': message,
                                       'title': TITLES.get(status, '')}})


TITLES = {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found',
          409: 'Conflict', 413: 'Request Entity Too Large',
          429: 'Too Many Requests', 500: 'Internal Server Error',
          502: 'Bad Gateway', 503: 'Service Unavailable',
          504: 'Gateway Timeout'}


def answer(status, body=None, headers=None, text=None):
    """An injected answer: ``status`` with a JSON ``body`` or a ``text``."""
    return Response(status, body, headers=headers, text=text)


def reset():
    """An injected connection reset, as keystoneauth raises it."""
    return ks_exc.ConnectFailure(
        'Unable to establish connection to http://glance: '
        "('Connection aborted.', ConnectionResetError(104, "
        "'Connection reset by peer'))")


def times(n, failure):
    """``failure`` for the next ``n`` requests, then the real answer."""
    return [failure] * n


# What glance-download copies from the source (Glance's default list).
DOWNLOAD_PROPERTIES = ('hw_', 'trait:', 'os_distro', 'os_secure_boot',
                       'os_type')


class FakeGlance(door.GlanceAPI):
    """Glance v2 behind the real door; ``calls`` records each request.

    ``members`` maps image IDs to member dicts; ``fail`` maps ``(METHOD,
    path)`` (no query) to a failure, a function of the request body
    returning one (or None to let the request through), or a list of
    them used one per request (``times(n, failure)``).  A failure is a
    project exception (``errors.NotFound('...')``: answered with its
    status), an ``answer(status, body, headers)``, or any other exception
    (``reset()``; ``errors.TransportError``: a connection failure), which
    the adapter raises.  ``data`` maps image IDs to their bytes.  Like a
    configured Glance: ``algo`` (its hashing_algorithm), ``methods``
    (enabled_import_methods; None: no /info/import), ``upload`` (False:
    upload_image refused by policy), ``convert_to`` (image_conversion's
    output format), ``regions`` (region name -> FakeGlance, for
    glance-download), ``quota`` (/info/usage).  ``sleeps`` records the
    retry policy's waits (no real sleep).
    """

    session = auth = None   # no keystoneauth session: no token to read

    def __init__(self, images=(), members=None, fail=None, owner=ALPHA,
                 data=None, algo='sha512', methods=None, upload=True,
                 convert_to=None, regions=None, quota=None,
                 region_name='RegionOne', reads_regions=True, retries=3):
        self.sleeps = []
        super().__init__(self, region_name=region_name, interface='public',
                         endpoint=None,
                         identity='http://127.0.0.1/identity/v3',
                         reach=FakeGlance._region, retries=retries,
                         sleep=self.sleeps.append,
                         clock=lambda: sum(self.sleeps))
        self.owner = owner      # the project that creates images
        self.created = 0
        self.deleted_ids = set()
        self.images = {i['id']: dict(i) for i in images}
        self.members = {iid: {m['member_id']: dict(m) for m in ms}
                        for iid, ms in (members or {}).items()}
        self.fail = dict(fail or {})
        self.calls = []
        self.data = dict(data or {})
        self.staged = {}
        self.algo = algo
        self.methods = methods
        self.uploads = upload
        self.convert_to = convert_to
        self.regions = regions or {}
        self.quota = quota
        self.on_data = None     # called with each chunk received
        self.reads_regions = reads_regions
        self.import_fails = False
        self.tasks = {}         # image ID -> its import tasks

    def __setattr__(self, name, value):
        # ``upload = False`` (the constructor's switch) refuses uploads by
        # policy; the door's ``upload`` method keeps its name.
        if name == 'upload' and isinstance(value, bool):
            name = 'uploads'
        super().__setattr__(name, value)

    def _region(self, region):
        """The same credentials on another region's Glance."""
        if self.reads_regions:
            return self.regions[region]
        return FakeGlance(region_name=region)

    # -- the adapter: keystoneauth's request signature
    def request(self, url, method, raise_exc=True, data=None, json=None,
                headers=None, stream=False):
        assert raise_exc is False
        if method == 'PATCH':
            assert headers == {'Content-Type': door.PATCH_TYPE}
            body = _loads(data)
        elif json is not None:
            body = json
        else:
            body = None if data is None else '<data>'
        path = url.partition('?')[0]
        if path.endswith(('/file', '/stage', '/import', '/tasks')) or \
                path.startswith('/v2/info/'):
            self.calls.append((method, url) if body is None
                              else (method, url, body))
            failed = self._failure((method, path), body)
            if failed is not None:
                return failed
            return self._raw(method, path, data, json, headers)
        resp, body = getattr(self, method.lower())(url, data=body)
        return Response(200, body) if resp is None else resp

    # -- glanceclient's HTTP-client methods, as the fake had them: a test
    # may wrap one to act between requests; ``(response, body)``.
    def get(self, url, **kw):
        return self._answer('GET', url, None)

    def post(self, url, data=None, **kw):
        return self._answer('POST', url, data)

    def put(self, url, data=None, **kw):
        return self._answer('PUT', url, data)

    def patch(self, url, data=None, **kw):
        return self._answer('PATCH', url, data)

    def delete(self, url, **kw):
        return self._answer('DELETE', url, None)

    def _answer(self, method, url, data):
        resp = self._call(method, url, data)
        return resp, door.body_of(resp)

    def _call(self, method, url, data):
        """The JSON API: records the request and answers it."""
        self.calls.append((method, url) if data is None
                          else (method, url, data))
        path, _, query = url.partition('?')
        failed = self._failure((method, path), data)
        if failed is not None:
            return failed
        parts = urllib.parse.unquote(path).strip('/').split('/')
        if len(parts) == 2:
            if method == 'POST':
                return self._create(data)
            return Response(body=self._page(dict(
                urllib.parse.parse_qsl(query))))
        img = self.images.get(parts[2])
        if img is None:
            return refusal(404, 'No image found with ID %s' % parts[2]
                           if len(parts) == 3
                           else 'Image %s not found.' % parts[2])
        if len(parts) == 3:
            return self._image(method, img, data)
        return self._members(method, img, parts[4:], data)

    def _raw(self, method, path, data, body, headers):
        """Image data, import, tasks, info."""
        parts = path.strip('/').split('/')
        if parts[1] == 'info':
            return self._info(parts[2])
        img = self.images.get(parts[2])
        if img is None:
            return refusal(404, 'No image found with ID %s' % parts[2])
        return self._data(method, img, parts[3], data, body, headers)

    def _failure(self, key, body):
        """The injected answer for this request, or None."""
        failure = self.fail.get(key)
        if isinstance(failure, list):
            failure = failure.pop(0) if failure else None
        if callable(failure) and not isinstance(failure, Exception):
            failure = failure(body)
        if failure is None or isinstance(failure, Response):
            return failure
        if isinstance(failure, errors.GlanceError):
            return Response(failure.code, {'error': {
                'code': failure.code, 'message': failure.message}},
                headers=failure.headers)
        if isinstance(failure, errors.TransportError):
            raise ks_exc.ConnectFailure(str(failure))
        raise failure

    # -- behaviour
    def _info(self, what):
        if what == 'import' and self.methods is not None:
            return Response(body={'import-methods': {
                'type': 'array', 'value': list(self.methods)}})
        if what == 'usage' and self.quota is not None:
            return Response(body={'usage': self.quota})
        return refusal(404, '404 Not Found')

    def _create(self, data):
        self.created += 1
        img = dict(data, status='queued', created_at=WHEN)
        img.setdefault('id', 'new-%d' % self.created)
        if img['id'] in self.images or img['id'] in self.deleted_ids:
            # As Glance: a deleted image's row keeps its ID.
            return refusal(409, 'Image ID %s already exists!' % img['id'])
        img.setdefault('owner', self.owner)
        self.images[img['id']] = img
        headers = {}
        if self.methods:
            headers[door.METHODS_HEADER] = ','.join(self.methods)
        return Response(201, dict(img), headers=headers)

    def _image(self, method, img, data):
        if method == 'DELETE':
            del self.images[img['id']]
            self.deleted_ids.add(img['id'])
            return Response(204)
        if method == 'PATCH':
            gone = [op['path'] for op in data if op['op'] == 'remove'
                    and op['path'].lstrip('/') not in img]
            if gone:    # as Glance: nothing of the patch is applied
                return refusal(409, 'Property %s does not exist.'
                               % gone[0].lstrip('/'))
            for op in data:
                if op['op'] == 'remove':
                    img.pop(op['path'].lstrip('/'))
                else:
                    img[op['path'].lstrip('/')] = op['value']
        return Response(body=dict(img))

    def _data(self, method, img, action, data, body, headers):
        if method == 'GET' and action == 'file':
            return Response(data=self.data[img['id']])
        if method == 'PUT' and action == 'file':
            if not self.uploads:
                return refusal(403, 'You are not authorized to complete '
                                    'upload_image action.')
            assert headers == {'Content-Type': 'application/octet-stream'}
            self._store(img, self._receive(data), img.get('disk_format'))
            return Response(204)
        if method == 'PUT' and action == 'stage':
            self.staged[img['id']] = self._receive(data)
            img['status'] = 'uploading'
            return Response(204)
        if method == 'POST' and action == 'import':
            return self._import(img, body['method'])
        if method == 'GET' and action == 'tasks':
            return Response(body={'tasks': self.tasks.get(img['id'], [])})
        raise AssertionError('unexpected %s %s' % (method, action))

    def _receive(self, data):
        self.length = len(data)
        got = b''
        for chunk in data:
            if self.on_data:
                self.on_data(chunk)
            got += chunk
        return got

    def _store(self, img, got, disk_format):
        if self.convert_to and disk_format != self.convert_to:
            got = b'converted:' + got
            img['disk_format'] = self.convert_to
        self.data[img['id']] = got
        img.update(status='active', size=len(got), os_hash_algo=self.algo,
                   os_hash_value=hashlib.new(self.algo, got).hexdigest(),
                   checksum=hashlib.md5(got).hexdigest())

    def _import(self, img, method):
        name = method['name']
        if name not in (self.methods or ()):
            return refusal(409, 'Import method %s is not enabled' % name)
        if self.import_fails:
            img['os_glance_failed_import'] = 'fs'
            img['status'] = 'queued'
        elif name == 'glance-direct':
            self._store(img, self.staged.pop(img['id']),
                        img.get('disk_format'))
        elif name == 'glance-download':
            other = self.regions[method['glance_region']]
            src = other.images.get(method['glance_image_id'])
            if src is None:
                img['os_glance_failed_import'] = 'fs'
                return Response(202)
            img.update({k: v for k, v in src.items()
                        if k.startswith(DOWNLOAD_PROPERTIES)})
            img['disk_format'] = src.get('disk_format')
            img['container_format'] = src.get('container_format')
            self._store(img, other.data[src['id']], src.get('disk_format'))
        return Response(202)

    def _page(self, filters):
        """One page, as Glance: sorted, from ``marker``, with ``next``."""
        found = self._list(filters)
        if 'sort_key' not in filters:
            return {'images': found}
        found.sort(key=lambda i: i[filters['sort_key']])
        found = [i for i in found if i['id'] > filters.get('marker', '')]
        limit = int(filters['limit'])
        body = {'images': found[:limit]}
        if len(found) > limit:
            body['next'] = '/v2/images?' + urllib.parse.urlencode(sorted(
                dict(filters, marker=found[limit - 1]['id']).items()))
        return body

    def _list(self, filters):
        # Glance lists the images hidden by their owner only when asked.
        hidden = filters.get('os_hidden') == 'true'
        return [dict(i) for i in self.images.values()
                if all(i.get(k) == v or (isinstance(i.get(k), bool)
                                         and str(i[k]).lower() == v)
                       for k, v in filters.items()
                       if k not in ('member_status', 'limit', 'tag',
                                    'sort_key', 'sort_dir', 'marker',
                                    'os_hidden'))
                and bool(i.get('os_hidden')) == hidden
                and ('tag' not in filters
                     or filters['tag'] in (i.get('tags') or []))]

    def _members(self, method, img, rest, data):
        iid = img['id']
        if img['visibility'] != 'shared':
            if method == 'POST':
                return refusal(403, 'Not allowed to create members for '
                                    'image %s.' % iid)
            return refusal(403, 'Not allowed to list members for image '
                                '%s: Only shared images have members.' % iid)
        members = self.members.setdefault(iid, {})
        if not rest:
            if method == 'GET':
                return Response(body={'members': [
                    dict(m) for m in members.values()]})
            mid = data['member']
            if mid in members:
                return refusal(409, 'Member %s is duplicated for image %s'
                               % (mid, iid))
            members[mid] = member(mid, image_id=iid)
            return Response(body=dict(members[mid]))
        mid = rest[0]
        if mid not in members:
            return refusal(404, '%s not found in the member list of the '
                                'image %s.' % (mid, iid))
        if method == 'DELETE':
            del members[mid]
            return Response(204)
        if method == 'PUT':
            members[mid]['status'] = data['status']
        return Response(body=dict(members[mid]))


def _loads(data):
    return json.loads(data)


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

    def get_project(self, project_id):
        """As Identity: the dict, False if it does not exist, else None."""
        if self.exists.get(project_id) is False:
            return False
        name = self.names.get(project_id)
        return {'id': project_id, 'name': name} if name else None

    def is_user(self, user_id):
        return False

    def get_domain(self, domain_id):
        return None

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

    def get_configuration(self):
        return {}


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
