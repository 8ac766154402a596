"""``openstack image share audit`` against the real local cloud.

Each risk is made for real: a member that is a project name, a project
made a member then deleted, a disabled project, an accepted unprotected
image, a pending member (``--pending-days 0``), an owner project disabled
then deleted.  Other tests leave images behind: every check keeps the rows
of the images this test made.  Projects and users made here are removed.
"""

import contextlib
import copy
import csv
import io
import json
import os
import re
import shlex
import urllib.parse

import pytest
import yaml

from osc_imageshare.ops import messages
from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique
from tests.functional.glance_proxy import GlanceProxy

pytestmark = [pytest.mark.policy]

IMAGE = {'service_type': 'image', 'interface': 'public',
         'region_name': 'RegionOne'}
IDENTITY = {'service_type': 'identity', 'interface': 'public'}


class Keystone:
    """The admin's Keystone API: projects and users made, then removed."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.session = cloud.session('admin')
        self.made = []

    def call(self, method, url, **kw):
        return self.session.request(url, method, endpoint_filter=IDENTITY,
                                    **kw)

    def project(self, enabled=True):
        p = self.call('POST', '/projects', json={'project': {
            'name': unique('audit'), 'domain_id': 'default',
            'enabled': enabled}}).json()['project']
        self.made.append('/projects/%s' % p['id'])
        return p

    def set_enabled(self, project_id, enabled):
        self.call('PATCH', '/projects/%s' % project_id,
                  json={'project': {'enabled': enabled}})

    def delete(self, url):
        self.call('DELETE', url, raise_exc=False)
        if url in self.made:
            self.made.remove(url)

    def user_in(self, project, tmp_path):
        """A member user of ``project``; a Cloud whose 'owner' entry is it."""
        password = unique('pw')
        user = self.call('POST', '/users', json={'user': {
            'name': unique('audit'), 'domain_id': 'default',
            'password': password}}).json()['user']
        self.made.insert(0, '/users/%s' % user['id'])
        role = self.call('GET', '/roles', params={'name': 'member'}).json()[
            'roles'][0]
        self.call('PUT', '/projects/%s/users/%s/roles/%s'
                  % (project['id'], user['id'], role['id']))
        with open(self.cloud.clouds_yaml) as f:
            config = yaml.safe_load(f)
        entry = copy.deepcopy(config['clouds']['alice-alpha'])
        entry['auth'].update(username=user['name'], password=password,
                             project_name=project['name'])
        config['clouds']['owner'] = entry
        path = os.path.join(str(tmp_path), 'clouds.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump(config, f)
        other = copy.copy(self.cloud)
        other.clouds_yaml, other._sessions = path, {}
        return other

    def clean(self):
        for url in list(self.made):
            self.delete(url)


@pytest.fixture
def keystone(cloud):
    ks = Keystone(cloud)
    try:
        yield ks
    finally:
        ks.clean()


def image(cloud, who, members=(), **props):
    """A queued shared image of ``who`` with ``members`` (IDs or names)."""
    sess = cloud.session(who)
    img = sess.post('/v2/images', endpoint_filter=IMAGE, json=dict(
        name=unique('audit'), visibility='shared', disk_format='raw',
        container_format='bare', **props)).json()
    for m in members:
        sess.post('/v2/images/%s/members' % img['id'], endpoint_filter=IMAGE,
                  json={'member': m})
    return img


def accept(cloud, who, image_id, project_id):
    cloud.session(who).put('/v2/images/%s/members/%s'
                           % (image_id, project_id), endpoint_filter=IMAGE,
                           json={'status': 'accepted'})


def members(cloud, image_id):
    """The member IDs of an image, as the admin reads them."""
    got = cloud.session('admin').get('/v2/images/%s/members' % image_id,
                                     endpoint_filter=IMAGE).json()
    return sorted(m['member_id'] for m in got['members'])


UNVERIFIED = []    # the last audit's line on the members it cannot verify


def audit(cloud, who, imgs, *args):
    """(image, member, risk) of the audit's rows for ``imgs`` only."""
    rows, warnings = cloud.json(who, 'image', 'share', 'audit', *args)
    unverified = [w for w in warnings if 'could not be verified' in w]
    assert len(unverified) <= 1, unverified     # one line, if any
    UNVERIFIED[:] = unverified
    ids = {i['id'] for i in imgs}
    mine = [r for r in rows if r['Image ID'] in ids]
    return {(r['Image ID'], r['Member'], r['Risk']) for r in mine}, mine


def test_each_risk_as_owner_and_as_admin(cloud, keystone):
    beta = cloud.project('beta')
    gone, off = keystone.project(), keystone.project(enabled=False)
    a = image(cloud, 'alice-alpha', [beta, 'beta', gone['id'], off['id']])
    b = image(cloud, 'alice-alpha', [beta])                 # pending
    hidden = image(cloud, 'alice-alpha', ['beta'], os_hidden=True)
    accept(cloud, 'bob-beta', a['id'], beta)
    keystone.delete('/projects/%s' % gone['id'])
    imgs = [a, b, hidden]
    # Alice may not read other projects: the IDs that did not answer are
    # unverifiable, one line on stderr, rows only with --risk unverifiable
    # (beta accepted: it was a project when it answered).  A member that is
    # no project ('beta' the name) is not told to accept: no stale-pending.
    got, rows = audit(cloud, 'alice-alpha', imgs, '--pending-days', '0')
    assert got == {
        (a['id'], 'beta', 'not-a-project'),
        (a['id'], beta, 'unprotected'),
        (a['id'], gone['id'], 'stale-pending'),
        (a['id'], off['id'], 'stale-pending'),
        (b['id'], beta, 'stale-pending'),
        (hidden['id'], 'beta', 'not-a-project')}
    assert re.match(
        r"^\d+ member\(s\) could not be verified \(Keystone does not let "
        r"project alpha read other projects\): an admin verifies them with "
        r"'openstack image share audit --project %s'; list them with "
        r"--risk unverifiable$" % cloud.project('alpha'), UNVERIFIED[0])
    got, _ = audit(cloud, 'alice-alpha', imgs, '--risk', 'unverifiable')
    assert got == {(a['id'], gone['id'], 'unverifiable'),
                   (a['id'], off['id'], 'unverifiable'),
                   (b['id'], beta, 'unverifiable')}
    keys = [(r['Image ID'], r['Member']) for r in rows]
    assert keys == sorted(keys)
    assert list(rows[0]) == ['Image ID', 'Image Name', 'Owner', 'Member',
                             'Member Name', 'Status', 'Risk', 'Detail']
    unprotected = [r for r in rows if r['Risk'] == 'unprotected'][0]
    assert unprotected['Detail'] == (
        "Image %s is not protected and 1 project(s) have accepted it: the "
        "owner can delete it by accident; protect it with 'openstack image "
        "set --protected %s'." % (a['id'], a['id']))
    # The admin tells them apart; the default --pending-days (30) holds.
    got, rows = audit(cloud, 'admin', imgs, '--all-projects')
    assert got == {
        (a['id'], 'beta', 'not-a-project'),
        (a['id'], beta, 'unprotected'),
        (a['id'], gone['id'], 'project-deleted'),
        (a['id'], off['id'], 'project-disabled'),
        (hidden['id'], 'beta', 'not-a-project')}
    assert {r['Member Name'] for r in rows if r['Member'] == off['id']} \
        == {off['name']}
    got, _ = audit(cloud, 'admin', imgs, '--all-projects', '--risk',
                   'project-deleted', '--risk', 'project-disabled')
    assert got == {(a['id'], gone['id'], 'project-deleted'),
                   (a['id'], off['id'], 'project-disabled')}
    got, rows = audit(cloud, 'admin', imgs, '--all-projects', '--all')
    assert (b['id'], beta, 'none') in got
    assert [r['Detail'] for r in rows if r['Risk'] == 'none'] == ['']


def test_incoming_sees_own_membership_hidden_images_included(cloud):
    beta, alpha = cloud.project('beta'), cloud.project('alpha')
    a = image(cloud, 'alice-alpha', [beta, 'beta'])
    hidden = image(cloud, 'alice-alpha', [beta], os_hidden=True)
    accept(cloud, 'bob-beta', hidden['id'], beta)
    got, rows = audit(cloud, 'bob-beta', [a, hidden], '--incoming', '--all')
    assert got == {(a['id'], beta, 'none'),
                   (hidden['id'], beta, 'unprotected')}
    assert [r['Owner'] for r in rows] == [alpha, alpha]
    assert [r['Detail'] for r in rows if r['Risk'] == 'unprotected'] == [
        "Image %s is not protected and your project beta (%s) has accepted "
        "it: the owner can delete it by accident (Glance shows a member "
        "only its own membership: other projects may use it too); ask "
        "project %s to protect it." % (hidden['id'], beta, alpha)]
    got, _ = audit(cloud, 'bob-beta', [a, hidden], '--incoming',
                   '--pending-days', '0')
    assert got == {(a['id'], beta, 'stale-pending'),
                   (hidden['id'], beta, 'unprotected')}
    # Alice's own view of them has no incoming rows.
    got, _ = audit(cloud, 'alice-alpha', [a, hidden], '--incoming', '--all')
    assert got == set()


def test_admin_project_scope_by_name_both_sides(cloud):
    beta = cloud.project('beta')
    a = image(cloud, 'alice-alpha', [beta, 'typo'])
    got, _ = audit(cloud, 'admin', [a], '--project', 'alpha',
                   '--project-domain', 'Default', '--all')
    assert got == {(a['id'], beta, 'none'),
                   (a['id'], 'typo', 'not-a-project')}
    got, _ = audit(cloud, 'admin', [a], '--project', 'beta',
                   '--project-domain', 'Default', '--incoming', '--all')
    assert got == {(a['id'], beta, 'none')}
    got, _ = audit(cloud, 'admin', [a], '--project', 'beta',
                   '--project-domain', 'Default', '--all')
    assert got == set()


def test_owner_disabled_then_gone_seen_by_admin(cloud, keystone, tmp_path):
    beta = cloud.project('beta')
    project = keystone.project()
    owner = keystone.user_in(project, tmp_path)
    img = image(owner, 'owner', [beta])
    try:
        keystone.set_enabled(project['id'], False)
        got, rows = audit(cloud, 'admin', [img], '--all-projects')
        assert got == {(img['id'], beta, 'owner-disabled')}
        assert rows[0]['Detail'].startswith(
            'The owner project %s (%s) of image %s is disabled'
            % (project['name'], project['id'], img['id']))
        keystone.delete('/projects/%s' % project['id'])
        got, rows = audit(cloud, 'admin', [img], '--project', project['id'])
        assert got == {(img['id'], beta, 'owner-gone')}
        # Its commands run as printed: the admin gives the image to beta.
        argv = [a for _, a in commands_of([rows[0]['Detail']])]
        assert argv == [
            ['openstack', 'image', 'transfer', img['id'], '--mode', 'owner',
             '--to', beta],
            ['openstack', 'image', 'transfer', img['id'], '--mode', 'copy',
             '--to', beta]]
        res = cloud.run('admin', *argv[0][1:])
        assert res.returncode == 0, res.stderr
        assert cloud.glance('admin').images.get(img['id'])['owner'] == beta
    finally:
        cloud.session('admin').delete('/v2/images/%s' % img['id'],
                                      endpoint_filter=IMAGE)


def test_fix_dry_run_fix_and_protect(cloud, keystone, tmp_path):
    beta = cloud.project('beta')
    gone, off = keystone.project(), keystone.project(enabled=False)
    project = keystone.project()
    owner = keystone.user_in(project, tmp_path)
    dead = sorted(['beta', gone['id']])
    a = image(owner, 'owner', [beta, 'beta', gone['id'], off['id']])
    accept(cloud, 'bob-beta', a['id'], beta)
    keystone.delete('/projects/%s' % gone['id'])
    before = members(cloud, a['id'])
    try:
        res = cloud.run('admin', 'image', 'share', 'audit', '--project',
                        project['id'], '--fix', '--dry-run', '-f', 'csv')
        assert res.returncode == 0, res.stderr
        rows = list(csv.DictReader(io.StringIO(res.stdout)))
        assert [(r['Member'], r['Risk'], r['Fixed']) for r in rows] == [
            (dead[0], 'not-a-project' if dead[0] == 'beta'
             else 'project-deleted', 'would remove'),
            (dead[1], 'not-a-project' if dead[1] == 'beta'
             else 'project-deleted', 'would remove')]
        assert members(cloud, a['id']) == before
        fixed, _ = cloud.json('admin', 'image', 'share', 'audit',
                              '--project', project['id'], '--fix')
        assert sorted((r['Member'], r['Fixed']) for r in fixed) == [
            (m, 'removed') for m in dead]
        assert members(cloud, a['id']) == sorted([beta, off['id']])
        # The owner itself protects its image; the members stay.
        fixed, _ = owner.json('owner', 'image', 'share', 'audit', '--fix',
                              '--protect')
        assert [(r['Image ID'], r['Member'], r['Risk'], r['Fixed'])
                for r in fixed] == [(a['id'], None, 'unprotected',
                                     'protected')]
        assert cloud.glance('admin').images.get(a['id'])['protected']
        assert members(cloud, a['id']) == sorted([beta, off['id']])
        again, _ = owner.json('owner', 'image', 'share', 'audit', '--fix',
                              '--protect')
        assert again == []
    finally:
        admin = cloud.session('admin')
        admin.patch('/v2/images/%s' % a['id'], endpoint_filter=IMAGE,
                    data=json.dumps([{'op': 'replace', 'path': '/protected',
                                      'value': False}]),
                    headers={'Content-Type': 'application/'
                             'openstack-images-v2.1-json-patch'})
        admin.delete('/v2/images/%s' % a['id'], endpoint_filter=IMAGE)


def test_usage_errors_exit_2_and_non_admin_exit_1(cloud):
    for args in (['--pending-days', '-1'], ['--pending-days', 'nan'],
                 ['--risk', 'nonsense'], ['--protect'],
                 ['--all-projects', '--incoming'], ['--parallel', '0'],
                 ['--pending-days', 'inf']):
        res = cloud.run('alice-alpha', 'image', 'share', 'audit', *args)
        assert res.returncode == 2, (args, res.stderr)
        # One line, no usage block; nothing on stdout.
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert res.stderr.startswith('openstack image share audit: error: ')
        assert res.stdout == ''
    # Regression: an empty --project audited the caller's own project.
    res = cloud.run('admin', 'image', 'share', 'audit', '--project', '')
    assert (res.returncode, res.stdout) == (2, ''), res.stderr
    assert res.stderr.strip().splitlines()[-1].endswith(
        'argument --project: must not be empty')
    res = cloud.run('alice-alpha', 'image', 'share', 'audit',
                    '--all-projects')
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1] == (
        "--all-projects needs an admin role, which project alpha does not "
        "have: audit your own project's images (no option), or those "
        "shared with it (--incoming)")


def test_kinds_and_a_dead_runs_label(cloud):
    """volume-backed, companions-unreadable, encrypted and interrupted."""
    beta = cloud.project('beta')
    bdm = json.dumps([{'source_type': 'snapshot', 'snapshot_id': 'snap-1',
                       'destination_type': 'volume', 'boot_index': 0}])
    vol = image(cloud, 'alice-alpha', [beta], block_device_mapping=bdm,
                bdm_v2='True', root_device_name='/dev/vda')
    enc = image(cloud, 'alice-alpha', [beta],
                cinder_encryption_key_id='key-1')
    kernel = cloud.make_image('alice-alpha')              # beta can't
    ramdisk = image(cloud, 'alice-alpha', [beta])         # beta can
    ami = image(cloud, 'alice-alpha', [beta], kernel_id=kernel['id'],
                ramdisk_id=ramdisk['id'])
    # A run that died right after setting a private image shared: the
    # label names a process of this machine that does not exist.
    dead = json.dumps({'run': '%s:999999999:0' % os.uname().nodename,
                       'started': '2026-01-01T00:00:00Z',
                       'targets': [beta], 'checked': False, 'op': 'share'})
    left = image(cloud, 'alice-alpha', [], imageshare_sharing=dead)
    imgs = [vol, enc, kernel, ramdisk, ami, left]
    got, rows = audit(cloud, 'alice-alpha', imgs, '--risk', 'volume-backed',
                      '--risk', 'companions-unreadable', '--risk',
                      'encrypted', '--risk', 'interrupted')
    assert got == {
        (vol['id'], beta, 'volume-backed'),
        (enc['id'], beta, 'encrypted'),
        (ami['id'], beta, 'companions-unreadable'),
        (left['id'], None, 'interrupted'),
    }
    detail = {r['Image ID']: r['Detail'] for r in rows}
    assert 'snap-1' in detail[vol['id']]
    assert 'key-1' in detail[enc['id']]
    assert kernel['id'] in detail[ami['id']]
    assert ramdisk['id'] not in detail[ami['id']]
    assert "openstack image transfer %s --to" % left['id'] in detail[
        left['id']]
    # Once the kernel is shared with beta too (the detail's command, run
    # as printed), beta can boot the AMI.
    argv = [a for _, a in commands_of([detail[ami['id']]])]
    assert argv == [['openstack', 'image', 'transfer', kernel['id'], '--to',
                     beta, '--no-accept'],
                    ['openstack', 'image', 'share', 'accept', kernel['id']]]
    res = cloud.run('alice-alpha', *argv[0][1:])
    assert res.returncode == 0, res.stderr
    got, _ = audit(cloud, 'alice-alpha', [ami], '--risk',
                   'companions-unreadable')
    assert got == set()
    # The consumer's side sees the kinds of what it was given.
    got, _ = audit(cloud, 'bob-beta', [vol, enc], '--incoming', '--risk',
                   'volume-backed', '--risk', 'encrypted')
    assert got == {(vol['id'], beta, 'volume-backed'),
                   (enc['id'], beta, 'encrypted')}


def test_fix_quotes_member_ids_and_never_claims_a_false_removal(cloud):
    # Regression: 'a#b' and 'c?d' went unquoted into the DELETE URL; Glance
    # answered 404 and --fix printed 'removed' with the members still
    # there.  Glance cannot address 'e/f' at all: a failure, exit 1.
    a = image(cloud, 'alice-alpha', ['a#b', 'c?d', 'e/f'])
    try:
        res = cloud.run('alice-alpha', 'image', 'share', 'audit', '--fix',
                        '-f', 'json')
        assert res.returncode == 1, res.stderr
        fixed = [r for r in json.loads(res.stdout) if r['Image ID'] == a['id']]
        # A fix that failed has no row: its error is on stderr.
        assert sorted((r['Member'], r['Fixed']) for r in fixed) == [
            ('a#b', 'removed'), ('c?d', 'removed')]
        assert members(cloud, a['id']) == ['e/f']
        assert ("Could not remove member e/f (image %s): Glance lists it but "
                "answers 404 to its URL: Glance cannot address a member ID "
                "with a '/'" % a['id']) in res.stderr
    finally:
        cloud.session('admin').delete('/v2/images/%s' % a['id'],
                                      endpoint_filter=IMAGE)


def test_incoming_reads_past_a_page_of_own_shared_images(cloud):
    # Regression: Glance lists a project's own shared images with those
    # shared with it; a first page (200) of its own, all skipped by
    # --incoming, ended the audit before the image shared with it.
    beta = cloud.project('beta')
    prefix = '00000000-%s-4000-8000-' % unique('')[-4:]
    own = ['%s%012d' % (prefix, n) for n in range(200)]
    made = []
    try:
        for image_id in own:
            made.append(('bob-beta', image(cloud, 'bob-beta', id=image_id)))
        shared = image(cloud, 'alice-alpha', [beta], id=prefix + '1' * 12)
        made.append(('alice-alpha', shared))
        got, _ = audit(cloud, 'bob-beta', [shared], '--incoming', '--all')
        assert got == {(shared['id'], beta, 'none')}
    finally:
        for who, img in made:
            cloud.session(who).delete('/v2/images/%s' % img['id'],
                                      endpoint_filter=IMAGE)


# ------------------------------------------------ nothing unverified trusted
def keystone_url(cloud):
    with open(cloud.clouds_yaml) as f:
        return yaml.safe_load(f)['clouds']['admin']['auth']['auth_url']


@contextlib.contextmanager
def proxied(cloud, tmp_path, upstream, entries, key):
    """A fault proxy before ``upstream``; a Cloud whose ``entries`` use it.

    ``key``: the clouds.yaml setting pointed at the proxy
    (``identity_endpoint_override``: the proxy's /v3).
    """
    parts = urllib.parse.urlsplit(upstream)
    with GlanceProxy('%s://%s' % (parts.scheme, parts.netloc),
                     lifetime=300) as prx:
        with open(cloud.clouds_yaml) as f:
            config = yaml.safe_load(f)
        for name in entries:
            config['clouds'][name][key] = prx.url + parts.path
        path = tmp_path / 'clouds-proxied.yaml'
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        other = copy.copy(cloud)
        other.clouds_yaml, other._sessions = str(path), {}
        yield prx, other


def test_keystone_answers_are_judged_before_fix_removes(
        cloud, keystone, tmp_path):
    # Regression: an identity_endpoint_override answering an HTML 404 for
    # GET /v3/projects/<id> made every project 'deleted', and --fix removed
    # beta's live accepted membership.
    beta, alpha = cloud.project('beta'), cloud.project('alpha')
    gone = keystone.project()
    a = image(cloud, 'alice-alpha', [beta, gone['id']])
    accept(cloud, 'bob-beta', a['id'], beta)
    keystone.delete('/projects/%s' % gone['id'])
    project_path = r'^/v3/projects/[0-9a-f]{32}$'
    with proxied(cloud, tmp_path, keystone_url(cloud), ['admin'],
                 'identity_endpoint_override') as (prx, admin):
        for _ in range(40):
            prx.fault('GET', project_path, status=404,
                      body='<html><body>404 Not Found</body></html>',
                      headers={'Content-Type': 'text/html'})
        res = admin.run('admin', 'image', 'share', 'audit', '--project',
                        alpha, '--fix', '--risk', 'project-deleted', '-f',
                        'json')
        assert res.returncode == 0, res.stderr
        assert [r for r in json.loads(res.stdout)
                if r['Image ID'] == a['id']] == []
        assert members(cloud, a['id']) == sorted([beta, gone['id']])
        said = [line for line in stderr_lines(res)
                if 'could not be verified' in line]
        assert len(said) == 1 and said[0].endswith(
            'member(s) could not be verified (the identity service answered '
            '404 with a body of type text/html, not its JSON error): check '
            'the identity service; list them with --risk unverifiable'), said
        # A Keystone-shaped 404 for every project: its answers look wrong
        # (the admin's own project among the 'deleted'): nothing removed.
        prx.faults.clear()
        for _ in range(40):
            prx.fault('GET', project_path, status=404, body={'error': {
                'code': 404, 'title': 'Not Found',
                'message': 'Could not find project.'}})
        res = admin.run('admin', 'image', 'share', 'audit', '--project',
                        alpha, '--fix', '-f', 'json')
        assert (res.returncode, res.stdout) == (1, ''), res.stderr
        assert stderr_lines(res)[-1] == (
            "The identity service's answers look wrong (your own project %s "
            "reads as deleted): --fix removed nothing; check it (and "
            "identity_endpoint_override), then run the audit again"
            % cloud.project('admin'))
        assert members(cloud, a['id']) == sorted([beta, gone['id']])
    # The real Keystone's answer: the deleted project goes, beta stays.
    fixed, _ = cloud.json('admin', 'image', 'share', 'audit', '--project',
                          alpha, '--fix', '--risk', 'project-deleted')
    assert [(r['Member'], r['Fixed']) for r in fixed
            if r['Image ID'] == a['id']] == [(gone['id'], 'removed')]
    assert members(cloud, a['id']) == [beta]


def test_domains_users_and_a_disabled_domain_as_admin(cloud, keystone):
    domain = keystone.call('POST', '/domains', json={'domain': {
        'name': unique('auditdom')}}).json()['domain']
    inside = keystone.call('POST', '/projects', json={'project': {
        'name': unique('audit'), 'domain_id': domain['id']}}).json()[
            'project']
    keystone.made += ['/projects/%s' % inside['id'],
                      '/domains/%s' % domain['id']]
    user = keystone.call('GET', '/users', params={'name': 'alice'}).json()[
        'users'][0]
    a = image(cloud, 'alice-alpha', [domain['id'], user['id'],
                                     inside['id']])
    keystone.call('PATCH', '/domains/%s' % domain['id'],
                  json={'domain': {'enabled': False}})
    got, rows = audit(cloud, 'admin', [a], '--all-projects')
    assert got == {(a['id'], domain['id'], 'not-a-project'),
                   (a['id'], user['id'], 'not-a-project'),
                   (a['id'], inside['id'], 'domain-disabled')}
    detail = {r['Member']: r['Detail'] for r in rows}
    assert 'is a domain, not a project' in detail[domain['id']]
    assert 'project set --enable' not in detail[domain['id']]
    assert 'is a user, not a project' in detail[user['id']]
    assert "'openstack domain set --enable %s'" % domain['id'] in detail[
        inside['id']]
    # image share status says the same (it took them all for projects,
    # a domain's name as a project's, and never a disabled domain).
    data, warnings = cloud.json('admin', 'image', 'share', 'status',
                                a['id'])
    said = [(r['code'], r['sentence']) for r in data['risks']]
    assert [c for c, _ in said] == [
        'owner-dependency', 'not-a-project', 'not-a-project',
        'domain-disabled', 'pending'], said
    assert said[1][1].startswith('Member %s of image %s is a domain, not a '
                                 'project' % (domain['id'], a['id']))
    assert said[2][1].startswith('Member %s of image %s is a user, not a '
                                 'project' % (user['id'], a['id']))
    assert said[3][1].startswith('Project %s (%s) is enabled, but its '
                                 'domain' % (inside['name'], inside['id']))
    assert {m['project_id']: m['project_name'] for m in data['members']}[
        domain['id']] is None
    assert any('is a domain, not a project' in w for w in warnings)


def commands_of(texts):
    """Every command suggested in ``texts``, each split as a shell would."""
    return [(text, shlex.split(c)) for text in texts
            for c in messages.suggested_commands(text)]


def test_every_suggested_command_pastes_safely_and_does_what_it_says(
        cloud, keystone):
    # Regressions: 'image remove project <img> dis1' removed the real
    # project named dis1 rather than the literal member 'dis1'; a member
    # 'x y' went unquoted, '-x' was read as an option; bob's label put its
    # "targets" into a command.
    beta, alpha = cloud.project('beta'), cloud.project('alpha')
    dis1 = keystone.project()
    a = image(cloud, 'alice-alpha', [dis1['name'], dis1['id'], 'x y', '-x',
                                     beta, '$(touch pwned)/x'])
    evil = json.dumps({'run': 'nohost:1:0', 'started':
                       '2026-01-01T00:00:00Z',
                       'targets': ["x $(touch pwned) '; id #"]})
    b = image(cloud, 'bob-beta', [alpha], imageshare_sharing=evil)
    _, rows = audit(cloud, 'admin', [a, b], '--all-projects',
                    '--pending-days', '0')
    res = cloud.run('alice-alpha', 'image', 'share', 'status', a['id'])
    assert res.returncode == 0, res.stderr
    # bob's label is his data: alpha, his consumer, is never shown it.
    got, _ = audit(cloud, 'alice-alpha', [b], '--incoming', '--all')
    assert got == {(b['id'], alpha, 'none')}
    assert (b['id'], alpha, 'unrecognised-label') in {
        (r['Image ID'], r['Member'], r['Risk']) for r in rows}
    texts = [(r['Image ID'], r['Member'], r['Detail']) for r in rows]
    # status names the members in its own sentences.
    texts += [(a['id'], m, line) for line in stderr_lines(res)
              for m in [dis1['name'], 'x y', '-x', beta] if m in line]
    words = {'openstack', 'image', 'share', 'revoke', 'accept', 'set',
             'unset', 'transfer', '--protected', '--property',
             'imageshare_sharing', '--all', '--share-briefly', '--'}
    ran = []
    for image_id, member, text in texts:
        for _, argv in commands_of([text]):
            assert set(argv) - words <= {image_id, member}, (text, argv)
            assert not any('pwned' in w for w in argv), text
            if argv[1:4] == ['image', 'share', 'revoke'] and \
                    member in (dis1['name'], 'x y', '-x') and \
                    argv not in ran:
                ran.append(argv)
            if argv[1:3] == ['image', 'unset'] and argv not in ran:
                ran.append(argv)
    # Glance cannot address a member with a '/': no command for it (one
    # would fail saying the image does not exist), a sentence instead.
    slash = [t for _, m, t in texts if m == '$(touch pwned)/x']
    assert slash and all(messages.REMOVE_NO_URL in t for t in slash), slash
    assert not commands_of(slash)
    assert len(ran) == 4, ran
    for argv in ran:
        who = 'bob-beta' if argv[-1] == b['id'] else 'alice-alpha'
        res = cloud.run(who, *argv[1:])
        assert res.returncode == 0, (argv, res.stderr)
    # The literal members went, the real project named like one stayed.
    assert members(cloud, a['id']) == sorted([dis1['id'], beta,
                                              '$(touch pwned)/x'])
    assert 'imageshare_sharing' not in cloud.glance('admin').images.get(
        b['id'])


def glance_url(cloud):
    with open(os.path.join(os.path.dirname(cloud.clouds_yaml),
                           'state.json')) as f:
        return 'http://127.0.0.1:%d' % json.load(f)['glance_port']


def test_unreadable_image_and_a_failed_images_companion(cloud, tmp_path):
    beta = cloud.project('beta')
    locked = image(cloud, 'alice-alpha', ['typo'])
    other = image(cloud, 'alice-alpha', ['typo2'])
    kernel = cloud.make_image('alice-alpha')
    ami = cloud.make_image('alice-alpha', kernel_id=kernel['id'])
    with proxied(cloud, tmp_path, glance_url(cloud), ['alice-alpha'],
                 'image_endpoint_override') as (prx, alice):
        # An image whose members Glance will not list: a row, the audit
        # goes on, exit 1 at the end.
        prx.fault('GET', '^/v2/images/%s/members$' % locked['id'],
                  status=403, body={'message': 'Access was denied'})
        res = alice.run('alice-alpha', 'image', 'share', 'audit', '-f',
                        'json')
        assert res.returncode == 1, res.stderr
        got = {(r['Image ID'], r['Member'], r['Risk'])
               for r in json.loads(res.stdout)
               if r['Image ID'] in (locked['id'], other['id'])}
        assert got == {(locked['id'], None, 'unreadable'),
                       (other['id'], 'typo2', 'not-a-project')}
        assert stderr_lines(res)[-1].startswith(
            'Could not read the members of 1 image(s)')
        # With --fix the rows are the fixes: the image not read is an error
        # line, and the summary says its risks were not fixed.
        prx.fault('GET', '^/v2/images/%s/members$' % locked['id'],
                  status=403, body={'message': 'Access was denied'})
        res = alice.run('alice-alpha', 'image', 'share', 'audit', '--fix',
                        '--risk', 'not-a-project', '-f', 'json')
        assert res.returncode == 1, res.stderr
        assert (other['id'], 'typo2', 'removed') in {
            (r['Image ID'], r['Member'], r['Fixed'])
            for r in json.loads(res.stdout)}, res.stdout
        lines = stderr_lines(res)
        assert any(locked['id'] in line and 'Access was denied' in line
                   for line in lines[:-1]), lines
        # (alice's other images may hold fixes that fail: then 'Failed to
        # fix ...' comes last.)
        assert (
            'Could not read the members of 1 image(s), each named above: '
            'their risks were neither seen nor fixed') in lines[-2:], lines
        # The image fails for beta after its kernel was shared with beta:
        # the kernel is rolled back with it.
        prx.fault('POST', '^/v2/images/%s/members$' % ami['id'],
                  status=403, body={'message': 'Access was denied'})
        res = alice.run('alice-alpha', 'image', 'transfer', ami['id'],
                        '--to', beta, '--no-accept', '-f', 'json')
        assert res.returncode == 1, res.stderr
    admin = cloud.glance('admin')
    assert [admin.images.get(i['id'])['visibility']
            for i in (kernel, ami)] == ['private', 'private']
    # Glance hides a private image's members: shared again, it has none.
    admin.images.update(kernel['id'], visibility='shared')
    assert members(cloud, kernel['id']) == []
