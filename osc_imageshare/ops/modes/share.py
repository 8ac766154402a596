"""Share mode: the target uses the image, which stays in its project.

Steps per image: set a private image shared, deal with the members it
hid while private (refuse, revoke or keep them), protect it; per pair:
add the member, accept as the target.  A failed pair is rolled back on its
own; when every pair of an image fails, the image is restored too.
"""

import logging
import shlex

from osc_imageshare.batch import runner
from osc_imageshare.ops import companions
from osc_imageshare.ops import messages
from osc_imageshare.ops.modes import base
from osc_imageshare.ops.modes import share_image
from osc_imageshare.ops.modes import share_run
from osc_imageshare.ops import recipients
from osc_imageshare.ops import roles
from osc_imageshare.ops import stranded
from osc_imageshare.ops import transfer_plan

LOG = logging.getLogger(__name__)

NAME = 'share'
VERB = 'transfer'
ALLOW_OWN = False
# The options it reads (``Plan.options``), named as in pipeline.Request.
OPTIONS = ('accept', 'protect', 'earlier_members', 'allow_volume_backed',
           'allow_encrypted')

# The steps (see share_image and share_run, which run them).
SHARE = share_image.SHARE
EARLIER = share_image.EARLIER
PROTECT = share_image.PROTECT
RESUME = share_image.RESUME
ADD = share_run.ADD
ACCEPT = share_run.ACCEPT
IMAGE_STEPS = share_image.IMAGE_STEPS
EARLIER_TEXT = {'refuse': 'check earlier members',
                'revoke': 'revoke earlier members',
                'keep': 'keep earlier members'}


def needs_accept(options):
    if options.get('accept', True):
        return recipients.AcceptPolicy.REQUIRED
    return recipients.AcceptPolicy.NONE


def preflight(ident):
    pass


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
    running = stranded.live(image)
    if running is not None:
        return messages.E_LIVE_RUN.format(id=image['id'], **running)
    if image.get('status') != 'active':
        return ("Image %s is %s, not active: only an active image can be "
                "transferred" % (image['id'], image.get('status')))
    return None


def read(glance, ident, image_refs, workers=1, companions_too=True,
         known=None):
    """The images and the members of the shared ones; writes nothing.

    ``companions_too``: the companion images the caller owns are added
    (see ``companions``).  ``known``: image ID -> the image as a listing
    just gave it; those refs are checked as found, not read again.
    """
    known = known or {}
    found, failed = runner.find_images(
        glance, [r for r in image_refs if r not in known],
        ident.project_name or ident.project_id,
        lambda image: check_image(image, ident), workers)
    for ref in image_refs:
        if ref in known:
            problem = check_image(known[ref], ident)
            if problem:
                failed[ref] = problem
            else:
                found.append(known[ref])
    links = None
    if companions_too:
        found, links = companions.expand(
            glance, ident, found, lambda image: check_image(image, ident))
    shared = [i['id'] for i in found if i.get('visibility') == 'shared']
    listed = runner.run(lambda image_id: glance.list_members(
        image_id), shared, workers)
    members = {image_id: {m['member_id']: dict(m) for m in ms}
               for image_id, ms in zip(shared, listed)}
    return base.ReadResult(found, failed, members, links)


def make_plan(read_result, targets, options):
    """The steps per pair; a target nobody can accept for stays pending.

    (``recipients.AcceptPolicy.WHEN_POSSIBLE`` leaves such targets
    ``Accept.NONE``; ``accept=False`` asks for no accept at all.)
    """
    accept = options.get('accept', True)
    policy = options.get('earlier_members') or 'refuse'
    pairs = []
    for image in read_result.images:
        for i, t in enumerate(targets):
            member = read_result.members.get(image['id'], {}).get(
                t.project_id)
            steps = []
            if i == 0:
                steps += _sharing_steps(image, policy)
                if options.get('protect') and not image.get('protected'):
                    steps.append(transfer_plan.Step(PROTECT, 'protect'))
            if member is None:
                steps.append(transfer_plan.Step(ADD, 'add member'))
            if (accept and t.accept is not recipients.Accept.NONE
                    and (member or {}).get('status') != 'accepted'):
                steps.append(transfer_plan.Step(ACCEPT,
                                                'accept as %s' % t.accept_as))
            pairs.append(transfer_plan.Pair(image, t, member, steps))
    return transfer_plan.Plan(NAME, pairs, read_result.failed, targets,
                              dict(options, earlier_members=policy),
                              companions=read_result.companions,
                              members=read_result.members)


def _sharing_steps(image, policy):
    """Set it shared and check the members it hid; or take a dead run's."""
    info = stranded.stranded(image)
    if stranded.was_private(image):
        text = 'visibility private->shared'
        if image.get('visibility') != 'private':
            text += ' (left shared by run %s, which died)' % (
                info['run'] or 'of unknown origin')
        return [transfer_plan.Step(SHARE, text),
                transfer_plan.Step(EARLIER, EARLIER_TEXT[policy])]
    if info is not None:
        return [transfer_plan.Step(RESUME, 'finish what run %s left (it died)'
                                   % info['run'])]
    return []


def dry_run_warnings(plan, ident):
    then = messages.HIDDEN_THEN[plan.options['earlier_members']]
    return [messages.W_HIDDEN.format(id=pairs[0].image['id'], then=then)
            for pairs in plan.by_image()
            if stranded.was_private(pairs[0].image)] + left_rejected(plan) \
        + _roles(plan, ident)


def _roles(plan, ident):
    """The dry run's lines for credentials whose role Glance may refuse."""
    live = [p for p in plan.pairs if not p.error]
    # A private image's first write changes it (shared); the others',
    # a member added.
    first = roles.CHANGE if any(p.image.get('visibility') == 'private'
                                for p in live) else roles.SHARE
    uses = [(roles.of_ident(ident), 'This run', first)] if live else []
    uses += [(roles.of_client(p.target.glance),
              'The acceptance for project %s' % p.target.label, roles.ACCEPT)
             for p in live if p.target.glance is not None
             and ACCEPT in [s.kind for s in p.steps]]
    return roles.warnings(uses)


def left_rejected(plan):
    """A dry run's warnings: the targets its run would leave rejected."""
    return [rejected(p.image['id'], p.target, dry_run=True)
            for p in plan.pairs
            if not p.error and (p.member or {}).get('status') == 'rejected'
            and ACCEPT not in [s.kind for s in p.steps]]


def execute(glance, ident, plan, stop=None):
    """Run the plan's steps (``share_run.execute``); the warnings."""
    return share_run.execute(glance, ident, plan, stop)


def summary(plan, signal):
    """The one line of a run ``signal`` cut."""
    return base.interrupted_summary(
        signal, plan.pairs, 'done (kept)', 'rolled back',
        '; images with no pair done are restored as they were')


def risks(plan, ident):
    """The risks of the shares that succeeded, one sentence each.

    The count of projects that have accepted an image is of its members
    after the run: the targets', and those it had before or kept.
    """
    out = []
    owner_label = ('%s (%s)' % (ident.project_name, ident.project_id)
                   if ident.project_name else ident.project_id)
    targets = {t.project_id for t in plan.targets}
    for pairs in plan.by_image():
        done = [p for p in pairs
                if not p.error and p.target.project_id in targets]
        if not done:
            continue
        image = done[0].image
        fmt = dict(id=image['id'], owner_label=owner_label)
        out.append(messages.W_DEPENDS.format(**fmt))
        accepted = sum(1 for status in members_after(plan, pairs).values()
                       if status == 'accepted')
        protected = image.get('protected') or plan.options.get('protect')
        if accepted and not protected:
            out.append(messages.W_UNPROTECTED.format(count=accepted, **fmt))
        for p in done:
            if p.status == 'pending':
                out.append(messages.W_PENDING.format(
                    member_label=p.target.label,
                    since=(p.member or {}).get('updated_at'), **fmt))
            elif (p.status == 'rejected'
                  and transfer_plan.WAITED['rejected'] not in p.changes):
                out.append(rejected(image['id'], p.target))
    return out


def members_after(plan, pairs):
    """``{member ID: status}`` of the image of ``pairs`` after the run.

    The members read before the run, those a private image hid unless
    revoked, then each pair's outcome (None: not a member).
    """
    image_id = pairs[0].image['id']
    status = {pid: m.get('status')
              for pid, m in plan.members.get(image_id, {}).items()}
    if plan.options.get('earlier_members') != 'revoke':
        status.update((m['member_id'], m.get('status'))
                      for m in plan.earlier.get(image_id, ()))
    for p in pairs:
        # A pair that took no step and read nothing (a member share set
        # keeps, a revoke not run) left its member as it was.
        if p.status is not None or p.done or p.error:
            status[p.target.project_id] = p.status
    return status


def rejected(image_id, target, dry_run=False):
    """The warning for a target that rejected the image, and stays so."""
    return messages.W_STAYS_REJECTED.format(
        id=image_id, member_label=target.label,
        left='would leave' if dry_run else 'left',
        accept=shlex.join(['openstack', 'image', 'share', 'accept',
                           image_id]),
        revoke=shlex.join(['openstack', 'image', 'share', 'revoke',
                           image_id, target.project_id]))


def row(plan, p, changes, dry_run):
    status = (p.member or {}).get('status') if dry_run else p.status
    return (p.image['id'], p.image.get('name'), p.target.project_id,
            p.target.project_name, status, changes)
