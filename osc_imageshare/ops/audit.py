"""Every cross-project share of a project, or of a cloud, and its risks.

``audit`` reads (never writes) the shared images of a scope page by page,
their member lists in parallel, and returns one row per (image, member,
risk), sorted by image ID, then member.  The risks are a table of small
independent checks (``share_risks.RISKS``); ``fix`` removes the members
that cannot be projects (and with ``protect`` protects the caller's
unprotected images), nothing else, and only once Keystone's answers
pass a sanity check (``suspect``).

What the audit cannot see is no risk: the members Keystone does not let
the caller verify, and those its answers leave unknown, are counted in
``Notes`` (one line on stderr) and listed only when asked for
(``--risk unverifiable``); an image whose members cannot be read is a row
of its own (``unreadable``), and the audit goes on.

More risks join the table (``osc_imageshare.ops.share_risks``) as one
function and one line each.
"""

import collections
import datetime
import functools
import itertools
import logging
import math

from osc_imageshare.api import identity
from osc_imageshare.batch import executor
from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import kinds
from osc_imageshare.ops import messages
from osc_imageshare.ops import share_risks
from osc_imageshare.ops import share_status
from osc_imageshare.ops import stranded

LOG = logging.getLogger(__name__)

# A row: image ID, image name, owner, member, member name, member status,
# risk, detail; a fix's row adds what was done ('removed', ...).
RISK = 6
NONE = 'none'
UNVERIFIABLE = 'unverifiable'
UNREADABLE = 'unreadable'
# Every keyword of --risk: the member risks, then those of an image.
KEYWORDS = list(share_risks.RISKS) + [UNREADABLE]
DEFAULT_PENDING_DAYS = 30

E_NOT_ADMIN = ("{option} needs an admin role, which project {project} does "
               "not have: audit your own project's images (no option), or "
               "those shared with it (--incoming)")
E_FIX_INTERRUPTED = (
    "Interrupted by {signal}: of {total} fix(es), {done} done, {failed} "
    "failed, {idle} not started; run the command again to finish (the "
    "audit finds what is left)")
W_LATE_FIX = "{signal} came too late to stop anything: every fix had ended"
E_FIX_FAILED = 'Could not {what} (image {id}): {why}'
W_UNREADABLE = "Could not read the members of image {id}: {why}"
E_UNREADABLE = ("Could not read the members of {count} image(s): their "
                "rows say why (Risk unreadable)")
E_UNREADABLE_FIX = ("Could not read the members of {count} image(s), each "
                    "named above: their risks were neither seen nor fixed")
W_UNVERIFIED = ("{count} member(s) could not be verified ({cause}){then}; "
                "list them with --risk unverifiable")
UNVERIFIED_THEN = {
    identity.HIDDEN: ": an admin verifies them with 'openstack image share "
                     "audit --project {project_arg}'",
    identity.BAD_ANSWER: ": check the identity service",
}
E_SUSPECT = ("The identity service's answers look wrong ({why}): --fix "
             "removed nothing; check it (and identity_endpoint_override), "
             "then run the audit again")
# Every member project looked up reading as deleted, when there are at
# least SUSPECT_MIN of them, is not believed.
SUSPECT_MIN = 5
E_UNADDRESSABLE = ("Glance lists it but answers 404 to its URL: Glance "
                   "cannot address a member ID with a '/', a '..' or a "
                   "character outside ASCII")

# What --fix does for a risk: 'remove' the member, 'protect' the image.
FIXES = {'not-a-project': 'remove', 'project-deleted': 'remove',
         'unprotected': 'protect'}
FIXED = {('remove', False): 'removed', ('remove', True): 'would remove',
         ('protect', False): 'protected', ('protect', True): 'would protect'}


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def check_days(value):
    """``value`` as a number of days, 0 or more; ValueError otherwise."""
    days = float(value)
    if not math.isfinite(days) or days < 0:
        raise ValueError(value)
    return days


# -------------------------------------------------------------- scopes
class Scope(collections.namedtuple('Scope', (
        'filters', 'project', 'incoming'))):
    """Which images to read, and which of their members to keep.

    ``project``: the project whose side is audited (None: every project);
    ``incoming``: the images shared with it rather than those it owns.
    """

    def keeps_image(self, image):
        return not (self.incoming and image.get('owner') == self.project)

    def keeps_member(self, member):
        return not self.incoming or member['member_id'] == self.project


def scope(ident, incoming=False, all_projects=False, project=None,
          project_domain=None):
    """The ``Scope`` of an audit; admins only for another project's."""
    for option, given in (('--all-projects', all_projects),
                          ('--project', project)):
        if given and not ident.is_admin:
            raise errors.ImageShareError(E_NOT_ADMIN.format(
                option=option, project=ident.project_name
                or ident.project_id))
    if all_projects:
        return Scope({'visibility': 'shared'}, None, False)
    pid = _project_id(ident, project, project_domain) if project \
        else ident.project_id
    if incoming:
        return Scope({'visibility': 'shared', 'member_status': 'all'},
                     pid, True)
    return Scope({'visibility': 'shared', 'owner': pid}, pid, False)


def _project_id(ident, ref, domain):
    try:
        return ident.resolve_project(ref, domain)[0]['id']
    except errors.ImageShareError:
        # A project deleted since: its images are still worth auditing.
        if identity.looks_like_id(ref):
            return ref
        raise


# -------------------------------------------------------------- the audit
class Notes:
    """What an audit could not see, for the lines after its rows.

    ``unverifiable``: ``(image ID, member, cause)`` of the members it
    could not verify (not rows unless asked for); ``unreadable``: the
    sentence of each image whose members it could not read (a row too);
    ``judged``: each
    member that looks like a project ID, and whether it reads as
    existing (True), deleted (False) or unknown (None).
    """

    def __init__(self):
        self.unverifiable = []
        self.unreadable = []
        self.judged = {}

    def warnings(self, ident):
        """One line per cause of the unverifiable members not listed."""
        causes = collections.OrderedDict()
        for _image, _member, why in self.unverifiable:
            causes.setdefault(why, []).append(_member)
        return [W_UNVERIFIED.format(
            count=len(found), cause=why[1], then=UNVERIFIED_THEN[why[0]]
            .format(project_arg=messages.arg(ident.project_id)))
            for why, found in causes.items()]


def audit(glance, ident, where, risks=None, show_all=False,
          pending_days=DEFAULT_PENDING_DAYS, parallel=None, now=None,
          notes=None):
    """The rows (see ``RISK``) for the scope ``where``: a generator.

    ``risks``: the keywords to keep (default: every one but
    ``unverifiable``, counted in ``notes`` instead); ``show_all`` keeps
    the (image, member) pairs without risk too (Risk 'none').  Images
    come a page at a time, their members ``parallel`` at a time.
    """
    workers = runner.check(parallel)
    notes = notes if notes is not None else Notes()
    opts = dict(pending_days=pending_days,
                now=now or _now(),
                consumer=where.incoming and not ident.is_admin,
                companion_reader=CompanionReader(), notes=notes)
    keep = set(risks or set(KEYWORDS) - {UNVERIFIABLE}) | (
        {NONE} if show_all else set())
    found = glance.iter_images(where.filters)
    while True:
        chunk = list(itertools.islice(found, glance.PAGE))
        if not chunk:
            return
        # A page may hold none to keep (--incoming: the project's own).
        page = [i for i in chunk if where.keeps_image(i)]
        listed = runner.run(lambda i: _members(glance, i), page,
                            workers)
        for image, members in zip(page, listed):
            if isinstance(members, str):
                why = W_UNREADABLE.format(id=image['id'], why=members)
                notes.unreadable.append(why)
                rows = [(image['id'], image.get('name'), image.get('owner'),
                         None, None, None, UNREADABLE, why)]
            else:
                rows = _image_rows(glance, ident, image, members, where,
                                   opts)
            for row in rows:
                if row[RISK] == UNVERIFIABLE and row[RISK] not in keep:
                    notes.unverifiable.append(
                        (row[0], row[3], ident.why_unknown(row[3])
                         or (identity.HIDDEN, 'Keystone does not say')))
                if row[RISK] in keep:
                    yield row


def _members(glance, image):
    """The members of ``image``, or why they could not be read (a str)."""
    try:
        return glance.list_members(image['id'])
    except errors.NotFound:
        return []       # deleted since it was listed
    except (errors.GlanceError, errors.TransportError) as e:
        return errors.describe(e, side=None)


def _image_rows(glance, ident, image, members, where, opts):
    accepted = sum(1 for m in members if m['status'] == 'accepted')
    kept = sorted((m for m in members if where.keeps_member(m)),
                  key=lambda m: m['member_id'])
    owner = image.get('owner')
    # Labels are the owner's data: read on the owner's or an admin's side.
    owns = ident.is_admin or owner == ident.project_id
    if not kept and not where.incoming and owns:
        # Left shared by a dead run before it added anyone: one row.
        for keyword, what in (('interrupted', stranded.warning(image)),
                              ('unrecognised-label',
                               stranded.unrecognised_warning(image))):
            if what:
                yield (image['id'], image.get('name'), owner, None, None,
                       None, keyword, what)
    owner_project = ident.get_project(owner) if owner and kept else None
    kind = kinds.classify(image)
    for m in kept:
        project = ident.get_project(m['member_id'])
        if identity.looks_like_id(m['member_id']):
            opts['notes'].judged[m['member_id']] = (
                None if project is None else bool(project))
        unreadable = [(key, cid, why) for key, cid in sorted(
            kind.companions.items()) for why in [opts['companion_reader'](
                glance, cid, m['member_id'])] if why]
        facts = share_risks.Facts(
            image, m, project, owner_project, accepted, kind=kind,
            companions=unreadable, why=ident.why_unknown(m['member_id'])
            if project is None else None,
            member_is=share_status.member_is(ident, m['member_id'], project),
            domain=share_status.domain_of(ident, project), owns=owns,
            **_facts_opts(opts))
        head = (image['id'], image.get('name'), owner, m['member_id'],
                project.get('name') if project else None, m['status'])
        found = [(k, check(facts)) for k, check in share_risks.RISKS.items()]
        found = [(k, d) for k, d in found if d] or [(NONE, '')]
        for keyword, detail in found:
            yield head + (keyword, detail)


def _facts_opts(opts):
    return {k: v for k, v in opts.items()
            if k not in ('companion_reader', 'notes')}


class CompanionReader:
    """Whether a project can read a companion image; each read once a run.

    Called as ``reader(glance, companion_id, project_id)``: None where the
    project can read it (public or community, its own, or shared with it
    in any member status), else a ``COMPANION_WHY`` key.
    """

    def __init__(self):
        self._seen = {}

    def __call__(self, glance, companion_id, project_id):
        image, members = self._read(glance, companion_id)
        if image is None:
            return 'hidden'
        if image.get('visibility') in ('public', 'community') \
                or image.get('owner') == project_id:
            return None
        if image.get('visibility') != 'shared':
            return 'private'
        if members is None:
            return None     # shared with the caller, the one who asks
        return None if project_id in members else 'unlisted'

    def _read(self, glance, companion_id):
        if companion_id not in self._seen:
            self._seen[companion_id] = _companion(glance, companion_id)
        return self._seen[companion_id]


def _companion(glance, companion_id):
    """``(image, member IDs)`` of a companion; ``(None, ())`` if unseen."""
    try:
        image = glance.get_image(companion_id)
    except (errors.NotFound, errors.Forbidden):
        return None, ()
    if image.get('visibility') != 'shared':
        return image, ()
    try:
        return image, {m['member_id'] for m in glance.list_members(
            companion_id)}
    except errors.GlanceError:
        # Glance lists a shared image's members to its owner and admins
        # only: the caller read it as one of them (a consumer's side).
        return image, None


# -------------------------------------------------------------- --fix
def fix(glance, ident, rows, protect=False, dry_run=False, parallel=None,
        notes=None):
    """Fix what is safe to fix among ``rows``: ``(rows, errors)``.

    Removes the members that are no project (``not-a-project``,
    ``project-deleted``); with ``protect``, protects the caller's own
    images that members have accepted.  One row (a row, then the result) per
    fix done; a fix that failed has no row, but its error; ``dry_run``
    only says what would be done.  Nothing at all when Keystone's answers
    look wrong (``suspect``; ``notes``: the audit's).
    """
    rows = list(rows)
    todo, protected = [], set()
    for row in rows:
        action = FIXES.get(row[RISK])
        if action == 'protect':
            if not protect or row[2] != ident.project_id \
                    or row[0] in protected:
                continue
            protected.add(row[0])
            row = row[:3] + (None, None, None) + row[RISK:]
        if action:
            todo.append((action, row))
    removing = [row for action, row in todo if action == 'remove']
    why = suspect(ident, removing, notes) if removing else None
    if why:
        raise errors.ImageShareError(E_SUSPECT.format(why=why))
    if dry_run:
        return [row + (FIXED[action, True],) for action, row in todo], []
    # Each fix one step (the executor's), none waiting for another.
    steps = [executor.Step(
        'Image %s: %s' % (row[0], FIXED[action, True]),
        functools.partial(_fix_one, glance, action, row))
        for action, row in todo]
    run = executor.run(steps, runner.check(parallel))
    fixed = [row + (FIXED[action, False],)
             for (action, row), step in zip(todo, steps)
             if step.outcome == executor.DONE]
    failed = [s.error for s in run.having(executor.FAILED)]
    if run.stopped:
        idle = len(run.having(executor.NOT_STARTED))
        if idle:
            raise signals.Interrupted('\n'.join(failed + [
                E_FIX_INTERRUPTED.format(
                    signal=run.stopped, total=len(todo), done=len(fixed),
                    failed=len(failed), idle=idle)]), rows=fixed)
        LOG.warning(W_LATE_FIX.format(signal=run.stopped))
    return fixed, failed


def suspect(ident, removing, notes=None):
    """Why Keystone's answers cannot be believed for ``removing``, or None.

    The caller's own project (asked for again) and the owner of each
    image a member would be removed from must read as existing; and not
    every member project looked up (``notes.judged``), when there are
    ``SUSPECT_MIN`` or more, may read as deleted.
    """
    own, cause = ident.check_own_project()
    if not own:
        return 'your own project %s reads as %s' % (
            ident.project_id, cause[1] if cause else 'deleted')
    for owner in sorted({row[2] for row in removing if row[2]}):
        if not ident.get_project(owner):
            why = ident.why_unknown(owner)
            return 'the owner %s of image(s) to fix reads as %s' % (
                messages.arg(owner), why[1] if why else 'deleted')
    judged = list((notes.judged if notes else {}).values())
    if len(judged) >= SUSPECT_MIN and not any(
            v is not False for v in judged):
        return 'all %d member projects looked up read as deleted' % len(
            judged)
    return None


def _fix_one(glance, action, row):
    """Do one fix; raise why it failed, in words."""
    image_id, member = row[0], row[3]
    try:
        if action == 'remove':
            glance.remove_member(image_id, member)
        else:
            glance.update_image(image_id, protected=True)
    except (errors.GlanceError, errors.TransportError) as e:
        why = errors.role_refused(e, glance) or errors.describe(e, side=None)
        if action == 'remove' and isinstance(e, errors.NotFound):
            if not _still_member(glance, image_id, member):
                return      # gone already: what the fix wanted
            why = E_UNADDRESSABLE
        what = ('remove member %s' % member if action == 'remove'
                else 'protect the image')
        raise errors.ImageShareError(E_FIX_FAILED.format(
            what=what, id=image_id, why=why))


def _still_member(glance, image_id, member):
    """Whether a member Glance answered 404 for is listed all the same.

    Glance routes on the decoded path: a member with a '/' ('e/f'), a
    '..' or a character outside ASCII ('\u00df') can be neither addressed
    nor removed by URL, and answers 404.
    """
    try:
        listed = glance.list_members(image_id)
    except errors.NotFound:
        return False        # the image is gone
    return any(m['member_id'] == member for m in listed)
