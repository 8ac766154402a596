"""What Keystone can tell the caller about projects.

Non-admin users may not read most of Keystone: ``GET /v3/auth/projects``
(the projects the caller's user may scope to) always works, while
``GET /v3/projects/{id}`` is usually refused for other projects.  Every
answer here is therefore "known" or "unknown", never a guess.
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
            resp = self.session.get('/auth/projects',
                                    **self._where)
            self._mine = {p['id']: p for p in resp.json()['projects']}
        return self._mine

    def get_project(self, project_id):
        """The project dict, False if it does not exist, None if unknown."""
        if project_id in self._projects:
            return self._projects[project_id]
        found = self.my_projects().get(project_id)
        if found is None and project_id == self.project_id:
            found = {'id': project_id, 'name': self.project_name}
        if found is None and self._may_read_projects:
            try:
                found = self.session.get(
                    '/projects/%s' % project_id,
                    **self._where).json()['project']
            except ks_exc.NotFound:
                found = False
            except ks_exc.Forbidden:
                # Not allowed to read other projects: stop asking.
                self._may_read_projects = False
        self._projects[project_id] = found
        return found

    def project_name_of(self, project_id):
        """The name of a project, or None where it cannot be told."""
        found = self.get_project(project_id)
        return found.get('name') if found else None

    def project_exists(self, project_id):
        """True, False, or None when the caller cannot tell."""
        found = self.get_project(project_id)
        if found:
            return True
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

    def domain_projects(self, ref):
        """Every enabled project of a domain (name or ID); needs the right.

        Without the right to list a domain's projects (an admin's, or a
        domain reader's), a one-line error says so.
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
                "--to-domain needs that right (an admin's, or a reader's "
                "of that domain): name the projects with --to instead"
                % (self.project_name or self.project_id, ref))
        return [p for p in found if p.get('enabled', True)
                and not p.get('is_domain')]
