"""Share mode's run on the executor: each write sent by its planned step."""

import signal
import unittest
from unittest import mock

from osc_imageshare import errors
from osc_imageshare.ops.modes import share_image
from osc_imageshare.ops.modes import share_run
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import share_set
from osc_imageshare.ops import stranded
from tests.unit import base
from tests.unit import fakes
from tests.unit.ops.modes.test_share import GAMMA
from tests.unit.ops.modes.test_share import Ident
from tests.unit.ops.test_membership import StepCalls

BETA, IMAGE_ID = fakes.BETA, fakes.IMAGE_ID
OTHER = 'd4' * 16
IMG_URL = '/v2/images/%s' % IMAGE_ID
MEMBERS_URL = IMG_URL + '/members'
DROP = 'Image %s: %s' % (IMAGE_ID, share_image.DROP_LABEL)


def recorded(g):
    """The fake's calls, each with the executor's step that sent it."""
    g.calls = StepCalls()
    return g


def writes(g):
    """``[(method, url, text of the step that sent it or None)]``."""
    return [(c[0], c[1], step.text if step else None)
            for c, step in zip(g.calls, g.calls.steps) if c[0] != 'GET']


def planned(plan):
    """Each planned step's text, as its executor step is named."""
    return ['Image %s, project %s: %s' % (p.image['id'], p.target.project_id,
                                          s.text)
            for p in plan.pairs for s in p.steps]


class TestEveryWriteInItsStep(unittest.TestCase):

    maxDiff = None

    def assert_each_step_sent_its_writes(self, g, plan, extra=()):
        """No write outside a step; each planned step sent a write."""
        sent = writes(g)
        self.assertEqual([], [w for w in sent if w[2] is None], sent)
        self.assertEqual(planned(plan) + list(extra),
                         list(dict.fromkeys(w[2] for w in sent)))

    def transfer(self, g, **kw):
        return pipeline.transfer(g, Ident(admin=True), [IMAGE_ID], 'share',
                                 to=['beta', GAMMA], accept=True, **kw)

    def hiding(self):
        """A private image hiding OTHER's membership."""
        return recorded(fakes.FakeGlance(
            [fakes.image(visibility='private')],
            {IMAGE_ID: [fakes.member(OTHER, 'accepted')]}))

    def test_share_mode_every_write_is_sent_by_its_planned_step(self):
        dry = self.transfer(self.hiding(), protect=True, dry_run=True,
                            earlier_members='revoke')
        g = self.hiding()
        res = self.transfer(g, protect=True, earlier_members='revoke')
        self.assertEqual([], res.errors)
        self.assertEqual(planned(dry.plan), planned(res.plan))
        step = dict(zip(['share', 'revoke', 'protect', 'add b', 'accept b',
                         'add g', 'accept g'], planned(res.plan)))
        member = MEMBERS_URL + '/'
        self.assertEqual([
            ('PATCH', IMG_URL, step['share']),
            ('DELETE', member + OTHER, step['revoke']),
            ('PATCH', IMG_URL, step['revoke']),     # checked, in the label
            ('PATCH', IMG_URL, step['protect']),
            ('POST', MEMBERS_URL, step['add b']),
            ('PUT', member + BETA, step['accept b']),
            ('POST', MEMBERS_URL, step['add g']),
            ('PUT', member + GAMMA, step['accept g']),
            ('PATCH', IMG_URL, DROP)], writes(g))
        self.assert_each_step_sent_its_writes(g, res.plan, [DROP])

    def test_undos_are_sent_by_the_steps_they_undo(self):
        g = self.hiding()
        g.fail = {('PUT', MEMBERS_URL + '/' + pid): errors.Forbidden('nope')
                  for pid in (BETA, GAMMA)}
        res = self.transfer(g, protect=True, earlier_members='keep')
        self.assertEqual(2, res.failed)
        texts = planned(res.plan)
        self.assertEqual([
            ('PATCH', IMG_URL, texts[0]),       # shared
            ('PATCH', IMG_URL, texts[1]),       # earlier members checked
            ('PATCH', IMG_URL, texts[2]),       # protected
            ('POST', MEMBERS_URL, texts[3]),
            ('PUT', MEMBERS_URL + '/' + BETA, texts[4]),
            ('DELETE', MEMBERS_URL + '/' + BETA, texts[3]),     # its undo
            ('POST', MEMBERS_URL, texts[5]),
            ('PUT', MEMBERS_URL + '/' + GAMMA, texts[6]),
            ('DELETE', MEMBERS_URL + '/' + GAMMA, texts[5]),
            # No pair stands: the image restored, in one PATCH, by the
            # undo of its newest step.
            ('PATCH', IMG_URL, texts[2])], writes(g))
        image = g.images[IMAGE_ID]
        self.assertEqual(('private', False, None), (
            image['visibility'], image['protected'],
            image.get(stranded.LABEL)))

    def test_at_parallel_2_the_label_drop_and_a_failed_accept_agree(self):
        # The drop runs beside the accept; the accept fails: the image is
        # restored once, whichever came first, and no label is left.
        for _ in range(10):
            g = recorded(fakes.FakeGlance(
                [fakes.image(visibility='private')], {IMAGE_ID: []},
                fail={('PUT', MEMBERS_URL + '/' + BETA):
                      errors.Forbidden('nope')}))
            res = pipeline.transfer(g, Ident(admin=True), [IMAGE_ID],
                                    'share', to=['beta'], accept=True,
                                    parallel=2)
            self.assertEqual(1, res.failed)
            self.assertEqual([], [w for w in writes(g) if w[2] is None])
            image = g.images[IMAGE_ID]
            self.assertEqual(('private', None, {}), (
                image['visibility'], image.get(stranded.LABEL),
                g.members[IMAGE_ID]))
            # Shared, then restored once, both by the sharing step.
            self.assertEqual(2, len([w for w in writes(g) if w[0] == 'PATCH'
                                     and w[2] == planned(res.plan)[0]]))

    def test_an_accept_that_sends_nothing_is_caught(self):
        # The check above fails when a step's action breaks: here the
        # accept does nothing.
        g = self.hiding()
        with mock.patch.object(share_run, '_accept', lambda glance, p: None):
            res = self.transfer(g, earlier_members='keep')
        self.assertRaises(AssertionError,
                          self.assert_each_step_sent_its_writes, g, res.plan,
                          [DROP])

    def test_share_set_adds_and_accepts_in_their_steps(self):
        g = recorded(fakes.FakeGlance([fakes.image(visibility='private')],
                                      {IMAGE_ID: []}))
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID,
                                    ['beta', GAMMA])
        self.assertEqual([], res.errors)
        self.assertEqual(['visibility private->shared, added, accepted',
                          'added, accepted'], [r[5] for r in res.rows])
        texts = ['Image %s, project %s: %s' % (IMAGE_ID, pid, text)
                 for pid, text in [
                     (BETA, 'visibility private->shared'),
                     (BETA, 'check earlier members'),
                     (BETA, 'add member'), (BETA, 'accept as admin'),
                     (GAMMA, 'add member'), (GAMMA, 'accept as admin')]]
        self.assertEqual([
            ('PATCH', IMG_URL, texts[0]),
            ('POST', MEMBERS_URL, texts[2]),
            ('PUT', MEMBERS_URL + '/' + BETA, texts[3]),
            ('POST', MEMBERS_URL, texts[4]),
            ('PUT', MEMBERS_URL + '/' + GAMMA, texts[5]),
            ('PATCH', IMG_URL, DROP)], writes(g))
        # The earlier-members check read, and found nothing to write.
        self.assertIn(texts[1], [s.text for s in g.calls.steps if s])


class TestSignalMidRun(unittest.TestCase):
    """INT, TERM or HUP mid-run: every write in a step, the rest undone."""

    maxDiff = None
    ids = ['%08d-0000-4000-8000-000000000000' % i for i in range(3)]

    def run_signalled(self, parallel, when, signum=signal.SIGTERM):
        """Three private images to beta; ``signum`` when ``when`` is sent."""
        g = recorded(fakes.FakeGlance(
            [fakes.image(id=i, visibility='private') for i in self.ids],
            {i: [] for i in self.ids}))
        real = g._call

        def call(method, url, data):
            if (method, url) == when:
                base.signal_self(signum)
            return real(method, url, data)
        g._call = call
        res = pipeline.transfer(g, Ident(admin=True), self.ids, 'share',
                                to=['beta'], accept=True, parallel=parallel)
        self.assertEqual([], [w for w in writes(g) if w[2] is None])
        # Each image done, or as it was; no label left.
        done = [r[0] for r in res.rows]
        for i in self.ids:
            image = g.images[i]
            self.assertNotIn(stranded.LABEL, image)
            self.assertEqual(('shared', {BETA}) if i in done
                             else ('private', set()),
                             (image['visibility'], set(g.members[i])))
        return g, res

    def test_at_parallel_1_the_accept_under_way_ends_the_rest_waits(self):
        member = '/v2/images/%s/members/%s' % (self.ids[1], BETA)
        g, res = self.run_signalled(1, ('PUT', member))
        self.assertEqual(self.ids[:2], [r[0] for r in res.rows])
        self.assertEqual(['Image %s, project %s: not started (interrupted by '
                          'SIGTERM)' % (self.ids[2], BETA)], res.errors)
        self.assertEqual(
            'Interrupted by SIGTERM: of 3 image/project pairs, 2 done (kept), '
            '0 failed, 0 interrupted (rolled back), 1 not started; images '
            'with no pair done are restored as they were', res.summary)
        # The image under way finished, its label dropped by its step;
        # nothing sent for the third.
        self.assertEqual(('PATCH', '/v2/images/%s' % self.ids[1],
                          'Image %s: %s' % (self.ids[1],
                                            share_image.DROP_LABEL)),
                         writes(g)[-1])
        self.assertFalse([w for w in writes(g) if self.ids[2] in w[1]])

    def test_at_parallel_1_a_half_done_pair_is_undone_by_its_steps(self):
        url = '/v2/images/%s/members' % self.ids[1]
        g, res = self.run_signalled(1, ('POST', url), signal.SIGHUP)
        self.assertEqual(self.ids[:1], [r[0] for r in res.rows])
        self.assertEqual([
            'Image %s, project %s: interrupted by SIGHUP; the member it '
            'added was removed' % (self.ids[1], BETA),
            'Image %s, project %s: not started (interrupted by SIGHUP)'
            % (self.ids[2], BETA)], res.errors)
        text = 'Image %s, project %s: ' % (self.ids[1], BETA)
        self.assertEqual([
            ('PATCH', '/v2/images/' + self.ids[1],
             text + 'visibility private->shared'),
            ('POST', url, text + 'add member'),
            ('DELETE', url + '/' + BETA, text + 'add member'),
            ('PATCH', '/v2/images/' + self.ids[1],
             text + 'visibility private->shared')],
            [w for w in writes(g) if self.ids[1] in w[1]])

    def test_at_parallel_2_rows_for_what_finished_and_one_summary(self):
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            url = '/v2/images/%s/members' % self.ids[1]
            g, res = self.run_signalled(2, ('POST', url), signum)
            name = signal.Signals(signum).name
            self.assertEqual(3, len(res.rows) + len(res.errors))
            self.assertTrue(res.summary.startswith(
                'Interrupted by %s: of 3 image/project pairs, %d done'
                % (name, len(res.rows))), res.summary)
            for error in res.errors:
                self.assertIn('interrupted by %s' % name, error)
            self.assertNotIn(self.ids[1], [r[0] for r in res.rows])
