"""Glance, the one door: every request the plugin makes to an image service.

``GlanceAPI`` sends each request (the JSON API, image data, stage,
import, info, tasks) on a keystoneauth ``Adapter``, the one api/clients.py
builds from OSC's session as OSC's image commands reach Glance.  No
glanceclient model: those fetch a JSON schema before their first use, and
its body handling would send an upload chunked and read a download whole.

Every request follows the one retry policy (api/retry.py).  Failures
leave the door only as the project's exceptions: ``errors.GlanceError``
(a subclass per status: ``errors.NotFound``...) for an HTTP answer, and
``errors.TransportError`` for a connection that broke, in words.
"""

import heapq
import json
import logging
import shlex
import threading
import time
import urllib.parse
import uuid

from osc_imageshare.api import retry
from osc_imageshare import errors

LOG = logging.getLogger(__name__)
# Set once this process has sent Glance a write (any method but GET and
# HEAD): until then a signal can end a command with "nothing changed".
WROTE = threading.Event()

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
OCTETS = {'Content-Type': 'application/octet-stream'}
METHODS_HEADER = 'OpenStack-image-import-methods'
# Images per listing request where the plugin walks every page.
PAGE = 200


def is_uuid(ref):
    """True for the shapes Glance gives image IDs (hex UUIDs)."""
    try:
        value = uuid.UUID(ref or '')
    except ValueError:
        return False
    return ref in (str(value), value.hex)


def _broken_types():
    from keystoneauth1 import exceptions as ks_exc
    import requests

    return ks_exc.ConnectionError, requests.RequestException, OSError


class Check:
    """How to tell whether a write took effect when its answer is lost.

    ``read()`` returns what the write made (a dict; ``{}`` for a
    deletion) if it took effect, else None; ``command`` is the
    ``openstack`` command that shows it, for when reading fails too.
    """

    def __init__(self, read, command):
        self.read = read
        self.command = command


def _absent(get):
    """``{}`` once ``get()`` answers 404 (a deletion took effect)."""
    try:
        get()
    except errors.NotFound:
        return {}
    return None


def _patched(image, ops):
    """Whether ``image`` holds what the JSON-patch ``ops`` ask for."""
    for op in ops:
        key = op['path'][1:]
        if op['op'] == 'remove' and key in image:
            return False
        if op['op'] != 'remove' and image.get(key) != op['value']:
            return False
    return True


class GlanceAPI:
    """One Glance, as the caller (or a target project) reaches it.

    ``adapter``: a keystoneauth ``Adapter`` (``request(url, method,
    raise_exc=False, ...)``).  ``region_name``, ``interface``: how its URL
    was chosen; ``endpoint``: that URL; ``identity``: Keystone's URL, for
    messages; ``reach(api, region)``: ``api``'s credentials on ``region``'s
    Glance, a ``GlanceAPI`` (api/clients.py injects it); ``retries``: the retry
    bound (``--os-image-share-retries``).
    """

    PAGE = PAGE     # images per listing request where a caller walks pages

    def __init__(self, adapter, region_name=None, interface=None,
                 endpoint=None, identity=None, reach=None,
                 retries=retry.RETRIES, sleep=time.sleep,
                 clock=time.monotonic):
        self.adapter = adapter
        self.region_name = region_name
        self.interface = interface
        self.endpoint = endpoint
        self._identity = identity
        self._reach = reach
        self.policy = retry.Policy(retries, sleep=sleep, clock=clock)

    # ---------------------------------------------------------- context
    @property
    def session(self):
        """The keystoneauth session the requests are sent on."""
        return getattr(self.adapter, 'session', None)

    @property
    def auth(self):
        return getattr(self.adapter, 'auth', None)

    def get_endpoint(self):
        """The URL the requests go to, where it is fixed."""
        return self.endpoint

    def identity_url(self):
        """The Keystone URL the client authenticates with, where known."""
        auth = getattr(self.session, 'auth', None)
        url = self._identity or getattr(auth, 'auth_url', None)
        return url.rstrip('/') if isinstance(url, str) else None

    def in_region(self, region):
        """A GlanceAPI with the same credentials on ``region``'s Glance."""
        return self._reach(self, region)

    # ---------------------------------------------------------- requests
    def _send(self, method, url, side, kw):
        """One request, unjudged; a broken connection is TransportError.

        So is a 401 or 503 while Keystone does not answer: a Glance whose
        keystonemiddleware cannot reach Keystone to check the token
        answers 503 ('The Keystone service is temporarily unavailable'),
        or 401 with ``delay_auth_decision`` (Glance's default), and does
        nothing with the request; Keystone is then the service to name,
        and waiting for a retry would not help.
        """
        ks = self.identity_url()
        if method not in ('GET', 'HEAD'):
            WROTE.set()
        try:
            resp = self.adapter.request(url, method, raise_exc=False, **kw)
        except _broken_types() as e:
            err = errors.TransportError(errors.cause(
                e, side, self.endpoint, ks))
            err.identity = errors.keystone_broke(e, self.endpoint, ks)
            raise err from e
        if resp.status_code in (401, 503) and self.keystone_down():
            err = errors.TransportError(
                'Keystone (the identity service) at %s does not answer (%s '
                'answered HTTP %s)' % (ks, errors.glance_label(
                    side, self.endpoint), resp.status_code))
            err.identity = True
            raise err
        return resp

    def keystone_down(self):
        """Whether the Keystone this Glance's session uses is down.

        Asked without a token: any answer under 500 means it is up.
        """
        url, session = self.identity_url(), self.session
        if not url or session is None:
            return False
        try:
            return session.get(url, authenticated=False, raise_exc=False,
                               timeout=10).status_code >= 500
        except Exception:   # any failure to answer: it is down
            LOG.debug('Keystone at %s does not answer', url)
            return True

    def _request(self, method, url, side=None, kind=retry.SAFE,
                 check=None, **kw):
        """The response to a request, under the retry policy.

        An HTTP error is raised as the project's exception; a DELETE
        answered 404 after a retry is done (the first one landed).  A
        write with a ``check`` (a ``Check``) whose answer is lost for good
        (a timeout, a reset, a 500, 502 or 504 when the retries are used
        up) is read back first: a ``retry.Landed`` if it took effect, else
        the failure, saying what reading back found.
        """
        path = url.partition('?')[0]
        try:
            out = self.policy.call(
                lambda: self._send(method, url, side, kw), method, path,
                kind, check.read if check and kind == retry.CHECKED
                else None)
        except errors.TransportError as e:
            if check is None or e.identity or errors.broken_kind(
                    e.__cause__ or e) not in ('timeout', 'reset'):
                raise
            return self._read_back(check, e, method, path)
        if isinstance(out, retry.Landed):
            return out
        resp, retried = out
        if resp.status_code >= 400 and not (
                retried and method == 'DELETE' and resp.status_code == 404):
            err = errors.glance_error(resp.status_code, resp.text, method,
                                      path, resp.headers)
            if check is not None and resp.status_code in retry.FLAKY:
                return self._read_back(check, err, method, path)
            raise err
        return resp

    def _read_back(self, check, failure, method, path):
        """``retry.Landed`` if the write took effect, else raise ``failure``.

        Raised with what reading back found: not done (yet: a request
        that timed out may still be under way), or unknown (the read
        failed too), with the command that finds out.
        """
        try:
            found = check.read()
        except (errors.GlanceError, errors.TransportError) as e:
            raise errors.with_outcome(
                failure, 'whether %s %s took effect is unknown (reading it '
                'back failed: %s): find out with %s' % (
                    method, path, errors.describe(e, None), check.command))
        if found is not None:
            LOG.debug('The answer to %s %s was lost (%s); read back, it '
                      'took effect', method, path, failure)
            return retry.Landed(found)
        raise errors.with_outcome(
            failure, 'read back, %s %s had not taken effect (it may yet, if '
            'Glance is still acting on it): find out with %s' % (
                method, path, check.command))

    def _read(self, method, url, side=None, **kw):
        """The JSON body of an answer (None when it has none)."""
        resp = self._request(method, url, side, **kw)
        if isinstance(resp, retry.Landed):
            return resp.value
        return body_of(resp)

    # ---------------------------------------------------------- images
    def get_image(self, image_id, side=None):
        return self._read('GET', '/v2/images/%s' % image_id, side)

    def list_images(self, **filters):
        """Every image matching ``filters``, following Glance's pages."""
        url = '/v2/images?' + urllib.parse.urlencode(sorted(filters.items()))
        found = []
        while url:
            body = self._read('GET', url)
            found.extend(body['images'])
            url = body.get('next')
        return found

    def image_pages(self, filters, limit=None):
        """The pages (lists) of the images matching ``filters``, by ID.

        One request per page (Glance's ``limit``/``marker``): a generator,
        so a caller walking a large cloud holds one page at a time.
        """
        query = dict(filters, limit=limit or PAGE, sort_key='id',
                     sort_dir='asc')
        url = '/v2/images?' + urllib.parse.urlencode(sorted(query.items()))
        while url:
            body = self._read('GET', url)
            if body['images']:
                yield body['images']
            url = body.get('next')

    def iter_images(self, filters, include_hidden=True, limit=None):
        """Each image matching ``filters``, in ID order, a page at a time.

        Glance lists the images their owner hid (``os_hidden``) only when
        asked for them, and then only them: ``include_hidden`` reads both
        lists and merges them, still in ID order.
        """
        def each(extra):
            for page in self.image_pages(dict(filters, **extra), limit):
                yield from page
        if not include_hidden:
            return each({})
        return heapq.merge(each({}), each({'os_hidden': 'true'}),
                           key=lambda i: i['id'])

    def list_images_and_hidden(self, **filters):
        """``list_images``, the images hidden by their owner included.

        Glance leaves an image with ``os_hidden`` true out of every list
        unless asked with ``os_hidden=true``, and then lists only those:
        two lists make the answer, unless ``filters`` asks for one.
        """
        if 'os_hidden' in filters:
            return self.list_images(**filters)
        return (self.list_images(**filters)
                + self.list_images(os_hidden='true', **filters))

    def list_named(self, name, **filters):
        """The images named exactly ``name``, hidden ones included.

        Glance reads a ``name`` filter that starts with ``in:`` as a list
        of names (``in:a,b``): such a name is asked for quoted, and every
        answer is held to the exact name.
        """
        query = 'in:"%s"' % name if name.startswith('in:') and \
            '"' not in name else name
        return [i for i in self.list_images_and_hidden(name=query, **filters)
                if i.get('name') == name]

    def first_images(self, **filters):
        """The first page only of the images matching ``filters``."""
        url = '/v2/images?' + urllib.parse.urlencode(sorted(filters.items()))
        return self._read('GET', url)['images']

    def create_image(self, body):
        """``(image, import methods the answer announced or None)``.

        Sent again only after a 429 or 503 (see api/retry.py, CREATE).
        """
        resp = self._request('POST', '/v2/images', 'target', retry.CREATE,
                             json=body)
        methods = (resp.headers or {}).get(METHODS_HEADER)
        return body_of(resp), (None if methods is None else [
            m.strip() for m in methods.split(',') if m.strip()])

    def delete_image(self, image_id, side=None):
        self._request('DELETE', '/v2/images/%s' % image_id, side,
                      check=Check(lambda: _absent(
                          lambda: self.get_image(image_id, side)),
                          _show(image_id)))

    def update_image(self, image_id, **values):
        """Replace top-level fields of an image in one JSON-patch request."""
        return self.patch_image(image_id, replace=values)

    def patch_image(self, image_id, add=None, replace=None, remove=()):
        """Add, replace and remove properties in one JSON-patch request.

        A patch that removes is sent again only after reading the image
        (Glance answers 409 to removing what is gone: a remove that took
        effect but lost its answer would fail when sent again).
        """
        ops = [{'op': 'add', 'path': '/%s' % k, 'value': v}
               for k, v in sorted((add or {}).items())]
        ops += [{'op': 'replace', 'path': '/%s' % k, 'value': v}
                for k, v in sorted((replace or {}).items())]
        ops += [{'op': 'remove', 'path': '/%s' % k} for k in sorted(remove)]

        def landed():
            image = self.get_image(image_id)
            return image if _patched(image, ops) else None
        return self._read('PATCH', '/v2/images/%s' % image_id,
                          kind=retry.CHECKED if remove else retry.SAFE,
                          check=Check(landed, _show(image_id)),
                          data=json.dumps(ops),
                          headers={'Content-Type': PATCH_TYPE})

    # ---------------------------------------------------------- data
    def download(self, image_id):
        """The source image's data: a streamed response (``iter_content``).

        The request is retried as any GET; its body, read by the caller,
        never is.
        """
        return self._request('GET', '/v2/images/%s/file' % image_id,
                             'source', stream=True)

    def upload(self, image_id, data):
        """Stream ``data`` (an iterable with a ``len``) into the image.

        Never sent twice (api/retry.py, STREAM): the copy engine knows
        whether any byte left and restarts the copy if none did.
        """
        self._request('PUT', '/v2/images/%s/file' % image_id, 'target',
                      retry.STREAM, data=data, headers=dict(OCTETS))

    def stage(self, image_id, data):
        """Stream ``data`` into the image's staging area (glance-direct)."""
        self._request('PUT', '/v2/images/%s/stage' % image_id, 'target',
                      retry.STREAM, data=data, headers=dict(OCTETS))

    def import_image(self, image_id, method, **params):
        """Start an interoperable import; ``params`` join the method."""
        body = {'method': dict(params, name=method)}
        self._request('POST', '/v2/images/%s/import' % image_id, 'target',
                      retry.CREATE, json=body)

    def import_task_message(self, image):
        """The message of the image's import task under way, or None.

        Glance's task says how far it has stored the data ('Copied 512
        MiB'); a Glance that does not say, or refuses, answers None.
        """
        task_id = image.get('os_glance_import_task')
        if not task_id:
            return None
        try:
            tasks = (self._read('GET', '/v2/images/%s/tasks' % image['id'])
                     or {}).get('tasks') or []
        except (errors.GlanceError, errors.TransportError):
            return None
        return next((t.get('message') or None for t in tasks
                     if t.get('id') == task_id), None)

    def import_methods(self):
        """The import methods the Glance enables (None: it does not say)."""
        try:
            body = self._read('GET', '/v2/info/import') or {}
        except errors.GlanceError:
            return None
        return list(body.get('import-methods', {}).get('value') or [])

    def usage(self):
        """``GET /v2/info/usage``: {quota: {'limit', 'usage'}}, or None."""
        try:
            body = self._read('GET', '/v2/info/usage') or {}
        except errors.GlanceError:
            return None
        return body.get('usage') or None

    def delete_quietly(self, image_id, project=None):
        """Delete a partial copy; a sentence saying how it went."""
        where = ' in project %s' % project if project else ''
        try:
            self.delete_image(image_id, 'target')
        except errors.NotFound:
            return 'the partial copy %s was already gone' % image_id
        except (errors.GlanceError, errors.TransportError) as e:
            return ("the partial copy %s%s could not be deleted (%s): "
                    "delete it with 'openstack image delete %s', or re-run "
                    "this command, which deletes it" % (
                        image_id, where, errors.describe(e), image_id))
        return 'the partial copy %s%s was deleted' % (image_id, where)

    # ---------------------------------------------------------- members
    def list_members(self, image_id):
        return self._read('GET', '/v2/images/%s/members' % image_id)[
            'members']

    def get_member(self, image_id, member_id):
        return self._read('GET', _member_url(image_id, member_id))

    def add_member(self, image_id, member_id):
        """Add a member; after a failure, read it before sending again."""
        def landed():
            try:
                return self.get_member(image_id, member_id)
            except errors.NotFound:
                return None
        return self._read('POST', '/v2/images/%s/members' % image_id,
                          kind=retry.CHECKED,
                          check=Check(landed, _members(image_id)),
                          json={'member': member_id})

    def set_member_status(self, image_id, member_id, status):
        def landed():
            found = self.get_member(image_id, member_id)
            return found if found.get('status') == status else None
        return self._read('PUT', _member_url(image_id, member_id),
                          check=Check(landed, _members(image_id)),
                          json={'status': status})

    def remove_member(self, image_id, member_id):
        self._request('DELETE', _member_url(image_id, member_id),
                      check=Check(lambda: _absent(
                          lambda: self.get_member(image_id, member_id)),
                          _members(image_id)))

    # ---------------------------------------------------------- finding
    def find_images(self, refs, project, check=None):
        """``(images, {ref: error})`` for several refs; one failing is no stop.

        ``check(image)`` may return why an image found cannot be used.
        """
        found, failed = [], {}
        for ref in refs:
            try:
                image = self.find_image(ref, project)
            except errors.ImageShareError as e:
                failed[ref] = str(e)
                continue
            problem = check(image) if check else None
            if problem:
                failed[ref] = problem
            else:
                found.append(image)
        return found, failed

    def find_image(self, ref, project):
        """Return the image named or identified by ``ref``.

        Members see a shared image only once they accepted it, unless the
        list asks for ``member_status=all``: that is what lets a consumer
        find, by name, an image still pending; a hidden image
        (``os_hidden``) is found too, as ``openstack image show`` finds it.
        ``project`` names the caller's project in error messages.
        """
        if is_uuid(ref):
            try:
                return self.get_image(ref)
            except errors.NotFound:
                pass
        matches = self.list_named(ref, member_status='all')
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise errors.ImageShareError(
                "No image named or with ID '%s' is visible to project %s: it "
                "does not exist, or it is neither owned by, shared with, nor "
                "public to that project" % (ref, project))
        raise errors.ImageShareError(
            "More than one image named '%s' is visible to project %s (%s); "
            "use the image ID" % (ref, project, ', '.join(
                '%s owned by %s' % (i['id'], i.get('owner'))
                for i in matches)))


def body_of(resp):
    """The JSON of an answer, or None (204, or no JSON)."""
    if resp.status_code == 204 or not resp.text:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def _show(image_id):
    return "'openstack image show %s'" % shlex.quote(image_id)


def _members(image_id):
    return "'openstack image member list %s'" % shlex.quote(image_id)


def _member_url(image_id, member_id):
    # Glance takes any string as a member ('a#b', 'c?d'): quote it, or
    # the request would address another member, or none.
    return '/v2/images/%s/members/%s' % (
        image_id, urllib.parse.quote(member_id, safe=''))
