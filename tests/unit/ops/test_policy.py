"""``image share apply``: the policy file, and the rules planned together."""

import datetime
import unittest

from osc_imageshare import errors
from osc_imageshare.ops import policy
from tests.unit import fakes
from tests.unit.ops.modes.test_share import GAMMA
from tests.unit.ops.test_share_set import DomainIdent
from tests.unit.ops.test_share_set import OTHER
from tests.unit.ops.test_share_set import TWO

ALPHA, BETA, IMAGE_ID = fakes.ALPHA, fakes.BETA, fakes.IMAGE_ID
NOW = datetime.datetime(2026, 12, 7, tzinfo=datetime.timezone.utc)


def load(text):
    return policy.load(text, 'p.yaml')


class TestFile(unittest.TestCase):

    def test_the_format(self):
        [rule] = load(
            'rules:\n'
            '  - images: {tag: golden, names: [web], property: {a: b}}\n'
            '    projects: [beta, other/beta]\n'
            '    domains: [customers]\n'
            '    exclude: [service]\n'
            '    accept: false\n'
            '    protect: true\n'
            '    prune: true\n'
            '    expires: 2027-01-31T00:00:00Z\n')
        self.assertEqual(
            (1, 2, ['web'], 'golden', {'a': 'b'}, ['beta', 'other/beta'],
             ['customers'], ['service'], False, True, True,
             datetime.datetime(2027, 1, 31, tzinfo=datetime.timezone.utc)),
            (rule.n, rule.line, rule.names, rule.tag, rule.properties,
             rule.projects, rule.domains, rule.exclude, rule.accept,
             rule.protect, rule.prune, rule.expires))

    def test_defaults(self):
        [rule] = load('rules:\n- images: {names: [web]}\n  projects: [b]\n')
        # protect: None, the rule says nothing of it (it neither protects
        # nor conflicts with a rule that does).
        self.assertEqual((True, None, False, None, False, False),
                         (rule.accept, rule.protect, rule.prune,
                          rule.expires, rule.allow_volume_backed,
                          rule.allow_encrypted))

    def test_each_error_names_the_file_and_line(self):
        for text, error in [
            ('rules: [\n', "p.yaml, line 2: not YAML: expected the node "
             "content, but found '<stream end>'"),
            ('rulez: []\n', "p.yaml, line 1: unknown key 'rulez' in the "
             "file (the keys: rules)"),
            ('rules: []\n', 'p.yaml, line 1: no rule under rules'),
            ('rules:\n- images: {names: [w]}\n  projcts: [b]\n',
             "p.yaml, line 3: unknown key 'projcts' in rule 1 (the keys: "
             "images, projects, domains, exclude, accept, protect, prune, "
             "expires, allow_volume_backed, allow_encrypted)"),
            (b'rules:\n- images: {names: [\xff]}\n',
             'p.yaml, line 2: not UTF-8 text (byte 0xff)'),
            ('rules:\n- images: {property: {"a=b": c}}\n  projects: [b]\n',
             "p.yaml, line 2: rule 1 property: 'a=b' is no property name"),
            ('rules:\n- images: {names: [w]}\n  projects: [b]\n'
             '  expires: next monday\n',
             'p.yaml, line 4: rule 1 expires must be a date and time, ISO '
             '8601 (2027-01-31T00:00:00Z)'),
            ('rules:\n- images: {names: [w]}\n  projects: [b]\n'
             '  expires: 2027-02-30\n',
             'p.yaml, line 4: rule 1 expires must be a date and time, ISO '
             '8601 (2027-01-31T00:00:00Z)'),
            ('rules:\n- images: {names: [w]}\n',
             'p.yaml, line 2: rule 1 grants nothing: give projects or '
             'domains'),
            ('rules:\n- {}\n', "p.yaml, line 2: rule 1: no 'images' "
             "(names, tag or property)"),
            ('rules:\n- images: {names: [w]}\n  projects: [b]\n'
             '  accept: maybe\n',
             'p.yaml, line 4: rule 1 accept must be true or false'),
            ('rules:\n- images: {names: [w]}\n  projects: [b]\n'
             '  exclude: [c]\n', 'p.yaml, line 4: rule 1: exclude needs '
             'domains'),
            ('rules:\n- images: {property: {protected: maybe}}\n'
             '  projects: [b]\n', "p.yaml, line 2: --property "
             "protected=maybe: Glance takes true or false for 'protected'"),
        ]:
            with self.assertRaises(policy.PolicyError) as e:
                load(text)
            self.assertEqual(error, str(e.exception), text)


class TestApply(unittest.TestCase):

    def cloud(self):
        return fakes.FakeGlance([
            fakes.image(tags=['golden']),
            fakes.image(id=TWO, name='db', tags=['golden'])],
            {IMAGE_ID: [fakes.member(OTHER, 'accepted')], TWO: []})

    def ident(self):
        return DomainIdent([{'id': BETA, 'name': 'beta'},
                            {'id': GAMMA, 'name': 'gamma'},
                            {'id': OTHER, 'name': 'service'}])

    def test_an_expired_rule_revokes_what_it_granted(self):
        g = self.cloud()
        rules = load('rules:\n'
                     '- images: {tag: golden}\n'
                     '  projects: [beta]\n'
                     '- images: {names: [web]}\n'
                     '  domains: [customers]\n'
                     '  exclude: [gamma]\n'
                     '  expires: 2026-12-01T00:00:00Z\n')
        res = policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual({IMAGE_ID: {BETA}, TWO: {BETA}},
                         {i: set(m) for i, m in g.members.items()})
        # The row names the rule that expired (item 3: "expired").
        self.assertIn((IMAGE_ID, OTHER, 'revoked (expired: rule 2, line 4)'),
                      [(r[0], r[1], r[5]) for r in res.rows])
        self.assertEqual(
            'Rule 2 (line 4) expired at 2026-12-01T00:00:00+00:00: it '
            'grants nothing, and a member only it granted is revoked',
            res.warnings[0])
        # Before it expires, it grants.
        g = self.cloud()
        policy.apply(g, self.ident(), rules, 'p.yaml',
                     now=NOW.replace(month=11))
        self.assertEqual({BETA, OTHER}, set(g.members[IMAGE_ID]))

    def test_an_expired_rule_on_a_private_image_says_what_it_can_not_do(
            self):
        # Private: the members it hides are not listed, and nothing is
        # shared: the dry run and the run say the same, and promise no
        # share the run does not make.
        rules = load('rules:\n'
                     '- images: {names: [web]}\n'
                     '  projects: [beta]\n'
                     '  prune: true\n'
                     '  expires: 2026-12-01T00:00:00Z\n')
        said = []
        for dry_run in (True, False):
            g = fakes.FakeGlance([fakes.image(visibility='private')],
                                 {IMAGE_ID: []})
            res = policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW,
                               dry_run=dry_run)
            self.assertEqual([], [c for c in g.calls if c[0] != 'GET'])
            said.append(res.warnings)
        self.assertEqual(said[0], said[1])
        self.assertFalse([w for w in said[0] if 'right after sharing' in w])

    def test_rules_that_disagree_are_refused_before_any_write(self):
        g = self.cloud()
        rules = load('rules:\n'
                     '- images: {names: [web]}\n'
                     '  projects: [gamma]\n'
                     '- images: {tag: golden}\n'
                     '  domains: [customers]\n'
                     '  exclude: [gamma]\n')
        with self.assertRaises(policy.PolicyError) as e:
            policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual(
            'p.yaml: rules 1 (line 2) and 2 (line 4) decide image %s '
            'differently (one grants project %s, the other excludes it); '
            'nothing was changed' % (IMAGE_ID, GAMMA), str(e.exception))
        self.assertEqual({'GET'}, {c[0] for c in g.calls})
        rules = load('rules:\n'
                     '- images: {names: [web]}\n'
                     '  projects: [gamma]\n'
                     '  protect: true\n'
                     '- images: {tag: golden}\n'
                     '  projects: [beta]\n'
                     '  protect: false\n')
        with self.assertRaises(policy.PolicyError) as e:
            policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertIn('(protect true and false)', str(e.exception))
        # A rule that says nothing of protect does not disagree.
        rules[1].protect = None
        policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertTrue(g.images[IMAGE_ID]['protected'])

    def test_check_writes_nothing_and_shows_what_differs(self):
        g = self.cloud()
        rules = load('rules:\n- images: {tag: golden}\n'
                     '  projects: [beta]\n  protect: true\n')
        res = policy.apply(g, self.ident(), rules, 'p.yaml', check=True,
                           now=NOW)
        self.assertEqual({'GET'}, {c[0] for c in g.calls})
        self.assertEqual(2, len(res.rows))
        policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual([True, True], [i['protected']
                                        for i in g.images.values()])
        res = policy.apply(g, self.ident(), rules, 'p.yaml', check=True,
                           now=NOW)
        self.assertEqual([], res.rows)

    def test_accept_false_leaves_the_member_pending(self):
        g = self.cloud()
        rules = load('rules:\n- images: {names: [db]}\n'
                     '  projects: [beta]\n  accept: false\n')
        policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual('pending', g.members[TWO][BETA]['status'])

    def test_an_expired_rule_naming_what_is_gone_blocks_nothing(self):
        gone = 'e7' * 16
        g = self.cloud()
        g.members[IMAGE_ID][gone] = fakes.member(gone, 'accepted')
        rules = load('rules:\n'
                     '- images: {names: [web, deleted-since]}\n'
                     '  projects: [%s, partner-gone]\n'
                     '  expires: 2026-01-01T00:00:00Z\n'
                     '- images: {tag: nosuchtag}\n'
                     '  projects: [beta]\n'
                     '- images: {names: [db]}\n'
                     '  projects: [beta]\n' % gone)
        res = policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        # The deleted project's membership is revoked by its ID; the rule
        # in force is applied; what is gone or selects nothing is said.
        self.assertEqual({OTHER}, set(g.members[IMAGE_ID]))
        self.assertEqual({BETA}, set(g.members[TWO]))
        self.assertEqual((0, None), (res.failed, res.summary))
        said = '\n'.join(res.warnings)
        self.assertIn("Rule 2 (line 5) selects no image: no image of yours "
                      "has tag 'nosuchtag'", said)
        self.assertIn('Rule 1 (line 2), expired: ', said)
        # A name in a rule in force that names nothing stops the run.
        rules = load('rules:\n- images: {names: [typo]}\n'
                     '  projects: [beta]\n')
        with self.assertRaises(policy.errors.ImageShareError) as e:
            policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertTrue(str(e.exception).startswith('Rule 1 (line 2): '))


class TestExpiredAndScale(TestApply):

    def test_check_names_a_membership_whose_rule_expired(self):
        g = self.cloud()
        rules = load('rules:\n'
                     '- images: {tag: golden}\n'
                     '  projects: [beta]\n'
                     '- images: {names: [web]}\n'
                     '  projects: [%s]\n'
                     '  expires: 2026-12-01T00:00:00Z\n' % OTHER)
        policy.apply(g, self.ident(), rules[:1], 'p.yaml', now=NOW)
        g.calls = []
        res = policy.apply(g, self.ident(), rules, 'p.yaml', check=True,
                           now=NOW)
        self.assertEqual(
            [(IMAGE_ID, OTHER, None, 'accepted', None,
              'plan: revoked (expired: rule 2, line 4)')], res.rows)
        self.assertEqual({'GET'}, {c[0] for c in g.calls})

    def test_a_run_with_nothing_to_do_lists_each_image_members_once(self):
        g = self.cloud()
        rules = load('rules:\n- images: {tag: golden}\n'
                     '  projects: [beta]\n')
        policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        g.calls = []
        res = policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual(['unchanged', 'unchanged', 'kept (no rule grants '
                          'it; prune: true revokes)'],
                         [r[5] for r in res.rows])
        # The images' listing (its hidden ones apart), then one member
        # list per image; no image is read again, nothing written.
        self.assertEqual(sorted([
            '/v2/images?owner=%s&tag=golden' % ALPHA,
            '/v2/images?os_hidden=true&owner=%s&tag=golden' % ALPHA,
            '/v2/images/%s/members' % IMAGE_ID,
            '/v2/images/%s/members' % TWO]), sorted(c[1] for c in g.calls))
        self.assertEqual({'GET'}, {c[0] for c in g.calls})

    def test_a_name_means_the_callers_own_image(self):
        # An admin sees every project's images: another's 'web' is not
        # the rule's, nor does it make the name ambiguous.
        theirs = IMAGE_ID.replace('0f1e', '3f1e')
        g = fakes.FakeGlance([
            fakes.image(),
            fakes.image(id=theirs, owner=GAMMA, visibility='public')],
            {IMAGE_ID: [], theirs: []})
        rules = load('rules:\n- images: {names: [web]}\n'
                     '  projects: [beta]\n')
        res = policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual([(IMAGE_ID, BETA, 'added, accepted')],
                         [(r[0], r[1], r[5]) for r in res.rows])
        rules = load('rules:\n- images: {names: [nosuch]}\n'
                     '  projects: [beta]\n')
        with self.assertRaises(errors.ImageShareError) as e:
            policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual("Rule 1 (line 2): No image of project alpha is "
                         "named or has the ID 'nosuch'", str(e.exception))


class TestWhatAdversariesFound(TestApply):

    def test_rules_granting_one_image_agree_on_its_kinds_gate(self):
        g = self.cloud()
        rules = load('rules:\n'
                     '- images: {names: [web]}\n'
                     '  projects: [beta]\n'
                     '  allow_volume_backed: true\n'
                     '- images: {tag: golden}\n'
                     '  projects: [gamma]\n')
        with self.assertRaises(policy.PolicyError) as e:
            policy.apply(g, self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual(
            'p.yaml: rules 1 (line 2) and 2 (line 5) decide image %s '
            'differently (allow_volume_backed true and false); nothing was '
            'changed' % IMAGE_ID, str(e.exception))
        self.assertEqual({'GET'}, {c[0] for c in g.calls})

    def test_accept_true_and_false_for_one_project_conflict(self):
        rules = load('rules:\n'
                     '- images: {names: [web]}\n'
                     '  projects: [beta]\n'
                     '  accept: false\n'
                     '- images: {tag: golden}\n'
                     '  projects: [beta]\n')
        with self.assertRaises(policy.PolicyError) as e:
            policy.apply(self.cloud(), self.ident(), rules, 'p.yaml', now=NOW)
        self.assertIn('(accept true and false for project %s)' % BETA,
                      str(e.exception))

    def test_an_empty_selector_is_a_usage_error(self):
        for images, key in (('{names: []}', 'names'),
                            ('{property: {}}', 'property')):
            with self.assertRaises(policy.PolicyError) as e:
                load('rules:\n- images: %s\n  projects: [b]\n' % images)
            self.assertEqual('p.yaml, line 2: rule 1 images %s is empty: it '
                             'selects no image' % key, str(e.exception))

    def test_a_date_alone_is_its_midnight_utc(self):
        [rule] = load('rules:\n- images: {names: [w]}\n  projects: [b]\n'
                      '  expires: 2027-01-31\n')
        self.assertEqual(datetime.datetime(2027, 1, 31,
                                           tzinfo=datetime.timezone.utc),
                         rule.expires)

    def test_the_callers_own_project_is_named_with_its_rule(self):
        rules = load('rules:\n- images: {names: [web]}\n'
                     '  projects: [beta, alpha]\n')
        with self.assertRaises(errors.ImageShareError) as e:
            policy.apply(self.cloud(), self.ident(), rules, 'p.yaml', now=NOW)
        self.assertEqual(
            "Rule 1 (line 2): project 'alpha' is your own: it owns the "
            "images, and an owner is no member of its images",
            str(e.exception))


class TestOnceARun(TestApply):

    def test_a_project_named_by_many_rules_is_looked_up_once(self):
        ident = self.ident()
        looked = []
        real = ident.resolve_project

        def counted(ref, domain=None):
            looked.append(ref)
            return real(ref, domain)
        ident.resolve_project = counted
        rules = load('rules:\n' + ''.join(
            '- images: {names: [web]}\n  projects: [beta, gamma]\n'
            for _ in range(5)))
        policy.apply(self.cloud(), ident, rules, 'p.yaml', now=NOW,
                     dry_run=True)
        self.assertEqual(['beta', 'gamma'], sorted(looked))

    def test_a_file_too_large_is_no_policy(self):
        with self.assertRaises(policy.PolicyError) as e:
            load(b'#' * (policy.MAX_BYTES + 1))
        self.assertEqual('p.yaml is larger than 10 MiB: no policy file is',
                         str(e.exception))
