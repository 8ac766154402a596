"""image share audit: scopes, the risk table, --fix, the command."""

import datetime
import json
from unittest import mock

from osc_imageshare.api import glance as images
from osc_imageshare.api import identity
from osc_imageshare.cli import share_audit as audit_cmd
from osc_imageshare import errors
from osc_imageshare.ops import audit
from osc_imageshare.ops import messages
from osc_imageshare.ops import share_risks
from tests.unit import base
from tests.unit import fakes

ALPHA, BETA = fakes.ALPHA, fakes.BETA
GONE = 'dd' * 16        # an ID Keystone no longer knows
OFF = 'ee' * 16         # a disabled project
ID1, ID2, ID3 = ('1' * 8 + '-0000-0000-0000-' + '0' * 12,
                 '2' * 8 + '-0000-0000-0000-' + '0' * 12,
                 '3' * 8 + '-0000-0000-0000-' + '0' * 12)
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
OLD = '2026-10-01T00:00:00Z'        # 61 days before NOW
NEW = '2026-11-30T00:00:00Z'        # 1 day before NOW
PAGE1 = ('/v2/images?limit=200&owner=%s&sort_dir=asc&sort_key=id'
         '&visibility=shared' % ALPHA)
HIDDEN1 = ('/v2/images?limit=200&os_hidden=true&owner=%s&sort_dir=asc'
           '&sort_key=id&visibility=shared' % ALPHA)


class Ident(fakes.FakeIdentity):
    """Identity with Keystone's three answers: dict, False, None."""

    def __init__(self, projects=None, **kw):
        super().__init__(**kw)
        self.projects = {ALPHA: {'id': ALPHA, 'name': 'alpha'},
                         BETA: {'id': BETA, 'name': 'beta'},
                         OFF: {'id': OFF, 'name': 'off', 'enabled': False},
                         GONE: False}
        self.projects.update(projects or {})

    def get_project(self, project_id):
        self.calls.append(('get', project_id))
        return self.projects.get(project_id)

    def why_unknown(self, project_id):
        if self.projects.get(project_id) is None:
            return (identity.HIDDEN, 'Keystone does not let project alpha '
                    'read other projects')
        return None

    def judged(self):
        return dict(self.projects)

    def check_own_project(self):
        found = self.projects.get(self.project_id)
        return found, None if found is not None else (
            identity.BAD_ANSWER, 'the identity service answered HTTP 500')

    def is_user(self, user_id):
        return user_id in getattr(self, 'users', ())

    def get_domain(self, domain_id):
        return getattr(self, 'domains', {}).get(domain_id)

    def resolve_project(self, ref, domain=None):
        self.calls.append(('resolve', ref, domain))
        found = [p for p in self.projects.values()
                 if p and ref in (p['id'], p['name'])]
        if not found:
            raise errors.ImageShareError('no project %s' % ref)
        return found[0], True


def member(mid, status='pending', when=NEW, image_id=ID1):
    return dict(fakes.member(mid, status, image_id), created_at=when)


def cloud(members=None, **over):
    """ID1 owned by alpha; ID2 alpha's hidden one; ID3 beta's."""
    imgs = [fakes.image(id=ID1, name='one', **over),
            fakes.image(id=ID2, name='two', os_hidden=True),
            fakes.image(id=ID3, name='three', owner=BETA)]
    return fakes.FakeGlance(imgs, members)


def run(glance, ident, where=None, **kw):
    where = where or audit.scope(ident)
    return list(audit.audit(glance, ident, where, now=NOW, parallel=1,
                            **kw))


def risks(rows):
    return [(r[0], r[3], r[6]) for r in rows]


class TestRisks(base.TestCase):

    def test_owner_scope_each_risk_one_row_sorted(self):
        g = cloud({ID1: [member(BETA, 'accepted'), member('beta'),
                         member(GONE), member(OFF, 'accepted'),
                         member('cc' * 16, when=OLD)],
                   ID2: [member(BETA, 'pending', OLD, ID2)]})
        ident = Ident(projects={'cc' * 16: None})
        notes = audit.Notes()
        rows = run(g, ident, notes=notes)
        self.assertEqual([
            (ID1, BETA, 'unprotected'),
            (ID1, 'beta', 'not-a-project'),
            (ID1, 'cc' * 16, 'stale-pending'),
            (ID1, GONE, 'project-deleted'),
            (ID1, OFF, 'project-disabled'),
            (ID1, OFF, 'unprotected'),
            (ID2, BETA, 'stale-pending')], risks(rows))
        self.assertEqual([('GET', PAGE1), ('GET', HIDDEN1),
                          ('GET', '/v2/images/%s/members' % ID1),
                          ('GET', '/v2/images/%s/members' % ID2)], g.calls)
        self.assertEqual(
            (ID1, 'one', ALPHA, BETA, 'beta', 'accepted', 'unprotected',
             messages.W_UNPROTECTED.format(id=ID1, count=2)), rows[0])
        self.assertEqual(messages.W_NOT_PROJECT.format(
            member='beta', id=ID1, remove="with 'openstack image share "
            "revoke %s beta'" % ID1), rows[1][7])
        self.assertEqual(
            "Project beta (%s) has left image %s pending since %s (30 "
            "days or more): it accepts it with 'openstack image share "
            "accept %s', or the owner removes it with 'openstack image "
            "share revoke %s %s'." % (BETA, ID2, OLD, ID2, ID2, BETA),
            rows[6][7])
        # What it cannot verify is one line, not rows.
        self.assertEqual([(ID1, 'cc' * 16, ident.why_unknown('cc' * 16))],
                         notes.unverifiable)
        self.assertEqual([
            "1 member(s) could not be verified (Keystone does not let "
            "project alpha read other projects): an admin verifies them "
            "with 'openstack image share audit --project %s'; list them "
            "with --risk unverifiable" % ALPHA], notes.warnings(ident))
        rows = run(g, ident, risks=['unverifiable'])
        self.assertEqual([(ID1, 'cc' * 16, 'unverifiable')], risks(rows))
        self.assertIn("could not be verified", rows[0][7])

    def test_pending_days_zero_makes_every_pending_member_stale(self):
        g = cloud({ID1: [member(BETA, when=NEW)], ID2: []})
        self.assertEqual([], run(g, Ident()))
        self.assertEqual([(ID1, BETA, 'stale-pending')],
                         risks(run(g, Ident(), pending_days=0)))
        self.assertEqual([], run(g, Ident(), pending_days=1.5))

    def test_protected_image_and_all_rows(self):
        g = cloud({ID1: [member(BETA, 'accepted')]}, protected=True)
        self.assertEqual([], run(g, Ident()))
        self.assertEqual([(ID1, 'one', ALPHA, BETA, 'beta', 'accepted',
                           'none', '')], run(g, Ident(), show_all=True))

    def test_risk_filter(self):
        g = cloud({ID1: [member('beta'), member(GONE)]})
        self.assertEqual([(ID1, GONE, 'project-deleted')], risks(run(
            g, Ident(), risks=['project-deleted'])))

    def test_owner_gone_and_disabled_for_each_member(self):
        g = cloud({ID3: [member(ALPHA, image_id=ID3)]})
        ident = Ident(admin=True, projects={
            BETA: {'id': BETA, 'name': 'beta', 'enabled': False}})
        where = audit.scope(ident, all_projects=True)
        self.assertEqual([(ID3, ALPHA, 'owner-disabled')],
                         risks(run(g, ident, where)))
        ident.projects[BETA] = False
        self.assertEqual([(ID3, ALPHA, 'owner-gone')],
                         risks(run(g, Ident(admin=True, projects={
                             BETA: False}), where)))

    def test_pages_are_followed_one_at_a_time(self):
        g = cloud({ID1: [member('x')], ID3: [member('y', image_id=ID3)]})
        ident = Ident(admin=True)
        with mock.patch.object(images, 'PAGE', 1):
            rows = run(g, ident, audit.scope(ident, all_projects=True))
        self.assertEqual([(ID1, 'x', 'not-a-project'),
                          (ID3, 'y', 'not-a-project')], risks(rows))
        lists = [c[1] for c in g.calls if '?' in c[1]]
        self.assertEqual([
            '/v2/images?limit=1&sort_dir=asc&sort_key=id&visibility=shared',
            '/v2/images?limit=1&os_hidden=true&sort_dir=asc&sort_key=id'
            '&visibility=shared',
            '/v2/images?limit=1&marker=%s&sort_dir=asc&sort_key=id'
            '&visibility=shared' % ID1], lists)

    def test_an_image_deleted_meanwhile_has_no_rows(self):
        g = cloud({ID1: [member('x')]})
        g.fail[('GET', '/v2/images/%s/members' % ID1)] = \
            errors.NotFound('gone')
        self.assertEqual([], run(g, Ident(), show_all=True))


class TestKindRisks(base.TestCase):
    """The image kinds, and the label a dead run left."""

    KERNEL = '4' * 8 + '-0000-0000-0000-' + '0' * 12
    RAMDISK = '5' * 8 + '-0000-0000-0000-' + '0' * 12

    def companions(self, kernel_visibility, kernel_members=()):
        imgs = [fakes.image(id=ID1, name='ami', kernel_id=self.KERNEL,
                            ramdisk_id=self.RAMDISK),
                fakes.image(id=self.KERNEL, name='aki',
                            visibility=kernel_visibility),
                fakes.image(id=self.RAMDISK, name='ari',
                            visibility='public')]
        g = fakes.FakeGlance(imgs, {
            ID1: [member(BETA, 'accepted')],
            self.KERNEL: [member(m, image_id=self.KERNEL)
                          for m in kernel_members]})
        return g, run(g, Ident(), risks=['companions-unreadable'])

    def test_a_private_companion_is_unreadable_a_public_one_is_not(self):
        g, rows = self.companions('private')
        self.assertEqual([(ID1, BETA, 'companions-unreadable')],
                         risks(rows))
        self.assertEqual(
            "Project beta (%s) cannot read the kernel_id %s of image %s (%s), "
            "so it cannot boot the image: share it too ('openstack image "
            "transfer %s --to %s --no-accept'), then the member accepts it "
            "('openstack image share accept %s')." % (
                BETA, self.KERNEL, ID1, share_risks.COMPANION_WHY['private'],
                self.KERNEL, BETA, self.KERNEL), rows[0][7])
        # Each companion read once, whatever the number of members.
        self.assertEqual(1, [c[:2] for c in g.calls].count(
            ('GET', '/v2/images/%s' % self.KERNEL)))

    def test_a_companion_shared_with_the_member_is_readable(self):
        self.assertEqual([], self.companions('shared', [BETA])[1])
        self.assertEqual([(ID1, BETA, 'companions-unreadable')],
                         risks(self.companions('shared', [ALPHA])[1]))

    def test_volume_backed_and_encrypted(self):
        g = cloud({ID1: [member(BETA, 'accepted')]},
                  block_device_mapping='[{"snapshot_id": "snap-1"}]',
                  cinder_encryption_key_id='key-1')
        rows = run(g, Ident(), risks=['volume-backed', 'encrypted'])
        self.assertEqual([(ID1, BETA, 'volume-backed'),
                          (ID1, BETA, 'encrypted')], risks(rows))
        self.assertIn('snap-1', rows[0][7])
        self.assertIn('key-1', rows[1][7])

    def test_a_dead_runs_label_is_interrupted_even_without_members(self):
        dead = ('{"run": "nohost:1:0", "started": "2026-01-01T00:00:00Z", '
                '"targets": ["%s"], "checked": false}' % BETA)
        g = cloud({}, imageshare_sharing=dead)
        rows = run(g, Ident(), risks=['interrupted'])
        self.assertEqual([(ID1, None, 'interrupted')], risks(rows))
        self.assertIn("openstack image transfer %s --to %s'" % (ID1, BETA),
                      rows[0][7])


class TestScopes(base.TestCase):

    def test_incoming_keeps_my_membership_of_others_images(self):
        g = cloud({ID1: [member(BETA, 'accepted')],
                   ID3: [member(ALPHA, 'accepted', image_id=ID3)]})
        ident = Ident()
        ident.projects[BETA] = None         # may not read the owner
        rows = run(g, ident, audit.scope(ident, incoming=True))
        self.assertEqual([(ID3, ALPHA, 'unprotected')], risks(rows))
        self.assertEqual(messages.W_UNPROTECTED_MEMBER.format(
            id=ID3, member_label='alpha (%s)' % ALPHA, owner_label=BETA),
            rows[0][7])
        self.assertEqual(('GET', '/v2/images?limit=200&member_status=all'
                          '&sort_dir=asc&sort_key=id&visibility=shared'),
                         g.calls[0])
        self.assertNotIn(('GET', '/v2/images/%s/members' % ID1), g.calls)

    def test_incoming_reads_past_a_page_of_own_images(self):
        # Regression: a first page of the project's own images (all
        # skipped by --incoming) ended the audit before the shared ones.
        g = cloud({ID3: [member(ALPHA, 'accepted', image_id=ID3)]})
        ident = Ident()
        with mock.patch.object(images, 'PAGE', 1):
            rows = run(g, ident, audit.scope(ident, incoming=True))
        self.assertEqual([(ID3, ALPHA, 'unprotected')], risks(rows))

    def test_other_projects_need_admin(self):
        g = cloud()
        for kw, option in (({'all_projects': True}, '--all-projects'),
                           ({'project': 'beta'}, '--project')):
            e = self.assertRaises(errors.ImageShareError, audit.scope,
                                  Ident(), **kw)
            self.assertEqual(
                "%s needs an admin role, which project alpha does not "
                "have: audit your own project's images (no option), or "
                "those shared with it (--incoming)" % option, str(e))
        self.assertEqual([], g.calls)

    def test_admin_project_by_name_either_side(self):
        ident = Ident(admin=True)
        self.assertEqual(audit.Scope({'visibility': 'shared',
                                      'owner': BETA}, BETA, False),
                         audit.scope(ident, project='beta',
                                     project_domain='d'))
        self.assertEqual(('resolve', 'beta', 'd'), ident.calls[-1])
        self.assertEqual(audit.Scope({'visibility': 'shared',
                                      'member_status': 'all'}, BETA, True),
                         audit.scope(ident, True, project='beta'))

    def test_admin_project_deleted_by_id(self):
        where = audit.scope(Ident(admin=True), project=GONE)
        self.assertEqual(GONE, where.project)
        self.assertRaises(errors.ImageShareError, audit.scope,
                          Ident(admin=True), project='nope')


class TestFix(base.TestCase):

    def rows(self, g, ident=None):
        return run(g, ident or Ident())

    def test_dry_run_changes_nothing(self):
        g = cloud({ID1: [member('beta'), member(GONE), member(OFF),
                         member(BETA, 'accepted')]})
        rows, errs = audit.fix(g, Ident(), self.rows(g), True, True)
        self.assertEqual([
            (ID1, None, 'unprotected', 'would protect'),
            (ID1, 'beta', 'not-a-project', 'would remove'),
            (ID1, GONE, 'project-deleted', 'would remove')],
            [(r[0], r[3], r[6], r[8]) for r in rows])
        self.assertEqual([], errs)
        self.assertEqual([], [c for c in g.calls if c[0] != 'GET'])

    def test_fix_removes_the_dead_members_only(self):
        g = cloud({ID1: [member('beta'), member(GONE), member(OFF),
                         member(BETA, 'accepted')]})
        g.calls.clear()
        rows, errs = audit.fix(g, Ident(), self.rows(g), parallel=1)
        writes = [c for c in g.calls if c[0] != 'GET']
        self.assertEqual([
            ('DELETE', '/v2/images/%s/members/beta' % ID1),
            ('DELETE', '/v2/images/%s/members/%s' % (ID1, GONE))], writes)
        self.assertEqual(['removed', 'removed'], [r[8] for r in rows])
        self.assertEqual({OFF, BETA}, set(g.members[ID1]))

    def test_protect_own_images_once_never_others(self):
        g = cloud({ID1: [member(BETA, 'accepted'), member(OFF, 'accepted')],
                   ID3: [member(ALPHA, 'accepted', image_id=ID3)]})
        ident = Ident(admin=True)
        rows = run(g, ident, audit.scope(ident, all_projects=True))
        g.calls.clear()
        fixed, errs = audit.fix(g, ident, rows, protect=True, parallel=1)
        self.assertEqual([('PATCH', '/v2/images/%s' % ID1, [
            {'op': 'replace', 'path': '/protected', 'value': True}])],
            g.calls)
        self.assertEqual([(ID1, 'one', ALPHA, None, None, None,
                           'unprotected', rows[0][7], 'protected')], fixed)

    def test_failures_are_reported_per_fix(self):
        g = cloud({ID1: [member('beta'), member('gamma')]})
        rows = self.rows(g)
        g.fail[('DELETE', '/v2/images/%s/members/beta' % ID1)] = \
            errors.Forbidden('not allowed')
        del g.members[ID1]['gamma']         # removed meanwhile: a 404
        fixed, errs = audit.fix(g, Ident(), rows, parallel=1)
        self.assertEqual([('gamma', 'removed')],
                         [(r[3], r[8]) for r in fixed])
        self.assertEqual(['Could not remove member beta (image %s): Glance '
                          'answered HTTP 403: not allowed' % ID1], errs)

    def test_a_readers_fix_is_the_role_sentence(self):
        g = cloud({ID1: [member('beta')]})
        rows = self.rows(g)
        g.session = mock.Mock()
        g.session.auth.get_access.return_value = mock.Mock(
            project_name='alpha', project_id=ALPHA, role_names=['reader'])
        g.fail[('DELETE', '/v2/images/%s/members/beta' % ID1)] = \
            errors.Forbidden('You are not authorized to complete '
                             'delete_member action.')
        fixed, errs = audit.fix(g, Ident(), rows, parallel=1)
        self.assertEqual([], fixed)    # a failure has no row: its line
        self.assertEqual([
            'Could not remove member beta (image %s): Your role in project '
            'alpha is reader; Glance requires the member role (or admin) to '
            'remove members from an image (its delete_member policy): ask '
            'for the member role there, or act with credentials that have '
            'it' % ID1], errs)

    def test_member_ids_any_string_quoted_never_removed_falsely(self):
        # Regression: 'a#b' and 'c?d' went unquoted into the URL (a 404,
        # taken for 'gone already': 'removed', and still there); 'e/f'
        # Glance cannot address at all: a failure, not 'removed'.
        g = cloud({ID1: [member('a#b'), member('c?d'), member('e/f')]})
        fixed, errs = audit.fix(g, Ident(), self.rows(g), parallel=1)
        self.assertEqual([('a#b', 'removed'), ('c?d', 'removed')],
                         [(r[3], r[8]) for r in fixed])
        self.assertEqual([audit.E_FIX_FAILED.format(
            what='remove member e/f', id=ID1, why=audit.E_UNADDRESSABLE)],
            errs)
        self.assertEqual({'e/f'}, set(g.members[ID1]))
        self.assertIn(('DELETE', '/v2/images/%s/members/a%%23b' % ID1),
                      g.calls)


class TestCommand(base.TestCommand):

    def cmd(self):
        return audit_cmd.AuditImageShare(self.app, None)

    def refused(self, *argv):
        self.assertRaises(base.ParserException, self.check_parser,
                          self.cmd(), list(argv), [])

    def test_usage_errors(self):
        for argv in (['--pending-days', '-1'], ['--pending-days', 'nan'],
                     ['--pending-days', 'inf'], ['--risk', 'typo'],
                     ['--all-projects', '--project', 'beta'],
                     ['--all-projects', '--incoming'], ['--protect'],
                     ['--dry-run'], ['--project-domain', 'd'],
                     # Regression: '' audited the caller's own project.
                     ['--project', ''], ['--project', ' '],
                     ['--parallel', '0']):
            self.refused(*argv)

    def test_parallel_help_says_it_runs_the_fixes_too(self):
        # Regression: --fix runs its fixes --parallel at a time as well.
        parser = self.cmd().get_parser('audit')
        action = [a for a in parser._actions if a.dest == 'parallel'][0]
        self.assertIn('then fixes', action.help)

    def test_defaults(self):
        self.check_parser(self.cmd(), [], [
            ('pending_days', 30), ('risks', []), ('show_all', False),
            ('fix', False), ('parallel', None), ('incoming', False)])
        self.check_parser(self.cmd(), ['--pending-days', '0', '--risk',
                                       'unprotected', '--risk',
                                       'stale-pending'],
                          [('pending_days', 0.0),
                           ('risks', ['unprotected', 'stale-pending'])])

    @mock.patch('osc_imageshare.api.identity.Identity.from_client_manager')
    def test_fix_failure_is_the_summary(self, from_cm):
        from_cm.return_value = Ident()
        g = cloud({ID1: [member('beta'), member(GONE)]})
        g.fail[('DELETE', '/v2/images/%s/members/beta' % ID1)] = \
            errors.Forbidden('no')
        self.app.client_manager.image_share = g
        cmd = self.cmd()
        parsed = self.check_parser(cmd, ['--fix', '--parallel', '1'], [])
        with mock.patch.object(audit, '_now', return_value=NOW):
            columns, rows = cmd.take_action(parsed)
        self.assertEqual(audit_cmd.FIX_COLUMNS, columns)
        self.assertEqual([(GONE, 'removed')], [(r[3], r[8]) for r in rows])
        self.assertEqual('Failed to fix 1 of 2 risks', cmd.failure)

    @mock.patch('osc_imageshare.api.identity.Identity.from_client_manager')
    def test_audit_rows_are_a_generator(self, from_cm):
        from_cm.return_value = Ident()
        self.app.client_manager.image_share = cloud({ID1: [member('x')]})
        cmd = self.cmd()
        columns, rows = cmd.take_action(self.check_parser(cmd, [], []))
        self.assertEqual(audit_cmd.COLUMNS, columns)
        self.assertEqual([(ID1, 'x', 'not-a-project')],
                         risks(list(rows)))
        self.assertIsNone(cmd.failure)


class TestLookups(base.TestCase):
    """With the real Identity: one Keystone request per project a run."""

    def test_each_project_looked_up_once(self):
        from keystoneauth1 import exceptions as ks_exc

        from osc_imageshare.api import identity

        answers = {'/auth/projects': {'projects': [
                       {'id': ALPHA, 'name': 'alpha'}]},
                   '/projects/' + BETA: {'project': {'id': BETA,
                                                     'name': 'beta'}}}

        def get(path, endpoint_filter):
            if path not in answers:
                raise ks_exc.NotFound(response=mock.Mock(json=mock.Mock(
                    return_value={'error': {'code': 404}})))
            return mock.Mock(json=mock.Mock(return_value=answers[path]))
        session = mock.Mock()
        session.get.side_effect = get
        ident = identity.Identity(session, mock.Mock(
            project_id=ALPHA, project_name='alpha', role_names=['admin']))
        g = cloud({ID1: [member(BETA), member(GONE)],
                   ID2: [member(BETA, image_id=ID2),
                         member(GONE, image_id=ID2)]})
        rows = run(g, ident, show_all=True)
        self.assertEqual([(ID1, BETA, 'none'), (ID1, GONE, 'project-deleted'),
                          (ID2, BETA, 'none'), (ID2, GONE, 'project-deleted')],
                         risks(rows))
        self.assertEqual(['/auth/projects', '/projects/' + BETA,
                          '/projects/' + GONE, '/users/' + GONE],
                         [c.args[0] for c in session.get.call_args_list])


class TestUntrusted(base.TestCase):
    """Keystone's answers judged, labels validated, commands quoted."""

    def test_commands_quote_members_and_name_only_image_and_member(self):
        import shlex
        g = cloud({ID1: [member('x y', when=OLD), member('dis1', when=OLD),
                         member("a'b $(id)", when=OLD),
                         member('-x', when=OLD),
                         member('$(touch x)/y', when=OLD)]})
        rows = run(g, Ident(), risks=['not-a-project', 'stale-pending'])
        # Not a project: nothing to accept, no stale-pending advice.
        self.assertEqual(['not-a-project'] * 5, [r[6] for r in rows])
        # Glance cannot address a member with a '/': no command is offered
        # (one would fail, saying the image does not exist).
        [slash] = [r for r in rows if '/' in r[3]]
        self.assertEqual([], messages.suggested_commands(slash[7]))
        self.assertIn(messages.REMOVE_NO_URL, slash[7])
        for row in rows:
            if row is slash:
                continue
            commands = messages.suggested_commands(row[7])
            self.assertTrue(commands, row)
            for text in commands:
                argv = shlex.split(text)
                # 'image share revoke' removes the literal member string.
                self.assertNotIn('remove', argv)
                self.assertIn(argv[-1], (row[0], row[3]), text)
                self.assertEqual(set(), set(argv[4:]) - {
                    row[0], row[3], '--'})
                # A member beginning with '-' comes after '--'.
                if argv[-1].startswith('-'):
                    self.assertEqual('--', argv[-2])

    def test_bad_answers_are_unverifiable_never_deleted(self):
        ident = Ident(admin=True, projects={GONE: None})
        ident.why_unknown = lambda pid: (
            identity.BAD_ANSWER, 'the identity service answered 404 with a '
            'body of type text/html, not its JSON error')
        g = cloud({ID1: [member(GONE, 'accepted')]})
        notes = audit.Notes()
        self.assertEqual([(ID1, GONE, 'unprotected')],
                         risks(run(g, ident, notes=notes)))
        self.assertEqual([
            "1 member(s) could not be verified (the identity service "
            "answered 404 with a body of type text/html, not its JSON "
            "error): check the identity service; list them with --risk "
            "unverifiable"], notes.warnings(ident))

    def test_an_answer_proves_a_project_a_pending_member_does_not(self):
        ident = Ident(projects={BETA: None, GONE: None})
        g = cloud({ID1: [member(BETA, 'accepted'), member(GONE, 'rejected'),
                         member(OFF + '', 'pending')]})
        ident.projects[OFF] = None
        notes = audit.Notes()
        run(g, ident, notes=notes)
        self.assertEqual([OFF], [m for _i, m, _w in notes.unverifiable])

    def test_domains_users_and_disabled_domains(self):
        dom, user, indom = 'd0' * 16, 'e0' * 16, 'f0' * 16
        ident = Ident(admin=True, projects={
            dom: {'id': dom, 'name': 'd', 'is_domain': True,
                  'enabled': False},
            user: False,
            indom: {'id': indom, 'name': 'p', 'domain_id': dom}})
        ident.users = {user}
        ident.domains = {dom: {'id': dom, 'name': 'd', 'enabled': False}}
        g = cloud({ID1: [member(dom), member(user), member(indom)]})
        rows = run(g, ident)
        self.assertEqual([(ID1, dom, 'not-a-project'),
                          (ID1, user, 'not-a-project'),
                          (ID1, indom, 'domain-disabled')], risks(rows))
        self.assertIn('is a domain, not a project', rows[0][7])
        self.assertNotIn('project set --enable', rows[0][7])
        self.assertIn('is a user, not a project', rows[1][7])
        self.assertIn("'openstack domain set --enable %s'" % dom, rows[2][7])

    def test_fix_removes_nothing_when_answers_look_wrong(self):
        g = cloud({ID1: [member(GONE), member('beta')]})
        for projects, why in (
                ({ALPHA: False}, 'your own project %s reads as deleted'
                 % ALPHA),
                ({ALPHA: None}, 'your own project %s reads as the '
                 'identity service answered HTTP 500' % ALPHA)):
            ident = Ident(admin=True)
            rows = run(g, ident)
            ident.projects.update(projects)
            g.calls.clear()
            e = self.assertRaises(errors.ImageShareError, audit.fix, g,
                                  ident, rows, parallel=1)
            self.assertEqual(audit.E_SUSPECT.format(why=why), str(e))
            self.assertEqual([], g.calls)
        # The owner reading as gone: no removal either.
        ident = Ident(admin=True)
        ident.projects[ALPHA] = {'id': ALPHA}
        rows = run(g, ident)
        ident.check_own_project = lambda: ({'id': ALPHA}, None)
        ident.projects[ALPHA] = False
        e = self.assertRaises(errors.ImageShareError, audit.fix, g, ident,
                              rows, dry_run=True)
        self.assertIn('the owner %s of image(s) to fix reads as deleted'
                      % ALPHA, str(e))
        # Every member project reading as deleted is not believed; one
        # that exists makes the others plausible.
        many = ['%02d' % n * 16 for n in range(10, 15)]
        g = cloud({ID1: [member(m) for m in many]})
        ident = Ident(admin=True, projects={m: False for m in many})
        notes = audit.Notes()
        rows = run(g, ident, notes=notes)
        e = self.assertRaises(errors.ImageShareError, audit.fix, g, ident,
                              rows, notes=notes)
        self.assertIn('all 5 member projects looked up read as deleted',
                      str(e))
        g.members[ID1][BETA] = member(BETA)
        notes = audit.Notes()
        rows = run(g, ident, notes=notes)
        fixed, _ = audit.fix(g, ident, rows, dry_run=True, notes=notes)
        self.assertEqual(['would remove'] * 5, [r[8] for r in fixed])

    def test_an_image_whose_members_cannot_be_read_is_a_row(self):
        g = cloud({ID1: [member('x')], ID2: [member('y', image_id=ID2)]})
        g.fail[('GET', '/v2/images/%s/members' % ID1)] = \
            errors.Forbidden('no')
        notes = audit.Notes()
        rows = run(g, Ident(), notes=notes)
        self.assertEqual([(ID1, None, 'unreadable'),
                          (ID2, 'y', 'not-a-project')], risks(rows))
        self.assertEqual('Could not read the members of image %s: Glance '
                         'answered HTTP 403: no' % ID1, rows[0][7])
        self.assertEqual([rows[0][7]], notes.unreadable)

    def test_labels_owner_or_admin_only_and_validated(self):
        evil = json.dumps({'run': 'nohost:1:0', 'started':
                           '2026-01-01T00:00:00Z',
                           'targets': ["x $(touch pwned) '; id #"]})
        g = fakes.FakeGlance([fakes.image(id=ID3, owner=BETA,
                                          imageshare_sharing=evil)],
                             {ID3: [member(ALPHA, 'accepted', image_id=ID3)]})
        ident = Ident()
        self.assertEqual([], run(g, ident, audit.scope(ident, incoming=True),
                                 risks=['interrupted', 'unrecognised-label']))
        admin = Ident(admin=True)
        rows = run(g, admin, audit.scope(admin, all_projects=True),
                   risks=['interrupted', 'unrecognised-label'])
        self.assertEqual([(ID3, ALPHA, 'unrecognised-label')], risks(rows))
        self.assertEqual(['openstack image unset --property '
                          'imageshare_sharing %s' % ID3],
                         messages.suggested_commands(rows[0][7]))
        # Quoted as JSON with no raw single quote: it can neither close
        # the sentence's quotes nor read as a suggested command.
        self.assertIn(json.dumps(evil).replace("'", '\\u0027'), rows[0][7])
        g.images[ID3]['imageshare_sharing'] = json.dumps(
            {'note': "x' 'openstack image delete %s' '" % ID3})
        rows = run(g, admin, audit.scope(admin, all_projects=True),
                   risks=['unrecognised-label'])
        self.assertEqual(['openstack image unset --property '
                          'imageshare_sharing %s' % ID3],
                         messages.suggested_commands(rows[0][7]))
