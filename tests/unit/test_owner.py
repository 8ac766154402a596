"""Owner mode: admins only, replace not add, verified, restored."""

import unittest

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import transfer
from tests.unit import fakes
from tests.unit import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = test_share.IMG_URL


def hand_over(glance, admin=True, to=('beta',), **kw):
    return transfer.transfer(glance, test_share.Ident(admin=admin),
                             [IMAGE_ID], 'owner', to=list(to), **kw)


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
            ('GET', IMG_URL),
            ('PATCH', IMG_URL, [{'op': 'replace', 'path': '/owner',
                                 'value': BETA}]),
            ('GET', IMG_URL), ('GET', IMG_URL + '/members')], g.calls)
        self.assertEqual(BETA, g.images[IMAGE_ID]['owner'])
        self.assertEqual([(IMAGE_ID, 'web', ALPHA, BETA, 'beta',
                           'owner %s->%s' % (ALPHA, BETA))], result.rows)
        self.assertEqual(2, len(result.warnings))
        self.assertEqual(([], 0, 1), (result.errors, result.failed,
                                      result.total))

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
            lambda body: glance_exc.HTTPForbidden('nope')
            if body[0]['value'] == BETA else None)})
        result = hand_over(g)
        self.assertEqual(ALPHA, g.images[IMAGE_ID]['owner'])
        self.assertEqual(1, len(result.errors))
        self.assertEqual([], result.rows)
        self.assertEqual('Failed to transfer 1 of 1 image/project pairs',
                         result.summary)

    def test_one_target_only(self):
        self.assertRaises(errors.ImageShareError, hand_over,
                          fakes.FakeGlance([fakes.image()]),
                          to=['beta', test_share.GAMMA])
