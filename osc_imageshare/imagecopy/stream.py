"""The streamed data path: source Glance to target Glance, no disk.

A reader thread pulls the data from the source (hashing it where the
client must, see ``verify.hashed_here``) while the request sends it,
with a Content-Length, through a queue of a few chunks: memory stays
bounded whatever the size.
"""

import hashlib
import queue
import threading

from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.imagecopy import importing
from osc_imageshare.imagecopy import methods
from osc_imageshare.imagecopy import verify


CHUNK = 1024 * 1024
QUEUE_CHUNKS = 8          # memory bound: about QUEUE_CHUNKS MiB in flight


class Stream:
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


def send(glance, target_glance, source, target, method, meter, algo,
         expected):
    """Stream the source into the copy (upload, or stage and import)."""
    target_algo = verify.target_algo(target_glance)
    response = glance.download(source['id'])
    stream = Stream(response, source.get('size'),
                    verify.hashed_here(method, algo, target_algo), meter)
    try:
        _put(target_glance, target, method, stream)
    finally:
        stream.close()
    if meter:
        meter.done()
    verify.check_read(stream, source, algo, expected)
    signals.check()
    if method == 'glance-direct':
        target_glance.import_image(target['id'], 'glance-direct')
        copy = importing.wait_import(target_glance, target, source, meter)
    else:
        copy = target_glance.get_image(target['id'])
    if not stream.hashes:
        verify.check_stored(copy, source, algo, expected,
                            lambda a: source_digest(glance, source, a))
    verify.check_sent(stream.hashes, copy, source, algo)
    return copy


def _put(target_glance, target, method, stream):
    if method != 'upload':
        target_glance.stage(target['id'], stream)
        return
    try:
        target_glance.upload(target['id'], stream)
    except errors.Forbidden as e:
        # upload_image refused by policy: import may be open.
        raise methods.Unavailable('refused by the target (%s)'
                                  % errors.glance_message(e))


def source_digest(glance, source, algo):
    """The source's data hashed with ``algo``, by reading it again."""
    if algo not in hashlib.algorithms_available:
        raise errors.ImageShareError(
            'the target Glance hashed the copy with %s, which cannot be '
            'checked here' % algo)
    stream = Stream(glance.download(source['id']), source.get('size'),
                    [algo])
    try:
        for _ in stream:
            pass
    finally:
        stream.close()
    return stream.hashes[algo].hexdigest()
