"""How the target Glance takes the data: the one probe, the plan.

``METHODS``: ``upload`` (a streamed ``PUT .../file``), ``glance-direct``
(streamed into ``PUT .../stage``, then imported) or ``glance-download``
(the target Glance, in another region of the same Keystone, pulls the
image from the source region itself).  ``auto`` tries them in that order
of preference, from what the target announces.
"""

from osc_imageshare import errors


METHODS = ('upload', 'glance-direct', 'glance-download')


class Unavailable(Exception):
    """The target does not take the data this way; try the next one."""


def region(glance):
    """The region of a Glance client (None where it names none)."""
    return getattr(glance, 'region_name', None)


def region_of(glance):
    """The source cloud label where no cloud name is known: its region."""
    name = region(glance)
    return name if isinstance(name, str) else None


def download_blocker(glance, target_glance, source, methods):
    """Why glance-download cannot copy ``source``, or None if it can."""
    if 'glance-download' not in (methods or ()):
        return 'the target does not enable glance-download'
    here, there = region(glance), region(target_glance)
    if not here or not there or here == there:
        return 'source and target are not two regions of one cloud'
    if glance.identity_url() != target_glance.identity_url():
        return 'source and target do not share one Keystone'
    try:
        target_glance.in_region(here).get_image(source['id'],
                                                side='source')
    except (errors.GlanceError, errors.ImageShareError):
        return ("the target project cannot read image %s in %s (share it "
                "with that project to let its Glance pull it)"
                % (source['id'], here))
    return None


def candidates(glance, target_glance, source, requested='auto'):
    """``([methods to try, best first], notes)`` for this target."""
    methods = target_glance.import_methods()
    if requested == 'glance-download':
        blocker = download_blocker(glance, target_glance, source, methods)
        if blocker:
            raise errors.ImageShareError(
                'glance-download cannot copy image %s: %s'
                % (source['id'], blocker))
    if requested != 'auto':
        return [requested], []
    notes = []
    blocker = download_blocker(glance, target_glance, source, methods)
    order = [] if blocker else ['glance-download']
    if blocker and 'glance-download' in (methods or ()):
        notes.append('glance-download not used: %s' % blocker)
    order.append('upload')
    # A Glance without /v2/info/import may still take glance-direct: the
    # header on the image it creates says (see engine.copy_image).
    if methods is None or 'glance-direct' in methods:
        order.append('glance-direct')
    return order, notes


def plan_copy(glance, target_glance, source, requested='auto'):
    """``(methods, words)``: the methods a run tries, best first.

    The one probe of the target: ``copy_image(..., methods=methods)``
    tries exactly these, in this order, and probes nothing again.
    """
    order, notes = candidates(glance, target_glance, source, requested)
    words = order[0]
    if order[1:]:
        words += ' (else %s)' % ', '.join(order[1:])
    return order, '; '.join([words] + notes)
