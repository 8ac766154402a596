"""Import methods: the plan, fallbacks, glance-download, --keep-id."""

import hashlib

from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import labels
from tests.unit import fakes
from tests.unit.imagecopy import test_engine

BETA = fakes.BETA
IMAGE_ID = fakes.IMAGE_ID
DATA = test_engine.DATA
SHA512 = test_engine.SHA512
source = test_engine.source


class TestImportMethods(test_engine.CopyCase):

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

    def test_keep_id_upload_refused_glance_direct_takes_the_same_image(self):
        # An import-only region that cannot pull the source: upload is
        # refused by policy; glance-direct stages into the image the upload
        # left queued (creating it again would be Glance's 409: a deleted
        # image keeps its ID).
        self.region_two()
        self.target.methods = ['glance-direct']
        result = self.copy(keep_id=True)
        self.assertEqual((IMAGE_ID, 'glance-direct', 'copied'),
                         (result.image['id'], result.method,
                          result.changes))
        writes = [c[:2] for c in self.target.calls if c[0] != 'GET']
        self.assertEqual([('POST', '/v2/images'),
                          ('PUT', '/v2/images/%s/file' % IMAGE_ID),
                          ('PUT', '/v2/images/%s/stage' % IMAGE_ID),
                          ('POST', '/v2/images/%s/import' % IMAGE_ID)],
                         writes[:4])
        self.assertNotIn(('DELETE', '/v2/images/%s' % IMAGE_ID), writes)
        self.assertEqual([IMAGE_ID], list(self.target.images))

    def test_keep_id_every_method_refused_deletes_the_image_once(self):
        self.region_two()
        self.target.methods = ['web-download']
        e = self.assertRaises(errors.ImageShareError, self.copy,
                              keep_id=True, import_method='auto')
        self.assertIn('upload: refused by the target', str(e))
        self.assertTrue(str(e).endswith(
            "; the partial copy %s in project %s was deleted (Glance keeps "
            "a deleted image's ID: --keep-id cannot use it there again "
            "until that Glance's database is purged)" % (IMAGE_ID, BETA)),
            str(e))
        self.assertEqual(1, [c[:2] for c in self.target.calls].count(
            ('POST', '/v2/images')))
        self.assertEqual({}, self.target.images)

    def test_keep_id_server_error_retried_on_the_same_image(self):
        self.region_two()
        self.target.methods = ['glance-direct']
        self.target.upload = True
        self.target.fail[('PUT', '/v2/images/%s/file' % IMAGE_ID)] = [
            errors.ServerError('boom')]
        result = self.copy(keep_id=True, import_method='upload')
        self.assertEqual((IMAGE_ID, 'copied'),
                         (result.image['id'], result.changes))
        self.assertEqual(1, [c[:2] for c in self.target.calls].count(
            ('POST', '/v2/images')))

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
            'Glance already has an image with that ID (\'other\', owner %s, '
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
                         (new[labels.CONVERTED], new[labels.SOURCE_HASH]))
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
                         self.target.images['new-1'][labels.CONVERTED])

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
                         (new['disk_format'], new[labels.CONVERTED],
                          new[labels.SOURCE_HASH]))

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
