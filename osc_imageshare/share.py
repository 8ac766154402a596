"""Share images with other projects: plan, apply, verify, roll back.

``plan_transfer`` reads everything and decides, before any write, how each
(image, project) pair will be shared and accepted; ``apply_transfer`` runs
the plan pair by pair and undoes what it changed when a pair fails.  The
owner's Glance client does the owner's steps; each target project's
acceptance runs with credentials of that project: a clouds.yaml entry
(``--to-cloud``), the caller's token rescoped to it, or an admin's.
"""

import dataclasses
import logging

from glanceclient import exc as glance_exc

from osc_imageshare import errors
from osc_imageshare import images

LOG = logging.getLogger(__name__)

COLUMNS = ('Image ID', 'Image Name', 'Project ID', 'Project Name',
           'Member Status', 'Changes')

W_DEPENDS = ("Image {id} stays in project {owner}: if that project deletes "
             "or unshares it, or the project is closed, instances of {to} "
             "booted from it can fail to rebuild, evacuate or migrate.")
W_PROTECT = ("Image {id} is not protected: add --protect so that project "
             "{owner} cannot delete it by accident while {to} depend(s) on "
             "it.")
W_PENDING = ("Project {to} has not accepted image {id}: as a user of that "
             "project run 'openstack image share accept {id}'.")
W_UNVERIFIED = ("Project ID {to} could not be verified (you may not look "
                "projects up); Glance accepts any string as a member, so "
                "check it is right.")


@dataclasses.dataclass
class Target:
    """A project to share with, and how its acceptance will happen."""

    project_id: str
    project_name: str = None
    verified: bool = True
    accept_as: str = None   # 'cloud <name>', 'rescoped token', 'admin'
    glance: object = None   # the client that accepts, if any

    @property
    def label(self):
        if self.project_name:
            return '%s (%s)' % (self.project_name, self.project_id)
        return self.project_id


@dataclasses.dataclass
class Pair:
    image: dict
    target: Target
    member: dict = None     # the membership before this run, if any
    status: str = None      # the membership after this run
    changes: list = dataclasses.field(default_factory=list)
    error: str = None


@dataclasses.dataclass
class Plan:
    pairs: list
    failed_images: dict     # image ref -> error, found at preflight
    protect: bool
    accept: bool


def resolve_targets(ident, to, project_domain=None, to_clouds=(),
                    accept=True, open_cloud=None, glance_for=None,
                    allow_own=False):
    """Resolve ``--to`` projects and ``--to-cloud`` entries to Targets.

    ``open_cloud(name)`` returns ``(session, glance client)`` for a
    clouds.yaml entry; ``glance_for(session)`` a Glance client on a
    session.  ``allow_own``: the caller's own project may be a target
    (a copy of someone else's image); it acts with its own credentials.
    Every error here stops the command before any write.
    """
    targets = {}
    for name in to_clouds:
        sess, glance = open_cloud(name)
        if not allow_own and glance_for:
            # Sharing is per region: accept in the image's Glance, with
            # the entry's credentials, whatever region the entry names.
            glance = glance_for(sess)
        access = sess.auth.get_access(sess)
        targets[access.project_id] = Target(
            access.project_id, access.project_name, True, 'cloud %s' % name,
            glance)
    for ref in to:
        project, verified = ident.resolve_project(ref, project_domain)
        if project['id'] not in targets:
            targets[project['id']] = Target(project['id'], project.get('name'),
                                            verified)
    if not targets:
        raise errors.ImageShareError(
            'Name at least one target project: --to <project> or '
            '--to-cloud <cloud>')
    for t in targets.values():
        if t.project_id == ident.project_id and allow_own:
            t.accept_as = 'your own project'
            continue
        if t.project_id == ident.project_id:
            raise errors.ImageShareError(
                "Project %s is your own project, the images' owner; choose "
                "another target" % t.label)
        if not accept or t.glance is not None:
            continue
        if ident.can_rescope() and t.project_id in ident.my_projects():
            t.glance = glance_for(ident.rescoped_session(t.project_id))
            t.accept_as = 'rescoped token'
        elif ident.is_admin:
            t.accept_as = 'admin'
        else:
            raise errors.ImageShareError(
                ident.cannot_act_for(t.label, copy=allow_own))
    return list(targets.values())


def check_image(image, ident):
    """Why this image cannot be shared by the caller, or None."""
    owner = image.get('owner')
    if owner != ident.project_id:
        name = ident.project_name_of(owner) if owner else None
        return ("Image %s is owned by project %s; only the owner can share "
                "it" % (image['id'], '%s (%s)' % (name, owner) if name
                        else owner))
    if image.get('visibility') in ('public', 'community'):
        return ("Image %s is %s: every project can already use it; there is "
                "nothing to share" % (image['id'], image['visibility']))
    if image.get('status') != 'active':
        return ("Image %s is %s, not active: only an active image can be "
                "transferred" % (image['id'], image.get('status')))
    return None


def plan_transfer(glance, ident, image_refs, targets, accept=True,
                  protect=False):
    """Read the images and their members; decide every step, write nothing.

    An image that cannot be shared (not found, not ours, public, not
    active) fails on its own; the others go ahead.
    """
    pairs = []
    found, failed = images.find_images(
        glance, image_refs, ident.project_name or ident.project_id,
        lambda image: check_image(image, ident))
    for image in found:
        members = {}
        if image.get('visibility') == 'shared':
            members = {m['member_id']: dict(m)
                       for m in images.list_members(glance, image['id'])}
        for t in targets:
            pairs.append(Pair(image, t, members.get(t.project_id)))
    return Plan(pairs, failed, protect, accept)


def planned_steps(plan):
    """Per pair, the steps ``apply_transfer`` would take."""
    seen = set()
    out = []
    for p in plan.pairs:
        steps = []
        if p.image['id'] not in seen:
            seen.add(p.image['id'])
            if p.image.get('visibility') == 'private':
                steps.append('visibility private->shared')
            if plan.protect and not p.image.get('protected'):
                steps.append('protect')
        if p.member is None:
            steps.append('add member')
        if plan.accept and (p.member or {}).get('status') != 'accepted':
            steps.append('accept as %s' % p.target.accept_as)
        out.append((p, steps))
    return out


def apply_transfer(glance, plan):
    """Run the plan; a failed pair is rolled back and reported on its own."""
    by_image = {}
    for p in plan.pairs:
        by_image.setdefault(p.image['id'], []).append(p)
    for image_id, pairs in by_image.items():
        _apply_image(glance, plan, pairs[0].image, pairs)
    return plan.pairs


def _apply_image(glance, plan, image, pairs):
    undo = {}   # image field -> value before this run
    try:
        if image.get('visibility') == 'private':
            images.update_image(glance, image['id'], visibility='shared')
            undo['visibility'] = 'private'
            pairs[0].changes.append('visibility private->shared')
        if plan.protect and not image.get('protected'):
            images.update_image(glance, image['id'], protected=True)
            undo['protected'] = False
            pairs[0].changes.append('protected')
    except glance_exc.HTTPException as e:
        msg = errors.explain(e, image['id'], action='update the image',
                             client=glance)
        _undo_image(glance, image, undo)
        for p in pairs:
            p.error, p.changes, p.status = msg, [], (p.member or {}).get(
                'status')
        return
    for p in pairs:
        _apply_pair(glance, plan, p)
    if all(p.error for p in pairs):
        _undo_image(glance, image, undo)


def _apply_pair(glance, plan, p):
    image_id, pid = p.image['id'], p.target.project_id
    added = False
    try:
        if p.member is None:
            try:
                images.add_member(glance, image_id, pid)
                added = True
                p.changes.append('member added')
            except glance_exc.HTTPConflict:
                pass  # added meanwhile: as good as ours
        if plan.accept and (p.member or {}).get('status') != 'accepted':
            acceptor = p.target.glance or glance
            try:
                images.set_member_status(acceptor, image_id, pid,
                                         'accepted')
            except glance_exc.HTTPException as e:
                raise _Failed(errors.explain(
                    e, image_id, p.target.label,
                    'accept as %s' % p.target.accept_as, client=acceptor))
            p.changes.append('accepted')
        # Verify: read the membership back, as the owner sees it.
        member = images.get_member(glance, image_id, pid)
        p.status = member['status']
        if plan.accept and p.status != 'accepted':
            raise _Failed('Image %s: membership of %s reads %s after '
                          'accepting' % (image_id, p.target.label, p.status))
    except glance_exc.HTTPException as e:
        _fail(glance, p, added, errors.explain(
            e, image_id, p.target.label, 'add member %s' % pid,
            client=glance))
    except _Failed as e:
        _fail(glance, p, added, str(e))


class _Failed(Exception):
    pass


def _fail(glance, p, added, msg):
    p.error = msg
    p.status = (p.member or {}).get('status')
    if added:
        try:
            images.remove_member(glance, p.image['id'],
                                 p.target.project_id)
            p.changes = ['rolled back']
        except glance_exc.HTTPException as e:
            p.error += ('; rolling back also failed (%s): remove it with '
                        "'openstack image share revoke %s %s'" % (
                            errors.glance_message(e), p.image['id'],
                            p.target.project_id))
    else:
        p.changes = []


def _undo_image(glance, image, undo):
    if not undo:
        return
    try:
        images.update_image(glance, image['id'], **undo)
    except glance_exc.HTTPException as e:
        LOG.error('Could not restore %s of image %s: %s', ', '.join(
            '%s=%s' % kv for kv in sorted(undo.items())), image['id'],
            errors.glance_message(e))


def warnings_for(plan, ident):
    """The risks of the shares that succeeded, one sentence each."""
    out = []
    done = {}
    for p in plan.pairs:
        if not p.error:
            done.setdefault(p.image['id'], []).append(p)
    owner = ident.project_name or ident.project_id
    for image_id, pairs in done.items():
        to = ', '.join(p.target.label for p in pairs)
        out.append(W_DEPENDS.format(id=image_id, owner=owner, to=to))
        protected = pairs[0].image.get('protected') or plan.protect
        if not protected:
            out.append(W_PROTECT.format(id=image_id, owner=owner, to=to))
        for p in pairs:
            if p.status == 'pending':
                out.append(W_PENDING.format(id=image_id, to=p.target.label))
    return out


def unverified_warnings(targets):
    return [W_UNVERIFIED.format(to=t.project_id) for t in targets
            if not t.verified]


def rows(plan, dry_run=False):
    """One output row per (image, project); failed images at the end."""
    out = []
    if dry_run:
        for p, steps in planned_steps(plan):
            out.append((p.image['id'], p.image.get('name'),
                        p.target.project_id, p.target.project_name,
                        (p.member or {}).get('status'),
                        'plan: ' + (', '.join(steps) or 'nothing to do')))
        return out
    for p in plan.pairs:
        changes = ', '.join(p.changes) or 'none'
        if p.error:
            changes = 'failed' + (', ' + changes if p.changes else '')
        out.append((p.image['id'], p.image.get('name'), p.target.project_id,
                    p.target.project_name, p.status, changes))
    return out


def failures(plan, targets):
    """Every failure message, and the count of failed pairs."""
    msgs = [p.error for p in plan.pairs if p.error]
    msgs += list(plan.failed_images.values())
    count = sum(1 for p in plan.pairs if p.error)
    count += len(plan.failed_images) * len(targets)
    total = len(plan.pairs) + len(plan.failed_images) * len(targets)
    return msgs, count, total


@dataclasses.dataclass
class Result:
    rows: list
    warnings: list
    errors: list
    failed: int
    total: int


def transfer(glance, ident, image_refs, to=(), project_domain=None,
             to_clouds=(), accept=True, protect=False, dry_run=False,
             open_cloud=None, glance_for=None):
    """The whole share transfer: resolve, plan, apply (unless dry run)."""
    targets = resolve_targets(ident, to, project_domain, to_clouds, accept,
                              open_cloud, glance_for)
    plan = plan_transfer(glance, ident, image_refs, targets, accept,
                         protect)
    warnings = unverified_warnings(targets)
    if not dry_run:
        apply_transfer(glance, plan)
        warnings += warnings_for(plan, ident)
    msgs, failed, total = failures(plan, targets)
    return Result(rows(plan, dry_run), warnings, msgs, failed, total)
