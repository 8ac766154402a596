"""The built documentation (``tox -e docs`` runs these after Sphinx).

Options are shown exactly as the parser spells them: Sphinx's smart
quotes would turn ``--mode`` into ``–mode`` (an en dash) in the HTML,
which fails when copied into a shell.  The man page has no empty
cross-reference.
"""

import glob
import html
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, 'doc', 'build')
# An option name whose dashes were rewritten: an en or em dash (or two)
# right before a lower-case word, as in "–mode" or "—to-cloud".
DASHED_OPTION = re.compile('(?<![\\w\u2013\u2014])[\u2013\u2014]{1,2}'
                           '([a-z][a-z0-9]*(?:-[a-z0-9]+)*)')


def html_pages():
    pages = sorted(glob.glob(os.path.join(BUILD, 'html', '**', '*.html'),
                             recursive=True))
    assert pages, 'no HTML built under %s: run tox -e docs' % BUILD
    return pages


def dashed_options(text):
    """Option names written with an en or em dash in a page's text."""
    text = html.unescape(re.sub(r'<[^>]+>', ' ', text))
    return sorted(set(m.group(0) for m in DASHED_OPTION.finditer(text)))


def test_no_option_is_shown_with_an_en_or_em_dash():
    found = {}
    for page in html_pages():
        with open(page, encoding='utf-8') as f:
            bad = dashed_options(f.read())
        if bad:
            found[os.path.relpath(page, BUILD)] = bad
    assert found == {}


def test_the_reference_shows_the_options_as_the_parser_does():
    [page] = [p for p in html_pages() if p.endswith('reference.html')]
    with open(page, encoding='utf-8') as f:
        text = html.unescape(re.sub(r'<[^>]+>', ' ', f.read()))
    for option in ('--mode', '--to-cloud', '--prune', '--fix', '--dry-run'):
        assert option in text


@pytest.mark.parametrize('text, found', [
    ('<p>use \u2013mode copy and \u2014to-cloud x</p>',
     ['\u2013mode', '\u2014to-cloud']),
    ('<p>use --mode copy</p>', []),
    ('<p>2023\u20132024, a \u2013 b</p>', []),
])
def test_the_check_finds_dashed_options(text, found):
    assert dashed_options(text) == found


def test_the_man_page_has_no_empty_cross_reference():
    with open(os.path.join(BUILD, 'man', 'osc-imageshare.1')) as f:
        assert '<>' not in f.read()
