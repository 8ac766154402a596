"""``image replicate`` on the local cloud: RegionOne to RegionTwo.

One copy at a time: two imports started at once into the local
RegionTwo Glance (on SQLite) may leave one never finishing (its task
stays 'processing'; copy mode's companions go one at a time for the same
reason).

Backups of one server (Nova's properties) in alice's project, replicated
to her own project in RegionTwo (``alice-alpha-r2``) and to bob's there
(``bob-beta-r2``); each test's server is its own, so its series is too.
"""

import io
import json
import os
import time
import uuid

import pytest

from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.plugin]

TARGETS = ('alice-alpha-r2', 'bob-beta-r2')
REPLICA_OF = 'imageshare_replica_of'
SOURCE_ID = 'imageshare_source_id'


def backups(cloud, server, count, first=0, **props):
    """``count`` daily backups of ``server``, created one after another."""
    made = []
    for n in range(first, first + count):
        if made:
            time.sleep(1.1)     # Glance's created_at counts seconds
        made.append(cloud.make_image(
            'alice-alpha', data=os.urandom(2048 + n),
            name='%s-backup-%d' % (server[:8], n), instance_uuid=server,
            backup_type='daily', image_type='backup', **props))
    return made


def replicas(cloud, target, server):
    """``{source ID: replica}`` of the server's backups at ``target``."""
    found = {}
    for img in cloud.glance(target).images.list(filters={
            REPLICA_OF: cloud.project('alpha') + '@RegionOne'}):
        if img.get('instance_uuid') == server:
            assert img[SOURCE_ID] not in found, 'two replicas of a source'
            found[img[SOURCE_ID]] = img
    return found


def state(cloud, server):
    """Every replica of the server's backups, as the targets hold them."""
    return {t: {k: (v['id'], v['updated_at'], v['status'])
                for k, v in replicas(cloud, t, server).items()}
            for t in TARGETS}


def replicate(cloud, server, *args, cloud_name='alice-alpha'):
    res = cloud.run(cloud_name, 'image', 'replicate', '--property',
                    'instance_uuid=' + server, '--to-cloud', TARGETS[0],
                    '--to-cloud', TARGETS[1], '--parallel', '1', '-f', 'json',
                    *args)
    rows = json.loads(res.stdout) if res.stdout.strip() else []
    return res.returncode, rows, stderr_lines(res)


def actions(rows):
    return sorted((r['Target'], r['Source ID'], r['Action']) for r in rows)


def test_keep_two_then_a_fourth_backup_rotates_the_oldest_out(cloud):
    server = str(uuid.uuid4())
    b0, b1, b2 = backups(cloud, server, 3)
    code, rows, err = replicate(cloud, server, '--check')
    assert code == 1
    assert [r['Status'] for r in rows] == ['missing', 'missing']
    assert err[-1] == ('2 of 2 series/target pairs are missing or lagging '
                       '(their rows say which)')
    code, rows, err = replicate(cloud, server, '--keep', '2')
    assert (code, err) == (0, [])
    assert actions(rows) == sorted(
        (t, b['id'], 'copied') for t in TARGETS for b in (b1, b2))
    assert rows[0]['Series'] == ('instance_uuid=%s,backup_type=daily'
                                 % server)
    for t in TARGETS:
        held = replicas(cloud, t, server)
        assert sorted(held) == sorted([b1['id'], b2['id']])
        for b in (b1, b2):
            r = held[b['id']]
            assert (r['status'], r['checksum'], r['size']) == (
                'active', b['checksum'], b['size'])
            assert r['imageshare_source_created'] == b['created_at']
    owners = {t: {r['owner'] for r in replicas(cloud, t, server).values()}
              for t in TARGETS}
    assert owners == {'alice-alpha-r2': {cloud.project('alpha')},
                      'bob-beta-r2': {cloud.project('beta')}}
    # Nothing to do: the check passes, and writes nothing.
    before = state(cloud, server)
    code, rows, err = replicate(cloud, server, '--check', '--max-lag',
                                '1d', '--keep', '2')
    assert (code, [r['Status'] for r in rows]) == (0, ['ok', 'ok'])
    assert state(cloud, server) == before
    # A fourth backup: copied, and the oldest replica deleted.
    b3, = backups(cloud, server, 1, first=3)
    code, rows, err = replicate(cloud, server, '--keep', '2', '--dry-run')
    assert code == 0
    assert actions(rows) == sorted(
        [(t, b3['id'], 'would copy') for t in TARGETS]
        + [(t, b2['id'], 'kept') for t in TARGETS]
        + [(t, b1['id'], 'would delete (retention)') for t in TARGETS])
    assert state(cloud, server) == before
    code, rows, err = replicate(cloud, server, '--keep', '2')
    assert (code, err) == (0, [])
    assert actions(rows) == sorted(
        [(t, b3['id'], 'copied') for t in TARGETS]
        + [(t, b2['id'], 'kept') for t in TARGETS]
        + [(t, b1['id'], 'deleted (retention)') for t in TARGETS])
    for t in TARGETS:
        assert sorted(replicas(cloud, t, server)) == sorted(
            [b2['id'], b3['id']])
    assert b0['id'] not in str(state(cloud, server))
    # A narrower selection (b2 alone, by ID) with --keep 1: b3's replica,
    # of a newer backup it does not select, is not its to delete.
    before = state(cloud, server)
    res = cloud.run('alice-alpha', 'image', 'replicate', b2['id'],
                    '--to-cloud', TARGETS[0], '--to-cloud', TARGETS[1],
                    '--parallel', '1', '--keep', '1', '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert actions(json.loads(res.stdout)) == sorted(
        (t, b2['id'], 'kept') for t in TARGETS)
    assert state(cloud, server) == before


def test_a_named_image_and_a_project_target(cloud):
    src = cloud.make_image('carol-alpha', data=os.urandom(3000),
                           name='web-%s' % uuid.uuid4().hex[:8])
    rows, err = cloud.json('carol-alpha', 'image', 'replicate', src['name'],
                           '--to', 'beta', '--keep', '1')
    [row] = rows
    assert (row['Series'], row['Target'], row['Source ID'],
            row['Action']) == ('name=' + src['name'],
                               'beta (%s)' % cloud.project('beta'),
                               src['id'], 'copied')
    copy = cloud.glance('bob-beta').images.get(row['Replica ID'])
    assert (copy['owner'], copy['checksum'], copy[REPLICA_OF]) == (
        cloud.project('beta'), src['checksum'],
        cloud.project('alpha') + '@RegionOne')
    again, _ = cloud.json('carol-alpha', 'image', 'replicate', src['name'],
                          '--to', 'beta', '--keep', '1')
    assert [(r['Replica ID'], r['Action']) for r in again] == [
        (copy['id'], 'kept')]
    # bob's project by --to and, in RegionTwo, by --to-cloud: which Glance?
    res = cloud.run('carol-alpha', 'image', 'replicate', src['name'],
                    '--to', 'beta', '--to-cloud', 'bob-beta-r2', '-f', 'json')
    assert (res.returncode, res.stdout, stderr_lines(res)) == (1, '', [
        "Project beta (%s) is named by --to and by cloud 'bob-beta-r2' "
        "(--to-cloud): give one of them (--to copies into this command's "
        "Glance, the entry into its own region's); to copy into both, run "
        "once per target" % cloud.project('beta')])
    assert not list(cloud.glance('bob-beta-r2').images.list(
        filters={SOURCE_ID: src['id']}))


def test_backups_booting_with_a_kernel_and_ramdisk_bring_them(cloud):
    server = str(uuid.uuid4())
    kernel = cloud.make_image('alice-alpha', data=os.urandom(1500),
                              name='vmlinuz-' + server[:8])
    ramdisk = cloud.make_image('alice-alpha', data=os.urandom(1700),
                               name='initrd-' + server[:8])
    boots = dict(kernel_id=kernel['id'], ramdisk_id=ramdisk['id'])
    b0, b1 = backups(cloud, server, 2, **boots)
    code, rows, err = replicate(cloud, server, '--keep', '1', '--dry-run')
    assert (code, [e.split(':')[0] for e in err]) == (
        0, ['2 image(s) match --property instance_uuid=' + server])
    planned = sorted(
        [(t, c['id'], 'would copy (companion)') for t in TARGETS
         for c in (kernel, ramdisk)]
        + [(t, b1['id'], 'would copy') for t in TARGETS])
    assert actions(rows) == planned
    code, rows, err = replicate(cloud, server, '--keep', '1')
    assert (code, err) == (0, [])
    assert actions(rows) == sorted(
        (t, i, a.replace('would copy', 'copied')) for t, i, a in planned)
    copies = {(r['Target'], r['Source ID']): r['Replica ID'] for r in rows}
    for t in TARGETS:
        glance = cloud.glance(t)
        replica = replicas(cloud, t, server)[b1['id']]
        # The replica boots with the target's copies of its companions.
        assert (replica['kernel_id'], replica['ramdisk_id']) == (
            copies[t, kernel['id']], copies[t, ramdisk['id']])
        for c in (kernel, ramdisk):
            got = glance.images.get(copies[t, c['id']])
            assert (got['status'], got['checksum'], got['owner'],
                    got.get(REPLICA_OF)) == (
                'active', c['checksum'], replica['owner'], None)
    # A new backup: copied with the same companions' copies, the oldest
    # replica rotated out, the companions' copies kept.
    b2, = backups(cloud, server, 1, first=2, **boots)
    code, rows, err = replicate(cloud, server, '--keep', '1')
    assert (code, err) == (0, [])
    assert actions(rows) == sorted(
        [(t, b2['id'], 'copied') for t in TARGETS]
        + [(t, b1['id'], 'deleted (retention)') for t in TARGETS])
    for t in TARGETS:
        replica = replicas(cloud, t, server)[b2['id']]
        assert (replica['kernel_id'], replica['ramdisk_id']) == (
            copies[t, kernel['id']], copies[t, ramdisk['id']])
        assert cloud.glance(t).images.get(copies[t, kernel['id']])[
            'status'] == 'active'


def plant(cloud, target, labels_of, data=b'not the backup' * 100):
    """An image the target project makes itself, with replica labels."""
    glance = cloud.glance(target)
    keys = [k for k in labels_of if k.startswith('imageshare_')] + [
        'instance_uuid', 'backup_type', 'image_type']
    image = glance.images.create(
        name='look-alike', disk_format='raw', container_format='bare',
        **{k: labels_of[k] for k in keys if k in labels_of})
    # RegionTwo takes imports only (local-cloud).
    glance.images.stage(image['id'], io.BytesIO(data), len(data))
    glance.images.image_import(image['id'], 'glance-direct')
    for _ in range(100):
        image = glance.images.get(image['id'])
        if image['status'] == 'active':
            return image
        time.sleep(0.2)
    raise AssertionError('the look-alike did not become active')


def test_protected_gone_source_and_lookalike_under_retention(cloud):
    server = str(uuid.uuid4())
    b0, b1, b2 = backups(cloud, server, 3)
    code, rows, err = replicate(cloud, server, '--keep', '3')
    assert (code, len(rows)) == (0, 6)
    mine = replicas(cloud, 'alice-alpha-r2', server)[b0['id']]
    cloud.glance('alice-alpha-r2').images.update(mine['id'], protected=True)
    cloud.glance('alice-alpha').images.delete(b1['id'])
    theirs = replicas(cloud, 'bob-beta-r2', server)[b0['id']]
    fake = plant(cloud, 'bob-beta-r2', dict(
        theirs, imageshare_source_created='2099-01-01T00:00:00Z'))
    code, rows, err = replicate(cloud, server, '--keep', '2')
    assert code == 0
    assert actions(rows) == sorted(
        [(t, b2['id'], 'kept') for t in TARGETS]
        + [(t, b1['id'], 'kept') for t in TARGETS]
        + [('alice-alpha-r2', b0['id'], 'protected, kept'),
           ('bob-beta-r2', b0['id'], 'deleted (retention)')])
    assert len(err) == 2
    assert ("Replica %s of image %s in project" % (mine['id'], b0['id'])
            in err[0] or mine['id'] in err[1])
    assert any(fake['id'] in line and 'not counted, never deleted' in line
               for line in err)
    held = {t: sorted(replicas(cloud, t, server)) for t in TARGETS}
    assert held['alice-alpha-r2'] == sorted([b0['id'], b1['id'], b2['id']])
    assert cloud.glance('bob-beta-r2').images.get(fake['id'])['status'] \
        == 'active'
    # The check: the protected one is beyond --keep (stale), not failing.
    code, rows, _ = replicate(cloud, server, '--check', '--keep', '2')
    assert (code, sorted((r['Target'], r['Status']) for r in rows)) == (
        0, [('alice-alpha-r2', 'stale-replicas'), ('bob-beta-r2', 'ok')])
    time.sleep(2)
    code, rows, err = replicate(cloud, server, '--check', '--max-lag', '1s')
    assert (code, [r['Status'] for r in rows]) == (1, ['lagging'] * 2)
    # A new backup with --keep 1: the replica of the deleted source goes.
    b3, = backups(cloud, server, 1, first=3)
    code, rows, err = replicate(cloud, server, '--keep', '1')
    assert code == 0
    assert actions(rows) == sorted(
        [(t, b3['id'], 'copied') for t in TARGETS]
        + [(t, b, 'deleted (retention)') for t in TARGETS
           for b in (b2['id'], b1['id'])]
        + [('alice-alpha-r2', b0['id'], 'protected, kept')])
    assert cloud.glance('bob-beta-r2').images.get(fake['id'])['status'] \
        == 'active'
    cloud.glance('alice-alpha-r2').images.update(mine['id'], protected=False)


def test_a_reader_target_is_told_by_the_dry_run_and_refused_by_the_run(cloud):
    src = cloud.make_image('alice-alpha', data=os.urandom(1000),
                           name='web-%s' % uuid.uuid4().hex[:8])
    cmd = ['image', 'replicate', src['id'], '--to-cloud', 'rita-beta',
           '-f', 'json']
    dry = cloud.run('alice-alpha', *cmd, '--dry-run')
    assert dry.returncode == 0, dry.stderr
    assert [r['Action'] for r in json.loads(dry.stdout)] == ['would copy']
    assert stderr_lines(dry) == [
        "The run in rita-beta would act as project beta with the role "
        "reader: Glance's default policies refuse it to create images (its "
        "add_image policy), so unless this cloud's policy allows it, that "
        "would fail; ask for the member role there, or use credentials that "
        "have it"]
    run = cloud.run('alice-alpha', *cmd)
    assert (run.returncode, run.stdout) == (1, '')
    assert "Your role in project beta is reader" in run.stderr
    assert not list(cloud.glance('bob-beta').images.list(
        filters={SOURCE_ID: src['id']}))


def test_one_project_in_two_regions_is_two_targets(cloud):
    src = cloud.make_image('carol-alpha', data=os.urandom(1200),
                           name='app-%s' % uuid.uuid4().hex[:8])
    rows, _ = cloud.json('carol-alpha', 'image', 'replicate', src['id'],
                         '--to-cloud', 'bob-beta', '--to-cloud',
                         'bob-beta-r2', '--parallel', '1')
    assert sorted((r['Target'], r['Action']) for r in rows) == [
        ('bob-beta', 'copied'), ('bob-beta-r2', 'copied')]
    for target in ('bob-beta', 'bob-beta-r2'):
        [copy] = cloud.glance(target).images.list(
            filters={SOURCE_ID: src['id']})
        assert (copy['owner'], copy['checksum']) == (
            cloud.project('beta'), src['checksum'])


def test_a_kernel_selected_and_a_companion_at_the_default_parallel(cloud):
    # Its replica and its companion's plain copy are made at once, by two
    # threads of one run: neither takes the other for an orphan.
    tag = 'k-%s' % uuid.uuid4().hex[:8]
    kernel = cloud.make_image('alice-alpha', data=os.urandom(3000),
                              name='vmlinuz-' + tag, tags=[tag])
    app = cloud.make_image('alice-alpha', data=os.urandom(2000),
                           name='app-' + tag, tags=[tag],
                           kernel_id=kernel['id'])
    rows, _ = cloud.json('alice-alpha', 'image', 'replicate', '--tag', tag,
                         '--to-cloud', 'bob-beta', '--keep', '1')
    assert sorted((r['Source ID'], r['Action']) for r in rows) == sorted([
        (kernel['id'], 'copied'), (kernel['id'], 'copied (companion)'),
        (app['id'], 'copied')])
    made = {r['Action']: r['Replica ID'] for r in rows}
    glance = cloud.glance('bob-beta')
    replica = glance.images.get(made['copied (companion)'])
    assert (replica['status'], replica.get(REPLICA_OF)) == ('active', None)
    [app_copy] = [r['Replica ID'] for r in rows if r['Source ID'] == app['id']]
    assert glance.images.get(app_copy)['kernel_id'] == replica['id']
    for r in rows:
        assert glance.images.get(r['Replica ID'])['status'] == 'active'
