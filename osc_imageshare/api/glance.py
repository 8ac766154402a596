"""Glance, the one door: every request the plugin makes to an image service.

The JSON API (images, members, info) goes through glanceclient's HTTP
client (the OSC session, its endpoint and errors) but not through its
models: those fetch a JSON schema before their first use, one more round
trip per client, and its ``images.update`` reads, diffs and re-reads an
image to change one field.  Image data (download, upload, stage) goes
through the same session past glanceclient's body handling, which would
send an upload chunked, without a length, and read a download whole.

Failures come out in one of two forms: Glance's HTTP answers as
glanceclient's ``HTTPException`` subclasses (callers test the status),
and a connection that broke as ``TransportError``, whose message says
how, in words (``cause``).
"""

import heapq
import json
import logging
import re
import socket
import time
import urllib.parse

from glanceclient import exc as glance_exc
from keystoneauth1 import adapter as ks_adapter

from osc_imageshare.api import identity
from osc_imageshare import errors

LOG = logging.getLogger(__name__)

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
OCTETS = {'Content-Type': 'application/octet-stream'}
METHODS_HEADER = 'OpenStack-image-import-methods'
# Images per listing request where the plugin walks every page.
PAGE = 200


class TransportError(errors.ImageShareError):
    """The connection to a Glance broke; the message says how.

    ``identity`` is true when Keystone was what failed (the token the
    request needed, or the Glance's own token check): Glance did not act
    on the request.
    """

    identity = False


def cause(exc, side=None, where=None, identity=None):
    """How a request to a Glance broke, in words.

    ``side`` ('source', 'target', or None for the caller's own Glance)
    and ``where`` (its URL) name the Glance; ``identity`` (Keystone's
    URL) tells when the connection that broke was Keystone's.
    """
    seen = _chain(exc)
    types = tuple(type(e) for e in seen)
    text = ' '.join(str(e) for e in seen)
    label = _broken_service(text, side, where, identity)
    if any(issubclass(t, (socket.timeout, TimeoutError)) for t in types) \
            or 'timed out' in text.lower():
        return 'timed out waiting for %s' % label
    if any(issubclass(t, ConnectionRefusedError) for t in types) \
            or 'Connection refused' in text:
        return 'connection refused by %s (is it down?)' % label
    if any(issubclass(t, (ConnectionResetError, BrokenPipeError))
           for t in types) or any(w in text for w in (
               'Connection reset', 'Broken pipe', 'Connection aborted',
               'RemoteDisconnected', 'IncompleteRead', 'closed connection',
               'Connection broken')):
        return 'connection reset by %s' % label
    return 'the connection to %s failed (%s)' % (
        label, ' '.join(str(exc).split()))


def _chain(exc):
    """``exc``, its causes, contexts and arguments that are exceptions."""
    seen, todo = [], [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([e.__cause__, e.__context__] + list(e.args))
    return seen


_UNREACHED = re.compile(r'Unable to establish connection to (\S+?):? ')


def _keystone_broke(text, where, identity):
    """Whether the connection that broke (``text``) was Keystone's."""
    m = _UNREACHED.search(text + ' ')
    url = m.group(1) if m else None
    return bool(url and identity and url.startswith(identity.rstrip('/'))
                and not (where and url.startswith(where)))


def _broken_service(text, side, where, identity):
    """'the Glance at URL', or 'Keystone (identity) at URL' if it broke."""
    if _keystone_broke(text, where, identity):
        return 'Keystone (the identity service) at %s' % identity
    label = 'the %s Glance' % side if side else 'the Glance'
    return label + (' at %s' % where if where else '')


def identity_url(glance):
    """The Keystone URL a client (or its HTTP client) authenticates with."""
    client = getattr(glance, 'http_client', glance)
    auth = getattr(getattr(client, 'session', None), 'auth', None)
    url = getattr(client, 'identity_url', None) or getattr(
        auth, 'auth_url', None)
    return url.rstrip('/') if isinstance(url, str) else None


def _where(glance):
    """The URL a client sends its requests to, where it is fixed."""
    where = getattr(glance.http_client, 'endpoint_override', None)
    return where if isinstance(where, str) else None


def describe(exc, side='target'):
    """One line for any failure of a request to a Glance."""
    if isinstance(exc, glance_exc.HTTPException):
        return '%s answered HTTP %s: %s' % (
            'the %s Glance' % side if side else 'Glance',
            getattr(exc, 'code', '?'), errors.glance_message(exc))
    if isinstance(exc, errors.ImageShareError):
        return str(exc)
    return cause(exc, side)


_BROKEN = (glance_exc.CommunicationError, glance_exc.InvalidEndpoint,
           OSError)


def _json(glance, method, url, side=None, **kw):
    """A JSON API call: ``(response, body)``; a broken link is one line."""
    call = getattr(glance.http_client, method.lower())
    try:
        return call(url, **kw)
    except (glance_exc.HTTPUnauthorized,
            glance_exc.HTTPServiceUnavailable) as e:
        _if_keystone_down(e, glance, side)
        raise
    except _BROKEN as e:
        if method not in ('GET', 'DELETE'):
            raise _broken(e, glance, side) from e
        first = e
    # Once more for idempotent calls: a Glance that answered a refused
    # upload early closes that connection, which the pool may hand out.
    try:
        return call(url, **kw)
    except _BROKEN as e:
        raise _broken(e, glance, side) from first


def _broken(e, glance, side):
    where, ks = _where(glance), identity_url(glance)
    err = TransportError(cause(e, side, where, ks))
    err.identity = _keystone_broke(' '.join(map(str, _chain(e))), where, ks)
    return err


def _if_keystone_down(e, glance, side):
    """A Glance's HTTP 401 or 503: Keystone's if Keystone does not answer.

    A Glance whose keystonemiddleware cannot reach Keystone to check a
    token answers 503 ('The Keystone service is temporarily unavailable'),
    or 401 with ``delay_auth_decision`` (Glance's default), without acting
    on the request: then Keystone is the service to name.
    """
    if not keystone_down(glance.http_client):
        return
    err = TransportError(
        'Keystone (the identity service) at %s does not answer (%s answered '
        'HTTP %s)' % (identity_url(glance), _broken_service(
            '', side, _where(glance), None), getattr(e, 'code', '?')))
    err.identity = True
    raise err from e


def keystone_down(http):
    """Whether the Keystone that ``http`` (a Glance's client) uses is down.

    Asked without a token: any answer under 500 means it is up.
    """
    url = identity_url(http)
    session = getattr(http, 'session', None)
    if not url or session is None:
        return False
    try:
        return session.get(url, authenticated=False, raise_exc=False,
                           timeout=10).status_code >= 500
    except Exception:   # any failure to answer: it is down
        LOG.debug('Keystone at %s does not answer', url)
        return True


def _send(client, method, url, **kw):
    if isinstance(client, ks_adapter.Adapter):
        return ks_adapter.Adapter.request(client, url, method, **kw)
    return client.request(url, method, **kw)   # the unit tests' fake


def request(glance, method, url, side='target', **kw):
    """A request on the client's session, past glanceclient's body code."""
    from keystoneauth1 import exceptions as ks_exc
    import requests

    try:
        resp = _send(glance.http_client, method, url, raise_exc=False, **kw)
    except (ks_exc.ConnectionError, requests.RequestException, OSError) as e:
        raise _broken(e, glance, side) from e
    if resp.status_code >= 400:
        raise glance_exc.from_response(resp, resp.text)
    return resp


# -------------------------------------------------------------- images
def get_image(glance, image_id, side=None):
    return _json(glance, 'GET', '/v2/images/%s' % image_id, side)[1]


def list_images(glance, **filters):
    """Every image matching ``filters``, following Glance's pages."""
    url = '/v2/images?' + urllib.parse.urlencode(sorted(filters.items()))
    found = []
    while url:
        body = _json(glance, 'GET', url)[1]
        found.extend(body['images'])
        url = body.get('next')
    return found


def image_pages(glance, filters, limit=None):
    """The pages (lists) of the images matching ``filters``, by ID.

    One request per page (Glance's ``limit``/``marker``): a generator,
    so a caller walking a large cloud holds one page at a time.
    """
    query = dict(filters, limit=limit or PAGE, sort_key='id',
                 sort_dir='asc')
    url = '/v2/images?' + urllib.parse.urlencode(sorted(query.items()))
    while url:
        body = _json(glance, 'GET', url)[1]
        if body['images']:
            yield body['images']
        url = body.get('next')


def iter_images(glance, filters, include_hidden=True, limit=None):
    """Each image matching ``filters``, in ID order, a page at a time.

    Glance lists the images their owner hid (``os_hidden``) only when
    asked for them, and then only them: ``include_hidden`` reads both
    lists and merges them, still in ID order.
    """
    def each(extra):
        for page in image_pages(glance, dict(filters, **extra), limit):
            yield from page
    if not include_hidden:
        return each({})
    return heapq.merge(each({}), each({'os_hidden': 'true'}),
                       key=lambda i: i['id'])


def list_images_and_hidden(glance, **filters):
    """``list_images``, the images hidden by their owner included.

    Glance leaves an image with ``os_hidden`` true out of every list
    unless asked with ``os_hidden=true``, and then lists only those: two
    lists make the answer, unless ``filters`` asks for one of them.
    """
    if 'os_hidden' in filters:
        return list_images(glance, **filters)
    return (list_images(glance, **filters)
            + list_images(glance, os_hidden='true', **filters))


def first_images(glance, **filters):
    """The first page only of the images matching ``filters``."""
    url = '/v2/images?' + urllib.parse.urlencode(sorted(filters.items()))
    return _json(glance, 'GET', url)[1]['images']


def in_region(glance, region):
    """A client with the same credentials on the Glance of ``region``."""
    client = glance.http_client
    if not isinstance(client, ks_adapter.Adapter):
        return client.in_region(region)     # the unit tests' fake
    from osc_imageshare.api import clients

    return clients.in_region(glance, region)


def create_image(glance, body):
    """``(image, import methods the answer announced or None)``."""
    resp, image = _json(glance, 'POST', '/v2/images', 'target', data=body)
    headers = getattr(resp, 'headers', None) or {}
    methods = headers.get(METHODS_HEADER)
    return image, (None if methods is None else
                   [m.strip() for m in methods.split(',') if m.strip()])


def delete_image(glance, image_id, side=None):
    _json(glance, 'DELETE', '/v2/images/%s' % image_id, side)


def update_image(glance, image_id, **values):
    """Replace top-level fields of an image in one JSON-patch request."""
    return patch_image(glance, image_id, replace=values)


def patch_image(glance, image_id, add=None, replace=None, remove=()):
    """Add, replace and remove properties in one JSON-patch request."""
    ops = [{'op': 'add', 'path': '/%s' % k, 'value': v}
           for k, v in sorted((add or {}).items())]
    ops += [{'op': 'replace', 'path': '/%s' % k, 'value': v}
            for k, v in sorted((replace or {}).items())]
    ops += [{'op': 'remove', 'path': '/%s' % k} for k in sorted(remove)]
    return _json(glance, 'PATCH', '/v2/images/%s' % image_id,
                 data=json.dumps(ops),
                 headers={'Content-Type': PATCH_TYPE})[1]


# -------------------------------------------------------------- data
def download(glance, image_id):
    """The source image's data: a streamed response (``iter_content``)."""
    return request(glance, 'GET', '/v2/images/%s/file' % image_id,
                   side='source', stream=True)


def upload(glance, image_id, data):
    """Stream ``data`` (an iterable with a ``len``) into the image."""
    request(glance, 'PUT', '/v2/images/%s/file' % image_id, data=data,
            headers=dict(OCTETS))


def stage(glance, image_id, data):
    """Stream ``data`` into the image's staging area (glance-direct)."""
    request(glance, 'PUT', '/v2/images/%s/stage' % image_id, data=data,
            headers=dict(OCTETS))


def import_image(glance, image_id, method, **params):
    """Start an interoperable import; ``params`` join the method."""
    body = {'method': dict(params, name=method)}
    request(glance, 'POST', '/v2/images/%s/import' % image_id, json=body)


def import_task_message(glance, image):
    """The message of the image's import task under way, or None.

    Glance's task says how far it has stored the data ('Copied 512
    MiB'); a Glance that does not say, or refuses, answers None.
    """
    task_id = image.get('os_glance_import_task')
    if not task_id:
        return None
    try:
        tasks = request(glance, 'GET', '/v2/images/%s/tasks'
                        % image['id']).json().get('tasks') or []
    except (glance_exc.HTTPException, TransportError, ValueError):
        return None
    return next((t.get('message') or None for t in tasks
                 if t.get('id') == task_id), None)


def import_methods(glance):
    """The import methods the Glance enables, or None if it does not say."""
    try:
        resp = request(glance, 'GET', '/v2/info/import')
    except glance_exc.HTTPException:
        return None
    return list(resp.json().get('import-methods', {}).get('value') or [])


def usage(glance):
    """``GET /v2/info/usage``: {quota: {'limit', 'usage'}}, or None."""
    try:
        resp = request(glance, 'GET', '/v2/info/usage')
    except glance_exc.HTTPException:
        return None
    return resp.json().get('usage') or None


def delete_quietly(glance, image_id, project=None):
    """Delete a partial copy; a sentence saying how it went."""
    where = ' in project %s' % project if project else ''
    try:
        for pause in (0.5, 1, 2, None):
            try:
                delete_image(glance, image_id, 'target')
                break
            except glance_exc.HTTPException as e:
                # A Glance busy with the upload being cut may answer 5xx.
                if pause is None or not (getattr(e, 'code', 0) or 0) >= 500:
                    raise
                time.sleep(pause)
    except glance_exc.HTTPNotFound:
        return 'the partial copy %s was already gone' % image_id
    except (glance_exc.HTTPException, TransportError) as e:
        return ("the partial copy %s%s could not be deleted (%s): delete it "
                "with 'openstack image delete %s', or re-run this command, "
                "which deletes it" % (image_id, where, describe(e),
                                      image_id))
    return 'the partial copy %s%s was deleted' % (image_id, where)


# -------------------------------------------------------------- members
def list_members(glance, image_id):
    return _json(glance, 'GET', '/v2/images/%s/members' % image_id)[1][
        'members']


def _member_url(image_id, member_id):
    # Glance takes any string as a member ('a#b', 'c?d'): quote it, or
    # the request would address another member, or none.
    return '/v2/images/%s/members/%s' % (
        image_id, urllib.parse.quote(member_id, safe=''))


def get_member(glance, image_id, member_id):
    return _json(glance, 'GET', _member_url(image_id, member_id))[1]


def add_member(glance, image_id, member_id):
    return _json(glance, 'POST', '/v2/images/%s/members' % image_id,
                 data={'member': member_id})[1]


def set_member_status(glance, image_id, member_id, status):
    return _json(glance, 'PUT', _member_url(image_id, member_id),
                 data={'status': status})[1]


def remove_member(glance, image_id, member_id):
    _json(glance, 'DELETE', _member_url(image_id, member_id))


# -------------------------------------------------------------- finding


def find_images(glance, refs, project, check=None):
    """``(images, {ref: error})`` for several refs; one failing is no stop.

    ``check(image)`` may return why an image found cannot be used.
    """
    found, failed = [], {}
    for ref in refs:
        try:
            image = find_image(glance, ref, project)
        except errors.ImageShareError as e:
            failed[ref] = str(e)
            continue
        problem = check(image) if check else None
        if problem:
            failed[ref] = problem
        else:
            found.append(image)
    return found, failed


def find_image(glance, ref, project):
    """Return the image named or identified by ``ref``.

    Members see a shared image only once they accepted it, unless the list
    asks for ``member_status=all``: that is what lets a consumer find, by
    name, an image still pending; a hidden image (``os_hidden``) is found
    too, as ``openstack image show`` finds it.  ``project`` names the
    caller's project in error messages.
    """
    if identity.looks_like_id(ref):
        try:
            return get_image(glance, ref)
        except glance_exc.HTTPNotFound:
            pass
    matches = list_images_and_hidden(glance, name=ref, member_status='all')
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
            '%s owned by %s' % (i['id'], i.get('owner')) for i in matches)))
