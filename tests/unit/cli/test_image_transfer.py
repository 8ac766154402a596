"""The ``image transfer`` command: parse, call, render, summarise."""

from unittest import mock

from osc_lib import exceptions

from osc_imageshare.cli import image_transfer as transfer_cmd
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import transfer_plan

from tests.unit import base


# A share-mode row: Image ID, Image Name, Project ID, Project Name, Member
# Status, Changes.
ROW = ('i', 'web', 'p', 'beta', 'pending', 'failed')


def result(failed=0, total=1, errors=(), warnings=()):
    return transfer_plan.Result('share', [ROW], list(warnings),
                                list(errors), failed, total, 'transfer')


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
                       '--no-accept', '--protect', '--dry-run',
                       '--revoke-earlier-members'],
            [('images', ['a', 'b']), ('to', ['beta', 'gamma']),
             ('to_cloud', ['bob-beta']), ('project_domain', 'other'),
             ('no_accept', True), ('protect', True), ('dry_run', True),
             ('earlier_members', 'revoke')])
        self.assertIsNotNone(parsed)
        self.assertRaises(base.ParserException, self.check_parser,
                          self.cmd, ['--to', 'beta'], [])
        self.assertRaises(base.ParserException, self.check_parser,
                          self.cmd, ['a', '--revoke-earlier-members',
                                     '--keep-earlier-members'], [])

    @mock.patch.object(pipeline, 'transfer')
    def test_rows_are_printed_then_the_summary_error(self, run):
        run.return_value = result(2, 5, ['first', 'second'], ['w'])
        parsed = self.check_parser(self.cmd, ['a', '--to', 'beta'], [])
        with self.assertLogs(transfer_cmd.LOG, 'WARNING') as logs:
            e = self.assertRaises(exceptions.CommandError, self.cmd.run,
                                  parsed)
        self.assertEqual('Failed to transfer 2 of 5 image/project pairs',
                         str(e))
        self.assertEqual(['WARNING', 'ERROR', 'ERROR'],
                         [line.split(':')[0] for line in logs.output])
        self.assertIn('failed', self.app.stdout.make_string())
        args, kwargs = run.call_args
        self.assertEqual((mock.sentinel.glance, ['a']), (args[0], args[2]))
        self.assertEqual(('share', ['beta'], True, False, 'refuse'), (
            kwargs['mode'], kwargs['to'], kwargs['accept'],
            kwargs['protect'], kwargs['earlier_members']))

    @mock.patch.object(pipeline, 'transfer')
    def test_nothing_on_stdout_when_no_row_worked(self, run):
        run.return_value = transfer_plan.Result(
            'share', [], [], ['why'], 1, 1, 'transfer')
        for fmt in ('table', 'json', 'csv'):
            self.app.stdout.truncate(0)
            parsed = self.check_parser(self.cmd, ['a', '--to', 'beta', '-f',
                                                  fmt], [])
            with self.assertLogs(transfer_cmd.LOG, 'ERROR'):
                self.assertRaises(exceptions.CommandError, self.cmd.run,
                                  parsed)
            self.assertEqual('', self.app.stdout.make_string(), fmt)

    @mock.patch.object(pipeline, 'transfer')
    def test_success_returns_zero(self, run):
        run.return_value = result()
        parsed = self.check_parser(
            self.cmd, ['a', '--to', 'beta', '--keep-earlier-members'], [])
        self.assertEqual(0, self.cmd.run(parsed))
        self.assertEqual('keep', run.call_args[1]['earlier_members'])

    @mock.patch.object(pipeline, 'transfer')
    def test_copy_options_only_for_copy(self, run):
        run.return_value = result()
        parsed = self.check_parser(
            self.cmd, ['a', '--to', 'beta', '--mode', 'copy', '--name', 'n',
                       '--no-progress'], [])
        self.cmd.take_action(parsed)
        kwargs = run.call_args[1]
        self.assertEqual(('copy', 'n', None, False), (
            kwargs['mode'], kwargs['name'], kwargs['visibility'],
            kwargs['progress']))
        self.assertNotIn('accept', kwargs)
        self.check_usage_error(
            self.cmd, ['a', '--to', 'beta', '--mode', 'copy',
                       '--keep-earlier-members'],
            '--keep-earlier-members applies to --mode share only')

    @mock.patch.object(pipeline, 'transfer')
    def test_copy_options_are_passed_through(self, run):
        run.return_value = transfer_plan.Result(
            'copy', [('s', 'i', 'web', 'p', 1, 'h', 1, 1, 'copied', 'upload')],
            [], [], 0, 1, 'copy')
        parsed = self.check_parser(
            self.cmd, ['a', '--to', 'beta', '--mode', 'copy',
                       '--import-method', 'glance-direct',
                       '--keep-signature', '--no-progress', '--keep-id'],
            [('import_method', 'glance-direct'), ('keep_signature', True)])
        self.assertEqual(0, self.cmd.run(parsed))
        self.assertEqual(
            {'import_method': 'glance-direct', 'keep_signature': True,
             'keep_id': True},
            run.call_args[1]['copy_options'])

    def test_copy_options_are_refused_elsewhere(self):
        for args in (['--import-method', 'upload'], ['--keep-signature'],
                     ['--keep-id']):
            self.check_usage_error(
                self.cmd, ['a', '--to', 'beta'] + args,
                '%s applies to --mode copy only' % args[0])

    def test_conflicts_and_blank_values_are_usage_errors(self):
        for args, message in (
                (['--timeout', '3'], '--timeout applies to --wait only'),
                (['--wait'], '--wait needs --no-accept: without it the run '
                 'accepts for every target itself'),
                (['--tag', 't', '--mode', 'copy', '--name', 'n'],
                 '--name needs exactly one image'),
                (['--mode', 'copy', '--name', ' '],
                 'argument --name: must not be empty')):
            self.check_usage_error(self.cmd, ['a', '--to', 'beta'] + args,
                                   message)
