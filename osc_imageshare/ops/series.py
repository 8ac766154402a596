"""The series of ``image replicate``: which images rotate together.

A series is what Nova's ``createBackup --rotate`` rotates: by default the
properties ``instance_uuid`` and ``backup_type`` (``image_type`` for a
snapshot) of an image that has ``instance_uuid``, else its name;
``--series-by`` names the properties instead.  Here too: the order of a
series (its sources' creation times), the replicas a target holds of it
and their proof, and the durations of ``--max-lag``.
"""

import datetime
import hashlib
import hmac
import logging
import re

from osc_imageshare import errors
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import verify

LOG = logging.getLogger(__name__)

NOVA_KEYS = ('instance_uuid', 'backup_type')
SNAPSHOT_KEYS = ('instance_uuid', 'image_type')
LABEL_MAX = 255         # Glance's limit on a property's value
DURATION = re.compile(r'^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$')
UNITS = (86400, 3600, 60, 1)


def key_of(image, series_by=None):
    """The series of ``image`` as text (``k=v,...``); raises if it has none.

    ``series_by``: the property names of ``--series-by`` (None: Nova's
    rotation key, else the name).
    """
    if series_by:
        missing = [k for k in series_by if image.get(k) in (None, '')]
        if missing:
            raise errors.ImageShareError(
                "Image %s has no %s, which --series-by names: it belongs "
                "to no series and was not replicated" % (
                    image['id'], ', '.join(missing)))
        keys = series_by
    elif image.get('instance_uuid'):
        keys = NOVA_KEYS if image.get('backup_type') else SNAPSHOT_KEYS
        keys = [k for k in keys if image.get(k) not in (None, '')]
    else:
        keys = ['name']
    return ','.join('%s=%s' % (k, image.get(k)) for k in keys)


def label_of(key):
    """The ``labels.SERIES`` value of a series: its text, or its hash."""
    if len(key) <= LABEL_MAX:
        return key
    return 'sha256:' + hashlib.sha256(key.encode()).hexdigest()


def created(image):
    """The sort key of a source: its creation time, then its ID."""
    return (image.get('created_at') or '', image['id'])


def parse_time(text):
    """Glance's ``2026-11-27T08:00:00Z`` as an aware datetime, or None."""
    try:
        when = datetime.datetime.fromisoformat(str(text).replace('Z',
                                                                 '+00:00'))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def duration(text):
    """``26h``, ``90m``, ``2d``, ``1d12h``, ``45s`` as seconds; ValueError."""
    found = DURATION.match(text or '')
    if not found or not any(found.groups()):
        raise ValueError(text)
    seconds = sum(int(v) * u for v, u in zip(found.groups(), UNITS) if v)
    if seconds <= 0:
        raise ValueError(text)
    return seconds


def words(seconds):
    """A duration as ``duration`` reads it: ``1d2h3m``, ``0s``."""
    seconds = max(0, int(seconds))
    out = ''
    for unit, name in zip(UNITS, 'dhms'):
        if seconds >= unit:
            out += '%d%s' % (seconds // unit, name)
            seconds %= unit
    return out or '0s'


# ------------------------------------------------------------ replicas
def seal(image, make=True):
    """The ``REPLICA_PROOF`` of a verified replica (this user's HMAC).

    Over Glance's own figures of it (ID, size, hash) and its labels: the
    target project can write any label, but not this without the key
    (``verify.proof_key``).  Only a replica whose source is gone needs it
    to be proven (``proven``).
    """
    key = verify.proof_key(make)
    if key is None:
        return None     # no key here: no seal can be checked
    text = '|'.join(str(image.get(k)) for k in (
        'id', 'size', 'os_hash_algo', 'os_hash_value', labels.SOURCE_ID,
        labels.SOURCE_HASH, labels.REPLICA_OF, labels.SERIES,
        labels.SOURCE_CREATED))
    return hmac.new(key, text.encode(), 'sha256').hexdigest()


def proven(image, source):
    """Whether ``image`` is a finished replica of ``source``, on evidence.

    ``source``: the source image, or None where it was deleted.  With the
    source: Glance's own size and hash of the replica are the source's
    (``verify.proven``) and its labels name that source's hash.  Without:
    the seal its run wrote (``seal``) holds; the labels alone prove
    nothing (whoever writes images in the target can write them).
    """
    if image.get('status') != 'active':
        return False
    if source is not None:
        algo, value = verify.source_hash(source)
        return (image.get(labels.SOURCE_HASH) == '%s:%s' % (algo, value)
                and verify.proven(image, source))
    expected = seal(image, make=False)
    return bool(image.get(labels.REPLICA_PROOF) and expected) and \
        hmac.compare_digest(str(image.get(labels.REPLICA_PROOF)), expected)


def source_created(image):
    """The creation time of a replica's source, as it recorded it."""
    return image.get(labels.SOURCE_CREATED) or ''
