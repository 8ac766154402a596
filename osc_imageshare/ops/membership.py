"""The verbs around a share: accept, reject, revoke, list.

Consumers accept or reject (their own project's membership; an admin may
act for another project, and never touches the owner).  Owners revoke
members and list who has access to their images.
"""

import logging

from osc_imageshare.api import identity
from osc_imageshare.batch import executor
from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import messages
from osc_imageshare.ops import stranded

LOG = logging.getLogger(__name__)

VERBS = {'accepted': 'accept', 'rejected': 'reject'}

W_REVOKED = ("Project {to} had accepted image {id}: its instances booted "
             "from it can now fail to rebuild, evacuate or migrate.")
E_UNREMOVABLE = ("Member {member} of image {id} is not removed: it can "
                 "be removed {remove}")
W_NOT_MEMBER = ("Project {to} is not a member of image {id}; nothing to "
                "revoke.")
W_PRIVATE = ("Image {id} is private already: no other project can use it; "
             "Glance keeps any members it had, inactive, until it is shared "
             "again.")
W_WOULD_REVOKE = ("Project {to} has accepted image {id}: once it is revoked, "
                  "its instances booted from it can fail to rebuild, "
                  "evacuate or migrate.")
W_PLAN_HIDDEN = ("Image {id} is private: Glance hides its members, so the "
                 "dry run cannot tell which of them the run would remove; "
                 "the run sets it shared for as long as that takes, then "
                 "private again.")
E_NO_SUCH_MEMBER = (
    "No member of image {id} is named '{ref}' as far as project {me} can "
    "tell, nor is there a project of that name or ID that it can see "
    "(without an admin role, Keystone shows only your own projects' "
    "names): give the member's project ID, as 'openstack image share "
    "status {id}' lists it")
E_REVOKE_STOPPED = (
    "Interrupted by {signal}: of {total} project(s), {done} removed, "
    "{failed} failed, {idle} not started (still members){unshare}; run the "
    "command again to finish")
UNSHARE_STEP = '--unshare'     # in ``idle``: the unshare not started
UNSHARE_NOT_DONE = '; image {id} stays shared (--unshare not started)'
W_LATE = ("{signal} came too late to stop anything: every removal had "
          "ended")
W_KEEPS = ("Image {id} keeps {count} member(s), so it stays 'shared'; "
           "revoke them too to make it private.")


def _me(ident):
    return ident.project_name or ident.project_id


def set_status(glance, ident, image_ref, status, project=None,
               project_domain=None):
    """Accept or reject ``image_ref`` for the caller's project.

    With ``project`` (admins only), for that project instead.  Only the
    membership is written: the image, its owner included, is untouched.
    """
    if project and not ident.is_admin and project not in (
            ident.project_id, ident.project_name):
        raise errors.ImageShareError(
            "Only an admin may %s an image for another project ('%s'); as a "
            "user of that project, run this without --project"
            % (VERBS[status], project))
    if project:
        target, _verified = ident.resolve_project(project, project_domain)
        pid, pname = target['id'], target.get('name')
    else:
        pid, pname = ident.project_id, ident.project_name
    image = glance.find_image(image_ref, _me(ident))
    if image.get('owner') == pid:
        raise errors.ImageShareError(
            "Project %s owns image %s; only a member project can accept or "
            "reject it" % (messages.label(pid, pname), image['id']))
    if image.get('visibility') != 'shared':
        raise errors.ImageShareError(
            "Image %s is %s, not shared: it has no members to accept or "
            "reject" % (image['id'], image.get('visibility')))
    try:
        before = glance.get_member(image['id'], pid)['status']
    except errors.NotFound:
        raise errors.ImageShareError(
            "Project %s is not a member of image %s; its owner must add it "
            "first ('openstack image transfer %s --to %s --no-accept')" % (
                messages.label(pid, pname), image['id'], image['id'], pid))
    after = before
    if before != status:
        try:
            after = glance.set_member_status(
                image['id'], pid, status)['status']
        except errors.GlanceError as e:
            raise errors.ImageShareError(errors.explain(
                e, image['id'], messages.label(pid, pname),
                'set status %s' % status,
                client=glance))
    return {'image_id': image['id'], 'image_name': image.get('name'),
            'owner': image.get('owner'), 'project_id': pid,
            'project_name': pname, 'previous_status': before,
            'member_status': after}


def revoke(glance, ident, image_ref, project_refs, project_domain=None,
           unshare=False, share_briefly=False, dry_run=False):
    """Remove members; ``unshare`` makes the image private once none remain.

    Returns ``(rows, warnings, errors)``.  A project that is not a member
    is reported but is no error (a re-run of a revoke is harmless); a
    project that cannot be resolved is an error; ``project_refs`` None
    means every member.  Glance neither lists nor removes members of a
    private image; ``share_briefly`` sets it shared for the removals,
    then private again.  ``dry_run`` writes nothing and returns the rows
    the run would, each result starting with ``plan:``.  A project that
    failed has no row: it is one of the errors.
    """
    image = glance.find_image(image_ref, _me(ident))
    if image.get('owner') != ident.project_id and not ident.is_admin:
        raise errors.ImageShareError(
            "Image %s is owned by project %s; only the owner can revoke its "
            "members" % (image['id'], image.get('owner')))
    # A run that died mid --share-briefly left it shared: still private.
    private = stranded.was_private(image)
    if private and unshare and not share_briefly:
        # What --unshare asks for holds already: nobody else can use it.
        return [], [W_PRIVATE.format(id=image['id'])], []
    if private and not share_briefly:
        raise errors.ImageShareError(
            messages.E_PRIVATE_MEMBERS.format(id=image['id']))
    if image.get('visibility') != 'shared' and not private:
        raise errors.ImageShareError(
            "Image %s is %s: Glance neither lists nor removes members of an "
            "image that is not shared"
            % (image['id'], image.get('visibility')))
    if private and dry_run:
        return _plan_briefly_shared(ident, image, project_refs,
                                    project_domain)
    if private:
        return _revoke_briefly_shared(glance, ident, image, project_refs,
                                      project_domain)
    if dry_run:
        return _revoke(glance, ident, image, project_refs, project_domain,
                       unshare, dry_run)
    batch, idle = signals.Stop(), []
    with signals.catching(batch):
        rows, warnings, errs = _revoke(glance, ident, image, project_refs,
                                       project_domain, unshare, batch=batch,
                                       idle=idle)
    if idle:
        done = [r for r in rows if r[1] is not None]
        left = [ref for ref in idle if ref is not UNSHARE_STEP]
        raise signals.Interrupted('\n'.join(
            warnings + errs + [E_REVOKE_STOPPED.format(
                signal=batch.name, total=len(done) + len(errs) + len(left),
                done=sum(1 for r in done if r[3] == 'removed'),
                failed=len(errs), idle=len(left), unshare=(
                    UNSHARE_NOT_DONE.format(id=image['id'])
                    if UNSHARE_STEP in idle else ''))]), rows=rows)
    if batch.name:
        warnings.append(W_LATE.format(signal=batch.name))
    return rows, warnings, errs


def _plan_briefly_shared(ident, image, project_refs, project_domain):
    """The dry run of --share-briefly: its hidden members stay unknown."""
    rows, errs = [], []
    for ref in project_refs or ():
        try:
            pid, pname = _member_for(ident, {}, image, ref, project_domain)
        except errors.ImageShareError as e:
            errs.append(str(e))
            continue
        rows.append((image['id'], pid, pname, 'plan: remove if a member'))
    if project_refs is None:
        rows.append((image['id'], None, None,
                     'plan: remove every hidden member'))
    rows.append((image['id'], None, None,
                 'plan: visibility private->shared->private'))
    return rows, [W_PLAN_HIDDEN.format(id=image['id'])], errs


def _revoke_briefly_shared(glance, ident, image, project_refs,
                           project_domain):
    """Share a private image, remove the members, make it private again.

    The PATCH that shares it labels it (``stranded.LABEL``), the one that
    makes it private again drops the label: a run killed in between
    leaves a label the next run (and ``image share status``) reads.  INT,
    TERM and HUP meanwhile stop the removals, and the image is made
    private again before the run ends.
    """
    batch = signals.Stop()
    with signals.catching(batch):
        try:
            glance.patch_image(image['id'], replace={
                'visibility': 'shared'}, add={stranded.LABEL: stranded.value(
                    op=stranded.REVOKE)})
        except (errors.GlanceError, errors.ImageShareError) as e:
            raise errors.ImageShareError(errors.explain(
                e, image['id'], action='set it shared', client=glance))
        LOG.info('Image %s: shared for as long as it takes to remove the '
                 'members', image['id'])
        try:
            rows, warnings, errs = _revoke(glance, ident, image,
                                           project_refs, project_domain,
                                           False, batch=batch)
            left = glance.list_members(image['id'])
        finally:
            not_private = _private_again(glance, image['id'])
    if batch.name:
        # The rows of the members removed, then the sentence(s).
        raise signals.Interrupted('\n'.join(filter(None, [
            not_private, messages.E_REVOKE_INTERRUPTED.format(
                name=batch.name, id=image['id'], removed=', '.join(
                    r[1] for r in rows if r[3] == 'removed') or 'none')])),
            rows=[r for r in rows if r[3] == 'removed'])
    if not_private:
        # The image stays shared (labelled): the rows of the members
        # removed, and an error; no row says it is private.
        errs.append(not_private)
        return rows, warnings, errs
    rows.append((image['id'], None, None,
                 'visibility private->shared->private'))
    if left:
        warnings.append(messages.W_STILL_HIDDEN.format(
            id=image['id'], members=messages.member_list(
                left, ident.project_name_of)))
    return rows, warnings, errs


def _member_for(ident, members, image, ref, project_domain):
    """``(project ID, name)`` that ``ref`` names, for a revoke.

    A member ID as listed; else a project name or ID Keystone resolves;
    else the one member whose name the caller can read is ``ref`` (where
    Keystone lets it read a member's project but not search by name).  A
    name nobody can resolve is an error that says to give the ID that
    ``image share status`` shows.
    """
    if ref in members:
        return ref, ident.project_name_of(ref)
    try:
        project, _v = identity.find_project(ident, ref, project_domain)
        return project['id'], project.get('name')
    except errors.ProjectNotFound:
        named = [pid for pid in members
                 if ident.project_name_of(pid) == ref]
    if len(named) == 1 and not project_domain:
        return named[0], ref
    raise errors.ImageShareError(E_NO_SUCH_MEMBER.format(
        ref=ref, id=image['id'], me=_me(ident)))


E_NOT_PRIVATE_AGAIN = ("Could not set image {id} private again: {why}; it "
                       "stays shared (its hidden members have their access "
                       "back) with this run's label: run {command}")


def _private_again(glance, image_id):
    """Make the image private again; the error, or None if it is."""
    try:
        glance.patch_image(image_id, replace={
            'visibility': 'private'}, remove=[stranded.LABEL])
    except (errors.GlanceError, errors.ImageShareError) as e:
        return E_NOT_PRIVATE_AGAIN.format(
            id=image_id, why=errors.describe(e, None),
            command="'openstack image share revoke %s --all "
                    "--share-briefly'" % messages.positional(image_id))
    return None


def _revoke(glance, ident, image, project_refs, project_domain, unshare,
            dry_run=False, batch=None, idle=None):
    """Plan the removals (and ``unshare``), then run them as steps.

    Every project is resolved and every check made while planning, before
    any write; the dry run is the plan's rows.  The run is
    ``executor.run``: the removals one after another, the unshare once
    every removal is done.  With ``batch`` (a ``signals.Stop``), a signal
    starts no step more; ``idle`` then gets the projects left not started,
    and ``UNSHARE_STEP`` if the unshare was left so.
    """
    members = {m['member_id']: m for m in glance.list_members(
        image['id'])}
    # The rows in the order the projects were given: a row, or a removal.
    order, warnings, errs, removals = [], [], [], []
    for ref in (list(members) if project_refs is None
                else list(project_refs)):
        try:
            pid, pname = _member_for(ident, members, image, ref,
                                     project_domain)
        except errors.ImageShareError as e:
            errs.append(str(e))
            continue
        label = messages.label(pid, pname)
        if pid in members and not messages.addressable(pid):
            # No URL reaches it: a request would fail as "not a member".
            errs.append(E_UNREMOVABLE.format(
                member=messages.arg(pid), id=image['id'],
                remove=messages.REMOVE_NO_URL))
            continue
        if pid not in members or any(r.pid == pid for r in removals):
            if pid not in members:
                warnings.append(W_NOT_MEMBER.format(to=label,
                                                    id=image['id']))
                order.append((image['id'], pid, pname, 'not a member'))
            continue
        removals.append(_Removal(glance, image, members[pid], pname, label))
        order.append(removals[-1])
    steps = [r.step for r in removals]
    left = len(members) - len(removals)
    if unshare and not errs and left:
        warnings.append(W_KEEPS.format(id=image['id'], count=left))
    elif unshare and not errs:
        steps.append(executor.Step(
            'Image %s: visibility shared->private' % image['id'],
            lambda: _set_private(glance, image), after=tuple(steps)))
    if dry_run:
        rows = [r.row('plan: remove') if isinstance(r, _Removal) else r
                for r in order]
        warnings += [W_WOULD_REVOKE.format(to=r.label, id=image['id'])
                     for r in removals if r.member['status'] == 'accepted']
        if len(steps) > len(removals):
            rows.append((image['id'], None, None,
                         'plan: visibility shared->private'))
        return rows, warnings, errs
    run = executor.run(steps, 1, batch)
    rows = [r for r in order if not isinstance(r, _Removal)
            or r.step.outcome == executor.DONE]
    rows = [r.row('removed') if isinstance(r, _Removal) else r
            for r in rows]
    for r in removals:
        if r.step.outcome == executor.DONE:
            if r.member['status'] == 'accepted':
                warnings.append(W_REVOKED.format(to=r.label, id=image['id']))
        elif r.step.outcome == executor.FAILED:
            errs.append(r.step.error)
        elif idle is not None:
            idle.append(r.member['member_id'])
    if len(steps) > len(removals):
        last = steps[-1]
        if last.outcome == executor.DONE:
            rows.append((image['id'], None, None,
                         'visibility shared->private'))
        elif last.outcome == executor.FAILED:
            errs.append(last.error)
        elif run.stopped and idle is not None and not any(
                r.step.outcome == executor.FAILED for r in removals):
            idle.append(UNSHARE_STEP)
    return rows, warnings, errs


class _Removal:
    """One member to remove: its step, and its row once done."""

    def __init__(self, glance, image, member, pname, label):
        self.image, self.member, self.pname = image, member, pname
        self.label = label
        self.pid = member['member_id']
        self.step = executor.Step(
            'Image %s: remove member %s' % (image['id'], self.pid),
            lambda: _remove(glance, image, self.pid, label))

    def row(self, result):
        return (self.image['id'], self.pid, self.pname, result)


def _remove(glance, image, pid, label):
    try:
        glance.remove_member(image['id'], pid)
    except (errors.GlanceError, errors.TransportError) as e:
        raise errors.ImageShareError(errors.explain(
            e, image['id'], label, 'remove member %s' % pid, client=glance))


def _set_private(glance, image):
    """``--unshare``: no member is left; the image is made private."""
    try:
        glance.update_image(image['id'], visibility='private')
    except (errors.GlanceError, errors.TransportError) as e:
        raise errors.ImageShareError(errors.explain(
            e, image['id'], action='set it private', client=glance))


def list_shares(glance, ident, parallel=1):
    """Every member of every shared image the caller's project owns.

    One request per image for its members, ``parallel`` at a time;
    images their owner hid (``os_hidden``) included.
    """
    rows = []
    owned = glance.list_images_and_hidden(owner=ident.project_id,
                                          visibility='shared')
    listed = runner.run(lambda i: glance.list_members(i['id']),
                        owned, runner.check(parallel))
    for image, members in zip(owned, listed):
        for m in members:
            rows.append((image['id'], image.get('name'), image.get('owner'),
                         m['member_id'], ident.project_name_of(m['member_id']),
                         m['status'], m.get('updated_at')))
    return rows


def list_incoming(glance, ident, parallel=1):
    """Images shared with the caller's project, in every member status.

    Hidden ones (``os_hidden``) included: an accepted image its owner
    hid can still be booted, and is still shared.
    """
    def member(image):
        try:
            return glance.get_member(image['id'], ident.project_id)
        except errors.NotFound:
            return None   # an admin sees images it is no member of

    shared = [i for i in glance.list_images_and_hidden(
        visibility='shared', member_status='all')
              if i.get('owner') != ident.project_id]
    rows = []
    for image, m in zip(shared, runner.run(
            member, shared, runner.check(parallel))):
        if m is None:
            continue
        rows.append((image['id'], image.get('name'), image.get('owner'),
                     ident.project_id, ident.project_name, m['status'],
                     m.get('updated_at')))
    return rows
