"""Copy an image into another project: one verified, streamed pass.

The data flows from the source Glance straight into the target Glance (any
region or cloud the target's credentials point to): a reader thread pulls
it from the source and hashes it while the upload sends it, with a
Content-Length, through a queue of a few chunks, so memory stays bounded
whatever the size and nothing touches the disk.  The copy is checked
against the source's hash and size, by our own hash and by the hash the
target Glance computed; on any error, mismatch or interruption (Ctrl-C
included) the half-made target image is deleted.  The source is only read.
"""

import dataclasses
import hashlib
import logging
import queue
import sys
import threading
import time

from glanceclient import exc as glance_exc
from keystoneauth1 import adapter as ks_adapter

from osc_imageshare import errors
from osc_imageshare import images

LOG = logging.getLogger(__name__)

CHUNK = 1024 * 1024
QUEUE_CHUNKS = 8          # memory bound: about QUEUE_CHUNKS MiB in flight
SOURCE_ID = 'imageshare_source_id'
SOURCE_CLOUD = 'imageshare_source_cloud'
SOURCE_HASH = 'imageshare_source_hash'
COLUMNS = ('Source ID', 'Image ID', 'Image Name', 'Project ID', 'Size',
           'Hash', 'Seconds', 'MiB/s', 'Changes')
# Never copied: identity, ownership, access, and what Glance computes.
SKIP = {
    'id', 'name', 'owner', 'visibility', 'protected', 'status', 'size',
    'virtual_size', 'checksum', 'os_hash_algo', 'os_hash_value', 'stores',
    'locations', 'direct_url', 'file', 'schema', 'self', 'created_at',
    'updated_at', 'os_hidden', 'tags', 'members',
}


@dataclasses.dataclass
class CopyResult:
    source: dict
    image: dict
    project_id: str
    seconds: float = 0.0
    changes: str = 'copied'

    def row(self):
        size = self.image.get('size') or 0
        rate = size / self.seconds / CHUNK if self.seconds else None
        return (self.source['id'], self.image['id'], self.image.get('name'),
                self.project_id, size, '%s:%s' % (
                    self.image.get('os_hash_algo'),
                    self.image.get('os_hash_value')),
                round(self.seconds, 2), rate and round(rate, 1),
                self.changes)


def carried_properties(source):
    """What makes the copy usable: formats, limits, hw_/os_ and user keys."""
    return {k: v for k, v in source.items()
            if k not in SKIP and not k.startswith('os_glance')
            and not k.startswith('imageshare_') and v is not None}


def _raw(glance, method, url, **kw):
    """A request on the client's session, past glanceclient's body handling.

    glanceclient would send our upload chunked, without a length.
    """
    resp = ks_adapter.Adapter.request(glance.http_client, url, method,
                                      raise_exc=False, **kw)
    if resp.status_code >= 400:
        raise glance_exc.from_response(resp, resp.text)
    return resp


def find_copy(target_glance, source, project_id, source_hash):
    """A verified copy of ``source`` already in the target project."""
    for img in images.list_images(target_glance, owner=project_id,
                                  **{SOURCE_ID: source['id']}):
        if (img.get(SOURCE_HASH) == source_hash
                and img.get('status') == 'active'):
            return img
    return None


class _Stream:
    """The download, as an iterable of chunks with a known length."""

    def __init__(self, response, size, algo, progress=None):
        self._response = response
        self._size = size
        self._queue = queue.Queue(QUEUE_CHUNKS)
        self._stop = threading.Event()
        # One hash, the source's own: hashing costs CPU that the target
        # Glance, hashing the upload itself, needs on a small machine.
        self.hash = hashlib.new(algo, usedforsecurity=False)
        self.received = 0     # read from the source
        self.sent = 0         # handed to the upload
        self.error = None
        self._progress = progress
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def __len__(self):
        return self._size

    def _read(self):
        try:
            for chunk in self._response.iter_content(CHUNK):
                if self._stop.is_set():
                    return
                self.hash.update(chunk)
                self.received += len(chunk)
                self._queue.put(chunk)
        except Exception as e:  # reported by the consumer, in its thread
            self.error = e
        finally:
            self._queue.put(None)

    def __iter__(self):
        while True:
            chunk = self._queue.get()
            if chunk is None:
                if self.error:
                    raise errors.ImageShareError(
                        'Reading the source image failed: %s' % self.error)
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
    """Percentage, rate and ETA on stderr, at most a few times a second."""

    def __init__(self, total, stream=None):
        self.total = total or 1
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.last = 0
        self.finished = False

    def __call__(self, done):
        now = time.monotonic()
        if now - self.last < 0.25 and done < self.total or self.finished:
            return
        self.last = now
        self.finished = done >= self.total
        rate = done / max(now - self.start, 1e-6)
        eta = (self.total - done) / rate if rate else 0
        self.stream.write('\r%5.1f%%  %7.1f MiB/s  ETA %4.0f s' % (
            100.0 * done / self.total, rate / CHUNK, eta))
        self.stream.flush()

    def done(self):
        self.stream.write('\n')
        self.stream.flush()


def copy_image(glance, target_glance, source, project_id, name=None,
               visibility='private', source_cloud=None, progress=False,
               as_admin=False):
    """Copy ``source`` into ``project_id`` through ``target_glance``.

    ``as_admin``: ``target_glance`` is an admin's, which creates the copy
    owned by ``project_id``.
    """
    if source.get('os_hash_value'):
        algo, expected = source.get('os_hash_algo'), source['os_hash_value']
    else:  # older images carry only Glance's md5 checksum
        algo, expected = 'md5', source.get('checksum')
    source_hash = '%s:%s' % (algo, expected)
    existing = find_copy(target_glance, source, project_id, source_hash)
    if existing:
        return CopyResult(source, existing, project_id, 0.0,
                          'none (verified copy exists)')
    body = dict(carried_properties(source), name=name or source.get('name'),
                visibility=visibility)
    body[SOURCE_ID] = source['id']
    body[SOURCE_HASH] = source_hash
    if source_cloud:
        body[SOURCE_CLOUD] = source_cloud
    body['tags'] = source.get('tags') or []
    if as_admin:
        body['owner'] = project_id
    try:
        target = target_glance.http_client.post('/v2/images', data=body)[1]
    except glance_exc.HTTPException as e:
        raise errors.ImageShareError(errors.explain(
            e, source['id'], project_id, 'create the copy',
            client=target_glance))
    stream = None
    started = time.monotonic()
    try:
        if target.get('owner') != project_id:
            raise errors.ImageShareError(
                'The target credentials create images in project %s, not %s'
                % (target.get('owner'), project_id))
        response = _raw(glance, 'GET', '/v2/images/%s/file' % source['id'],
                        stream=True)
        meter = Progress(source.get('size')) if progress else None
        stream = _Stream(response, source.get('size'), algo, meter)
        _raw(target_glance, 'PUT', '/v2/images/%s/file' % target['id'],
             data=stream,
             headers={'Content-Type': 'application/octet-stream'})
        if meter:
            meter.done()
        seconds = time.monotonic() - started
        got = stream.hash.hexdigest()
        if got != expected or stream.received != source.get('size'):
            raise errors.ImageShareError(
                'Image %s: the data read (%d bytes, %s %s) does not match '
                'the source (%s bytes, %s %s); the copy was deleted' % (
                    source['id'], stream.received, algo, got,
                    source.get('size'), algo, expected))
        copy = images.get_image(target_glance, target['id'])
        if (copy.get('status') != 'active'
                or copy.get('size') != source.get('size')
                or (copy.get('os_hash_algo') == algo
                    and copy.get('os_hash_value') != expected)
                or (algo == 'md5' and copy.get('checksum') != expected)):
            raise errors.ImageShareError(
                'Image %s: the target Glance holds %s bytes (%s %s, status '
                '%s), not the source\'s %s bytes (%s %s); the copy was '
                'deleted' % (source['id'], copy.get('size'),
                             copy.get('os_hash_algo'),
                             copy.get('os_hash_value'), copy.get('status'),
                             source.get('size'), algo, expected))
        return CopyResult(source, copy, project_id, seconds, 'copied')
    except BaseException as e:
        if stream:
            stream.close()
        _delete_quietly(target_glance, target['id'])
        if isinstance(e, glance_exc.HTTPException):
            raise errors.ImageShareError('%s; the copy was deleted' % (
                errors.explain(e, source['id'], action='copy the data')))
        raise


def _delete_quietly(glance, image_id):
    try:
        glance.http_client.delete('/v2/images/%s' % image_id)
    except glance_exc.HTTPException as e:
        LOG.error("Could not delete the partial copy %s: %s; delete it with "
                  "'openstack image delete %s'", image_id,
                  errors.glance_message(e), image_id)


def transfer_copies(glance, ident, image_refs, targets, name=None,
                    visibility='private', progress=False, dry_run=False):
    """Copy each image into each target; returns rows, errors, failed."""
    rows = []
    sources, failed_refs = images.find_images(
        glance, image_refs, ident.project_name or ident.project_id,
        lambda image: None if image.get('status') == 'active' else (
            'Image %s is %s, not active: only an active image can be '
            'copied' % (image['id'], image.get('status'))))
    errs = list(failed_refs.values())
    failed = len(errs) * len(targets)
    origin = glance.http_client.get_endpoint()
    for source in sources:
        for t in targets:
            if dry_run:
                rows.append((source['id'], None, name or source.get('name'),
                             t.project_id, source.get('size'), None, None,
                             None, 'plan: copy %s bytes as %s' % (
                                 source.get('size'), t.accept_as)))
                continue
            try:
                result = copy_image(
                    glance, t.glance or glance, source, t.project_id, name,
                    visibility, origin, progress,
                    as_admin=t.accept_as == 'admin')
            except errors.ImageShareError as e:
                errs.append(str(e))
                failed += 1
                continue
            rows.append(result.row())
    total = len(image_refs) * len(targets)
    return rows, errs, failed, total
