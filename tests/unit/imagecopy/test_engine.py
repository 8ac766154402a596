"""The copy workflow: streamed or imported, verified, cleaned up; on fakes."""

import hashlib
import signal
import socket
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import verify
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
             'os_distro': 'debian'}, labels.carried_properties(self.src))

    def test_streams_with_a_length_and_verifies(self):
        result = self.copy(source_cloud='http://one')
        self.assertEqual(DATA, self.target.data['new-1'])
        self.assertEqual(len(DATA), self.target.length)
        self.assertEqual(
            ['GET ' + LIST, 'GET /v2/info/import',
             'GET /v2/info/usage', 'POST /v2/images', 'GET ' + LIST,
             'GET ' + ALGO, 'PUT /v2/images/new-1/file',
             'GET /v2/images/new-1', 'GET ' + LIST,
             'PATCH /v2/images/new-1'],
            [c[0] + ' ' + c[1] for c in self.target.calls])
        new = self.target.images['new-1']
        self.assertEqual((BETA, 'private', 'web', ['a'], 'qcow2', IMAGE_ID,
                          'http://one', 'sha512:' + SHA512), (
            new['owner'], new['visibility'], new['name'], new['tags'],
            new['disk_format'], new[labels.SOURCE_ID],
            new[labels.SOURCE_CLOUD],
            new[labels.SOURCE_HASH]))
        created = [c[2] for c in self.target.calls if c[0] == 'POST'][0]
        self.assertEqual(labels.whoami(), created[labels.COPIER])
        # Few labels while it is made: no heartbeat yet, no source cloud.
        self.assertEqual(
            [labels.COPIER, labels.SOURCE_HASH, labels.SOURCE_ID],
            sorted(k for k in created if k.startswith('imageshare_')))
        # Verified: what only a copy under way needs is gone; the source
        # cloud is recorded.
        self.assertEqual([
            {'op': 'add', 'path': '/' + labels.SOURCE_CLOUD,
             'value': 'http://one'}] + [
            {'op': 'remove', 'path': '/' + k}
            for k in (labels.COPIER,)],
            self.target.calls[-1][2])
        for k in (labels.COPIER, labels.STARTED, labels.HEARTBEAT):
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
        img[labels.SOURCE_ID] = IMAGE_ID
        img[labels.SOURCE_HASH] = 'sha512:' + SHA512
        self.target.images['planted'] = img
        return img

    def test_a_planted_look_alike_is_not_reused(self):
        for over in ({}, {labels.CONVERTED: 'qcow2->raw'},
                     {labels.CONVERTED: 'qcow2->raw', labels.PROOF: 'f' * 64}):
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
        img = self.planted(**{labels.CONVERTED: 'qcow2->raw'})
        img[labels.PROOF] = verify.proof(img)
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
                         result.image[labels.SOURCE_HASH])

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

    def test_listing_the_copies_once_and_its_failure_is_one_line(self):
        self.target.fail[('GET', '/v2/images')] = errors.Forbidden(
            'No.')
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertEqual(
            'Could not copy image %s into project %s: listing its copies '
            'failed: the target Glance answered HTTP 403: No.'
            % (IMAGE_ID, BETA), str(e))
        self.assertEqual([('GET', LIST)], [c[:2] for c in self.target.calls])
        self.assertEqual(0, self.target.created)

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
            base.signal_self(signum)
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
