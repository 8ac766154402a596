"""The series rules, durations and replica proofs of ``image replicate``."""

import os

from osc_imageshare import errors
from osc_imageshare.imagecopy import labels
from osc_imageshare.ops import series
from tests.unit import base
from tests.unit import fakes


class TestSeries(base.TestCase):

    def test_nova_backups_snapshots_and_named_images(self):
        backup = fakes.image(instance_uuid='s1', backup_type='daily',
                             image_type='backup')
        snapshot = fakes.image(instance_uuid='s1', image_type='snapshot')
        self.assertEqual('instance_uuid=s1,backup_type=daily',
                         series.key_of(backup))
        self.assertEqual('instance_uuid=s1,image_type=snapshot',
                         series.key_of(snapshot))
        self.assertEqual('name=web', series.key_of(fakes.image()))
        self.assertEqual('os_distro=debian,release=12', series.key_of(
            fakes.image(os_distro='debian', release='12'),
            ['os_distro', 'release']))

    def test_an_image_without_a_series_by_property_is_refused(self):
        e = self.assertRaises(errors.ImageShareError, series.key_of,
                              fakes.image(), ['release'])
        self.assertEqual('Image %s has no release, which --series-by names: '
                         'it belongs to no series and was not replicated'
                         % fakes.IMAGE_ID, str(e))

    def test_a_long_series_is_labelled_by_its_hash(self):
        self.assertEqual('name=web', series.label_of('name=web'))
        long = series.label_of('name=' + 'x' * 300)
        self.assertEqual(71, len(long))
        self.assertTrue(long.startswith('sha256:'))

    def test_durations(self):
        self.assertEqual([93600, 5400, 172800, 45, 3600],
                         [series.duration(t) for t in
                          ('26h', '90m', '2d', '45s', '1h')])
        self.assertEqual(129600, series.duration('1d12h'))
        for bad in ('', '0h', 'h', '26', '1h1d', '-1h', '1.5h'):
            self.assertRaises(ValueError, series.duration, bad)
        self.assertEqual(['0s', '1d2h', '1m5s'],
                         [series.words(s) for s in (0, 93600, 65)])


class TestProof(base.TestCase):

    def test_a_sealed_replica_of_a_gone_source_is_proven_unless_changed(self):
        img = fakes.image(size=3, os_hash_algo='sha512', os_hash_value='h',
                          **{labels.SOURCE_ID: 's', labels.SERIES: 'k'})
        self.assertFalse(series.proven(img, None))
        img[labels.REPLICA_PROOF] = series.seal(img)
        self.assertTrue(series.proven(img, None))
        self.assertFalse(series.proven(dict(img, id='other'), None))
        self.assertFalse(series.proven(dict(img, size=4), None))
        self.assertFalse(series.proven(dict(img, status='queued'), None))

    def test_checking_a_seal_where_there_is_no_key_makes_none(self):
        # --check and --dry-run write nothing, not even a key of their own
        # (with it, this host's seals would differ from the others').
        img = fakes.image(size=3, **{labels.REPLICA_PROOF: 'x' * 64})
        self.assertFalse(series.proven(img, None))
        self.assertEqual([], os.listdir(os.environ['XDG_CONFIG_HOME']))

    def test_with_its_source_the_data_proves_it_not_the_seal(self):
        source = fakes.image(size=3, os_hash_algo='sha512',
                             os_hash_value='h', checksum='c')
        img = fakes.image(id='r', size=3, os_hash_algo='sha512',
                          os_hash_value='h', checksum='c',
                          **{labels.SOURCE_HASH: 'sha512:h'})
        self.assertTrue(series.proven(img, source))
        self.assertFalse(series.proven(dict(img, os_hash_value='x'), source))
        self.assertFalse(series.proven(
            dict(img, **{labels.SOURCE_HASH: 'sha512:x'}), source))
