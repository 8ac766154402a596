"""Owner hand-over: admins only, replace not add, verified, restored."""

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import owner
from osc_imageshare import share
from tests.unit import base
from tests.unit import fakes
from tests.unit import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = test_share.IMG_URL
TARGET = share.Target(BETA, 'beta')


class TestTransferOwner(base.TestCase):

    def test_non_admin_is_refused_before_any_call(self):
        g = fakes.FakeGlance([fakes.image()])
        e = self.assertRaises(errors.ImageShareError, owner.transfer_owner,
                              g, test_share.Ident(), [IMAGE_ID], [TARGET])
        self.assertIn("needs the admin role", str(e))
        self.assertEqual([], g.calls)
        self.assertEqual(ALPHA, g.images[IMAGE_ID]['owner'])

    def test_admin_replaces_the_owner_and_reads_it_back(self):
        g = fakes.FakeGlance([fakes.image()], {IMAGE_ID: [
            fakes.member('c3' * 16)]})
        rows, warnings, errs = owner.transfer_owner(
            g, test_share.Ident(admin=True), [IMAGE_ID], [TARGET])
        self.assertEqual([
            ('GET', IMG_URL),
            ('PATCH', IMG_URL, [{'op': 'replace', 'path': '/owner',
                                 'value': BETA}]),
            ('GET', IMG_URL), ('GET', IMG_URL + '/members')], g.calls)
        self.assertEqual(BETA, g.images[IMAGE_ID]['owner'])
        self.assertEqual([(IMAGE_ID, 'web', ALPHA, BETA, 'beta',
                           'owner %s->%s' % (ALPHA, BETA))], rows)
        self.assertEqual(2, len(warnings))
        self.assertEqual([], errs)

    def test_dry_run_and_noop(self):
        g = fakes.FakeGlance([fakes.image()])
        rows, _, _ = owner.transfer_owner(
            g, test_share.Ident(admin=True), [IMAGE_ID], [TARGET],
            dry_run=True)
        self.assertEqual('plan: owner %s->%s' % (ALPHA, BETA), rows[0][5])
        g.images[IMAGE_ID]['owner'] = BETA
        rows, _, _ = owner.transfer_owner(
            g, test_share.Ident(admin=True), [IMAGE_ID], [TARGET])
        self.assertEqual('none', rows[0][5])
        self.assertNotIn('PATCH', [c[0] for c in g.calls])

    def test_failure_restores_the_owner(self):
        g = fakes.FakeGlance([fakes.image()], fail={('PATCH', IMG_URL): (
            lambda body: glance_exc.HTTPForbidden('nope')
            if body[0]['value'] == BETA else None)})
        rows, warnings, errs = owner.transfer_owner(
            g, test_share.Ident(admin=True), [IMAGE_ID], [TARGET])
        self.assertEqual(ALPHA, g.images[IMAGE_ID]['owner'])
        self.assertEqual(1, len(errs))
        self.assertEqual([], rows)

    def test_one_target_only(self):
        self.assertRaises(errors.ImageShareError, owner.transfer_owner,
                          fakes.FakeGlance(), test_share.Ident(admin=True),
                          [IMAGE_ID], [TARGET, share.Target('x')])
