"""The copy workflow: streamed, verified, cleaned up; on fakes."""

import hashlib
from unittest import mock

import fixtures

from osc_imageshare import copy
from osc_imageshare import errors
from tests.unit import base
from tests.unit import fakes

BETA, IMAGE_ID = fakes.BETA, fakes.IMAGE_ID
DATA = bytes(range(256)) * 5000          # 1.28 MB: two chunks and a bit


def source(**over):
    img = fakes.image(
        visibility='private', size=len(DATA), disk_format='qcow2',
        container_format='bare', min_disk=2, min_ram=512, tags=['a'],
        os_hash_algo='sha512',
        os_hash_value=hashlib.sha512(DATA).hexdigest(),
        checksum=hashlib.md5(DATA).hexdigest(), hw_disk_bus='scsi',
        os_distro='debian', os_glance_importing_to_stores='',
        imageshare_source_id='older', stores='fs', owner=fakes.ALPHA)
    img.update(over)
    return img


class FakeTransport:
    """Stands in for copy._raw: serves DATA, feeds uploads to the target."""

    def __init__(self, target, data=DATA, interrupt=False):
        self.target = target
        self.data = data
        self.interrupt = interrupt
        self.uploaded = None
        self.calls = []

    def __call__(self, glance, method, url, **kw):
        self.calls.append((method, url))
        if method == 'GET':
            resp = mock.Mock()
            resp.iter_content.side_effect = lambda n: (
                self.data[i:i + n] for i in range(0, len(self.data), n))
            return resp
        stream = kw['data']
        self.length = len(stream)
        self.headers = kw['headers']
        got = b''
        for chunk in stream:
            if self.interrupt:
                raise KeyboardInterrupt()
            got += chunk
        self.uploaded = got
        image = self.target.images[url.split('/')[3]]
        image.update(status='active', size=len(got), os_hash_algo='sha512',
                     os_hash_value=hashlib.sha512(got).hexdigest(),
                     checksum=hashlib.md5(got).hexdigest())


class TestCopy(base.TestCase):

    def setUp(self):
        super().setUp()
        self.src = source()
        self.glance = fakes.FakeGlance([self.src])
        self.target = fakes.FakeGlance([], owner=BETA)
        self.transport = FakeTransport(self.target)
        self.useFixture(fixtures.MonkeyPatch('osc_imageshare.copy._raw',
                                             self.transport))

    def copy(self, **kw):
        return copy.copy_image(self.glance, self.target, self.src, BETA,
                               **kw)

    def test_carried_properties(self):
        self.assertEqual(
            {'disk_format': 'qcow2', 'container_format': 'bare',
             'min_disk': 2, 'min_ram': 512, 'hw_disk_bus': 'scsi',
             'os_distro': 'debian'}, copy.carried_properties(self.src))

    def test_streams_with_a_length_and_verifies(self):
        result = self.copy(source_cloud='http://one')
        self.assertEqual(DATA, self.transport.uploaded)
        self.assertEqual(len(DATA), self.transport.length)
        self.assertEqual({'Content-Type': 'application/octet-stream'},
                         self.transport.headers)
        self.assertEqual([('GET', '/v2/images/%s/file' % IMAGE_ID),
                          ('PUT', '/v2/images/new-1/file')],
                         self.transport.calls)
        new = self.target.images['new-1']
        self.assertEqual((BETA, 'private', 'web', ['a'], 'qcow2', IMAGE_ID,
                          'http://one'), (
            new['owner'], new['visibility'], new['name'], new['tags'],
            new['disk_format'], new[copy.SOURCE_ID], new[copy.SOURCE_CLOUD]))
        self.assertNotIn('os_glance_importing_to_stores', new)
        self.assertEqual('copied', result.changes)
        self.assertEqual([], self.glance.calls)   # the source: only read

    def test_existing_verified_copy_is_reported(self):
        first = self.copy()
        again = self.copy()
        self.assertEqual(first.image['id'], again.image['id'])
        self.assertEqual('none (verified copy exists)', again.changes)
        self.assertEqual(1, self.target.created)

    def test_corrupted_data_deletes_the_copy(self):
        self.transport.data = DATA[:-1] + b'!'
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('does not match the source', str(e))
        self.assertEqual({}, self.target.images)
        self.assertEqual(('DELETE', '/v2/images/new-1'),
                         self.target.calls[-1])

    def test_short_read_deletes_the_copy(self):
        self.transport.data = DATA[:1000]
        self.assertRaises(errors.ImageShareError, self.copy)
        self.assertEqual({}, self.target.images)

    def test_interrupt_deletes_the_copy_and_propagates(self):
        self.transport.interrupt = True
        self.assertRaises(KeyboardInterrupt, self.copy)
        self.assertEqual({}, self.target.images)

    def test_md5_only_source(self):
        self.src.pop('os_hash_algo')
        self.src.pop('os_hash_value')
        result = self.copy()
        self.assertEqual('copied', result.changes)

    def test_as_admin_sets_the_owner(self):
        self.target.owner = 'admin-project'
        self.copy(as_admin=True)
        self.assertEqual(BETA, self.target.images['new-1']['owner'])

    def test_wrong_project_is_refused_and_cleaned(self):
        self.target.owner = 'someone-else'
        e = self.assertRaises(errors.ImageShareError, self.copy)
        self.assertIn('create images in project someone-else', str(e))
        self.assertEqual({}, self.target.images)


class TestProgress(base.TestCase):

    def test_prints_percent_rate_eta_once_at_the_end(self):
        out = mock.Mock()
        p = copy.Progress(100, out)
        p(50)
        p(100)
        p(100)
        p.done()
        texts = [c.args[0] for c in out.write.call_args_list]
        self.assertEqual(3, len(texts))
        self.assertIn(' 50.0%', texts[0])
        self.assertIn('100.0%', texts[1])
        self.assertIn('MiB/s', texts[1])
        self.assertEqual('\n', texts[2])
