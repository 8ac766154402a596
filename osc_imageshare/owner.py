"""Hand an image itself (same ID) to another project: an admin's act.

Glance lets only admins change an owner.  Beware: Glance 33 saves a JSON
patch ``add /owner`` sent by a non-admin although it answers 403; so the
owner change is sent only after the caller's admin role is established,
and only as ``replace``.
"""

import logging

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import glance as images

LOG = logging.getLogger(__name__)

COLUMNS = ('Image ID', 'Image Name', 'Old Owner', 'Project ID',
           'Project Name', 'Changes')

W_LOSES = ("Project {old} loses access to image {id}: it now belongs to "
           "{new}.")
W_MEMBERS = ("Image {id} keeps its members, who keep access: {members}.")


def transfer_owner(glance, ident, image_refs, targets, dry_run=False):
    """Change the owner of each image; returns rows, warnings, errors."""
    if not ident.is_admin:
        raise errors.ImageShareError(
            "Changing an image's owner needs the admin role, which your "
            "token for project %s does not have; ask an admin, or use "
            "--mode copy (an independent copy owned by the target) or "
            "--mode share" % (ident.project_name or ident.project_id))
    if len(targets) != 1:
        raise errors.ImageShareError(
            'An image has one owner: name exactly one target project')
    target = targets[0]
    rows, warnings = [], []
    found, failed = images.find_images(glance, image_refs,
                                       ident.project_name or ident.project_id)
    errs = list(failed.values())
    for image in found:
        old = image.get('owner')
        if old == target.project_id:
            rows.append((image['id'], image.get('name'), old,
                         target.project_id, target.project_name, 'none'))
            continue
        if dry_run:
            rows.append((image['id'], image.get('name'), old,
                         target.project_id, target.project_name,
                         'plan: owner %s->%s' % (old, target.project_id)))
            continue
        try:
            images.update_image(glance, image['id'],
                                owner=target.project_id)
            now = images.get_image(glance, image['id']).get('owner')
        except glance_exc.HTTPException as e:
            errs.append(errors.explain(e, image['id'],
                                       action='change the owner'))
            _restore(glance, image['id'], old)
            continue
        if now != target.project_id:
            errs.append('Image %s: its owner reads %s after the change; '
                        'restored to %s' % (image['id'], now, old))
            _restore(glance, image['id'], old)
            continue
        rows.append((image['id'], image.get('name'), old, target.project_id,
                     target.project_name, 'owner %s->%s' % (
                         old, target.project_id)))
        warnings.append(W_LOSES.format(old=old, id=image['id'],
                                       new=target.label))
        if image.get('visibility') == 'shared':
            members = [m['member_id'] for m in
                       images.list_members(glance, image['id'])]
            if members:
                warnings.append(W_MEMBERS.format(
                    id=image['id'], members=', '.join(members)))
    return rows, warnings, errs


def _restore(glance, image_id, owner):
    try:
        if images.get_image(glance, image_id).get('owner') != owner:
            images.update_image(glance, image_id, owner=owner)
    except glance_exc.HTTPException as e:
        LOG.error('Could not restore the owner of image %s to %s: %s',
                  image_id, owner, errors.glance_message(e))
