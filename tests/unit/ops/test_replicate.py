"""``image replicate``: series, copies, retention, on the fake Glance."""

import hashlib
import os
import signal
from unittest import mock

from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.imagecopy import engine
from osc_imageshare.imagecopy import labels
from osc_imageshare.ops import replica_state
from osc_imageshare.ops import replicate
from osc_imageshare.ops import replicate_check
from osc_imageshare.ops import series
from tests.unit import base
from tests.unit import fakes
from tests.unit.ops.modes import test_share
from tests.unit.ops import test_membership

ALPHA, BETA = fakes.ALPHA, fakes.BETA
# The caller's replicas from the source region (``replica_state.replica_of``).
REPLICA_OF = ALPHA + '@RegionOne'
SERVER = '5e7e7e7e-0000-4000-8000-000000000001'
OTHER = '5e7e7e7e-0000-4000-8000-000000000002'
KEY = 'instance_uuid=%s,backup_type=daily' % SERVER


def backup(n, server=SERVER, **over):
    """Backup ``n`` of ``server`` (created on day ``n``), with its data."""
    data = b'backup %d of %s' % (n, server.encode())
    img = fakes.image(
        id='%08d-0000-4000-8000-%s' % (n, server[-12:]), name='b%d' % n,
        visibility='private', instance_uuid=server, backup_type='daily',
        image_type='backup', created_at='2026-12-%02dT01:00:00Z' % n,
        size=len(data), disk_format='raw', container_format='bare',
        os_hash_algo='sha512',
        os_hash_value=hashlib.sha512(data).hexdigest(),
        checksum=hashlib.md5(data).hexdigest())
    img.update(over)
    return img, data


class Case(base.TestCase):

    def setUp(self):
        super().setUp()
        self.source = fakes.FakeGlance()
        self.target = fakes.FakeGlance(owner=BETA, region_name='RegionTwo')

    def add(self, *numbers, server=SERVER, **over):
        made = []
        for n in numbers:
            img, data = backup(n, server, **over)
            self.source.images[img['id']] = img
            self.source.data[img['id']] = data
            made.append(img)
        return made

    def request(self, **kw):
        sess = mock.Mock()
        sess.auth.get_access.return_value = mock.Mock(project_id=BETA,
                                                      project_name='beta')
        kw.setdefault('properties', {'backup_type': 'daily'})
        kw.setdefault('to_clouds', ['beta-r2'])
        return replicate.Request(
            open_cloud=lambda name: (
                sess, self.target), source_cloud='alpha/RegionOne', **kw)

    def replicate(self, **kw):
        return replicate.replicate(self.source, test_share.Ident(),
                                   self.request(**kw))

    def replicas(self):
        return sorted((i.get(labels.SOURCE_ID), i['id'])
                      for i in self.target.images.values()
                      if i.get(labels.REPLICA_OF) == REPLICA_OF)

    def actions(self, result):
        return [(r[2], r[5]) for r in result.rows]


class TestReplicate(Case):

    def test_the_newest_keep_are_copied_labelled_and_sealed(self):
        b1, b2, b3 = self.add(1, 2, 3)
        res = self.replicate(keep=2)
        self.assertEqual([(b3['id'], 'copied'), (b2['id'], 'copied')],
                         self.actions(res))
        self.assertEqual(([], [], None), (res.warnings, res.errors,
                                          res.summary))
        self.assertEqual(sorted([b2['id'], b3['id']]),
                         [s for s, _ in self.replicas()])
        copy = self.target.images[res.rows[0][4]]
        self.assertEqual(
            (REPLICA_OF, KEY, b3['created_at'], 'alpha/RegionOne', BETA),
            (copy[labels.REPLICA_OF], copy[labels.SERIES],
             copy[labels.SOURCE_CREATED], copy[labels.SOURCE_CLOUD],
             copy['owner']))
        self.assertEqual(series.seal(copy), copy[labels.REPLICA_PROOF])
        self.assertEqual((KEY, 'beta-r2', b3['id'], b3['created_at'],
                          copy['id'], 'copied', 'upload'), res.rows[0])

    def test_a_rerun_with_nothing_to_do_lists_each_side_once(self):
        self.add(1, 2, 3)
        self.replicate(keep=2)
        self.source.calls, self.target.calls = [], []
        res = self.replicate(keep=2)
        self.assertEqual(['kept', 'kept'], [r[5] for r in res.rows])
        # Pages of 200 (GlanceAPI.PAGE), hidden images included.
        self.assertEqual([
            ('GET', '/v2/images?backup_type=daily&limit=200&owner=' + ALPHA),
            ('GET', '/v2/images?backup_type=daily&limit=200&os_hidden=true'
             '&owner=' + ALPHA)], self.source.calls)
        self.assertEqual([
            ('GET', '/v2/images?imageshare_replica_of=%s%%40RegionOne'
             '&limit=200&owner=%s' % (ALPHA, BETA)),
            ('GET', '/v2/images?imageshare_replica_of=%s%%40RegionOne'
             '&limit=200&os_hidden=true&owner=%s' % (ALPHA, BETA))],
            self.target.calls)

    def test_a_new_backup_is_copied_then_the_oldest_replica_deleted(self):
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=2)
        old = dict(self.replicas())[b2['id']]
        b4, = self.add(4)
        self.target.calls = test_membership.StepCalls()
        res = self.replicate(keep=2)
        self.assertEqual([(b4['id'], 'copied'), (b3['id'], 'kept'),
                          (b2['id'], 'deleted (retention)')],
                         self.actions(res))
        self.assertEqual(sorted([b3['id'], b4['id']]),
                         [s for s, _ in self.replicas()])
        # Every write in a step; the deletion last, once the copy is done.
        writes = [(c, s) for c, s in zip(self.target.calls,
                                         self.target.calls.steps)
                  if c[0] != 'GET']
        self.assertTrue(all(s is not None for _, s in writes))
        self.assertEqual(('DELETE', '/v2/images/' + old), writes[-1][0])
        self.assertIn('delete', writes[-1][1].text)

    def test_dry_run_writes_nothing_and_says_what_the_run_does(self):
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=2)
        self.add(4)
        self.source.calls, self.target.calls = [], []
        dry = self.replicate(keep=2, dry_run=True)
        self.assertEqual([], [c for c in self.source.calls + self.target.calls
                              if c[0] != 'GET'])
        self.assertEqual(['would copy', 'kept', 'would delete (retention)'],
                         [r[5] for r in dry.rows])
        done = self.replicate(keep=2)
        self.assertEqual([r[:3] for r in dry.rows], [r[:3] for r in done.rows])

    def test_without_keep_every_selected_image_is_copied_none_deleted(self):
        self.add(1, 2, 3)
        res = self.replicate()
        self.assertEqual(['copied'] * 3, [r[5] for r in res.rows])
        again = self.replicate(keep=None)
        self.assertEqual(['kept'] * 3, [r[5] for r in again.rows])

    def test_series_apart_by_server_and_one_failing_stops_no_other(self):
        self.add(1, 2)
        other, = self.add(3, server=OTHER)
        self.target.fail[('POST', '/v2/images')] = lambda body: (
            fakes.refusal(413, 'quota') if body.get(labels.SERIES, '')
            .startswith('instance_uuid=' + OTHER) else None)
        res = self.replicate(keep=1)
        self.assertEqual([(KEY, '00000002-0000-4000-8000-000000000001',
                           'copied')], [(r[0], r[2], r[5]) for r in res.rows])
        self.assertEqual(1, len(res.errors))
        self.assertIn(other['id'], res.errors[0])
        self.assertEqual('Failed to replicate 1 of 2 series/target pairs',
                         res.summary)

    def test_the_dry_run_names_what_a_copy_deletes_first(self):
        b1, = self.add(1)
        self.replicate(keep=2)
        b2, = self.add(2)
        # A copy of b2 a killed run left queued (its process long gone).
        left = dict(fakes.image(id='d' * 8 + '-0000-4000-8000-' + 'd' * 12),
                    owner=BETA, status='queued', updated_at='2026-01-01T00:'
                    '00:00Z', **{labels.REPLICA_OF: REPLICA_OF,
                                 labels.SERIES: KEY,
                                 labels.SOURCE_ID: b2['id'],
                                 labels.SOURCE_HASH: 'sha512:' + b2[
                                     'os_hash_value'],
                                 labels.COPIER: 'gone-host:1:1'})
        self.target.images[left['id']] = left
        dry = self.replicate(keep=2, dry_run=True)
        self.assertIn(replicate.N_DEBRIS.format(
            id=b2['id'], where='beta-r2', ids=left['id']), dry.warnings)
        self.assertIn(left['id'], self.target.images)
        res = self.replicate(keep=2)
        self.assertEqual([(b2['id'], 'copied'), (b1['id'], 'kept')],
                         self.actions(res))
        self.assertNotIn(left['id'], self.target.images)

    def test_kinds_copy_mode_refuses_are_refused_the_others_go_on(self):
        b1, = self.add(1)
        vol, = self.add(2, server=OTHER, block_device_mapping='[{"a": 1}]')
        kernel, = self.add(3, server=OTHER[:-1] + '3', kernel_id='k')
        res = self.replicate()
        self.assertEqual([(b1['id'], 'copied')], self.actions(res))
        self.assertEqual(2, len(res.errors))
        self.assertIn(vol['id'], res.errors[0])
        # A companion the caller cannot read: its copy could not boot.
        self.assertEqual(
            "Image %s boots only with its kernel_id k, which your project "
            "cannot read, so a copy could not boot; nothing was copied. Ask "
            "the owner of k to share it with your project" % kernel['id'],
            res.errors[1])
        self.assertEqual('Failed to replicate 2 of 3 series/target pairs',
                         res.summary)

    def test_a_target_that_cannot_be_read_is_one_line_not_one_a_series(self):
        self.add(1)
        self.add(2, server=OTHER)
        self.target.fail[('GET', '/v2/images')] = fakes.refusal(
            403, 'You are not authorized to complete get_images action.')
        e = self.assertRaises(errors.ImageShareError, self.replicate)
        # A --to-cloud entry's listing is its reachability check.
        self.assertIn("Cloud 'beta-r2': the image service at", str(e))
        self.assertEqual([], [c for c in self.target.calls if c[0] != 'GET'])
        with mock.patch.object(replica_state, 'listing',
                               return_value='Could not read them'):
            res = self.replicate()
        self.assertEqual(['Could not read them'], res.errors)
        self.assertEqual('Failed to replicate 2 of 2 series/target pairs',
                         res.summary)

    def test_into_your_own_project_here_the_line_names_what_you_can_do(self):
        b1, = self.add(1)
        res = self.replicate(to_clouds=(), to=('alpha',), dry_run=True)
        self.assertEqual([], res.rows)
        self.assertEqual([
            "Image %s: project alpha (%s) owns it in this same Glance; a "
            "copy there would be a second image named 'b1' beside it, and "
            "that name would no longer find either: give a --to-cloud entry "
            "of another region" % (b1['id'], ALPHA)], res.errors)

    def test_a_dry_run_as_a_reader_there_says_the_copies_would_fail(self):
        self.add(1, 2)
        self.target.session, self.target.auth = mock.Mock(), mock.Mock()
        self.target.auth.get_access.return_value = mock.Mock(
            project_name='beta', role_names=['reader'])
        dry = self.replicate(keep=1, dry_run=True)
        self.assertEqual([
            "The run in beta-r2 would act as project beta with the role "
            "reader: Glance's default policies refuse it to create images "
            "(its add_image policy), so unless this cloud's policy allows "
            "it, that would fail; ask for the member role there, or use "
            "credentials that have it"], dry.warnings[-1:])
        self.target.auth.get_access.return_value.role_names = ['member']
        dry = self.replicate(keep=1, dry_run=True)
        self.assertEqual([], [w for w in dry.warnings if 'role' in w])

    def companions(self, **over):
        """A kernel and a ramdisk of alice's, and three backups using them."""
        made = []
        for cid, data in (('kernel-1', b'vmlinuz'), ('ramdisk-1', b'initrd')):
            img = fakes.image(
                id=cid, name=cid, visibility='private', disk_format='aki'
                if cid.startswith('k') else 'ari', container_format='aki'
                if cid.startswith('k') else 'ari', size=len(data),
                created_at='2026-11-01T00:00:00Z', os_hash_algo='sha512',
                os_hash_value=hashlib.sha512(data).hexdigest(),
                checksum=hashlib.md5(data).hexdigest(), **over)
            self.source.images[cid], self.source.data[cid] = img, data
            made.append(img)
        return made + self.add(1, 2, 3, kernel_id='kernel-1',
                               ramdisk_id='ramdisk-1')

    def test_companions_are_copied_once_and_the_replicas_boot_with_them(self):
        kernel, ramdisk, b1, b2, b3 = self.companions()
        self.target.calls = test_membership.StepCalls()
        res = self.replicate(keep=2)
        self.assertEqual([('kernel-1', 'copied (companion)'),
                          ('ramdisk-1', 'copied (companion)'),
                          (b3['id'], 'copied'), (b2['id'], 'copied')],
                         self.actions(res))
        self.assertEqual(([], None), (res.errors, res.summary))
        k_copy, r_copy = res.rows[0][4], res.rows[1][4]
        for row in res.rows[2:]:
            replica = self.target.images[row[4]]
            self.assertEqual((k_copy, r_copy), (replica['kernel_id'],
                                                replica['ramdisk_id']))
        # The companions' copies are verified copies, not replicas.
        for cid, copy_id in (('kernel-1', k_copy), ('ramdisk-1', r_copy)):
            got = self.target.images[copy_id]
            self.assertEqual((cid, BETA, None), (
                got[labels.SOURCE_ID], got['owner'],
                got.get(labels.REPLICA_OF)))
            self.assertEqual(self.source.data[cid],
                             self.target.data[copy_id])
        # Each write in its step; the companions' before the replicas'.
        writes = [(c, s.text) for c, s in zip(self.target.calls,
                                              self.target.calls.steps)
                  if c[0] != 'GET']
        self.assertTrue(all(s for _, s in writes))
        kinds = [('companion' in s, s.split()[1]) for _, s in writes]
        first_replica = next(n for n, k in enumerate(kinds) if not k[0])
        self.assertTrue(all(not k[0] for k in kinds[first_replica:]))
        # Again: nothing to do; each companion and its copy there looked
        # up once, for both replicas.
        self.source.calls, self.target.calls = [], []
        again = self.replicate(keep=2)
        self.assertEqual([(b3['id'], 'kept'), (b2['id'], 'kept')],
                         self.actions(again))
        self.assertEqual([('GET', '/v2/images/kernel-1'),
                          ('GET', '/v2/images/ramdisk-1')],
                         [c for c in self.source.calls
                          if 'kernel' in c[1] or 'ramdisk' in c[1]])
        self.assertEqual(2, len([c for c in self.target.calls
                                 if 'source_id=' in c[1]]))
        self.assertEqual([], [c for c in self.source.calls + self.target.calls
                              if c[0] != 'GET'])

    def test_a_companion_copy_a_killed_run_left_verified_is_finished(self):
        kernel, ramdisk, b1, b2, b3 = self.companions()
        first = self.replicate(keep=1)
        k_copy = first.rows[0][4]
        self.target.images[k_copy][labels.COPIER] = 'host:1:1'
        self.target.images[k_copy].pop(labels.SOURCE_CLOUD, None)
        b4, = self.add(4, kernel_id='kernel-1', ramdisk_id='ramdisk-1')
        dry = self.replicate(keep=1, dry_run=True)
        res = self.replicate(keep=1)
        self.assertEqual([('kernel-1', 'kept (companion)'),
                          (b4['id'], 'copied'),
                          (b3['id'], 'deleted (retention)')],
                         self.actions(res))
        self.assertEqual([r[2:6] for r in dry.rows][0],
                         (res.rows[0][2], res.rows[0][3], k_copy,
                          'kept (companion)'))
        got = self.target.images[k_copy]
        self.assertEqual((None, 'alpha/RegionOne'), (
            got.get(labels.COPIER), got.get(labels.SOURCE_CLOUD)))
        self.assertEqual(k_copy, self.target.images[res.rows[1][4]][
            'kernel_id'])

    def test_a_kept_replica_is_set_to_its_companions_copies_there(self):
        kernel, ramdisk, b1, b2, b3 = self.companions()
        first = self.replicate(keep=2)
        k_copy = first.rows[0][4]
        # The target project deleted the kernel's copy.
        del self.target.images[k_copy]
        dry = self.replicate(keep=2, dry_run=True)
        self.assertEqual([('kernel-1', 'would copy (companion)'),
                          (b3['id'], 'kept, would set companions'),
                          (b2['id'], 'kept, would set companions')],
                         self.actions(dry))
        res = self.replicate(keep=2)
        self.assertEqual([r[:3] for r in dry.rows], [r[:3] for r in res.rows])
        again_copy = res.rows[0][4]
        for row in res.rows[1:]:
            self.assertEqual(
                (row[4], 'kept, companions set', again_copy, first.rows[1][4]),
                (row[4], row[5], self.target.images[row[4]]['kernel_id'],
                 self.target.images[row[4]]['ramdisk_id']))
        self.assertEqual(['kept', 'kept'],
                         [r[5] for r in self.replicate(keep=2).rows])

    def test_a_selected_kernels_replica_is_never_a_companions_copy(self):
        kernel, ramdisk, b1, b2, b3 = self.companions()
        # The kernel replicated as an image of its own (series name=...).
        first = self.replicate(keep=1, refs=['kernel-1'], properties=None)
        [(_, kernel_replica)] = [(r[2], r[4]) for r in first.rows]
        res = self.replicate(keep=1)
        wired = self.target.images[res.rows[-1][4]]['kernel_id']
        self.assertNotEqual(kernel_replica, wired)
        self.assertIsNone(self.target.images[wired].get(labels.REPLICA_OF))
        # A newer kernel of that name: retention rotates the old one's
        # replica out; the replicas' kernel stays.
        newer = dict(kernel, id='kernel-2', created_at='2026-12-01T00:00:00Z')
        self.source.images['kernel-2'] = newer
        self.source.data['kernel-2'] = self.source.data['kernel-1']
        again = self.replicate(keep=1, refs=['kernel-1'],
                               properties=None)
        self.assertIn(('kernel-1', 'deleted (retention)'),
                      self.actions(again))
        self.assertNotIn(kernel_replica, self.target.images)
        self.assertIn(wired, self.target.images)

    def test_a_replica_is_never_a_source(self):
        b1, b2 = self.add(1, 2)
        # A replica made into this project from another region, with the
        # labels and properties of its source (so the selection matches).
        back, = self.add(3, server=OTHER, **{
            labels.REPLICA_OF: ALPHA + '@RegionTwo', labels.SOURCE_ID: 'x',
            labels.SERIES: 'instance_uuid=%s,backup_type=daily' % OTHER})
        res = self.replicate(keep=1)
        self.assertEqual([(b2['id'], 'copied')], self.actions(res))
        self.assertEqual([replicate.N_REPLICAS.format(count=1,
                                                      ids=back['id'])],
                         res.warnings)
        self.assertEqual(([], None), (res.errors, res.summary))
        named = self.replicate(keep=1, refs=[back['id']], properties=None)
        self.assertEqual(
            ["Image %s is a replica of image x, made by image replicate: a "
             "replica is never replicated; replicate its source"
             % back['id']], named.errors)
        # By name: the name series' replica left out, not an error.
        b3, = self.add(3)
        by_name = self.replicate(keep=1, refs=['b3'], properties=None)
        self.assertEqual([(b3['id'], 'copied')], self.actions(by_name))
        self.assertEqual(([], [replicate.N_REPLICAS.format(
            count=1, ids=back['id'])]), (by_name.errors, by_name.warnings))

    def test_a_new_backup_reuses_the_companions_copies_there(self):
        kernel, ramdisk, b1, b2, b3 = self.companions()
        first = self.replicate(keep=1)
        k_copy = first.rows[0][4]
        b4, = self.add(4, kernel_id='kernel-1', ramdisk_id='ramdisk-1')
        dry = self.replicate(keep=1, dry_run=True)
        self.assertEqual([(b4['id'], 'would copy'),
                          (b3['id'], 'would delete (retention)')],
                         self.actions(dry))
        res = self.replicate(keep=1)
        self.assertEqual([(b4['id'], 'copied'),
                          (b3['id'], 'deleted (retention)')],
                         self.actions(res))
        self.assertEqual(k_copy, self.target.images[res.rows[0][4]][
            'kernel_id'])
        # Retention never deletes a companion's copy.
        self.assertIn(k_copy, self.target.images)

    def test_a_failed_companion_copy_fails_its_images_not_the_others(self):
        kernel, ramdisk, b1, b2, b3 = self.companions()
        plain, = self.add(5, server=OTHER)
        self.target.fail[('POST', '/v2/images')] = lambda body: (
            fakes.refusal(413, 'quota') if body.get('name') == 'ramdisk-1'
            else None)
        res = self.replicate(keep=1)
        self.assertEqual([('kernel-1', 'copied (companion)'),
                          (plain['id'], 'copied')], self.actions(res))
        self.assertEqual(2, len(res.errors))
        self.assertIn('ramdisk-1', res.errors[0])
        self.assertEqual(
            'Image %s, project beta (%s): its ramdisk_id ramdisk-1 could not '
            'be copied there (see above), so a copy could not boot; it was '
            'not copied' % (b3['id'], BETA), res.errors[1])
        self.assertEqual('Failed to replicate 1 of 2 series/target pairs',
                         res.summary)
        self.assertEqual([plain['id']], [s for s, _ in self.replicas()])

    def test_the_dry_run_of_companions_is_the_run(self):
        self.companions()
        dry = self.replicate(keep=2, dry_run=True)
        self.assertEqual([], [c for c in self.target.calls if c[0] != 'GET'])
        self.assertEqual(['would copy (companion)'] * 2 + ['would copy'] * 2,
                         [r[5] for r in dry.rows])
        done = self.replicate(keep=2)
        self.assertEqual([r[:3] for r in dry.rows],
                         [r[:3] for r in done.rows])

    def test_a_copy_refused_while_planning_stops_no_other_nor_deletes(self):
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=3)
        b4, b5 = self.add(4, 5)
        real = engine.check_copy

        def quota(glance, target_glance, source, *args):
            if source['id'] == b4['id']:
                raise errors.ImageShareError('no room for %s' % source['id'])
            return real(glance, target_glance, source, *args)
        with mock.patch.object(engine, 'check_copy', quota):
            res = self.replicate(keep=3)
        # b5 copied, b3 kept; b4 refused; nothing deleted in that series.
        self.assertEqual([(b5['id'], 'copied'), (b3['id'], 'kept')],
                         self.actions(res))
        self.assertEqual(['no room for %s' % b4['id']], res.errors)
        self.assertEqual('Failed to replicate 1 of 1 series/target pairs',
                         res.summary)
        self.assertEqual(sorted(b['id'] for b in (b1, b2, b3, b5)),
                         [sid for sid, _ in self.replicas()])

    def test_hidden_sources_are_selected_and_their_replicas_found(self):
        b1, b2 = self.add(1, 2, os_hidden=True)
        res = self.replicate(keep=2)
        self.assertEqual([(b2['id'], 'copied'), (b1['id'], 'copied')],
                         self.actions(res))
        self.assertTrue(all(self.target.images[r[4]]['os_hidden']
                            for r in res.rows))
        again = self.replicate(keep=2)
        self.assertEqual([(b2['id'], 'kept'), (b1['id'], 'kept')],
                         self.actions(again))


class TestRetentionRules(Case):

    def test_a_protected_replica_is_kept_and_named(self):
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=3)
        old = dict(self.replicas())[b1['id']]
        self.target.images[old]['protected'] = True
        res = self.replicate(keep=2)
        self.assertEqual((b1['id'], old, 'protected, kept'),
                         (res.rows[-1][2], res.rows[-1][4], res.rows[-1][5]))
        self.assertIn(old, self.target.images)
        [warning] = res.warnings
        self.assertIn("'openstack --os-cloud beta-r2 image set --unprotected "
                      "%s'" % old, warning)
        self.assertIsNone(res.summary)

    def test_the_replica_of_a_deleted_source_stays_until_rotated_out(self):
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=2)
        del self.source.images[b2['id']]
        res = self.replicate(keep=2)
        self.assertEqual([(b3['id'], 'kept'), (b2['id'], 'kept')],
                         self.actions(res))
        b4, = self.add(4)
        res = self.replicate(keep=2)
        self.assertEqual([(b4['id'], 'copied'), (b3['id'], 'kept'),
                          (b2['id'], 'deleted (retention)')],
                         self.actions(res))

    def test_a_lookalike_is_never_counted_nor_deleted(self):
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=2)
        # The target project plants an image labelled a replica of b1
        # (whose own replica retention would delete), with other data.
        fake = dict(fakes.image(id='f' * 8 + '-0000-4000-8000-' + 'f' * 12),
                    owner=BETA, visibility='private', size=5,
                    os_hash_algo='sha512', os_hash_value='0' * 128,
                    checksum='0' * 32)
        fake.update({labels.REPLICA_OF: REPLICA_OF, labels.SERIES: KEY,
                     labels.SOURCE_ID: b3['id'],
                     labels.SOURCE_HASH: 'sha512:' + b3['os_hash_value'],
                     labels.SOURCE_CREATED: '2026-12-31T00:00:00Z',
                     labels.REPLICA_PROOF: 'x' * 64})
        self.target.images[fake['id']] = fake
        gone = dict(fake, id='e' * 8 + '-0000-4000-8000-' + 'e' * 12)
        gone[labels.SOURCE_ID] = 'no-such-image'
        self.target.images[gone['id']] = gone
        b4, = self.add(4)
        res = self.replicate(keep=2)
        self.assertEqual([(b4['id'], 'copied'), (b3['id'], 'kept'),
                          (b2['id'], 'deleted (retention)')],
                         self.actions(res))
        self.assertIn(fake['id'], self.target.images)
        self.assertIn(gone['id'], self.target.images)
        self.assertEqual(2, len(res.warnings))
        self.assertEqual([
            (gone['id'], 'its source is gone and it bears no seal of a run '
             'of yours'), (fake['id'], "its data is not the source's")],
            [(w.split()[1], w.split(' (')[-1].split(')')[0])
             for w in sorted(res.warnings)])

    def test_on_a_host_without_the_key_a_gone_sources_replica_says_so(self):
        b1, b2 = self.add(1, 2)
        self.replicate(keep=2)
        self.source.images.pop(b1['id'])
        key = os.path.join(os.environ['XDG_CONFIG_HOME'], 'osc-imageshare',
                           'copy-proof.key')
        os.rename(key, key + '.elsewhere')
        res = self.replicate(keep=1)
        self.assertEqual([(b2['id'], 'kept')], self.actions(res))
        [warning] = res.warnings
        self.assertIn(
            '(its source is gone, and this host has no proof key to check '
            'its seal with: copy %s from the host that made it)' % key,
            warning)
        self.assertEqual(2, len(self.replicas()))


class TestRetentionAcrossSelections(Case):
    """What another selection, series or region made is never deleted."""

    def test_a_narrower_selection_deletes_no_newer_backups_replica(self):
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=3)
        before = self.replicas()
        # Only b1 selected, --keep 1: b2's and b3's replicas (their sources
        # live, newer, not selected) are not this run's to rotate out.
        res = self.replicate(keep=1, refs=[b1['id']], properties=None)
        self.assertEqual([(b1['id'], 'kept')], self.actions(res))
        self.assertEqual(before, self.replicas())

    def test_another_series_data_labelled_this_series_is_not_counted(self):
        b1, b2 = self.add(1, 2)
        o1, = self.add(7, server='2' * 8 + '-0000-4000-8000-' + '2' * 12)
        self.replicate(keep=2)
        # The target project copies o1's replica, relabelled as this
        # series' newest (a date in 2099): proven data, but not of this
        # series; the series' own replicas stand.
        real = dict(self.replicas())
        forged = dict(self.target.images[real[o1['id']]],
                      id='f' * 8 + '-0000-4000-8000-' + 'f' * 12)
        forged.update({labels.SERIES: KEY,
                       labels.SOURCE_CREATED: '2099-01-01T00:00:00Z'})
        self.target.images[forged['id']] = forged
        b3, = self.add(3)
        res = self.replicate(keep=2)
        self.assertIn((b2['id'], 'kept'), self.actions(res))
        self.assertNotIn(forged['id'], [r[4] for r in res.rows])
        self.assertIn(real[b2['id']], self.target.images)

    def test_a_deleted_sources_newer_replica_is_never_beyond(self):
        # b3, the newest, was deleted at the source: its replica is the only
        # copy of it. A run selecting b1 alone, --keep 1, keeps it (it is
        # newer than anything selected); so does the full selection's.
        b1, b2, b3 = self.add(1, 2, 3)
        self.replicate(keep=3)
        before = self.replicas()
        del self.source.images[b3['id']]
        self.replicate(keep=1, refs=[b1['id']], properties=None)
        self.assertEqual(before, self.replicas())
        res = self.replicate(keep=2)
        self.assertEqual([(b3['id'], 'kept'), (b2['id'], 'kept'),
                          (b1['id'], 'deleted (retention)')],
                         self.actions(res))

    def test_the_lag_is_of_the_source_not_of_a_label(self):
        b1, = self.add(1)
        self.replicate(keep=1)
        [(_, copy)] = self.replicas()
        self.target.images[copy][labels.SOURCE_CREATED] = \
            '2099-01-01T00:00:00Z'
        now = series.parse_time('2026-12-05T01:00:00Z')
        res = replicate_check.check(self.source, test_share.Ident(),
                                    self.request(keep=1), 3600, now=now)
        self.assertEqual('lagging', res.rows[0][-1])

    def test_a_copy_still_labelled_under_way_is_not_kept_as_a_replica(self):
        b1, = self.add(1)
        self.replicate(keep=1)
        [(_, copy)] = self.replicas()
        # Killed after its import, before its labels were finished.
        self.target.images[copy][labels.COPIER] = 'deadhost:1:1'
        for key in (labels.SOURCE_CLOUD, labels.REPLICA_PROOF):
            del self.target.images[copy][key]
        self.replicate(keep=1)
        # The copy step finished it: its labels dropped, sealed.
        [(_, after)] = self.replicas()
        image = self.target.images[after]
        self.assertNotIn(labels.COPIER, image)
        self.assertEqual(series.seal(image), image[labels.REPLICA_PROOF])


class TestCheck(Case):

    NOW = series.parse_time('2026-12-05T01:00:00Z')

    def check(self, max_lag=None, **kw):
        return replicate_check.check(
            self.source, test_share.Ident(), self.request(**kw), max_lag,
            now=self.NOW)

    def test_missing_then_ok_and_nothing_written(self):
        b1, b2, b3 = self.add(1, 2, 3)
        before = self.check(keep=2)
        self.assertEqual([(KEY, 'beta-r2', b3['id'], None, None, 'missing')],
                         before.rows)
        self.assertEqual('1 of 1 series/target pairs are missing or lagging '
                         '(their rows say which)', before.summary)
        self.replicate(keep=2)
        self.source.calls, self.target.calls = [], []
        after = self.check(keep=2)
        newest = dict(self.replicas())[b3['id']]
        self.assertEqual([(KEY, 'beta-r2', b3['id'], newest, '2d', 'ok')],
                         after.rows)
        self.assertIsNone(after.summary)
        self.assertEqual([], [c for c in self.source.calls + self.target.calls
                              if c[0] != 'GET'])

    def test_a_target_the_run_refuses_is_its_line_not_a_missing_row(self):
        b1, = self.add(1)
        res = self.check(to_clouds=(), to=('alpha',))
        self.assertEqual([], res.rows)
        self.assertEqual(1, len(res.errors))
        self.assertIn('give a --to-cloud entry of another region',
                      res.errors[0])
        self.assertIn('Failed to check 1 of 1', res.summary)

    def test_max_lag_and_a_newer_source_not_yet_copied(self):
        self.add(1, 2)
        self.replicate(keep=2)
        self.assertEqual('ok', self.check(series.duration('3d1h'),
                                          keep=2).rows[0][-1])
        res = self.check(series.duration('2d'), keep=2)
        self.assertEqual(('3d', 'lagging'), res.rows[0][-2:])
        self.assertIsNotNone(res.summary)
        self.add(3)
        self.assertEqual('missing', self.check(keep=2).rows[0][-1])

    def test_more_replicas_than_keep_are_stale(self):
        self.add(1, 2, 3)
        self.replicate()
        self.assertEqual('stale-replicas', self.check(keep=2).rows[0][-1])
        self.assertIsNone(self.check(keep=2).summary)
        self.assertEqual('ok', self.check(keep=3).rows[0][-1])


class TestSignals(Case):

    def test_sigterm_mid_copy_cleans_it_keeps_the_done_and_says_so(self):
        b1, b2, b3 = self.add(1, 2, 3)
        sent = []

        def on_data(chunk):
            # While the second copy (b2's) receives its data.
            if len(self.target.images) == 2 and not sent:
                sent.append(1)
                base.signal_self(signal.SIGTERM)
        self.target.on_data = on_data
        e = self.assertRaises(signals.Interrupted, self.replicate, keep=3,
                              parallel=1)
        lines = str(e).splitlines()
        self.assertEqual(
            'Interrupted by SIGTERM: of 3 step(s), 1 done, 1 failed, 1 not '
            'started; every copy made is verified and kept, each cut one was '
            'cleaned up as said above: run the command again to finish',
            lines[-1])
        self.assertIn('Interrupted by SIGTERM while copying image %s'
                      % b2['id'], lines[0])
        self.assertEqual([(b3['id'], 'copied')],
                         [(r[2], r[5]) for r in e.rows])
        # Nothing partial left; a re-run finishes.
        self.assertEqual([b3['id']], [s for s, _ in self.replicas()])
        res = self.replicate(keep=3)
        self.assertEqual([(b3['id'], 'kept'), (b2['id'], 'copied'),
                          (b1['id'], 'copied')], self.actions(res))
