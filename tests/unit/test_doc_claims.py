"""What the docs say of the plugin's commands matches setup.cfg.

A page that counts the commands (``lists the nine commands``) or lists
``image share a|b|c`` says exactly the commands the entry points add.
"""

import configparser
import os
import re

import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
NUMBERS = {'one': 1, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6,
           'seven': 7, 'eight': 8, 'nine': 9, 'ten': 10, 'eleven': 11,
           'twelve': 12}
COUNTED = re.compile(r'lists\s+the\s+(\w+)\s+commands', re.I)
ALTERNATION = re.compile(r'image\s+share\s+([a-z]+(?:\|[a-z]+)+)')


def entry_point_commands():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, 'setup.cfg'))
    lines = cfg['entry_points']['openstack.image_share.v2'].split('\n')
    return {line.split('=')[0].strip().replace('_', ' ')
            for line in lines if '=' in line}


def pages():
    yield 'README.rst'
    for folder, _, names in os.walk(os.path.join(ROOT, 'doc', 'source')):
        for name in names:
            if name.endswith('.rst'):
                yield os.path.relpath(os.path.join(folder, name), ROOT)


def claims(text, commands):
    """The wrong claims of one page's text, as sentences."""
    wrong = []
    for m in COUNTED.finditer(text):
        n = NUMBERS.get(m.group(1).lower(), m.group(1))
        if str(n) != str(len(commands)):
            wrong.append('%r: the plugin has %d commands'
                         % (m.group(0), len(commands)))
    share = {c.split()[-1] for c in commands if c.startswith('image share ')}
    for m in ALTERNATION.finditer(text):
        listed = set(m.group(1).split('|'))
        if listed & share == listed and len(listed) >= 3 and listed != share:
            wrong.append('%r: missing %s' % (
                m.group(0), '|'.join(sorted(share - listed))))
    return wrong


class TestDocClaims(testtools.TestCase):

    def test_pages_count_and_list_the_commands_setup_cfg_adds(self):
        commands = entry_point_commands()
        self.assertIn('image share audit', commands)
        found = {}
        for page in pages():
            with open(os.path.join(ROOT, page)) as f:
                text = re.sub(r'``\s*\n\s*', '', f.read())
            wrong = claims(text, commands)
            if wrong:
                found[page] = wrong
        self.assertEqual({}, found)

    def test_a_wrong_count_and_a_missing_command_are_found(self):
        commands = {'image transfer', 'image share accept',
                    'image share audit', 'image share list',
                    'image share set'}
        self.assertEqual(
            ["'lists the eight commands': the plugin has 5 commands",
             "'image share accept|list|set': missing audit"],
            claims('lists the eight commands (image share accept|list|set)',
                   commands))
        self.assertEqual([], claims(
            'lists the five commands: image share accept|audit|list|set',
            commands))


ENV_LOAD = 'eval "$(python3 tools/local-cloud env)"'
# A command that loads the local cloud's environment, however spelt.
LOADS = re.compile(r'eval\s+"?\$\([^)\n]*local-cloud\s+env[^)\n]*\)"?')


def env_loads(text):
    """Each command of ``text`` loading the local cloud's environment."""
    return [m.group(0) for m in LOADS.finditer(text)]


class TestOneWayToLoadTheLocalCloud(testtools.TestCase):
    """README, the docs and the demo load the environment one way."""

    def test_every_page_and_the_demo_spell_it_alike(self):
        found = {}
        for page in list(pages()) + ['tools/demo']:
            with open(os.path.join(ROOT, page)) as f:
                for load in env_loads(f.read()):
                    found.setdefault(load, []).append(page)
        self.assertEqual([ENV_LOAD], list(found), found)
        self.assertIn('tools/demo', found[ENV_LOAD])

    def test_another_spelling_is_found(self):
        self.assertEqual(['eval $(tools/local-cloud env)'],
                         env_loads('  eval $(tools/local-cloud env)\n'))
        self.assertEqual([ENV_LOAD], env_loads(
            "echo '  %s' >&2\n" % ENV_LOAD))
