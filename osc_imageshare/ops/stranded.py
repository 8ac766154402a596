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

A label is another project's data until checked: ``read`` believes only a
label of this module's shape (known fields, a run and a time of the
forms this module writes, targets in Keystone's project ID form, bounded
lengths); any other reads as a run of unknown origin that had checked
nothing and names no target, and ``unrecognised_warning`` quotes it.
"""

import json
import re

from osc_imageshare.batch import liveness
from osc_imageshare.ops import messages

LABEL = 'imageshare_sharing'
SHARE = 'share'
REVOKE = 'revoke'
MAX_TEXT = 4096             # characters of a label believed
MAX_TARGETS = 100           # targets a label may name
MAX_SHOWN = 200             # characters of an unrecognised label quoted
FIELDS = {'run', 'started', 'targets', 'checked', 'op'}
_RUN = re.compile(r'^[A-Za-z0-9._-]{1,253}:[0-9]{1,10}:[A-Za-z0-9.]{1,32}$')
_STARTED = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:'
                      r'[0-9]{2}(\.[0-9]{1,9})?Z?$')
_PROJECT_ID = re.compile(r'^[0-9a-f]{32}$')


def value(targets=(), checked=False, op=SHARE, started=None):
    """The label's text for this run."""
    return json.dumps({'run': liveness.whoami(),
                       'started': started or liveness.stamp(),
                       'targets': list(targets), 'checked': bool(checked),
                       'op': op}, separators=(',', ':'), sort_keys=True)


def read(image):
    """What the label on ``image`` says (a dict), or None.

    A label that is not this module's (see ``problem``) reads as a run of
    unknown origin that had checked nothing and names no target, with
    ``unrecognised`` set to why.
    """
    text = image.get(LABEL)
    if not text:
        return None
    data, why = parse(text)
    if why:
        return {'run': '', 'started': None, 'targets': [], 'checked': False,
                'op': SHARE, 'unrecognised': why}
    return {'run': data['run'], 'started': data.get('started'),
            'targets': list(data.get('targets') or []),
            'checked': data.get('checked') is True,
            'op': data.get('op') or SHARE, 'unrecognised': None}


def parse(text):
    """``(dict, None)`` for a label of this module's shape, or (None, why)."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return None, 'too long'
    try:
        data = json.loads(text)
    except ValueError:
        return None, 'not JSON'
    if not isinstance(data, dict):
        return None, 'not a JSON object'
    why = problem(data)
    return (None, why) if why else (data, None)


def problem(data):
    """What is wrong with a parsed label, or None."""
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        return 'unknown field %s' % unknown[0][:40]
    if not isinstance(data.get('run'), str) or not _RUN.match(data['run']):
        return 'no run of the form host:pid:start'
    started = data.get('started')
    if started is not None and not (isinstance(started, str)
                                    and _STARTED.match(started)):
        return 'its start is not a time'
    targets = data.get('targets', [])
    if not isinstance(targets, list) or len(targets) > MAX_TARGETS \
            or not all(isinstance(t, str) and _PROJECT_ID.match(t)
                       for t in targets):
        return 'its targets are not project IDs'
    if data.get('op', SHARE) not in (SHARE, REVOKE) \
            or not isinstance(data.get('checked', False), bool):
        return 'unknown op or checked'
    return None


def unrecognised_warning(image):
    """The sentence for a label this module did not write, or None."""
    info = read(image)
    if info is None or not info['unrecognised']:
        return None
    text = image.get(LABEL)
    if not isinstance(text, str):
        text = json.dumps(text)
    shown = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + '...'
    return messages.W_UNRECOGNISED_LABEL.format(
        id=image['id'], id_arg=messages.arg(image['id']), key=LABEL,
        key_arg=messages.arg(LABEL), why=info['unrecognised'],
        # As a JSON string with no raw single quote: the label's text can
        # neither close the sentence's quotes nor read as a command.
        text=json.dumps(shown).replace("'", '\\u0027'))


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
    """The sentence for an image a dead run left mid-transfer, or None.

    None for a label this module did not write (``unrecognised_warning``).
    """
    info = stranded(image)
    if info is None or info['unrecognised'] \
            or image.get('visibility') != 'shared':
        return None
    fmt = dict(id=image['id'], id_arg=messages.arg(image['id']),
               run=info['run'], started=info['started']
               or 'at an unknown time')
    if info['op'] == REVOKE:
        return messages.W_STRANDED_REVOKE.format(**fmt)
    to = ''.join(' --to %s' % messages.arg(t) for t in info['targets'])
    rerun = (messages.STRANDED_RERUN.format(to=to, **fmt) if to
             else messages.STRANDED_RERUN_UNNAMED)
    return messages.W_STRANDED.format(
        rerun=rerun, unchecked='' if info['checked'] else
        messages.W_STRANDED_UNCHECKED, **fmt)
