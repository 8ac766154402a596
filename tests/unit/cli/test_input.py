"""Input that must never be misread: usage errors, exit code 2, one line."""

import argparse
import contextlib
import io
import math
import unittest
from unittest import mock

from osc_imageshare import cli
from osc_imageshare.cli import image_share as membership_cmd
from osc_imageshare.cli import image_transfer as transfer_cmd
from osc_imageshare.cli import share_status as status_cmd


def usage_error(cls, *argv):
    """``(exit code, stderr)`` of parsing ``argv`` for command ``cls``."""
    parser = cls(mock.Mock(), None).get_parser('openstack test')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            parser.parse_args(list(argv))
        except SystemExit as e:
            return e.code, err.getvalue()
    return 0, err.getvalue()


class TestValidators(unittest.TestCase):

    def test_nonblank(self):
        self.assertEqual('beta', cli.nonblank('beta'))
        for bad in ('', '  ', '\t'):
            self.assertRaises(argparse.ArgumentTypeError,
                              cli.nonblank, bad)

    def test_seconds(self):
        self.assertEqual(0.0, cli.seconds('0'))
        self.assertEqual(2.5, cli.seconds('2.5'))
        self.assertEqual(604800.0, cli.seconds('604800'))
        for bad in ('-1', 'nan', 'inf', '-inf', 'ten', '', '1e308',
                    '604801'):
            self.assertRaises(argparse.ArgumentTypeError,
                              cli.seconds, bad)

    def test_workers(self):
        self.assertEqual(1, cli.workers('1'))
        self.assertEqual(10, cli.workers('10'))
        for bad in ('0', '11', '-3', '2.5', 'nan', 'many'):
            self.assertRaises(argparse.ArgumentTypeError,
                              cli.workers, bad)

    def test_key_value(self):
        self.assertEqual('os_distro=ubuntu', cli.key_value(
            'os_distro=ubuntu'))
        self.assertEqual('k=', cli.key_value('k='))
        for bad in ('novalue', '=v', ' =v', ''):
            self.assertRaises(argparse.ArgumentTypeError,
                              cli.key_value, bad)

    def test_timeout_of_keeps_zero(self):
        self.assertEqual(0, cli.timeout_of(mock.Mock(timeout=0.0)))
        self.assertEqual(600, cli.timeout_of(mock.Mock(timeout=None)))


class TestUsageErrors(unittest.TestCase):
    """Each is exit code 2 and one line on stderr."""

    CASES = [
        (transfer_cmd.TransferImage, ['web'],
         'name at least one target project: --to <project>, --to-cloud '
         '<cloud> or --to-domain <domain>'),
        (transfer_cmd.TransferImage, ['web', '--to', ''],
         'argument --to: must not be empty'),
        (transfer_cmd.TransferImage, ['web', '--to-cloud', ' '],
         'argument --to-cloud: must not be empty'),
        (transfer_cmd.TransferImage, ['web', '--to', 'b',
                                      '--project-domain', ''],
         'argument --project-domain: must not be empty'),
        (transfer_cmd.TransferImage, ['web', '--to-domain', ''],
         'argument --to-domain: must not be empty'),
        (transfer_cmd.TransferImage, ['', '--to', 'beta'],
         'argument <image>: must not be empty'),
        (transfer_cmd.TransferImage, ['--property', 'novalue', '--to', 'b'],
         "argument --property: takes <key>=<value>, not 'novalue'"),
        (transfer_cmd.TransferImage, ['--property', 'name=b1', '--property',
                                      'name=b2', '--to', 'b'],
         "--property name is given twice ('name=b1', 'name=b2'): an image "
         "has one value per key"),
        (transfer_cmd.TransferImage, ['--property', 'protected=yes',
                                      '--to', 'b'],
         "--property protected=yes: Glance takes true or false for "
         "'protected'"),
        (transfer_cmd.TransferImage, ['--property', 'visibility=all',
                                      '--to', 'b'],
         "--property visibility=all: Glance takes community, private, "
         "public or shared for 'visibility'"),
        (transfer_cmd.TransferImage, ['--property', 'tag=ci', '--to', 'b'],
         "--property tag=ci: Glance does not read 'tag' as a property of "
         "the image (use --tag)"),
        (transfer_cmd.TransferImage, ['--tag', '', '--to', 'b'],
         'argument --tag: must not be empty'),
        (transfer_cmd.TransferImage, ['web', '--to', 'b', '--no-accept',
                                      '--wait', '--timeout', 'nan'],
         "argument --timeout: takes a number of seconds from 0 to 604800 (a "
         "week), not "
         "'nan'"),
        (transfer_cmd.TransferImage, ['web', '--to', 'b', '--parallel',
                                      '0'],
         "argument --parallel: takes a whole number from 1 to 10 (the "
         "connections a session keeps open per host), not '0'"),
        (membership_cmd.SetImageShare, ['web', '--member', ''],
         'argument --member: must not be empty'),
        (membership_cmd.WaitImageShare, ['web', '--timeout', '-1'],
         "argument --timeout: takes a number of seconds from 0 to 604800 (a "
         "week), not "
         "'-1'"),
        (membership_cmd.WaitImageShare, ['web', '--timeout', 'inf'],
         "argument --timeout: takes a number of seconds from 0 to 604800 (a "
         "week), not "
         "'inf'"),
        (membership_cmd.ListImageShare, ['--parallel', '11'],
         "argument --parallel: takes a whole number from 1 to 10 (the "
         "connections a session keeps open per host), not '11'"),
        (membership_cmd.SetImageShare, ['web', '--no-members'],
         '--no-members goes with --prune, without --member, '
         '--member-file or --member-domain'),
        (membership_cmd.SetImageShare, ['web', '--prune', '--no-members',
                                        '--member', 'beta'],
         '--no-members goes with --prune, without --member, '
         '--member-file or --member-domain'),
        (status_cmd.ShowImageShareStatus, [],
         'the following arguments are required: <image>'),
    ]

    def test_each_is_exit_2_and_one_line(self):
        for cls, argv, message in self.CASES:
            code, err = usage_error(cls, *argv)
            self.assertEqual(
                (2, 'openstack test: error: %s\n' % message), (code, err),
                argv)

    def test_zero_timeout_is_zero(self):
        parser = membership_cmd.WaitImageShare(
            mock.Mock(), None).get_parser('openstack test')
        parsed = parser.parse_args(['web', '--timeout', '0'])
        self.assertEqual(0, cli.timeout_of(parsed))
        self.assertFalse(math.isnan(parsed.timeout))
