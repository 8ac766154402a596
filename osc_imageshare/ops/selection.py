"""Choose the images and targets of a batch without naming each one.

``--tag`` and ``--property`` select the caller's own images that match
all of them; ``--to-domain`` makes every enabled project of a domain a
target.
"""

import logging

from osc_imageshare import errors

LOG = logging.getLogger(__name__)


def parse_properties(values):
    """``['k=v', ...]`` -> ``{k: v}``; a value without '=' is an error."""
    out = {}
    for value in values or ():
        key, sep, val = value.partition('=')
        if not sep or not key:
            raise errors.ImageShareError(
                "--property takes <key>=<value>, not '%s'" % value)
        out[key] = val
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


def select_images(glance, ident, tags=(), properties=None):
    """The caller's own images with every tag and property, by name.

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
    found = [i for i in glance.list_images_and_hidden(**filters)
             if matches(i, tags, properties)]
    if not found:
        raise errors.ImageShareError(
            'No image of project %s matches %s' % (
                ident.project_name or ident.project_id,
                describe(tags, properties)))
    return sorted(found, key=lambda i: (i.get('name') or '', i['id']))


def selected_note(selected, tags, properties):
    """The dry run's line: how many images match, and which."""
    return '%d image(s) match %s: %s' % (
        len(selected), describe(tags, properties), ', '.join(
            '%s (%s)' % (i.get('name'), i['id']) for i in selected))
