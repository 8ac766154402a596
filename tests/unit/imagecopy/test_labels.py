"""The labels of a copy: what is carried, who copies, what is debris."""

from osc_imageshare.imagecopy import labels
from tests.unit import base
from tests.unit import fakes
from tests.unit.imagecopy import test_engine


class TestLabels(base.TestCase):

    def test_liveness(self):
        mine = {labels.COPIER: labels.whoami(), 'id': 'x'}
        self.assertTrue(labels.is_live(mine))
        self.assertFalse(labels.is_live(
            {labels.COPIER: test_engine.dead_copier()}))
        self.assertFalse(labels.is_live(
            {labels.COPIER: 'elsewhere:1:1',
             labels.HEARTBEAT: '2026-11-27T07:00:00.000000Z'}))
        self.assertTrue(labels.is_live(
            {labels.COPIER: 'elsewhere:1:1',
             labels.HEARTBEAT: labels.stamp()}))
        self.assertFalse(labels.is_live({'id': 'finished'}))

    def test_a_finished_copy_starts_before_any_under_way(self):
        under_way = {'id': 'a', labels.COPIER: 'x', 'status': 'saving',
                     'created_at': '2000'}
        finished = {'id': 'b', 'status': 'active', 'created_at': '2026'}
        self.assertEqual([finished, under_way], sorted(
            [under_way, finished], key=labels.start_order))

    def test_only_unfinished_states_are_debris(self):
        self.assertEqual(
            ['queued', 'saving', 'uploading', 'importing'],
            [s for s in ('queued', 'saving', 'uploading', 'importing',
                         'active', 'killed', 'deactivated', 'deleted')
             if labels.is_debris({'status': s})])

    def test_finish_drops_the_labels_of_a_copy_under_way(self):
        target = fakes.FakeGlance([], owner=fakes.BETA)
        copy = dict(fakes.image(id='c', owner=fakes.BETA), **{
            labels.COPIER: 'me', labels.STARTED: '1'})
        target.images['c'] = copy
        done, changes = labels.finish(target, copy, 'copied', None, 'here')
        self.assertEqual('copied', changes)
        self.assertEqual('here', done[labels.SOURCE_CLOUD])
        self.assertFalse({labels.COPIER, labels.STARTED} & set(done))


class TestSameKind(base.TestCase):

    def test_a_replica_and_a_plain_copy_never_stand_for_each_other(self):
        copy = {labels.SOURCE_HASH: 'sha512:h'}
        replica = dict(copy, **{labels.REPLICA_OF: 'p', labels.SERIES: 's',
                                labels.SOURCE_CREATED: 't1'})
        self.assertTrue(labels.same_kind(copy, dict(copy)))
        self.assertTrue(labels.same_kind(
            replica, dict(replica, **{labels.SOURCE_CREATED: 't2'})))
        self.assertFalse(labels.same_kind(copy, replica))
        self.assertFalse(labels.same_kind(
            replica, dict(replica, **{labels.SERIES: 'other'})))
        self.assertFalse(labels.same_kind(
            replica, dict(replica, **{labels.SOURCE_HASH: 'sha512:x'})))
