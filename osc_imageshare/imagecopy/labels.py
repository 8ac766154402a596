"""The labels a copy carries, and what they say of the run making it.

A copy records its source (``SOURCE_ID``, ``SOURCE_HASH``, and once
verified ``SOURCE_CLOUD``) and, while it is made, who makes it
(``COPIER``: host, pid and process start of the run); ``is_live`` tells
from them whether that run may still be at work, ``clean_leftovers``
deletes what runs that died left behind.
"""

import logging

from osc_imageshare.batch import liveness
from osc_imageshare import errors

LOG = logging.getLogger(__name__)

SOURCE_ID = 'imageshare_source_id'
SOURCE_CLOUD = 'imageshare_source_cloud'
SOURCE_HASH = 'imageshare_source_hash'
COPIER = 'imageshare_copier'        # host:pid:process start of the run
# Written by earlier versions, read and dropped: created_at and
# updated_at say the same now, at no property's cost.
STARTED = 'imageshare_started'      # when that run started this copy
HEARTBEAT = 'imageshare_heartbeat'  # refreshed while the copy is made
CONVERTED = 'imageshare_converted'  # the target converted the data
PROOF = 'imageshare_proof'          # of a converted copy: verify.proof
# A replica (``image replicate``): a copy that also records whose images
# it replicates (the source project), its series and the source's
# creation time; ``REPLICA_PROOF``: the HMAC its run sealed it with.
REPLICA_OF = 'imageshare_replica_of'
SERIES = 'imageshare_series'
SOURCE_CREATED = 'imageshare_source_created'
REPLICA_PROOF = 'imageshare_replica_proof'
# The labels that tell copies of one source apart: a replica and a plain
# copy of the same source never stand for each other (reuse, races).
KIND = (SOURCE_HASH, REPLICA_OF, SERIES)
REPLICA_KIND = (REPLICA_OF, SERIES)     # what only a replica carries
IN_PROGRESS = (COPIER, STARTED, HEARTBEAT)    # only while it is made
OWNER_SPECIFIED = 'owner_specified.openstack.'  # openstacksdk's checksums
# Never copied: identity, ownership, access, and what Glance computes.
SKIP = {
    'id', 'name', 'owner', 'visibility', 'protected', 'status', 'size',
    'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'stores',
    'locations', 'direct_url', 'file', 'schema', 'self', 'created_at',
    'updated_at', 'tags', 'members',
}
SIGNATURE = 'img_signature'


def carried_properties(source, keep_signature=False):
    """What makes the copy usable: formats, limits, hw_/os_ and user keys."""
    return {k: v for k, v in source.items()
            if k not in SKIP and not k.startswith('os_glance')
            and not k.startswith('imageshare_') and v is not None
            and (keep_signature or not k.startswith(SIGNATURE))}


whoami = liveness.whoami
stamp = liveness.stamp


def is_live(image, now=None):
    """Whether another run may still be making ``image``.

    A run on this machine is asked directly (its process); one elsewhere
    cannot be, and is live while its heartbeat is fresh.
    """
    if not image.get(COPIER):
        return False     # finished (its labels dropped), or not ours
    return liveness.is_live(image.get(COPIER), image.get(HEARTBEAT)
                            or image.get('updated_at'), now)


def start_order(image):
    """The order copies started in; a finished copy first of all.

    A run drops ``COPIER`` from its copy only once it has won (see
    ``engine``): such a copy has been handed to its user, and stays.
    """
    if not image.get(COPIER) and image.get('status') == 'active':
        return ('', image['id'])
    return (image.get(STARTED) or image.get('created_at') or '',
            image['id'])


def same_kind(image, other):
    """Whether ``image`` and ``other`` are copies of one kind (``KIND``)."""
    return all(image.get(k) == other.get(k) for k in KIND)


def of_kind(found, replica=None, source_hash=None):
    """The images of ``found`` that are copies of the kind asked for.

    ``replica``: a replica's labels (``REPLICA_OF``, ``SERIES``), with
    the source's ``source_hash``; None: a plain copy, which only a plain
    copy stands for (a replica is retention's to delete, a plain copy
    nobody's).
    """
    if not replica:
        return [i for i in found if not any(i.get(k) for k in REPLICA_KIND)]
    kind = dict(replica, **{SOURCE_HASH: source_hash})
    return [i for i in found if same_kind(i, kind)]


def labelled(target_glance, source, project_id):
    """The images in ``project_id`` labelled copies of ``source``."""
    # A copy of a hidden image is hidden too (os_hidden is carried), and
    # Glance lists hidden images only when asked.
    list_images = (target_glance.list_images_and_hidden
                   if source.get('os_hidden') else target_glance.list_images)
    return list_images(owner=project_id, **{SOURCE_ID: source['id']})


# Only an unfinished copy is in one of these states: a copy that died
# there is debris.  Any other state (deactivated, active, killed, ...)
# is a finished image, the target project's: never deleted.
DEBRIS_STATES = ('queued', 'saving', 'uploading', 'importing')


def is_debris(image):
    """Whether ``image`` (labelled a copy) can only be an unfinished one."""
    return image.get('status') in DEBRIS_STATES


def not_debris(img, source, project_id):
    """Why a labelled image that is no unfinished copy is left alone."""
    return ('Image %s in project %s carries the labels of a copy of %s but '
            'is %s, which no unfinished copy is: it is that project\'s '
            'image and was left as it is' % (
                img['id'], project_id, source['id'], img.get('status')))


def copies(target_glance, source, project_id):
    """``labelled``, or the one-line error saying the listing failed."""
    try:
        return labelled(target_glance, source, project_id)
    except (errors.GlanceError, errors.ImageShareError) as e:
        raise errors.ImageShareError(
            'Could not copy image %s into project %s: listing its copies '
            'failed: %s' % (source['id'], project_id, errors.describe(e)))


def leftovers(found):
    """The copies among ``found`` that ``clean_leftovers`` deletes."""
    return [img for img in found if img.get('status') != 'active'
            and not is_live(img) and is_debris(img)]


def clean_leftovers(target_glance, source, project_id, warn, found):
    """Delete copies that interrupted runs left (or say how to).

    ``found``: the copies of ``source`` there (``labelled``).
    """
    debris = {img['id'] for img in leftovers(found)}
    for img in found:
        if img.get('status') == 'active' or is_live(img):
            continue
        if img['id'] not in debris:
            warn(not_debris(img, source, project_id))
            continue
        what = ('Image %s in project %s is the leftover of an interrupted '
                'copy of %s (%s, started %s by %s)' % (
                    img['id'], project_id, source['id'], img.get('status'),
                    img.get(STARTED) or img.get('created_at'),
                    img.get(COPIER) or 'an unknown run'))
        try:
            target_glance.delete_image(img['id'])
        except errors.NotFound:
            continue
        except (errors.GlanceError, errors.ImageShareError) as e:
            warn("%s: it could not be deleted (%s); delete it with "
                 "'openstack image delete %s'"
                 % (what, errors.describe(e), img['id']))
            continue
        warn('%s: deleted' % what)


def finish(target_glance, copy, changes, warn, cloud=None):
    """``(copy, changes)`` once verified: only what describes it stays.

    The labels of a copy under way go; so do the owner's checksums of
    the data when the target converted it (they describe other data);
    ``cloud``, where the source is, is recorded.
    """
    converted = changes != 'copied'
    stale = sorted(k for k in copy if converted
                   and k.startswith(OWNER_SPECIFIED))
    drop = [k for k in IN_PROGRESS if k in copy] + stale
    add = {SOURCE_CLOUD: cloud} if cloud else {}
    if not drop and not add:
        return copy, changes
    try:
        copy = target_glance.patch_image(copy['id'], add=add,
                                         remove=drop)
    except (errors.GlanceError, errors.ImageShareError) as e:
        warn('Image %s: the copy is verified, but removing %s from it '
             'failed (%s)' % (copy['id'], ', '.join(drop), errors.describe(e)))
        return copy, changes
    if stale:
        changes += ', dropped %s (checksums of the data before conversion)' \
            % ', '.join(stale)
    return copy, changes
