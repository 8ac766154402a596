"""The user guide's transcripts: recorded in the order the guide shows
them, and showing no image but those the scenario made."""

import ast
import os
import re

import fixtures

from tests.unit import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GUIDE = os.path.join(ROOT, 'doc', 'source', 'user-guide.rst')
TOOL = os.path.join(ROOT, 'tools', 'doc-transcripts')
TRANSCRIPTS = os.path.join(ROOT, 'doc', 'source', 'transcripts')
IMAGE_ID = re.compile(
    r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b')


def guide_order():
    with open(GUIDE) as f:
        return re.findall(r'^\.\. literalinclude:: transcripts/(\S+)\.txt$',
                          f.read(), re.M)


def recording_order():
    """The transcripts tools/doc-transcripts records, in its order.

    Its ``record('name', ...)`` calls in ``scenario``, as they run.
    """
    with open(TOOL) as f:
        tree = ast.parse(f.read())
    [scenario] = [n for n in tree.body if isinstance(n, ast.FunctionDef)
                  and n.name == 'scenario']
    calls = [n for n in ast.walk(scenario) if isinstance(n, ast.Call)
             and getattr(n.func, 'id', None) == 'record']
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    return [c.args[0].value for c in calls]


def commands(name, where=TRANSCRIPTS):
    """``[(command line, output lines)]`` of a transcript."""
    with open(os.path.join(where, name + '.txt')) as f:
        blocks = []
        for line in f.read().splitlines():
            if line.startswith('$ '):
                blocks.append((line, []))
            else:
                blocks[-1][1].append(line)
    return blocks


def table_column(lines, column):
    """The cells of ``column`` in the tables of ``lines``."""
    cells, header = [], None
    for line in lines:
        if not line.startswith('|'):
            if line.startswith('+'):
                continue
            header = None
            continue
        row = [c.strip() for c in line.strip('|').split('|')]
        if header is None:
            header = row
        elif column in header:
            cells.append(row[header.index(column)])
    return cells


def made_images(order, where=TRANSCRIPTS):
    """The IDs and names of the images the scenario's commands made.

    Those that ``image create`` and ``image transfer --mode copy`` printed.
    """
    ids, names = set(), set()
    for name in order:
        for command, output in commands(name, where):
            if ' image create ' in command or '--mode copy' in command:
                text = '\n'.join(output)
                ids.update(IMAGE_ID.findall(text))
                names.update(re.findall(
                    r'^\s*"?(?:name|Image Name)"?: "?([^",\s]+)', text,
                    re.M))
                names.update(table_column(output, 'Image Name'))
    return ids, names


class TestUserGuideTranscripts(base.TestCase):

    def test_recorded_in_the_order_the_guide_shows_them(self):
        self.assertEqual(guide_order(), recording_order())

    def test_every_transcript_of_the_guide_is_recorded(self):
        self.assertEqual(sorted(guide_order()), sorted(
            f[:-4] for f in os.listdir(TRANSCRIPTS)
            if f[:-4] in recording_order()))
        for name in guide_order():
            self.assertTrue(commands(name), name)

    def test_no_image_the_scenario_did_not_make(self):
        ids, names = made_images(recording_order())
        self.assertTrue(ids and names)
        self.assertEqual([], foreign_images(recording_order()))

    def test_a_leftover_image_fails_the_check(self):
        # As the 2026-11-27 recording did: its list showed test images.
        where = self.useFixture(fixtures.TempDir()).path
        made = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'
        left = '0a00c150-aff0-4b60-8352-833cc775df6e'
        with open(os.path.join(where, 'create.txt'), 'w') as f:
            f.write('$ openstack image create web-1 -f json\n'
                    '{\n  "id": "%s",\n  "name": "web-1"\n}\n' % made)
        with open(os.path.join(where, 'list.txt'), 'w') as f:
            f.write('$ openstack image share list\n'
                    '+---+---+\n| Image ID | Image Name |\n+---+---+\n'
                    '| %s | web-1 |\n| %s | img-dd146d4d |\n+---+---+\n'
                    '$ openstack image share list --incoming -c "Image '
                    'Name"\n+---+\n| Image Name |\n+---+\n| web-1 |\n'
                    '| img-2 |\n+---+\n' % (made, left))
        self.assertEqual([
            ('list', '$ openstack image share list', [left, 'img-dd146d4d']),
            ('list', '$ openstack image share list --incoming -c "Image '
             'Name"', ['img-2'])],
            foreign_images(['create', 'list'], where))


def foreign_images(order, where=TRANSCRIPTS):
    """Each command that shows an image the scenario did not make.

    ``[(transcript, command, [image IDs and names])]``.
    """
    ids, names = made_images(order, where)
    found = []
    for name in order:
        for command, output in commands(name, where):
            shown = sorted(set(IMAGE_ID.findall(
                command + '\n'.join(output))) - ids) + sorted(
                set(table_column(output, 'Image Name')) - names)
            if shown:
                found.append((name, command, shown))
    return found
