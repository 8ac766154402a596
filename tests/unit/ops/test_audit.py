"""image share audit: scopes, the risk table, --fix, the command."""

import datetime
from unittest import mock

from osc_imageshare.api import glance as images
from osc_imageshare.cli import share_audit as audit_cmd
from osc_imageshare import errors
from osc_imageshare.ops import audit
from osc_imageshare.ops import messages
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
        rows = run(g, ident)
        self.assertEqual([
            (ID1, BETA, 'unprotected'),
            (ID1, 'beta', 'not-a-project'),
            (ID1, 'cc' * 16, 'unverifiable'),
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
        self.assertEqual(messages.W_NOT_PROJECT.format(member='beta',
                                                       id=ID1), rows[1][7])
        self.assertEqual(
            "Project beta (%s) has left image %s pending since %s (30 "
            "days or more): it accepts it with 'openstack image share "
            "accept %s', or the owner removes it with 'openstack image "
            "share revoke %s %s'." % (BETA, ID2, OLD, ID2, ID2, BETA),
            rows[7][7])
        self.assertIn("could not be verified", rows[2][7])

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
        self.assertEqual(audit.W_COMPANION_UNREADABLE.format(
            member_label='beta (%s)' % BETA, key='kernel_id',
            companion=self.KERNEL, id=ID1, member=BETA,
            why=audit.COMPANION_WHY['private']), rows[0][7])
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
        self.assertEqual(['failed', 'removed'], [r[8] for r in fixed])
        self.assertEqual(['Could not remove member beta (image %s): Glance '
                          'answered HTTP 403: not allowed' % ID1], errs)

    def test_member_ids_any_string_quoted_never_removed_falsely(self):
        # Regression: 'a#b' and 'c?d' went unquoted into the URL (a 404,
        # taken for 'gone already': 'removed', and still there); 'e/f'
        # Glance cannot address at all: a failure, not 'removed'.
        g = cloud({ID1: [member('a#b'), member('c?d'), member('e/f')]})
        fixed, errs = audit.fix(g, Ident(), self.rows(g), parallel=1)
        self.assertEqual([('a#b', 'removed'), ('c?d', 'removed'),
                          ('e/f', 'failed')], [(r[3], r[8]) for r in fixed])
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
        self.assertEqual(audit.FIX_COLUMNS, columns)
        self.assertEqual(['failed', 'removed'], [r[8] for r in rows])
        self.assertEqual('Failed to fix 1 of 2 risks', cmd.failure)

    @mock.patch('osc_imageshare.api.identity.Identity.from_client_manager')
    def test_audit_rows_are_a_generator(self, from_cm):
        from_cm.return_value = Ident()
        self.app.client_manager.image_share = cloud({ID1: [member('x')]})
        cmd = self.cmd()
        columns, rows = cmd.take_action(self.check_parser(cmd, [], []))
        self.assertEqual(audit.COLUMNS, columns)
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
                raise ks_exc.NotFound()
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
                          '/projects/' + GONE],
                         [c.args[0] for c in session.get.call_args_list])
