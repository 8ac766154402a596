"""Connection options: each command of ours next to a core OSC control.

The local cloud's RegionDead lists a dead port (127.0.0.1:1) as its public
image endpoint and the real Glance as its internal one.  Its clouds.yaml
entries reach Glance through ``image_endpoint_override``
(``*-dead``), through the internal interface (``bob-beta-internal``), or
choose among all regions (``alice-alpha-regions``).  Whatever the core
``openstack image ...`` command does with the same options, ours does.
"""

import datetime
import ipaddress
import json
import os
import select
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest
import yaml

from tests.functional.conftest import BIN
from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.plugin]

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
    return '127.0.0.1:1' in text and 'connection refused' in text.lower()


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


def test_identity_endpoint_override(cloud):
    # RegionDead's public identity URL is dead too: project names resolve
    # only through identity_endpoint_override, as for core OSC.
    img = cloud.make_image('carol-alpha', visibility='private')
    alpha, beta = cloud.project('alpha'), cloud.project('beta')
    clouds = yaml.safe_load(open(cloud.clouds_yaml))['clouds']
    entry = dict(clouds['carol-alpha-dead'])
    del entry['identity_endpoint_override']
    with clouds_yaml(cloud, {'carol-alpha-noid': entry}) as env:
        core = run(cloud, '--os-cloud', 'carol-alpha-noid', 'project', 'show',
                   alpha, env=env)
        failed(core)
        res = run(cloud, '--os-cloud', 'carol-alpha-noid', 'image',
                  'transfer', img['id'], '--to', 'beta', env=env)
        failed(res)
        assert dead_port_error(res), res.stderr
        assert cloud.glance('admin').images.get(img['id'])[
            'visibility'] == 'private'
        core = ok(run(cloud, '--os-cloud', 'carol-alpha-dead', 'project',
                      'show', alpha, '-f', 'json', env=env))
        assert core['name'] == 'alpha'
        rows = ok(run(cloud, '--os-cloud', 'carol-alpha-dead', 'image',
                      'transfer', img['id'], '--to', 'beta', '-f', 'json',
                      env=env))
    assert [(r['Project ID'], r['Project Name'], r['Member Status'])
            for r in rows] == [(beta, 'beta', 'accepted')]


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


# ---------------------------------------------------------------- TLS
def self_signed(directory):
    """A key and a self-signed certificate for 127.0.0.1; their paths."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                    ski), critical=False)
            .sign(key, hashes.SHA256()))
    key_path = os.path.join(directory, 'tls.key')
    cert_path = os.path.join(directory, 'tls.pem')
    with open(key_path, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class TLSFront:
    """HTTPS on 127.0.0.1 in front of a real plain-HTTP service.

    Bounded: at most ``limit`` connections, each relayed by one thread,
    all closed when the ``with`` block ends.
    """

    def __init__(self, target_url, key_path, cert_path, limit=64):
        self.target = urllib.parse.urlparse(target_url)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert_path, key_path)
        self.limit = limit
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = 'https://127.0.0.1:%d' % self.sock.getsockname()[1]
        self.open = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, daemon=True)]

    def _serve(self):
        accepted = 0
        while not self._stop.is_set() and accepted < self.limit:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            accepted += 1
            self.open.append(conn)
            t = threading.Thread(target=self._relay, args=(conn,),
                                 daemon=True)
            self._threads.append(t)
            t.start()

    def _relay(self, conn):
        try:
            conn.settimeout(10)
            tls = self.ctx.wrap_socket(conn, server_side=True)
            self.open.append(tls)
            plain = socket.create_connection(
                (self.target.hostname, self.target.port), timeout=10)
            self.open.append(plain)
            tls.settimeout(None)
            plain.settimeout(None)
            while not self._stop.is_set():
                ready, _, _ = select.select([tls, plain], [], [], 0.2)
                if tls in ready or tls.pending():
                    data = tls.recv(65536)
                    if not data:
                        return
                    plain.sendall(data)
                if plain in ready:
                    data = plain.recv(65536)
                    if not data:
                        return
                    tls.sendall(data)
        except (OSError, ssl.SSLError):
            return  # a client that refused our certificate, or hung up

    def __enter__(self):
        self._threads[0].start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(5)
        for s in self.open:
            s.close()
        self.sock.close()


@pytest.fixture
def tls(cloud, tmp_path):
    """Entries whose Glance is the real one behind HTTPS on loopback."""
    key_path, ca = self_signed(str(tmp_path))
    glance = yaml.safe_load(open(cloud.clouds_yaml))['clouds'][
        'alice-alpha-dead']['image_endpoint_override']
    with TLSFront(glance, key_path, ca) as front:
        clouds = yaml.safe_load(open(cloud.clouds_yaml))['clouds']

        def like(name, **settings):
            return dict(clouds[name], image_endpoint_override=front.url,
                        **settings)
        entries = {
            'alice-alpha-tls': like('alice-alpha'),
            'carol-alpha-tls': like('carol-alpha'),
            'bob-beta-tls': like('bob-beta', cacert=ca),
            'bob-beta-tls-noca': like('bob-beta'),
            'bob-beta-tls-insecure': like('bob-beta', verify=False),
        }
        with clouds_yaml(cloud, entries) as env:
            yield env, ca, front.url


def test_caller_os_cacert_and_insecure(cloud, tls):
    env, ca, url = tls
    img = cloud.make_image('alice-alpha', visibility='private')
    base = ['--os-cloud', 'alice-alpha-tls']
    # Control: without the CA both refuse the certificate ...
    failed(run(cloud, *base, 'image', 'show', img['id'], env=env))
    res = run(cloud, *base, 'image', 'share', 'status', img['id'], env=env)
    failed(res)
    assert 'CERTIFICATE_VERIFY_FAILED' in res.stderr
    # ... with --os-cacert, --insecure, or OS_CACERT both answer.
    for opts, more_env in ((['--os-cacert', ca], {}),
                           (['--insecure'], {}),
                           ([], {'OS_CACERT': ca})):
        e = dict(env, **more_env)
        core = ok(run(cloud, *base, *opts, 'image', 'show', img['id'],
                      '-f', 'json', env=e))
        data = ok(run(cloud, *base, *opts, 'image', 'share', 'status',
                      img['id'], '-f', 'json', env=e))
        assert core['id'] == data['id'] == img['id'], opts


def test_rescoped_session_keeps_the_callers_cacert(cloud, tls):
    env, ca, url = tls
    img = cloud.make_image('carol-alpha', visibility='private')
    rows = ok(run(cloud, '--os-cloud', 'carol-alpha-tls', '--os-cacert', ca,
                  'image', 'transfer', img['id'], '--to', 'beta', '-f',
                  'json', env=env))
    assert [r['Member Status'] for r in rows] == ['accepted']


def test_to_cloud_entry_tls_settings(cloud, tls):
    env, ca, url = tls
    img = cloud.make_image('alice-alpha', visibility='private')
    before = cloud.glance('admin').images.get(img['id'])
    # Control: core OSC with each entry.
    ok(run(cloud, '--os-cloud', 'bob-beta-tls', 'image', 'list', '-f',
           'json', env=env))
    ok(run(cloud, '--os-cloud', 'bob-beta-tls-insecure', 'image', 'list',
           '-f', 'json', env=env))
    failed(run(cloud, '--os-cloud', 'bob-beta-tls-noca', 'image', 'list',
               env=env))
    # The caller's --os-cacert is not the entry's: still refused.
    res = run(cloud, '--os-cloud', 'alice-alpha', '--os-cacert', ca, 'image',
              'transfer', img['id'], '--to-cloud', 'bob-beta-tls-noca',
              env=env)
    assert failed(res) == [
        "Cloud 'bob-beta-tls-noca': no TLS connection to the image service "
        "at %s (CERTIFICATE_VERIFY_FAILED); check the entry's cacert, "
        "verify, cert and key" % url]
    after = cloud.glance('admin').images.get(img['id'])
    assert after['updated_at'] == before['updated_at']
    for entry in ('bob-beta-tls', 'bob-beta-tls-insecure'):
        rows = ok(run(cloud, '--os-cloud', 'alice-alpha', 'image',
                      'transfer', img['id'], '--to-cloud', entry, '-f',
                      'json', env=env))
        assert [r['Member Status'] for r in rows] == ['accepted'], entry
