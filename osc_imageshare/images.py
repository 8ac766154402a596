"""Glance's image and member API, and finding the image a user means.

Requests go through glanceclient's HTTP client (the OSC session, its
endpoint and errors) but not through its models: those fetch a JSON
schema before their first use, one more round trip per client, and its
``images.update`` reads, diffs and re-reads an image to change one field.
"""

import json
import logging
import urllib.parse

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import identity

LOG = logging.getLogger(__name__)

PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'


def get_image(glance, image_id):
    return glance.http_client.get('/v2/images/%s' % image_id)[1]


def list_images(glance, **filters):
    """Every image matching ``filters``, following Glance's pages."""
    url = '/v2/images?' + urllib.parse.urlencode(sorted(filters.items()))
    found = []
    while url:
        body = glance.http_client.get(url)[1]
        found.extend(body['images'])
        url = body.get('next')
    return found


def update_image(glance, image_id, **values):
    """Replace top-level fields of an image in one JSON-patch request."""
    ops = [{'op': 'replace', 'path': '/%s' % k, 'value': v}
           for k, v in sorted(values.items())]
    return glance.http_client.patch(
        '/v2/images/%s' % image_id, data=json.dumps(ops),
        headers={'Content-Type': PATCH_TYPE})[1]


def list_members(glance, image_id):
    return glance.http_client.get('/v2/images/%s/members' % image_id)[1][
        'members']


def get_member(glance, image_id, member_id):
    return glance.http_client.get('/v2/images/%s/members/%s'
                                  % (image_id, member_id))[1]


def add_member(glance, image_id, member_id):
    return glance.http_client.post('/v2/images/%s/members' % image_id,
                                   data={'member': member_id})[1]


def set_member_status(glance, image_id, member_id, status):
    return glance.http_client.put('/v2/images/%s/members/%s'
                                  % (image_id, member_id),
                                  data={'status': status})[1]


def remove_member(glance, image_id, member_id):
    glance.http_client.delete('/v2/images/%s/members/%s'
                              % (image_id, member_id))


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
    name, an image still pending.  ``project`` names the caller's project
    in error messages.
    """
    if identity.looks_like_id(ref):
        try:
            return get_image(glance, ref)
        except glance_exc.HTTPNotFound:
            pass
    matches = list_images(glance, name=ref, member_status='all')
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
