"""Finding the one image a user means, owner or member alike."""

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
