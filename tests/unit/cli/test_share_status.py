"""The ``image share status`` command: parse, call, render."""

from unittest import mock

from osc_imageshare.cli import share_status as status_cmd
from osc_imageshare.ops import share_status
from tests.unit import base
from tests.unit import fakes

GAMMA = 'c3' * 16


class TestShowImageShareStatus(base.TestCommand):

    def setUp(self):
        super().setUp()
        self.cmd = status_cmd.ShowImageShareStatus(self.app, None)
        self.app.client_manager.image_share = mock.sentinel.glance
        self.app.client_manager.interface = 'public'
        self.app.client_manager.region_name = 'RegionOne'

    def test_parser_requires_an_image(self):
        self.assertRaises(base.ParserException, self.check_parser,
                          self.cmd, [], [])
        self.check_parser(self.cmd, ['web'], [('image', 'web')])

    @mock.patch.object(share_status, 'read')
    def test_take_action_renders_and_warns(self, share_status):
        data = {f: None for f in status_cmd.FIELDS}
        data.update(id=fakes.IMAGE_ID, kind=['disk'], members=[
            {'project_id': fakes.BETA, 'project_name': 'beta',
             'status': 'accepted', 'created_at': 't0', 'updated_at': 't1'}])
        share_status.return_value = (data, ['first risk', 'second risk'])
        parsed = self.check_parser(self.cmd, ['web'], [])
        with self.assertLogs(status_cmd.LOG, 'WARNING') as logs:
            columns, values = self.cmd.take_action(parsed)
        self.assertEqual(status_cmd.FIELDS, columns)
        self.assertEqual(['WARNING:%s:first risk' % status_cmd.LOG.name,
                          'WARNING:%s:second risk' % status_cmd.LOG.name],
                         logs.output)
        (glance, ident, ref), _ = share_status.call_args
        self.assertIs(mock.sentinel.glance, glance)
        self.assertEqual('web', ref)
        self.assertIs(self.app.client_manager.auth_ref, ident.auth_ref)
        members = values[status_cmd.FIELDS.index('members')]
        self.assertEqual('%s (beta) accepted since t1' % fakes.BETA,
                         members.human_readable())
        self.assertEqual(data['members'], members.machine_readable())

    @mock.patch.object(share_status, 'read')
    def test_text_formats_get_plain_text(self, share_status):
        data = {f: None for f in status_cmd.FIELDS}
        data.update(name='web\nx', kind=['volume-backed', 'encrypted'],
                    members=[{'project_id': fakes.BETA, 'project_name': None,
                              'status': 'pending', 'created_at': 't0',
                              'updated_at': 't1'},
                             {'project_id': GAMMA,
                              'project_name': 'g\x1b[2Jh',
                              'status': 'accepted', 'created_at': 't0',
                              'updated_at': 't2'}],
                    risks=[{'code': 'pending', 'sentence': 'Not yet.'},
                           {'code': 'encrypted', 'sentence': 'A key.'}])
        share_status.return_value = (data, [])
        members = ('%s pending since t1\n%s (g\\x1b[2Jh) accepted since t2'
                   % (fakes.BETA, GAMMA))
        # One spelling of each kind in every format: its keyword.
        kind = 'volume-backed\nencrypted'
        risks = 'pending\nencrypted'
        # (A ShowOne has no csv formatter; Listers have no list columns.)
        for fmt, expected in (
                ('value', 'web\\nx\n%s\n%s\n%s\n' % (members, kind, risks)),
                ('shell', 'name="web\\\\nx"\nmembers="%s"\nkind="%s"\n'
                 'risks="%s"\n' % (members.replace('\\', '\\\\'), kind,
                                   risks))):
            self.app.stdout = fakes.FakeStdout()
            parsed = self.check_parser(
                self.cmd, ['web', '-f', fmt, '-c', 'name', '-c', 'members',
                           '-c', 'kind', '-c', 'risks'], [])
            self.assertEqual(0, self.cmd.run(parsed))
            self.assertEqual(expected, self.app.stdout.make_string(), fmt)
        for fmt in ('json', 'yaml'):
            parsed = self.check_parser(self.cmd, ['web', '-f', fmt], [])
            _columns, values = self.cmd.take_action(parsed)
            values = self.cmd.cells(parsed, values)
            self.assertEqual(data['members'], values[
                status_cmd.FIELDS.index('members')].machine_readable())
            self.assertEqual(['volume-backed', 'encrypted'], values[
                status_cmd.FIELDS.index('kind')].machine_readable())
            self.assertEqual(data['risks'], values[
                status_cmd.FIELDS.index('risks')].machine_readable())
            self.assertEqual('web\nx', values[
                status_cmd.FIELDS.index('name')])
        parsed = self.check_parser(self.cmd, ['web', '-f', 'table'], [])
        values = self.cmd.cells(parsed, self.cmd.take_action(parsed)[1])
        self.assertEqual(members, values[
            status_cmd.FIELDS.index('members')].human_readable())
        self.assertEqual(kind, values[
            status_cmd.FIELDS.index('kind')].human_readable())
        self.assertEqual(risks, values[
            status_cmd.FIELDS.index('risks')].human_readable())
        self.assertEqual('web\\nx', values[status_cmd.FIELDS.index('name')])
