"""Share mode interrupted: INT, TERM and HUP mid-batch, SIGKILL, a re-run.

Every check is made as admin afterwards: each image's visibility and
label from the API, its members from Glance's database (the API hides
the members of a private image from everyone).  The signal is sent at
an observable point (the first image seen shared), never after a fixed
sleep.
"""

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

from tests.functional.conftest import BIN

LABEL = 'imageshare_sharing'
INTERNAL = ('Traceback', 'ValueError', 'list.remove', 'KeyboardInterrupt')


def db_members(cloud, image_id):
    """``{member: status}`` of an image, read from Glance's database."""
    path = os.path.join(os.path.dirname(cloud.clouds_yaml), 'glance',
                        'glance.db')
    with contextlib.closing(sqlite3.connect(
            'file:%s?mode=ro' % path, uri=True, timeout=30)) as db:
        return dict(db.execute(
            'SELECT member, status FROM image_members WHERE image_id = ? '
            'AND deleted = 0', (image_id,)).fetchall())


def seen(cloud, image_id):
    """``(visibility, label, members)`` of an image, as admin sees it."""
    img = cloud.glance('admin').images.get(image_id)
    return img['visibility'], img.get(LABEL), db_members(cloud, image_id)


def start(cloud, cloud_name, *args):
    return subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', cloud_name] + list(
            args), env=cloud.env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def wait_until(check, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError('never happened: %s' % what)


def shared_one(cloud, ids):
    """The first of ``ids`` seen shared (the run is under way)."""
    glance = cloud.glance('admin')

    def check():
        for i in ids:
            if glance.images.get(i)['visibility'] == 'shared':
                return i
        return None
    return wait_until(check, 'an image of %s shared' % ids)


@pytest.fixture
def privates(cloud):
    return [cloud.make_image('alice-alpha')['id'] for _ in range(10)]


def summary_counts(lines, name, total):
    m = re.fullmatch(
        r'Interrupted by %s: of %d image/project pairs, (\d+) done \(kept\), '
        r'(\d+) rolled back or not started; images with no pair done are '
        r'restored as they were' % (name, total), lines[-1])
    assert m, lines
    done, undone = map(int, m.groups())
    assert done + undone == total, lines
    return done


@pytest.mark.parametrize('parallel', [['--parallel', '1'], []],
                         ids=['parallel-1', 'default'])
@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM,
                                    signal.SIGHUP])
def test_signal_mid_batch_nothing_half_shared(cloud, privates, signum,
                                              parallel):
    beta = cloud.project('beta')
    proc = start(cloud, 'alice-alpha', 'image', 'transfer', *privates,
                 '--to-cloud', 'bob-beta', '-f', 'json', *parallel)
    shared_one(cloud, privates)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=300)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 1, (proc.returncode, out, err)
    assert not [w for w in INTERNAL if w in err], err
    rows = json.loads(out)
    name = signal.Signals(signum).name
    done = summary_counts(lines, name, len(privates))
    assert done == len(rows) < len(privates), (rows, lines)
    kept = {r['Image ID'] for r in rows}
    for r in rows:
        assert (r['Project ID'], r['Member Status']) == (beta, 'accepted')
    # Each pair not done says why, once: rolled back or not started.
    said = [line for line in lines[:-1] if re.match(
        r'Image \S+(, project \S+)?: (not started \(interrupted by %s\)|'
        r'interrupted by %s)' % (name, name), line)]
    assert len(said) == len(privates) - done, lines
    for i in privates:
        if i in kept:
            assert seen(cloud, i) == ('shared', None, {beta: 'accepted'})
        else:
            assert seen(cloud, i) == ('private', None, {}), (i, lines)


def test_rerun_after_an_interrupted_batch_finishes_it(cloud, privates):
    beta = cloud.project('beta')
    proc = start(cloud, 'alice-alpha', 'image', 'transfer', *privates,
                 '--to-cloud', 'bob-beta', '-f', 'json', '--parallel', '1')
    shared_one(cloud, privates)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=300)
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', *privates,
                         '--to-cloud', 'bob-beta')
    assert [r['Member Status'] for r in rows] == ['accepted'] * len(privates)
    for i in privates:
        assert seen(cloud, i) == ('shared', None, {beta: 'accepted'})
