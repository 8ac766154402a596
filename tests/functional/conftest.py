"""Functional tests: the real ``openstack`` CLI against the local cloud.

The local cloud (tools/local-cloud: real Keystone and Glance) is started
once per run and stopped at the end if this run started it.  Commands under
test run as a user would run them, in a subprocess, with ``-f json``;
fixtures prepare images through the Glance API directly, which is faster.
"""

import io
import json
import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
LOCAL_CLOUD = os.path.join(ROOT, 'tools', 'local-cloud')
BIN = os.path.dirname(sys.executable)


class Cloud:
    """The running local cloud: run commands, reach the API, know the IDs."""

    def __init__(self, state_dir):
        self.clouds_yaml = os.path.join(state_dir, 'clouds.yaml')
        with open(os.path.join(state_dir, 'state.json')) as f:
            state = json.load(f)
        self.projects = state['ids']['projects']
        self._sessions = {}

    def project(self, name, domain='Default'):
        return self.projects['%s/%s' % (domain, name)]

    def env(self):
        # OS_* variables override --os-cloud: start from none of them.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = self.clouds_yaml
        env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
        return env

    def run(self, cloud, *args):
        """Run ``openstack --os-cloud CLOUD ARGS``; return the result."""
        return subprocess.run(
            [os.path.join(BIN, 'openstack'), '--os-cloud', cloud]
            + list(args), env=self.env(), capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=300)

    def json(self, cloud, *args):
        """Run a command with ``-f json``; it must succeed."""
        res = self.run(cloud, *args, '-f', 'json')
        assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
        return json.loads(res.stdout), stderr_lines(res)

    def region(self, cloud):
        if cloud not in self._sessions:
            import openstack.config
            # load_envvars=False: an OS_CLIENT_CONFIG_FILE in the test's
            # environment (local-cloud env) would be read before ours.
            self._sessions[cloud] = openstack.config.OpenStackConfig(
                config_files=[self.clouds_yaml],
                load_envvars=False).get_one(cloud=cloud)
        return self._sessions[cloud]

    def session(self, cloud):
        return self.region(cloud).get_session()

    def glance(self, cloud):
        from glanceclient.v2 import client
        region = self.region(cloud)
        # The checks' own requests: a pooled connection Glance's server
        # closed while idle is reset on reuse; keystoneauth tries again.
        return client.Client(session=region.get_session(),
                             region_name=region.region_name,
                             interface='public', connect_retries=3)

    def make_image(self, cloud, visibility='private', data=b'x' * 4096,
                   name=None, **props):
        glance = self.glance(cloud)
        image = glance.images.create(
            name=name or unique('img'), disk_format='raw',
            container_format='bare', visibility=visibility, **props)
        glance.images.upload(image['id'], io.BytesIO(data),
                             image_size=len(data))
        return glance.images.get(image['id'])


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


def stderr_lines(res):
    return [line for line in res.stderr.splitlines() if line.strip()]


def local_cloud(*args):
    return subprocess.run([sys.executable, LOCAL_CLOUD] + list(args),
                          capture_output=True, text=True)


@pytest.fixture(scope='session')
def cloud():
    state_dir = os.environ.get('OSC_IMAGESHARE_CLOUD_DIR') or os.path.join(
        ROOT, '.local-cloud')
    already = local_cloud('status').returncode == 0
    if not already:
        res = subprocess.run([sys.executable, LOCAL_CLOUD, 'start'])
        assert res.returncode == 0, 'the local cloud did not start'
    try:
        yield Cloud(state_dir)
    finally:
        if not already:
            local_cloud('stop')
