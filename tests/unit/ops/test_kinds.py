"""What kind of image: the classifier, status and the transfer's gate."""

import json
import shlex
import unittest
from unittest import mock

from osc_imageshare.cli import share_status as status_cmd
from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import share_status
from tests.unit import fakes
from tests.unit.ops.modes import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = '/v2/images/%s' % IMAGE_ID
SNAP = '5a' * 16
KEY = '6b' * 16
BDM = json.dumps([{'source_type': 'snapshot', 'destination_type': 'volume',
                   'snapshot_id': SNAP, 'boot_index': 0,
                   'device_name': '/dev/vda', 'volume_size': 1}])


def volume_backed(**over):
    return fakes.image(size=0, block_device_mapping=BDM, bdm_v2='True',
                       root_device_name='/dev/vda', **over)


class TestClassify(unittest.TestCase):

    def test_plain_disk(self):
        kind = kinds.classify(fakes.image(size=10))
        self.assertEqual((kinds.DISK,), kind.kinds)
        self.assertFalse(kind.risky)
        self.assertEqual({}, kind.reasons)
        self.assertEqual('plain disk image', kind.words)

    def test_none_written_as_text_names_no_companion(self):
        kind = kinds.classify(fakes.image(size=10, kernel_id='k1',
                                          ramdisk_id='None'))
        self.assertEqual({'kernel_id': 'k1'}, kind.companions)
        self.assertEqual({}, kinds.classify(fakes.image(
            size=10, kernel_id='null', ramdisk_id='')).companions)

    def test_volume_backed_as_nova_makes_it(self):
        kind = kinds.classify(volume_backed())
        self.assertEqual((kinds.VOLUME_BACKED,), kind.kinds)
        self.assertIn(kinds.VOLUME_BACKED, kind)
        self.assertTrue(kind.risky)
        self.assertEqual((SNAP,), kind.snapshot_ids)
        self.assertEqual('block_device_mapping and bdm_v2 set',
                         kind.reasons[kinds.VOLUME_BACKED])

    def test_volume_backed_by_any_one_sign(self):
        for props, why in (
                ({'bdm_v2': 'True'}, 'bdm_v2 set'),
                ({'block_device_mapping': BDM}, 'block_device_mapping set'),
                ({'size': 0, 'root_device_name': '/dev/vda'},
                 'size 0 with root_device_name')):
            kind = kinds.classify(fakes.image(**props))
            self.assertEqual({kinds.VOLUME_BACKED: why}, kind.reasons)
        # A disk image that names its root device is not one.
        self.assertFalse(kinds.classify(fakes.image(
            size=10, root_device_name='/dev/vda', bdm_v2='False',
            block_device_mapping='[]')).risky)

    def test_unparsable_mapping_names_no_snapshot(self):
        kind = kinds.classify(fakes.image(block_device_mapping='{oops'))
        self.assertEqual((kinds.VOLUME_BACKED,), kind.kinds)
        self.assertEqual((), kind.snapshot_ids)

    def test_snapshot_ids_that_are_not_strings_are_left_out(self):
        bdm = json.dumps([{'snapshot_id': {'a': 1}}, {'snapshot_id': 5},
                          {'snapshot_id': ['x']}, {'snapshot_id': SNAP}])
        kind = kinds.classify(fakes.image(block_device_mapping=bdm))
        self.assertEqual((SNAP,), kind.snapshot_ids)

    def test_the_owners_snapshot_id_is_quoted_in_the_command(self):
        bdm = json.dumps([{'snapshot_id': "x $(touch p) '; id #"}])
        [(_, sentence)] = share_status.kind_risks(
            fakes.image(block_device_mapping=bdm), kinds.classify(
                fakes.image(block_device_mapping=bdm)), 'alpha')
        self.assertIn("('openstack volume create --snapshot "
                      "'x $(touch p) '\"'\"'; id #' --size <GiB> <volume>'",
                      sentence)
        # Said once, for one image, the command keeps its placeholder.
        self.assertEqual([sentence], messages.grouped([sentence]))
        self.assertIn("'openstack image create --volume <volume> <image>'",
                      messages.grouped([sentence])[0])

    def test_several_kinds_keep_every_reason(self):
        kind = kinds.classify(volume_backed(
            kernel_id='k', ramdisk_id='r', cinder_encryption_key_id=KEY))
        self.assertEqual((kinds.VOLUME_BACKED, kinds.COMPANIONS,
                          kinds.ENCRYPTED), kind.kinds)
        self.assertEqual({'kernel_id': 'k', 'ramdisk_id': 'r'},
                         kind.companions)
        self.assertEqual(KEY, kind.key_id)
        self.assertEqual('kernel_id k, ramdisk_id r',
                         kind.reasons[kinds.COMPANIONS])
        self.assertEqual(
            'snapshot of a volume-backed server (block_device_mapping and '
            'bdm_v2 set); needs companion images (kernel_id k, ramdisk_id '
            'r); image of an encrypted volume (cinder_encryption_key_id %s)'
            % KEY, kind.words)


class TestStatusKind(unittest.TestCase):

    def status(self, image):
        glance = fakes.FakeGlance([image])
        return share_status.read(glance, fakes.FakeIdentity(), IMAGE_ID)

    def test_kind_field_and_warnings_first(self):
        data, warnings = self.status(volume_backed(
            visibility='private', kernel_id='k',
            cinder_encryption_key_id=KEY))
        self.assertEqual(['volume-backed', 'companions', 'encrypted'],
                         data['kind'])
        self.assertEqual(status_cmd.FIELDS[-2:], ('kind', 'risks'))
        # The risks: a keyword each, and the warning's sentence.
        self.assertEqual(['volume-backed', 'companions', 'encrypted'],
                         [r['code'] for r in data['risks'][:3]])
        self.assertEqual(warnings, [r['sentence'] for r in data['risks']])
        label = 'alpha (%s)' % ALPHA
        self.assertEqual([
            messages.W_KIND_VOLUME_BACKED.format(
                id=IMAGE_ID, why='block_device_mapping and bdm_v2 set',
                snapshots=SNAP, snapshot=SNAP, owner_label=label),
            messages.W_KIND_COMPANIONS.format(
                id=IMAGE_ID, companions='kernel_id k'),
            messages.W_KIND_ENCRYPTED.format(id=IMAGE_ID, key=KEY,
                                             owner_label=label)],
            warnings[:3])
        self.assertIn("'openstack volume create --snapshot %s --size <GiB> "
                      "<volume>'" % SNAP, warnings[0])

    def test_a_snapshot_id_from_the_properties_is_quoted_in_the_command(self):
        # The image's properties are its owner's text: a consumer's status
        # must not print them as shell code inside a command to paste.
        bad = "x $(touch pwned) '; id #"
        bdm = json.dumps([dict(json.loads(BDM)[0], snapshot_id=bad)])
        _, warnings = self.status(fakes.image(
            size=0, block_device_mapping=bdm, bdm_v2='True',
            root_device_name='/dev/vda'))
        self.assertIn("'openstack volume create --snapshot %s --size"
                      % shlex.quote(bad), warnings[0])

    def test_disk_has_no_kind_warning(self):
        data, warnings = self.status(fakes.image(visibility='private'))
        self.assertEqual(['disk'], data['kind'])
        self.assertEqual(1, len(warnings))   # not shared, only


class TestShareGate(unittest.TestCase):

    def share(self, image, **kw):
        glance = test_share.owner_glance(image=image)
        result = pipeline.transfer(glance, test_share.Ident(), [IMAGE_ID],
                                   'share', to=['beta'], accept=False, **kw)
        return glance, result

    def test_volume_backed_refused_and_nothing_written(self):
        glance, result = self.share(volume_backed(visibility='private'))
        self.assertEqual([('GET', IMG_URL)], glance.calls)
        self.assertEqual([], result.rows)
        self.assertEqual([messages.E_VOLUME_BACKED.format(
            id=IMAGE_ID, why='block_device_mapping and bdm_v2 set',
            snapshots=SNAP, snapshot=SNAP, owner_label='alpha (%s)' % ALPHA,
            outcome=messages.VOLUME_OUTCOME['share'],
            allow=messages.ALLOW_VOLUME_BACKED)], result.errors)
        self.assertEqual('Failed to transfer 1 of 1 image/project pairs',
                         result.summary)

    def test_volume_backed_allowed_with_a_warning(self):
        glance, result = self.share(volume_backed(), allow_volume_backed=True)
        self.assertEqual(('POST', IMG_URL + '/members', {'member': BETA}),
                         glance.calls[-1])
        self.assertEqual(messages.W_ALLOWED_VOLUME_BACKED.format(
            id=IMAGE_ID, snapshots=SNAP), result.warnings[0])
        self.assertEqual([], result.errors)

    def test_encrypted_refused_then_allowed(self):
        image = fakes.image(cinder_encryption_key_id=KEY)
        glance, result = self.share(dict(image))
        self.assertEqual([('GET', IMG_URL), ('GET', IMG_URL + '/members')],
                         glance.calls)
        self.assertIn('its key %s stays in the key manager of project alpha'
                      % KEY, result.errors[0])
        self.assertIn("'openstack acl user add --user <user-id> "
                      "--operation-type read <secret-href>'",
                      result.errors[0])
        glance, result = self.share(dict(image), allow_encrypted=True)
        self.assertEqual([], result.errors)
        self.assertEqual(messages.W_ALLOWED_ENCRYPTED.format(
            id=IMAGE_ID, target='beta (%s)' % BETA, key=KEY,
            owner_label='alpha (%s)' % ALPHA), result.warnings[0])


class TestCopyGate(unittest.TestCase):

    def setUp(self):
        patcher = mock.patch.object(engine, 'copy_image')
        self.copy_image = patcher.start()
        self.addCleanup(patcher.stop)
        self.copy_image.side_effect = lambda g, t, source, pid, *a, **k: (
            engine.CopyResult(source, dict(source, id='c'), pid))

    def copy(self, image, to, **kw):
        glance = fakes.FakeGlance([image])
        glance.get_endpoint = lambda: 'http://glance.one'
        return pipeline.transfer(
            glance, test_share.Ident(admin=True), [IMAGE_ID], 'copy',
            to=to, progress=False, **kw)

    def test_volume_backed_never_copied(self):
        result = self.copy(volume_backed(), ['beta'], allow_encrypted=True,
                           allow_volume_backed=True)
        self.assertEqual([], self.copy_image.call_args_list)
        self.assertEqual([], result.rows)
        self.assertIn('a copy would be 0 bytes that boot nowhere; nothing '
                      'was changed', result.errors[0])
        self.assertNotIn('--allow-volume-backed', result.errors[0])

    def test_encrypted_into_another_project_refused(self):
        result = self.copy(fakes.image(cinder_encryption_key_id=KEY),
                           ['beta', 'alpha'])
        self.assertEqual([], self.copy_image.call_args_list)
        self.assertEqual(1, len(result.errors))
        self.assertEqual('Failed to copy 2 of 2 image/project pairs',
                         result.summary)

    def test_encrypted_into_its_own_project_warns(self):
        # (another name: a same-named copy beside its source is refused)
        result = self.copy(fakes.image(cinder_encryption_key_id=KEY),
                           ['alpha'], name='enc-copy')
        self.assertEqual(1, len(self.copy_image.call_args_list))
        self.assertEqual([], result.errors)
        self.assertEqual(messages.W_ENCRYPTED_REGION.format(
            id=IMAGE_ID, target='alpha (%s)' % ALPHA, key=KEY),
            result.warnings[0])


KERNEL, RAMDISK = 'k' * 32, 'r' * 32


class TestShareCompanions(unittest.TestCase):

    def share(self, *imgs, fail=None, **kw):
        glance = fakes.FakeGlance(imgs, fail=fail)
        beta = fakes.FakeGlance()
        beta.images = glance.images     # the same Glance, as bob
        beta.members = glance.members
        ident = test_share.Ident()
        result = pipeline.transfer(
            glance, ident, [IMAGE_ID], 'share', to_clouds=['bob-beta'],
            open_cloud=lambda name: (self.session(), beta), **kw)
        return glance, beta, result

    @staticmethod
    def session():
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        return sess

    def ami(self, **over):
        return fakes.image(kernel_id=KERNEL, ramdisk_id=RAMDISK, **over)

    def test_owned_companions_shared_first_and_marked(self):
        glance, beta, result = self.share(
            self.ami(), fakes.image(id=KERNEL, name='aki'),
            fakes.image(id=RAMDISK, name='ari'))
        self.assertEqual([
            ('GET', IMG_URL), ('GET', '/v2/images/' + KERNEL),
            ('GET', '/v2/images/' + RAMDISK)], glance.calls[:3])
        mark = 'companion of %s' % IMAGE_ID
        self.assertEqual([
            (KERNEL, 'aki', BETA, 'beta', 'accepted',
             mark + ', member added, accepted'),
            (RAMDISK, 'ari', BETA, 'beta', 'accepted',
             mark + ', member added, accepted'),
            (IMAGE_ID, 'web', BETA, 'beta', 'accepted',
             'member added, accepted')], result.rows)
        self.assertEqual([], result.errors)

    def test_rerun_says_none(self):
        members = {i: [fakes.member(BETA, 'accepted', i)]
                   for i in (IMAGE_ID, KERNEL, RAMDISK)}
        glance = fakes.FakeGlance(
            [self.ami(), fakes.image(id=KERNEL), fakes.image(id=RAMDISK)],
            members)
        result = pipeline.transfer(glance, test_share.Ident(), [IMAGE_ID],
                                   'share', to=['beta'], accept=False)
        self.assertEqual(['none (companion of %s)' % IMAGE_ID] * 2
                         + ['none'], [r[5] for r in result.rows])
        self.assertEqual([], [c for c in glance.calls if c[0] != 'GET'])

    def test_unreadable_foreign_companion_fails_the_pair_unchanged(self):
        glance, beta, result = self.share(
            self.ami(visibility='private'),
            fakes.image(id=KERNEL, visibility='public', owner=BETA))
        self.assertEqual([], [c for c in glance.calls if c[0] != 'GET'])
        self.assertEqual([], result.rows)
        self.assertEqual([
            'Image %s, project beta (%s): it boots only with its ramdisk_id '
            '%s, which that project cannot read and your project does not '
            'own (nor may it read it), so it could not boot there; nothing '
            'was changed for that project. Ask the owner of %s to share it '
            'with beta (%s)' % (IMAGE_ID, BETA, RAMDISK, RAMDISK, BETA)],
            result.errors)

    def test_a_failed_companion_rolls_its_image_back(self):
        fail = {('POST', '/v2/images/%s/members' % KERNEL):
                errors.Forbidden('no')}
        glance, beta, result = self.share(
            self.ami(), fakes.image(id=KERNEL), fakes.image(id=RAMDISK),
            fail=fail)
        # The image, then the ramdisk shared for it alone, rolled back.
        self.assertEqual([('DELETE', IMG_URL + '/members/' + BETA),
                          ('DELETE', '/v2/images/%s/members/%s'
                           % (RAMDISK, BETA))], glance.calls[-2:])
        self.assertEqual([
            (RAMDISK, None, 'companion of %s, rolled back' % IMAGE_ID)],
            [(r[0], r[4], r[5]) for r in result.rows])
        self.assertEqual(
            'Image %s, project beta (%s): its kernel_id %s could not be '
            'shared with that project (see above), so it could not boot '
            'there' % (IMAGE_ID, BETA, KERNEL), result.errors[-1])
        self.assertEqual('Failed to transfer 2 of 3 image/project pairs',
                         result.summary)

    def test_a_failed_image_rolls_its_companions_back(self):
        fail = {('POST', '/v2/images/%s/members' % IMAGE_ID):
                errors.Forbidden('no')}
        glance, beta, result = self.share(
            self.ami(), fakes.image(id=KERNEL, visibility='private'),
            fakes.image(id=RAMDISK), fail=fail)
        self.assertEqual({}, {i: m for i, m in glance.members.items() if m})
        # The kernel the run set shared is private again.
        self.assertEqual('private', glance.images[KERNEL]['visibility'])
        self.assertEqual([
            (KERNEL, None, 'companion of %s, rolled back' % IMAGE_ID),
            (RAMDISK, None, 'companion of %s, rolled back' % IMAGE_ID)],
            [(r[0], r[4], r[5]) for r in result.rows])    # failed: no row
