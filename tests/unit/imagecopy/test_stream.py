"""The streamed data path: a bounded pipe from one Glance to another."""

import hashlib

from osc_imageshare import errors
from osc_imageshare.imagecopy import stream
from tests.unit import base

DATA = bytes(range(256)) * 9000        # 2.3 MB: several chunks


class Response:
    """A streamed download: ``iter_content`` chunks, then maybe a break."""

    def __init__(self, data, fail=None):
        self.data, self.fail, self.closed = data, fail, False

    def iter_content(self, size):
        for at in range(0, len(self.data), size):
            yield self.data[at:at + size]
        if self.fail:
            raise self.fail

    def close(self):
        self.closed = True


class TestStream(base.TestCase):

    def read(self, response, algos=(), size=len(DATA)):
        seen = []
        s = stream.Stream(response, size, list(algos), seen.append)
        try:
            got = b''.join(s)
        finally:
            s.close()
        return s, got, seen

    def test_passes_the_bytes_with_their_length(self):
        response = Response(DATA)
        s, got, seen = self.read(response)
        self.assertEqual(DATA, got)
        self.assertEqual(len(DATA), len(s))
        self.assertEqual((len(DATA), len(DATA)), (s.received, s.sent))
        self.assertEqual(len(DATA), seen[-1])
        self.assertEqual({}, s.hashes)
        self.assertTrue(response.closed)

    def test_hashes_with_each_algorithm_once(self):
        s, _, _ = self.read(Response(DATA), ['sha512', 'md5', 'sha512'])
        self.assertEqual(
            {'sha512': hashlib.sha512(DATA).hexdigest(),
             'md5': hashlib.md5(DATA).hexdigest()},
            {a: h.hexdigest() for a, h in s.hashes.items()})

    def test_a_source_that_breaks_is_reported_in_the_consumer(self):
        e = self.assertRaises(errors.TransportError, self.read, Response(
            DATA, ConnectionResetError('reset by peer')))
        self.assertEqual('connection reset by the source Glance', str(e))

    def test_close_before_the_end_stops_the_reader(self):
        response = Response(DATA * 20)
        s = stream.Stream(response, len(DATA) * 20, [])
        next(iter(s))
        s.close()
        self.assertTrue(response.closed)
        self.assertLess(s.received, len(DATA) * 20)
