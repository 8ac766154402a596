"""Copy an image into another project: one verified pass, on any Glance.

The target Glance may take the data three ways (``METHODS``): ``upload``
(a streamed ``PUT .../file``), ``glance-direct`` (streamed into
``PUT .../stage``, then imported) or ``glance-download`` (the target
Glance, in another region of the same Keystone, pulls the image from the
source region itself: no byte goes through the client).  ``auto`` tries
them in that order of preference, from what the target announces.

Streamed, the data flows from the source Glance straight into the target
Glance: a reader thread pulls it from the source and hashes it while the
request sends it, with a Content-Length, through a queue of a few chunks,
so memory stays bounded whatever the size and nothing touches the disk.
The copy is checked against the source: our hash of the stream with the
source's algorithm, and the copy's size and hash as the target Glance
computed them (with the target's algorithm, hashed in the same pass when
it differs).  The source is only read.

Nothing is left behind: the copy records who makes it and since when
(``COPIER``, ``STARTED``, a ``HEARTBEAT`` refreshed while the data moves);
on any error, mismatch or caught signal (INT, TERM, HUP) the half-made
copy is deleted (in a worker of a parallel batch, the main thread
catches the signal and the worker stops at its next check: see
``osc_imageshare.batch.signals``); a later run deletes the leftovers of
runs that died (SIGKILL, a machine lost) before copying; and runs
copying the same image at the same time end with one copy, the one that
started first.
"""

import contextlib
import dataclasses
import hashlib
import hmac
import logging
import os
import queue
import signal
import sys
import threading
import time

from osc_imageshare.api import glance as api
from osc_imageshare.batch import liveness
from osc_imageshare.batch import signals
from osc_imageshare import errors

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
QUEUE_CHUNKS = 8          # memory bound: about QUEUE_CHUNKS MiB in flight
SOURCE_ID = 'imageshare_source_id'
SOURCE_CLOUD = 'imageshare_source_cloud'
SOURCE_HASH = 'imageshare_source_hash'
COPIER = 'imageshare_copier'        # host:pid:process start of the run
# Written by earlier versions, read and dropped: created_at and
# updated_at say the same now, at no property's cost.
STARTED = 'imageshare_started'      # when that run started this copy
HEARTBEAT = 'imageshare_heartbeat'  # refreshed while the copy is made
CONVERTED = 'imageshare_converted'  # the target converted the data
PROOF = 'imageshare_proof'          # of a converted copy: see proof()
HEARTBEAT_SECONDS = 15
STALE_SECONDS = liveness.STALE_SECONDS
METHODS = ('upload', 'glance-direct', 'glance-download')
SIGNALS = signals.SIGNALS
COLUMNS = ('Source ID', 'Image ID', 'Image Name', 'Project ID', 'Size',
           'Hash', 'Seconds', 'MiB/s', 'Changes', 'Method')
# Never copied: identity, ownership, access, and what Glance computes.
SKIP = {
    'id', 'name', 'owner', 'visibility', 'protected', 'status', 'size',
    'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'stores',
    'locations', 'direct_url', 'file', 'schema', 'self', 'created_at',
    'updated_at', 'tags', 'members',
}
SIGNATURE = 'img_signature'
# What Glance's image_property_quota does not count: the image's fields.
BASE_FIELDS = {'name', 'visibility', 'tags', 'disk_format',
               'container_format', 'min_disk', 'min_ram', 'owner',
               'protected', 'os_hidden', 'id'}


Interrupted = signals.Interrupted


class _Signal(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.name = signal.Signals(signum).name


class _Unavailable(Exception):
    """The target does not take the data this way; try the next one."""


@dataclasses.dataclass
class CopyResult:
    source: dict
    image: dict
    project_id: str
    seconds: float = 0.0
    changes: str = 'copied'
    method: str = 'upload'

    def row(self):
        size = self.image.get('size') or 0
        rate = (size / self.seconds / CHUNK
                if self.seconds and self.method != 'glance-download'
                else None)
        return (self.source['id'], self.image['id'], self.image.get('name'),
                self.project_id, size, '%s:%s' % (
                    self.image.get('os_hash_algo'),
                    self.image.get('os_hash_value')),
                round(self.seconds, 2), rate and round(rate, 1),
                self.changes, self.method)


def carried_properties(source, keep_signature=False):
    """What makes the copy usable: formats, limits, hw_/os_ and user keys."""
    return {k: v for k, v in source.items()
            if k not in SKIP and not k.startswith('os_glance')
            and not k.startswith('imageshare_') and v is not None
            and (keep_signature or not k.startswith(SIGNATURE))}


def source_hash(source):
    """``(algorithm, value)`` of the source; md5 for older images."""
    if source.get('os_hash_value'):
        return source.get('os_hash_algo'), source['os_hash_value']
    return 'md5', source.get('checksum')


def _matches(copy, source, algo, expected):
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


def find_copy(target_glance, source, project_id, source_hash_, warn=None):
    """A proven copy of ``source`` already in the target project.

    Labels are written by whoever can write images there: they find
    candidates, never prove one.  ``warn`` hears of each active
    candidate that is not proven, and why.
    """
    for img in _labelled(target_glance, source, project_id):
        if img.get('status') != 'active' or img.get(
                SOURCE_HASH) != source_hash_:
            continue
        if proven(img, source):
            return img
        if warn:
            warn(_untrusted(img, source, project_id))
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
    if _matches(img, source, algo, expected):
        return True
    return bool(img.get(CONVERTED)) and hmac.compare_digest(
        str(img.get(PROOF) or ''), proof(img))


def proof(img):
    """The ``PROOF`` of a converted copy, from Glance's figures of it."""
    text = '|'.join(str(img.get(k)) for k in (
        'id', 'size', 'os_hash_algo', 'os_hash_value', SOURCE_ID,
        SOURCE_HASH))
    return hmac.new(proof_key(), text.encode(), 'sha256').hexdigest()


def proof_key():
    """This user's secret for ``proof``, made once (mode 0600)."""
    base = os.environ.get('XDG_CONFIG_HOME') or os.path.join(
        os.path.expanduser('~'), '.config')
    path = os.path.join(base, 'osc-imageshare', 'copy-proof.key')
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:      # another run made it meanwhile
        time.sleep(0.1)
        with open(path, 'rb') as f:
            return f.read()
    with os.fdopen(fd, 'wb') as f:
        key = os.urandom(32)
        f.write(key)
    return key


def _untrusted(img, source, project_id):
    algo, expected = source_hash(source)
    if img.get(CONVERTED):
        why = ("it is labelled converted, but its %s is not one this "
               "user's runs made (a run on another machine, or labels "
               "written by someone else)" % PROOF)
    else:
        why = ("Glance holds %s bytes (%s %s) in it, not the source's %s "
               "bytes (%s %s)" % (
                   img.get('size'), img.get('os_hash_algo'),
                   img.get('os_hash_value'), source.get('size'), algo,
                   expected))
    return ("Image %s in project %s is labelled a copy of %s but is not "
            "a proven one: %s; not reused, copying again" % (
                img['id'], project_id, source['id'], why))


def _labelled(target_glance, source, project_id):
    # A copy of a hidden image is hidden too (os_hidden is carried), and
    # Glance lists hidden images only when asked.
    list_images = (api.GlanceAPI.list_images_and_hidden if source.get(
        'os_hidden')
                   else api.GlanceAPI.list_images)
    return list_images(target_glance, owner=project_id,
                       **{SOURCE_ID: source['id']})


# ------------------------------------------------------------ who copies
_now = liveness.now
_stamp = liveness.stamp
whoami = liveness.whoami


def is_live(image, now=None):
    """Whether another run may still be making ``image``.

    A run on this machine is asked directly (its process); one elsewhere
    cannot be, and is live while its heartbeat is fresh.
    """
    if not image.get(COPIER):
        return False     # finished (its labels dropped), or not ours
    return liveness.is_live(image.get(COPIER), image.get(HEARTBEAT)
                            or image.get('updated_at'), now)


def _key(image):
    """The order copies started in; a finished copy first of all.

    A run drops ``COPIER`` from its copy only once it has won (see
    ``_finish``): such a copy has been handed to its user, and stays.
    """
    if not image.get(COPIER) and image.get('status') == 'active':
        return ('', image['id'])
    return (image.get(STARTED) or image.get('created_at') or '',
            image['id'])


class _Heartbeat:
    """Refreshes the copy's ``updated_at`` while the data moves.

    By writing ``COPIER`` again, unchanged: Glance stamps every write, so
    the beat costs no property of the target's image_property_quota
    (``is_live`` reads ``updated_at`` where there is no ``HEARTBEAT``).
    """

    def __init__(self, glance, image_id, copier, every=HEARTBEAT_SECONDS):
        self._glance, self._id, self._every = glance, image_id, every
        self._copier = copier
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self._every):
            try:
                self._glance.patch_image(self._id,
                                         replace={COPIER: self._copier})
            except Exception as e:   # a missed beat is not an error
                LOG.debug('Heartbeat on %s failed: %s', self._id, e)

    def stop(self):
        self._stop.set()
        # A beat under way would write the label again after _finish.
        self._thread.join(self._every + 30)


def _catch_signals():
    """TERM and HUP raise, as INT does, so that clean-up runs."""
    def raise_(signum, frame):
        raise _Signal(signum)
    return signals.handled_by(raise_)


def _deaf():
    """Let no signal stop a clean-up half-way."""
    return signals.handled_by(signal.SIG_IGN)


# ------------------------------------------------------------ the stream
class _Stream:
    """The download, as an iterable of chunks with a known length."""

    def __init__(self, response, size, algos, progress=None):
        self._response = response
        self._size = size
        self._queue = queue.Queue(QUEUE_CHUNKS)
        self._stop = threading.Event()
        # The source's algorithm, and the target's when it differs: the
        # target Glance hashes too, and needs the CPU on a small machine.
        self.hashes = {a: hashlib.new(a, usedforsecurity=False)
                       for a in dict.fromkeys(algos) if a}
        self.received = 0     # read from the source
        self.sent = 0         # handed to the upload
        self.error = None
        self._progress = progress
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def __len__(self):
        return self._size

    def _read(self):
        hashes = list(self.hashes.values())
        try:
            for chunk in self._response.iter_content(CHUNK):
                if self._stop.is_set():
                    return
                for h in hashes:
                    h.update(chunk)
                self.received += len(chunk)
                self._queue.put(chunk)
        except Exception as e:  # reported by the consumer, in its thread
            self.error = e
        finally:
            self._queue.put(None)

    def __iter__(self):
        while True:
            signals.check()
            try:
                chunk = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if chunk is None:
                if self.error:
                    raise errors.TransportError(errors.cause(
                        self.error, 'source'))
                return
            self.sent += len(chunk)
            if self._progress:
                self._progress(self.sent)
            yield chunk

    def close(self):
        self._stop.set()
        self._response.close()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                self._thread.join(0.05)


class Progress:
    """What a copy is doing, on stderr: the phase, since when, how far.

    One line per phase (``uploading`` or ``staging`` with percentage,
    rate and ETA; ``importing`` with what the target Glance reports;
    ``verifying``), rewritten in place at most a few times a second; a
    phase that ends keeps its last line.
    """

    EVERY = 0.25       # seconds between two rewrites of the line

    def __init__(self, total, stream=None, phase='uploading'):
        self.total = total or 1
        self.stream = stream or sys.stderr
        self.printed = False
        self.phase(phase)

    def phase(self, name):
        """A new phase starts now: end the line of the one before."""
        self.done()
        self.name = name
        self.since = time.time()
        self.start = time.monotonic()
        self.last = 0
        self.finished = False

    def _write(self, text):
        self.stream.write('\r\033[K%s since %s (%.0f s): %s' % (
            self.name, time.strftime('%H:%M:%S', time.localtime(
                self.since)), time.time() - self.since, text))
        self.stream.flush()
        self.printed = True

    def __call__(self, done):
        now = time.monotonic()
        if now - self.last < self.EVERY and done < self.total \
                or self.finished:
            return
        self.last = now
        self.finished = done >= self.total
        rate = done / max(now - self.start, 1e-6)
        eta = (self.total - done) / rate if rate else 0
        self._write('%5.1f%%  %7.1f MiB/s  ETA %4.0f s' % (
            100.0 * done / self.total, rate / CHUNK, eta))

    def status(self, text):
        """How the phase stands, in words (the first time, and steadily)."""
        now = time.monotonic()
        if self.printed and now - self.last < self.EVERY:
            return
        self.last = now
        self._write(text)

    def done(self):
        """End the progress line, so that what follows has its own."""
        if self.printed:
            self.stream.write('\n')
            self.stream.flush()
            self.printed = False


def _import_state(img, source, task_message):
    """What the target Glance reports of an import under way, in words."""
    words = ['image %s' % img.get('status')]
    if task_message:
        words.append(task_message)       # Glance's 'Copied 512 MiB'
    if img.get('size'):
        words.append('%d of %s bytes' % (img['size'], source.get('size')))
    if img.get('disk_format') != source.get('disk_format'):
        words.append('converted %s->%s' % (source.get('disk_format'),
                                           img.get('disk_format')))
    return ', '.join(words)


# ------------------------------------------------------------ choosing
_identity_url = api.GlanceAPI.identity_url


def _region(glance):
    return getattr(glance, 'region_name', None)


def region_of(glance):
    """The source cloud label where no cloud name is known: its region."""
    region = _region(glance)
    return region if isinstance(region, str) else None


def download_blocker(glance, target_glance, source, methods):
    """Why glance-download cannot copy ``source``, or None if it can."""
    if 'glance-download' not in (methods or ()):
        return 'the target does not enable glance-download'
    here, there = _region(glance), _region(target_glance)
    if not here or not there or here == there:
        return 'source and target are not two regions of one cloud'
    if _identity_url(glance) != _identity_url(target_glance):
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
    # header on the image it creates says (see _copy_by).
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


# ------------------------------------------------------------ limits
def preflight(target_glance, source, project_id, method):
    """Refuse, before any byte moves, a copy the target's quotas forbid."""
    quotas = target_glance.usage() or {}
    mib = -(-(source.get('size') or 0) // CHUNK)
    needs = {'image_size_total': mib, 'image_count_total': 1,
             'image_count_uploading': 1}
    if method == 'glance-direct':
        needs['image_stage_total'] = mib
    for name, need in sorted(needs.items()):
        q = quotas.get(name) or {}
        limit, used = q.get('limit'), q.get('usage') or 0
        if isinstance(limit, int) and limit >= 0 and used + need > limit:
            unit = ' MiB' if name.endswith('_total') and 'count' not in \
                name else ''
            raise errors.ImageShareError(
                "Image %s cannot be copied into project %s: its quota %s "
                "on the target is %s%s, %s%s used, and the copy needs %s%s "
                "more; nothing was copied" % (
                    source['id'], project_id, name, limit, unit, used, unit,
                    need, unit))


def _create_refused(e, source, project_id, body, client=None):
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


# ------------------------------------------------------------ copying
def copy_image(glance, target_glance, source, project_id, name=None,
               visibility=None, source_cloud=None, progress=False,
               as_admin=False, import_method='auto', keep_signature=False,
               warn=None, keep_id=False, methods=None):
    """Copy ``source`` into ``project_id`` through ``target_glance``.

    ``name`` and ``visibility`` (default: the source's name, private)
    are what the copy is to have: a verified copy already there is
    brought to those given.  ``as_admin``: ``target_glance`` is an
    admin's, which creates the copy owned by ``project_id``.
    ``import_method``: one of ``METHODS`` or 'auto'.  ``warn(sentence)``
    reports what the user should know.
    ``keep_id``: the copy gets the source's ID (another Glance only).
    ``methods``: the methods ``plan_copy`` chose, tried in that order
    (``import_method`` is then not probed again).
    Raises ImageShareError (one line, the half-made copy cleaned) on
    failure, Interrupted (SystemExit) on a caught signal.
    """
    warn = warn or LOG.warning
    algo, expected = source_hash(source)
    tag = '%s:%s' % (algo, expected)
    if keep_id:
        _check_keep_id(glance, target_glance, source, project_id)
    existing = find_copy(target_glance, source, project_id, tag, warn)
    if existing:
        existing, changes = _bring_to(target_glance, existing, project_id,
                                      name, visibility)
        return CopyResult(source, existing, project_id, 0.0, changes,
                          'none')
    if keep_id:
        _id_free(target_glance, source, project_id)
    _clean_leftovers(target_glance, source, project_id, warn)
    props = carried_properties(source, keep_signature)
    dropped = sorted(set(carried_properties(source, True)) - set(props))
    if dropped:
        warn("Image %s: signature properties not copied (%s): the target "
             "would verify them against a certificate it may not have; "
             "--keep-signature keeps them" % (source['id'],
                                              ', '.join(dropped)))
    body = dict(props, name=name or source.get('name'),
                visibility=visibility or 'private')
    body.update({SOURCE_ID: source['id'], SOURCE_HASH: tag,
                 COPIER: whoami()})
    if source_cloud:
        body[SOURCE_CLOUD] = source_cloud
    body['tags'] = source.get('tags') or []
    if as_admin:
        body['owner'] = project_id
    if keep_id:
        body['id'] = source['id']
    order, notes = list(methods or ()), []
    try:
        if not order:
            order, notes = candidates(glance, target_glance, source,
                                      import_method)
    except errors.ImageShareError as e:
        raise errors.ImageShareError(
            'Could not copy image %s into project %s: %s'
            % (source['id'], project_id, e))
    for note in notes:
        LOG.info('Image %s: %s', source['id'], note)
    preflight(target_glance, source, project_id, order[0])
    why = []
    for method in order:
        try:
            return _retried(method, glance, target_glance, source,
                            project_id, body, tag, progress, warn)
        except _Unavailable as e:
            why.append('%s: %s' % (method, e))
            if method != order[-1]:
                LOG.info('Image %s: %s; trying %s', source['id'], e,
                         order[order.index(method) + 1])
    raise errors.ImageShareError(
        'Could not copy image %s into project %s: the target takes no '
        'import method that works here (%s); nothing was left behind'
        % (source['id'], project_id, '; '.join(why)))


def _bring_to(target_glance, copy, project_id, name, visibility):
    """``(copy, changes)``: a verified copy renamed, its visibility set.

    Only what was asked (``--name``, ``--visibility``) and differs.
    """
    wanted = {k: v for k, v in (('name', name), ('visibility', visibility))
              if v is not None and copy.get(k) != v}
    if not wanted:
        return copy, 'none (verified copy exists)'
    changes = ["%s '%s'->'%s'" % (k, copy.get(k), v)
               for k, v in sorted(wanted.items())]
    try:
        copy = target_glance.update_image(copy['id'], **wanted)
    except (errors.GlanceError, errors.ImageShareError) as e:
        raise errors.ImageShareError(
            'A verified copy %s of image %s exists in project %s, but '
            'changing its %s failed: %s' % (
                copy['id'], copy.get(SOURCE_ID), project_id,
                ' and '.join(changes), errors.describe(e)))
    return copy, 'verified copy exists, ' + ', '.join(changes)


def _check_keep_id(glance, target_glance, source, project_id):
    """Refuse --keep-id where the target is the source's own Glance."""
    if (_region(glance) == _region(target_glance)
            and _identity_url(glance) == _identity_url(target_glance)):
        raise errors.ImageShareError(
            "--keep-id cannot copy image %s into project %s: the target is "
            "the source's own Glance (region %s), where an ID names one "
            "image only; copy without --keep-id, or into another region or "
            "cloud" % (source['id'], project_id, _region(glance)))


def _id_free(target_glance, source, project_id):
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
            source['id'], project_id, held.get('name'), held.get('owner'),
            held.get('status')))


class _Transient(errors.ImageShareError):
    """The target answered 5xx: worth one more attempt."""


def _retried(method, glance, target_glance, source, project_id, body, tag,
             progress, warn):
    """``_copy_by``, once more after a server error of the target."""
    try:
        return _copy_by(method, glance, target_glance, source, project_id,
                        dict(body), tag, progress, warn)
    except _Transient as e:
        LOG.info('%s; trying once more', e)
    return _copy_by(method, glance, target_glance, source, project_id,
                    dict(body), tag, progress, warn)


def _clean_leftovers(target_glance, source, project_id, warn):
    """Delete copies that interrupted runs left (or say how to)."""
    try:
        found = _labelled(target_glance, source, project_id)
    except (errors.GlanceError, errors.ImageShareError) as e:
        raise errors.ImageShareError(
            'Could not copy image %s into project %s: listing its copies '
            'failed: %s' % (source['id'], project_id, errors.describe(e)))
    for img in found:
        if img.get('status') == 'active' or is_live(img):
            continue
        if not is_debris(img):
            warn(_not_debris(img, source, project_id))
            continue
        what = ('Image %s in project %s is the leftover of an interrupted '
                'copy of %s (%s, started %s by %s)' % (
                    img['id'], project_id, source['id'], img.get('status'),
                    img.get(STARTED) or img.get('created_at'),
                    img.get(COPIER) or 'an unknown run'))
        try:
            target_glance.delete_image(img['id'])
        except errors.NotFound:
            continue
        except (errors.GlanceError, errors.ImageShareError) as e:
            warn("%s: it could not be deleted (%s); delete it with "
                 "'openstack image delete %s'"
                 % (what, errors.describe(e), img['id']))
            continue
        warn('%s: deleted' % what)


# Only an unfinished copy is in one of these states: a copy that died
# there is debris.  Any other state (deactivated, active, killed, ...)
# is a finished image, the target project's: never deleted.
DEBRIS_STATES = ('queued', 'saving', 'uploading', 'importing')


def is_debris(image):
    """Whether ``image`` (labelled a copy) can only be an unfinished one."""
    return image.get('status') in DEBRIS_STATES


def _not_debris(img, source, project_id):
    return ('Image %s in project %s carries the labels of a copy of %s but '
            'is %s, which no unfinished copy is: it is that project\'s '
            'image and was left as it is' % (
                img['id'], project_id, source['id'], img.get('status')))


def _copy_by(method, glance, target_glance, source, project_id, body, tag,
             progress, warn):
    """One attempt by ``method``: a CopyResult, or the image cleaned."""
    algo, expected = source_hash(source)
    target = None
    beat = None
    meter = Progress(source.get('size'), phase={
        'upload': 'uploading', 'glance-direct': 'staging'}.get(
            method, 'importing')) if progress else None
    started = time.monotonic()
    try:
        with _catch_signals():
            signals.check()
            # Few labels while it is made (they count against the
            # target's image_property_quota): its source and who makes
            # it (when: created_at; alive: updated_at, see _Heartbeat);
            # the source cloud once it is verified (see _finish).
            cloud = body.pop(SOURCE_CLOUD, None)
            try:
                target, announced = target_glance.create_image(body)
            except (errors.GlanceError, errors.ImageShareError) as e:
                # A create that failed late may have made the image.
                with contextlib.suppress(errors.GlanceError,
                                         errors.ImageShareError):
                    _delete_orphans(target_glance, source, project_id)
                raise (_Transient if _server_error(e) else
                       errors.ImageShareError)(
                    _create_refused(e, source, project_id, body,
                                    target_glance))
            if target.get('owner') != project_id:
                raise errors.ImageShareError(
                    'The target credentials create images in project %s, '
                    'not %s' % (target.get('owner'), project_id))
            winner = _winner(target_glance, source, project_id, target,
                             before=True)
            if winner:
                return _lost(target_glance, source, project_id, target,
                             winner, started)
            if method == 'glance-direct' and announced is not None \
                    and method not in announced:
                raise _Unavailable('the target does not enable it (it '
                                   'announces: %s)' % ', '.join(announced))
            signals.check()
            beat = _Heartbeat(target_glance, target['id'], body[COPIER])
            if method == 'glance-download':
                copy = _pull(glance, target_glance, source, target, body,
                             meter)
            else:
                copy = _stream(glance, target_glance, source, target,
                               method, meter, algo, expected)
            beat.stop()
            signals.check()
            seconds = time.monotonic() - started
            if meter:
                meter.phase('verifying')
                meter.status('size and %s against the source' % algo)
            changes = _verify(target_glance, source, copy, method, algo,
                              expected)
            if meter:
                meter.done()
            if changes != 'copied':
                copy = target_glance.patch_image(copy['id'], add={
                    CONVERTED: '%s->%s' % (source.get('disk_format'),
                                           copy.get('disk_format')),
                    PROOF: proof(copy)})
            winner = _winner(target_glance, source, project_id, copy)
            if winner:
                return _lost(target_glance, source, project_id, copy,
                             winner, started)
            copy, changes = _finish(target_glance, copy, changes, warn,
                                    cloud)
            return CopyResult(source, copy, project_id, seconds, changes,
                              method)
    except _Unavailable:
        done = _cleanup(target_glance, target, project_id, beat, meter)
        if 'could not' in done:
            warn('Image %s: %s' % (source['id'], done))
        raise
    except (_Signal, signals.Stopped, KeyboardInterrupt) as e:
        name = getattr(e, 'name', 'SIGINT')
        done = _cleanup(target_glance, target, project_id, beat, meter)
        raise Interrupted('Interrupted by %s while copying image %s into '
                          'project %s: %s' % (name, source['id'],
                                              project_id, done))
    except BaseException as e:
        done = _cleanup(target_glance, target, project_id, beat, meter)
        if isinstance(e, errors.ImageShareError) and target is None:
            raise
        if isinstance(e, errors.TransportError):
            text = str(e)
        elif isinstance(e, errors.GlanceError):
            text = errors.describe(e)
            if getattr(e, 'code', None) == 413:
                text += (' (the target limits image size, image_size_cap, '
                         'or storage)')
        elif isinstance(e, errors.ImageShareError):
            text = str(e)
        else:
            raise
        kind = _Transient if _server_error(e) else errors.ImageShareError
        raise kind('Could not copy image %s into project %s by %s: %s; %s'
                   % (source['id'], project_id, method, text, done))


IN_PROGRESS = (COPIER, STARTED, HEARTBEAT)    # only while it is made
OWNER_SPECIFIED = 'owner_specified.openstack.'  # openstacksdk's checksums


def _finish(target_glance, copy, changes, warn, cloud=None):
    """``(copy, changes)`` once verified: only what describes it stays.

    The labels of a copy under way go; so do the owner's checksums of
    the data when the target converted it (they describe other data);
    ``cloud``, where the source is, is recorded.
    """
    converted = changes != 'copied'
    stale = sorted(k for k in copy if converted
                   and k.startswith(OWNER_SPECIFIED))
    drop = [k for k in IN_PROGRESS if k in copy] + stale
    add = {SOURCE_CLOUD: cloud} if cloud else {}
    if not drop and not add:
        return copy, changes
    try:
        copy = target_glance.patch_image(copy['id'], add=add,
                                         remove=drop)
    except (errors.GlanceError, errors.ImageShareError) as e:
        warn('Image %s: the copy is verified, but removing %s from it '
             'failed (%s)' % (copy['id'], ', '.join(drop), errors.describe(e)))
        return copy, changes
    if stale:
        changes += ', dropped %s (checksums of the data before conversion)' \
            % ', '.join(stale)
    return copy, changes


def _server_error(e):
    code = getattr(e, 'code', None)
    return isinstance(code, int) and code >= 500


def _cleanup(target_glance, target, project_id, beat, meter):
    with _deaf():
        if beat:
            beat.stop()
        if meter:
            meter.done()
        if target is None:
            return 'nothing was left behind'
        return target_glance.delete_quietly(target['id'], project_id)


def _stream(glance, target_glance, source, target, method, meter, algo,
            expected):
    """Stream the source into the copy (upload, or stage and import)."""
    target_algo = _target_algo(target_glance)
    response = glance.download(source['id'])
    stream = _Stream(response, source.get('size'),
                     _hashed_here(method, algo, target_algo), meter)
    try:
        if method == 'upload':
            try:
                target_glance.upload(target['id'], stream)
            except errors.Forbidden as e:
                # upload_image refused by policy: import may be open.
                raise _Unavailable('refused by the target (%s)'
                                   % errors.glance_message(e))
        else:
            target_glance.stage(target['id'], stream)
    finally:
        stream.close()
    if meter:
        meter.done()
    _check_read(stream, source, algo, expected)
    signals.check()
    if method == 'glance-direct':
        target_glance.import_image(target['id'], 'glance-direct')
        copy = _wait_import(target_glance, target, source, meter)
    else:
        copy = target_glance.get_image(target['id'])
    if not stream.hashes:
        _check_stored(glance, copy, source, algo, expected)
    theirs = copy.get('os_hash_algo')
    if (theirs in stream.hashes and theirs != algo
            and copy.get('os_hash_value') != stream.hashes[theirs]
            .hexdigest() and copy.get('disk_format') == source.get(
                'disk_format')):
        raise errors.ImageShareError(
            'the target Glance holds %s %s, not the %s %s of the data sent'
            % (theirs, copy.get('os_hash_value'), theirs,
               stream.hashes[theirs].hexdigest()))
    return copy


def _hashed_here(method, algo, target_algo):
    """The algorithms the client hashes the stream with, if any.

    An upload is stored as sent, and the target Glance hashes what it
    stores: when it uses the source's algorithm (or an md5-only source,
    whose checksum every Glance computes), its own size, hash and
    checksum of the copy, compared with the source's, prove the bytes
    end to end, and hashing them here too would only take its CPU.  An
    unknown target algorithm is taken for the source's, and checked
    after (``_check_stored``).  An import may convert the data: the
    stream is then what proves it, hashed here as before.
    """
    proven = algo == 'md5' or target_algo in (None, algo)
    if method == 'upload' and proven:
        return []
    return [algo, target_algo]


def _check_read(stream, source, algo, expected):
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


def _check_stored(glance, copy, source, algo, expected):
    """Nothing hashed here: the target's figures must be the source's."""
    theirs = copy.get('os_hash_algo')
    if algo != 'md5' and theirs != algo:
        # It hashes otherwise than its newest image showed: hash the
        # source that way (read it once more) to compare.
        LOG.info('Image %s: the target hashed the copy with %s, not %s; '
                 'reading the source again to verify', source['id'],
                 theirs, algo)
        algo, expected = theirs, _source_digest(glance, source, theirs)
    value = copy.get('checksum') if algo == 'md5' else copy.get(
        'os_hash_value')
    checksum = source.get('checksum')
    if (copy.get('size') != source.get('size') or value != expected
            or checksum and copy.get('checksum') != checksum):
        raise errors.ImageShareError(
            'the data the target Glance stored (%s bytes, %s %s, checksum '
            '%s) does not match the source (%s bytes, %s %s, checksum %s)'
            % (copy.get('size'), algo, value, copy.get('checksum'),
               source.get('size'), algo, expected, source.get('checksum')))


def _source_digest(glance, source, algo):
    """The source's data hashed with ``algo``, by reading it again."""
    if algo not in hashlib.algorithms_available:
        raise errors.ImageShareError(
            'the target Glance hashed the copy with %s, which cannot be '
            'checked here' % algo)
    stream = _Stream(glance.download(source['id']), source.get('size'),
                     [algo])
    try:
        for _ in stream:
            pass
    finally:
        stream.close()
    return stream.hashes[algo].hexdigest()


def _target_algo(target_glance):
    """The target's hashing algorithm, as its newest image shows."""
    try:
        found = target_glance.first_images(status='active', limit=1)
    except (errors.GlanceError, errors.ImageShareError):
        return None
    algo = found[0].get('os_hash_algo') if found else None
    return algo if algo in hashlib.algorithms_available else None


def _pull(glance, target_glance, source, target, body, meter=None):
    """glance-download: the target Glance pulls the source itself."""
    try:
        target_glance.import_image(
            target['id'], 'glance-download',
            glance_image_id=source['id'], glance_region=_region(glance),
            glance_service_interface=getattr(glance,
                                             'interface', None)
            or 'public')
    except errors.GlanceError as e:
        raise _Unavailable(errors.describe(e))
    try:
        copy = _wait_import(target_glance, target, source, meter)
    except _ImportFailed as e:
        raise _Unavailable(str(e))
    # glance-download carries only an allow-list of properties.  The
    # formats were set at create; image_conversion changes disk_format,
    # and an active image's formats cannot be replaced.
    missing = {k: v for k, v in body.items()
               if k not in ('tags', 'owner') and k not in copy}
    differ = {k: v for k, v in body.items()
              if k not in ('tags', 'owner') and k in copy
              and copy[k] != v and k not in ('visibility', 'disk_format',
                                             'container_format')}
    if missing or differ:
        copy = target_glance.patch_image(copy['id'], add=missing,
                                         replace=differ)
    return copy


class _ImportFailed(errors.ImageShareError):
    pass


def _wait_import(target_glance, target, source, meter=None):
    """Wait for an import to end; the image, active.

    ``meter``: each poll tells it what the target Glance reports.
    """
    size = source.get('size') or 0
    deadline = time.monotonic() + 300 + size / (5 * CHUNK)
    pause = 0.2
    if meter:
        meter.phase('importing')
    while True:
        img = target_glance.get_image(target['id'])
        if meter:
            meter.status(_import_state(
                img, source, target_glance.import_task_message(img)))
        failed = img.get('os_glance_failed_import')
        # The import's last step saves the image once more and drops
        # os_glance_import_task: a property set before that is lost.
        if img.get('status') == 'active' and not img.get(
                'os_glance_import_task'):
            return img
        if img.get('status') == 'killed' or failed:
            raise _ImportFailed(
                'the target Glance failed to import the data (status %s, '
                'os_glance_failed_import %r; see its log)'
                % (img.get('status'), failed or ''))
        if time.monotonic() > deadline:
            raise _ImportFailed('the import did not finish in time (status '
                                '%s)' % img.get('status'))
        signals.sleep(pause)
        pause = min(pause * 1.5, 0.5)


def _verify(target_glance, source, copy, method, algo, expected):
    """'copied', or what the target changed; raise if it does not hold."""
    if copy.get('status') == 'active' and _matches(copy, source, algo,
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


# ------------------------------------------------------------ races
def _winner(target_glance, source, project_id, mine, before=False):
    """Another run's copy that wins over ``mine``, once it is settled.

    The copy that started first wins.  ``before``: ``mine`` has no data
    yet, so any verified copy wins, and a live one that started first
    will.  After: wait for live copies that started first to finish.
    """
    while True:
        others = [i for i in _delete_orphans(target_glance, source,
                                             project_id, mine)
                  if i.get(SOURCE_HASH) == mine.get(SOURCE_HASH)]
        done = [i for i in others if proven(i, source)]
        earlier = [i for i in others if i.get('status') != 'active'
                   and _key(i) < _key(mine) and is_live(i)]
        if before and done:
            return min(done, key=_key)
        if before:
            if not earlier:
                return None
            # Let the first run finish; copy only if it does not.
            return _await(target_glance, source, project_id, earlier)
        first = min(done + [mine], key=_key)
        if not earlier:
            return None if first is mine else first
        signals.sleep(1)


def _delete_orphans(target_glance, source, project_id, mine=None):
    """The copies of ``source`` but ``mine``, less this process's others.

    This process makes one copy of a source into a project at a time: an
    image it labelled that is not ``mine`` is an orphan (a create whose
    answer was an error, though the image was made), which other runs
    would take for a live copy and wait for.
    """
    me = whoami()
    found = []
    for img in _labelled(target_glance, source, project_id):
        if mine is not None and img['id'] == mine['id']:
            continue
        if img.get(COPIER) == me and is_debris(img):
            LOG.info('Image %s: %s', source['id'],
                     target_glance.delete_quietly(img['id'], project_id))
            continue
        found.append(img)
    return found


def _await(target_glance, source, project_id, earlier):
    while True:
        signals.sleep(1)
        now = {i['id']: i for i in _labelled(target_glance, source,
                                             project_id)}
        for img in earlier:
            cur = now.get(img['id'])
            if cur and proven(cur, source):
                return cur
        earlier = [now[i['id']] for i in earlier if i['id'] in now
                   and is_live(now[i['id']])]
        if not earlier:
            return None


def _lost(target_glance, source, project_id, mine, winner, started):
    done = target_glance.delete_quietly(mine['id'], project_id)
    LOG.info('Image %s: another run copied it first (%s); %s',
             source['id'], winner['id'], done)
    return CopyResult(source, winner, project_id,
                      time.monotonic() - started,
                      'none (copied by another run at the same time)',
                      'none')
