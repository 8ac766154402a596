"""The Mode protocol: every mode implements it; one summary format."""

import unittest

from osc_imageshare.ops.modes import base
from osc_imageshare.ops.modes import copy
from osc_imageshare.ops.modes import owner
from osc_imageshare.ops.modes import share
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import transfer_plan
from tests.unit import fakes


class TestProtocol(unittest.TestCase):

    def test_every_mode_implements_it_and_the_pipeline_knows_them(self):
        for mode in (share, copy, owner):
            self.assertEqual([], base.missing(mode), mode.NAME)
        self.assertEqual({'share': share, 'copy': copy, 'owner': owner},
                         pipeline.MODES)

    def test_missing_names_what_a_mode_lacks(self):
        class Half:
            NAME = VERB = 'half'
            ALLOW_OWN = False
            OPTIONS = ()
        self.assertEqual(['needs_accept', 'preflight', 'read', 'make_plan',
                          'dry_run_warnings', 'execute', 'risks', 'summary',
                          'row'], base.missing(Half))

    def test_read_has_one_shape_in_every_mode(self):
        glance = fakes.FakeGlance([fakes.image()])
        ident = fakes.FakeIdentity()
        for mode in (share, copy, owner):
            read = mode.read(glance, ident, [fakes.IMAGE_ID, 'gone'])
            self.assertIsInstance(read, base.ReadResult)
            self.assertEqual(([fakes.IMAGE_ID], ['gone']), (
                [i['id'] for i in read.images], list(read.failed)))


class TestSummary(unittest.TestCase):

    def pairs(self, *states):
        out = []
        for s in states:
            p = transfer_plan.Pair(fakes.image(), None)
            if s == 'failed':
                p.error = 'it failed'
            elif s != 'done':
                p.state = base.State(s)
            out.append(p)
        return out

    def test_one_sentence_counts_every_state(self):
        pairs = self.pairs('done', 'failed', 'interrupted', 'not started',
                           'not started')
        self.assertEqual(
            'Interrupted by SIGINT: of 5 image/project pairs, 1 copied, 1 '
            'failed, 1 interrupted (cleaned up), 2 not started',
            base.interrupted_summary('SIGINT', pairs, 'copied',
                                     'cleaned up'))

    def test_states_given_win_and_a_tail_ends_it(self):
        pairs = self.pairs('done', 'done')
        self.assertEqual(
            'Interrupted by SIGHUP: of 2 image/project pairs, 0 done, 0 '
            'failed, 0 interrupted (x), 2 not started; and so on',
            base.interrupted_summary('SIGHUP', pairs, 'done', 'x',
                                     '; and so on',
                                     states=[base.State.NOT_STARTED] * 2))
