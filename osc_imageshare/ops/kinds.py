"""What kind of image this is, read from its properties alone.

``classify(image)`` is the one place that tells a plain disk from the
kinds clouds make that another project cannot simply use:

``volume-backed``
    A snapshot of a volume-backed server (Nova's ``snapshot_volume_backed``):
    0 bytes in Glance; the data is Cinder snapshots in the owner's project,
    named by ``block_device_mapping``.  Any of ``block_device_mapping``,
    ``bdm_v2``, or size 0 with ``root_device_name``.
``companions``
    Boots only with the images that ``kernel_id`` and ``ramdisk_id`` name
    (AMI with AKI/ARI, some bare-metal and appliance images).
``encrypted``
    Made from an encrypted volume: ``cinder_encryption_key_id`` names a
    secret in the owner's key manager (Barbican).
``disk``
    None of these: the image's data is all there is.

An image may be of several kinds (a volume-backed snapshot whose image
also names a kernel); ``ImageKind`` keeps them all, each with why.  The
API (``classify``, ``ImageKind`` and the keyword constants) is stable:
other modules and commands call it; it reads nothing but the dict given.
"""

import dataclasses
import json
import logging

LOG = logging.getLogger(__name__)

DISK = 'disk'
VOLUME_BACKED = 'volume-backed'
COMPANIONS = 'companions'
ENCRYPTED = 'encrypted'
KINDS = (VOLUME_BACKED, COMPANIONS, ENCRYPTED, DISK)   # most serious first
COMPANION_KEYS = ('kernel_id', 'ramdisk_id')
# Values some tools write for "no companion" (Nova's None, as text).
NO_ID = ('none', 'null')
KEY_ID = 'cinder_encryption_key_id'
WORDS = {
    DISK: 'plain disk image',
    VOLUME_BACKED: 'snapshot of a volume-backed server',
    COMPANIONS: 'needs companion images',
    ENCRYPTED: 'image of an encrypted volume',
}


@dataclasses.dataclass(frozen=True)
class ImageKind:
    """The kinds of one image, with the reasons and the facts behind them.

    ``kinds``: keywords of ``KINDS``, most serious first; ``(DISK,)`` when
    none of the others.  ``reasons``: ``{keyword: why}``, in words naming
    the properties.  ``snapshot_ids``: the Cinder snapshots that
    ``block_device_mapping`` names.  ``companions``: ``{'kernel_id': id,
    ...}``.  ``key_id``: the encryption key's id.
    """

    kinds: tuple = (DISK,)
    reasons: dict = dataclasses.field(default_factory=dict)
    snapshot_ids: tuple = ()
    companions: dict = dataclasses.field(default_factory=dict)
    key_id: str = None

    def __contains__(self, kind):
        return kind in self.kinds

    @property
    def risky(self):
        """Whether another project may not be able to use the image."""
        return self.kinds != (DISK,)

    @property
    def words(self):
        """The kinds in plain words, with why: for tables and messages."""
        return '; '.join('%s (%s)' % (WORDS[k], self.reasons[k])
                         if k in self.reasons else WORDS[k]
                         for k in self.kinds)


def classify(image):
    """The ``ImageKind`` of ``image``, a Glance image as a dict."""
    reasons = {}
    snapshots = ()
    why = _volume_backed(image)
    if why:
        reasons[VOLUME_BACKED] = why
        snapshots = snapshot_ids(image)
    companions = {k: image[k] for k in COMPANION_KEYS
                  if image.get(k) and str(image[k]).lower() not in NO_ID}
    if companions:
        reasons[COMPANIONS] = ', '.join(
            '%s %s' % kv for kv in sorted(companions.items()))
    key = image.get(KEY_ID) or None
    if key:
        reasons[ENCRYPTED] = '%s %s' % (KEY_ID, key)
    kinds = tuple(k for k in KINDS if k in reasons) or (DISK,)
    return ImageKind(kinds, reasons, snapshots, companions, key)


def _volume_backed(image):
    """Why the image is a volume-backed snapshot, or None."""
    found = [k for k in ('block_device_mapping', 'bdm_v2') if _set(
        image.get(k))]
    if found:
        return ' and '.join(found) + ' set'
    if image.get('size') == 0 and image.get('root_device_name'):
        return 'size 0 with root_device_name'
    return None


def _set(value):
    return value not in (None, '', '[]', [], 'False', 'false', False)


def snapshot_ids(image):
    """The Cinder snapshot ids (strings) ``block_device_mapping`` names."""
    bdm = image.get('block_device_mapping')
    if isinstance(bdm, str):
        try:
            bdm = json.loads(bdm)
        except ValueError:
            LOG.debug('Image %s: block_device_mapping is not JSON',
                      image.get('id'))
            return ()
    if not isinstance(bdm, list):
        return ()
    return tuple(dict.fromkeys(
        e['snapshot_id'] for e in bdm
        if isinstance(e, dict) and e.get('snapshot_id')
        and isinstance(e['snapshot_id'], str)))
