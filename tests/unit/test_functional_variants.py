"""Every functional test module says which CI variants run it.

``functional`` runs every test but those marked ``concurrency`` (current
servers, secure RBAC, SQLite); each variant env runs the tests marked for
it (setup.cfg's markers, tox.ini's ``-m``): ``concurrency`` runs on
MariaDB only.  A module without a decision would silently run in one
env only, or in envs where it proves nothing: this fails instead.
"""

import ast
import configparser
import os
import re

import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FUNCTIONAL = os.path.join(ROOT, 'tests', 'functional')
VARIANTS = {'policy': 'functional-legacy',
            'server': 'functional-server2024.1',
            'concurrency': 'functional-mariadb'}
DECISIONS = set(VARIANTS) | {'plugin'}


def module_marks(source):
    """The ``pytest.mark.X`` names of a module's ``pytestmark``, or None."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == 'pytestmark' for t in node.targets):
            value = node.value
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) \
                else [value]
            marks = set()
            for item in items:
                if isinstance(item, ast.Call):
                    item = item.func
                if (isinstance(item, ast.Attribute) and isinstance(
                        item.value, ast.Attribute)
                        and item.value.attr == 'mark'):
                    marks.add(item.attr)
            return marks
    return None


def undecided(sources):
    """``{module: why}`` for the modules whose decision is missing or bad."""
    bad = {}
    for name, source in sources.items():
        marks = module_marks(source)
        if marks is None:
            bad[name] = 'no module-level pytestmark'
        elif not marks & DECISIONS:
            bad[name] = 'pytestmark names none of %s' % sorted(DECISIONS)
        elif 'plugin' in marks and marks & set(VARIANTS):
            bad[name] = "'plugin' (runs once) with a variant marker"
    return bad


def functional_sources():
    sources = {}
    for name in sorted(os.listdir(FUNCTIONAL)):
        if name.startswith('test_') and name.endswith('.py'):
            with open(os.path.join(FUNCTIONAL, name)) as f:
                sources[name] = f.read()
    return sources


class TestFunctionalVariants(testtools.TestCase):

    def test_every_functional_module_carries_a_decision(self):
        sources = functional_sources()
        self.assertGreater(len(sources), 20)
        self.assertEqual({}, undecided(sources))

    def test_a_module_without_a_decision_is_named(self):
        self.assertEqual(
            {'test_a.py': 'no module-level pytestmark',
             'test_b.py': "pytestmark names none of ['concurrency', "
                          "'plugin', 'policy', 'server']",
             'test_c.py': "'plugin' (runs once) with a variant marker"},
            undecided({
                'test_a.py': 'import pytest\n\ndef test_x():\n    pass\n',
                'test_b.py': 'import pytest\npytestmark = pytest.mark.slow\n',
                'test_c.py': 'import pytest\npytestmark = [pytest.mark.'
                             'plugin, pytest.mark.server]\n',
                'test_d.py': 'import pytest\npytestmark = [pytest.mark.'
                             'policy, pytest.mark.server]\n'}))

    def test_the_markers_are_registered(self):
        cfg = configparser.ConfigParser()
        cfg.read(os.path.join(ROOT, 'setup.cfg'))
        registered = {line.split(':')[0].strip() for line in
                      cfg['tool:pytest']['markers'].strip().splitlines()}
        self.assertEqual(DECISIONS, registered)

    def test_each_variant_env_selects_its_marker(self):
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(os.path.join(ROOT, 'tox.ini'))
        for marker, env in VARIANTS.items():
            commands = cfg['testenv:' + env]['commands']
            self.assertRegex(commands, r'-m %s\b' % re.escape(marker), env)
            self.assertIn('tests/functional', commands, env)

    def test_functional_runs_all_but_concurrency(self):
        # Every test runs somewhere: functional takes what mariadb does not.
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(os.path.join(ROOT, 'tox.ini'))
        commands = cfg['testenv:functional']['commands']
        self.assertIn('tests/functional -m "not concurrency"', commands)

    def test_a_module_that_kills_a_service_is_marked_concurrency(self):
        # functional's cloud is shared with the package check and the
        # client matrix (.ci/run): a test that kills or restarts one of
        # its services must run on a cloud of its own (functional-mariadb).
        killers = {name for name, source in functional_sources().items()
                   if re.search(r"killpg|_pid'\]", source)}
        self.assertGreaterEqual(len(killers), 3)
        self.assertEqual(set(), {name for name in killers if 'concurrency'
                                 not in module_marks(
                                     functional_sources()[name])})
