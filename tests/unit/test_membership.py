"""accept / reject / revoke / list, on fakes."""

from glanceclient import exc as glance_exc
from osc_lib.test import base

from osc_imageshare import errors
from osc_imageshare import membership
from tests.unit import fakes
from tests.unit import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID


class TestSetStatus(base.TestCase):

    def bob(self, **kw):
        return test_share.Ident(project_id=BETA, project_name='beta', **kw)

    def test_accept_pending(self):
        glance = fakes.glance(images=[fakes.image()])
        glance.image_members.get.return_value = fakes.member(BETA)
        glance.image_members.update.return_value = fakes.member(
            BETA, 'accepted')
        data = membership.set_status(glance, self.bob(), 'web', 'accepted')
        glance.images.list.assert_called_once_with(
            filters={'name': 'web', 'member_status': 'all'})
        glance.image_members.update.assert_called_once_with(
            IMAGE_ID, BETA, 'accepted')
        glance.http_client.patch.assert_not_called()  # owner untouched
        self.assertEqual(('pending', 'accepted'), (
            data['previous_status'], data['member_status']))

    def test_accept_twice_writes_once(self):
        glance = fakes.glance(get=fakes.image())
        glance.image_members.get.return_value = fakes.member(BETA,
                                                             'accepted')
        data = membership.set_status(glance, self.bob(), IMAGE_ID,
                                     'accepted')
        glance.image_members.update.assert_not_called()
        self.assertEqual('accepted', data['member_status'])

    def test_not_a_member(self):
        glance = fakes.glance(get=fakes.image())
        glance.image_members.get.side_effect = glance_exc.HTTPNotFound()
        e = self.assertRaises(errors.ImageShareError, membership.set_status,
                              glance, self.bob(), IMAGE_ID, 'rejected')
        self.assertIn('is not a member of image %s' % IMAGE_ID, str(e))

    def test_project_needs_admin(self):
        glance = fakes.glance(get=fakes.image())
        e = self.assertRaises(errors.ImageShareError, membership.set_status,
                              glance, self.bob(), IMAGE_ID, 'rejected',
                              project='gamma')
        self.assertEqual("Only an admin may reject an image for another "
                         "project ('gamma'); as a user of that project, run "
                         "this without --project", str(e))
        glance.images.get.assert_not_called()

    def test_admin_for_a_project(self):
        glance = fakes.glance(get=fakes.image())
        glance.image_members.get.return_value = fakes.member(BETA)
        glance.image_members.update.return_value = fakes.member(
            BETA, 'accepted')
        ident = test_share.Ident(project_id='ad' * 16, admin=True)
        data = membership.set_status(glance, ident, IMAGE_ID, 'accepted',
                                     project='beta')
        glance.image_members.update.assert_called_once_with(
            IMAGE_ID, BETA, 'accepted')
        self.assertEqual(BETA, data['project_id'])


class TestRevoke(base.TestCase):

    def test_remove_then_unshare(self):
        glance = fakes.glance(get=fakes.image(), members=[
            fakes.member(BETA, 'accepted')])
        glance.http_client.patch.return_value = (None, {})
        rows, warnings, errs = membership.revoke(
            glance, test_share.Ident(), IMAGE_ID, ['beta'], unshare=True)
        glance.image_members.delete.assert_called_once_with(IMAGE_ID, BETA)
        self.assertEqual([test_share.patch_call(visibility='private')],
                         glance.http_client.patch.call_args_list)
        self.assertEqual([(IMAGE_ID, BETA, 'beta', 'removed'),
                          (IMAGE_ID, None, None,
                           'visibility shared->private')], rows)
        self.assertEqual([], errs)
        self.assertEqual(1, len(warnings))

    def test_literal_member_id_and_non_member(self):
        glance = fakes.glance(get=fakes.image(), members=[
            fakes.member('beta')])
        glance.http_client.patch.return_value = (None, {})
        rows, warnings, errs = membership.revoke(
            glance, test_share.Ident(), IMAGE_ID, ['beta', 'gamma'],
            unshare=True)
        glance.image_members.delete.assert_called_once_with(IMAGE_ID, 'beta')
        self.assertEqual(['removed', 'not a member',
                          'visibility shared->private'],
                         [r[3] for r in rows])
        self.assertEqual([], errs)

    def test_typo_is_an_error_and_blocks_unshare(self):
        glance = fakes.glance(get=fakes.image(), members=[])
        rows, warnings, errs = membership.revoke(
            glance, test_share.Ident(), IMAGE_ID, ['betta'], unshare=True)
        self.assertEqual(['no project betta'], errs)
        glance.http_client.patch.assert_not_called()

    def test_private_with_unshare_is_done_already(self):
        glance = fakes.glance(get=fakes.image(visibility='private'))
        rows, warnings, errs = membership.revoke(
            glance, test_share.Ident(), IMAGE_ID, ['beta'], unshare=True)
        self.assertEqual(([], []), (rows, errs))
        glance.image_members.list.assert_not_called()
        self.assertIn('is private already', warnings[0])

    def test_not_owner(self):
        glance = fakes.glance(get=fakes.image(owner=BETA))
        self.assertRaises(errors.ImageShareError, membership.revoke, glance,
                          test_share.Ident(), IMAGE_ID, ['beta'])
        glance.image_members.delete.assert_not_called()


class TestList(base.TestCase):

    def test_list_shares(self):
        glance = fakes.glance(images=[fakes.image()],
                              members=[fakes.member(BETA, 'accepted')])
        rows = membership.list_shares(glance, test_share.Ident(
            names={BETA: 'beta'}))
        glance.images.list.assert_called_once_with(
            filters={'owner': ALPHA, 'visibility': 'shared'})
        self.assertEqual([(IMAGE_ID, 'web', ALPHA, BETA, 'beta', 'accepted',
                           '2026-11-27T08:00:00Z')], rows)

    def test_list_incoming(self):
        glance = fakes.glance(images=[fakes.image(),
                                      fakes.image(id='mine', owner=BETA)])
        glance.image_members.get.return_value = fakes.member(BETA)
        rows = membership.list_incoming(glance, test_share.Ident(
            project_id=BETA, project_name='beta'))
        glance.images.list.assert_called_once_with(
            filters={'visibility': 'shared', 'member_status': 'all'})
        glance.image_members.get.assert_called_once_with(IMAGE_ID, BETA)
        self.assertEqual([(IMAGE_ID, 'web', ALPHA, BETA, 'beta', 'pending',
                           '2026-11-27T08:00:00Z')], rows)
