"""Waiting for the other side: ``image share wait``, ``transfer --wait``.

The owner's command runs in one process; the consumer accepts or rejects
from another, as a team would, while it waits.
"""

import json
import os
import subprocess
import time

import pytest

from tests.functional.conftest import BIN
from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.plugin]


def start(cloud, entry, *args):
    return subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', entry] + list(args)
        + ['-f', 'json'], env=cloud.env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc):
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, [line for line in err.splitlines()
                                  if line.strip()]


def until_member(cloud, image_id, project, timeout=120):
    """Wait (here, in the test) until Glance lists ``project``."""
    glance = cloud.glance('admin')
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if project in [m['member_id'] for m in
                           glance.image_members.list(image_id)]:
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise AssertionError('%s never became a member' % project)


def pending_share(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    cloud.json('carol-alpha', 'image', 'transfer', img['id'], '--to',
               'beta', '--no-accept')
    return img


def test_share_wait_satisfied_by_another_process(cloud):
    img = pending_share(cloud)
    beta = cloud.project('beta')
    waiting = start(cloud, 'carol-alpha', 'image', 'share', 'wait',
                    img['name'], 'beta', '--timeout', '120')
    time.sleep(2)
    assert waiting.poll() is None          # still waiting
    cloud.json('bob-beta', 'image', 'share', 'accept', img['id'])
    code, out, err = finish(waiting)
    assert code == 0, err
    [row] = json.loads(out)
    assert (row['Image ID'], row['Project ID'], row['Project Name'],
            row['Member Status']) == (img['id'], beta, 'beta', 'accepted')
    assert err == []      # no progress: stderr is not a terminal


def test_share_wait_times_out_naming_who_is_pending(cloud):
    img = pending_share(cloud)
    beta = cloud.project('beta')
    t0 = time.monotonic()
    res = cloud.run('carol-alpha', 'image', 'share', 'wait', img['id'],
                    '--timeout', '2')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        'Timed out after 2 s waiting for image %s: project beta (%s) has '
        'not accepted it yet' % (img['id'], beta)]
    assert time.monotonic() - t0 < 60


def test_transfer_wait_satisfied_by_an_accept_from_another_process(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    beta = cloud.project('beta')
    waiting = start(cloud, 'carol-alpha', 'image', 'transfer', img['id'],
                    '--to', 'beta', '--no-accept', '--wait', '--timeout',
                    '120')
    until_member(cloud, img['id'], beta)
    cloud.json('bob-beta', 'image', 'share', 'accept', img['id'])
    code, out, err = finish(waiting)
    assert code == 0, err
    [row] = json.loads(out)
    assert (row['Member Status'], row['Changes']) == (
        'accepted', 'visibility private->shared, member added, accepted by '
        'the project')
    # The risks as they stand once accepted: no 'has not accepted'.
    assert [w.split(':')[0] for w in err] == [
        'Image %s stays in project alpha (%s)' % (
            img['id'], cloud.project('alpha')),
        'Image %s is not protected and 1 project(s) have accepted it'
        % img['id']]


def test_transfer_wait_ended_by_a_reject(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    beta = cloud.project('beta')
    waiting = start(cloud, 'carol-alpha', 'image', 'transfer', img['id'],
                    '--to', 'beta', '--no-accept', '--wait', '--timeout',
                    '120')
    until_member(cloud, img['id'], beta)
    cloud.json('bob-beta', 'image', 'share', 'reject', img['id'])
    code, out, err = finish(waiting)
    assert code == 1
    # The rows are printed (the member was added, then rejected: as it
    # is after the run), then the error; no stale 'has not accepted'.
    assert [(r['Member Status'], r['Changes']) for r in json.loads(out)] == [
        ('rejected', 'visibility private->shared, member added, rejected '
                     'by the project')]
    assert not [line for line in err if 'has not accepted' in line], err
    assert err[-1] == (
        "Project beta (%s) rejected image %s; it can still accept it "
        "('openstack image share accept %s')" % (beta, img['id'],
                                                 img['id']))


def test_transfer_wait_to_a_project_that_had_rejected_ends_at_once(cloud):
    # The run leaves it rejected (--no-accept): --wait does not wait out
    # its timeout for an acceptance, nor exit 0 as if there were none to
    # wait for; a rejection ends it, exit code 1, as share wait ends.
    img = cloud.make_image('alice-alpha', visibility='private')
    beta = cloud.project('beta')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to', beta,
               '--no-accept')
    cloud.json('bob-beta', 'image', 'share', 'reject', img['id'])
    began = time.monotonic()
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'], '--to',
                    beta, '--no-accept', '--wait', '--timeout', '120', '-f',
                    'json')
    assert time.monotonic() - began < 60
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert [(r['Member Status'], r['Changes'])
            for r in json.loads(res.stdout)] == [('rejected', 'none')]
    assert stderr_lines(res)[-1] == (
        "Project %s rejected image %s; it can still accept it "
        "('openstack image share accept %s')" % (beta, img['id'], img['id']))


def test_transfer_wait_times_out(cloud):
    img = cloud.make_image('carol-alpha', visibility='private')
    beta = cloud.project('beta')
    res = cloud.run('carol-alpha', 'image', 'transfer', img['id'], '--to',
                    'beta', '--no-accept', '--wait', '--timeout', '1',
                    '-f', 'json')
    assert res.returncode == 1
    assert stderr_lines(res)[-1] == (
        'Timed out after 1 s waiting for image %s: project beta (%s) has '
        'not accepted it yet' % (img['id'], beta))
    res = cloud.run('carol-alpha', 'image', 'transfer', img['id'], '--to',
                    'beta', '--wait')
    assert res.returncode == 2
    assert stderr_lines(res) == [
        'openstack image transfer: error: --wait needs --no-accept: without '
        'it the run accepts for every target itself']


def test_share_wait_ended_by_a_reject(cloud):
    img = pending_share(cloud)
    beta = cloud.project('beta')
    waiting = start(cloud, 'carol-alpha', 'image', 'share', 'wait',
                    img['id'], '--timeout', '120')
    time.sleep(2)
    cloud.json('bob-beta', 'image', 'share', 'reject', img['id'])
    code, out, err = finish(waiting)
    assert code == 1
    assert err == [
        "Project beta (%s) rejected image %s; it can still accept it "
        "('openstack image share accept %s')" % (beta, img['id'],
                                                 img['id'])]
