"""``image share set`` on fakes: the diff and every request, exactly."""

import io
import unittest

from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops import share_set
from tests.unit import fakes
from tests.unit.ops.modes.test_share import GAMMA
from tests.unit.ops.modes.test_share import Ident
from tests.unit.ops.test_membership import StepCalls

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
IMG_URL = '/v2/images/%s' % IMAGE_ID
MEMBERS_URL = IMG_URL + '/members'
OTHER = 'd4' * 16


def glance(visibility='shared', members=()):
    return fakes.FakeGlance([fakes.image(visibility=visibility)],
                            {IMAGE_ID: list(members)})


class TestSetMembers(unittest.TestCase):

    def test_adds_accepts_keeps_the_extra_without_prune(self):
        g = glance(members=[fakes.member(OTHER)])
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['beta'])
        self.assertEqual([
            ('GET', IMG_URL), ('GET', MEMBERS_URL),
            ('POST', MEMBERS_URL, {'member': BETA}),
            ('PUT', MEMBERS_URL + '/' + BETA, {'status': 'accepted'})],
            g.calls)
        self.assertEqual([
            (IMAGE_ID, BETA, 'beta', None, 'accepted', 'added, accepted'),
            (IMAGE_ID, OTHER, None, 'pending', 'pending',
             share_set.KEPT)], res.rows)
        self.assertEqual((0, 2, None), (res.failed, res.total, res.summary))

    def test_prune_revokes_and_a_rerun_only_reads(self):
        g = glance(members=[fakes.member(BETA, 'accepted'),
                            fakes.member(OTHER, 'rejected')])
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['beta'],
                                    prune=True)
        # The members read again right before the write, and after it.
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL),
                          ('GET', MEMBERS_URL),
                          ('DELETE', MEMBERS_URL + '/' + OTHER),
                          ('GET', MEMBERS_URL)], g.calls)
        self.assertEqual([
            (IMAGE_ID, BETA, 'beta', 'accepted', 'accepted', 'unchanged'),
            (IMAGE_ID, OTHER, None, 'rejected', None, 'revoked')], res.rows)
        g.calls.clear()
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, [BETA],
                                    prune=True)
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL)], g.calls)
        self.assertEqual(['unchanged'], [r[5] for r in res.rows])

    def test_each_revoke_is_sent_by_its_own_executor_step(self):
        g = glance(members=[fakes.member(BETA, 'accepted'),
                            fakes.member(OTHER), fakes.member(GAMMA)])
        g.calls = StepCalls()
        share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['beta'],
                              prune=True, parallel=2)
        self.assertEqual(sorted([
            ('DELETE', 'Image %s, project %s: revoke member' % (IMAGE_ID, m))
            for m in (OTHER, GAMMA)]), sorted(
                (c[0], step.text if step else None)
                for c, step in zip(g.calls, g.calls.steps) if c[0] != 'GET'))

    def test_prune_a_broken_connection_fails_that_revoke_only(self):
        third = 'e5' * 16
        g = glance(members=[fakes.member(BETA, 'accepted'),
                            fakes.member(OTHER), fakes.member(third)])
        g.fail[('DELETE', MEMBERS_URL + '/' + OTHER)] = \
            errors.TransportError('Connection reset by peer')
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['beta'],
                                    prune=True, parallel=1)
        self.assertEqual({BETA, OTHER}, set(g.members[IMAGE_ID]))
        # A pair that failed has no row: its error says it.
        self.assertEqual([(third, 'revoked')],
                         [(r[1], r[5]) for r in res.rows if r[1] != BETA])
        self.assertEqual(1, res.failed)
        self.assertTrue(any(e.startswith(
            'Could not remove member %s on image %s: ' % (OTHER, IMAGE_ID))
            for e in res.errors), res.errors)

    def test_prune_stops_if_another_run_changed_the_members(self):
        g = glance(members=[fakes.member(BETA, 'accepted'),
                            fakes.member(OTHER, 'rejected')])
        real = g.get

        def get(url, **kw):
            # Another run removes beta between our read and our write.
            if url == MEMBERS_URL and len(g.calls) == 2:
                g.members[IMAGE_ID].pop(BETA)
            return real(url, **kw)
        g.get = get
        with self.assertRaises(errors.ImageShareError) as cm:
            share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['gamma'],
                                  prune=True)
        self.assertEqual(messages.E_MEMBERS_CHANGED.format(
            id=IMAGE_ID, changes='%s removed' % BETA),
            str(cm.exception))
        self.assertEqual([], [c for c in g.calls if c[0] != 'GET'])

    def test_prune_rows_say_what_another_run_did_meanwhile(self):
        g = glance(members=[fakes.member(BETA, 'accepted'),
                            fakes.member(OTHER, 'rejected')])
        real = g.delete

        def delete(url, **kw):
            # Another run removes beta while we revoke OTHER.
            g.members[IMAGE_ID].pop(BETA, None)
            return real(url, **kw)
        g.delete = delete
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['beta'],
                                    prune=True)
        # The row another run made false is left out; the error says it.
        self.assertEqual([
            (IMAGE_ID, OTHER, None, 'rejected', None, 'revoked')], res.rows)
        self.assertEqual([messages.E_MEMBER_MOVED.format(
            id=IMAGE_ID, member=BETA, expected='accepted',
            now='not a member')], res.errors)
        self.assertEqual(1, res.failed)

    def test_dry_run_only_reads(self):
        g = glance(visibility='private')
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID,
                                    ['beta', 'gamma'], prune=True,
                                    dry_run=True)
        self.assertEqual([('GET', IMG_URL)], g.calls)
        self.assertEqual([
            (IMAGE_ID, BETA, 'beta', None, 'accepted',
             'plan: visibility private->shared, revoke earlier members, '
             'added, accepted'),
            (IMAGE_ID, GAMMA, 'gamma', None, 'accepted',
             'plan: added, accepted')], res.rows)

    def test_accepts_only_where_it_can(self):
        # Not an admin, a member of beta only: gamma stays pending.
        g = glance()
        ident = Ident(mine=[ALPHA, BETA])
        res = share_set.set_members(g, ident, IMAGE_ID, ['beta', 'gamma'],
                                    glance_for=lambda sess: g)
        self.assertEqual([BETA], ident.rescoped)
        self.assertEqual([('added, accepted', 'accepted'),
                          ('added', 'pending')],
                         [(r[5], r[4]) for r in res.rows])
        self.assertNotIn(('PUT', MEMBERS_URL + '/' + GAMMA,
                          {'status': 'accepted'}), g.calls)

    def test_the_dry_run_plan_is_what_the_run_does(self):
        # Gamma, whom nobody here can accept for, has no accept step in
        # the plan itself; the run takes exactly the plan's steps.
        ident = Ident(mine=[ALPHA, BETA])
        plans = []
        for dry in (True, False):
            g = glance(members=[fakes.member(OTHER)])
            plans.append(share_set.set_members(
                g, ident, IMAGE_ID, ['beta', 'gamma'], prune=True,
                dry_run=dry, glance_for=lambda sess: g).plan)
        self.assertEqual([None] * 3, [p.error for p in plans[1].pairs])
        steps = [[s.text for s in p.steps] for p in plans[0].pairs]
        self.assertEqual([['add member', 'accept as rescoped token'],
                          ['add member'], ['revoke member']], steps)
        self.assertEqual([[]] * 3, [p.done for p in plans[0].pairs])
        self.assertEqual(steps, [[s.text for s in p.done]
                                 for p in plans[1].pairs])

    def test_no_accept_leaves_them_pending(self):
        g = glance()
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['beta'],
                                    accept=False)
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL),
                          ('POST', MEMBERS_URL, {'member': BETA})], g.calls)
        self.assertEqual(('pending', 'added'), res.rows[0][4:])

    def test_a_bad_project_fails_before_any_write(self):
        g = glance()
        self.assertRaises(errors.ImageShareError, share_set.set_members, g,
                          Ident(admin=True), IMAGE_ID, ['beta', 'nope'])
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL)], g.calls)

    def test_an_image_of_another_project_is_refused(self):
        g = fakes.FakeGlance([fakes.image(owner=BETA)])
        with self.assertRaises(errors.ImageShareError) as e:
            share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['gamma'])
        self.assertIn('only the owner can share it', str(e.exception))

    def test_member_file(self):
        self.assertEqual(['beta', GAMMA], share_set.read_member_file(
            io.StringIO('# members\nbeta  # the web team\n\n %s \n' % GAMMA)))


class TestDryRunWarning(unittest.TestCase):

    def test_hidden_members_in_the_words_of_set(self):
        for prune, earlier, then in (
                (True, None, 'revokes them (--prune)'),
                (False, None, messages.HIDDEN_THEN['refuse']),
                (False, 'keep', messages.HIDDEN_THEN['keep']),
                (True, 'keep', messages.HIDDEN_THEN['keep'])):
            res = share_set.set_members(glance(visibility='private'),
                                        Ident(admin=True), IMAGE_ID, ['beta'],
                                        prune=prune, dry_run=True,
                                        earlier_members=earlier)
            self.assertEqual(
                ["Image %s is private: if it was shared before, it may "
                 "still have members from then, whom Glance does not list "
                 "(nobody can) and whom making it shared gives their access "
                 "back; the run reads them right after sharing and %s."
                 % (IMAGE_ID, then)],
                res.warnings)


class TestRisksAfterTheRun(unittest.TestCase):
    """The unprotected warning counts the members as they end up."""

    def unprotected(self, count):
        return messages.W_UNPROTECTED.format(id=IMAGE_ID, count=count)

    def test_kept_earlier_members_are_counted(self):
        g = glance('private', [fakes.member(GAMMA, 'accepted')])
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, ['beta'],
                                    earlier_members='keep')
        self.assertIn(self.unprotected(2), res.warnings)

    def test_kept_members_count_and_revoked_ones_do_not(self):
        members = [fakes.member(GAMMA, 'accepted'),
                   fakes.member(OTHER, 'accepted')]
        res = share_set.set_members(glance(members=members), Ident(admin=True),
                                    IMAGE_ID, ['beta'])
        self.assertIn(self.unprotected(3), res.warnings)
        res = share_set.set_members(glance(members=members), Ident(admin=True),
                                    IMAGE_ID, ['beta'], prune=True)
        self.assertIn(self.unprotected(1), res.warnings)


class TestMemberList(unittest.TestCase):
    """An empty list, repeats, and files that are not text."""

    def test_an_empty_list_with_prune_is_refused_and_nothing_written(self):
        g = glance(members=[fakes.member(BETA, 'accepted'),
                            fakes.member(OTHER)])
        with self.assertRaises(errors.ImageShareError) as e:
            share_set.set_members(g, Ident(admin=True), IMAGE_ID, [],
                                  prune=True)
        self.assertEqual(
            'No members given (an empty member file, or only comments): '
            '--prune would revoke all 2 member(s) of image %s; give '
            '--no-members instead of the list if that is what you mean'
            % IMAGE_ID, str(e.exception))
        self.assertEqual([('GET', IMG_URL), ('GET', MEMBERS_URL)], g.calls)

    def test_the_refusal_never_counts_members_it_cannot_see(self):
        for visibility, every in (
                ('private', 'no member of image %s that Glance lists (it '
                            'is private: the members it hides, if any, are '
                            'neither listed nor revoked)' % IMAGE_ID),
                ('shared', 'no member of image %s (it has none)'
                           % IMAGE_ID)):
            with self.assertRaises(errors.ImageShareError) as e:
                share_set.set_members(glance(visibility), Ident(admin=True),
                                      IMAGE_ID, [], prune=True)
            self.assertIn('--prune would revoke %s; give' % every,
                          str(e.exception))
            self.assertNotIn(' 0 ', str(e.exception))

    def test_no_members_revokes_all_and_the_dry_run_says_so(self):
        g = glance(members=[fakes.member(BETA, 'accepted'),
                            fakes.member(OTHER)])
        plan = share_set.set_members(g, Ident(admin=True), IMAGE_ID, [],
                                     prune=True, no_members=True, dry_run=True)
        self.assertIn('Image %s: --prune --no-members would revoke all 2 '
                      'member(s).' % IMAGE_ID, plan.warnings)
        self.assertEqual(['plan: revoked'] * 2, [r[5] for r in plan.rows])
        self.assertEqual(2, len(g.members[IMAGE_ID]))
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, [],
                                    prune=True, no_members=True)
        self.assertEqual(['revoked'] * 2, [r[5] for r in res.rows])
        self.assertEqual({}, g.members[IMAGE_ID])

    def test_prune_of_a_private_image_it_does_not_share_promises_nothing(
            self):
        # Nothing to add: the run does not share the image, so it cannot
        # read (nor revoke) the members it hides; run and dry run say so.
        hint = ("Image %s is private and this run shares nothing, so it "
                "neither reads nor revokes the members the image hides, if "
                "any "
                "(those it had when it was made private); they have no "
                "access while it stays private. To remove them: 'openstack "
                "image share revoke %s --all --share-briefly' (shares it for "
                "as long as the removal takes)." % (IMAGE_ID, IMAGE_ID))
        for dry_run in (True, False):
            g = glance('private')
            res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, [],
                                        prune=True, no_members=True,
                                        dry_run=dry_run)
            self.assertEqual(([], [hint]), (res.rows, res.warnings))
            self.assertEqual([('GET', IMG_URL)], g.calls)

    def test_a_shared_image_a_dead_run_labelled_is_pruned_as_listed(self):
        # Shared, with the label of a run that died before its members
        # check: its members are listed, and --prune revokes them; no
        # sentence calls it private.
        label = ('{"checked": false, "op": "share", "run": "deadhost:1:abc", '
                 '"started": "2026-01-01T00:00:00Z", "targets": []}')
        g = fakes.FakeGlance([fakes.image(visibility='shared', **{
            'imageshare_sharing': label})], {IMAGE_ID: [
                fakes.member(BETA, 'accepted')]})
        res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, [],
                                    prune=True, no_members=True)
        self.assertEqual(['revoked'], [r[5] for r in res.rows])
        self.assertFalse([w for w in res.warnings if 'private' in w],
                         res.warnings)

    def test_a_member_glance_cannot_address_is_not_planned_for_revoke(
            self):
        # No URL reaches it (a '/', a '..', a character outside ASCII):
        # planned, it would fail as if another run had changed it.
        odd = 'mem\u202eber'
        for dry_run in (True, False):
            g = glance(members=[fakes.member(odd, 'pending')])
            res = share_set.set_members(g, Ident(admin=True), IMAGE_ID, [],
                                        prune=True, no_members=True,
                                        dry_run=dry_run)
            self.assertEqual(([], 0), (res.errors, res.failed))
            self.assertEqual([], [c for c in g.calls if c[0] != 'GET'])
            self.assertIn(
                "Member %s of image %s is not revoked: it can be removed "
                "only in Glance's database: Glance cannot address a member "
                "ID with a '/', a '..' or a character outside ASCII by URL, "
                "so no command removes it." % ("'mem\u202eber'", IMAGE_ID),
                res.warnings)

    def test_each_distinct_name_is_resolved_once(self):
        ident = Ident(admin=True)
        asked = []
        resolve = ident.resolve_project
        ident.resolve_project = lambda ref, domain=None: (
            asked.append(ref) or resolve(ref, domain))
        g = glance()
        res = share_set.set_members(g, ident, IMAGE_ID,
                                    ['beta'] * 1000 + [BETA] * 1000)
        self.assertEqual(['beta', BETA], asked)
        self.assertEqual([BETA], [r[1] for r in res.rows])

    def test_a_file_is_read_as_distinct_entries(self):
        lines = [b'beta\n'] * 100000 + [b'# x\n', GAMMA.encode() + b'\n']
        self.assertEqual(['beta', GAMMA],
                         share_set.read_member_file(iter(lines), 'm.txt'))

    def test_a_leading_bom_is_skipped_invisible_characters_named(self):
        self.assertEqual(['beta', GAMMA], share_set.read_member_file(
            io.BytesIO(('\ufeffbeta\n%s # a\u200bnote\n' % GAMMA).encode()),
            'm.txt'))
        for text, where, named in (
                ('beta\u200b\n', 'line 1', 'U+200B ZERO WIDTH SPACE, at '
                                           'column 5'),
                ('beta\n\ufeffgamma\n', 'line 2',
                 'U+FEFF ZERO WIDTH NO-BREAK SPACE, at column 1'),
                ('be\u2060ta\n', 'line 1', 'U+2060 WORD JOINER, at column 3')):
            with self.assertRaises(errors.ImageShareError) as e:
                share_set.read_member_file(io.BytesIO(text.encode()), 'm.txt')
            self.assertEqual(
                '--member-file m.txt, %s holds an invisible character, %s: '
                'remove it (no project name or ID has one)' % (where, named),
                str(e.exception))

    def test_a_binary_file_names_the_file_and_the_line(self):
        for data, words in (
                (b'beta\n\x7fELF\xff\xfe\n', 'is not UTF-8 text (byte 0xff '
                                             'at column 5)'),
                (b'beta\nga\x00mma\n', 'holds a NUL byte')):
            with self.assertRaises(errors.ImageShareError) as e:
                share_set.read_member_file(io.BytesIO(data), 'm.bin')
            self.assertTrue(str(e.exception).startswith(
                '--member-file m.bin, line 2 ' + words), str(e.exception))


KERNEL = 'a1' * 4 + '-1111-4111-8111-' + 'a1' * 6


class TestSetRefusesWhatTransferRefuses(unittest.TestCase):
    """The kinds gate of ``image transfer``, for ``image share set``."""

    def run_both(self, glance_of, members, **kw):
        """(dry run, run): each the refusal and the writes, or rows."""
        out = []
        for dry in (True, False):
            g = glance_of()
            try:
                res = share_set.set_members(g, Ident(admin=True), IMAGE_ID,
                                            members, dry_run=dry, **kw)
                said = (None, res.warnings, [r[5] for r in res.rows])
            except errors.ImageShareError as e:
                said = (str(e), None, None)
            out.append((said, [c for c in g.calls if c[0] != 'GET']))
        return out

    def test_a_volume_backed_snapshot_is_refused_then_allowed(self):
        def vb():
            return fakes.FakeGlance([fakes.image(
                visibility='shared', size=0, block_device_mapping=(
                    '[{"snapshot_id": "s1", "source_type": "snapshot"}]'))],
                {IMAGE_ID: []})
        dry, run = self.run_both(vb, ['beta'])
        self.assertEqual(dry[0], run[0])
        self.assertEqual([], run[1])        # nothing written
        self.assertTrue(run[0][0].startswith(
            'Image %s is a snapshot of a volume-backed server' % IMAGE_ID),
            run[0])
        self.assertIn('--allow-volume-backed', run[0][0])
        dry, run = self.run_both(vb, ['beta'], allow_volume_backed=True)
        self.assertEqual(['added, accepted'], run[0][2])
        self.assertTrue(any('shared anyway (--allow-volume-backed)' in w
                            for w in run[0][1]), run[0][1])

    def test_an_encrypted_volumes_image_is_refused_then_allowed(self):
        def enc():
            return fakes.FakeGlance([fakes.image(
                visibility='shared', cinder_encryption_key_id='k1')],
                {IMAGE_ID: []})
        dry, run = self.run_both(enc, ['beta'])
        self.assertEqual(dry[0], run[0])
        self.assertEqual([], run[1])
        self.assertTrue(run[0][0].startswith(
            'Image %s is the image of an encrypted volume' % IMAGE_ID))
        dry, run = self.run_both(enc, ['beta'], allow_encrypted=True)
        self.assertEqual(['added, accepted'], run[0][2])

    def test_members_it_already_has_are_not_refused(self):
        def enc():
            return fakes.FakeGlance([fakes.image(
                visibility='shared', cinder_encryption_key_id='k1')],
                {IMAGE_ID: [fakes.member(BETA, 'accepted')]})
        dry, run = self.run_both(enc, ['beta'])
        self.assertEqual((None, ['unchanged']), (run[0][0], run[0][2]))

    def test_a_companion_the_new_member_cannot_read_refuses(self):
        def ami(kernel_members=()):
            return lambda: fakes.FakeGlance(
                [fakes.image(visibility='shared', kernel_id=KERNEL),
                 fakes.image(id=KERNEL, name='k', visibility='shared')],
                {IMAGE_ID: [], KERNEL: list(kernel_members)})
        dry, run = self.run_both(ami(), ['beta'])
        self.assertEqual(dry[0], run[0])
        self.assertEqual([], run[1])
        self.assertEqual(
            "Image %s, project beta (%s): it boots only with its kernel_id "
            "%s, which that project cannot read, so it could not boot "
            "there; nothing was changed. 'openstack image transfer %s --to "
            "%s' shares the image with its companions" % (
                IMAGE_ID, BETA, KERNEL, IMAGE_ID, BETA), run[0][0])
        # A member of the kernel already: it can read it.
        dry, run = self.run_both(ami([fakes.member(BETA, 'accepted')]),
                                 ['beta'])
        self.assertEqual((None, ['added, accepted']),
                         (run[0][0], run[0][2]))

    def test_a_companion_of_another_project_names_its_owner(self):
        def ami():
            return fakes.FakeGlance(
                [fakes.image(visibility='shared', kernel_id=KERNEL),
                 fakes.image(id=KERNEL, name='k', visibility='shared',
                             owner=OTHER)], {IMAGE_ID: []})
        dry, run = self.run_both(ami, ['beta'])
        self.assertEqual(dry[0], run[0])
        self.assertEqual([], run[1])
        self.assertTrue(run[0][0].endswith(
            "which that project may not be able to read (only a token of "
            "that project could tell: you are neither a member of it nor the "
            "companion's owner), so it could not boot there; nothing was "
            "changed. Ask the owner of %s (owner %s) to share it with that "
            "project first" % (KERNEL, OTHER)),
            run[0][0])


class DomainIdent(Ident):
    """The share workflow's Identity, with a domain of three projects."""

    def __init__(self, projects, **kw):
        super().__init__(admin=True, **kw)
        self.projects = projects
        self.listed = []

    def domain_projects(self, ref, option='--to-domain', instead='--to'):
        self.listed.append(ref)
        return [dict(p) for p in self.projects]


TWO = IMAGE_ID.replace('0f1e', '2f1e')


class TestSeveralImages(unittest.TestCase):

    def cloud(self, **first):
        return fakes.FakeGlance([
            fakes.image(tags=['golden'], **first),
            fakes.image(id=TWO, name='db', tags=['golden'])],
            {IMAGE_ID: [], TWO: []})

    def ident(self):
        return DomainIdent([{'id': BETA, 'name': 'beta'},
                            {'id': GAMMA, 'name': 'gamma'},
                            {'id': ALPHA, 'name': 'alpha'},   # the caller
                            {'id': OTHER, 'name': 'service'}])

    def test_a_tag_and_a_domain_less_one_project(self):
        g, ident = self.cloud(), self.ident()
        res = share_set.set_members(g, ident, [], [], tags=['golden'],
                                    member_domains=['customers'],
                                    exclude=['service'])
        # One row per image and project; the caller and the excluded out.
        self.assertEqual(sorted(
            (i, p, 'added, accepted') for i in (IMAGE_ID, TWO)
            for p in (BETA, GAMMA)), sorted((r[0], r[1], r[5])
                                            for r in res.rows))
        self.assertEqual({IMAGE_ID: {BETA, GAMMA}, TWO: {BETA, GAMMA}},
                         {i: set(m) for i, m in g.members.items()})
        self.assertEqual((0, 4, None), (res.failed, res.total, res.summary))
        self.assertEqual(['customers'], ident.listed)    # read once
        # A re-run reads, and writes nothing.
        g.calls.clear()
        res = share_set.set_members(g, ident, [], [], tags=['golden'],
                                    member_domains=['customers'],
                                    exclude=['service'])
        self.assertEqual({'GET'}, {c[0] for c in g.calls})
        self.assertEqual({'unchanged'}, {r[5] for r in res.rows})

    def test_prune_revokes_a_project_gone_from_the_domain(self):
        g, ident = self.cloud(), self.ident()
        g.members[IMAGE_ID][OTHER] = fakes.member(OTHER, 'accepted')
        res = share_set.set_members(g, ident, [IMAGE_ID, TWO], [],
                                    member_domains=['customers'],
                                    exclude=['service'], prune=True)
        self.assertEqual((IMAGE_ID, OTHER, 'revoked'), [
            (r[0], r[1], r[5]) for r in res.rows if r[1] == OTHER][0])
        self.assertEqual({BETA, GAMMA}, set(g.members[IMAGE_ID]))

    def test_an_exclusion_naming_no_project_of_the_domain_stops_all(self):
        g = self.cloud()
        with self.assertRaises(errors.ImageShareError) as e:
            share_set.set_members(g, self.ident(), [IMAGE_ID], [],
                                  member_domains=['customers'],
                                  exclude=['nobody'])
        self.assertIn("--exclude 'nobody': no enabled project of domain "
                      "'customers'", str(e.exception))
        self.assertEqual([], g.calls)

    def test_an_image_that_cannot_be_set_is_reported_the_others_go_on(self):
        g = self.cloud()
        res = share_set.set_members(g, Ident(admin=True), ['nothere', TWO],
                                    ['beta'])
        self.assertEqual([(TWO, BETA, 'added, accepted')],
                         [(r[0], r[1], r[5]) for r in res.rows])
        self.assertEqual(1, len(res.errors))
        self.assertIn('nothere', res.errors[0])
        self.assertEqual('Failed to set 1 of 2 image/project pairs',
                         res.summary)

    def test_a_signal_during_the_first_image_starts_no_other(self):
        import signal

        from tests.unit import base
        g = self.cloud()
        real = g._call

        def call(method, url, data):
            if method == 'PUT':     # the first image's acceptance
                base.signal_self(signal.SIGTERM)
            return real(method, url, data)
        g._call = call
        res = share_set.set_members(g, Ident(admin=True), [IMAGE_ID, TWO],
                                    ['beta'])
        self.assertEqual({}, g.members[TWO])
        # The first image's run was cut (its own summary says how); the
        # second not started.
        self.assertEqual(
            'Interrupted by SIGTERM: of 2 image(s), 0 done, 1 interrupted '
            '(%s), 1 not started (%s); run the command again to finish'
            % (IMAGE_ID, TWO), res.summary.splitlines()[-1])
        self.assertIn('Image %s: not started (interrupted by SIGTERM)' % TWO,
                      res.errors)

    def test_a_kept_member_that_is_no_project_is_warned_of(self):
        g = self.cloud()
        g.members[IMAGE_ID][OTHER] = fakes.member(OTHER, 'accepted')
        ident = Ident(admin=True, exists={OTHER: False})
        res = share_set.set_members(g, ident, IMAGE_ID, ['beta'])
        self.assertEqual(share_set.KEPT, [r[5] for r in res.rows
                                          if r[1] == OTHER][0])
        self.assertIn(share_set.W_KEPT_GONE.format(id=IMAGE_ID, member=OTHER),
                      res.warnings)
        # With --prune it is revoked, and not warned of.
        res = share_set.set_members(g, ident, IMAGE_ID, ['beta'], prune=True)
        self.assertNotIn(OTHER, g.members[IMAGE_ID])
        self.assertFalse([w for w in res.warnings if OTHER in w])

    def test_an_image_named_twice_is_set_once(self):
        g = self.cloud()
        res = share_set.set_members(g, Ident(admin=True),
                                    ['web', IMAGE_ID, 'web'], ['beta'])
        self.assertEqual([(IMAGE_ID, BETA, 'added, accepted')],
                         [(r[0], r[1], r[5]) for r in res.rows])
        self.assertEqual(1, [c[0] for c in g.calls].count('POST'))
