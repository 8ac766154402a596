"""The ``image transfer`` command: parse, call, render, summarise."""

from unittest import mock

from osc_lib import exceptions

from osc_imageshare.commands import transfer as transfer_cmd
from osc_imageshare import share
from tests.unit import base


class TestTransferImage(base.TestCommand):

    def setUp(self):
        super().setUp()
        self.cmd = transfer_cmd.TransferImage(self.app, None)
        self.app.client_manager.image_share = mock.sentinel.glance
        self.app.client_manager.interface = 'public'
        self.app.client_manager.region_name = 'RegionOne'

    def test_parser(self):
        parsed = self.check_parser(
            self.cmd, ['a', 'b', '--to', 'beta', '--to', 'gamma',
                       '--to-cloud', 'bob-beta', '--project-domain', 'other',
                       '--no-accept', '--protect', '--dry-run'],
            [('images', ['a', 'b']), ('to', ['beta', 'gamma']),
             ('to_cloud', ['bob-beta']), ('project_domain', 'other'),
             ('no_accept', True), ('protect', True), ('dry_run', True)])
        self.assertIsNotNone(parsed)
        self.assertRaises(base.ParserException, self.check_parser,
                          self.cmd, ['--to', 'beta'], [])

    @mock.patch.object(share, 'transfer')
    def test_rows_are_printed_then_the_summary_error(self, transfer):
        transfer.return_value = share.Result(
            rows=[('i', 'n', 'p', 'beta', None, 'failed')], warnings=['w'],
            errors=['first', 'second'], failed=2, total=5)
        parsed = self.check_parser(self.cmd, ['a', '--to', 'beta'], [])
        with self.assertLogs(transfer_cmd.LOG, 'WARNING') as logs:
            e = self.assertRaises(exceptions.CommandError, self.cmd.run,
                                  parsed)
        self.assertEqual('Failed to transfer 2 of 5 image/project pairs',
                         str(e))
        self.assertEqual(['WARNING', 'ERROR', 'ERROR'],
                         [line.split(':')[0] for line in logs.output])
        self.assertIn('beta', self.app.stdout.make_string())
        args, kwargs = transfer.call_args
        self.assertEqual((mock.sentinel.glance, ['a']),
                         (args[0], args[2]))
        self.assertEqual(['beta'], kwargs['to'])
        self.assertTrue(kwargs['accept'])

    @mock.patch.object(share, 'transfer')
    def test_success_returns_zero(self, transfer):
        transfer.return_value = share.Result([], [], [], 0, 1)
        parsed = self.check_parser(self.cmd, ['a', '--to', 'beta'], [])
        self.assertEqual(0, self.cmd.run(parsed))
