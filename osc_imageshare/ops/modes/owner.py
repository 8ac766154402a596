"""Owner mode: hand an image itself (same ID) to another project.

Glance lets only admins change an owner.  Beware: Glance 33 saves a JSON
patch ``add /owner`` sent by a non-admin although it answers 403; so the
owner change is sent only after the caller's admin role is established,
and only as ``replace``.
"""

import functools
import logging

from osc_imageshare.batch import executor
from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops.modes import base
from osc_imageshare.ops import recipients
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

NAME = 'owner'
VERB = 'transfer'
ALLOW_OWN = False
# The options it reads (``Plan.options``), named as in pipeline.Request.
OPTIONS = ()
OWNER = 'owner'
DROP = 'drop'       # the new owner's membership, meaningless once it owns
DROPPED = 'membership of the new owner removed'

W_LOSES = ("Project {old} loses access to image {id}: it now belongs to "
           "{new}.")
W_MEMBERS = ("Image {id} keeps its members, who keep access: {members}.")
# Members that are no project (a name, a typo: Glance stores any string)
# give nobody access: named as such, never as projects.
W_MEMBERS_OTHERS = ("Image {id} keeps its members, who keep access: "
                    "{members}; and {others}.")
W_OTHERS = "Image {id} keeps {others}."
OTHERS = ("{count} member{s} that {are} not a project (Glance stores any "
          "string; it gives nobody access): {names}")
W_OWN_MEMBER = ("Project {new}, now the owner of image {id}, is still listed "
                "as its member ({why}); it means nothing now: remove it with "
                "'openstack image share revoke {id} {pid}'.")
WHY_FAILED = 'removing that membership failed: {why}'
WHY_LATE = 'it became a member after the plan was made'


def needs_accept(options):
    return recipients.AcceptPolicy.NONE


def preflight(ident):
    """Refuse a non-admin before any request."""
    if not ident.is_admin:
        raise errors.ImageShareError(
            "Changing an image's owner needs the admin role, which your "
            "token for project %s does not have; ask an admin, or use "
            "--mode copy (an independent copy owned by the target) or "
            "--mode share" % (ident.project_name or ident.project_id))


def read(glance, ident, image_refs, workers=1):
    """The images, and the members of the shared ones.

    The plan removes the new owner's membership: a step of its own.
    """
    images, failed = runner.find_images(
        glance, image_refs, ident.project_name or ident.project_id, None,
        workers)
    members = {i['id']: glance.list_members(i['id']) for i in images
               if i.get('visibility') == 'shared'}
    return base.ReadResult(images, failed, members)


def make_plan(read_result, targets, options):
    if len(targets) != 1:
        raise errors.ImageShareError(
            'An image has one owner: name exactly one target project')
    target = targets[0]
    pairs = []
    for image in read_result.images:
        old = image.get('owner')
        steps = [] if old == target.project_id else [transfer_plan.Step(
            OWNER, 'owner %s->%s' % (old, target.project_id))]
        if steps and target.project_id in {
                m['member_id'] for m in read_result.members.get(
                    image['id'], ())}:
            steps.append(transfer_plan.Step(DROP, DROPPED))
        pairs.append(
            transfer_plan.Pair(image, target, steps=steps, old_owner=old))
    return transfer_plan.Plan(NAME, pairs, read_result.failed, targets,
                              options)


# Nothing to warn of beside the plan or after the run; a signal raises
# signals.Interrupted (``interrupted``) rather than leave a summary.
dry_run_warnings = risks = base.nothing_to_say
summary = base.no_summary


def execute(glance, ident, plan, stop=None):
    """Run the plan's steps on the executor, ``parallel`` images at once.

    Per image: the owner change (undone by restoring the old owner), then,
    once it is done, the removal of the new owner's membership, if
    planned (its failure is a warning: the change stands).  A signal
    meanwhile starts no more (the changes under way finish, verified),
    then ``signals.Interrupted`` lists them.
    """
    steps, said, groups = [], {}, {}
    for p in plan.pairs:
        said[id(p)], groups[id(p)] = [], object()
        owner_step = None
        for step in p.steps:
            if step.kind == OWNER:
                owner_step = executor.Step(
                    'Image %s: %s' % (p.image['id'], step.text),
                    functools.partial(_change_owner_step, glance, p, step),
                    functools.partial(_restore, glance, p.image['id'],
                                      p.old_owner), group=groups[id(p)],
                    logged=False)   # p.start logs the plan's words
                steps.append(owner_step)
            elif step.kind == DROP:
                steps.append(executor.Step(
                    'Image %s: %s' % (p.image['id'], step.text),
                    functools.partial(_drop_step, glance, p, step,
                                      said[id(p)]),
                    after=(owner_step,) if owner_step else (),
                    logged=False))
    run = executor.run(steps, plan.options.get('parallel') or 1, stop)
    states = [_state(p, [s for s in steps if s.group is groups[id(p)]])
              for p in plan.pairs]
    changed = [p for p in plan.pairs if p.changes]
    # What each changed image keeps: read after the writes, in parallel.
    for p, kept in zip(changed, runner.run(
            functools.partial(_warnings, glance, ident), changed,
            plan.options.get('parallel') or 1)):
        said[id(p)][:0] = kept if isinstance(kept, list) else []
    if run.stopped and not base.finished(states):
        # The rows of the owners changed, then the lines and summary.
        # (Every change had ended when the signal came: nothing to stop,
        # as the pipeline says.)
        raise signals.Interrupted(
            interrupted(plan, run.stopped, states, said),
            rows=[row(plan, p, transfer_plan.changes_text(p, False),
                      False) for p, state in zip(plan.pairs, states)
                  if p.changes and state is base.State.DONE])
    return [w for warnings in said.values() for w in warnings]


def _state(p, steps):
    """How the pair ended, by its owner ``steps`` (none: done)."""
    outcomes = [s.outcome for s in steps]
    if executor.NOT_STARTED in outcomes:
        return base.State.NOT_STARTED
    if p.error or executor.FAILED in outcomes:
        return base.State.FAILED
    return base.State.DONE


def _change_owner_step(glance, p, step):
    p.start(step)
    if not _change_owner(glance, p):
        raise errors.ImageShareError(p.error)


def _drop_step(glance, p, step, said):
    """Remove the new owner's membership; a failure is ``said``, no more."""
    p.start(step)
    said += _drop_own_membership(glance, p)


def interrupted(plan, signal, states, said):
    """A line per image (changed, failed, not started), then a summary."""
    lines = []
    for p, state in zip(plan.pairs, states):
        if state is base.State.NOT_STARTED:
            lines.append('Image %s: owner not changed (not started)'
                         % p.image['id'])
        elif state is base.State.FAILED:
            lines.append(p.error)
        elif p.changes:
            lines.extend(said[id(p)])
            lines.append('Image %s: %s, kept'
                         % (p.image['id'], ', '.join(p.changes)))
    lines.append(base.interrupted_summary(
        signal, plan.pairs, 'changed owner (kept)',
        'none: a change under way finishes', states=states))
    return '\n'.join(lines)


def _change_owner(glance, p):
    image_id, old, new = p.image['id'], p.old_owner, p.target.project_id
    try:
        glance.update_image(image_id, owner=new)
        now = glance.get_image(image_id).get('owner')
    except (errors.GlanceError, errors.TransportError) as e:
        p.error = errors.explain(e, image_id, action='change the owner',
                                 client=glance)
        _restore(glance, image_id, old)
        return False
    if now != new:
        p.error = ('Image %s: its owner reads %s after the change; '
                   'restored to %s' % (image_id, now, old))
        _restore(glance, image_id, old)
        return False
    p.changes.append('owner %s->%s' % (old, new))
    return True


def _warnings(glance, ident, p):
    out = [W_LOSES.format(old=p.old_owner, id=p.image['id'],
                          new=p.target.label)]
    if p.image.get('visibility') == 'shared':
        members = [m['member_id'] for m in
                   glance.list_members(p.image['id'])]
        pid = p.target.project_id
        if pid in members:
            members.remove(pid)
            if DROP not in [s.kind for s in p.steps]:
                # No write outside a step: named, with the command.
                out.append(W_OWN_MEMBER.format(
                    id=p.image['id'], new=p.target.label, pid=pid,
                    why=WHY_LATE))
        if members:
            out.append(kept_members(p.image['id'], members, ident))
    return out


def kept_members(image_id, members, ident):
    """The warning naming the members kept: projects, then the others."""
    others = [m for m in members if ident.project_exists(m) is False]
    projects = [m for m in members if m not in others]
    if not others:
        return W_MEMBERS.format(id=image_id, members=', '.join(projects))
    one = len(others) == 1
    text = OTHERS.format(count=len(others), s='' if one else 's',
                         are='is' if one else 'are',
                         names=', '.join("'%s'" % m for m in others))
    if not projects:
        return W_OTHERS.format(id=image_id, others=text)
    return W_MEMBERS_OTHERS.format(id=image_id, members=', '.join(projects),
                                   others=text)


def _drop_own_membership(glance, p):
    """The new owner was a member: that membership now means nothing."""
    image_id, pid = p.image['id'], p.target.project_id
    try:
        glance.remove_member(image_id, pid)
    except errors.NotFound:
        return []       # gone since the plan: as good as removed
    except (errors.GlanceError, errors.TransportError) as e:
        return [W_OWN_MEMBER.format(
            id=image_id, new=p.target.label, pid=pid,
            why=WHY_FAILED.format(why=errors.glance_message(e)))]
    p.changes.append(DROPPED)
    return []


def _restore(glance, image_id, owner):
    try:
        if glance.get_image(image_id).get('owner') != owner:
            glance.update_image(image_id, owner=owner)
    except (errors.GlanceError, errors.TransportError) as e:
        LOG.error('Could not restore the owner of image %s to %s: %s',
                  image_id, owner, errors.glance_message(e))


def row(plan, p, changes, dry_run):
    if p.error:
        return None
    return (p.image['id'], p.image.get('name'), p.old_owner,
            p.target.project_id, p.target.project_name, changes)
