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
import sys
import time

import pytest

from tests.functional.conftest import BIN
from tests.functional.conftest import LOCAL_CLOUD
from tests.functional.test_retries import proxy  # noqa: F401 (fixture)

pytestmark = [pytest.mark.concurrency]

LABEL = 'imageshare_sharing'
INTERNAL = ('Traceback', 'ValueError', 'list.remove', 'KeyboardInterrupt')


def db_members(cloud, image_id):
    """``{member: status}`` of an image, read from Glance's database.

    SQLite (the default local cloud) or MariaDB (``--database mariadb``:
    its own server, reached on its socket as the OS user that started it).
    """
    state_dir = os.path.dirname(cloud.clouds_yaml)
    if state_of_cloud(cloud).get('database') == 'mariadb':
        res = subprocess.run(
            ['mariadb', '--no-defaults', '-uroot', '--batch',
             '--skip-column-names', '--socket=%s' % os.path.join(
                 state_dir, 'mariadb', 'mysqld.sock'), '-e',
             "SELECT member, status FROM glance.image_members WHERE "
             "image_id = '%s' AND deleted = 0" % image_id],
            capture_output=True, text=True, check=True)
        return dict(line.split('\t') for line in res.stdout.splitlines())
    path = os.path.join(state_dir, 'glance', 'glance.db')
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
        r'(\d+) failed, (\d+) interrupted \(rolled back\), (\d+) not '
        r'started; images with no pair done are restored as they were'
        % (name, total), lines[-1])
    assert m, lines
    done, failed, cut, idle = map(int, m.groups())
    assert (done + cut + idle, failed) == (total, 0), lines
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
    # No pair done: nothing on stdout (a failed command prints no rows).
    rows = json.loads(out) if out.strip() else []
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


def wait_line(proc, text):
    """Read ``proc``'s stderr up to a line containing ``text``."""
    read = []
    for line in proc.stderr:
        read.append(line)
        if text in line:
            return read
    raise AssertionError('%r never came: %s' % (text, ''.join(read)))


def dave_sees(cloud, image_id):
    return cloud.run('dave-beta', 'image', 'show', image_id).returncode == 0


@pytest.fixture
def hides_dave(cloud):
    """A private image of alpha hiding other/beta (dave), who accepted."""
    img = cloud.make_image('alice-alpha')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'],
               '--to-cloud', 'dave-beta')
    cloud.glance('alice-alpha').images.update(img['id'],
                                              visibility='private')
    assert not dave_sees(cloud, img['id'])
    return img['id']


def killed_after_sharing(cloud, image_id):
    """SIGKILL a transfer the moment it has set ``image_id`` shared.

    The run logs its next step (the earlier-members check) once Glance
    answered the PATCH: that is when it dies.  Returns the label left.
    """
    proc = start(cloud, 'alice-alpha', '-v', 'image', 'transfer', image_id,
                 '--to-cloud', 'bob-beta', '-f', 'json')
    wait_line(proc, ': check earlier members')
    proc.kill()
    proc.communicate(timeout=60)
    return cloud.glance('admin').images.get(image_id).get(LABEL)


def test_sigkill_after_sharing_then_rerun_never_keeps_the_hidden_member(
        cloud, hides_dave):
    img, other_beta = hides_dave, cloud.project('beta', 'other')
    label = killed_after_sharing(cloud, img)
    assert label, 'the run was killed after it had finished the image'
    info = json.loads(label)
    assert (info['targets'], info['checked'], info['op']) == (
        [cloud.project('beta')], False, 'share')
    # What Glance does the moment an image is shared: dave has it back,
    # and only the label tells.  image share status says so, and how to
    # finish or undo it.
    assert dave_sees(cloud, img)
    status, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                  img)
    assert warnings[0].startswith(
        'Image %s was left mid-transfer by run %s (started %s), which is '
        'gone before it checked the members the private image hid, who '
        'have their access back: finish it by re-running the interrupted '
        "command ('openstack image transfer %s --to %s" % (
            img, info['run'], info['started'], img, cloud.project('beta'))
    ), warnings
    # The re-run sees what the dead run had not checked: refused, and
    # private again, naming other/beta.
    res = cloud.run('alice-alpha', 'image', 'transfer', img, '--to-cloud',
                    'bob-beta', '-f', 'json')
    assert res.returncode == 1, res.stderr
    assert other_beta in res.stderr and 'private again' in res.stderr
    assert seen(cloud, img) == ('private', None, {other_beta: 'accepted'})
    assert not dave_sees(cloud, img)
    # Told what to do with other/beta, the run finishes.
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img,
                         '--to-cloud', 'bob-beta', '--revoke-earlier-members')
    assert seen(cloud, img) == ('shared', None,
                                {cloud.project('beta'): 'accepted'})
    assert not dave_sees(cloud, img)


def test_a_live_runs_label_is_left_alone(cloud):
    """A label naming a live run (this test's own process) stops a run."""
    img = cloud.make_image('alice-alpha')['id']
    from osc_imageshare.ops import stranded
    cloud.glance('alice-alpha').images.update(img, visibility='shared', **{
        LABEL: stranded.value([cloud.project('beta')])})
    res = cloud.run('alice-alpha', 'image', 'transfer', img, '--to-cloud',
                    'bob-beta', '-f', 'json')
    assert res.returncode == 1
    assert 'is being shared by another run' in res.stderr, res.stderr
    assert seen(cloud, img)[2] == {}
    assert seen(cloud, img)[1] is not None


def revoking(cloud, image_id, signum):
    """``share revoke --all --share-briefly``, signalled once shared.

    Returns the exit code, stderr and the rows printed.
    """
    proc = start(cloud, 'alice-alpha', '-v', 'image', 'share', 'revoke',
                 image_id, '--all', '--share-briefly', '-f', 'json')
    wait_line(proc, 'shared for as long as it takes to remove the members')
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err, json.loads(out) if out else []


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM,
                                    signal.SIGHUP])
def test_revoke_share_briefly_signalled_ends_private(cloud, hides_dave,
                                                     signum):
    img = hides_dave
    code, err, rows = revoking(cloud, img, signum)
    assert not [w for w in INTERNAL if w in err], err
    visibility, label, members = seen(cloud, img)
    assert (visibility, label) == ('private', None), err
    assert not dave_sees(cloud, img)
    if code == 1:
        assert 'Interrupted by %s while revoking the members of image %s' % (
            signal.Signals(signum).name, img) in err, err
        # The rows: the members it removed, as the sentence names them.
        removed = [r['Project ID'] for r in rows]
        assert {r['Result'] for r in rows} <= {'removed'}
        assert '(removed: %s)' % (', '.join(removed) or 'none') in err, err
    else:   # the signal came after the last removal
        assert code == 0 and members == {}, (code, err)
    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'revoke', img,
                         '--all', '--share-briefly')
    assert seen(cloud, img) == ('private', None, {})


def test_revoke_share_briefly_sigkill_then_status_and_rerun(cloud,
                                                            hides_dave):
    img = hides_dave
    code, err, _ = revoking(cloud, img, signal.SIGKILL)
    assert code == -signal.SIGKILL
    visibility, label, members = seen(cloud, img)
    if visibility == 'shared':
        # Killed mid-way: the label says so, status tells the command.
        assert json.loads(label)['op'] == 'revoke'
        _, warnings = cloud.json('alice-alpha', 'image', 'share', 'status',
                                 img)
        assert warnings[0].endswith(
            "died while revoking the members of the private image: they "
            "have their access back; finish it with 'openstack image share "
            "revoke %s --all --share-briefly'." % img), warnings
    cloud.json('alice-alpha', 'image', 'share', 'revoke', img, '--all',
               '--share-briefly')
    assert seen(cloud, img) == ('private', None, {})
    assert not dave_sees(cloud, img)


def state_of_cloud(cloud):
    with open(os.path.join(os.path.dirname(cloud.clouds_yaml),
                           'state.json')) as f:
        return json.load(f)


def restart(cloud):
    res = subprocess.run([sys.executable, LOCAL_CLOUD, 'start'])
    assert res.returncode == 0, 'the local cloud did not start again'


def killed_mid_batch(cloud, service, images):
    """Kill ``service`` once the first image is shared; the run's result."""
    pid = state_of_cloud(cloud)['%s_pid' % service]
    proc = start(cloud, 'alice-alpha', 'image', 'transfer', *images,
                 '--to-cloud', 'bob-beta', '-f', 'json', '--parallel', '1')
    try:
        shared_one(cloud, images)
        os.killpg(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    except BaseException:
        proc.kill()
        raise
    return proc.returncode, out, err


def test_glance_killed_mid_batch_names_what_it_left_and_a_rerun_finishes(
        cloud, privates):
    beta = cloud.project('beta')
    port = state_of_cloud(cloud)['glance_port']
    try:
        code, out, err = killed_mid_batch(cloud, 'glance', privates)
    finally:
        restart(cloud)
    assert code == 1, (out, err)
    assert not [w for w in INTERNAL if w in err], err
    assert 'by the Glance at http://127.0.0.1:%d' % port in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    # Each failure names its image; then the one summary.
    assert all(line.startswith('Image ') for line in lines[:-1]), lines
    assert lines[-1].startswith('Failed to transfer '), lines
    named = set(re.findall(r'Image (\S+) is left shared by this run', err))
    for i in privates:
        visibility, label, members = seen(cloud, i)
        done = ('private', {}), ('shared', {beta: 'accepted'})
        if (visibility, members) not in done:
            # Changed and not finished: the run said so, and why.
            assert i in named or i in re.findall(
                r'rolling back also failed .*? (\S+) %s' % beta, err), (
                    i, visibility, members, err)
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', *privates,
                         '--to-cloud', 'bob-beta')
    assert [r['Member Status'] for r in rows] == ['accepted'] * len(privates)
    for i in privates:
        assert seen(cloud, i) == ('shared', None, {beta: 'accepted'})


def test_share_wait_signalled_prints_the_rows_it_knew(cloud):
    img = cloud.make_image('carol-alpha')
    beta = cloud.project('beta')
    cloud.json('carol-alpha', 'image', 'transfer', img['id'], '--to', beta,
               '--no-accept')
    # INT (Python's own handler is not TERM's) and TERM; HUP takes the
    # same handler (unit tests: tests/unit/ops/test_waiting.py).
    for signum in (signal.SIGINT, signal.SIGTERM):
        proc = start(cloud, 'carol-alpha', '--debug', 'image', 'share',
                     'wait', img['id'], '--timeout', '120', '-f', 'json')
        # Polling: its first member list read (the signals are caught).
        wait_line(proc, '/members used request id')
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, (signum, out, err)
        assert not [w for w in INTERNAL if w in err], err
        assert err.splitlines()[-1] == (
            'Interrupted by %s after %s s waiting for image %s: project beta '
            '(%s) has not accepted it yet' % (
                signal.Signals(signum).name, re.search(
                    r'after (\d+) s', err).group(1), img['id'], beta)), err
        assert [(r['Image ID'], r['Project ID'], r['Project Name'],
                 r['Member Status']) for r in json.loads(out)] == [
            (img['id'], beta, 'beta', 'pending')]
    assert seen(cloud, img['id']) == ('shared', None, {beta: 'pending'})


@pytest.mark.parametrize('when', ['label', 'accept'])
def test_a_signal_after_the_last_pair_interrupts_nothing(
        cloud, proxy, when):  # noqa: F811
    # label: the run drops its label once every pair is done: Glance
    # answers that PATCH 503 with Retry-After, and the signal comes
    # meanwhile.  accept: the signal comes while the acceptance (the last
    # step of the only pair) is under way: it stops nothing either, and
    # the line does not say it came after the work.
    img = cloud.make_image('alice-alpha')['id']
    beta = cloud.project('beta')
    if when == 'label':
        proxy.fault('PATCH', r'^/v2/images/%s$' % img, nth=2, status=503,
                    body={'message': 'Busy'}, headers={'Retry-After': '2'})
        method, what = 'PATCH', 'answered 503'
    else:
        proxy.fault('PUT', r'/members/', delay=3)
        method, what = 'PUT', 'answered late'
    env = dict(cloud.env(), OS_CLIENT_CONFIG_FILE=proxy.clouds_yaml)
    proc = subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha-proxy',
         'image', 'transfer', img, '--to-cloud', 'bob-beta', '-f', 'json'],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True)
    wait_until(lambda: what in [
        w for _, _, w in proxy.requests(method, img)], what)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 0, (out, err)
    assert [(r['Project ID'], r['Member Status'], r['Changes'])
            for r in json.loads(out)] == [
        (beta, 'accepted', 'visibility private->shared, member added, '
                           'accepted')]
    assert lines[-1] == (
        'SIGTERM came too late to stop anything: every image/project pair '
        'ran to its end, none was interrupted'), lines
    assert not [line for line in lines if 'Interrupted' in line], lines
    assert seen(cloud, img) == ('shared', None, {beta: 'accepted'})
