"""What Keystone can tell the caller about projects.

Non-admin users may not read most of Keystone: ``GET /v3/auth/projects``
(the projects the caller's user may scope to) always works, while
``GET /v3/projects/{id}`` is usually refused for other projects.  Every
answer here is therefore "known" or "unknown", never a guess.
"""

import logging
import re

from keystoneauth1 import exceptions as ks_exc

LOG = logging.getLogger(__name__)

_ID_RE = re.compile(
    r'^[0-9a-f]{32}$|^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$')


def looks_like_id(value):
    """True for the shapes Keystone gives project IDs (hex UUIDs)."""
    return bool(_ID_RE.match(value or ''))


class Identity:
    """Project lookups for one authenticated session, cached per run."""

    def __init__(self, session, auth_ref, interface=None, region_name=None):
        self.session = session
        self.auth_ref = auth_ref
        self._filter = {'service_type': 'identity', 'version': '3'}
        if interface:
            self._filter['interface'] = interface
        if region_name:
            self._filter['region_name'] = region_name
        self._mine = None
        self._projects = {}
        self._may_read_projects = True

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
                                    endpoint_filter=self._filter)
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
                    endpoint_filter=self._filter).json()['project']
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
