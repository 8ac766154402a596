"""The copy workflow: streamed or imported, verified, cleaned up; on fakes."""

import hashlib
import io
import os
import re
import signal
import socket
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.ops import pipeline
from tests.unit.api import test_glance
from tests.unit import base
from tests.unit import fakes

BETA, IMAGE_ID = fakes.BETA, fakes.IMAGE_ID
DATA = bytes(range(256)) * 5000          # 1.28 MB: two chunks and a bit
SHA512 = hashlib.sha512(DATA).hexdigest()
LIST = ('/v2/images?imageshare_source_id=%s&owner=%s' % (IMAGE_ID, BETA))
ALGO = '/v2/images?limit=1&status=active'


def source(**over):
    img = fakes.image(
        visibility='private', size=len(DATA), disk_format='qcow2',
        container_format='bare', min_disk=2, min_ram=512, tags=['a'],
        os_hash_algo='sha512', os_hash_value=SHA512,
        checksum=hashlib.md5(DATA).hexdigest(), hw_disk_bus='scsi',
        os_distro='debian', os_glance_importing_to_stores='',
        imageshare_source_id='older', stores='fs', owner=fakes.ALPHA)
    img.update(over)
    return img


def dead_copier():
    """A COPIER value naming a process of this host that has ended."""
    return '%s:%d:1' % (socket.gethostname(), 2 ** 22 + 7)


class CopyCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.src = source()
        self.glance = fakes.FakeGlance([self.src], data={IMAGE_ID: DATA})
        self.target = fakes.FakeGlance([], owner=BETA)
        self.warnings = []
        self.sleep = self.useFixture_sleep()

    def useFixture_sleep(self):
        patcher = mock.patch.object(engine.time, 'sleep')
        self.addCleanup(patcher.stop)
        return patcher.start()

    def copy(self, **kw):
        kw.setdefault('warn', self.warnings.append)
        return engine.copy_image(self.glance, self.target, self.src, BETA,
                                 **kw)


class TestUpload(CopyCase):

    def test_carried_properties(self):
        self.assertEqual(
            {'disk_format': 'qcow2', 'container_format': 'bare',
             'min_disk': 2, 'min_ram': 512, 'hw_disk_bus': 'scsi',
             'os_distro': 'debian'}, engine.carried_properties(self.src))

    def test_streams_with_a_length_and_verifies(self):
        result = self.copy(source_cloud='http://one')
        self.assertEqual(DATA, self.target.data['new-1'])
        self.assertEqual(len(DATA), self.target.length)
        self.assertEqual(
            ['GET ' + LIST, 'GET ' + LIST, 'GET /v2/info/import',
             'GET /v2/info/usage', 'POST /v2/images', 'GET ' + LIST,
             'GET ' + ALGO, 'PUT /v2/images/new-1/file',
             'GET /v2/images/new-1', 'GET ' + LIST,
             'PATCH /v2/images/new-1'],
            [c[0] + ' ' + c[1] for c in self.target.calls])
        new = self.target.images['new-1']
        self.assertEqual((BETA, 'private', 'web', ['a'], 'qcow2', IMAGE_ID,
                          'http://one', 'sha512:' + SHA512), (
            new['owner'], new['visibility'], new['name'], new['tags'],
            new['disk_format'], new[engine.SOURCE_ID],
            new[engine.SOURCE_CLOUD],
            new[engine.SOURCE_HASH]))
        created = [c[2] for c in self.target.calls if c[0] == 'POST'][0]
        self.assertEqual(engine.whoami(), created[engine.COPIER])
        # Few labels while it is made: no heartbeat yet, no source cloud.
        self.assertEqual(
            [engine.COPIER, engine.SOURCE_HASH, engine.SOURCE_ID],
            sorted(k for k in created if k.startswith('imageshare_')))
        # Verified: what only a copy under way needs is gone; the source
        # cloud is recorded.
        self.assertEqual([
            {'op': 'add', 'path': '/' + engine.SOURCE_CLOUD,
             'value': 'http://one'}] + [
            {'op': 'remove', 'path': '/' + k}
            for k in (engine.COPIER,)],
            self.target.calls[-1][2])
        for k in (engine.COPIER, engine.STARTED, engine.HEARTBEAT):
            self.assertNotIn(k, new)
        self.assertNotIn('os_glance_importing_to_stores', new)
        self.assertEqual(('copied', 'upload'),
                         (result.changes, result.method))
        self.assertEqual('upload', result.row()[-1])
        self.assertEqual([('GET', '/v2/images/%s/file' % IMAGE_ID)],
                         self.glance.calls)   # the source: only read
        self.assertEqual([], self.warnings)

    def test_a_hidden_source_makes_a_hidden_copy_found_by_a_rerun(self):
        self.src = self.glance.images[IMAGE_ID] = source(os_hidden=True)
        first = self.copy()
        self.assertIs(True, self.target.images[first.image['id']][
            'os_hidden'])
        again = self.copy()
        self.assertEqual((first.image['id'], 'none (verified copy exists)'),
                         (again.image['id'], again.changes))
        self.assertEqual(1, len(self.target.images))

    def test_a_rerun_brings_the_verified_copy_to_what_was_asked(self):
        first = self.copy()
        self.target.calls.clear()
        again = self.copy(name='web-v2', visibility='shared')
        self.assertEqual(first.image['id'], again.image['id'])
        self.assertEqual("verified copy exists, name 'web'->'web-v2', "
                         "visibility 'private'->'shared'", again.changes)
        new = self.target.images[first.image['id']]
        self.assertEqual(('web-v2', 'shared'), (new['name'],
                                                new['visibility']))
        self.assertEqual(1, len([c for c in self.target.calls
                                 if c[0] == 'PATCH']))
        third = self.copy(name='web-v2', visibility='shared')
        self.assertEqual('none (verified copy exists)', third.changes)

    def test_a_verified_copy_that_cannot_be_renamed_fails_saying_why(self):
        first = self.copy()
        self.target.fail[('PATCH', '/v2/images/%s' % first.image['id'])] = (
            errors.Forbidden('You are not permitted'))
        # (testtools' assertRaises: no context manager in the 2023.1 set)
        e = self.assertRaises(errors.ImageShareError, self.copy,
                              name='web-v2')
        self.assertTrue(str(e).startswith(
            "A verified copy %s of image %s exists in project %s, but "
            "changing its name 'web'->'web-v2' failed: the target Glance "
            "answered HTTP 403" % (first.image['id'], IMAGE_ID, BETA)), str(e))

    def test_existing_verified_copy_is_reported(self):
        first = self.copy()
        again = self.copy()
        self.assertEqual(first.image['id'], again.image['id'])
        self.assertEqual(('none (verified copy exists)', 'none'),
                         (again.changes, again.method))
        self.assertEqual(1, self.target.created)

    def planted(self, **over):
        img = dict(id='planted', owner=BETA, status='active', size=5,
                   os_hash_algo='sha512', os_hash_value='ab' * 64,
                   checksum='cd' * 16, **over)
        img[engine.SOURCE_ID] = IMAGE_ID
        img[engine.SOURCE_HASH] = 'sha512:' + SHA512
        self.target.images['planted'] = img
        return img

    def test_a_planted_look_alike_is_not_reused(self):
        for over in ({}, {engine.CONVERTED: 'qcow2->raw'},
                     {engine.CONVERTED: 'qcow2->raw', engine.PROOF: 'f' * 64}):
            self.target.images.clear()
            self.warnings.clear()
            self.planted(**over)
            result = self.copy()
            self.assertEqual(('new-%d' % self.target.created, 'copied'),
                             (result.image['id'], result.changes))
            why = ("it is labelled converted, but its imageshare_proof is "
                   "not one this user's runs made (a run on another "
                   "machine, or labels written by someone else)"
                   if over else
                   "Glance holds 5 bytes (sha512 %s) in it, not the "
                   "source's %d bytes (sha512 %s)" % (
                       'ab' * 64, len(DATA), SHA512))
            self.assertEqual([
                'Image planted in project %s is labelled a copy of %s but '
                'is not a proven one: %s; not reused, copying again'
                % (BETA, IMAGE_ID, why)], self.warnings)
            self.assertIn('planted', self.target.images)   # not ours

    def test_a_converted_copy_with_its_proof_is_reused(self):
        img = self.planted(**{engine.CONVERTED: 'qcow2->raw'})
        img[engine.PROOF] = engine.proof(img)
        result = self.copy()
        self.assertEqual(('planted', 'none (verified copy exists)'),
                         (result.image['id'], result.changes))
        self.assertEqual(0, self.target.created)
        # The proof covers Glance's own figures: other data, no proof.
        img['os_hash_value'] = 'ef' * 64
        self.assertEqual('copied', self.copy().changes)

    def test_property_quota_counts_the_source_and_the_labels(self):
        self.target.fail[('POST', '/v2/images')] = \
            errors.RequestEntityTooLarge(
                'The limit has been exceeded on the number of allowed image '
                'properties. Attempted: 9, Maximum: 7')
        e = self.assertRaises(errors.ImageShareError, self.copy,
                              source_cloud='one')
        # min_disk, min_ram and the formats are fields, not properties.
        self.assertEqual(
            'Image %s cannot be copied into project %s: the target allows '
            'fewer properties per image (image_property_quota; The limit '
            'has been exceeded on the number of allowed image properties. '
            'Attempted: 9, Maximum: 7) than the copy\'s 5 (the source\'s 2 '
            'and 3 labels of the copy under way: imageshare_copier, '
            'imageshare_source_hash, imageshare_source_id); nothing was '
            'copied' % (IMAGE_ID, BETA),
            str(e))

    def test_corrupted_data_deletes_the_copy(self):
        # The target hashes with sha512 too: its figures are the proof.
        self.glance.data[IMAGE_ID] = DATA[:-1] + b'!'
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('by upload: the data the target Glance stored (%d '
                      'bytes, sha512 %s, checksum %s) does not match the '
                      'source (%d bytes, sha512 %s, checksum %s)' % (
                          len(DATA), hashlib.sha512(DATA[:-1] + b'!')
                          .hexdigest(), hashlib.md5(DATA[:-1] + b'!')
                          .hexdigest(), len(DATA), SHA512,
                          self.src['checksum']), str(e))
        self.assertTrue(str(e).endswith(
            'the partial copy new-1 in project %s was deleted' % BETA))
        self.assertEqual({}, self.target.images)
        self.assertEqual(('DELETE', '/v2/images/new-1'),
                         self.target.calls[-1])

    def test_short_read_deletes_the_copy(self):
        self.glance.data[IMAGE_ID] = DATA[:1000]
        self.assertRaises(errors.ImageShareError, self.copy)
        self.assertEqual({}, self.target.images)

    def test_md5_only_source(self):
        self.src.pop('os_hash_algo')
        self.src.pop('os_hash_value')
        result = self.copy()
        self.assertEqual('copied', result.changes)
        self.assertEqual('md5:' + hashlib.md5(DATA).hexdigest(),
                         result.image[engine.SOURCE_HASH])

    def test_as_admin_sets_the_owner(self):
        self.target.owner = 'admin-project'
        self.copy(as_admin=True)
        self.assertEqual(BETA, self.target.images['new-1']['owner'])

    def test_wrong_project_is_refused_and_cleaned(self):
        self.target.owner = 'someone-else'
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('create images in project someone-else', str(e))
        self.assertEqual({}, self.target.images)


class TestFailures(CopyCase):

    def test_target_reset_mid_stream_and_unreachable_for_clean_up(self):
        def die(chunk):
            raise test_glance.broken(ConnectionResetError(104, 'reset'))
        self.target.on_data = die
        self.target.fail[('DELETE', '/v2/images/new-1')] = \
            errors.TransportError('Connection refused')
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertEqual(
            "Could not copy image %s into project %s by upload: connection "
            "reset by the target Glance; the partial copy new-1 in project "
            "%s could not be deleted (connection refused by the target "
            "Glance (is it down?)): delete it with 'openstack image "
            "delete new-1', or re-run this command, which deletes it"
            % (IMAGE_ID, BETA, BETA), str(e))

    def test_source_reset_mid_stream(self):
        class Broken(fakes.Response):
            def iter_content(self, size):
                yield DATA[:size]
                raise test_glance.broken(ConnectionResetError(104, 'x'))
        self.glance.request = lambda *a, **k: Broken()
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('by upload: connection reset by the source Glance; '
                      'the partial copy new-1', str(e))
        self.assertEqual({}, self.target.images)

    def test_create_refused_is_one_line(self):
        self.target.fail[('POST', '/v2/images')] = errors.Forbidden(
            'You are not authorized to complete add_image action.')
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertEqual(
            'Could not create the copy of image %s in project %s: the '
            'target Glance answered HTTP 403: You are not authorized to '
            'complete add_image action.' % (IMAGE_ID, BETA), str(e))

    def test_property_quota_refused_before_any_byte(self):
        self.target.fail[('POST', '/v2/images')] = \
            errors.RequestEntityTooLarge(
                'The limit has been exceeded on the number of allowed image '
                'properties. Attempted: 14, Maximum: 10')
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('image_property_quota', str(e))
        self.assertIn('Maximum: 10', str(e))
        self.assertEqual([], self.glance.calls)

    def test_usage_quota_refused_before_creating(self):
        self.target.quota = {'image_size_total': {'limit': 1, 'usage': 1},
                             'image_count_total': {'limit': -1, 'usage': 3}}
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertEqual(
            'Image %s cannot be copied into project %s: its quota '
            'image_size_total on the target is 1 MiB, 1 MiB used, and the '
            'copy needs 2 MiB more; nothing was copied' % (IMAGE_ID, BETA),
            str(e))
        self.assertEqual(0, self.target.created)


class TestSignals(CopyCase):

    def interrupt_with(self, signum):
        def send(chunk):
            os.kill(os.getpid(), signum)
        self.target.on_data = send
        e = self.assertRaises(engine.Interrupted, self.copy)
        self.assertEqual({}, self.target.images)
        return str(e)

    def test_sigterm(self):
        self.assertEqual(
            'Interrupted by SIGTERM while copying image %s into project '
            '%s: the partial copy new-1 in project %s was deleted'
            % (IMAGE_ID, BETA, BETA), self.interrupt_with(signal.SIGTERM))
        self.assertEqual(signal.SIG_DFL, signal.getsignal(signal.SIGTERM))

    def test_sighup(self):
        self.assertIn('Interrupted by SIGHUP',
                      self.interrupt_with(signal.SIGHUP))

    def test_sigint(self):
        self.assertIn('Interrupted by SIGINT',
                      self.interrupt_with(signal.SIGINT))
        self.assertIs(signal.default_int_handler,
                      signal.getsignal(signal.SIGINT))


class TestLeftoversAndRaces(CopyCase):

    def leftover(self, image_id='old', **over):
        img = dict(id=image_id, owner=BETA, status='saving',
                   created_at='2026-11-27T07:00:00Z',
                   updated_at='2026-11-27T07:00:00Z', **over)
        img[engine.SOURCE_ID] = IMAGE_ID
        img[engine.SOURCE_HASH] = 'sha512:' + SHA512
        self.target.images[image_id] = img
        return img

    def test_leftover_of_a_dead_run_is_deleted_first(self):
        self.leftover(**{engine.COPIER: dead_copier(),
                         engine.STARTED: '2026-11-27T07:00:00.000001Z'})
        result = self.copy()
        self.assertEqual(['new-1'], list(self.target.images))
        self.assertEqual('copied', result.changes)
        self.assertEqual(
            ['Image old in project %s is the leftover of an interrupted '
             'copy of %s (saving, started 2026-11-27T07:00:00.000001Z by '
             '%s): deleted' % (BETA, IMAGE_ID, dead_copier())],
            self.warnings)
        self.assertIn(('DELETE', '/v2/images/old'), self.target.calls)

    def test_a_finished_image_is_never_debris(self):
        for state in ('deactivated', 'killed', 'pending_delete'):
            self.target.images.clear()
            self.warnings.clear()
            self.leftover(**{engine.COPIER: dead_copier()})['status'] = state
            result = self.copy()
            self.assertEqual('copied', result.changes)
            self.assertIn('old', self.target.images)
            self.assertNotIn(('DELETE', '/v2/images/old'), self.target.calls)
            self.assertEqual([
                "Image old in project %s carries the labels of a copy of %s "
                "but is %s, which no unfinished copy is: it is that "
                "project's image and was left as it is" % (
                    BETA, IMAGE_ID, state)], self.warnings)

    def test_leftover_that_may_not_be_deleted_is_named(self):
        self.leftover()
        self.target.fail[('DELETE', '/v2/images/old')] = \
            errors.Forbidden('You are not authorized.')
        self.copy()
        self.assertEqual(1, len(self.warnings))
        self.assertIn("could not be deleted (the target Glance answered "
                      "HTTP 403: You are not authorized.); delete it with "
                      "'openstack image delete old'", self.warnings[0])

    def test_a_live_copy_elsewhere_is_never_deleted(self):
        now = engine._stamp()
        self.leftover(**{engine.COPIER: 'elsewhere:1:1',
                         engine.HEARTBEAT: now, engine.STARTED: '9'})
        self.copy()       # starts after ours: we win, it is left alone
        self.assertEqual(['old', 'new-1'], list(self.target.images))

    def test_loser_before_streaming_reports_the_winner(self):
        other = self.leftover(**{engine.COPIER: 'elsewhere:1:1',
                                 engine.HEARTBEAT: engine._stamp(),
                                 engine.STARTED: '2000'})

        def finish(seconds):   # the other run ends while we wait
            other.update(status='active', size=len(DATA),
                         os_hash_algo='sha512', os_hash_value=SHA512)
        self.sleep.side_effect = finish
        result = self.copy()
        self.assertEqual(('old', 'none (copied by another run at the same '
                                 'time)', 'none'),
                         (result.image['id'], result.changes,
                          result.method))
        self.assertEqual(['old'], list(self.target.images))
        self.assertEqual([], self.glance.calls)   # no byte moved

    def test_loser_waits_for_a_converted_winner(self):
        other = self.leftover(**{engine.COPIER: 'elsewhere:1:1',
                                 engine.HEARTBEAT: engine._stamp(),
                                 engine.STARTED: '2000'})

        def finish(seconds):
            other.update(status='active', size=7, disk_format='raw',
                         **{engine.CONVERTED: 'qcow2->raw'})
            other[engine.PROOF] = engine.proof(other)   # as its run sets it
        self.sleep.side_effect = finish
        result = self.copy()
        self.assertEqual(('old', 'none'), (result.image['id'],
                                           result.method))
        self.assertEqual(['old'], list(self.target.images))

    def test_winner_that_dies_lets_us_copy(self):
        other = self.leftover(**{engine.COPIER: 'elsewhere:1:1',
                                 engine.HEARTBEAT: engine._stamp(),
                                 engine.STARTED: '2000'})

        def die(seconds):
            other[engine.HEARTBEAT] = '2000-01-01T00:00:00.0Z'
        self.sleep.side_effect = die
        result = self.copy()
        self.assertEqual(('new-1', 'copied'),
                         (result.image['id'], result.changes))

    def test_loser_after_streaming_deletes_its_own(self):
        other = self.leftover(**{engine.COPIER: 'elsewhere:1:1',
                                 engine.HEARTBEAT: engine._stamp(),
                                 engine.STARTED: '9999'})

        def overtake(chunk):   # it started later, finished first, and ...
            other.update(status='active', size=len(DATA),
                         os_hash_algo='sha512', os_hash_value=SHA512)
            other[engine.STARTED] = '2000'   # ... started first after all
        self.target.on_data = overtake
        result = self.copy()
        self.assertEqual(('old', 'none (copied by another run at the same '
                                 'time)'),
                         (result.image['id'], result.changes))
        self.assertEqual(['old'], list(self.target.images))

    def test_liveness(self):
        mine = {engine.COPIER: engine.whoami(), 'id': 'x'}
        self.assertTrue(engine.is_live(mine))
        self.assertFalse(engine.is_live({engine.COPIER: dead_copier()}))
        self.assertFalse(engine.is_live(
            {engine.COPIER: 'elsewhere:1:1',
             engine.HEARTBEAT: '2026-11-27T07:00:00.000000Z'}))
        self.assertTrue(engine.is_live(
            {engine.COPIER: 'elsewhere:1:1',
             engine.HEARTBEAT: engine._stamp()}))


class TestTargetProves(CopyCase):
    """An upload into a Glance hashing like the source: its figures."""

    def hashed(self, **kw):
        """The result, and what the client hashed the streams with."""
        algos, real = [], engine._Stream

        def stream(*args, **kwargs):
            made = real(*args, **kwargs)
            algos.extend(made.hashes)
            return made
        with mock.patch.object(engine, '_Stream', side_effect=stream):
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


class TestImportMethods(CopyCase):

    def test_upload_refused_falls_back_to_glance_direct(self):
        self.target.upload = False
        self.target.methods = ['glance-direct', 'glance-download']
        result = self.copy()
        self.assertEqual(('copied', 'glance-direct', 'new-2'),
                         (result.changes, result.method,
                          result.image['id']))
        self.assertEqual(['new-2'], list(self.target.images))
        calls = [c[:2] for c in self.target.calls]
        for call in (('PUT', '/v2/images/new-1/file'),
                     ('DELETE', '/v2/images/new-1'),
                     ('PUT', '/v2/images/new-2/stage'),
                     ('POST', '/v2/images/new-2/import')):
            self.assertIn(call, calls)
        self.assertEqual({'method': {'name': 'glance-direct'}},
                         [c for c in self.target.calls
                          if c[0] == "POST" and c[1].endswith("import")][0][2])

    def test_glance_direct_failed_import_is_clear_and_cleaned(self):
        self.target.methods = ['glance-direct']
        self.target.import_fails = True
        e = self.assertRaises(errors.ImageShareError, self.copy,
                              import_method='glance-direct')
        self.assertIn('by glance-direct: the target Glance failed to import '
                      "the data (status queued, os_glance_failed_import "
                      "'fs'; see its log)", str(e))
        self.assertEqual({}, self.target.images)

    def region_two(self, **kw):
        self.target = fakes.FakeGlance(
            [], owner=BETA, region_name='RegionTwo', algo='sha256',
            methods=['glance-direct', 'glance-download'],
            regions={'RegionOne': self.glance}, upload=False, **kw)

    def test_keep_id_into_another_region(self):
        self.region_two()
        result = self.copy(keep_id=True)
        self.assertEqual(IMAGE_ID, result.image['id'])
        posted = [c[2] for c in self.target.calls if c[0] == 'POST']
        self.assertEqual(IMAGE_ID, posted[0]['id'])

    def test_keep_id_refused_into_the_same_glance(self):
        e = self.assertRaises(errors.ImageShareError, self.copy,
                              keep_id=True)
        self.assertEqual(
            "--keep-id cannot copy image %s into project %s: the target is "
            "the source's own Glance (region RegionOne), where an ID names "
            "one image only; copy without --keep-id, or into another region "
            "or cloud" % (IMAGE_ID, BETA), str(e))
        self.assertEqual([], self.target.calls)

    def test_keep_id_refused_where_the_id_is_taken(self):
        self.region_two()
        self.target.images[IMAGE_ID] = dict(id=IMAGE_ID, name='other',
                                            owner=BETA, status='active')
        e = self.assertRaises(errors.ImageShareError, self.copy,
                              keep_id=True)
        self.assertEqual(
            '--keep-id cannot copy image %s into project %s: the target '
            'Glance already has an image with that ID (other, owner %s, '
            'active, not a proven copy of it); nothing was copied'
            % (IMAGE_ID, BETA, BETA), str(e))
        self.assertEqual([], [c for c in self.target.calls
                              if c[0] != 'GET'])

    def test_glance_download_moves_no_byte_and_sets_what_it_omits(self):
        self.src['architecture'] = 'x86_64'
        self.region_two()
        result = self.copy()
        self.assertEqual(('glance-download', 'copied'),
                         (result.method, result.changes))
        self.assertEqual([('GET', '/v2/images/%s' % IMAGE_ID)],
                         self.glance.calls)   # no GET of the data
        self.assertIn(('POST', '/v2/images/new-1/import', {'method': {
            'name': 'glance-download', 'glance_image_id': IMAGE_ID,
            'glance_region': 'RegionOne',
            'glance_service_interface': 'public'}}), self.target.calls)
        new = self.target.images['new-1']
        self.assertEqual(('x86_64', 512, 'sha256', DATA),
                         (new['architecture'], new['min_ram'],
                          new['os_hash_algo'], self.target.data['new-1']))
        self.assertIsNone(result.row()[7])    # no client MiB/s

    def test_glance_download_needs_read_access_else_streams(self):
        self.region_two(reads_regions=False)
        result = self.copy()
        self.assertEqual('glance-direct', result.method)
        self.assertEqual(
            (['upload', 'glance-direct'],
             'upload (else glance-direct); glance-download not used: the '
             'target project '
             'cannot read image %s in RegionOne (share it with that '
             'project to let its Glance pull it)' % IMAGE_ID),
            engine.plan_copy(self.glance, self.target, self.src))

    def test_forced_glance_download_that_cannot_is_refused(self):
        self.region_two(reads_regions=False)
        e = self.assertRaises(errors.ImageShareError, self.copy,
                              import_method='glance-download')
        self.assertIn('glance-download cannot copy image', str(e))
        self.assertEqual(0, self.target.created)

    def test_plan(self):
        self.region_two()
        self.assertEqual((['glance-download', 'upload', 'glance-direct'],
                          'glance-download (else upload, glance-direct)'),
                         engine.plan_copy(self.glance, self.target, self.src))
        self.assertEqual([], [c for c in self.target.calls
                              if c[0] != 'GET'])

    def test_sha256_target_is_verified_in_the_same_pass(self):
        self.target.algo = 'sha256'
        self.target.images['seen'] = dict(id='seen', status='active',
                                          os_hash_algo='sha256')
        result = self.copy()
        self.assertEqual(('copied', 'sha256'),
                         (result.changes, result.image['os_hash_algo']))
        self.assertEqual(hashlib.sha256(DATA).hexdigest(),
                         result.image['os_hash_value'])

    def test_sha256_target_that_stored_other_bytes_fails(self):
        self.target.algo = 'sha256'
        self.target.images['seen'] = dict(id='seen', status='active',
                                          os_hash_algo='sha256')
        real = self.target._store

        def flip(img, got, fmt):
            real(img, got[:-1] + b'?', fmt)
        self.target._store = flip
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('the target Glance holds sha256 ', str(e))
        self.assertEqual({'seen'}, set(self.target.images))

    def test_conversion_is_reported_not_failed(self):
        self.target.methods = ['glance-direct']
        self.target.convert_to = 'raw'
        result = self.copy(import_method='glance-direct')
        self.assertTrue(result.changes.startswith(
            'copied, converted by the target: qcow2 -> raw, %d bytes, '
            'sha512:' % (len(DATA) + 10)), result.changes)
        new = self.target.images['new-1']
        self.assertEqual(('qcow2->raw', 'sha512:' + SHA512),
                         (new[engine.CONVERTED], new[engine.SOURCE_HASH]))
        # A re-run recognises the converted engine.
        again = self.copy(import_method='glance-direct')
        self.assertEqual('none (verified copy exists)', again.changes)

    def test_import_waits_for_glance_to_drop_its_lock(self):
        # Glance's import saves the image again after it turns active,
        # until it drops os_glance_import_task: a property set before
        # that (imageshare_converted) would be lost.
        self.target.methods = ['glance-direct']
        self.target.convert_to = 'raw'
        real = self.target._store

        def store(img, got, fmt):
            real(img, got, fmt)
            img['os_glance_import_task'] = 'task-1'
        polls = []

        def poll(body):
            img = self.target.images['new-1']
            if img.get('os_glance_import_task'):
                polls.append(img['status'])
                if len(polls) == 2:
                    del img['os_glance_import_task']
        patched = []

        def patch(body):
            patched.append(self.target.images['new-1'].get(
                'os_glance_import_task'))
        self.target._store = store
        self.target.fail[('GET', '/v2/images/new-1')] = poll
        self.target.fail[('PATCH', '/v2/images/new-1')] = patch
        self.copy(import_method='glance-direct')
        self.assertEqual(['active', 'active'], polls)
        self.assertEqual([None, None], patched)
        self.assertEqual('qcow2->raw',
                         self.target.images['new-1'][engine.CONVERTED])

    def test_converted_copy_drops_the_owners_checksums(self):
        self.target.methods = ['glance-direct']
        self.target.convert_to = 'raw'
        self.src.update({'owner_specified.openstack.md5': 'm',
                         'owner_specified.openstack.sha256': 's',
                         'owner_specified.openstack.object': 'images/web'})
        result = self.copy(import_method='glance-direct')
        new = self.target.images['new-1']
        self.assertEqual([], [k for k in new if k.startswith('owner_spec')])
        self.assertTrue(result.changes.endswith(
            ', dropped owner_specified.openstack.md5, owner_specified.'
            'openstack.object, owner_specified.openstack.sha256 (checksums '
            'of the data before conversion)'), result.changes)
        # Unconverted, they still describe the data: kept.
        self.target.convert_to = None
        self.target.images.clear()
        self.copy(import_method='glance-direct')
        [new] = self.target.images.values()
        self.assertEqual('m', new['owner_specified.openstack.md5'])

    def test_glance_download_into_a_converting_glance(self):
        # Glance refuses to replace an active image's disk_format: the
        # properties set after the pull leave the formats alone.
        self.region_two()
        self.target.convert_to = 'raw'
        result = self.copy()
        self.assertEqual('glance-download', result.method)
        self.assertTrue(result.changes.startswith(
            'copied, converted by the target: qcow2 -> raw, %d bytes, '
            'sha256:' % (len(DATA) + 10)), result.changes)
        patched = [op['path'] for c in self.target.calls if c[0] == 'PATCH'
                   for op in c[2]]
        self.assertNotIn('/disk_format', patched)
        self.assertNotIn('/container_format', patched)
        new = self.target.images['new-1']
        self.assertEqual(('raw', 'qcow2->raw', 'sha512:' + SHA512),
                         (new['disk_format'], new[engine.CONVERTED],
                          new[engine.SOURCE_HASH]))

    def test_signature_properties_dropped_unless_kept(self):
        self.src.update(img_signature='sig', img_signature_hash_method='x')
        self.copy()
        self.assertNotIn('img_signature', self.target.images['new-1'])
        self.assertEqual(
            ['Image %s: signature properties not copied (img_signature, '
             'img_signature_hash_method): the target would verify them '
             'against a certificate it may not have; --keep-signature '
             'keeps them' % IMAGE_ID], self.warnings)
        self.target.images.clear()
        self.warnings.clear()
        self.copy(keep_signature=True)
        self.assertEqual('sig', self.target.images['new-2']['img_signature'])
        self.assertEqual([], self.warnings)


class TestCopyPipeline(base.TestCase):
    """Copy mode through ``pipeline.transfer``, the data path for real."""

    def targets(self, *glances):
        clouds = {}
        for name, target in glances:
            sess = mock.Mock()
            sess.auth.get_access.return_value = mock.Mock(
                project_id=target.owner, project_name=name)
            clouds[name] = (sess, target)
        return clouds

    def run_copy(self, clouds, **kw):
        glance = fakes.FakeGlance([source()], data={IMAGE_ID: DATA})
        glance.get_endpoint = lambda: 'http://one'
        return pipeline.transfer(
            glance, fakes.FakeIdentity(), [IMAGE_ID], 'copy',
            to_clouds=list(clouds), open_cloud=clouds.__getitem__,
            progress=False, **kw)

    def test_one_refused_target_does_not_stop_the_others(self):
        refusing = fakes.FakeGlance([], owner='gamma', fail={
            ('POST', '/v2/images'): errors.Forbidden('No.')})
        ok = fakes.FakeGlance([], owner=BETA)
        result = self.run_copy(self.targets(('g', refusing), ('b', ok)))
        self.assertEqual([('new-1', BETA, 'copied', 'upload')],
                         [(r[1], r[3], r[8], r[9]) for r in result.rows])
        self.assertEqual(
            ['Could not create the copy of image %s in project gamma: the '
             'target Glance answered HTTP 403: No.' % IMAGE_ID],
            result.errors)
        self.assertEqual('Failed to copy 1 of 2 image/project pairs',
                         result.summary)

    def test_dry_run_names_the_method_and_changes_nothing(self):
        target = fakes.FakeGlance([], owner=BETA, methods=['glance-direct'])
        result = self.run_copy(self.targets(('b', target)), dry_run=True)
        self.assertEqual(
            [(IMAGE_ID, None, 'web', BETA, len(DATA), None, None, None,
              'plan: copy %d bytes as cloud b by upload (else '
              'glance-direct)' % len(DATA), 'upload')], result.rows)
        self.assertEqual(0, target.created)


class TestProgress(base.TestCase):

    def test_prints_percent_rate_eta_once_at_the_end(self):
        out = mock.Mock()
        p = engine.Progress(100, out)
        p(50)
        p(100)
        p(100)
        p.done()
        p.done()
        texts = [c.args[0] for c in out.write.call_args_list]
        self.assertEqual(3, len(texts))
        self.assertIn(' 50.0%', texts[0])
        self.assertIn('100.0%', texts[1])
        self.assertIn('MiB/s', texts[1])
        self.assertEqual('\n', texts[2])

    def test_each_phase_keeps_its_last_line_since_when(self):
        out = io.StringIO()
        p = engine.Progress(100, out, 'staging')
        p(100)
        p.phase('importing')
        p.status('image importing')
        p.status('image active')     # within 0.25 s: not rewritten
        p.phase('verifying')
        p.done()
        lines = out.getvalue().split('\n')
        self.assertEqual(3, len(lines))
        self.assertRegex(lines[0], r'^\r\x1b\[Kstaging since '
                         r'\d\d:\d\d:\d\d \(0 s\): 100.0%')
        self.assertRegex(lines[1], r'^\r\x1b\[Kimporting since '
                         r'\d\d:\d\d:\d\d \(0 s\): image importing$')
        self.assertEqual('', lines[2])   # verifying printed nothing

    def test_import_state_says_what_glance_reports(self):
        src = {'size': 300, 'disk_format': 'qcow2'}
        self.assertEqual('image importing', engine._import_state(
            {'status': 'importing', 'disk_format': 'qcow2'}, src, None))
        self.assertEqual(
            'image importing, Copied 1 MiB, 280 of 300 bytes, converted '
            'qcow2->raw', engine._import_state(
                {'status': 'importing', 'disk_format': 'raw', 'size': 280},
                src, 'Copied 1 MiB'))


class TestImportProgress(CopyCase):

    def test_glance_direct_shows_staging_importing_verifying(self):
        self.target.methods = ['glance-direct']
        real = self.target._store
        tasks = self.target.tasks

        def store(img, got, fmt):
            real(img, got, fmt)
            img.update(status='importing', os_glance_import_task='task-1')
            tasks[img['id']] = [{'id': 'task-0', 'message': 'old'}, {
                'id': 'task-1', 'status': 'processing',
                'message': 'Copied 0 MiB'}]
        polls = []

        def poll(body):
            img = self.target.images['new-1']
            polls.append(img['status'])
            if len(polls) == 2:
                img['status'] = 'active'
                del img['os_glance_import_task']
        self.target._store = store
        self.target.fail[('GET', '/v2/images/new-1')] = poll
        with mock.patch.object(engine.sys, 'stderr', io.StringIO()) as err, \
                mock.patch.object(engine.Progress, 'EVERY', 0):
            result = self.copy(import_method='glance-direct', progress=True)
        self.assertEqual('copied', result.changes)
        self.assertEqual(1, self.target.calls.count(
            ('GET', '/v2/images/new-1/tasks')))
        shown = [re.sub(r' since \S+ \(\d+ s\)', '', line)
                 for line in err.getvalue().replace('\x1b[K', '').replace(
                     '\r', '\n').split('\n') if line]
        self.assertEqual([
            'staging:', 'staging: 100.0%',
            'importing: image importing, Copied 0 MiB, %d of %d bytes'
            % (len(DATA), len(DATA)),
            'importing: image active, %d of %d bytes' % (len(DATA),
                                                         len(DATA)),
            'verifying: size and sha512 against the source'],
            [line.split('  ')[0] for line in shown])
        self.assertIn('staging since', err.getvalue())

    def test_no_task_message_where_glance_does_not_give_one(self):
        img = {'id': 'x', 'os_glance_import_task': 't'}
        self.assertIsNone(self.target.import_task_message(img))
        self.assertIsNone(self.target.import_task_message({'id': 'x'}))


class TestTransient(CopyCase):

    def test_a_server_error_is_tried_once_more(self):
        answers = [errors.ServerError('database is locked')]
        self.target.fail[('POST', '/v2/images')] = lambda body: (
            answers.pop() if answers else None)
        result = self.copy()
        self.assertEqual(('copied', 'new-1'),
                         (result.changes, result.image['id']))

    def test_an_image_made_by_a_failed_create_is_deleted(self):
        once = [1]

        def made_then_failed(body):
            if once and once.pop():
                self.target.images['orphan'] = dict(
                    body, id='orphan', status='queued', owner=BETA)
                return errors.ServerError('locked')
        self.target.fail[('POST', '/v2/images')] = made_then_failed
        result = self.copy()
        self.assertEqual(['new-1'], list(self.target.images))
        self.assertEqual('copied', result.changes)
        self.assertIn(('DELETE', '/v2/images/orphan'), self.target.calls)

    def test_twice_is_an_error(self):
        self.target.fail[('PUT', '/v2/images/new-1/file')] = \
            errors.ServerError('boom')
        self.target.fail[('PUT', '/v2/images/new-2/file')] = \
            errors.ServerError('boom')
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('new-2 in project %s was deleted' % BETA, str(e))
        self.assertEqual({}, self.target.images)


class TestAnnouncedMethods(CopyCase):

    def test_header_on_create_decides_without_info_import(self):
        # No /v2/info/import (methods None); upload refused; the header on
        # the created image announces what the target enables.
        self.target.upload = False
        self.target.methods = None
        result_calls = []
        real = self.target.request

        def no_info(url, method, **kw):
            if url == '/v2/info/import':
                result_calls.append(url)
                return fakes.Response(404, {'error': {'message': 'no'}})
            return real(url, method, **kw)
        self.target.request = no_info
        self.target.methods = ['web-download']   # what the header says
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertEqual(
            'Could not copy image %s into project %s: the target takes no '
            'import method that works here (upload: refused by the target '
            '(You are not authorized to complete upload_image action.); '
            'glance-direct: the target does not enable it (it announces: '
            'web-download)); nothing was left behind' % (IMAGE_ID, BETA),
            str(e))
        self.assertEqual({}, self.target.images)
        self.assertNotIn(('PUT', '/v2/images/new-2/stage', '<data>'),
                         self.target.calls)
