"""INT, TERM and HUP during the write commands beside ``image transfer``.

``image share set --prune``, ``image share revoke --all --unshare`` and
``image share audit --fix`` each stop as the transfer modes do: the
removal under way ends, none more is started, the rows of what was done
are printed, the last line on stderr says what was done and what not,
exit code 1; a re-run finishes.  The signal is sent while Glance holds the
answer to the first removal (a loopback proxy delays it), so the run is
mid-way whatever the machine's speed.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from tests.functional.conftest import BIN
from tests.functional.conftest import unique
from tests.functional.test_retries import proxy  # noqa: F401 (fixture)

pytestmark = [pytest.mark.concurrency]

HOLD = 6    # seconds the proxy holds the first removal's answer
OTHERS = ['imageshare-test-%d' % n for n in range(3)]


def image(cloud, member_ids):
    """An active image of alice's, shared with ``member_ids`` (pending)."""
    img = cloud.make_image('alice-alpha', visibility='shared')
    glance = cloud.glance('alice-alpha')
    for m in member_ids:
        glance.image_members.create(img['id'], m)
    return img


def members(cloud, image_id):
    return sorted(m['member_id'] for m in
                  cloud.glance('admin').image_members.list(image_id))


def interrupt(cloud, proxy, image_id, signum, *args,   # noqa: F811
              entry='alice-alpha', method='DELETE', path='/members/[^/?]+',
              code=1):
    """Run ``openstack ARGS`` via the proxy; signal it mid-write.

    The write: the first ``method`` request on ``path`` under the image.
    Returns the rows printed (None: nothing on stdout) and stderr's lines.
    """
    pattern = r'^/v2/images/%s%s' % (image_id, path)
    proxy.fault(method, pattern, delay=HOLD)
    env = dict(cloud.env(), OS_CLIENT_CONFIG_FILE=proxy.clouds_yaml)
    proc = subprocess.Popen(
        [os.path.join(BIN, 'openstack'), '--os-cloud', entry + '-proxy']
        + list(args) + ['-f', 'json'], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    while not proxy.requests(method, pattern):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, 'the write was never sent'
        time.sleep(0.02)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, (proc.returncode, out, err)
    return json.loads(out) if out else None, err.splitlines()


def test_share_set_prune_sigterm_stops_revoking(cloud, proxy):  # noqa: F811
    beta = cloud.project('beta')
    img = image(cloud, OTHERS)
    rows, lines = interrupt(cloud, proxy, img['id'], signal.SIGTERM,
                            'image', 'share', 'set', img['id'], '--member',
                            beta, '--prune', '--parallel', '1')
    assert lines[-1] == (
        'Interrupted by SIGTERM: of 3 member(s) not listed, 1 revoked, 0 '
        'failed, 2 not started (still members); run the command again to '
        'revoke them'), lines
    [gone] = [r['Project ID'] for r in rows if r['Diff'] == 'revoked']
    left = sorted(set(OTHERS) - {gone})
    assert ['Image %s, project %s: revoke not started (interrupted by '
            'SIGTERM)' % (img['id'], m) for m in left] == [
        line for line in lines if 'revoke not started' in line]
    assert members(cloud, img['id']) == sorted(left + [beta])
    # The re-run finishes it.
    res = cloud.run('alice-alpha', 'image', 'share', 'set', img['id'],
                    '--member', beta, '--prune', '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert members(cloud, img['id']) == [beta]


def test_revoke_all_unshare_sigint_says_what_is_left(cloud,
                                                     proxy):  # noqa: F811
    img = image(cloud, OTHERS)
    rows, lines = interrupt(cloud, proxy, img['id'], signal.SIGINT,
                            'image', 'share', 'revoke', img['id'], '--all',
                            '--unshare')
    assert [r['Result'] for r in rows] == ['removed']
    assert lines[-1] == (
        'Interrupted by SIGINT: of 3 project(s), 1 removed, 0 failed, 2 not '
        'started (still members); image %s stays shared (--unshare not '
        'started); run the command again to finish' % img['id']), lines
    assert len(members(cloud, img['id'])) == 2
    admin = cloud.glance('admin')
    assert admin.images.get(img['id'])['visibility'] == 'shared'
    res = cloud.run('alice-alpha', 'image', 'share', 'revoke', img['id'],
                    '--all', '--unshare', '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert admin.images.get(img['id'])['visibility'] == 'private'


def test_revoke_signalled_during_the_unshare_came_too_late(
        cloud, proxy):  # noqa: F811
    # Every removal done, the image being made private: nothing is left
    # to stop; the run ends as it would have, and says so.
    img = image(cloud, OTHERS[:1])
    rows, lines = interrupt(cloud, proxy, img['id'], signal.SIGTERM,
                            'image', 'share', 'revoke', img['id'], '--all',
                            '--unshare', method='PATCH', path='$', code=0)
    assert [r['Result'] for r in rows] == ['removed',
                                           'visibility shared->private']
    assert lines[-1] == ('SIGTERM came too late to stop anything: every '
                         'removal had ended'), lines
    assert cloud.glance('admin').images.get(img['id'])[
        'visibility'] == 'private'


def test_audit_fix_sighup_counts_what_it_removed(cloud, proxy):  # noqa: F811
    img = image(cloud, OTHERS)
    rows, lines = interrupt(cloud, proxy, img['id'], signal.SIGHUP,
                            'image', 'share', 'audit', '--fix', '--parallel',
                            '1')
    # alice's other images may have fixes too: count, do not assume.
    m = re.fullmatch(r'Interrupted by SIGHUP: of (\d+) fix\(es\), (\d+) '
                     r'done, 0 failed, (\d+) not started; run the command '
                     r'again to finish \(the audit finds what is left\)',
                     lines[-1])
    assert m, lines
    total, done, idle = map(int, m.groups())
    assert (done + idle, done) == (total, len(rows))
    mine = [r['Member'] for r in rows if r['Image ID'] == img['id']]
    # Its first removal was under way: done; its two others not started.
    assert len(mine) == 1 and idle >= 2, (rows, lines)
    assert members(cloud, img['id']) == sorted(set(OTHERS) - set(mine))
    # The re-run finishes it (what other images of alice's it cannot fix
    # is theirs: nothing of this image fails).
    res = cloud.run('alice-alpha', 'image', 'share', 'audit', '--fix',
                    '-f', 'json')
    assert img['id'] not in res.stderr, res.stderr
    assert sorted(r['Member'] for r in json.loads(res.stdout)
                  if r['Image ID'] == img['id']) == sorted(
                      set(OTHERS) - set(mine))
    assert members(cloud, img['id']) == []


def test_owner_mode_at_parallel_1_sigterm_finishes_the_change(
        cloud, proxy):  # noqa: F811
    ids = [cloud.make_image('alice-alpha')['id'] for _ in range(3)]
    alpha, beta = cloud.project('alpha'), cloud.project('beta')
    args = ['image', 'transfer'] + ids + ['--mode', 'owner', '--to', beta,
                                          '--parallel', '1']
    rows, lines = interrupt(cloud, proxy, ids[0], signal.SIGTERM, *args,
                            entry='admin', method='PATCH', path='$')
    assert [(r['Image ID'], r['Project ID']) for r in rows] == [
        (ids[0], beta)], rows
    assert lines[-3:] == [
        'Image %s: owner not changed (not started)' % ids[1],
        'Image %s: owner not changed (not started)' % ids[2],
        'Interrupted by SIGTERM: of 3 image/project pairs, 1 changed owner '
        '(kept), 0 failed, 0 interrupted (none: a change under way '
        'finishes), 2 not started'], lines
    admin = cloud.glance('admin')
    assert [admin.images.get(i)['owner'] for i in ids] == [beta, alpha,
                                                           alpha]
    # The re-run finishes it.
    res = cloud.run('admin', *args, '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert [admin.images.get(i)['owner'] for i in ids] == [beta] * 3


def test_share_set_of_several_images_sigterm_starts_no_other(
        cloud, proxy):  # noqa: F811
    tag = unique('sig')
    # The selection lists them by name: a- first.
    first, second = (cloud.make_image('alice-alpha', visibility='shared',
                                      tags=[tag], name='%s-%s' % (n, tag))[
                                          'id'] for n in ('a', 'b'))
    beta = cloud.project('beta')
    rows, lines = interrupt(cloud, proxy, first, signal.SIGTERM, 'image',
                            'share', 'set', '--tag', tag, '--member', beta,
                            '--no-accept', method='POST', path='/members$')
    assert [(r['Image ID'], r['Project ID'], r['Diff']) for r in rows] == [
        (first, beta, 'added')], (rows, lines)
    assert lines[-1] == (
        'Interrupted by SIGTERM: of 2 image(s), 0 done, 1 interrupted (%s), '
        '1 not started (%s); run the command again to finish' % (
            first, second)), lines
    assert members(cloud, second) == []
    res = cloud.run('alice-alpha', 'image', 'share', 'set', '--tag', tag,
                    '--member', beta, '--no-accept', '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert [members(cloud, i) for i in (first, second)] == [[beta], [beta]]


def test_share_apply_sigterm_starts_no_other_image_and_a_rerun_finishes(
        cloud, proxy, tmp_path):  # noqa: F811
    tag = unique('sig')
    first, second = (cloud.make_image('alice-alpha', visibility='shared',
                                      tags=[tag], name='%s-%s' % (n, tag))[
                                          'id'] for n in ('a', 'b'))
    beta = cloud.project('beta')
    path = tmp_path / 'policy.yaml'
    path.write_text('rules:\n  - images: {tag: %s}\n    projects: [%s]\n'
                    '    accept: false\n' % (tag, beta))
    rows, lines = interrupt(cloud, proxy, first, signal.SIGTERM, 'image',
                            'share', 'apply', str(path), method='POST',
                            path='/members$')
    assert [(r['Image ID'], r['Project ID'], r['Diff']) for r in rows] == [
        (first, beta, 'added')], (rows, lines)
    assert lines[-1] == (
        'Interrupted by SIGTERM: of 2 image(s), 0 done, 1 interrupted (%s), '
        '1 not started (%s); run the command again to finish' % (
            first, second)), lines
    assert members(cloud, second) == []
    res = cloud.run('alice-alpha', 'image', 'share', 'apply', str(path),
                    '--check', '-f', 'json')
    assert res.returncode == 1, res.stderr
    assert [(r['Image ID'], r['Diff']) for r in json.loads(res.stdout)] == [
        (second, 'plan: added')]
    res = cloud.run('alice-alpha', 'image', 'share', 'apply', str(path),
                    '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert [members(cloud, i) for i in (first, second)] == [[beta], [beta]]


def test_a_signal_while_apply_plans_changes_nothing(
        cloud, proxy, tmp_path):  # noqa: F811
    # Its reads run in the main thread (--parallel 1): no batch catches the
    # signal there, the command does.
    img = cloud.make_image('alice-alpha', visibility='shared')['id']
    beta = cloud.project('beta')
    path = tmp_path / 'policy.yaml'
    path.write_text('rules:\n  - images: {names: [%s]}\n    projects: [%s]\n'
                    % (img, beta))
    rows, lines = interrupt(cloud, proxy, img, signal.SIGTERM, 'image',
                            'share', 'apply', str(path), '--parallel', '1',
                            method='GET', path='/members$')
    assert (rows, lines[-1]) == (
        None, 'Interrupted by SIGTERM before anything was changed'), lines
    assert members(cloud, img) == []
