"""Finding the one image a user means, and changing it precisely."""

import json
import logging

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import identity

LOG = logging.getLogger(__name__)


def find_image(glance, ref, project):
    """Return the image named or identified by ``ref``.

    Members see a shared image only once they accepted it, unless the list
    asks for ``member_status=all``: that is what lets a consumer find, by
    name, an image still pending.  ``project`` names the caller's project
    in error messages.
    """
    if identity.looks_like_id(ref):
        try:
            return glance.images.get(ref)
        except glance_exc.HTTPNotFound:
            pass
    matches = list(glance.images.list(
        filters={'name': ref, 'member_status': 'all'}))
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


def update_image(glance, image_id, **values):
    """Replace top-level fields of an image in one JSON-patch request.

    glanceclient's ``images.update`` reads the image, diffs and re-reads;
    one PATCH that names exactly the fields we mean is cheaper and never
    touches anything else (the owner in particular).
    """
    ops = [{'op': 'replace', 'path': '/%s' % k, 'value': v}
           for k, v in sorted(values.items())]
    _resp, body = glance.http_client.patch(
        '/v2/images/%s' % image_id, data=json.dumps(ops),
        headers={'Content-Type':
                 'application/openstack-images-v2.1-json-patch'})
    return body
