"""Connection options: each command of ours next to a core OSC control.

The local cloud's RegionDead lists a dead port (127.0.0.1:1) as its public
image endpoint and the real Glance as its internal one.  Its clouds.yaml
entries reach Glance through ``image_endpoint_override``
(``*-dead``), through the internal interface (``bob-beta-internal``), or
choose among all regions (``alice-alpha-regions``).  Whatever the core
``openstack image ...`` command does with the same options, ours does.
"""

import json
import os
import socket
import subprocess
import threading
import time

import pytest
import yaml

from tests.functional.conftest import BIN
from tests.functional.conftest import stderr_lines

DEAD = 'http://127.0.0.1:1'


def run(cloud, *args, env=None, timeout=120):
    """``openstack ARGS`` with the local cloud's environment plus ``env``."""
    full = cloud.env()
    full.update(env or {})
    t0 = time.monotonic()
    res = subprocess.run([os.path.join(BIN, 'openstack')] + list(args),
                         env=full, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=timeout)
    res.elapsed = time.monotonic() - t0
    return res


def ok(res):
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return json.loads(res.stdout) if res.stdout.strip() else None


def failed(res):
    assert res.returncode != 0, (res.stdout, res.stderr)
    return stderr_lines(res)


def dead_port_error(res):
    """The catalog's dead URL was used: connection refused on port 1."""
    text = res.stderr
    return '127.0.0.1:1' in text and 'Connection refused' in text


def test_status_of_a_caller_in_a_dead_region_with_override(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    # Control: the region is dead for core OSC without the override ...
    core = run(cloud, '--os-cloud', 'alice-alpha-regions',
               '--os-region-name', 'RegionDead', 'image', 'show', img['id'],
               '-f', 'json')
    failed(core)
    ours = run(cloud, '--os-cloud', 'alice-alpha-regions',
               '--os-region-name', 'RegionDead', 'image', 'share', 'status',
               img['id'], '-f', 'json')
    failed(ours)
    assert dead_port_error(ours), ours.stderr
    # ... and the entry with image_endpoint_override reaches Glance.
    core = ok(run(cloud, '--os-cloud', 'alice-alpha-dead', 'image', 'show',
                  img['id'], '-f', 'json'))
    assert core['id'] == img['id']
    data = ok(run(cloud, '--os-cloud', 'alice-alpha-dead', 'image', 'share',
                  'status', img['name'], '-f', 'json'))
    assert (data['id'], data['owner'], data['caller_role']) == (
        img['id'], cloud.project('alpha'), 'owner')


def test_share_transfer_both_sides_through_overrides(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    rows = ok(run(cloud, '--os-cloud', 'alice-alpha-dead', 'image',
                  'transfer', img['name'], '--to-cloud', 'bob-beta-dead',
                  '-f', 'json'))
    assert [(r['Project ID'], r['Member Status']) for r in rows] == [
        (beta, 'accepted')]
    # Control: core OSC, as the target entry, sees the image shared.
    core = ok(run(cloud, '--os-cloud', 'bob-beta-dead', 'image', 'show',
                  img['id'], '-f', 'json'))
    assert core['visibility'] == 'shared'
    members = ok(run(cloud, '--os-cloud', 'alice-alpha-dead', 'image',
                     'member', 'list', img['id'], '-f', 'json'))
    assert [(m['Member ID'], m['Status']) for m in members] == [
        (beta, 'accepted')]


def test_to_cloud_entry_without_override_in_the_dead_region(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    before = cloud.glance('admin').images.get(img['id'])['visibility']
    clouds = dict(yaml.safe_load(open(cloud.clouds_yaml))['clouds'])
    entry = dict(clouds['bob-beta-dead'])
    del entry['image_endpoint_override']
    with clouds_yaml(cloud, {'bob-beta-nooverride': entry}) as env:
        core = run(cloud, '--os-cloud', 'bob-beta-nooverride', 'image',
                   'list', '-f', 'json', env=env)
        failed(core)
        res = run(cloud, '--os-cloud', 'alice-alpha', 'image', 'transfer',
                  img['id'], '--to-cloud', 'bob-beta-nooverride', env=env)
    assert failed(res) == [
        "Cloud 'bob-beta-nooverride': cannot reach the image service at %s "
        "(Connection refused); check the entry's image_endpoint_override, "
        "region_name and interface" % DEAD]
    assert cloud.glance('admin').images.get(img['id'])['visibility'] == (
        before)


def test_copy_to_an_entry_through_its_override(cloud):
    src = cloud.make_image('alice-alpha', visibility='private')
    rows = ok(run(cloud, '--os-cloud', 'alice-alpha-dead', 'image',
                  'transfer', src['id'], '--mode', 'copy', '--to-cloud',
                  'bob-beta-dead', '-f', 'json'))
    [row] = rows
    copy_id = row['Image ID']
    assert copy_id != src['id']
    core = ok(run(cloud, '--os-cloud', 'bob-beta-dead', 'image', 'show',
                  copy_id, '-f', 'json'))
    assert (core['owner'], core['checksum'], core['status']) == (
        cloud.project('beta'), src['checksum'], 'active')


def test_rescoped_acceptance_keeps_the_caller_override(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    beta = cloud.project('beta')
    rows = ok(run(cloud, '--os-cloud', 'carol-alpha-dead', 'image',
                  'transfer', img['id'], '--to', 'beta', '-f', 'json'))
    assert [(r['Project ID'], r['Member Status']) for r in rows] == [
        (beta, 'accepted')]
    core = ok(run(cloud, '--os-cloud', 'carol-alpha-dead', 'image', 'member',
                  'list', img['id'], '-f', 'json'))
    assert [(m['Member ID'], m['Status']) for m in core] == [
        (beta, 'accepted')]


def test_an_entry_uses_its_own_region_not_the_callers(cloud):
    # The caller is in RegionDead (through its override); bob-beta's
    # RegionOne Glance must be the one its acceptance uses.
    img = cloud.make_image('alice-alpha', visibility='private')
    rows = ok(run(cloud, '--os-cloud', 'alice-alpha-dead', 'image',
                  'transfer', img['id'], '--to-cloud', 'bob-beta',
                  '-f', 'json'))
    assert [r['Member Status'] for r in rows] == ['accepted']


@pytest.mark.parametrize('how', ['options', 'environment'])
def test_os_interface_internal(cloud, how):
    img = cloud.make_image('alice-alpha', visibility='private')
    if how == 'options':
        public = ['--os-region-name', 'RegionDead']
        internal = public + ['--os-interface', 'internal']
        env_public = env_internal = {}
    else:
        public = internal = []
        env_public = {'OS_REGION_NAME': 'RegionDead'}
        env_internal = dict(env_public, OS_INTERFACE='internal')
    base = ['--os-cloud', 'alice-alpha-regions']
    # Control: the public URL is dead for core OSC and for us ...
    failed(run(cloud, *base, *public, 'image', 'show', img['id'],
               env=env_public))
    res = run(cloud, *base, *public, 'image', 'share', 'status', img['id'],
              env=env_public)
    failed(res)
    assert dead_port_error(res), res.stderr
    # ... the internal one answers both.
    core = ok(run(cloud, *base, *internal, 'image', 'show', img['id'],
                  '-f', 'json', env=env_internal))
    assert core['id'] == img['id']
    data = ok(run(cloud, *base, *internal, 'image', 'share', 'status',
                  img['id'], '-f', 'json', env=env_internal))
    assert data['id'] == img['id']


def test_to_cloud_entry_with_interface_internal(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    core = ok(run(cloud, '--os-cloud', 'bob-beta-internal', 'image', 'list',
                  '-f', 'json'))
    assert isinstance(core, list)
    rows = ok(run(cloud, '--os-cloud', 'alice-alpha', 'image', 'transfer',
                  img['id'], '--to-cloud', 'bob-beta-internal', '-f',
                  'json'))
    assert [r['Member Status'] for r in rows] == ['accepted']
    incoming = ok(run(cloud, '--os-cloud', 'bob-beta-internal', 'image',
                      'share', 'list', '--incoming', '-f', 'json'))
    assert img['id'] in [r['Image ID'] for r in incoming]


# ---------------------------------------------------------------- timeouts
class Stall:
    """A loopback server that accepts connections and never answers.

    Bounded: at most ``limit`` connections, closed with the listener when
    the ``with`` block ends.
    """

    def __init__(self, limit=16):
        self.limit = limit
        self.held = []
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(limit)
        self.sock.settimeout(0.2)
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self._stop.is_set() and len(self.held) < self.limit:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.held.append(conn)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        for conn in self.held:
            conn.close()
        self.sock.close()


class clouds_yaml:
    """The local clouds.yaml plus ``entries``, in a file of its own."""

    def __init__(self, cloud, entries):
        with open(cloud.clouds_yaml) as f:
            self.data = yaml.safe_load(f)
        self.data['clouds'].update(entries)
        self.path = cloud.clouds_yaml + '.%d.test' % os.getpid()

    def __enter__(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            yaml.safe_dump(self.data, f)
        return {'OS_CLIENT_CONFIG_FILE': self.path}

    def __exit__(self, *exc):
        os.unlink(self.path)


TIMEOUT = 3


def test_api_timeout_against_a_stalling_glance(cloud):
    img = cloud.make_image('alice-alpha', visibility='private')
    before = cloud.glance('admin').images.get(img['id'])
    with Stall() as stall:
        entry = dict(yaml.safe_load(open(cloud.clouds_yaml))['clouds'][
            'bob-beta'], image_endpoint_override=stall.url,
            api_timeout=TIMEOUT)
        with clouds_yaml(cloud, {'bob-beta-stall': entry}) as env:
            # Controls: core OSC gives up after api_timeout, and a normal
            # entry's transfer plan takes this long without a timeout.
            core = run(cloud, '--os-cloud', 'bob-beta-stall', 'image',
                       'list', env=env, timeout=60)
            failed(core)
            plan = run(cloud, '--os-cloud', 'alice-alpha', 'image',
                       'transfer', img['id'], '--to-cloud', 'bob-beta',
                       '--dry-run', env=env)
            ok_plan = plan.returncode == 0
            results = {}
            for mode in ('share', 'copy'):
                results[mode] = run(
                    cloud, '--os-cloud', 'alice-alpha', 'image', 'transfer',
                    img['id'], '--mode', mode, '--to-cloud',
                    'bob-beta-stall', env=env, timeout=60)
            # The stalling entry as the caller: as core OSC, it ends.
            caller = run(cloud, '--os-cloud', 'bob-beta-stall', 'image',
                         'share', 'list', env=env, timeout=60)
    assert ok_plan, plan.stderr
    line = ("Cloud 'bob-beta-stall': the image service at %s did not answer "
            "within %.1f s (api_timeout)" % (stall.url, TIMEOUT))
    for mode, res in results.items():
        assert failed(res) == [line], mode
        # Within the timeout: one wait of api_timeout, plus what a
        # command costs here anyway (the dry run's time, and slack for a
        # noisy machine).
        assert TIMEOUT <= res.elapsed < TIMEOUT + plan.elapsed + 5, (
            mode, res.elapsed, plan.elapsed)
    assert TIMEOUT <= core.elapsed < TIMEOUT + plan.elapsed + 5
    failed(caller)
    assert TIMEOUT <= caller.elapsed < TIMEOUT + plan.elapsed + 5
    assert len(stderr_lines(caller)) == 1, caller.stderr
    assert 'timed out' in caller.stderr
    after = cloud.glance('admin').images.get(img['id'])
    assert (after['visibility'], after['updated_at']) == (
        before['visibility'], before['updated_at'])
