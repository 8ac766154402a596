"""The ``image replicate`` command: parse, call one workflow, render."""

from unittest import mock

from osc_lib import exceptions

from osc_imageshare.cli import image_replicate as replicate_cmd
from osc_imageshare.ops import replicate
from osc_imageshare.ops import replicate_check

from tests.unit import base

ROW = ('name=web', 'r2', 'i', '2026-12-01T01:00:00Z', 'c', 'copied',
       'upload')


class TestReplicateImage(base.TestCommand):

    def setUp(self):
        super().setUp()
        self.cmd = replicate_cmd.ReplicateImage(self.app, None)
        self.app.client_manager.image_share = mock.sentinel.glance

    def test_parser(self):
        self.check_parser(
            self.cmd, ['a', '--tag', 't', '--property', 'k=v',
                       '--to-cloud', 'r2', '--to', 'beta', '--keep', '2',
                       '--series-by', 'instance_uuid, backup_type',
                       '--parallel', '3', '--dry-run'],
            [('images', ['a']), ('tags', ['t']), ('properties', ['k=v']),
             ('to_cloud', ['r2']), ('to', ['beta']), ('keep', 2),
             ('series_by', ['instance_uuid', 'backup_type']),
             ('parallel', 3), ('dry_run', True), ('check', False)])
        self.check_parser(self.cmd, ['a', '--to', 'b', '--check',
                                     '--max-lag', '1d2h'],
                          [('check', True), ('max_lag', 93600)])

    @mock.patch.object(replicate, 'replicate')
    def test_one_call_rows_then_the_summary(self, run):
        run.return_value = replicate.Result(
            [ROW], ['w'], ['failed one'],
            'Failed to replicate 1 of 2 series/target pairs')
        parsed = self.check_parser(self.cmd, ['--tag', 'nightly',
                                              '--to-cloud', 'r2',
                                              '--keep', '2'], [])
        with self.assertLogs(replicate_cmd.LOG, 'WARNING') as logs:
            e = self.assertRaises(exceptions.CommandError, self.cmd.run,
                                  parsed)
        self.assertEqual('Failed to replicate 1 of 2 series/target pairs',
                         str(e))
        self.assertEqual(['WARNING:%s:w' % replicate_cmd.LOG.name,
                          'ERROR:%s:failed one' % replicate_cmd.LOG.name],
                         logs.output)
        [call] = run.call_args_list
        req = call.args[2]
        self.assertEqual((mock.sentinel.glance, [], ['nightly'], {},
                          ['r2'], 2, False),
                         (call.args[0], req.refs, req.tags, req.properties,
                          req.to_clouds, req.keep, req.dry_run))
        self.assertIn('copied', self.app.stdout.getvalue())

    @mock.patch.object(replicate_check, 'check')
    def test_check_has_its_columns_and_max_lag(self, check):
        check.return_value = replicate.Result(
            [('name=web', 'r2', 'i', None, None, 'missing')], [], [],
            '1 of 1 series/target pairs are missing or lagging')
        parsed = self.check_parser(self.cmd, ['web', '--to-cloud', 'r2',
                                              '--check', '--max-lag',
                                              '26h', '-f', 'value'], [])
        self.assertRaises(exceptions.CommandError, self.cmd.run, parsed)
        self.assertEqual(26 * 3600, check.call_args.args[3])
        self.assertEqual('name=web r2 i None None missing\n',
                         self.app.stdout.getvalue())
        self.assertEqual(replicate_cmd.CHECK_COLUMNS,
                         self.cmd.columns(parsed))
