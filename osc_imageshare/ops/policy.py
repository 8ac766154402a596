"""``image share apply``: a YAML policy of share rules, planned together.

The file (its format is kept: files written for it keep working)::

    rules:
      - images: {tag: golden}      # any of: names: [a, b], tag: T,
                                   #   property: {key: value}
        projects: [beta, other/beta]
        domains: [customers]       # every enabled project of each
        exclude: [service]
        accept: true               # default true
        protect: false             # default false
        prune: true                # default false
        expires: 2027-01-31T00:00:00Z

Each rule is what ``image share set`` does with those options.  After
``expires`` a rule grants nothing, and the projects it granted are
revoked from its images (unless a rule still in force grants them): the
policy says their access ends.  All the rules are planned together, then
each image is set as ``image share set`` sets one (``share_set``).  Two
rules that decide an image differently (one grants a project another
excludes, or different ``protect``) are a usage error.
"""

import dataclasses
import datetime

import yaml

from osc_imageshare.api import glance as glance_api
from osc_imageshare.api import identity
from osc_imageshare.batch import runner
from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops import recipients
from osc_imageshare.ops import selection
from osc_imageshare.ops import share_set

KEYS = ('images', 'projects', 'domains', 'exclude', 'accept', 'protect',
        'prune', 'expires', 'allow_volume_backed', 'allow_encrypted')
IMAGE_KEYS = ('names', 'tag', 'property')
# What the rules granting one image must agree on (its kinds gate).
AGREE = ('allow_volume_backed', 'allow_encrypted')
FLAGS = {'accept': True, 'protect': False, 'prune': False,
         'allow_volume_backed': False, 'allow_encrypted': False}

E_CONFLICT = ("{file}: rules {first} (line {first_line}) and {second} "
              "(line {second_line}) decide image {id} differently ({what}); "
              "nothing was changed")
# True of a dry run, a check and every run after: no tense of a write.
W_EXPIRED = ("Rule {n} (line {line}) expired at {expires}: it grants "
             "nothing, and a member only it granted is revoked")
W_NO_IMAGE = "Rule {n} (line {line}) selects no image: {why}"
W_GONE = ("Rule {n} (line {line}), expired: {why}; what it granted there is "
          "left to the rules in force")
E_RULE = "Rule {n} (line {line}): {why}"
KEPT = 'kept (no rule grants it; prune: true revokes)'
E_OWN = ("project '{ref}' is your own: it owns the images, and an owner "
         "is no member of its images")
E_NO_IMAGE = "No image of project {project} is named or has the ID '{ref}'"
E_IMAGES = ("More than one image of project {project} is named '{ref}' "
            "({ids}); use the image ID")
# Why a member is revoked without --prune, in its row (Diff).
EXPIRED = "expired: rule {n}, line {line}"


class PolicyError(errors.ImageShareError):
    """The file is not a policy: a usage error (exit code 2)."""


@dataclasses.dataclass
class Rule:
    """One rule of the file, as written (``n``: its number, from 1)."""

    n: int
    line: int
    names: list
    tag: str
    properties: dict
    projects: list
    domains: list
    exclude: list
    accept: bool = True
    protect: bool = None        # None: the rule says nothing of it
    prune: bool = False
    expires: datetime.datetime = None
    allow_volume_backed: bool = False
    allow_encrypted: bool = False

    def expired(self, now):
        return self.expires is not None and self.expires <= now


# ------------------------------------------------------------ the file
# A policy is a page of rules: a file larger than this is no policy (and
# reading it whole could exhaust the memory: /dev/zero).
MAX_BYTES = 10 * 1024 * 1024


def load(text, name):
    """The rules of a policy file's ``text``.

    ``PolicyError`` names ``name`` and the line where it is not one.
    """
    if len(text) > MAX_BYTES:
        raise PolicyError('%s is larger than %d MiB: no policy file is' % (
            name, MAX_BYTES // (1024 * 1024)))
    if isinstance(text, bytes):
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError as e:
            line = text[:e.start].count(b'\n') + 1
            raise PolicyError('%s, line %d: not UTF-8 text (byte 0x%02x)'
                              % (name, line, text[e.start]))
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, 'problem_mark', None)
        raise PolicyError('%s%s: not YAML: %s' % (
            name, ', line %d' % (mark.line + 1) if mark else '',
            getattr(e, 'problem', None) or e))
    where = _Where(name)
    top = where.mapping(root, 'the file', ('rules',))
    if 'rules' not in top:
        raise where.error(root, "no 'rules': the file holds a list of "
                          "rules under 'rules:'")
    rules = where.sequence(top['rules'], 'rules')
    if not rules:
        raise where.error(top['rules'], 'no rule under rules')
    return [_rule(where, n, node) for n, node in enumerate(rules, 1)]


class _Where:
    """Errors naming the file and the line of a YAML node."""

    def __init__(self, name):
        self.name = name

    def error(self, node, text):
        line = node.start_mark.line + 1 if node is not None else 1
        return PolicyError('%s, line %d: %s' % (self.name, line, text))

    def mapping(self, node, what, keys):
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, '%s must be a mapping' % what)
        out = {}
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else None
            if k not in keys:
                raise self.error(key, 'unknown key %r in %s (the keys: %s)'
                                 % (k, what, ', '.join(keys)))
            if k in out:
                raise self.error(key, '%r given twice in %s' % (k, what))
            out[k] = value
        return out

    def sequence(self, node, what):
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, '%s must be a list' % what)
        return node.value

    def text(self, node, what):
        if not isinstance(node, yaml.ScalarNode) or not str(
                node.value).strip() or node.tag.endswith(':null'):
            raise self.error(node, '%s must be a name, an ID or a word'
                             % what)
        return str(node.value)

    def texts(self, node, what):
        return [self.text(n, what) for n in self.sequence(node, what)]

    @staticmethod
    def _value(node):
        """A scalar node's value as YAML reads it (None if it cannot)."""
        if not isinstance(node, yaml.ScalarNode):
            return None
        try:
            return yaml.SafeLoader(yaml.serialize(node)).get_single_data()
        except (yaml.YAMLError, ValueError):   # 2027-02-30
            return None

    def flag(self, node, what):
        value = self._value(node)
        if not isinstance(value, bool):
            raise self.error(node, '%s must be true or false' % what)
        return value

    def when(self, node, what):
        value = self._value(node)
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(
                    value.replace('Z', '+00:00'))
            except ValueError:
                value = None
        if type(value) is datetime.date:    # a date alone: its midnight, UTC
            value = datetime.datetime.combine(value, datetime.time())
        if not isinstance(value, datetime.datetime):
            raise self.error(node, '%s must be a date and time, ISO 8601 '
                             '(2027-01-31T00:00:00Z)' % what)
        if value.tzinfo is None:     # YAML's timestamps without a zone: UTC
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value


def _rule(where, n, node):
    what = 'rule %d' % n
    fields = where.mapping(node, what, KEYS)
    if 'images' not in fields:
        raise where.error(node, "%s: no 'images' (names, tag or property)"
                          % what)
    images = where.mapping(fields['images'], '%s images' % what, IMAGE_KEYS)
    if not images:
        raise where.error(fields['images'], '%s: images names none (give '
                          'names, tag or property)' % what)
    for key in ('names', 'property'):
        value = images.get(key)
        if isinstance(value, (yaml.SequenceNode, yaml.MappingNode)) and \
                not value.value:
            raise where.error(value, '%s images %s is empty: it selects no '
                              'image' % (what, key))
    props = {}
    if 'property' in images:
        for key, value in where.mapping(
                images['property'], '%s property' % what,
                _keys(images['property'])).items():
            if '=' in key or not key.strip():
                raise where.error(images['property'], '%s property: %r is '
                                  'no property name' % (what, key))
            props[key] = where.text(value, '%s property %s' % (what, key))
        problem = selection.property_problem(
            ['%s=%s' % kv for kv in props.items()])
        if problem:
            raise where.error(images['property'], problem)
    rule = Rule(
        n, node.start_mark.line + 1,
        where.texts(images['names'], '%s names' % what)
        if 'names' in images else [],
        where.text(images['tag'], '%s tag' % what)
        if 'tag' in images else None, props,
        *[where.texts(fields[k], '%s %s' % (what, k)) if k in fields else []
          for k in ('projects', 'domains', 'exclude')])
    for key in FLAGS:
        if key in fields:
            setattr(rule, key, where.flag(fields[key], '%s %s'
                                          % (what, key)))
    if 'expires' in fields:
        rule.expires = where.when(fields['expires'], '%s expires' % what)
    if not rule.projects and not rule.domains:
        raise where.error(node, '%s grants nothing: give projects or '
                          'domains' % what)
    if rule.exclude and not rule.domains:
        raise where.error(fields['exclude'], '%s: exclude needs domains'
                          % what)
    return rule


def _keys(node):
    """The keys a mapping node holds (any key is allowed)."""
    if not isinstance(node, yaml.MappingNode):
        return ()
    return tuple(k.value for k, _ in node.value
                 if isinstance(k, yaml.ScalarNode))


# ------------------------------------------------------------ the plan
@dataclasses.dataclass
class _Decision:
    """What the rules say of one image."""

    image: dict
    grants: dict = dataclasses.field(default_factory=dict)  # pid -> rule
    denies: dict = dataclasses.field(default_factory=dict)  # pid -> rule
    expired: dict = dataclasses.field(default_factory=dict)  # pid -> rule
    protect: dict = dataclasses.field(default_factory=dict)  # bool -> rule
    prune: bool = False
    accept: set = dataclasses.field(default_factory=set)     # pids
    allow_volume_backed: bool = False
    allow_encrypted: bool = False
    said: dict = dataclasses.field(default_factory=dict)  # (key, v) -> rule
    accepts: dict = dataclasses.field(default_factory=dict)  # (pid, v)


def apply(glance, ident, rules, name, dry_run=False, check=False,
          glance_for=None, parallel=1, now=None):
    """Plan every rule, then set each image; a ``plan.Result``.

    ``check``: write nothing; the rows that differ from the policy, and
    a failure when any does.  ``name``: the file, in the errors.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    parallel = runner.check(parallel)
    known = {}      # project ID -> its dict, as read once
    decisions, warnings = _decide(glance, ident, rules, name, now, known)
    granted = {p for d in decisions.values() for p in d.grants}
    targets = {t.project_id: t for t in (share_set.resolve_targets(
        ident, [], None, True, glance_for, projects=[
            known[p] for p in sorted(granted)]) if granted else [])}
    for d in decisions.values():
        for pid in d.grants:
            if pid not in d.accept:
                targets[pid].accept = recipients.Accept.NONE

    seen = set()
    reads = share_set.read_each(glance, ident, list(decisions), parallel, {
        image_id: d.image for image_id, d in decisions.items()})

    def one(image_id, stop=None):
        d = decisions[image_id]
        # no_members: an image whose every grant expired keeps no member
        # by right; its expired ones are revoked (revoke=), not refused.
        return share_set.set_one(
            glance, ident, image_id, members=list(d.grants) or None,
            targets=lambda: sorted(
                (targets[p] for p in d.grants),
                key=lambda t: (t.project_name or '', t.project_id)),
            prune=d.prune,
            accept=True, dry_run=dry_run or check, workers=parallel,
            no_members=True, earlier_members=None,
            allow_volume_backed=d.allow_volume_backed,
            allow_encrypted=d.allow_encrypted, stop=stop,
            revoke={pid: EXPIRED.format(n=rule.n, line=rule.line)
                    for pid, rule in d.expired.items()
                    if pid not in d.grants},
            protect=True in d.protect, seen=seen, read=reads[image_id])
    res = share_set.set_several(one, list(decisions))
    res.warnings[:0] = warnings
    if check:   # only what differs from the policy
        res.rows = [r for r in res.rows if r[5] not in (
            'plan: unchanged', 'plan: ' + share_set.KEPT)]
    # A member no rule grants: kept, in the file's words.
    res.rows = [r[:5] + (r[5].replace(share_set.KEPT, KEPT),)
                for r in res.rows]
    return res


E_DIFFERS = ("The cloud differs from the policy {file}: {count} row(s) "
             "would change (above); apply it to change them")


def _decide(glance, ident, rules, name, now, known):
    """``({image ID: _Decision}, warnings)``; conflicts are usage errors.

    ``known`` gets the dict of each project a rule names.
    """
    decisions, warnings = {}, []
    domains = {}    # (domains, exclude) -> what domain_members said
    refs = {}       # a project as a rule names it -> it, or its error
    for rule in rules:
        expired = rule.expired(now)
        if expired:
            warnings.append(W_EXPIRED.format(
                n=rule.n, line=rule.line, expires=rule.expires.isoformat()))
        found = _projects(ident, rule, domains, expired, warnings, refs)
        known.update((p['id'], p) for p in found)
        projects = [p['id'] for p in found]
        for image in _images(glance, ident, rule, expired, warnings):
            d = decisions.setdefault(image['id'], _Decision(image))
            if expired:
                for pid in projects:
                    d.expired.setdefault(pid, rule)
                continue
            for pid in projects:
                d.grants.setdefault(pid, rule)
                if rule.accept:
                    d.accept.add(pid)
            for pid in _excluded(ident, rule, domains):
                d.denies.setdefault(pid, rule)
            if rule.protect is not None:    # said explicitly
                d.protect.setdefault(rule.protect, rule)
            d.prune = d.prune or rule.prune
            # An image's kinds gate is one: rules granting it must agree.
            for key in AGREE:
                d.said.setdefault((key, getattr(rule, key)), rule)
            for pid in projects:
                d.accepts.setdefault((pid, rule.accept), rule)
            d.allow_volume_backed |= rule.allow_volume_backed
            d.allow_encrypted |= rule.allow_encrypted
    for image_id, d in decisions.items():
        both = sorted(set(d.grants) & set(d.denies))
        if both:
            raise PolicyError(_conflict(
                name, d.grants[both[0]], d.denies[both[0]], image_id,
                'one grants project %s, the other excludes it'
                % messages.arg(both[0])))
        if len(d.protect) > 1:
            raise PolicyError(_conflict(
                name, d.protect[True], d.protect[False], image_id,
                'protect true and false'))
        for key in AGREE:
            if (key, True) in d.said and (key, False) in d.said:
                raise PolicyError(_conflict(
                    name, d.said[key, True], d.said[key, False], image_id,
                    '%s true and false' % key))
        for pid in sorted(d.grants):
            if (pid, True) in d.accepts and (pid, False) in d.accepts:
                raise PolicyError(_conflict(
                    name, d.accepts[pid, True], d.accepts[pid, False],
                    image_id, 'accept true and false for project %s'
                    % messages.arg(pid)))
    return decisions, warnings


def _conflict(name, a, b, image_id, what):
    first, second = sorted((a, b), key=lambda r: r.n)
    return E_CONFLICT.format(file=name, first=first.n,
                             first_line=first.line, second=second.n,
                             second_line=second.line, id=image_id, what=what)


def _images(glance, ident, rule, expired, warnings):
    """The caller's images a rule names or selects (by ID, once each).

    A name no image has stops the run, naming the rule (a typo must not
    leave an image out), unless the rule has expired: its images may
    have been deleted since.  A tag or property that selects nothing is
    a warning.
    """
    found = {}
    if rule.names:
        images, failed = _own_images(glance, ident, rule.names)
        for why in failed.values():
            if not expired:
                raise errors.ImageShareError(E_RULE.format(
                    n=rule.n, line=rule.line, why=why))
            warnings.append(W_GONE.format(n=rule.n, line=rule.line,
                                          why=why))
        found.update((i['id'], i) for i in images)
    if rule.tag or rule.properties:
        tags = [rule.tag] if rule.tag else []
        selected = selection.select_images(glance, ident, tags,
                                           rule.properties, required=False)
        if not selected:
            warnings.append(W_NO_IMAGE.format(
                n=rule.n, line=rule.line, why='no image of yours has %s'
                % _selector(rule)))
        found.update((i['id'], i) for i in selected)
    return list(found.values())


def _own_images(glance, ident, refs):
    """``(images, {ref: why})``: the caller's images of these names or IDs.

    A name is looked for among the caller's own images only (an admin
    sees every project's, a member those shared with it: a rule is
    about the caller's images); an ID is read as it is, whoever owns it
    (another's is then refused as ``image share set`` refuses it).
    """
    project = ident.project_name or ident.project_id
    images, failed = [], {}
    for ref in refs:
        if glance_api.is_uuid(ref):
            try:
                images.append(glance.get_image(ref))
                continue
            except errors.NotFound:
                pass
        named = glance.list_named(ref, owner=ident.project_id)
        if len(named) == 1:
            images.append(named[0])
        elif not named:
            failed[ref] = E_NO_IMAGE.format(ref=ref, project=project)
        else:
            failed[ref] = E_IMAGES.format(ref=ref, project=project,
                                          ids=', '.join(sorted(
                                              i['id'] for i in named)))
    return images, failed


def _selector(rule):
    """The rule's tag and properties, in words."""
    return ' and '.join((["tag '%s'" % rule.tag] if rule.tag else []) + [
        "property %s=%s" % kv for kv in sorted(rule.properties.items())])


def _projects(ident, rule, domains, expired=False, warnings=None,
              refs=None):
    """The projects (dicts) a rule grants: its projects, its domains'.

    One that cannot be resolved stops the run, naming the rule, unless
    the rule has expired: a project deleted since is revoked by its ID
    (a name no project has any more is left, with a warning).
    """
    out = {}
    for ref in rule.projects:
        try:
            project = _project(ident, ref, refs)
        except errors.ImageShareError as e:
            if not expired:
                raise errors.ImageShareError(E_RULE.format(
                    n=rule.n, line=rule.line, why=e))
            if identity.looks_like_id(ref):
                project = {'id': ref, 'name': None}
            else:
                warnings.append(W_GONE.format(n=rule.n, line=rule.line,
                                              why=e))
                continue
        if project['id'] == ident.project_id and not expired:
            raise errors.ImageShareError(E_RULE.format(
                n=rule.n, line=rule.line, why=E_OWN.format(
                    ref=messages.visible(ref))))
        out.setdefault(project['id'], project)
    if rule.domains:
        try:
            listed, _left, _notes = _domain_members(ident, rule, domains)
        except errors.ImageShareError as e:
            if not expired:
                raise errors.ImageShareError(E_RULE.format(
                    n=rule.n, line=rule.line, why=e))
            warnings.append(W_GONE.format(n=rule.n, line=rule.line, why=e))
            listed = []
        for project in listed:
            out.setdefault(project['id'], project)
    return list(out.values())


def _project(ident, ref, cache=None):
    """A project by ID, name or ``<domain>/<name>``, looked up once a run.

    ``cache``: ref -> the project, or the error it gave.
    """
    cache = {} if cache is None else cache
    if ref not in cache:
        try:
            cache[ref] = identity.find_project(ident, ref)[0]
        except errors.ImageShareError as e:
            cache[ref] = e
    if isinstance(cache[ref], errors.ImageShareError):
        raise cache[ref]
    return cache[ref]


def _excluded(ident, rule, domains):
    if not rule.exclude:
        return []
    return [p['id'] for p in _domain_members(ident, rule, domains)[1]]


def _domain_members(ident, rule, cache):
    key = (tuple(rule.domains), tuple(rule.exclude))
    if key not in cache:
        cache[key] = share_set.domain_members(
            ident, rule.domains, rule.exclude, option="the key 'domains'",
            instead="the key 'projects'")
    return cache[key]
