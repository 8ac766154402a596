"""The rows as text: another project's name never splits a row.

``cli.printable`` and ``cli.text_cell`` (``osc_imageshare/cli``), applied
by every command's ``produce_output``.
"""

import ast
import unittest

from osc_lib.cli import format_columns

from osc_imageshare import cli
from osc_imageshare.cli import image_share
from tests.unit import base
from tests.unit import fakes


class TestPrintable(unittest.TestCase):

    def test_as_repr_writes_it_without_the_quotes(self):
        for text, shown in (
                ('web', 'web'), ('ünïcode 日本', 'ünïcode 日本'),
                ('a\nb', 'a\\nb'), ('a\r\tb', 'a\\r\\tb'),
                ('red\x1b[31m', 'red\\x1b[31m'),
                ('\x00\x7f\x85', '\\x00\\x7f\\x85'),
                ('rtl\u202eexe', 'rtl\\u202eexe'), ('l\u2028s', 'l\\u2028s'),
                ("it's \"q\"", "it's \"q\""), ('C:\\n', 'C:\\\\n')):
            self.assertEqual(shown, cli.printable(text), repr(text))
            # Reversible: what repr would write, read back.
            self.assertEqual(text, ast.literal_eval(
                "'%s'" % shown.replace("'", "\\'")), repr(text))


class TestTextCell(unittest.TestCase):

    def test_per_format(self):
        name = 'a\nb $(x) `y`'
        self.assertEqual(name, cli.text_cell(name, 'json'))
        self.assertEqual(name, cli.text_cell(name, 'yaml'))
        for fmt in ('value', 'csv', 'table'):
            self.assertEqual('a\\nb $(x) `y`', cli.text_cell(name, fmt))
        # Within -f shell's double quotes nothing expands (cliff escapes
        # the quote itself).
        self.assertEqual('a\\\\nb \\$(x) \\`y\\`',
                         cli.text_cell(name, 'shell'))
        for value in (None, 3, True, 1.5):
            self.assertIs(value, cli.text_cell(value, 'value'))

    def test_a_list_column_is_its_text_but_in_a_table(self):
        column = format_columns.ListColumn(['a', 'b'])
        self.assertEqual('a, b', cli.text_cell(column, 'value'))
        self.assertIs(column, cli.text_cell(column, 'table'))
        self.assertIs(column, cli.text_cell(column, 'json'))


class TestEveryRow(base.TestCommand):

    def test_a_newline_in_a_name_keeps_one_line_per_row(self):
        cmd = image_share.ListImageShare(self.app, None)
        rows = [('i1', 'two\nlines', 'o', 'p', 'q', 'accepted', 't'),
                ('i2', 'web', 'o', 'p', None, 'pending', 't')]
        printed = {}
        for fmt in ('value', 'csv'):
            self.app.stdout = fakes.FakeStdout()
            parsed = self.check_parser(cmd, ['-f', fmt], [])
            cmd.formatter = cmd._formatter_plugins[fmt].obj
            cmd.produce_output(parsed, image_share.LIST_COLUMNS, rows)
            printed[fmt] = self.app.stdout.make_string().replace('\r\n',
                                                                 '\n')
        self.assertEqual('i1 two\\nlines o p q accepted t\n'
                         'i2 web o p None pending t\n', printed['value'])
        # One line per row (Python's csv may escape the backslash once
        # more, as cliff's escapechar).
        lines = printed['csv'].splitlines()
        self.assertEqual(3, len(lines), lines)
        self.assertRegex(lines[1], r'^"i1","two\\+nlines","o","p","q",'
                         r'"accepted","t"$')
