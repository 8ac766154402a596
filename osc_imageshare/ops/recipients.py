"""Who receives the images, and how each target accepts (or acts).

Resolved once per run, before any write: a ``--to-cloud`` entry acts
with its own credentials, a project the caller's user belongs to with the
caller's token rescoped to it, any project with an admin's token; the
caller's own project (a copy of someone else's image) with the caller's.
"""

import dataclasses
import enum
import logging

from osc_imageshare.api import identity
from osc_imageshare import errors
from osc_imageshare.ops import messages

LOG = logging.getLogger(__name__)


class Accept(enum.Enum):
    """How a target's side of a transfer is done."""

    NONE = 'nobody'               # --no-accept: the target accepts later
    CLOUD = 'cloud'               # a clouds.yaml entry of the target
    RESCOPED = 'rescoped token'   # the caller's token, for the target
    ADMIN = 'admin'               # the caller is an admin
    OWN = 'your own project'      # the target is the caller's project


@dataclasses.dataclass
class Target:
    """A project that receives the images, and how it accepts."""

    project_id: str
    project_name: str = None
    verified: bool = True
    accept: Accept = Accept.NONE
    glance: object = None   # the target's own client, if any
    cloud: str = None       # the clouds.yaml entry, for Accept.CLOUD

    @property
    def label(self):
        if self.project_name:
            return '%s (%s)' % (self.project_name, self.project_id)
        return self.project_id

    @property
    def accept_as(self):
        """How it accepts, in the words the plan prints."""
        if self.accept is Accept.CLOUD:
            return 'cloud %s' % self.cloud
        return self.accept.value


E_TWO_CLOUDS = ("Clouds '{first}' and '{second}' are both scoped to project "
                "{project} ({id}): which one's credentials (and region) "
                "should act for it is ambiguous; give one --to-cloud per "
                "project, and run once per region to copy into several")
E_TO_AND_CLOUD = ("Project {label} is named by --to and by cloud '{cloud}' "
                  "(--to-cloud): give one of them (--to copies into this "
                  "command's Glance, the entry into its own region's); to "
                  "copy into both, run once per target")
E_ONE_GLANCE = ("Clouds '{first}' and '{second}' both name project {project} "
                "({id}) in the same Glance: give one of them")


class AcceptPolicy(enum.Enum):
    """Which targets the caller must be able to act for."""

    REQUIRED = 'every target'       # else the run stops, before any write
    NONE = 'none'                   # --no-accept: nobody acts for them
    WHEN_POSSIBLE = 'when possible'  # the others are left pending


E_NOT_IN_DOMAIN = ("--exclude '{ref}': no enabled project of domain "
                   "'{domain}' has this ID or name; nothing was changed "
                   "(give a project ID, a name, or {domain}/<name>)")
E_BOTH = ("Project {label} is named as a target and excluded (--exclude): "
          "give one or the other")
N_EXCLUDED = ("Left out of domain '{domain}' (--exclude): {projects}")
E_DOMAIN_EMPTY = ("Domain '{domain}' has no enabled project to share "
                  "with{but}: no target project; nothing was changed")


def exclude_projects(projects, refs, domain):
    """``(kept, left_out)``: ``projects`` less those ``refs`` name.

    ``projects``: project dicts, all of domain ``domain`` (as the user
    named it).  A ref is a project ID, a name, or ``<domain>/<name>``
    (the domain as named, or its ID); each must name one of ``projects``,
    or it is an error: a mistyped exclusion would leave the project in.
    """
    left_out = {}
    for ref in dict.fromkeys(refs):
        found = [p for p in projects if ref in (
            p['id'], p.get('name'), '%s/%s' % (domain, p.get('name')),
            '%s/%s' % (p.get('domain_id'), p.get('name')))]
        if not found:
            raise errors.ImageShareError(E_NOT_IN_DOMAIN.format(
                ref=ref, domain=domain))
        left_out.update((p['id'], p) for p in found)
    return ([p for p in projects if p['id'] not in left_out],
            list(left_out.values()))


def excluded_note(left_out, domain):
    """The sentence naming the projects ``--exclude`` left out, or None."""
    if not left_out:
        return None
    return N_EXCLUDED.format(domain=domain, projects=', '.join(
        messages.label(p['id'], p.get('name')) for p in left_out))


def resolve(ident, to, project_domain=None, to_clouds=(),
            accept=AcceptPolicy.REQUIRED, open_cloud=None, glance_for=None,
            allow_own=False, projects=(), excluded=(), domain=None,
            per_glance=False):
    """Resolve ``--to`` projects and ``--to-cloud`` entries to Targets.

    ``open_cloud(name)`` returns ``(session, glance client)`` for a
    clouds.yaml entry, authenticated; ``glance_for(session)`` a Glance
    client on a session.  ``accept`` (an ``AcceptPolicy``): which targets
    must be able to act (accept a membership, receive a copy).
    ``allow_own``: the caller's own project may be a target (a copy of
    someone else's image).  Every error here stops the command before
    any write.  ``projects``: project dicts already read from Keystone
    (``--to-domain``); the caller's own project among them is left out.
    ``excluded``: the project dicts ``--exclude`` left out of them, which
    ``to`` and ``to_clouds`` must not name.  ``domain``: the
    ``--to-domain`` as named, for the error when nothing is left of it.
    ``per_glance``: a project is a target per Glance (``--to-cloud``
    entries of one project in two regions are two targets).
    """
    targets = _cloud_targets(to_clouds, open_cloud,
                             None if allow_own else glance_for, per_glance)
    for ref in to:
        project, verified = identity.find_project(ident, ref,
                                                  project_domain)
        known = _of_project(targets, project['id'])
        if known is not None and known.cloud and allow_own:
            # A copy's target is a project in one Glance: which is meant?
            raise errors.ImageShareError(E_TO_AND_CLOUD.format(
                label=known.label, cloud=known.cloud))
        if known is None:
            targets[project['id']] = Target(project['id'], project.get('name'),
                                            verified)
    for project in excluded:
        named = _of_project(targets, project['id'])
        if named is not None:
            raise errors.ImageShareError(E_BOTH.format(label=named.label))
    for project in projects:
        if (_of_project(targets, project['id']) is None
                and project['id'] != ident.project_id):
            targets[project['id']] = Target(project['id'],
                                            project.get('name'))
    if not targets and domain is not None:
        raise errors.ImageShareError(_domain_empty(
            ident, domain, projects, excluded))
    if not targets:
        raise errors.ImageShareError(
            'Name at least one target project: --to <project> or '
            '--to-cloud <cloud>')
    for t in targets.values():
        _how_it_acts(ident, t, accept, glance_for, allow_own)
    return list(targets.values())


def _domain_empty(ident, domain, projects, excluded):
    """Why ``--to-domain`` gave no target: the sentence."""
    left = []
    if any(p['id'] == ident.project_id for p in projects):
        left.append('your own project')
    if excluded:
        left.append('those of --exclude (%s)' % ', '.join(
            messages.label(p['id'], p.get('name')) for p in excluded))
    return E_DOMAIN_EMPTY.format(
        domain=domain, but=' but ' + ' and '.join(left) if left else '')


def _of_project(targets, project_id):
    """The first of ``targets`` (a dict's values) in that project, or None."""
    return next((t for t in targets.values() if t.project_id == project_id),
                None)


def _cloud_targets(to_clouds, open_cloud, glance_for, per_glance=False):
    """project id (``per_glance``: and Glance) -> Target, one per entry.

    ``glance_for``: sharing is per region, so the entry accepts in the
    image's Glance, with its credentials, whatever region it names.
    """
    targets = {}
    for name in dict.fromkeys(to_clouds):
        sess, glance = open_cloud(name)
        if glance_for:
            glance = glance_for(sess)
        access = sess.auth.get_access(sess)
        key = (access.project_id, getattr(glance, 'endpoint', None)) \
            if per_glance else access.project_id
        if key in targets:
            raise errors.ImageShareError(
                (E_ONE_GLANCE if per_glance else E_TWO_CLOUDS).format(
                    first=targets[key].cloud, second=name,
                    project=access.project_name, id=access.project_id))
        targets[key] = Target(
            access.project_id, access.project_name, True, Accept.CLOUD,
            glance, name)
    return targets


def _how_it_acts(ident, t, accept, glance_for, allow_own):
    """Set how ``t`` accepts (``t.accept``), or refuse it."""
    if t.project_id == ident.project_id and allow_own:
        t.accept = Accept.OWN
        return
    if t.project_id == ident.project_id:
        raise errors.ImageShareError(
            "Project %s is your own project, the one this command acts "
            "as: a transfer is to another project; choose another target"
            % t.label)
    if accept is AcceptPolicy.NONE or t.accept is Accept.CLOUD:
        return
    if ident.can_rescope() and t.project_id in ident.my_projects():
        t.glance = glance_for(ident.rescoped_session(t.project_id))
        t.accept = Accept.RESCOPED
    elif ident.is_admin:
        t.accept = Accept.ADMIN
    elif accept is not AcceptPolicy.WHEN_POSSIBLE:
        raise errors.ImageShareError(
            ident.cannot_act_for(t.label, copy=allow_own))


def unverified_warnings(targets):
    return [messages.W_UNVERIFIED.format(to=t.project_id) for t in targets
            if not t.verified]
