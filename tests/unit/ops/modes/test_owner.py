"""Owner mode: admins only, replace not add, verified, restored."""

import unittest

from osc_imageshare import errors
from osc_imageshare.ops.modes import owner
from osc_imageshare.ops import pipeline
from tests.unit import fakes
from tests.unit.ops.modes import test_share
from tests.unit.ops import test_membership

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = test_share.IMG_URL


def hand_over(glance, admin=True, to=('beta',), refs=(IMAGE_ID,), **kw):
    return pipeline.transfer(glance, test_share.Ident(admin=admin),
                             list(refs), 'owner', to=list(to), **kw)


class TestTransferOwner(unittest.TestCase):

    def test_non_admin_is_refused_before_any_call(self):
        g = fakes.FakeGlance([fakes.image()])
        with self.assertRaises(errors.ImageShareError) as e:
            hand_over(g, admin=False)
        self.assertIn("needs the admin role", str(e.exception))
        self.assertEqual([], g.calls)
        self.assertEqual(ALPHA, g.images[IMAGE_ID]['owner'])

    def test_admin_replaces_the_owner_and_reads_it_back(self):
        g = fakes.FakeGlance([fakes.image()], {IMAGE_ID: [
            fakes.member('c3' * 16)]})
        result = hand_over(g)
        self.assertEqual([
            ('GET', IMG_URL), ('GET', IMG_URL + '/members'),
            ('PATCH', IMG_URL, [{'op': 'replace', 'path': '/owner',
                                 'value': BETA}]),
            ('GET', IMG_URL), ('GET', IMG_URL + '/members')], g.calls)
        self.assertEqual(BETA, g.images[IMAGE_ID]['owner'])
        self.assertEqual([(IMAGE_ID, 'web', ALPHA, BETA, 'beta',
                           'owner %s->%s' % (ALPHA, BETA))], result.rows)
        self.assertEqual(2, len(result.warnings))
        self.assertEqual(([], 0, 1), (result.errors, result.failed,
                                      result.total))

    def test_dry_run_steps_are_the_steps_the_run_takes(self):
        images = [fakes.image(), fakes.image(id='c4' * 16, owner=BETA)]
        dry = hand_over(fakes.FakeGlance(images), dry_run=True)
        g = fakes.FakeGlance(images)
        run = hand_over(g, refs=[IMAGE_ID, 'c4' * 16])
        self.assertEqual([[]], [p.done for p in dry.plan.pairs])
        self.assertEqual([[s.text for s in p.steps] for p in dry.plan.pairs],
                         [[s.text for s in p.done] for p in run.plan.pairs
                          if p.image['id'] == IMAGE_ID])
        self.assertEqual([['owner %s->%s' % (ALPHA, BETA)], []],
                         [[s.text for s in p.done] for p in run.plan.pairs])
        self.assertEqual(['PATCH'], [c[0] for c in g.calls
                                     if c[0] not in ('GET',)])

    def test_the_new_owner_is_no_longer_its_own_member(self):
        gamma = 'c3' * 16
        members = {IMAGE_ID: [fakes.member(BETA, 'accepted'),
                              fakes.member(gamma)]}
        # The dry run plans it, as a step of its own; nothing written.
        dry_glance = fakes.FakeGlance([fakes.image()], members)
        dry = hand_over(dry_glance, dry_run=True)
        self.assertEqual('plan: owner %s->%s, membership of the new owner '
                         'removed' % (ALPHA, BETA), dry.rows[0][5])
        self.assertEqual({'GET'}, {c[0] for c in dry_glance.calls})
        g = fakes.FakeGlance([fakes.image()], members)
        result = hand_over(g)
        self.assertEqual([[owner.OWNER, owner.DROP]],
                         [[s.kind for s in p.done] for p in result.plan.pairs])
        self.assertEqual([gamma], list(g.members[IMAGE_ID]))
        self.assertEqual('owner %s->%s, membership of the new owner removed'
                         % (ALPHA, BETA), result.rows[0][5])
        self.assertEqual([owner.W_LOSES.format(
            old=ALPHA, id=IMAGE_ID, new='beta (%s)' % BETA),
            owner.W_MEMBERS.format(id=IMAGE_ID, members=gamma)],
            result.warnings)

    def test_every_write_is_sent_by_its_planned_step(self):
        # The executor runs the plan: each write belongs to the step the
        # dry run printed, and none is sent outside a step.
        gamma = 'c3' * 16
        members = {IMAGE_ID: [fakes.member(BETA, 'accepted'),
                              fakes.member(gamma)]}
        dry = hand_over(fakes.FakeGlance([fakes.image()], members),
                        dry_run=True)
        g = fakes.FakeGlance([fakes.image()], members)
        g.calls = test_membership.StepCalls()
        hand_over(g)
        writes = [(c[0], step.text if step else None)
                  for c, step in zip(g.calls, g.calls.steps)
                  if c[0] != 'GET']
        planned = ['Image %s: %s' % (IMAGE_ID, s.text)
                   for s in dry.plan.pairs[0].steps]
        self.assertEqual([('PATCH', planned[0]), ('DELETE', planned[1])],
                         writes)

    def test_members_that_are_no_project_are_named_as_such(self):
        gamma = 'c3' * 16
        ident = fakes.FakeIdentity(exists={'beta': False, 'x y': False,
                                           gamma: True})
        self.assertEqual(
            "Image %s keeps its members, who keep access: %s; and 1 member "
            "that is not a project (Glance stores any string; it gives "
            "nobody access): 'beta'." % (IMAGE_ID, gamma),
            owner.kept_members(IMAGE_ID, [gamma, 'beta'], ident))
        self.assertEqual(
            "Image %s keeps 2 members that are not a project (Glance stores "
            "any string; it gives nobody access): 'beta', 'x y'."
            % IMAGE_ID,
            owner.kept_members(IMAGE_ID, ['beta', 'x y'], ident))
        # One it cannot tell about is not called 'no project'.
        self.assertEqual(owner.W_MEMBERS.format(id=IMAGE_ID, members=BETA),
                         owner.kept_members(IMAGE_ID, [BETA], ident))

    def test_a_membership_that_cannot_be_removed_is_said(self):
        g = fakes.FakeGlance([fakes.image()], {IMAGE_ID: [
            fakes.member(BETA, 'accepted')]}, fail={
            ('DELETE', IMG_URL + '/members/' + BETA):
                errors.Forbidden('nope')})
        result = hand_over(g)
        self.assertEqual('owner %s->%s' % (ALPHA, BETA), result.rows[0][5])
        self.assertEqual(2, len(result.warnings))
        self.assertTrue(result.warnings[1].startswith(
            'Project beta (%s), now the owner of image %s, is still listed '
            'as its member' % (BETA, IMAGE_ID)), result.warnings)

    def test_a_membership_made_after_the_plan_is_named_not_removed(self):
        g = fakes.FakeGlance([fakes.image()], {IMAGE_ID: []})
        real = g._call

        def call(method, url, data):
            if method == 'PATCH':   # beta becomes a member meanwhile
                g.members[IMAGE_ID][BETA] = fakes.member(BETA)
            return real(method, url, data)
        g._call = call
        result = hand_over(g)
        self.assertEqual('owner %s->%s' % (ALPHA, BETA), result.rows[0][5])
        self.assertNotIn('DELETE', [c[0] for c in g.calls])
        self.assertEqual(owner.W_OWN_MEMBER.format(
            id=IMAGE_ID, new='beta (%s)' % BETA, pid=BETA,
            why=owner.WHY_LATE), result.warnings[-1])

    def test_dry_run_and_noop(self):
        g = fakes.FakeGlance([fakes.image()])
        result = hand_over(g, dry_run=True)
        self.assertEqual('plan: owner %s->%s' % (ALPHA, BETA),
                         result.rows[0][5])
        g.images[IMAGE_ID]['owner'] = BETA
        result = hand_over(g)
        self.assertEqual('none', result.rows[0][5])
        self.assertNotIn('PATCH', [c[0] for c in g.calls])

    def test_failure_restores_the_owner(self):
        g = fakes.FakeGlance([fakes.image()], fail={('PATCH', IMG_URL): (
            lambda body: errors.Forbidden('nope')
            if body[0]['value'] == BETA else None)})
        result = hand_over(g)
        self.assertEqual(ALPHA, g.images[IMAGE_ID]['owner'])
        self.assertEqual(1, len(result.errors))
        self.assertEqual([], result.rows)
        self.assertEqual('Failed to transfer 1 of 1 image/project pairs',
                         result.summary)

    def test_a_broken_connection_fails_its_pair_only_and_restores(self):
        # The connection breaks on the first image's owner change (no
        # answer, every try): that pair fails with a sentence, its owner
        # is read back and left as it was; the next image is changed.
        other = IMAGE_ID.replace('0f1e', '1f1e')
        g = fakes.FakeGlance([fakes.image(), fakes.image(id=other)], fail={
            ('PATCH', IMG_URL): lambda body: errors.TransportError(
                'Connection reset by peer') if body[0]['value'] == BETA
            else None})
        result = hand_over(g, refs=(IMAGE_ID, other))
        self.assertEqual((ALPHA, BETA), (g.images[IMAGE_ID]['owner'],
                                         g.images[other]['owner']))
        self.assertEqual([other], [r[0] for r in result.rows])
        [error] = result.errors
        self.assertTrue(error.startswith(
            'Could not change the owner on image %s: ' % IMAGE_ID), error)
        self.assertEqual('Failed to transfer 1 of 2 image/project pairs',
                         result.summary)

    def test_one_target_only(self):
        self.assertRaises(errors.ImageShareError, hand_over,
                          fakes.FakeGlance([fakes.image()]),
                          to=['beta', test_share.GAMMA])
