"""What the client hashes, and what proves a copy: on fakes."""

import hashlib
import os
import threading
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.imagecopy import stream
from osc_imageshare.imagecopy import verify
from tests.unit import base
from tests.unit import fakes
from tests.unit.imagecopy import test_engine

BETA = fakes.BETA
IMAGE_ID = fakes.IMAGE_ID
DATA = test_engine.DATA
SHA512 = test_engine.SHA512
source = test_engine.source


class TestTargetProves(test_engine.CopyCase):
    """An upload into a Glance hashing like the source: its figures."""

    def hashed(self, **kw):
        """The result, and what the client hashed the streams with."""
        algos, real = [], stream.Stream

        def spy(*args, **kwargs):
            made = real(*args, **kwargs)
            algos.extend(made.hashes)
            return made
        with mock.patch.object(stream, 'Stream', side_effect=spy):
            result = self.copy(**kw)
        return result, algos

    def store_other_bytes(self):
        real = self.target._store

        def flip(img, got, fmt):
            real(img, got[:-1] + b'?', fmt)
        self.target._store = flip

    def test_same_algorithm_hashes_nothing_here(self):
        self.target.images['seen'] = dict(id='seen', status='active',
                                          os_hash_algo='sha512')
        result, algos = self.hashed()
        self.assertEqual([], algos)
        self.assertEqual(('copied', 'sha512:' + SHA512, len(DATA)), (
            result.changes, result.row()[5], result.image['size']))
        self.assertEqual([('GET', '/v2/images/%s/file' % IMAGE_ID)],
                         self.glance.calls)

    def test_import_still_hashes_the_stream(self):
        self.target.methods = ['glance-direct']
        result, algos = self.hashed(import_method='glance-direct')
        self.assertEqual(['sha512'], algos)
        self.assertEqual('copied', result.changes)

    def test_target_storing_other_bytes_fails_and_cleans_up(self):
        self.store_other_bytes()
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('by upload: the data the target Glance stored (%d '
                      'bytes, sha512 %s' % (len(DATA), hashlib.sha512(
                          DATA[:-1] + b'?').hexdigest()), str(e))
        self.assertTrue(str(e).endswith(
            'the partial copy new-1 in project %s was deleted' % BETA))
        self.assertEqual({}, self.target.images)

    def test_checksum_that_differs_fails(self):
        real = self.target._store

        def other_md5(img, got, fmt):
            real(img, got, fmt)
            img['checksum'] = '0' * 32
        self.target._store = other_md5
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('checksum %s) does not match the source (%d bytes, '
                      'sha512 %s, checksum %s)' % (
                          '0' * 32, len(DATA), SHA512, self.src['checksum']),
                      str(e))
        self.assertEqual({}, self.target.images)

    def test_unannounced_other_algorithm_reads_the_source_again(self):
        self.target.algo = 'sha256'      # and no image shows it
        result, algos = self.hashed()
        self.assertEqual(['sha256'], algos)
        self.assertEqual(('copied', hashlib.sha256(DATA).hexdigest()),
                         (result.changes, result.image['os_hash_value']))
        self.assertEqual(2 * [('GET', '/v2/images/%s/file' % IMAGE_ID)],
                         self.glance.calls)

    def test_unannounced_other_algorithm_other_bytes_fails(self):
        self.target.algo = 'sha256'
        self.store_other_bytes()
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('the data the target Glance stored (%d bytes, sha256 '
                      '%s, checksum ' % (len(DATA), hashlib.sha256(
                          DATA[:-1] + b'?').hexdigest()), str(e))
        self.assertIn('does not match the source (%d bytes, sha256 %s, '
                      % (len(DATA), hashlib.sha256(DATA).hexdigest()),
                      str(e))
        self.assertEqual({}, self.target.images)

    def test_short_read_is_named(self):
        self.glance.data[IMAGE_ID] = DATA[:1000]
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('by upload: the data read (1000 bytes) does not match '
                      'the source (%d bytes)' % len(DATA), str(e))
        self.assertEqual({}, self.target.images)


class TestProofKey(base.TestCase):

    def test_read_while_another_makes_it_it_is_read_whole(self):
        # The seals of parallel copies (threads) or two runs: one reads
        # the key while the other is making it.
        real, other = os.urandom, []

        def urandom(n):
            if not other:
                other.append(None)
                reader = threading.Thread(
                    target=lambda: other.append(verify.proof_key()))
                reader.start()
                reader.join(10)
            return real(n)
        with mock.patch('os.urandom', urandom):
            mine = verify.proof_key()
        self.assertEqual([None, mine], other)
        self.assertEqual((32, mine), (len(mine), verify.proof_key()))
        path = os.path.join(os.environ['XDG_CONFIG_HOME'], 'osc-imageshare',
                            'copy-proof.key')
        self.assertEqual(0o600, os.stat(path).st_mode & 0o777)
        self.assertEqual(['copy-proof.key'], os.listdir(os.path.dirname(
            path)))
