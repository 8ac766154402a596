"""Usage errors of every command: exit code 2, one line, before any request.

Options that exclude each other, options of another mode, values out of
range: the parser refuses them (``SystemExit(2)``), so ``take_action``,
and with it every request, never runs.  A caught signal is exit code 1.
"""

import configparser
import contextlib
import importlib
import io
import os
import signal
import unittest
from unittest import mock

from osc_lib import exceptions

from osc_imageshare.api import glance as glance_api
from osc_imageshare.batch import signals
from osc_imageshare import cli
from osc_imageshare.cli import image_replicate
from osc_imageshare.cli import image_share
from osc_imageshare.cli import image_transfer
from osc_imageshare.cli import share_audit
from osc_imageshare.cli import share_status
from osc_imageshare import errors

from tests.unit import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def commands():
    """``{entry point name: class}`` of every command setup.cfg declares."""
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, 'setup.cfg'))
    out = {}
    for line in config['entry_points']['openstack.image_share.v2'].split(
            '\n'):
        if line.strip():
            name, _, target = (p.strip() for p in line.partition('='))
            module, _, cls = target.partition(':')
            out[name] = getattr(importlib.import_module(module), cls)
    return out


def parse(cls, *argv):
    """``(exit code, stderr lines)`` of parsing ``argv`` for ``cls``."""
    app = mock.Mock()
    parser = cls(app, None).get_parser('openstack test')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            parser.parse_args(list(argv))
        except SystemExit as e:
            return e.code, err.getvalue().splitlines()
    return 0, err.getvalue().splitlines()


T = image_transfer.TransferImage
CASES = [
    # options of another mode
    (T, ['a', '--to', 'b', '--mode', 'copy', '--no-accept'],
     '--no-accept applies to --mode share only'),
    (T, ['a', '--to', 'b', '--mode', 'owner', '--protect'],
     '--protect applies to --mode share only'),
    (T, ['a', '--to', 'b', '--mode', 'copy', '--keep-earlier-members'],
     '--keep-earlier-members applies to --mode share only'),
    (T, ['a', '--to', 'b', '--keep-id'],
     '--keep-id applies to --mode copy only'),
    (T, ['a', '--to', 'b', '--mode', 'owner', '--visibility', 'shared'],
     '--visibility applies to --mode copy only'),
    (T, ['a', '--to', 'b', '--name', 'n'],
     '--name applies to --mode copy only'),
    (T, ['a', '--to', 'b', '--progress'],
     '--progress applies to --mode copy only'),
    (T, ['a', '--to', 'b', '--mode', 'copy', '--allow-volume-backed'],
     '--allow-volume-backed applies to --mode share only (a copy of a '
     'volume-backed snapshot would be 0 bytes that boot nowhere)'),
    (T, ['a', '--to', 'b', '--mode', 'owner', '--allow-encrypted'],
     '--allow-encrypted applies to --mode share and copy only'),
    # an image has one owner
    (T, ['a', '--to', 'b', '--to', 'c', '--mode', 'owner'],
     '--mode owner takes one target project (an image has one owner): '
     'give one --to, --to-cloud or --to-domain'),
    (T, ['a', '--to', 'b', '--to-cloud', 'c', '--mode', 'owner'],
     '--mode owner takes one target project (an image has one owner): '
     'give one --to, --to-cloud or --to-domain'),
    (T, ['a', '--to', 'b', '--to-domain', 'd', '--mode', 'owner'],
     '--mode owner takes one target project (an image has one owner): '
     'give one --to, --to-cloud or --to-domain'),
    # options that exclude each other, or need another
    (T, ['a', '--to', 'b', '--mode', 'copy', '--progress',
         '--no-progress'],
     'argument --no-progress: not allowed with argument --progress'),
    (T, ['a', '--to', 'b', '--wait'],
     '--wait needs --no-accept: without it the run accepts for every '
     'target itself'),
    (T, ['a', '--to', 'b', '--timeout', '5'],
     '--timeout applies to --wait only'),
    (T, ['a', 'b', '--to', 'c', '--mode', 'copy', '--name', 'n'],
     '--name needs exactly one image'),
    (T, ['a', '--to', 'b', '--mode', 'move'],
     "argument --mode: invalid choice: 'move' (choose from 'share', "
     "'copy', 'owner')"),
    (T, ['a', '--to', 'b', '--exclude', 'service'],
     '--exclude needs --to-domain'),
    (T, ['a', '--to-domain', 'd', '--exclude', ' '],
     'argument --exclude: must not be empty'),
    # values out of range
    (T, ['a', '--to', 'b', '--parallel', '11'],
     "argument --parallel: takes a whole number from 1 to 10 (the "
     "connections a session keeps open per host), not '11'"),
    (image_replicate.ReplicateImage, ['a'],
     'name at least one target: --to-cloud <cloud> or --to <project>'),
    (image_replicate.ReplicateImage, ['--to', 'b'],
     'name the images, or select them with --tag or --property'),
    (image_replicate.ReplicateImage, ['a', '--to', 'b', '--keep', '0'],
     "argument --keep: takes a whole number, 1 or more (the replicas kept "
     "per series and target), not '0'"),
    (image_replicate.ReplicateImage, ['a', '--to', 'b', '--max-lag', '26h'],
     '--max-lag applies to --check only'),
    (image_replicate.ReplicateImage, ['a', '--to', 'b', '--check',
                                      '--max-lag', '26 hours'],
     "argument --max-lag: takes a duration such as 26h, 90m, 2d or 1d12h, "
     "not '26 hours'"),
    (image_replicate.ReplicateImage, ['a', '--to', 'b', '--check',
                                      '--dry-run'],
     '--check writes nothing already: --dry-run does not apply'),
    (image_replicate.ReplicateImage, ['a', '--to', 'b', '--series-by',
                                      'instance_uuid,'],
     "argument --series-by: takes property names separated by commas, not "
     "'instance_uuid,'"),
    (image_share.AcceptImageShare, ['a', '--project-domain', 'd'],
     '--project-domain needs --project'),
    (image_share.RejectImageShare, ['a', '--project', ''],
     'argument --project: must not be empty'),
    (image_share.RevokeImageShare, ['a', 'b', '--all'],
     'name the projects to remove, or give --all (not both)'),
    (image_share.RevokeImageShare, ['a'],
     'name the projects to remove, or give --all (not both)'),
    (image_share.ListImageShare, ['--parallel', '0'],
     "argument --parallel: takes a whole number from 1 to 10 (the "
     "connections a session keeps open per host), not '0'"),
    (image_share.ApplyImageSharePolicy, [],
     'the following arguments are required: <file>'),
    (image_share.ApplyImageSharePolicy, ['p.yaml', '--dry-run', '--check'],
     '--dry-run and --check exclude each other'),
    (image_share.SetImageShare, ['a'],
     'give the members: --member <project>, --member-file <file> or '
     '--member-domain <domain>'),
    (image_share.SetImageShare, ['--member', 'b'],
     'name the images, or select them with --tag or --property'),
    (image_share.SetImageShare, ['a', '--member', 'b', '--exclude', 'c'],
     '--exclude needs --member-domain'),
    (image_share.SetImageShare, ['a', '--member-domain', 'd',
                                 '--no-members', '--prune'],
     '--no-members goes with --prune, without --member, --member-file or '
     '--member-domain'),
    (image_share.SetImageShare, ['--tag', 't', '--member', 'b',
                                 '--property', 'protected=maybe'],
     "--property protected=maybe: Glance takes true or false for "
     "'protected'"),
    (image_share.SetImageShare, ['a', '--member', 'b',
                                 '--revoke-earlier-members',
                                 '--keep-earlier-members'],
     'argument --keep-earlier-members: not allowed with argument '
     '--revoke-earlier-members'),
    (image_share.WaitImageShare, ['a', '--timeout', '-5'],
     "argument --timeout: takes a number of seconds from 0 to 604800 (a "
     "week), not '-5'"),
    (share_status.ShowImageShareStatus, ['a', 'b'],
     'unrecognized arguments: b'),
    (share_audit.AuditImageShare, ['--all-projects', '--project', 'p'],
     'argument --project: not allowed with argument --all-projects'),
    (share_audit.AuditImageShare, ['--incoming', '--all-projects'],
     '--incoming and --all-projects exclude each other'),
    (share_audit.AuditImageShare, ['--dry-run'],
     '--protect and --dry-run need --fix'),
    (share_audit.AuditImageShare, ['--project-domain', 'd'],
     '--project-domain needs --project'),
    (share_audit.AuditImageShare, ['--pending-days', '-1'],
     "argument --pending-days: must be a number of days, 0 or more: '-1'"),
    (share_audit.AuditImageShare, ['--risk', 'ugly'],
     "argument --risk: invalid choice: 'ugly' (choose from "
     "'not-a-project', 'project-deleted', 'unverifiable', "
     "'project-disabled', 'domain-disabled', 'owner-gone', "
     "'owner-disabled', 'unprotected', 'stale-pending', 'interrupted', "
     "'unrecognised-label', 'volume-backed', 'companions-unreadable', "
     "'encrypted', 'unreadable')"),
]


class TestUsageErrors(unittest.TestCase):

    def test_each_is_exit_2_and_one_line(self):
        for cls, argv, message in CASES:
            self.assertEqual(
                (2, ['openstack test: error: ' + message]),
                parse(cls, *argv), (cls.__name__, argv))

    def test_every_command_has_cases(self):
        tested = {cls for cls, _argv, _message in CASES}
        self.assertEqual(set(commands().values()), tested)

    def test_an_unknown_option_is_one_line_for_every_command(self):
        valid = {'image_transfer': ['a', '--to', 'b'],
                 'image_share_revoke': ['a', '--all'],
                 'image_share_set': ['a', '--member', 'b'],
                 'image_share_list': [], 'image_share_audit': [],
                 'image_replicate': ['a', '--to-cloud', 'b']}
        for name, cls in commands().items():
            argv = valid.get(name, ['a'])
            self.assertEqual((0, []), parse(cls, *argv), name)
            self.assertEqual(
                (2, ['openstack test: error: unrecognized arguments: '
                     '--no-such-option']),
                parse(cls, *argv, '--no-such-option'), name)

    def test_an_unknown_column_is_one_line_for_every_command(self):
        # Checked by the parser: nothing is sent, whatever the command
        # would write (image transfer shared the image, then refused -c).
        valid = {'image_transfer': ['a', '--to', 'b'],
                 'image_share_revoke': ['a', '--all', '--unshare'],
                 'image_share_set': ['a', '--member', 'b'],
                 'image_share_list': [], 'image_share_audit': [],
                 'image_replicate': ['a', '--to-cloud', 'b']}
        for name, cls in commands().items():
            argv = valid.get(name, ['a'])
            code, lines = parse(cls, *argv, '-c', 'Bogus', '-c', 'bogus_2')
            self.assertEqual(2, code, name)
            self.assertEqual(1, len(lines), name)
            self.assertRegex(
                lines[0], r"^openstack test: error: -c 'Bogus', 'bogus_2': "
                r"no such column; the columns are '[^']+'(, '[^']+')*$",
                name)
        # A column by its name, or as cliff matches it (lower case, '_').
        self.assertEqual((0, []), parse(T, 'a', '--to', 'b', '-c',
                                        'Image ID', '-c', 'member_status'))
        # The columns of the options given: --mode copy has Method.
        self.assertEqual((0, []), parse(T, 'a', '--to', 'b', '--mode',
                                        'copy', '-c', 'Method'))
        self.assertEqual(2, parse(T, 'a', '--to', 'b', '-c', 'Method')[0])
        self.assertEqual((0, []), parse(share_audit.AuditImageShare, '--fix',
                                        '-c', 'Fixed'))
        self.assertEqual(2, parse(share_audit.AuditImageShare, '-c',
                                  'Fixed')[0])

    def test_a_bad_format_is_one_line_for_every_command(self):
        for name, cls in commands().items():
            code, lines = parse(cls, 'a', '-f', 'xml')
            self.assertEqual(2, code, name)
            self.assertEqual(1, len(lines), name)
            self.assertIn("argument -f/--format: invalid choice: 'xml'",
                          lines[0], name)

    def test_an_unknown_option_is_named_before_any_rule(self):
        # Each command line breaks a rule of its command too: the unknown
        # option, not the rule, is what the one line names.
        broken = {'image_transfer': ['web'],
                  'image_share_revoke': ['a'],
                  'image_share_set': ['a'],
                  'image_share_accept': ['a', '--project-domain', 'd'],
                  'image_share_reject': ['a', '--project-domain', 'd'],
                  'image_share_audit': ['--incoming', '--all-projects']}
        for name, cls in commands().items():
            argv = broken.get(name, ['a'] if name != 'image_share_list'
                              else [])
            if name in broken:
                self.assertEqual(2, parse(cls, *argv)[0], name)
            self.assertEqual(
                (2, ['openstack test: error: unrecognized arguments: '
                     '--bogus']),
                parse(cls, *argv, '--bogus'), name)

    def test_the_same_options_pass_where_they_belong(self):
        # Not refusing everything: each option is taken in its own mode.
        for argv in (['a', '--to', 'b', '--mode', 'copy', '--keep-id',
                      '--name', 'n', '--progress'],
                     ['a', '--to', 'b', '--no-accept', '--wait',
                      '--timeout', '0', '--protect'],
                     ['a', '--to', 'b', '--to', 'b', '--mode', 'owner'],
                     ['a', '--to-domain', 'd', '--mode', 'owner']):
            self.assertEqual((0, []), parse(T, *argv), argv)
        self.assertEqual((0, []), parse(
            image_share.AcceptImageShare, 'a', '--project', 'p',
            '--project-domain', 'd'))


class TestInterrupted(base.TestCommand):
    """A caught signal: exit code 1, its summary alone, no traceback."""

    def setUp(self):
        super().setUp()
        self.app.client_manager.image_share = mock.sentinel.glance

    def test_is_no_system_exit_below_the_cli(self):
        self.assertFalse(issubclass(signals.Interrupted, SystemExit))
        self.assertFalse(issubclass(signals.Interrupted, Exception))
        self.assertTrue(issubclass(signals.BatchStopped,
                                   signals.Interrupted))

    def test_every_command_turns_it_into_system_exit(self):
        for name, cls in commands().items():
            self.assertTrue(issubclass(cls, cli.Interruptible), name)

    @mock.patch.object(image_transfer.pipeline, 'transfer')
    def test_transfer_exits_with_the_summary(self, run):
        run.side_effect = signals.Interrupted(
            'Interrupted by SIGTERM: of 2 image/project pairs, 1 done')
        cmd = image_transfer.TransferImage(self.app, None)
        parsed = self.check_parser(cmd, ['a', '--to', 'b'], [])
        e = self.assertRaises(SystemExit, cmd.run, parsed)
        self.assertEqual(
            'Interrupted by SIGTERM: of 2 image/project pairs, 1 done',
            e.code)
        self.assertEqual('', self.app.stdout.make_string())

    @mock.patch.object(image_share.waiting, 'share_wait')
    def test_rows_it_carries_are_printed_first(self, run):
        run.side_effect = signals.Interrupted(
            'Interrupted by SIGTERM after 3 s waiting for image i: project '
            'beta (b) has not accepted it yet',
            rows=[('i', 'web\nx', 'b', 'beta', 'pending', 't1')])
        cmd = image_share.WaitImageShare(self.app, None)
        parsed = self.check_parser(cmd, ['a', '-f', 'value'], [])
        e = self.assertRaises(SystemExit, cmd.run, parsed)
        self.assertEqual(
            'Interrupted by SIGTERM after 3 s waiting for image i: project '
            'beta (b) has not accepted it yet', e.code)
        self.assertEqual('i web\\nx b beta pending t1\n',
                         self.app.stdout.make_string())

    @mock.patch.object(image_share.membership, 'list_shares')
    def test_a_signal_before_any_write_ends_the_command(self, run):
        def planning(*a, **k):
            base.signal_self(signal.SIGTERM)
            self.fail('the signal did not end the command')
        run.side_effect = planning
        self.addCleanup(glance_api.WROTE.clear)
        glance_api.WROTE.clear()
        cmd = image_share.ListImageShare(self.app, None)
        parsed = self.check_parser(cmd, [], [])
        e = self.assertRaises(SystemExit, cmd.run, parsed)
        self.assertEqual('Interrupted by SIGTERM before anything was changed',
                         e.code)

    @mock.patch.object(image_share.membership, 'list_shares')
    def test_a_signal_after_a_write_lets_the_command_end(self, run):
        def written(*a, **k):
            glance_api.WROTE.set()
            base.signal_self(signal.SIGHUP)
            return []
        run.side_effect = written
        self.addCleanup(glance_api.WROTE.clear)
        cmd = image_share.ListImageShare(self.app, None)
        parsed = self.check_parser(cmd, [], [])
        with mock.patch('sys.stderr') as err:
            self.assertEqual(0, cmd.run(parsed) or 0)
        self.assertEqual(
            'SIGHUP came too late to stop anything: the run had sent its '
            'writes, and ended as it would have\n',
            ''.join(c.args[0] for c in err.write.call_args_list))

    @mock.patch.object(image_share.membership, 'list_shares')
    def test_an_error_quoting_a_name_is_one_printable_line(self, run):
        run.side_effect = errors.ImageShareError(
            "No project named 'zz\x1b[31mX\nY'")
        cmd = image_share.ListImageShare(self.app, None)
        parsed = self.check_parser(cmd, [], [])
        e = self.assertRaises(exceptions.CommandError, cmd.run, parsed)
        self.assertEqual("No project named 'zz\\x1b[31mX\\nY'", str(e))

    @mock.patch.object(image_share.membership, 'list_shares')
    def test_a_signal_once_the_run_wrote_and_ended_is_late(self, run):
        run.return_value = []
        glance_api.WROTE.set()
        self.addCleanup(glance_api.WROTE.clear)
        cmd = image_share.ListImageShare(self.app, None)
        cmd.run(self.check_parser(cmd, [], []))
        with mock.patch('sys.stderr') as err:
            base.signal_self(signal.SIGTERM)
        self.assertIn('SIGTERM came too late to stop anything',
                      err.write.call_args_list[0].args[0])

    @mock.patch.object(image_share.membership, 'list_shares')
    def test_a_signal_as_python_shuts_down_is_not_fatal(self, run):
        # Python puts a Python handler back to the default as it shuts
        # down: a run that wrote ignores the signals by then instead.
        run.return_value = []
        glance_api.WROTE.set()
        self.addCleanup(glance_api.WROTE.clear)
        cmd = image_share.ListImageShare(self.app, None)
        with mock.patch.object(cli.atexit, 'register') as register:
            cmd.run(self.check_parser(cmd, [], []))
        register.assert_called_once_with(signals.install, signal.SIG_IGN)
        self.assertIs(cli._late, signal.getsignal(signal.SIGTERM))

    @mock.patch.object(image_share.membership, 'list_shares')
    def test_a_stopped_batch_exits_with_its_message(self, run):
        run.side_effect = signals.BatchStopped('SIGINT', [])
        cmd = image_share.ListImageShare(self.app, None)
        parsed = self.check_parser(cmd, [], [])
        e = self.assertRaises(SystemExit, cmd.run, parsed)
        self.assertEqual('Interrupted by SIGINT before anything was changed',
                         e.code)
