"""The commands of issue 11: parse, one workflow call, render."""

import io
import unittest
from unittest import mock

from osc_lib import exceptions

from osc_imageshare.cli import image_share as membership_cmd
from osc_imageshare.cli import image_transfer as transfer_cmd
from osc_imageshare.ops import share_set
from osc_imageshare.ops import transfer_plan
from osc_imageshare.ops import waiting


def result(failed=0):
    return transfer_plan.Result('set', [('row',)], ['w'],
                                ['e'] if failed else [], failed, 2, 'set')


class Base(unittest.TestCase):

    cls = None

    def setUp(self):
        self.app = mock.Mock()
        self.cmd = self.cls(self.app, None)
        ident = mock.patch('osc_imageshare.api.identity.Identity'
                           '.from_client_manager', return_value='ident')
        ident.start()
        self.addCleanup(ident.stop)
        rescoped = mock.patch('osc_imageshare.api.clients.rescoped_glance',
                              return_value='glance_for')
        rescoped.start()
        self.addCleanup(rescoped.stop)

    def parse(self, *argv):
        return self.cmd.get_parser('openstack test').parse_args(list(argv))


class TestSetImageShare(Base):

    cls = membership_cmd.SetImageShare

    @mock.patch.object(share_set, 'set_members', return_value=result())
    def test_members_and_file_in_one_call(self, set_members):
        parsed = self.parse('web', '--member', 'beta', '--member-file', '-',
                            '--prune', '--no-accept', '--dry-run',
                            '--parallel', '3', '--project-domain', 'd')
        with mock.patch('sys.stdin', io.StringIO('gamma\n# x\n')):
            columns, rows = self.cmd.take_action(parsed)
        set_members.assert_called_once_with(
            self.app.client_manager.image_share, 'ident', ['web'],
            ['beta', 'gamma'], 'd', True, False, True, 'glance_for', 3,
            False, None, False, False, tags=[], properties={},
            member_domains=[], exclude=[])
        self.assertEqual((membership_cmd.SET_COLUMNS, [('row',)]),
                         (columns, rows))
        self.assertIsNone(self.cmd.failure)

    @mock.patch.object(share_set, 'set_members', return_value=result(1))
    def test_a_failure_is_the_summary(self, set_members):
        self.cmd.take_action(self.parse('web', '--member', 'beta'))
        self.assertEqual('Failed to set 1 of 2 image/project pairs',
                         self.cmd.failure)

    @mock.patch.object(share_set, 'set_members')
    def test_no_members_and_unreadable_file(self, set_members):
        for argv in (['web'], ['web', '--member', 'a', '--member-file',
                               '']):
            self.assertRaises(SystemExit, self.parse, *argv)
        with self.assertRaises(exceptions.CommandError) as e:
            self.cmd.take_action(self.parse('web', '--member-file',
                                            '/nonexistent/members'))
        self.assertEqual('Cannot read --member-file /nonexistent/members: '
                         'No such file or directory', str(e.exception))
        set_members.assert_not_called()


class TestWaitImageShare(Base):

    cls = membership_cmd.WaitImageShare

    @mock.patch.object(waiting, 'share_wait', return_value=[('row',)])
    def test_one_call_no_progress_off_a_terminal(self, share_wait):
        with mock.patch('sys.stderr', io.StringIO()):
            columns, rows = self.cmd.take_action(self.parse(
                'web', 'beta', 'gamma', '--timeout', '30'))
        share_wait.assert_called_once_with(
            self.app.client_manager.image_share, 'ident', 'web',
            ['beta', 'gamma'], None, 30.0, None)
        self.assertEqual((membership_cmd.WAIT_COLUMNS, [('row',)]),
                         (columns, rows))

    @mock.patch.object(waiting, 'share_wait', return_value=[])
    def test_progress_on_a_terminal_is_cleared_at_the_end(self, share_wait):
        tty = io.StringIO()
        tty.isatty = lambda: True
        with mock.patch('sys.stderr', tty):
            self.cmd.take_action(self.parse('web'))
        progress = share_wait.call_args[0][6]
        self.assertEqual(waiting.DEFAULT_TIMEOUT, share_wait.call_args[0][5])
        self.assertEqual('\r\033[K', tty.getvalue())
        progress('Waiting')
        self.assertTrue(tty.getvalue().endswith('\r\033[KWaiting'))


class TestTransferOptions(Base):

    cls = transfer_cmd.TransferImage

    def test_wait_rules(self):
        for argv, why in (
                (['web', '--to', 'b', '--wait'], '--wait needs --no-accept'),
                (['web', '--to', 'b', '--timeout', '3'],
                 '--timeout applies to --wait only')):
            err = io.StringIO()
            with mock.patch('sys.stderr', err):
                self.assertRaises(SystemExit, self.parse, *argv)
            self.assertIn(': error: ' + why, err.getvalue())
        opts = self.cmd._options(self.parse('--tag', 'ci', '--to', 'b',
                                            '--no-accept', '--wait'))
        self.assertFalse(opts['accept'])

    @mock.patch('osc_imageshare.ops.pipeline.transfer')
    def test_selection_parallel_domain_and_wait_reach_the_pipeline(
            self, run):
        run.return_value = transfer_plan.Result(
            'share', [], [], [], 0, 0, 'transfer')
        with mock.patch('sys.stderr', io.StringIO()):
            self.cmd.take_action(self.parse(
                '--tag', 'ci', '--tag', 'x', '--property', 'os_distro=ubuntu',
                '--to-domain', 'customers', '--no-accept', '--wait',
                '--timeout', '60', '--parallel', '4', '--exclude', 'svc',
                '--exclude', 'customers/ops'))
        kw = run.call_args[1]
        self.assertEqual(
            (['ci', 'x'], {'os_distro': 'ubuntu'}, 'customers', 60.0, 4,
             None, ['svc', 'customers/ops']),
            (kw['tags'], kw['properties'], kw['to_domain'], kw['wait'],
             kw['parallel'], kw['wait_progress'], kw['exclude']))
