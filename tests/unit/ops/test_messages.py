"""A batch says each kind of warning once (messages.grouped)."""

from unittest import mock

from osc_imageshare import cli
from osc_imageshare.ops import messages
from tests.unit import base

IDS = ['%08d-0000-4000-8000-000000000000' % i for i in range(12)]
ALPHA = 'a1' * 16


def depends(image):
    return messages.W_DEPENDS.format(id=image, owner_label='alpha (%s)'
                                     % ALPHA)


def unprotected(image, count=1):
    return messages.W_UNPROTECTED.format(id=image, count=count)


class TestGrouped(base.TestCase):

    def test_two_kinds_for_twelve_images_are_two_lines(self):
        warnings = [w for i in IDS for w in (depends(i), unprotected(i))]
        out = messages.grouped(warnings)
        self.assertEqual([
            depends('<image>') + ' (12 images: %s, %s, %s and 9 more; -v '
            'lists them)' % tuple(IDS[:3]),
            unprotected('<image>') + ' (12 images: %s, %s, %s and 9 more; '
            '-v lists them)' % tuple(IDS[:3])], out)
        self.assertIn("'openstack image set --protected <image>'", out[1])

    def test_full_lists_every_image(self):
        out = messages.grouped([depends(i) for i in IDS], full=True)
        self.assertEqual([depends('<image>') + ' (12 images: %s)'
                          % ', '.join(IDS)], out)

    def test_a_short_list_is_given_in_full(self):
        out = messages.grouped([depends(i) for i in IDS[:3]])
        self.assertEqual([depends('<image>') + ' (3 images: %s)'
                          % ', '.join(IDS[:3])], out)

    def test_one_image_keeps_its_sentence_and_other_kinds_their_place(self):
        warnings = [unprotected(IDS[0], 2), depends(IDS[0]), 'No image ID.',
                    depends(IDS[1]), unprotected(IDS[1], 1),
                    'No image ID.', depends(IDS[1])]
        self.assertEqual([
            unprotected(IDS[0], 2),
            depends('<image>') + ' (2 images: %s, %s)' % tuple(IDS[:2]),
            'No image ID.', unprotected(IDS[1], 1)],
            messages.grouped(warnings))

    def test_a_sentence_naming_two_images_stays_as_it_is(self):
        two = 'Image %s is a copy of %s.' % (IDS[0], IDS[1])
        self.assertEqual([two, depends(IDS[2])],
                         messages.grouped([two, depends(IDS[2])]))


class TestFullLists(base.TestCase):

    def test_verbose_or_debug(self):
        def app(verbose_level=1, debug=False):
            return mock.Mock(options=mock.Mock(verbose_level=verbose_level,
                                               debug=debug))
        self.assertFalse(cli.full_lists(app()))
        self.assertTrue(cli.full_lists(app(verbose_level=2)))
        self.assertTrue(cli.full_lists(app(debug=True)))
        self.assertFalse(cli.full_lists(None))


class TestLabel(base.TestCase):

    def test_name_and_id_or_the_id_alone(self):
        self.assertEqual('beta (b1)', messages.label('b1', 'beta'))
        self.assertEqual('b1', messages.label('b1', None))
        self.assertEqual('b1', messages.label('b1', ''))
        self.assertEqual('beta (b1) accepted, c2 pending',
                         messages.member_list(
                             [{'member_id': 'b1', 'status': 'accepted'},
                              {'member_id': 'c2', 'status': 'pending'}],
                             {'b1': 'beta'}.get))


class TestNamesInSentences(base.TestCase):
    """A name in a line on stderr cannot drive the terminal."""

    def test_a_label_escapes_what_is_not_printable(self):
        self.assertEqual('\\x1b[31m\\nname\\ttab (p\\u202e)',
                         messages.label('p\u202e', '\x1b[31m\nname\ttab'))
        # A backslash is a sentence's: kept as it is.
        self.assertEqual('a\\b (id)', messages.label('id', 'a\\b'))

    def test_a_reported_sentence_is_one_line(self):
        # A newline in a name quoted in it cannot start a line that
        # looks like another warning.
        log = mock.Mock()
        cli.report(log, ['Project pr\nWARNING fake (x) \x1b[2J has'],
                   ['bad\r'])
        self.assertEqual([mock.call('Project pr\\nWARNING fake (x) '
                                    '\\x1b[2J has')],
                         log.warning.call_args_list)
        self.assertEqual([mock.call('bad\\r')], log.error.call_args_list)
