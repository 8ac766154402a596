"""The ``image share status`` command: parse, call, render."""

from unittest import mock

from osc_imageshare.cli import share_status as status_cmd
from osc_imageshare.ops import access
from tests.unit import base
from tests.unit import fakes


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

    @mock.patch.object(access, 'share_status')
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

    @mock.patch.object(access, 'share_status')
    def test_text_formats_get_plain_text(self, share_status):
        data = {f: None for f in status_cmd.FIELDS}
        data.update(kind=['volume-backed', 'encrypted'], members=[
            {'project_id': fakes.BETA, 'project_name': None,
             'status': 'pending', 'created_at': 't0', 'updated_at': 't1'}])
        share_status.return_value = (data, [])
        # (A ShowOne has no csv formatter; Listers have no list columns.)
        for fmt, text in (('value', True), ('shell', True),
                          ('json', False), ('yaml', False),
                          ('table', False)):
            parsed = self.check_parser(self.cmd, ['web', '-f', fmt], [])
            _columns, values = self.cmd.take_action(parsed)
            members = values[status_cmd.FIELDS.index('members')]
            kind = values[status_cmd.FIELDS.index('kind')]
            if text:
                self.assertEqual('%s pending since t1' % fakes.BETA, members)
                self.assertEqual('snapshot of a volume-backed server, image '
                                 'of an encrypted volume', kind)
            else:
                self.assertEqual(data['members'],
                                 members.machine_readable())
                self.assertEqual(['volume-backed', 'encrypted'],
                                 kind.machine_readable())
                self.assertEqual('snapshot of a volume-backed server, image '
                                 'of an encrypted volume',
                                 kind.human_readable())
