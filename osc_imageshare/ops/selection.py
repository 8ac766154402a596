"""Choose the images and targets of a batch without naming each one.

``--tag`` and ``--property`` select the caller's own images that match
all of them; ``--to-domain`` makes every enabled project of a domain a
target.
"""

import logging

from osc_imageshare import errors
from osc_imageshare.ops import messages

LOG = logging.getLogger(__name__)


# What Glance's image list accepts as the value of a filter: any other
# value is its 400, or an image that never matches.
BOOLEANS = ('os_hidden', 'protected')
CHOICES = {
    'visibility': ('community', 'private', 'public', 'shared'),
    'status': ('active', 'deactivated', 'importing', 'killed',
               'pending_delete', 'queued', 'saving', 'uploading'),
}
# Keys Glance's list reads as something else than an image's property.
NOT_PROPERTIES = {
    'tag': 'use --tag', 'member_status': 'a membership, not the image',
    'limit': 'a list control', 'marker': 'a list control',
    'sort': 'a list control', 'sort_key': 'a list control',
    'sort_dir': 'a list control', 'size_min': 'a range', 'size_max':
    'a range'}


def property_problem(values):
    """What is wrong with ``--property`` values (usage), or None.

    A key given twice with different values (an image has one value per
    key), a key Glance's list reads otherwise, a value Glance would
    refuse for its key (``protected`` and ``os_hidden`` take true or
    false, in any case: ``True`` is read as ``true``).
    """
    seen = {}
    for value in values or ():
        key, _, val = value.partition('=')
        if key in seen and seen[key] != val:
            return ("--property %s is given twice ('%s=%s', '%s'): an "
                    "image has one value per key" % (key, key, seen[key],
                                                     value))
        seen[key] = val
        if key in NOT_PROPERTIES:
            return ("--property %s: Glance does not read '%s' as a "
                    "property of the image (%s)" % (value, key,
                                                    NOT_PROPERTIES[key]))
        allowed = ('true', 'false') if key in BOOLEANS else CHOICES.get(key)
        if allowed and _normal(key, val) not in allowed:
            return ("--property %s: Glance takes %s for '%s'" % (
                value, ' or '.join(', '.join(allowed).rsplit(', ', 1)),
                key))
    return None


def _normal(key, value):
    return value.lower() if key in BOOLEANS else value


def parse_properties(values):
    """``['k=v', ...]`` -> ``{k: v}``; ``property_problem`` is an error.

    ``protected`` and ``os_hidden`` are lower-cased, as Glance takes them.
    """
    out = {}
    for value in values or ():
        key, sep, val = value.partition('=')
        if not sep or not key:
            raise errors.ImageShareError(
                "--property takes <key>=<value>, not '%s'" % value)
        out[key] = _normal(key, val)
    problem = property_problem(values)
    if problem:
        raise errors.ImageShareError(problem)
    return out


def describe(tags, properties):
    properties = properties or {}
    return ', '.join(['--tag %s' % t for t in tags]
                     + ['--property %s=%s' % kv
                        for kv in sorted(properties.items())])


def _as_filter(value):
    """An image's value as Glance's filters spell it ('true', not True)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def matches(image, tags, properties):
    return (set(tags) <= set(image.get('tags') or ())
            and all(_as_filter(image.get(k)) == v
                    for k, v in (properties or {}).items()))


def select_images(glance, ident, tags=(), properties=None, required=True,
                  limit=None):
    """The caller's own images with every tag and property, by name.

    None found is an error, unless not ``required`` (then ``[]``).
    ``limit``: the size of the pages asked for (None: Glance's default).

    Hidden ones (``os_hidden``) included: they are the caller's images,
    and a selection that skipped them would be silently short.

    Glance filters by owner, one tag and the properties; the other tags
    (Glance's list takes them too, but only repeated, which the one-door
    module does not send) and a second check of everything are done
    here.
    """
    properties = dict(properties or {})
    filters = dict(properties, owner=ident.project_id)
    if tags:
        filters['tag'] = tags[0]
    if limit:
        filters['limit'] = limit
    found = [i for i in glance.list_images_and_hidden(**filters)
             if matches(i, tags, properties)]
    if not found and required:
        raise errors.ImageShareError(
            'No image of project %s matches %s' % (
                ident.project_name or ident.project_id,
                describe(tags, properties)))
    return sorted(found, key=lambda i: (i.get('name') or '', i['id']))


def selected_note(selected, tags, properties):
    """The dry run's line: how many images match, and which."""
    return '%d image(s) match %s: %s' % (
        len(selected), describe(tags, properties), ', '.join(
            '%s (%s)' % (messages.visible(i.get('name')), i['id'])
            for i in selected))
