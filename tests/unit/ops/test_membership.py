"""accept / reject / revoke / list, on fakes."""

from unittest import mock

from osc_imageshare.batch import executor
from osc_imageshare import errors
from osc_imageshare.ops import membership
from osc_imageshare.ops import messages
from osc_imageshare.ops import stranded
from tests.unit import base
from tests.unit import fakes
from tests.unit.ops.modes import test_share

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = test_share.IMG_URL
MEMBERS_URL = test_share.MEMBERS_URL


def glance(*members, **over):
    return fakes.FakeGlance([fakes.image(**over)], {IMAGE_ID: members})


class TestSetStatus(base.TestCase):

    def bob(self, **kw):
        return test_share.Ident(project_id=BETA, project_name='beta', **kw)

    def test_accept_pending_by_name(self):
        g = glance(fakes.member(BETA))
        data = membership.set_status(g, self.bob(), 'web', 'accepted')
        self.assertEqual([
            ('GET', '/v2/images?member_status=all&name=web'),
            ('GET', '/v2/images?member_status=all&name=web&os_hidden=true'),
            ('GET', MEMBERS_URL + '/' + BETA),
            ('PUT', MEMBERS_URL + '/' + BETA, {'status': 'accepted'})],
            g.calls)
        self.assertEqual(('pending', 'accepted'), (
            data['previous_status'], data['member_status']))
        self.assertEqual(ALPHA, g.images[IMAGE_ID]['owner'])

    def test_accept_twice_writes_once(self):
        g = glance(fakes.member(BETA, 'accepted'))
        data = membership.set_status(g, self.bob(), IMAGE_ID, 'accepted')
        self.assertEqual([('GET', IMG_URL),
                          ('GET', MEMBERS_URL + '/' + BETA)], g.calls)
        self.assertEqual('accepted', data['member_status'])

    def test_not_a_member(self):
        e = self.assertRaises(errors.ImageShareError, membership.set_status,
                              glance(), self.bob(), IMAGE_ID, 'rejected')
        self.assertEqual(
            "Project beta (%s) is not a member of image %s; its owner must "
            "add it first ('openstack image transfer %s --to %s "
            "--no-accept')" % (BETA, IMAGE_ID, IMAGE_ID, BETA), str(e))

    def test_owner_cannot_accept(self):
        e = self.assertRaises(errors.ImageShareError, membership.set_status,
                              glance(), test_share.Ident(), IMAGE_ID,
                              'accepted')
        self.assertIn('owns image %s; only a member project' % IMAGE_ID,
                      str(e))

    def test_project_needs_admin(self):
        g = glance()
        e = self.assertRaises(errors.ImageShareError, membership.set_status,
                              g, self.bob(), IMAGE_ID, 'rejected',
                              project='gamma')
        self.assertEqual("Only an admin may reject an image for another "
                         "project ('gamma'); as a user of that project, run "
                         "this without --project", str(e))
        self.assertEqual([], g.calls)

    def test_admin_for_a_project(self):
        g = glance(fakes.member(BETA))
        ident = test_share.Ident(project_id='ad' * 16, admin=True)
        data = membership.set_status(g, ident, IMAGE_ID, 'accepted',
                                     project='beta')
        self.assertEqual(
            ('PUT', MEMBERS_URL + '/' + BETA, {'status': 'accepted'}),
            g.calls[-1])
        self.assertNotIn('PATCH', [c[0] for c in g.calls])
        self.assertEqual(BETA, data['project_id'])


class Unsearchable(test_share.Ident):
    """An owner who may not search Keystone by name (no admin role)."""

    def resolve_project(self, ref, domain=None):
        raise errors.ProjectNotFound('no project %s' % ref)


class StepCalls(list):
    """The fake's calls, and the executor's step that sent each."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def append(self, call):
        super().append(call)
        self.steps.append(executor.current())


class TestRevoke(base.TestCase):

    def test_remove_then_unshare(self):
        g = glance(fakes.member(BETA, 'accepted'))
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, ['beta'], unshare=True)
        self.assertEqual([
            ('GET', IMG_URL), ('GET', MEMBERS_URL),
            ('DELETE', MEMBERS_URL + '/' + BETA),
            test_share.patch_call(visibility='private')], g.calls)
        self.assertEqual([(IMAGE_ID, BETA, 'beta', 'removed'),
                          (IMAGE_ID, None, None,
                           'visibility shared->private')], rows)
        self.assertEqual([], errs)
        self.assertEqual(["Project beta (%s) had accepted image %s: its "
                          "instances booted from it can now fail to "
                          "rebuild, evacuate or migrate." % (BETA, IMAGE_ID)],
                         warnings)

    def test_every_write_is_a_step_and_the_dry_run_is_the_plan(self):
        """Each write is sent by the step that planned it, nothing else."""
        other = 'c3' * 16
        g = glance(fakes.member(BETA, 'accepted'), fakes.member(other))
        plan, _, _ = membership.revoke(g, test_share.Ident(), IMAGE_ID, None,
                                       unshare=True, dry_run=True)
        self.assertEqual({'GET'}, {c[0] for c in g.calls})
        g.calls = StepCalls()
        rows, _, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, None, unshare=True)
        self.assertEqual([], errs)
        self.assertEqual([r[:3] + ('plan: ' + r[3].replace(
            'removed', 'remove'),) for r in rows], plan)
        writes = [(c[0], step.text if step else None)
                  for c, step in zip(g.calls, g.calls.steps)
                  if c[0] != 'GET']
        self.assertEqual([
            ('DELETE', 'Image %s: remove member %s' % (IMAGE_ID, BETA)),
            ('DELETE', 'Image %s: remove member %s' % (IMAGE_ID, other)),
            ('PATCH', 'Image %s: visibility shared->private' % IMAGE_ID)],
            writes)

    def test_a_member_glance_cannot_address_is_an_error_not_a_request(self):
        odd = 'mem\u202eber'
        g = glance(fakes.member(odd), fakes.member(BETA))
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, None, unshare=True)
        self.assertEqual([
            "Member 'mem\u202eber' of image %s is not removed: it can be "
            "removed only in Glance's database: Glance cannot address a "
            "member ID with a '/', a '..' or a character outside ASCII by "
            "URL, so no command removes it" % IMAGE_ID], errs)
        # The other member is removed; the image stays shared.
        self.assertEqual([('DELETE', MEMBERS_URL + '/' + BETA)],
                         [c for c in g.calls if c[0] != 'GET'])

    def test_literal_member_id_and_non_member(self):
        g = glance(fakes.member('beta'))
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, ['beta', 'gamma'], unshare=True)
        self.assertIn(('DELETE', MEMBERS_URL + '/beta'), g.calls)
        self.assertEqual(['removed', 'not a member',
                          'visibility shared->private'],
                         [r[3] for r in rows])
        self.assertEqual([], errs)

    def test_members_left_keep_it_shared(self):
        g = glance(fakes.member(BETA), fakes.member('c3' * 16))
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, [BETA], unshare=True)
        self.assertEqual('shared', g.images[IMAGE_ID]['visibility'])
        self.assertIn("keeps 1 member(s), so it stays 'shared'", warnings[-1])

    def test_a_broken_connection_fails_that_member_only(self):
        other = 'c3' * 16
        g = glance(fakes.member(BETA), fakes.member(other))
        g.fail[('DELETE', MEMBERS_URL + '/' + BETA)] = \
            errors.TransportError('Connection reset by peer')
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, [BETA, other], unshare=True)
        self.assertEqual([(IMAGE_ID, other, 'gamma', 'removed')], rows)
        [error] = errs
        self.assertTrue(error.startswith(
            'Could not remove member %s on image %s: ' % (BETA, IMAGE_ID)),
            error)
        # A member is left: the image stays shared, as the error says.
        self.assertEqual('shared', g.images[IMAGE_ID]['visibility'])
        self.assertEqual([BETA], list(g.members[IMAGE_ID]))

    def test_typo_is_an_error_and_blocks_unshare(self):
        g = glance()
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, ['betta'], unshare=True)
        self.assertEqual(['no project betta'], errs)
        self.assertEqual('shared', g.images[IMAGE_ID]['visibility'])

    def test_private_with_unshare_is_done_already(self):
        g = glance(visibility='private')
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, ['beta'], unshare=True)
        self.assertEqual(([], []), (rows, errs))
        self.assertEqual([('GET', IMG_URL)], g.calls)
        self.assertIn('is private already', warnings[0])

    def test_private_is_explained_and_offers_share_briefly(self):
        g = glance(fakes.member(BETA, 'accepted'), visibility='private')
        e = self.assertRaises(errors.ImageShareError, membership.revoke, g,
                              test_share.Ident(), IMAGE_ID, ['beta'])
        self.assertEqual(messages.E_PRIVATE_MEMBERS.format(id=IMAGE_ID),
                         str(e))
        self.assertEqual([('GET', IMG_URL)], g.calls)

    @mock.patch('osc_imageshare.batch.liveness.stamp', return_value=fakes.WHEN)
    def test_share_briefly_removes_and_restores_private(self, _stamp):
        g = glance(fakes.member(BETA, 'accepted'),
                   fakes.member('c3' * 16, 'pending'), visibility='private')
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, ['beta'], share_briefly=True)
        self.assertEqual([
            ('GET', IMG_URL),
            # Labelled while shared: a run killed meanwhile leaves a trace.
            test_share.share_call((), op=stranded.REVOKE),
            ('GET', MEMBERS_URL),
            ('DELETE', MEMBERS_URL + '/' + BETA),
            ('GET', MEMBERS_URL),
            test_share.restore_call(visibility='private')], g.calls)
        self.assertNotIn(stranded.LABEL, g.images[IMAGE_ID])
        self.assertEqual('private', g.images[IMAGE_ID]['visibility'])
        self.assertEqual([(IMAGE_ID, BETA, 'beta', 'removed'),
                          (IMAGE_ID, None, None,
                           'visibility private->shared->private')], rows)
        self.assertEqual([], errs)
        self.assertEqual(messages.W_STILL_HIDDEN.format(
            id=IMAGE_ID, members='gamma (%s) pending' % ('c3' * 16)),
            warnings[-1])

    @mock.patch('osc_imageshare.batch.liveness.stamp', return_value=fakes.WHEN)
    def test_share_briefly_that_cannot_make_it_private_says_so(self, _stamp):
        # The second PATCH (private again) fails: no row says private,
        # an error says the image stays shared, with the command.
        g = glance(fakes.member(BETA, 'accepted'), visibility='private')
        patches = []

        def second_fails(body):
            patches.append(body)
            if len(patches) > 1:
                return errors.ServerError('boom')
        g.fail[('PATCH', IMG_URL)] = second_fails
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, None, share_briefly=True)
        self.assertEqual([(IMAGE_ID, BETA, 'removed')],
                         [(r[0], r[1], r[3]) for r in rows])
        self.assertEqual('shared', g.images[IMAGE_ID]['visibility'])
        [error] = errs
        self.assertTrue(error.startswith(
            'Could not set image %s private again: ' % IMAGE_ID), error)
        self.assertTrue(error.endswith(
            "stays shared (its hidden members have their access back) with "
            "this run's label: run 'openstack image share revoke %s --all "
            "--share-briefly'" % IMAGE_ID), error)

    def test_every_hidden_member_with_all_and_share_briefly(self):
        g = glance(fakes.member(BETA, 'accepted'),
                   fakes.member('c3' * 16, 'pending'), visibility='private')
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, None, share_briefly=True)
        self.assertEqual([
            ('DELETE', MEMBERS_URL + '/' + BETA),
            ('DELETE', MEMBERS_URL + '/' + 'c3' * 16),
            ('GET', MEMBERS_URL),
            test_share.restore_call(visibility='private')], g.calls[3:])
        self.assertEqual(['removed', 'removed',
                          'visibility private->shared->private'],
                         [r[3] for r in rows])
        self.assertEqual({}, g.members[IMAGE_ID])
        self.assertEqual([], errs)
        self.assertEqual(1, len(warnings))   # beta had accepted

    def test_dry_run_writes_nothing_and_prints_the_rows(self):
        g = glance(fakes.member(BETA, 'accepted'), fakes.member('beta'))
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, None, unshare=True,
            dry_run=True)
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL)], g.calls)
        self.assertEqual([(IMAGE_ID, BETA, None, 'plan: remove'),
                          (IMAGE_ID, 'beta', None, 'plan: remove'),
                          (IMAGE_ID, None, None,
                           'plan: visibility shared->private')], rows)
        self.assertEqual([], errs)
        self.assertEqual([membership.W_WOULD_REVOKE.format(
            to=BETA, id=IMAGE_ID)], warnings)
        self.assertEqual('shared', g.images[IMAGE_ID]['visibility'])

    def test_dry_run_names_the_members_that_keep_it_shared(self):
        g = glance(fakes.member(BETA), fakes.member('c3' * 16))
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, ['beta', 'alpha'],
            unshare=True, dry_run=True)
        self.assertEqual(['plan: remove', 'not a member'],
                         [r[3] for r in rows])
        self.assertIn("keeps 1 member(s), so it stays 'shared'", warnings[-1])
        self.assertNotIn('DELETE', [c[0] for c in g.calls])

    def test_dry_run_of_share_briefly_reads_only_the_image(self):
        g = glance(fakes.member(BETA, 'accepted'), visibility='private')
        rows, warnings, errs = membership.revoke(
            g, test_share.Ident(), IMAGE_ID, ['beta'], share_briefly=True,
            dry_run=True)
        self.assertEqual([('GET', IMG_URL)], g.calls)
        self.assertEqual([(IMAGE_ID, BETA, 'beta', 'plan: remove if a member'),
                          (IMAGE_ID, None, None,
                           'plan: visibility private->shared->private')],
                         rows)
        self.assertEqual([membership.W_PLAN_HIDDEN.format(id=IMAGE_ID)],
                         warnings)

    def test_name_found_among_the_members_names(self):
        g = glance(fakes.member(BETA, 'accepted'))
        ident = Unsearchable(names={BETA: 'beta'})
        rows, warnings, errs = membership.revoke(g, ident, IMAGE_ID,
                                                 ['beta'])
        self.assertEqual([(IMAGE_ID, BETA, 'beta', 'removed')], rows)
        self.assertEqual([], errs)
        self.assertIn(('DELETE', MEMBERS_URL + '/' + BETA), g.calls)

    def test_name_nobody_can_read_says_to_give_the_id(self):
        g = glance(fakes.member(BETA, 'accepted'))
        rows, warnings, errs = membership.revoke(g, Unsearchable(), IMAGE_ID,
                                                 ['beta'])
        self.assertEqual([], rows)    # a failure has no row
        self.assertEqual([membership.E_NO_SUCH_MEMBER.format(
            ref='beta', id=IMAGE_ID, me='alpha')], errs)
        self.assertIn("'openstack image share status %s'" % IMAGE_ID,
                      errs[0])
        self.assertNotIn('DELETE', [c[0] for c in g.calls])

    def test_not_owner(self):
        g = glance(fakes.member(BETA), owner=BETA)
        self.assertRaises(errors.ImageShareError, membership.revoke, g,
                          test_share.Ident(), IMAGE_ID, ['beta'])
        self.assertEqual([('GET', IMG_URL)], g.calls)


class TestList(base.TestCase):

    def test_list_shares(self):
        g = glance(fakes.member(BETA, 'accepted'))
        g.images['hid'] = fakes.image(id='hid', name='h', os_hidden=True)
        g.members['hid'] = {BETA: fakes.member(BETA, image_id='hid')}
        rows = membership.list_shares(g, test_share.Ident(
            names={BETA: 'beta'}))
        self.assertEqual([
            ('GET', '/v2/images?owner=%s&visibility=shared' % ALPHA),
            ('GET', '/v2/images?os_hidden=true&owner=%s&visibility=shared'
             % ALPHA),
            ('GET', MEMBERS_URL), ('GET', '/v2/images/hid/members')],
            g.calls)
        self.assertEqual([(IMAGE_ID, 'web', ALPHA, BETA, 'beta', 'accepted',
                           fakes.WHEN),
                          ('hid', 'h', ALPHA, BETA, 'beta', 'pending',
                           fakes.WHEN)], rows)

    def test_list_incoming(self):
        g = fakes.FakeGlance(
            [fakes.image(), fakes.image(id='mine', owner=BETA),
             fakes.image(id='hid', os_hidden=True)],
            {IMAGE_ID: [fakes.member(BETA)],
             'hid': [fakes.member(BETA, 'accepted', 'hid')]})
        rows = membership.list_incoming(g, test_share.Ident(
            project_id=BETA, project_name='beta'))
        self.assertEqual([
            ('GET', '/v2/images?member_status=all&visibility=shared'),
            ('GET', '/v2/images?member_status=all&os_hidden=true&'
             'visibility=shared'),
            ('GET', MEMBERS_URL + '/' + BETA),
            ('GET', '/v2/images/hid/members/' + BETA)], g.calls)
        self.assertEqual([(IMAGE_ID, 'web', ALPHA, BETA, 'beta', 'pending',
                           fakes.WHEN),
                          ('hid', 'web', ALPHA, BETA, 'beta', 'accepted',
                           fakes.WHEN)], rows)
