"""Unit tests of ops.roles: a dry run's word on refused roles."""

import unittest
from unittest import mock

from osc_imageshare.ops import roles


class TestRoles(unittest.TestCase):

    def test_only_roles_without_member_or_admin_are_refused(self):
        self.assertEqual(('alpha', ['reader']),
                         roles.refused('alpha', ['reader']))
        for kept in (['reader', 'member'], ['admin'], None):
            self.assertIsNone(roles.refused('alpha', kept))

    def test_the_token_of_a_client_or_of_the_command(self):
        client = mock.Mock()
        client.auth.get_access.return_value = mock.Mock(
            project_name='beta', role_names=['reader'])
        self.assertEqual(('beta', ['reader']), roles.of_client(client))
        ident = mock.Mock(project_name='alpha')
        ident.auth_ref.role_names = ['member', 'reader']
        self.assertIsNone(roles.of_ident(ident))

    def test_one_line_per_credentials_and_write(self):
        reader = ('beta', ['reader'])
        lines = roles.warnings([
            (reader, 'The copy into beta', roles.CREATE),
            (reader, 'The copy into beta', roles.CREATE),
            (None, 'The copy into gamma', roles.CREATE),
            (reader, 'The copy into beta', roles.DELETE)])
        self.assertEqual(2, len(lines))
        self.assertEqual(
            "The copy into beta would act as project beta with the role "
            "reader: Glance's default policies refuse it to create images "
            "(its add_image policy), so unless this cloud's policy allows "
            "it, that would fail; ask for the member role there, or use "
            "credentials that have it", lines[0])
        self.assertIn('delete images (its delete_image policy)', lines[1])
