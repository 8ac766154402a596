"""What Keystone can tell the caller about projects.

Non-admin users may not read most of Keystone: ``GET /v3/auth/projects``
(the projects the caller's user may scope to) always works, while
``GET /v3/projects/{id}`` is usually refused for other projects.  Every
answer here is therefore "known" or "unknown", never a guess.

An answer is judged before it is believed: a project is missing only on
Keystone's own answer (a 404 with its JSON error body), and found only on
a JSON body naming that very ID.  A bare 404 page, a 5xx, a timeout or a
body of another shape leave it unknown, with the cause (``why_unknown``).
"""

import logging
import re

from keystoneauth1 import exceptions as ks_exc

from osc_imageshare.api import clients
from osc_imageshare import errors

LOG = logging.getLogger(__name__)

_ID_RE = re.compile(
    r'^[0-9a-f]{32}$|^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$')


def looks_like_id(value):
    """True for the shapes Keystone gives project IDs (hex UUIDs)."""
    return bool(_ID_RE.match(value or ''))


def find_project(ident, ref, domain=None):
    """``ident.resolve_project``, a ref ``<domain>/<name>`` understood.

    Without ``domain``, a ref holding a '/' is tried split at each '/'
    (a domain, then a project name of it), then whole (a name or an ID
    may hold a '/' too); the first error is the one raised.
    """
    if domain is not None:
        return ident.resolve_project(ref, domain)
    found, first = {}, None
    for i, ch in enumerate(ref):
        if ch == '/' and 0 < i < len(ref) - 1:
            try:
                got = ident.resolve_project(ref[i + 1:], ref[:i])
                found.setdefault(got[0]['id'], ('%s of domain %s' % (
                    ref[i + 1:], ref[:i]), got))
            except errors.ImageShareError as e:
                first = first or e
    try:
        if found:
            # The whole a name too: two readings, neither to be guessed.
            got = ident.resolve_project(ref)
            found.setdefault(got[0]['id'], ("the project named '%s'" % ref,
                                            got))
        else:
            return ident.resolve_project(ref)
    except errors.ImageShareError as e:
        if not found:
            raise first or e
    if len(found) > 1:
        raise errors.ImageShareError(E_TWO_READINGS.format(
            ref=ref, readings=' and '.join(sorted(
                '%s (%s)' % (what, pid) for pid, (what, _) in
                found.items()))))
    return next(iter(found.values()))[1]


E_TWO_READINGS = ("'{ref}' names {readings}: give the project ID")


# Why a lookup is unknown: Keystone hides it from the caller (policy), or
# its answer cannot be believed (``why_unknown`` gives the cause).
HIDDEN = 'hidden'
BAD_ANSWER = 'bad-answer'
MAX_CAUSE = 80      # characters of a cause quoted from an answer


def _keystone_404(response):
    """Whether a 404 is Keystone's own: its JSON error, code 404."""
    try:
        body = response.json()
    except (AttributeError, ValueError):
        return False
    error = body.get('error') if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get('code') == 404


def _kind_of_body(response):
    """'an HTML page', 'an empty body'... for a sentence."""
    headers = getattr(response, 'headers', None) or {}
    ctype = (headers.get('Content-Type') or '').split(';')[0].strip()
    if not getattr(response, 'content', b'x') and not ctype:
        return 'an empty body'
    return 'a body of type %s' % ctype if ctype \
        else 'a body of no stated type'


def judge(session, path, key, wanted_id, where):
    """``(found, cause)`` of ``GET path`` for the object ``key``.

    found: the dict, False (missing, on Keystone's own answer), or None
    (unknown); cause: None, or ``(HIDDEN|BAD_ANSWER, sentence)``.
    """
    try:
        resp = session.get(path, **where)
    except ks_exc.NotFound as e:
        if _keystone_404(e.response):
            return False, None
        return None, (BAD_ANSWER, 'the identity service answered 404 with '
                      '%s, not its JSON error' % _kind_of_body(e.response))
    except ks_exc.Forbidden:
        return None, (HIDDEN, 'Keystone does not let you read it')
    except ks_exc.HttpError as e:
        return None, (BAD_ANSWER, 'the identity service answered HTTP %s'
                      % e.http_status)
    except ks_exc.ClientException as e:
        return None, (BAD_ANSWER, 'the identity service did not answer (%s)'
                      % (type(e).__name__,))
    try:
        found = resp.json().get(key)
    except (AttributeError, ValueError):
        found = None
    if not isinstance(found, dict) or found.get('id') != wanted_id:
        # One cause for every object so answered: one line, not one each.
        return None, (BAD_ANSWER, 'the identity service answered with %s '
                      'that does not describe the %s asked for'
                      % (_kind_of_body(resp), key))
    return found, None


class Identity:
    """Project lookups for one authenticated session, cached per run."""

    def __init__(self, session, auth_ref, interface=None, region_name=None,
                 endpoint_override=None):
        self.session = session
        self.auth_ref = auth_ref
        # As OSC's identity commands: identity_endpoint_override if set,
        # else the catalog's v3 endpoint for this interface and region.
        if endpoint_override:
            self._where = {'endpoint_override': endpoint_override}
        else:
            where = {'service_type': 'identity', 'version': '3'}
            if interface:
                where['interface'] = interface
            if region_name:
                where['region_name'] = region_name
            self._where = {'endpoint_filter': where}
        self._mine = None
        self._projects = {}
        self._why = {}          # project ID -> cause (see ``judge``)
        self._domains = {}
        self._users = {}
        self._may_read_projects = True

    @classmethod
    def from_client_manager(cls, client_manager):
        """Lookups on an OSC command's own session and endpoint rules."""
        rule = clients.caller_identity(client_manager)
        return cls(client_manager.session, client_manager.auth_ref,
                   rule.interface, rule.region_name, rule.override)

    @property
    def project_id(self):
        return self.auth_ref.project_id

    @property
    def project_name(self):
        return self.auth_ref.project_name

    @property
    def is_admin(self):
        return 'admin' in (self.auth_ref.role_names or [])

    def my_projects(self):
        """Projects the caller's user may scope to, by ID."""
        if self._mine is None:
            self._mine = self._listed('/auth/projects', 'projects',
                                      'your projects')
        return self._mine

    def _listed(self, path, key, what):
        """``{id: dict}`` of Keystone's list at ``path``, judged first.

        An answer that is not Keystone's list (a gateway's page, a 5xx, a
        body of another shape) is one sentence, never taken for an empty
        list; no answer at all is keystoneauth's error (naming the URL), as
        for every other request.
        """
        try:
            body = self.session.get(path, **self._where).json()
            return {p['id']: p for p in body[key]
                    if isinstance(p, dict) and isinstance(p.get('id'), str)}
        except ks_exc.HttpError as e:
            why = 'it answered HTTP %s' % e.http_status
        except (AttributeError, KeyError, TypeError, ValueError):
            why = 'its answer is not a list of %s' % key
        raise errors.ImageShareError(
            'The identity service did not list %s (%s): check it, and the '
            'identity_endpoint_override of your clouds.yaml entry if any'
            % (what, why))

    def get_project(self, project_id):
        """The project dict, False if it does not exist, None if unknown.

        A domain is a project dict with ``is_domain``; ``why_unknown``
        says why a project is unknown.
        """
        if project_id in self._projects:
            return self._projects[project_id]
        found = self.my_projects().get(project_id)
        if found is None and project_id == self.project_id:
            found = {'id': project_id, 'name': self.project_name}
        if found is None and not self._may_read_projects:
            self._why[project_id] = self._hidden
        elif found is None:
            found, why = judge(self.session, '/projects/%s' % project_id,
                               'project', project_id, self._where)
            if why:
                self._why[project_id] = why
            if why and why[0] == HIDDEN:
                # Not allowed to read other projects: stop asking.
                self._may_read_projects = False
                self._hidden = why = (HIDDEN, (
                    'Keystone does not let project %s read other projects'
                    % (self.project_name or self.project_id)))
                self._why[project_id] = why
        self._projects[project_id] = found
        return found

    _hidden = None

    def why_unknown(self, project_id):
        """``(HIDDEN|BAD_ANSWER, cause)`` of a project read as unknown."""
        return self._why.get(project_id)

    def judged(self):
        """Every project ID looked up so far, and what it read as."""
        return dict(self._projects)

    def check_own_project(self):
        """Ask Keystone for the caller's own project (no shortcut).

        ``(found, cause)`` as ``judge``: a well-behaved Keystone answers
        with the project.
        """
        return judge(self.session, '/projects/%s' % self.project_id,
                     'project', self.project_id, self._where)

    def get_domain(self, domain_id):
        """The domain dict, False, or None (unknown); cached."""
        if domain_id not in self._domains:
            self._domains[domain_id] = judge(
                self.session, '/domains/%s' % domain_id, 'domain',
                domain_id, self._where)[0]
        return self._domains[domain_id]

    def is_user(self, user_id):
        """Whether ``user_id`` is a user's ID (True only on Keystone's word).

        Asked for an ID that reads as no project: Glance stores any string
        as a member, a user's ID included.
        """
        if user_id not in self._users:
            self._users[user_id] = bool(judge(
                self.session, '/users/%s' % user_id, 'user', user_id,
                self._where)[0])
        return self._users[user_id]

    def project_name_of(self, project_id):
        """The name of a project, or None where it cannot be told.

        The caller's own project's is the token's: no request (a share's
        owner is the caller, named in its warnings).
        """
        if project_id == self.project_id and self.project_name:
            return self.project_name
        found = self.get_project(project_id)
        # A domain stored as a member has a name, but is no project.
        return found.get('name') if found and not found.get(
            'is_domain') else None

    def project_exists(self, project_id):
        """True, False, or None when the caller cannot tell."""
        found = self.get_project(project_id)
        if found:
            return not found.get('is_domain')
        if found is False:
            return False
        # Keystone gives every project a hex UUID: anything else stored as
        # a member (a project name, a typo) cannot be a project.
        return None if looks_like_id(project_id) else False

    # ------------------------------------------------------------ targets
    def resolve_domain(self, ref):
        """The ID of a domain given by name or ID."""
        if ref in (self.auth_ref.project_domain_id,
                   self.auth_ref.project_domain_name):
            return self.auth_ref.project_domain_id
        try:
            found = self.session.get(
                '/domains', params={'name': ref},
                **self._where).json()['domains']
        except ks_exc.Forbidden:
            found = []
        if found:
            return found[0]['id']
        try:
            return self.session.get('/domains/%s' % ref,
                                    **self._where).json()[
                'domain']['id']
        except ks_exc.NotFound:
            raise errors.ImageShareError(
                "No domain named or with ID '%s'" % ref)
        except ks_exc.Forbidden:
            # Not allowed to look domains up: the value may be the ID.
            return ref

    def resolve_project(self, ref, domain=None):
        """Return ``(project dict, verified)`` for a name or an ID.

        A name that cannot be resolved is an error: Glance would store it
        as a member ID that no project can ever accept.  A well-formed ID
        that the caller may not look up is returned unverified.
        """
        domain_id = self.resolve_domain(domain) if domain else None

        def in_domain(p):
            return domain_id is None or p.get('domain_id') == domain_id

        mine = self.my_projects()
        if ref in mine and in_domain(mine[ref]):
            return mine[ref], True
        by_name = [p for p in mine.values()
                   if p['name'] == ref and in_domain(p)]
        params = {'name': ref}
        if domain_id:
            params['domain_id'] = domain_id
        try:
            listed = self.session.get('/projects', params=params,
                                      **self._where).json()[
                'projects']
            by_name = listed
        except ks_exc.Forbidden:
            pass
        if len(by_name) > 1:
            raise errors.ImageShareError(
                "Project name '%s' exists in %d domains (%s); give "
                "--project-domain, or the project ID" % (
                    ref, len(by_name),
                    ', '.join(sorted(p['domain_id'] for p in by_name))))
        if by_name:
            return by_name[0], True
        found = self.get_project(ref) if looks_like_id(ref) else False
        if found and in_domain(found):
            return found, True
        if found is None:
            return {'id': ref, 'name': None, 'domain_id': domain_id}, False
        raise errors.ProjectNotFound(
            "No project named or with ID '%s'%s that project %s can see; "
            "without an admin role, name only projects your user belongs "
            "to, or give the project ID" % (
                ref, " in domain '%s'" % domain if domain else '',
                self.project_name or self.project_id))

    def can_rescope(self):
        """Whether this token may be exchanged for another project's."""
        return not getattr(self.auth_ref, 'application_credential_id', None)

    def cannot_act_for(self, label, copy=False):
        """Why the caller cannot act as project ``label``, in one sentence.

        ``copy``: for a copy into that project (nothing to leave pending);
        else for accepting a share there.
        """
        what = ('copy into project %s' % label if copy
                else 'accept for project %s' % label)
        others = ("Give --to-cloud <cloud> (a clouds.yaml entry scoped "
                  "to that project)")
        if not copy:
            others += (", or --no-accept to leave the membership pending "
                       "for that project to accept")
        if not self.can_rescope():
            return ("Cannot %s: you authenticated with an application "
                    "credential, which is bound to project %s and cannot "
                    "switch projects. %s" % (
                        what, self.project_name or self.project_id, others))
        return ("Cannot %s: your user has no role there and is not an "
                "admin. %s" % (what, others))

    def rescoped_session(self, project_id):
        """A session for ``project_id``, authenticated by our token."""
        return clients.rescoped_session(self.session, self.auth_ref,
                                        project_id)

    def domain_projects(self, ref, option='--to-domain', instead='--to'):
        """Every enabled project of a domain (name or ID); needs the right.

        Without the right to list a domain's projects (an admin's, or a
        domain reader's), a one-line error says so, naming ``option`` and
        the option to name the projects with ``instead``.
        """
        domain_id = self.resolve_domain(ref)
        try:
            found = self.session.get(
                '/projects', params={'domain_id': domain_id,
                                     'enabled': 'true'},
                **self._where).json()['projects']
        except ks_exc.Forbidden:
            raise errors.ImageShareError(
                "Project %s may not list the projects of domain '%s'; "
                "%s needs that right (an admin's: a role on the domain "
                "does not count in a token scoped to a project): name the "
                "projects with %s instead"
                % (self.project_name or self.project_id, ref, option,
                   instead))
        return [p for p in found if p.get('enabled', True)
                and not p.get('is_domain')]
