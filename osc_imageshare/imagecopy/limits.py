"""What refuses a copy before any byte moves: quotas, IDs, the create."""

from osc_imageshare import errors
from osc_imageshare.imagecopy import methods
from osc_imageshare.imagecopy import stream


# What Glance's image_property_quota does not count: the image's fields.
BASE_FIELDS = {'name', 'visibility', 'tags', 'disk_format',
               'container_format', 'min_disk', 'min_ram', 'owner',
               'protected', 'os_hidden', 'id'}


# The quotas a finished copy keeps using (the others it frees when done).
KEPT_QUOTAS = ('image_size_total', 'image_count_total')


def check_quotas(target_glance, source, project_id, method, planned=None):
    """Refuse, before any byte moves, a copy the target's quotas forbid.

    ``planned``: ``{quota name: amount}`` that the copies planned before
    this one, into the same target, will keep using (the totals: counted
    as used; this copy's are added to it when it fits).
    """
    quotas = target_glance.usage() or {}
    planned = {} if planned is None else planned
    mib = -(-(source.get('size') or 0) // stream.CHUNK)
    needs = {'image_size_total': mib, 'image_count_total': 1,
             'image_count_uploading': 1}
    if method == 'glance-direct':
        needs['image_stage_total'] = mib
    for name, need in sorted(needs.items()):
        q = quotas.get(name) or {}
        limit = q.get('limit')
        ahead = planned.get(name, 0)
        used = (q.get('usage') or 0) + ahead
        if isinstance(limit, int) and limit >= 0 and used + need > limit:
            unit = ' MiB' if name.endswith('_total') and 'count' not in \
                name else ''
            raise errors.ImageShareError(
                "Image %s cannot be copied into project %s: its quota %s "
                "on the target is %s%s, %s%s used%s, and the copy needs "
                "%s%s more; nothing was copied" % (
                    source['id'], project_id, name, limit, unit, used, unit,
                    ' (%s%s of it by the copies this run makes before it)'
                    % (ahead, unit) if ahead else '', need, unit))
    for name in KEPT_QUOTAS:
        planned[name] = planned.get(name, 0) + needs[name]


def create_refused(e, source, project_id, body, client=None):
    """The sentence for a create of the copy that Glance refused."""
    msg = errors.glance_message(e)
    if getattr(e, 'code', None) == 403 and client is not None:
        refusal = errors.role_refusal(msg, *errors.caller_of(client))
        if refusal:
            return refusal
    if getattr(e, 'code', None) == 409 and 'id' in body:
        return ("--keep-id cannot copy image %s into project %s: the target "
                "Glance refuses the ID (%s): an image there holds it (one "
                "the target project cannot see, or a deleted one); nothing "
                "was copied" % (source['id'], project_id, msg))
    if getattr(e, 'code', None) == 413 and 'propert' in msg.lower():
        extra = [k for k in body if k not in BASE_FIELDS]
        labels = [k for k in extra if k.startswith('imageshare_')]
        return ("Image %s cannot be copied into project %s: the target "
                "allows fewer properties per image (image_property_quota; "
                "%s) than the copy's %d (the source's %d and %d labels of "
                "the copy under way: %s); nothing was copied"
                % (source['id'], project_id, msg, len(extra),
                   len(extra) - len(labels), len(labels),
                   ', '.join(sorted(labels))))
    return ("Could not create the copy of image %s in project %s: %s"
            % (source['id'], project_id, errors.describe(e)))


def check_keep_id(glance, target_glance, source, project_id):
    """Refuse --keep-id where the target is the source's own Glance."""
    same_keystone = glance.identity_url() == target_glance.identity_url()
    if methods.region(glance) == methods.region(target_glance) \
            and same_keystone:
        raise errors.ImageShareError(
            "--keep-id cannot copy image %s into project %s: the target is "
            "the source's own Glance (region %s), where an ID names one "
            "image only; copy without --keep-id, or into another region or "
            "cloud" % (source['id'], project_id, methods.region(glance)))


def check_id_free(target_glance, source, project_id):
    """Refuse --keep-id where an image the target can see holds the ID."""
    try:
        held = target_glance.get_image(source['id'])
    except errors.NotFound:
        return
    except errors.GlanceError:
        return       # Glance's create says, if the ID is taken
    raise errors.ImageShareError(
        "--keep-id cannot copy image %s into project %s: the target Glance "
        "already has an image with that ID (%s, owner %s, %s, not a proven "
        "copy of it); nothing was copied" % (
            source['id'], project_id, repr(held.get('name')),
            held.get('owner'),
            held.get('status')))
