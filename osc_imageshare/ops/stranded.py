"""The ``imageshare_sharing`` label: a share (or a brief share) under way.

A run that sets a private image ``shared`` (``image transfer``, ``image
share set``, ``image share revoke --share-briefly``) adds this label in
the same PATCH, and removes it in the PATCH that finishes the image or
undoes it.  Its value, compact JSON::

    {"run": "host:pid:start", "started": "2026-...Z",
     "targets": ["<project id>", ...], "checked": false, "op": "share"}

``checked`` says whether the run had read the members the private image
hid (its earlier-members check); until it has, those members have their
access back and only the label tells.  A run that dies (SIGKILL, a lost
machine, Glance gone) leaves the label; ``stranded`` tells a later run
(or an audit) that it is the leftover of a dead run, and what it says.
The run is told dead as copy mode tells it (``osc_imageshare.batch.liveness``);
a run on another machine counts as live for ``liveness.STALE_SECONDS``
after it started.
"""

import json

from osc_imageshare.batch import liveness
from osc_imageshare.ops import messages

LABEL = 'imageshare_sharing'
SHARE = 'share'
REVOKE = 'revoke'


def value(targets=(), checked=False, op=SHARE, started=None):
    """The label's text for this run."""
    return json.dumps({'run': liveness.whoami(),
                       'started': started or liveness.stamp(),
                       'targets': list(targets), 'checked': bool(checked),
                       'op': op}, separators=(',', ':'), sort_keys=True)


def read(image):
    """What the label on ``image`` says (a dict), or None.

    A label that is not this module's JSON reads as a run of unknown
    origin that had checked nothing.
    """
    text = image.get(LABEL)
    if not text:
        return None
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        data = None
    if not isinstance(data, dict):
        data = {}
    return {'run': data.get('run') or '', 'started': data.get('started'),
            'targets': list(data.get('targets') or []),
            'checked': bool(data.get('checked')),
            'op': data.get('op') or SHARE}


def is_live(info):
    return liveness.is_live(info['run'], info['started'])


def stranded(image):
    """The label of a dead run on ``image`` (what ``read`` says), or None.

    None too when there is no label, or when its run may still be at
    work (never touch a live run's label).
    """
    info = read(image)
    if info is None or is_live(info):
        return None
    return info


def live(image):
    """The label of a run still at work on ``image``, or None."""
    info = read(image)
    if info is None or not is_live(info):
        return None
    return info


def was_private(image):
    """Private, or left shared by a dead run before its members check.

    Either way the members Glance lists (if any) are the ones a private
    image hid, and the image is to be private unless a run says otherwise.
    """
    info = stranded(image)
    return image.get('visibility') == 'private' or (
        info is not None and not info['checked']
        and image.get('visibility') == 'shared')


def warning(image):
    """The sentence for an image a dead run left mid-transfer, or None."""
    info = stranded(image)
    if info is None or image.get('visibility') != 'shared':
        return None
    fmt = dict(id=image['id'], run=info['run'] or 'unknown',
               started=info['started'] or 'at an unknown time')
    if info['op'] == REVOKE:
        return messages.W_STRANDED_REVOKE.format(**fmt)
    return messages.W_STRANDED.format(
        to=''.join(' --to %s' % t for t in info['targets']) or ' --to ...',
        unchecked='' if info['checked'] else
        messages.W_STRANDED_UNCHECKED, **fmt)
