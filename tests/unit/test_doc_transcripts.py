"""The documentation's transcripts: the user guide's recorded in the order
the guide shows them, showing no image but those the scenario made; what
``tools/doc-transcripts --check`` ignores (``normalize``) and reports."""

import ast
import os
import re
import runpy

import fixtures

from tests.unit import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GUIDE = os.path.join(ROOT, 'doc', 'source', 'user-guide.rst')
TOOL = os.path.join(ROOT, 'tools', 'doc-transcripts')
TOOLS = runpy.run_path(TOOL, run_name='doc_transcripts')
normalize, differences = TOOLS['normalize'], TOOLS['differences']
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


PID = 'c5dba975aa364fa1843a62004ad51183'
PID2 = 'e0b5354c4f8c4026aa5f4df2952c2a37'
ID = '9d53a93e-feee-4275-b60c-74f6f8ca2c73'
ID2 = '3d978f1f-a13d-4c54-969b-804093ff28f0'


class TestNormalize(base.TestCase):
    """Each kind of placeholder; what still counts."""

    def assertSame(self, one, other):
        self.assertEqual(normalize(one), normalize(other))

    def assertDiffer(self, one, other):
        self.assertNotEqual(normalize(one), normalize(other))

    def test_ids_numbered_in_order_of_appearance(self):
        self.assertEqual(
            'Image <uuid-1> of <hex-1>: see <uuid-1>; <uuid-2> of <hex-2>\n',
            normalize('Image %s of %s: see %s; %s of %s' % (
                ID, PID, ID, ID2, PID2)))
        # The same ID where another stood is a difference.
        self.assertDiffer('%s then %s' % (ID, ID2), '%s then %s' % (ID, ID))

    def test_hashes(self):
        self.assertEqual(
            'Hash: sha512:<hash-1>\nHash: sha256:<hash-2>\n',
            normalize('Hash: sha512:%s\nHash: sha256:%s' % (
                'ab' * 64, '0f' * 32)))

    def test_times(self):
        self.assertEqual(
            'since <time>; started <time>; at <time>\n',
            normalize('since 2026-12-01T21:54:50Z; started '
                      '2026-11-27T12:44:33.101294Z; at '
                      '2026-11-27 12:44:33+00:00'))

    def test_ports(self):
        self.assertEqual(
            'the target Glance at http://127.0.0.1:<port>/v2 '
            '(localhost:<port>)\n',
            normalize('the target Glance at http://127.0.0.1:38817/v2 '
                      '(localhost:5000)'))

    def test_the_copier(self):
        self.assertEqual(
            '(queued, started <time> by <host:pid:start>): deleted\n',
            normalize('(queued, started 2026-11-27T12:44:33Z by '
                      'vm-3.example:10293:278222): deleted'))

    def test_durations_and_rates(self):
        self.assertEqual(
            '  MiB/s: <n>\n  MiB/s: null\n  Seconds: <n>\n'
            '    "Seconds": <n>,\n',
            normalize('  MiB/s: 38.4\n  MiB/s: null\n  Seconds: 5\n'
                      '    "Seconds": 0.26,'))
        table = ('+---------+---------+\n| Seconds | Changes |\n'
                 '+---------+---------+\n|    %s | copied  |\n'
                 '+---------+---------+')
        self.assertSame(table % '3.56', table.replace('---+\n|', '-+\n|')
                        .replace('| copied  |', '| copied |') % '12.9')
        self.assertDiffer(table % '3.56', (table % '3.56').replace(
            'copied ', 'failed '))

    def test_paths(self):
        self.assertEqual(
            '--file <work>/web.raw, <cloud>/clouds.yaml\n',
            normalize(
                '--file /tmp/t-1/web.raw, /tmp/t-1/cloud/clouds.yaml',
                {'/tmp/t-1': '<work>', '/tmp/t-1/cloud': '<cloud>'}))

    def test_tables_widths_do_not_matter_content_does(self):
        narrow = ('+----+------+\n| ID | Size |\n+----+------+\n'
                  '| %s | 7 |\n+----+------+' % ID)
        wide = ('+-------+---------+\n| ID    |    Size |\n'
                '+-------+---------+\n| %s  |       7 |\n'
                '+-------+---------+' % ID2)
        self.assertSame(narrow, wide)
        self.assertDiffer(narrow, wide.replace(' 7 |', ' 8 |'))
        self.assertDiffer(narrow, wide.replace('| ID ', '| Id '))
        # Words in a line that is not a table keep their spacing.
        self.assertDiffer('a  b', 'a b')

    def test_table_rows_in_any_order(self):
        # Rows sorted by IDs that differ from run to run (image share audit).
        table = ('+---+---+\n| Member | Risk |\n+---+---+\n%s\n+---+---+\n'
                 'Member %s is gone')
        one = table % ('| %s | deleted |\n| %s | disabled |' % (PID, PID2),
                       PID)
        other = table % ('| %s | disabled |\n| %s | deleted |' % (PID2, PID),
                         PID)
        self.assertSame(one, other)
        # Yet each row keeps its cells: the deleted project is the one named.
        self.assertDiffer(one, table % ('| %s | disabled |\n| %s | deleted |'
                                        % (PID, PID2), PID))


class TestDifferences(base.TestCase):

    def test_each_difference_named_with_its_line(self):
        doc = {'same': 'a\n%s\n' % ID, 'changed': '$ x\nold words\nend\n',
               'unrecorded': 'x\n'}
        run = {'same': 'a\n%s\n' % ID2, 'changed': '$ x\nnew words\nend\n',
               'new': 'y\n'}
        self.assertEqual([
            ('changed', 'line 2 differs:\n  doc: old words\n'
             '  run: new words'),
            ('new', 'recorded but not in doc/source/transcripts (run '
             'tools/doc-transcripts and commit it)'),
            ('unrecorded', 'no recorder wrote it')],
            differences(doc, run))

    def test_a_line_more(self):
        self.assertEqual([('t', 'line 2 differs (1 lines, now 2):\n'
                           '  doc: <no line>\n  run: extra')],
                         differences({'t': 'a\n'}, {'t': 'a\nextra\n'}))


class TestTranscriptFiles(base.TestCase):

    def test_no_path_of_the_recording_machine(self):
        for name in os.listdir(TRANSCRIPTS):
            with open(os.path.join(TRANSCRIPTS, name)) as f:
                text = f.read()
            self.assertIsNone(re.search(
                r'(/work/|/home/|/tmp/|/root/|\.local-cloud|\.tox/)', text),
                name)

    def test_every_transcript_is_shown_by_a_page(self):
        shown = set()
        source = os.path.dirname(TRANSCRIPTS)
        for page in os.listdir(source):
            if page.endswith('.rst'):
                with open(os.path.join(source, page)) as f:
                    shown.update(re.findall(
                        r'literalinclude:: transcripts/(\S+\.txt)', f.read()))
        self.assertEqual(sorted(shown), sorted(os.listdir(TRANSCRIPTS)))
