"""The status workflow, on a fake Glance and a fake Keystone."""

from osc_imageshare.cli import share_status as status_cmd
from osc_imageshare import errors
from osc_imageshare.ops import share_status
from tests.unit import base
from tests.unit import fakes

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID

DEPENDS = ("Image %s stays in project %%s: if that project deletes or "
           "unshares it, or the project is closed, instances booted from it "
           "in other projects can fail to rebuild, evacuate or migrate."
           % IMAGE_ID)


IMG_URL = '/v2/images/%s' % IMAGE_ID
MEMBERS_URL = IMG_URL + '/members'
BY_NAME = '/v2/images?member_status=all&name=web'
BY_NAME_HIDDEN = BY_NAME + '&os_hidden=true'


class TestFindImage(base.TestCase):

    def test_by_id_is_one_get(self):
        glance = fakes.FakeGlance([fakes.image()])
        data, _ = share_status.read(glance, fakes.FakeIdentity(), IMAGE_ID)
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL)],
                         glance.calls)
        self.assertEqual(IMAGE_ID, data['id'])

    def test_by_name_lists_all_member_statuses(self):
        glance = fakes.FakeGlance([fakes.image()])
        share_status.read(glance, fakes.FakeIdentity(), 'web')
        self.assertEqual([('GET', BY_NAME), ('GET', BY_NAME_HIDDEN),
                          ('GET', MEMBERS_URL)], glance.calls)

    def test_by_name_finds_a_hidden_image(self):
        glance = fakes.FakeGlance([fakes.image(os_hidden=True)])
        data, _ = share_status.read(glance, fakes.FakeIdentity(), 'web')
        self.assertEqual(IMAGE_ID, data['id'])

    def test_a_hidden_and_a_listed_image_of_one_name_are_ambiguous(self):
        glance = fakes.FakeGlance([fakes.image(id='i1'), fakes.image(
            id='i2', os_hidden=True)])
        e = self.assertRaises(errors.ImageShareError, share_status.read,
                              glance, fakes.FakeIdentity(), 'web')
        self.assertIn('More than one image named', str(e))

    def test_id_not_found_falls_back_to_name(self):
        glance = fakes.FakeGlance([])
        e = self.assertRaises(errors.ImageShareError, share_status.read,
                              glance, fakes.FakeIdentity(), IMAGE_ID)
        self.assertEqual([('GET', IMG_URL), (
            'GET', '/v2/images?member_status=all&name=%s' % IMAGE_ID), (
            'GET', '/v2/images?member_status=all&name=%s&os_hidden=true'
            % IMAGE_ID)], glance.calls)
        self.assertEqual(
            "No image named or with ID '%s' is visible to project alpha: it "
            "does not exist, or it is neither owned by, shared with, nor "
            "public to that project" % IMAGE_ID, str(e))

    def test_ambiguous_name(self):
        glance = fakes.FakeGlance([fakes.image(id='i1'),
                                   fakes.image(id='i2', owner=BETA)])
        e = self.assertRaises(errors.ImageShareError, share_status.read,
                              glance, fakes.FakeIdentity(), 'web')
        self.assertEqual(
            "More than one image named 'web' is visible to project alpha (i1 "
            "owned by %s, i2 owned by %s); use the image ID" % (ALPHA, BETA),
            str(e))
        self.assertEqual([('GET', BY_NAME), ('GET', BY_NAME_HIDDEN)],
                         glance.calls)


def shared(*members, fail=None, **over):
    return fakes.FakeGlance([fakes.image(**over)], {IMAGE_ID: members},
                            fail)


class TestShareStatus(base.TestCase):

    def test_owner_view(self):
        glance = shared(fakes.member(BETA, 'accepted'), fakes.member('beta'))
        ident = fakes.FakeIdentity(names={ALPHA: 'alpha', BETA: 'beta'},
                                   exists={BETA: True, 'beta': False})
        data, warnings = share_status.read(glance, ident, IMAGE_ID)
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL)],
                         glance.calls)
        self.assertEqual(list(status_cmd.FIELDS), list(data))
        self.assertEqual('owner', data['caller_role'])
        self.assertEqual('alpha', data['owner_name'])
        self.assertIsNone(data['member_status'])
        self.assertEqual([
            {'project_id': BETA, 'project_name': 'beta',
             'status': 'accepted', 'created_at': fakes.WHEN,
             'updated_at': fakes.WHEN},
            {'project_id': 'beta', 'project_name': None,
             'status': 'pending', 'created_at': fakes.WHEN,
             'updated_at': fakes.WHEN}], data['members'])
        self.assertEqual([
            DEPENDS % ('alpha (%s)' % ALPHA),
            "Image %s is not protected and 1 project(s) have accepted it: "
            "the owner can delete it by accident; protect it with 'openstack "
            "image set --protected %s'." % (IMAGE_ID, IMAGE_ID),
            "Member beta of image %s is not an existing project (Glance "
            "accepts any string, a project name or a typo included): nobody "
            "can accept it; remove it with 'openstack image share revoke "
            "%s beta'." % (IMAGE_ID, IMAGE_ID),
        ], warnings)
        # The same risks as data: a keyword each, then the sentence.
        self.assertEqual([{'code': code, 'sentence': sentence}
                          for code, sentence in zip(
                              ['owner-dependency', 'unprotected',
                               'not-a-project'], warnings)], data['risks'])

    def test_every_risk_keyword_is_one_of_status_risks(self):
        glance = shared(fakes.member(BETA), visibility='community')
        data, warnings = share_status.read(
            glance, fakes.FakeIdentity(exists={BETA: True}), IMAGE_ID)
        self.assertEqual(['not-shared'], [r['code'] for r in data['risks']])
        data, _ = share_status.read(
            fakes.FakeGlance([fakes.image(visibility='private')]),
            fakes.FakeIdentity(), IMAGE_ID)
        self.assertEqual(['private'], [r['code'] for r in data['risks']])
        self.assertLessEqual({r['code'] for r in data['risks']},
                             set(share_status.RISKS))

    def test_a_rejected_member_is_a_risk_for_the_owner_only(self):
        glance = shared(fakes.member(BETA, 'rejected'))
        ident = fakes.FakeIdentity(names={BETA: 'beta'}, exists={BETA: True})
        data, warnings = share_status.read(glance, ident, IMAGE_ID)
        self.assertEqual(['owner-dependency', 'rejected'],
                         [r['code'] for r in data['risks']])
        self.assertEqual(
            "Project beta (%s) has rejected image %s: Glance hides it from "
            "that project's image lists, but the project can still accept "
            "it, and can still boot it by its ID; ask the project to accept "
            "it (in that project: 'openstack image share accept %s'), or "
            "revoke its membership ('openstack image share revoke %s %s')."
            % (BETA, IMAGE_ID, IMAGE_ID, IMAGE_ID, BETA), warnings[-1])
        self.assertLessEqual({r['code'] for r in data['risks']},
                             set(share_status.RISKS))
        # The member that rejected it is not told to ask itself.
        ident = fakes.FakeIdentity(project_id=BETA, project_name='beta',
                                   names={BETA: 'beta'}, exists={BETA: True})
        data, _ = share_status.read(shared(fakes.member(BETA, 'rejected')),
                                    ident, IMAGE_ID)
        self.assertEqual(['owner-dependency'],
                         [r['code'] for r in data['risks']])

    def test_member_view_pending(self):
        glance = shared(fakes.member(BETA))
        ident = fakes.FakeIdentity(project_id=BETA, project_name='beta',
                                   names={BETA: 'beta'},
                                   exists={BETA: True})
        data, warnings = share_status.read(glance, ident, 'web')
        self.assertEqual('member', data['caller_role'])
        self.assertEqual('pending', data['member_status'])
        self.assertIsNone(data['owner_name'])
        self.assertEqual([
            DEPENDS % ALPHA,
            "Project beta (%s) has not accepted image %s (pending since "
            "%s): the image is hidden from its image list until it runs "
            "'openstack image share accept %s'."
            % (BETA, IMAGE_ID, fakes.WHEN, IMAGE_ID)], warnings)

    def test_member_view_counts_only_what_the_member_sees(self):
        # Glance shows a member its own membership only: the others here
        # stand for what it does not show.
        glance = shared(fakes.member(BETA, 'accepted'),
                        fakes.member('c3' * 16, 'accepted'))
        ident = fakes.FakeIdentity(project_id=BETA, project_name='beta',
                                   names={BETA: 'beta'},
                                   exists={BETA: True})
        data, warnings = share_status.read(glance, ident, IMAGE_ID)
        self.assertEqual([BETA], [m['project_id'] for m in data['members']])
        self.assertEqual([
            DEPENDS % ALPHA,
            "Image %s is not protected and your project beta (%s) has "
            "accepted it: the owner can delete it by accident (Glance shows "
            "a member only its own membership: other projects may use it "
            "too); ask project %s to protect it." % (IMAGE_ID, BETA, ALPHA),
        ], warnings)

    def test_protected_image_has_no_unprotected_warning(self):
        glance = shared(fakes.member(BETA, 'accepted'), protected=True)
        data, warnings = share_status.read(
            glance, fakes.FakeIdentity(exists={BETA: True}), IMAGE_ID)
        self.assertTrue(data['protected'])
        self.assertEqual([DEPENDS % ('alpha (%s)' % ALPHA)], warnings)

    def test_unverifiable_member_is_not_flagged(self):
        glance = shared(fakes.member(BETA, 'accepted'))
        ident = fakes.FakeIdentity(exists={BETA: None})
        _, warnings = share_status.read(glance, ident, IMAGE_ID)
        self.assertNotIn('not an existing project', ' '.join(warnings))
        self.assertIn(('exists', BETA), ident.calls)

    def test_private_image_members_are_not_asked(self):
        glance = fakes.FakeGlance([fakes.image(visibility='private')])
        data, warnings = share_status.read(glance, fakes.FakeIdentity(),
                                           IMAGE_ID)
        self.assertEqual([('GET', IMG_URL)], glance.calls)
        self.assertEqual([], data['members'])
        self.assertEqual([
            "Image %s is private: no other project can use it. Glance does "
            "not list the members of a private image: those it had when it "
            "was made private, if any, get their access back if it is set "
            "'shared' again." % IMAGE_ID], warnings)

    def test_public_image_seen_by_another_project(self):
        glance = fakes.FakeGlance([fakes.image(visibility='public')])
        ident = fakes.FakeIdentity(project_id=BETA, project_name='beta')
        data, warnings = share_status.read(glance, ident, IMAGE_ID)
        self.assertEqual('none', data['caller_role'])
        self.assertEqual([], warnings)

    def test_admin_sees_every_member(self):
        glance = shared(fakes.member(BETA), fakes.member('c3' * 16))
        ident = fakes.FakeIdentity(project_id='ad' * 16, admin=True,
                                   exists={BETA: True, 'c3' * 16: False})
        data, warnings = share_status.read(glance, ident, IMAGE_ID)
        self.assertEqual('admin', data['caller_role'])
        self.assertEqual(2, len(data['members']))
        self.assertEqual(3, len(warnings))

    def test_shared_image_of_which_caller_is_not_member(self):
        glance = shared(fail={('GET', MEMBERS_URL): errors.NotFound(
            'Image %s not found.' % IMAGE_ID)})
        ident = fakes.FakeIdentity(project_id=BETA)
        data, warnings = share_status.read(glance, ident, IMAGE_ID)
        self.assertEqual('none', data['caller_role'])
        self.assertEqual([], data['members'])
        self.assertEqual([], warnings)


class KeystoneIdent(fakes.FakeIdentity):
    """Keystone's word on members: a domain, a user, a disabled domain."""

    DOMAIN, USER, INNER = 'd0' * 16, 'e0' * 16, 'f0' * 16

    def get_project(self, project_id):
        return {self.DOMAIN: {'id': self.DOMAIN, 'name': 'customers',
                              'is_domain': True},
                self.INNER: {'id': self.INNER, 'name': 'inner',
                             'domain_id': 'dd', 'enabled': True},
                BETA: {'id': BETA, 'name': 'beta', 'domain_id': 'default'},
                }.get(project_id, False)

    def project_exists(self, project_id):
        found = self.get_project(project_id)
        return not found.get('is_domain') if found else False

    def is_user(self, user_id):
        return user_id == self.USER

    def get_domain(self, domain_id):
        return {'id': domain_id, 'name': 'off',
                'enabled': domain_id != 'dd'}


class TestMembersAsKeystoneSaysThey(base.TestCase):

    def test_domains_users_and_a_disabled_domain(self):
        i = KeystoneIdent
        glance = fakes.FakeGlance([fakes.image()], {IMAGE_ID: [
            fakes.member(m, 'accepted') for m in (
                i.DOMAIN, i.USER, i.INNER, BETA)]})
        data, _ = share_status.read(glance, i(), IMAGE_ID)
        risks = [(r['code'], r['sentence']) for r in data['risks']]
        found = {(code, m) for code, s in risks
                 for m in (i.DOMAIN, i.USER, i.INNER, BETA) if m in s}
        self.assertEqual({('not-a-project', i.DOMAIN),
                          ('not-a-project', i.USER),
                          ('domain-disabled', i.INNER)}, found)
        self.assertTrue(any(s.startswith(
            'Member %s of image %s is a domain, not a project'
            % (i.DOMAIN, IMAGE_ID)) for _, s in risks), risks)
        self.assertIn('its domain off (dd) is disabled',
                      dict(risks)['domain-disabled'])

    def test_the_owner_sees_a_label_it_did_not_write_a_member_not(self):
        odd = '{"note": "x\' \'openstack image delete y\' \'"}'
        glance = fakes.FakeGlance([fakes.image(imageshare_sharing=odd)],
                                  {IMAGE_ID: [fakes.member(BETA)]})
        data, _ = share_status.read(glance, fakes.FakeIdentity(), IMAGE_ID)
        self.assertIn('unrecognised-label',
                      [r['code'] for r in data['risks']])
        bob = fakes.FakeIdentity(project_id=BETA, project_name='beta')
        data, _ = share_status.read(glance, bob, IMAGE_ID)
        self.assertNotIn('unrecognised-label',
                         [r['code'] for r in data['risks']])
