"""``image share set``: make an image's members exactly a list.

Built on the share pipeline: the listed projects are its targets (added
and, where the caller can, accepted, exactly as ``image transfer`` does,
with its rollback), and the members not listed are revoked with
``prune``.  The result is the diff, one row per project: added,
accepted, revoked, unchanged, or kept (not listed, without ``prune``).
A second run finds nothing to do and writes nothing.
"""

import contextlib
import dataclasses
import functools
import logging
import shlex
import unicodedata

from osc_imageshare.batch import executor
from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import gate
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import base
from osc_imageshare.ops.modes import share
from osc_imageshare.ops import recipients
from osc_imageshare.ops import selection
from osc_imageshare.ops import stranded
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

VERB = 'set'
REVOKE = 'revoke'
KEPT = 'kept (not listed; --prune revokes)'
# The diff's words for the plan's steps (the others print their text)
# and for what the run changed.
PLANNED = {share.ADD: 'added', share.ACCEPT: 'accepted', REVOKE: 'revoked'}
DONE = {'member added': 'added'}
E_EMPTY = ("No members given (an empty member file, or only comments): "
           "--prune would revoke {every}; give --no-members instead of the "
           "list if that is what you mean")
W_ALL = "Image {id}: --prune --no-members would revoke {every}."
W_UNREMOVABLE = ("Member {member} of image {id} is not revoked: it can be "
                 "removed {remove}.")
# --prune on a private image the run does not share (nothing to add).
W_PRUNE_HIDDEN = ("Image {id} is private and this run shares nothing, so it "
                  "neither reads nor revokes the members the image hides, "
                  "if any (those it had when it was made private); they "
                  "have no access while it stays private. To remove them: "
                  "'{command}' (shares it for as long as the removal "
                  "takes).")
# {every} of E_EMPTY and W_ALL: the members, as far as they are known;
# {of}: ' of image <id>', or nothing.
EVERY = 'all {count} member(s){of}'
EVERY_NONE = 'no member{of} (it has none)'
EVERY_HIDDEN = ('no member{of} that Glance lists (it is private: the '
                'members it hides, if any, are neither listed nor revoked)')
# The members a private image hid, in the diff: by the run's policy.
EARLIER_DIFF = {'revoke': 'revoked (hidden while private)',
                'keep': 'kept (hidden while private)',
                'refuse': 'unchanged (hidden while private; the run '
                          'stopped)'}


E_REVOKES_INTERRUPTED = (
    "Interrupted by {signal}: of {total} member(s) not listed, {done} "
    "revoked, {failed} failed, {idle} not started (still members); run the "
    "command again to revoke them")
E_NOT_STARTED = ('Image {id}, project {target}: revoke not started '
                 '(interrupted by {signal})')
W_LATE_REVOKE = ("{signal} came too late to stop anything: every revoke had "
                 "ended")
# Several images: each image's run as for one, then these.
E_IMAGES_NOT_STARTED = ("Interrupted by {signal}: of {total} image(s), "
                        "{done} done, {cut} interrupted{cut_ids}, {idle} not "
                        "started ({ids}); run the command again to finish")
E_IMAGE_NOT_STARTED = "Image {id}: not started (interrupted by {signal})"
W_KEPT_GONE = ("Image {id}: member {member} is kept (not listed), but no "
               "project has that ID (deleted since, or never a project): "
               "it gives nobody access; --prune revokes it")

BOM = '\ufeff'


def read_member_file(stream, name='-'):
    """Project names or IDs, one per line; blank lines and '#' skipped.

    ``stream`` yields lines as bytes (or text); ``name`` names it in the
    error a line that is not UTF-8 text, or holds an invisible character
    (a leading byte order mark is skipped), makes.  Each distinct entry once,
    in the order first seen: a file that repeats one ID a million times
    is one project.
    """
    out = {}
    for number, line in enumerate(stream, 1):
        line = _text(line, name, number).split('#', 1)[0].strip()
        if line:
            out.setdefault(line, None)
    return list(out)


def _text(line, name, number):
    where = '--member-file %s, line %d' % (name, number)
    if isinstance(line, bytes):
        try:
            line = line.decode('utf-8')
        except UnicodeDecodeError as e:
            raise errors.ImageShareError(
                '%s is not UTF-8 text (byte 0x%02x at column %d): give a '
                'text file of project names or IDs, one per line'
                % (where, line[e.start], e.start + 1))
    if '\0' in line:
        raise errors.ImageShareError(
            '%s holds a NUL byte: give a text file of project names or '
            'IDs, one per line' % where)
    if number == 1 and line.startswith(BOM):
        line = line[1:]     # an editor's byte order mark, not a name
    entry = line.split('#', 1)[0]
    hidden = next(((column, ch) for column, ch in enumerate(entry, 1)
                   if ch not in '\t\r\n'
                   and unicodedata.category(ch) in ('Cc', 'Cf')), None)
    if hidden:
        column, ch = hidden
        raise errors.ImageShareError(
            '%s holds an invisible character, U+%04X %s, at column %d: '
            'remove it (no project name or ID has one)' % (
                where, ord(ch), unicodedata.name(ch, 'CONTROL'), column))
    return line


def set_members(glance, ident, image_refs, members, project_domain=None,
                prune=False, accept=True, dry_run=False, glance_for=None,
                parallel=1, no_members=False,
                earlier_members=None, allow_volume_backed=False,
                allow_encrypted=False, tags=(), properties=None,
                member_domains=(), exclude=()):
    """Make ``members`` the members of each image; a ``plan.Result``.

    ``image_refs``: names or IDs (one, or a list), plus the caller's
    images with every tag of ``tags`` and property of ``properties``.
    ``members``: names or IDs, plus every enabled project of each domain
    of ``member_domains`` at the time of the run (the caller's own left
    out), less those ``exclude`` names (each must name one of them).  The
    projects are resolved once for all the images; each image is then
    set as one image is, one after another, its rows, warnings and errors
    gathered: an image that cannot be set is reported and the others go
    on.  INT, TERM or HUP stops the image under way as for one image,
    and starts no other.

    An empty ``members`` with ``prune`` revokes every member: refused
    unless ``no_members`` says so (a truncated member file must not cost
    every consumer its access).

    ``earlier_members``: what to do with the members a private image hid
    ('revoke', 'keep'); by default ``prune`` revokes them (they are not
    listed), and without it the run stops, the image private again.

    Projects are given an image only as ``image transfer`` gives it
    (``gate.check_grant``): a volume-backed snapshot or an encrypted
    volume's image only with ``allow_volume_backed`` / ``allow_encrypted``,
    an image that boots with companions only to projects that can read
    them; else nothing is changed, the dry run refusing alike.
    """
    if isinstance(image_refs, str):
        image_refs = [image_refs]
    workers = runner.check(parallel)
    members = list(dict.fromkeys(members))   # each name resolved once
    projects, left_out, notes = domain_members(ident, member_domains,
                                               exclude)
    refs = list(dict.fromkeys(image_refs))
    if tags or properties:
        selected = selection.select_images(glance, ident, tags, properties)
        refs += [i['id'] for i in selected if i['id'] not in refs]
        notes.append(selection.selected_note(selected, tags, properties))
    resolved = []

    def targets():
        """The projects, resolved once (for the first image, as before)."""
        if not resolved:
            resolved.append(resolve_targets(
                ident, members, project_domain, accept, glance_for,
                projects, left_out, member_domains))
        return resolved[0]

    seen = set()    # an image named twice (a name and its ID) is set once

    reads = {}

    def one(ref, stop=None):
        return set_one(glance, ident, ref, members or projects, targets,
                       prune, accept, dry_run, workers, no_members,
                       earlier_members, allow_volume_backed,
                       allow_encrypted, stop, seen=seen,
                       read=reads.get(ref))
    if len(refs) == 1 and not (tags or properties):
        res = one(refs[0])
    else:
        targets()   # a project that cannot be resolved stops them all
        reads.update(read_each(glance, ident, refs, workers, {
            i['id']: i for i in (selected if tags or properties else [])}))
        res = set_several(one, refs)
    if dry_run:
        res.warnings[:0] = [n for n in notes if n]
    return res


def domain_members(ident, domains, exclude, option='--member-domain',
                   instead='--member'):
    """``(projects, left out, notes)`` of ``--member-domain``/``--exclude``.

    Every enabled project of each domain, the caller's own left out (it
    owns the images); each ``exclude`` must name one of them.  ``option``
    and ``instead``: how the caller names domains and projects, in errors.
    """
    projects, left_out, notes = {}, {}, []
    for domain in dict.fromkeys(domains):
        found = ident.domain_projects(domain, option=option,
                                      instead=instead)
        mine = [ref for ref in exclude if _names_one(ref, found, domain)]
        kept, out = recipients.exclude_projects(found, mine, domain)
        projects.update((p['id'], p) for p in kept
                        if p['id'] != ident.project_id)
        left_out.update((p['id'], p) for p in out)
        notes.append(recipients.excluded_note(out, domain))
    for ref in exclude:
        if not any(_names_one(ref, list(left_out.values()), d)
                   for d in domains):
            raise errors.ImageShareError(recipients.E_NOT_IN_DOMAIN.format(
                ref=ref, domain="', '".join(dict.fromkeys(domains))))
    for pid in left_out:
        projects.pop(pid, None)     # excluded from another domain too
    return list(projects.values()), list(left_out.values()), notes


def _names_one(ref, projects, domain):
    """Whether ``ref`` names one of ``projects`` (of ``domain``)."""
    try:
        return bool(recipients.exclude_projects(projects, [ref], domain)[1])
    except errors.ImageShareError:
        return False


class _NotStarted(Exception):
    """A signal came before the image's first write."""


def set_several(one, refs):
    """``one(ref)`` for each image, under INT, TERM and HUP; one Result."""
    stop = signals.Stop()
    parts, errs, idle, cut = [], [], [], []
    with signals.catching(stop):
        for n, ref in enumerate(refs):
            if stop.name:
                idle = refs[n:]
                break
            try:
                parts.append(one(ref, stop))
                if parts[-1].interrupted:
                    cut.append(ref)
            except _NotStarted:
                idle = refs[n:]
                break
            except errors.ImageShareError as e:
                errs.append(str(e))
    rows = [r for res in parts for r in res.rows]
    warnings = [w for res in parts for w in res.warnings
                if not (stop.name and idle and w == W_LATE_REVOKE.format(
                    signal=stop.name))]
    errs = [e for res in parts for e in res.errors] + errs
    interrupted = [res.interrupted for res in parts if res.interrupted]
    if idle:
        errs += [E_IMAGE_NOT_STARTED.format(id=ref, signal=stop.name)
                 for ref in idle]
        interrupted.append(E_IMAGES_NOT_STARTED.format(
            signal=stop.name, total=len(refs),
            done=len(parts) - len(cut), cut=len(cut),
            cut_ids=' (%s)' % ', '.join(cut) if cut else '',
            idle=len(idle), ids=', '.join(idle)))
    failed = sum(res.failed for res in parts) + len(refs) - len(
        parts) - len(idle)
    total = sum(res.total for res in parts) + len(refs) - len(parts)
    return transfer_plan.Result(
        'set', rows, warnings, errs, failed, total, VERB, None,
        interrupted='\n'.join(interrupted) or None)


def read_each(glance, ident, refs, workers, known=None):
    """``{ref: share.read of it}``, ``workers`` images at a time.

    What several images' run reads before its first write, so that a
    run with nothing to do makes one member list per image, in parallel.
    ``known``: image ID -> the image as the selection listed it (not read
    again).
    """
    def one(ref):
        try:
            return share.read(glance, ident, [ref], companions_too=False,
                              known=known)
        except errors.ImageShareError as e:
            return e    # that image's error, when its turn comes
    # A signal meanwhile: nothing was written (signals.BatchStopped,
    # from the runner).
    return dict(zip(refs, runner.run(one, refs, workers)))


def set_one(glance, ident, image_ref, members, targets, prune, accept,
            dry_run, workers, no_members, earlier_members,
            allow_volume_backed, allow_encrypted, stop=None, revoke=None,
            protect=False, seen=None, read=None):
    """One image's members made ``targets()``'s projects; its Result.

    ``stop``: the ``signals.Stop`` of several images' run (None for one):
    set before this image's first write, the image is not started.
    ``revoke``: member ID -> why it is revoked even without ``prune`` (a
    policy's expired grants), said in its row; ``protect``: the image is
    protected too.  ``seen``:
    the IDs of the images set already in this run (one named again, by
    another name or its ID, is not set twice).  ``read``: what
    ``read_each`` read of it, if it did.
    """
    if read is None:
        read = share.read(glance, ident, [image_ref], companions_too=False)
    elif isinstance(read, errors.ImageShareError):
        raise read
    if read.failed:
        raise errors.ImageShareError(read.failed[image_ref])
    image = read.images[0]
    if seen is not None:
        if image['id'] in seen:
            return transfer_plan.Result('set', [], [], [], 0, 0, VERB, None)
        seen.add(image['id'])
    listed = read.members.get(image['id'], {})
    if prune and not members and not no_members:
        raise errors.ImageShareError(E_EMPTY.format(every=_every(
            image, len(listed), ' of image %s' % image['id'])))
    targets = targets()
    # A private image hides its earlier members: sharing it brings them
    # back, so the run must be told what to do with them.
    policy = earlier_members or ('revoke' if prune else 'refuse')
    plan = share.make_plan(read, targets, dict(
        accept=accept, parallel=workers, earlier_members=policy,
        allow_volume_backed=allow_volume_backed,
        allow_encrypted=allow_encrypted, protect=protect))
    allowed = gate.check_grant(glance, ident, plan, share.ADD)
    revokes = _revoke_pairs(ident, image, listed, targets, prune, revoke)
    whole = dataclasses.replace(plan, pairs=plan.pairs + revokes)
    before = {p.target.project_id: (p.member or {}).get('status')
              for p in whole.pairs}
    warnings = allowed + recipients.unverified_warnings(targets) + [
        W_KEPT_GONE.format(id=image['id'], member=messages.arg(
            p.target.project_id)) for p in revokes
        if not p.steps and messages.addressable(p.target.project_id)
        and ident.project_exists(p.target.project_id) is False]
    # A member Glance cannot address by URL: no request can revoke it.
    warnings += [W_UNREMOVABLE.format(
        id=image['id'], member=messages.arg(p.target.project_id),
        remove=messages.REMOVE_NO_URL) for p in revokes
        if (prune or p.target.project_id in (revoke or {}))
        and not messages.addressable(p.target.project_id)]
    sharing = any(p.steps for p in plan.pairs)
    if (prune or revoke) and not sharing and image.get(
            'visibility') == 'private':
        warnings.append(W_PRUNE_HIDDEN.format(id=image['id'], command=(
            shlex.join(['openstack', 'image', 'share', 'revoke', image['id'],
                        '--all', '--share-briefly']))))
    elif dry_run:
        warnings += _dry_run_warnings(image, prune, members, len(listed),
                                      earlier_members, policy, sharing)
    if dry_run:
        warnings += share.left_rejected(plan)
        return _result(glance, ident, image, whole, before, warnings,
                       dry_run, prune)
    if stop is not None and stop.name:
        raise _NotStarted()
    if prune and any(p.steps for p in whole.pairs):
        _unchanged_since(glance, ident, image, read.members)
    own = stop is None
    stop = stop or signals.Stop()
    with signals.catching(stop) if own else contextlib.nullcontext():
        interrupted = _write(glance, ident, plan, whole, [
            p for p in revokes if p.steps], workers, warnings, stop)
    # The risks as the members stand after the run, revokes included.
    warnings += share.risks(whole, ident)
    return _result(glance, ident, image, whole, before, warnings,
                   dry_run, prune, interrupted)


def _write(glance, ident, plan, whole, revokes, workers, warnings, stop):
    """Add and accept (``plan``), then revoke; a signal's summary or None.

    ``stop``: the ``signals.Stop`` the caller catches signals with.
    """
    if any(p.steps for p in plan.pairs):
        warnings += share.execute(glance, ident, plan, stop)
        if stop.name and not (revokes and base.finished(
                map(base.state_of, plan.pairs))):
            return share.summary(whole, stop.name)
        # Every add and accept ended before the signal: what it stops is
        # the revokes (none starts), and their summary says so.
    else:
        # Nothing to add or accept: each pair stands as read, and no run
        # (nor its threads) is started: 0.56 s of a 200-image no-op.
        for p in plan.pairs:
            p.status = (p.member or {}).get('status')
    return _revoke_all(glance, whole, revokes, workers, warnings, stop)


def _revoke_all(glance, plan, pairs, workers, warnings, stop=None):
    """Revoke ``pairs``, ``workers`` at a time, under INT, TERM and HUP.

    A signal meanwhile starts no more revoke (the ones under way end);
    returns the summary of that interruption, or None.  A pair not
    started gets its error (no row: it is still a member).  ``stop``: the
    ``signals.Stop`` of a caller that catches signals already.
    """
    # One executor step per revoke, none waiting for another.
    steps = [executor.Step('Image %s, project %s: revoke member' % (
        p.image['id'], p.target.project_id),
        functools.partial(_revoke, glance, p)) for p in pairs]
    run = executor.run(steps, workers, stop)
    if not run.stopped:
        return None
    idle = [p for p, s in zip(pairs, steps)
            if s.outcome == executor.NOT_STARTED]
    if not idle:
        warnings.append(W_LATE_REVOKE.format(signal=run.stopped))
        return None
    for p in idle:
        p.error = E_NOT_STARTED.format(
            id=p.image['id'], target=p.target.label, signal=run.stopped)
    failed = len(run.having(executor.FAILED))
    return E_REVOKES_INTERRUPTED.format(
        signal=run.stopped, total=len(pairs),
        done=len(pairs) - len(idle) - failed, failed=failed, idle=len(idle))


def resolve_targets(ident, members, project_domain, accept, glance_for,
                    projects=(), left_out=(), domains=()):
    """The projects, each accepted for where the caller can.

    ``members`` as named, ``projects`` the dicts ``--member-domain``
    read, ``left_out`` those ``--exclude`` took from them.
    """
    if not members and not projects and not domains:
        return []
    return recipients.resolve(
        ident, members, project_domain,
        accept=(recipients.AcceptPolicy.WHEN_POSSIBLE if accept
                else recipients.AcceptPolicy.NONE),
        glance_for=glance_for, projects=projects, excluded=left_out,
        domain="', '".join(domains) if domains else None)


def _revoke_pairs(ident, image, listed, targets, prune, revoke=None):
    """A pair per member not listed: revoked or kept.

    Revoked if in ``revoke`` (ID -> why, in its row), or with ``prune``;
    else kept.
    """
    wanted = {t.project_id for t in targets}
    revoke = revoke or {}
    return [transfer_plan.Pair(image, recipients.Target(
        pid, ident.project_name_of(pid)), dict(m), [
            transfer_plan.Step(REVOKE, 'revoke member', revoke.get(pid))]
        if (prune or pid in revoke) and messages.addressable(pid) else [])
        for pid, m in listed.items() if pid not in wanted]


def _dry_run_warnings(image, prune, members, count, earlier_members,
                      policy, sharing):
    warnings = []
    if prune and not members:
        warnings.append(W_ALL.format(id=image['id'],
                                     every=_every(image, count)))
    if sharing and stranded.was_private(image):
        warnings.append(messages.W_HIDDEN.format(
            id=image['id'], then=messages.HIDDEN_THEN[policy] if (
                earlier_members or not prune) else 'revokes them '
            '(--prune)'))
    return warnings


def _every(image, count, of=''):
    """The members ``--prune`` with no member revokes, in words."""
    if stranded.was_private(image):
        return EVERY_HIDDEN.format(of=of)
    return (EVERY if count else EVERY_NONE).format(count=count, of=of)


def _result(glance, ident, image, plan, before, warnings, dry_run, prune,
            interrupted=None):
    """The diff: a row per project, then what moved meanwhile."""
    wanted = {t.project_id for t in plan.targets}
    # A pair that failed has no row: its error says it (on stderr).
    rows = [_row(p, before[p.target.project_id], wanted, dry_run)
            for p in plan.pairs if not p.error]
    if not dry_run:
        rows += _earlier_rows(ident, plan)
    errs = [p.error for p in plan.pairs if p.error]
    if prune and not dry_run and not interrupted and any(
            p.changes for p in plan.pairs):
        rows, changed = _as_they_are(glance, ident, image, rows)
        errs += changed
    return transfer_plan.Result('set', rows, warnings, errs, len(errs),
                                len(plan.pairs), VERB, plan,
                                interrupted=interrupted or None)


def _members_now(glance, image_id):
    try:
        return {m['member_id']: m['status']
                for m in glance.list_members(image_id)}
    except errors.GlanceError:
        return {}   # private (again): Glance lists no member


def _unchanged_since(glance, ident, image, listed):
    """Stop, before any write, if another run changed the members."""
    if image.get('visibility') != 'shared':
        return
    was = {pid: m['status'] for pid, m in listed.get(image['id'],
                                                     {}).items()}
    now = _members_now(glance, image['id'])
    if now != was:
        raise errors.ImageShareError(messages.E_MEMBERS_CHANGED.format(
            id=image['id'], changes=_changes(ident, was, now)))


def _changes(ident, was, now):
    """'beta (id) pending->accepted, gamma (id) added, ...' in words."""
    out = []
    for pid in sorted(set(was) | set(now)):
        if was.get(pid) != now.get(pid):
            name = ident.project_name_of(pid)
            label = '%s (%s)' % (name, pid) if name else pid
            out.append('%s %s' % (label, 'removed' if pid not in now else
                                  'added (%s)' % now[pid] if pid not in was
                                  else '%s->%s' % (was[pid], now[pid])))
    return ', '.join(out)


def _as_they_are(glance, ident, image, rows):
    """The rows whose After holds still; an error for each that moved.

    Another run may write between this run's writes: no row claims a
    state that is not the image's.
    """
    now = _members_now(glance, image['id'])
    out, errs = [], []
    for row in rows:
        pid, after = row[1], row[4]
        if now.get(pid) != after and not row[5].startswith(
                EARLIER_DIFF['refuse']):
            # No row claims a state that is not the image's: the
            # error says what moved, on stderr.
            errs.append(messages.E_MEMBER_MOVED.format(
                id=image['id'], member=pid, expected=after,
                now=now.get(pid) or 'not a member'))
            continue
        out.append(row)
    return out, errs


def _earlier_rows(ident, plan):
    """A row per member the private image hid, as the run found them."""
    policy = plan.options['earlier_members']
    return [(image_id, m['member_id'], ident.project_name_of(m['member_id']),
             m['status'], None if policy == 'revoke' else m['status'],
             EARLIER_DIFF[policy])
            for image_id, found in plan.earlier.items() for m in found]


def _revoke(glance, p):
    p.start(p.steps[0])
    try:
        glance.remove_member(p.image['id'], p.target.project_id)
    except errors.NotFound:
        pass    # gone meanwhile: as good as revoked
    except (errors.GlanceError, errors.TransportError) as e:
        p.error = errors.explain(e, p.image['id'], p.target.label,
                                 'remove member %s' % p.target.project_id,
                                 client=glance)
        p.status = p.member['status']
        raise errors.ImageShareError(p.error)
    p.status = None
    p.changes.append(_said('revoked', p.steps[0]))


def _said(word, step):
    """``word``, with why ``step`` was planned if it says."""
    return '%s (%s)' % (word, step.why) if step.why else word


def _row(p, before, wanted, dry_run):
    extra = p.target.project_id not in wanted
    if dry_run:
        kinds = [s.kind for s in p.steps]
        after = (None if REVOKE in kinds else 'accepted'
                 if share.ACCEPT in kinds else 'pending'
                 if share.ADD in kinds else before)
        words = [_said(PLANNED.get(s.kind, s.text), s) for s in p.steps]
        diff = 'plan: ' + (', '.join(words)
                           or (KEPT if extra else 'unchanged'))
    else:
        after = p.status if not extra or p.changes else before
        diff = ', '.join(DONE.get(c, c) for c in p.changes) or (
            KEPT if extra else 'unchanged')
    return (p.image['id'], p.target.project_id, p.target.project_name,
            before, after, diff)
