"""Every command's help renders, every option has help, claims are true."""

import argparse
import importlib.metadata

from tests.unit import base


# Arguments whose help says "(name or ID)": each is resolved by name, and
# the functional test named beside it passes a name and checks the result.
RESOLVED_BY_NAME = {
    ('image_share_status', 'image'):
        'test_status.py::test_consumer_finds_pending_image_by_name',
    ('image_transfer', 'images'):
        'test_transfer.py::test_transfer_to_cloud_shares_accepts_and_reruns',
    ('image_transfer', 'to'):
        'test_transfer.py::test_rescoped_acceptance_for_a_user_in_both',
    ('image_transfer', 'project_domain'):
        'test_transfer.py::test_project_domain_picks_the_right_beta',
    ('image_share_accept', 'image'):
        'test_transfer.py::test_no_accept_then_member_accepts_by_name',
    ('image_share_reject', 'image'):
        'test_transfer.py::test_no_accept_then_member_accepts_by_name',
    ('image_share_accept', 'project'):
        'test_transfer.py::test_admin_accepts_for_a_project_without_touching',
    ('image_share_accept', 'project_domain'):
        'test_transfer.py::test_admin_accepts_for_a_project_without_touching',
    ('image_share_reject', 'project'): 'same code as accept',
    ('image_share_reject', 'project_domain'): 'same code as accept',
    ('image_share_revoke', 'image'):
        'test_transfer.py::test_revoke_unshare_and_rerun',
    ('image_share_revoke', 'project_domain'): 'same code as --to',
    ('image_transfer', 'to_domain'):
        'test_automation.py::test_to_domain_targets_its_enabled_projects',
    ('image_share_set', 'images'):
        'test_share_set.py::test_set_adds_accepts_keeps_prunes_and_reruns',
    ('image_share_set', 'member_domains'):
        'test_share_set_many.py::test_a_tag_and_a_domain_less_one_project',
    ('image_share_set', 'members'):
        'test_share_set.py::test_set_adds_accepts_keeps_prunes_and_reruns',
    ('image_share_set', 'project_domain'): 'same code as --to',
    ('image_share_wait', 'image'):
        'test_wait.py::test_share_wait_satisfied_by_another_process',
    ('image_share_wait', 'projects'):
        'test_wait.py::test_share_wait_satisfied_by_another_process',
    ('image_share_wait', 'project_domain'): 'same code as --to',
    ('image_replicate', 'images'):
        'test_replicate.py::test_a_named_image_and_a_project_target',
    ('image_replicate', 'to'): 'same code as image transfer --to',
    ('image_replicate', 'project_domain'): 'same code as --to',
    ('image_share_audit', 'project'):
        'test_audit.py::test_admin_project_scope_by_name_both_sides',
    ('image_share_audit', 'project_domain'):
        'test_audit.py::test_admin_project_scope_by_name_both_sides',
}


def own_actions(name, cls):
    """The arguments our get_parser adds to the cliff base class's."""
    base_cls = next(c for c in cls.__mro__[1:]
                    if c.__module__.startswith(('osc_lib', 'cliff')))
    bare = type('Bare', (base_cls,), {'take_action': lambda s, a: None,
                                      '__module__': __name__})
    theirs = {a.dest for a in bare(None, None).get_parser(name)._actions}
    return [a for a in cls(None, None).get_parser(name)._actions
            if a.dest not in theirs]


def commands():
    for ep in importlib.metadata.entry_points(
            group='openstack.image_share.v2'):
        yield ep.name, ep.load()


class TestHelp(base.TestCase):

    def test_all_commands_are_registered(self):
        self.assertEqual(
            ['image_replicate',
             'image_share_accept', 'image_share_apply', 'image_share_audit',
             'image_share_list',
             'image_share_reject',
             'image_share_revoke', 'image_share_set', 'image_share_status',
             'image_share_wait', 'image_transfer'],
            sorted(name for name, _ in commands()))

    def test_help_renders_without_an_app_and_every_option_has_help(self):
        for name, cls in commands():
            parser = cls(None, None).get_parser(
                'openstack ' + name.replace('_', ' '))
            text = parser.format_help()
            self.assertIn('usage: openstack ' + name.replace('_', ' '), text)
            self.assertTrue(cls.__doc__.strip(), name)
            for action in own_actions(name, cls):
                self.assertTrue(
                    action.help and action.help != argparse.SUPPRESS,
                    '%s %s has no help' % (name, action.option_strings
                                           or action.dest))

    def test_help_is_plain_text(self):
        # The help is read in a terminal: no reStructuredText markup.
        for name, cls in commands():
            text = cls(None, None).get_parser(
                'openstack ' + name.replace('_', ' ')).format_help()
            self.assertNotIn('``', text, name)

    def test_an_option_that_needs_another_says_so(self):
        # image transfer --timeout without --wait is a usage error: its
        # help names --wait; image share wait's needs nothing.
        helps = {}
        for name, cls in commands():
            for action in cls(None, None).get_parser(name)._actions:
                if action.dest == 'timeout':
                    helps[name] = action.help
        self.assertTrue(helps['image_transfer'].startswith('With --wait: '))
        self.assertNotIn('--wait', helps['image_share_wait'])

    def test_parallel_speaks_of_arguments_only_where_there_are(self):
        # "the order of the arguments" needs positional arguments.
        for name, cls in commands():
            actions = cls(None, None).get_parser(name)._actions
            [parallel] = [a for a in actions if a.dest == 'parallel'] or [
                None]
            if parallel is None or 'order of the arguments' not in (
                    parallel.help):
                continue
            self.assertTrue([a for a in actions if not a.option_strings
                             and a.nargs != 0], name)

    def test_name_or_id_only_where_names_are_resolved(self):
        claimed = set()
        for name, cls in commands():
            parser = cls(None, None).get_parser(name)
            for action in parser._actions:
                if '(name or ID)' in (action.help or ''):
                    claimed.add((name, action.dest))
        self.assertEqual(set(RESOLVED_BY_NAME), claimed)

    def test_metavars_are_kebab_case(self):
        for name, cls in commands():
            for action in own_actions(name, cls):
                if isinstance(action.metavar, str):
                    # <key=value> as OSC's own --property
                    self.assertRegex(action.metavar,
                                     r'^<[a-z][a-z-]*(=[a-z][a-z-]*)?>$')


class TestReadme(base.TestCase):

    def test_the_readme_test_command_is_what_ci_runs(self):
        import os
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        with open(os.path.join(root, 'README.rst')) as f:
            readme = [line.strip() for line in f]
        # CI runs `bash .ci/run`: the README's test command is exactly it.
        [command] = [line for line in readme if line.endswith('.ci/run')]
        self.assertEqual('bash .ci/run', command)
