"""Whether a copy holds the source's bytes, on evidence.

Glance's own size and hash of the copy against the source's, the
client's hash of the stream where it has one, and for a copy the target
converted, the HMAC proof of this user's run (``proof``).
"""

import hashlib
import hmac
import logging
import os
import tempfile

from osc_imageshare import errors
from osc_imageshare.imagecopy import labels

LOG = logging.getLogger(__name__)


def source_hash(source):
    """``(algorithm, value)`` of the source; md5 for older images."""
    if source.get('os_hash_value'):
        return source.get('os_hash_algo'), source['os_hash_value']
    return 'md5', source.get('checksum')


def matches(copy, source, algo, expected):
    """The target's own figures for ``copy`` agree with the source's."""
    if copy.get('size') != source.get('size'):
        return False
    if copy.get('os_hash_algo') == algo:
        return copy.get('os_hash_value') == expected
    if algo == 'md5':
        return copy.get('checksum') == expected
    # Another algorithm on the target: Glance's md5 checksum is common.
    return bool(source.get('checksum')) and copy.get(
        'checksum') == source['checksum']


def find_copy(found, source, project_id, source_hash_, warn=None):
    """A proven copy of ``source`` among ``found`` (``labels.labelled``).

    Labels are written by whoever can write images there: they find
    candidates, never prove one.  ``warn`` hears of each active
    candidate that is not proven, and why.
    """
    for img in found:
        if img.get('status') != 'active' or img.get(
                labels.SOURCE_HASH) != source_hash_:
            continue
        if proven(img, source):
            return img
        if warn:
            warn(untrusted(img, source, project_id))
    return None


def proven(img, source):
    """Whether ``img`` is a finished copy of ``source``, on evidence.

    Unconverted: Glance's own size and hash of it are the source's.
    Converted (its data differs by design): its ``PROOF`` label is the
    HMAC, under this user's key (``proof_key``), of the copy's ID and of
    Glance's own size and hash of it: the target project can set any
    label, but cannot make that HMAC without the key.
    """
    algo, expected = source_hash(source)
    if img.get('status') != 'active':
        return False
    if matches(img, source, algo, expected):
        return True
    return bool(img.get(labels.CONVERTED)) and hmac.compare_digest(
        str(img.get(labels.PROOF) or ''), proof(img))


def proof(img):
    """The ``PROOF`` of a converted copy, from Glance's figures of it."""
    text = '|'.join(str(img.get(k)) for k in (
        'id', 'size', 'os_hash_algo', 'os_hash_value', labels.SOURCE_ID,
        labels.SOURCE_HASH))
    return hmac.new(proof_key(), text.encode(), 'sha256').hexdigest()


def proof_key_path():
    """Where this user's proof key is (``proof_key``)."""
    base = os.environ.get('XDG_CONFIG_HOME') or os.path.join(
        os.path.expanduser('~'), '.config')
    return os.path.join(base, 'osc-imageshare', 'copy-proof.key')


def proof_key(make=True):
    """This user's secret for ``proof``, made once (mode 0600).

    Made whole before it is there: written to a file of its own, then
    linked to its name, so that a run (or a thread) reading it while
    another makes it never reads it half written.  ``make=False``: None
    where there is none yet (what only checks a proof writes nothing).
    """
    path = proof_key_path()
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        if not make:
            return None
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(os.urandom(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:      # another run made it meanwhile
            pass
    finally:
        os.unlink(tmp)
    with open(path, 'rb') as f:
        return f.read()


def untrusted(img, source, project_id):
    """Why a labelled copy is not reused: the warning."""
    algo, expected = source_hash(source)
    if img.get(labels.CONVERTED):
        why = ("it is labelled converted, but its %s is not one this "
               "user's runs made (a run on another machine, or labels "
               "written by someone else)" % labels.PROOF)
    else:
        why = ("Glance holds %s bytes (%s %s) in it, not the source's %s "
               "bytes (%s %s)" % (
                   img.get('size'), img.get('os_hash_algo'),
                   img.get('os_hash_value'), source.get('size'), algo,
                   expected))
    return ("Image %s in project %s is labelled a copy of %s but is not "
            "a proven one: %s; not reused, copying again" % (
                img['id'], project_id, source['id'], why))


def hashed_here(method, algo, target_algo):
    """The algorithms the client hashes the stream with, if any.

    An upload is stored as sent, and the target Glance hashes what it
    stores: when it uses the source's algorithm (or an md5-only source,
    whose checksum every Glance computes), its own size, hash and
    checksum of the copy, compared with the source's, prove the bytes
    end to end, and hashing them here too would only take its CPU.  An
    unknown target algorithm is taken for the source's, and checked
    after (``check_stored``).  An import may convert the data: the
    stream is then what proves it, hashed here as before.
    """
    proven = algo == 'md5' or target_algo in (None, algo)
    if method == 'upload' and proven:
        return []
    return [algo, target_algo]


def target_algo(target_glance):
    """The target's hashing algorithm, as its newest image shows."""
    try:
        found = target_glance.first_images(status='active', limit=1)
    except (errors.GlanceError, errors.ImageShareError):
        return None
    algo = found[0].get('os_hash_algo') if found else None
    return algo if algo in hashlib.algorithms_available else None


def check_read(stream, source, algo, expected):
    """The stream read as many bytes as the source has, with its hash."""
    if not stream.hashes:
        if stream.received != source.get('size'):
            raise errors.ImageShareError(
                'the data read (%d bytes) does not match the source (%s '
                'bytes)' % (stream.received, source.get('size')))
        return
    got = stream.hashes[algo].hexdigest()
    if got != expected or stream.received != source.get('size'):
        raise errors.ImageShareError(
            'the data read (%d bytes, %s %s) does not match the source (%s '
            'bytes, %s %s)' % (stream.received, algo, got,
                               source.get('size'), algo, expected))


def check_stored(copy, source, algo, expected, reread):
    """Nothing hashed here: the target's figures must be the source's.

    ``reread(algo)``: the source's data hashed with ``algo``, for a
    target that hashed the copy otherwise than its newest image showed.
    """
    theirs = copy.get('os_hash_algo')
    if algo != 'md5' and theirs != algo:
        LOG.info('Image %s: the target hashed the copy with %s, not %s; '
                 'reading the source again to verify', source['id'],
                 theirs, algo)
        algo, expected = theirs, reread(theirs)
    value = copy.get('checksum') if algo == 'md5' else copy.get(
        'os_hash_value')
    checksum = source.get('checksum')
    if not matches(copy, source, algo, expected) or (
            checksum and copy.get('checksum') != checksum):
        raise errors.ImageShareError(
            'the data the target Glance stored (%s bytes, %s %s, checksum '
            '%s) does not match the source (%s bytes, %s %s, checksum %s)'
            % (copy.get('size'), algo, value, copy.get('checksum'),
               source.get('size'), algo, expected, source.get('checksum')))


def check_sent(hashes, copy, source, algo):
    """The target's hash of an unconverted copy is the one of the stream.

    ``hashes``: the stream's, by algorithm; only one the target uses
    too, other than the source's (checked against the source), counts.
    """
    theirs = copy.get('os_hash_algo')
    if theirs not in hashes or theirs == algo or copy.get(
            'disk_format') != source.get('disk_format'):
        return
    sent = hashes[theirs].hexdigest()
    if copy.get('os_hash_value') != sent:
        raise errors.ImageShareError(
            'the target Glance holds %s %s, not the %s %s of the data sent'
            % (theirs, copy.get('os_hash_value'), theirs, sent))


def verify_copy(target_glance, source, copy, method, algo, expected):
    """'copied', or what the target changed; raise if it does not hold."""
    if copy.get('status') == 'active' and matches(copy, source, algo,
                                                  expected):
        return 'copied'
    if (copy.get('status') == 'active' and method != 'upload'
            and copy.get('disk_format') != source.get('disk_format')):
        # image_conversion: what was sent was verified (the stream, or
        # the target's download); the target stores another format.
        return ('copied, converted by the target: %s -> %s, %s bytes, '
                '%s:%s' % (source.get('disk_format'),
                           copy.get('disk_format'), copy.get('size'),
                           copy.get('os_hash_algo'),
                           copy.get('os_hash_value')))
    raise errors.ImageShareError(
        'the target Glance holds %s bytes (%s %s, checksum %s, status %s), '
        'not the source\'s %s bytes (%s %s, checksum %s)' % (
            copy.get('size'), copy.get('os_hash_algo'),
            copy.get('os_hash_value'), copy.get('checksum'),
            copy.get('status'), source.get('size'), algo, expected,
            source.get('checksum')))
