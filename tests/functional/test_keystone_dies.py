"""Keystone killed mid-batch: the run names Keystone, a re-run finishes.

The local cloud's Glance caches each token it has checked, and the plugin
gets its tokens up front: killed mid-batch, Keystone would not be missed.
On a real cloud it is, as soon as a request lands on a Glance worker that
has not seen the token.  ``tools/local-cloud uncached`` starts RegionOne's
Glance again (same database and store) with no token cache, twice:
glance4 keeps Glance's ``delay_auth_decision`` (Keystone unreachable: HTTP
401, and the client's own re-authentication is refused), glance5 has it
off (Keystone unreachable: HTTP 503 'The Keystone service is temporarily
unavailable').  Keystone is killed at an observable point (the first
image seen shared), never after a fixed sleep; every check is made as
admin afterwards, members from Glance's database.
"""

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.functional.conftest import LOCAL_CLOUD
from tests.functional.test_share_interrupted import INTERNAL
from tests.functional.test_share_interrupted import seen
from tests.functional.test_share_interrupted import shared_one
from tests.functional.test_share_interrupted import start
from tests.functional.test_share_interrupted import state_of_cloud

pytestmark = [pytest.mark.concurrency]

UNTOUCHED = ('private', None, {})
# The words that would blame a Glance for what Keystone did.
BLAME_GLANCE = ('by the Glance', 'waiting for the Glance',
                'connection to the Glance', 'Glance refused')


@pytest.fixture(scope='module')
def uncached(cloud):
    """glance4 and glance5 running, with their clouds.yaml entries."""
    res = subprocess.run([sys.executable, LOCAL_CLOUD, 'uncached'])
    assert res.returncode == 0, 'glance4 and glance5 did not start'
    return state_of_cloud(cloud)


def keystone_killed_mid_batch(cloud, suffix, images):
    """Kill Keystone once an image is shared; the run's result."""
    pid = state_of_cloud(cloud)['keystone_pid']
    # The admin token the checks use, fetched while Keystone answers.
    cloud.glance('admin').images.get(images[0])
    proc = start(cloud, 'alice-alpha' + suffix, 'image', 'transfer',
                 *images, '--to-cloud', 'bob-beta' + suffix, '-f', 'json')
    try:
        shared_one(cloud, images)
        os.killpg(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
        res = subprocess.run([sys.executable, LOCAL_CLOUD, 'start-keystone'])
        assert res.returncode == 0, 'Keystone did not start again'
    return proc.returncode, out, err


@pytest.mark.parametrize('suffix', ['-uncached', '-uncached503'],
                         ids=['glance-401', 'glance-503'])
def test_keystone_killed_mid_batch_is_named_and_a_rerun_finishes(
        cloud, uncached, suffix):
    beta = cloud.project('beta')
    keystone = 'http://127.0.0.1:%d/v3' % uncached['keystone_port']
    privates = [cloud.make_image('alice-alpha')['id'] for _ in range(8)]
    bystander = cloud.make_image('alice-alpha')['id']
    code, out, err = keystone_killed_mid_batch(cloud, suffix, privates)
    assert code == 1, (out, err)
    assert not [w for w in INTERNAL if w in err], err
    assert 'Keystone (the identity service) at %s' % keystone in err, err
    assert not [w for w in BLAME_GLANCE if w in err], err
    lines = [line for line in err.splitlines() if line.strip()]
    # Each failure names its image; then the one summary.
    assert all(line.startswith('Image ') for line in lines[:-1]), lines
    failed = re.fullmatch(r'Failed to transfer (\d+) of 8 image/project '
                          r'pairs', lines[-1])
    assert failed and int(failed.group(1)) == len(lines) - 1, lines
    rows = json.loads(out) if out.strip() else []
    accepted = {r['Image ID'] for r in rows
                if r['Member Status'] == 'accepted'}
    for i in privates:
        state = seen(cloud, i)
        finished = ('shared', None, {beta: 'accepted'})
        if state == UNTOUCHED:
            # Glance did not act on what Keystone failed: not claimed.
            assert 'Image %s is left' % i not in err, (i, err)
        elif state == finished:
            assert i in accepted or 'Image %s' % i not in err, (i, err)
        else:
            # Changed and not finished: named, with its state and the
            # command that finishes it.
            assert re.search(r'Image %s is left shared by this run, .*: '
                             r're-run the same command' % i, err), (
                                 i, state, err)
    assert seen(cloud, bystander) == UNTOUCHED
    # Keystone back: the same command finishes every image.
    rows, _ = cloud.json('alice-alpha' + suffix, 'image', 'transfer',
                         *privates, '--to-cloud', 'bob-beta' + suffix)
    assert sorted(r['Image ID'] for r in rows) == sorted(privates)
    assert [r['Member Status'] for r in rows] == ['accepted'] * 8
    for i in privates:
        assert seen(cloud, i) == ('shared', None, {beta: 'accepted'})
        assert cloud.glance('admin').images.get(i)['protected'] is False
    assert seen(cloud, bystander) == UNTOUCHED
