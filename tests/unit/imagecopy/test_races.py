"""Leftovers of dead runs, and runs copying one image at once."""

from osc_imageshare import errors
from osc_imageshare.imagecopy import labels
from osc_imageshare.imagecopy import races
from osc_imageshare.imagecopy import verify
from tests.unit import fakes
from tests.unit.imagecopy import test_engine

BETA = fakes.BETA
IMAGE_ID = fakes.IMAGE_ID
DATA = test_engine.DATA
SHA512 = test_engine.SHA512
dead_copier = test_engine.dead_copier


class TestLeftoversAndRaces(test_engine.CopyCase):

    def leftover(self, image_id='old', **over):
        img = dict(id=image_id, owner=BETA, status='saving',
                   created_at='2026-11-27T07:00:00Z',
                   updated_at='2026-11-27T07:00:00Z', **over)
        img[labels.SOURCE_ID] = IMAGE_ID
        img[labels.SOURCE_HASH] = 'sha512:' + SHA512
        self.target.images[image_id] = img
        return img

    def test_leftover_of_a_dead_run_is_deleted_first(self):
        self.leftover(**{labels.COPIER: dead_copier(),
                         labels.STARTED: '2026-11-27T07:00:00.000001Z'})
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
            self.leftover(**{labels.COPIER: dead_copier()})['status'] = state
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
        now = labels.stamp()
        self.leftover(**{labels.COPIER: 'elsewhere:1:1',
                         labels.HEARTBEAT: now, labels.STARTED: '9'})
        self.copy()       # starts after ours: we win, it is left alone
        self.assertEqual(['old', 'new-1'], list(self.target.images))

    def test_loser_before_streaming_reports_the_winner(self):
        other = self.leftover(**{labels.COPIER: 'elsewhere:1:1',
                                 labels.HEARTBEAT: labels.stamp(),
                                 labels.STARTED: '2000'})

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

    def test_a_replica_under_way_is_no_rival_of_a_plain_copy(self):
        # Another run makes a replica of the same source (image
        # replicate): a plain copy neither waits for it nor takes it.
        other = self.leftover(**{labels.COPIER: 'elsewhere:1:1',
                                 labels.HEARTBEAT: labels.stamp(),
                                 labels.STARTED: '2000',
                                 labels.REPLICA_OF: 'p',
                                 labels.SERIES: 'name=web'})
        result = self.copy()
        self.assertEqual('copied', result.changes)
        self.assertNotEqual('old', result.image['id'])
        self.assertEqual([], self.sleep.call_args_list)
        self.assertIn('old', self.target.images)
        # A replica's run waits for the replica started first: it is one.

        def finish(seconds):
            other.update(status='active', size=len(DATA),
                         os_hash_algo='sha512', os_hash_value=SHA512)
        self.sleep.side_effect = finish
        replica = self.copy(replica={labels.REPLICA_OF: 'p',
                                     labels.SERIES: 'name=web',
                                     labels.SOURCE_CREATED: 'then'})
        self.assertEqual(('old', 'none (copied by another run at the same '
                                 'time)'),
                         (replica.image['id'], replica.changes))

    def test_this_process_s_replica_under_way_is_no_orphan_of_a_plain(self):
        # Another thread of this run makes a replica of the same source
        # (a kernel selected, and a companion): neither deletes the other.
        self.leftover(**{labels.COPIER: labels.whoami(),
                         labels.HEARTBEAT: labels.stamp(),
                         labels.STARTED: '2000',
                         labels.REPLICA_OF: 'p', labels.SERIES: 'name=k'})
        result = self.copy()
        self.assertEqual('copied', result.changes)
        self.assertIn('old', self.target.images)
        self.assertIn('old', [i['id'] for i in races.delete_orphans(
            self.target, {'id': IMAGE_ID}, BETA, kind={
                labels.SOURCE_HASH: 'sha512:' + SHA512})])
        # Of its own kind, it is an orphan of this process: deleted.
        self.assertNotIn('old', [i['id'] for i in races.delete_orphans(
            self.target, {'id': IMAGE_ID}, BETA,
            kind=self.target.images['old'])])
        self.assertNotIn('old', self.target.images)

    def test_loser_waits_for_a_converted_winner(self):
        other = self.leftover(**{labels.COPIER: 'elsewhere:1:1',
                                 labels.HEARTBEAT: labels.stamp(),
                                 labels.STARTED: '2000'})

        def finish(seconds):
            other.update(status='active', size=7, disk_format='raw',
                         **{labels.CONVERTED: 'qcow2->raw'})
            other[labels.PROOF] = verify.proof(other)   # as its run sets it
        self.sleep.side_effect = finish
        result = self.copy()
        self.assertEqual(('old', 'none'), (result.image['id'],
                                           result.method))
        self.assertEqual(['old'], list(self.target.images))

    def test_winner_that_dies_lets_us_copy(self):
        other = self.leftover(**{labels.COPIER: 'elsewhere:1:1',
                                 labels.HEARTBEAT: labels.stamp(),
                                 labels.STARTED: '2000'})

        def die(seconds):
            other[labels.HEARTBEAT] = '2000-01-01T00:00:00.0Z'
        self.sleep.side_effect = die
        result = self.copy()
        self.assertEqual(('new-1', 'copied'),
                         (result.image['id'], result.changes))

    def test_loser_after_streaming_deletes_its_own(self):
        other = self.leftover(**{labels.COPIER: 'elsewhere:1:1',
                                 labels.HEARTBEAT: labels.stamp(),
                                 labels.STARTED: '9999'})

        def overtake(chunk):   # it started later, finished first, and ...
            other.update(status='active', size=len(DATA),
                         os_hash_algo='sha512', os_hash_value=SHA512)
            other[labels.STARTED] = '2000'   # ... started first after all
        self.target.on_data = overtake
        result = self.copy()
        self.assertEqual(('old', 'none (copied by another run at the same '
                                 'time)'),
                         (result.image['id'], result.changes))
        self.assertEqual(['old'], list(self.target.images))
