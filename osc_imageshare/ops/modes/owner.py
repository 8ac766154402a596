"""Owner mode: hand an image itself (same ID) to another project.

Glance lets only admins change an owner.  Beware: Glance 33 saves a JSON
patch ``add /owner`` sent by a non-admin although it answers 403; so the
owner change is sent only after the caller's admin role is established,
and only as ``replace``.
"""

import logging

from osc_imageshare.batch import runner
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

COLUMNS = ('Image ID', 'Image Name', 'Old Owner', 'Project ID',
           'Project Name', 'Changes')
VERB = 'transfer'
ALLOW_OWN = False
OWNER = 'owner'

W_LOSES = ("Project {old} loses access to image {id}: it now belongs to "
           "{new}.")
W_MEMBERS = ("Image {id} keeps its members, who keep access: {members}.")
W_OWN_MEMBER = ("Project {new}, now the owner of image {id}, is still listed "
                "as its member (removing that membership failed: {why}); "
                "it means nothing now: remove it with 'openstack image "
                "remove project {id} {pid}'.")


def needs_accept(options):
    return False


def preflight(ident):
    """Refuse a non-admin before any request."""
    if not ident.is_admin:
        raise errors.ImageShareError(
            "Changing an image's owner needs the admin role, which your "
            "token for project %s does not have; ask an admin, or use "
            "--mode copy (an independent copy owned by the target) or "
            "--mode share" % (ident.project_name or ident.project_id))


def read(glance, ident, image_refs, workers=1):
    return runner.find_images(glance, image_refs,
                              ident.project_name or ident.project_id,
                              None, workers)


def make_plan(read_result, targets, options):
    if len(targets) != 1:
        raise errors.ImageShareError(
            'An image has one owner: name exactly one target project')
    found, failed = read_result
    target = targets[0]
    pairs = []
    for image in found:
        old = image.get('owner')
        steps = [] if old == target.project_id else [transfer_plan.Step(
            OWNER, 'owner %s->%s' % (old, target.project_id))]
        pairs.append(
            transfer_plan.Pair(image, target, steps=steps, result=old))
    return transfer_plan.Plan('owner', pairs, failed, targets, options)


def dry_run_warnings(plan, ident):
    return []


def execute(glance, ident, plan):
    """Change each owner, ``parallel`` images at a time.

    A signal meanwhile starts no more (the changes under way finish,
    verified), then ``signals.Interrupted`` lists them.
    """
    def one(p):
        out = []
        for step in p.steps:
            p.start(step)
            if _change_owner(glance, p):
                out += _warnings(glance, p)
        return out

    try:
        done = runner.run(one, plan.pairs,
                          plan.options.get('parallel') or 1)
    except signals.BatchStopped as e:
        raise signals.Interrupted(interrupted(plan, e))
    return [w for warnings in done for w in warnings]


def interrupted(plan, stopped):
    """A line per image (changed, failed, not started), then a summary."""
    done, failed, idle = stopped.pick(plan.pairs)
    lines = []
    changed = 0
    for p, res in zip(plan.pairs, stopped.results):
        if res is signals.NOT_STARTED:
            lines.append('Image %s: owner not changed (not started)'
                         % p.image['id'])
        elif isinstance(res, BaseException) or p.error:
            lines.append(p.error or 'Image %s: %s' % (p.image['id'], res))
        elif p.changes:
            changed += 1
            lines.extend(res)
            lines.append('Image %s: %s, kept'
                         % (p.image['id'], ', '.join(p.changes)))
    lines.append('Interrupted by %s: of %d images, %d changed owner '
                 '(kept), %d failed, %d not started' % (
                     stopped.name, len(plan.pairs), changed,
                     len(failed) + sum(1 for p in done if p.error),
                     len(idle)))
    return '\n'.join(lines)


def _change_owner(glance, p):
    image_id, old, new = p.image['id'], p.result, p.target.project_id
    try:
        glance.update_image(image_id, owner=new)
        now = glance.get_image(image_id).get('owner')
    except errors.GlanceError as e:
        p.error = errors.explain(e, image_id, action='change the owner')
        _restore(glance, image_id, old)
        return False
    if now != new:
        p.error = ('Image %s: its owner reads %s after the change; '
                   'restored to %s' % (image_id, now, old))
        _restore(glance, image_id, old)
        return False
    p.changes.append('owner %s->%s' % (old, new))
    return True


def _warnings(glance, p):
    out = [W_LOSES.format(old=p.result, id=p.image['id'],
                          new=p.target.label)]
    if p.image.get('visibility') == 'shared':
        members = [m['member_id'] for m in
                   glance.list_members(p.image['id'])]
        if p.target.project_id in members:
            members.remove(p.target.project_id)
            out += _drop_own_membership(glance, p)
        if members:
            out.append(W_MEMBERS.format(id=p.image['id'],
                                        members=', '.join(members)))
    return out


def _drop_own_membership(glance, p):
    """The new owner was a member: that membership now means nothing."""
    image_id, pid = p.image['id'], p.target.project_id
    try:
        glance.remove_member(image_id, pid)
    except errors.GlanceError as e:
        return [W_OWN_MEMBER.format(id=image_id, new=p.target.label,
                                    pid=pid, why=errors.glance_message(e))]
    p.changes.append('membership of the new owner removed')
    return []


def _restore(glance, image_id, owner):
    try:
        if glance.get_image(image_id).get('owner') != owner:
            glance.update_image(image_id, owner=owner)
    except errors.GlanceError as e:
        LOG.error('Could not restore the owner of image %s to %s: %s',
                  image_id, owner, errors.glance_message(e))


def row(plan, p, changes, dry_run):
    if p.error:
        return None
    return (p.image['id'], p.image.get('name'), p.result,
            p.target.project_id, p.target.project_name, changes)
