"""The one retry policy, seen through a loopback fault proxy.

Each test points the real ``openstack`` CLI at a proxy in front of the
local cloud's Glance (a clouds.yaml entry with ``image_endpoint_override``,
as a user behind an API gateway would have), has the proxy fail one
request (a 502 with a gateway's JSON body, a 503 or 500, or a connection
reset; before Glance saw it, or after, so only the answer is lost), and
checks that the command still succeeds and, as admin straight to Glance,
that the cloud holds exactly what it should.  Covered: transfer in share
mode (the first write, the PATCH and the member POST whose answer is lost
after Glance acted) and in copy mode (the download reset before any
byte), share status (retried and logged at --debug; with retries off, one
line), accept and list; a ``Retry-After`` that is no delay, the retry
bound and the shortest wait; a remove whose answer is lost; a member
POST answered after the client's ``api_timeout``.
"""

import json
import os
import socket
import subprocess
import time

import pytest
import yaml

from tests.functional.conftest import BIN
from tests.functional.conftest import stderr_lines
from tests.functional.glance_proxy import GATEWAY_502
from tests.functional.glance_proxy import GlanceProxy

pytestmark = [pytest.mark.plugin]

ENTRIES = ('carol-alpha', 'alice-alpha', 'bob-beta', 'admin')
LABEL = 'imageshare_sharing'
API_TIMEOUT = 3     # s, the -proxy-t3 entries' api_timeout
WRITES = ('PATCH', 'POST', 'PUT', 'DELETE')
# Fields a share changes; every other field of the image must not change.
SHARE_CHANGES = ('visibility', 'updated_at')


@pytest.fixture
def proxy(cloud, tmp_path):
    """A fault proxy before RegionOne's Glance; entries ``<entry>-proxy``."""
    state_dir = os.path.dirname(cloud.clouds_yaml)
    with open(os.path.join(state_dir, 'state.json')) as f:
        port = json.load(f)['glance_port']
    with GlanceProxy('http://127.0.0.1:%d' % port, lifetime=600) as prx:
        with open(cloud.clouds_yaml) as f:
            config = yaml.safe_load(f)
        for name in ENTRIES:
            entry = dict(config['clouds'][name])
            entry['image_endpoint_override'] = prx.url
            config['clouds'][name + '-proxy'] = entry
            config['clouds'][name + '-proxy-t3'] = dict(
                entry, api_timeout=API_TIMEOUT)
        path = tmp_path / 'clouds.yaml'
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        prx.clouds_yaml = str(path)
        yield prx


def run(cloud, proxy, entry, *args, options=(), env=None, suffix='-proxy'):
    """``openstack [OPTIONS] --os-cloud ENTRY-proxy ARGS`` via the proxy."""
    env = dict(cloud.env(), **(env or {}))
    env['OS_CLIENT_CONFIG_FILE'] = proxy.clouds_yaml
    return subprocess.run(
        [os.path.join(BIN, 'openstack')] + list(options)
        + ['--os-cloud', entry + suffix] + list(args),
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=300)


def ok(res):
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return json.loads(res.stdout)


def members(cloud, image_id):
    return sorted((m['member_id'], m['status']) for m in
                  cloud.glance('admin').image_members.list(image_id))


def unchanged_but_shared(cloud, before):
    """The image as admin sees it: shared, all else as ``before``."""
    after = dict(cloud.glance('admin').images.get(before['id']))
    assert after['visibility'] == 'shared'
    keep = {k: v for k, v in before.items() if k not in SHARE_CHANGES}
    assert {k: after.get(k) for k in keep} == keep


def image_path(image_id, rest=''):
    return r'^/v2/images/%s%s(\?|$)' % (image_id, rest)


def fired(proxy, method, pattern):
    """What the proxy did with the requests that match."""
    return [what for _, _, what in proxy.requests(method, pattern)]


def share(cloud, proxy, image):
    """``image transfer IMAGE --to beta`` as carol through the proxy.

    Returns the writes (method, what the proxy did) it made to the image.
    """
    before = dict(cloud.glance('admin').images.get(image['id']))
    rows = ok(run(cloud, proxy, 'carol-alpha', 'image', 'transfer',
                  image['id'], '--to', 'beta', '-f', 'json'))
    beta = cloud.project('beta')
    assert [(r['Project ID'], r['Member Status']) for r in rows] == [
        (beta, 'accepted')]
    unchanged_but_shared(cloud, before)
    assert members(cloud, image['id']) == [(beta, 'accepted')]
    return [(method, what) for method, target, what in proxy.requests()
            if method in WRITES and image['id'] in target]


def same_writes(got, want):
    """The same writes, in the same order but for the run label's drop.

    The drop (the last PATCH) is a step of its own that runs beside the
    accept: its place among the last writes is free.
    """
    def without_drop(writes):
        last = max((n for n, w in enumerate(writes) if w[0] == 'PATCH'),
                   default=None)
        return writes if last is None else writes[:last] + writes[last + 1:]
    assert sorted(got) == sorted(want), (got, want)
    assert without_drop(got) == without_drop(want), (got, want)


def calm_writes(cloud, proxy, visibility):
    """The writes of the same share when nothing fails."""
    writes = share(cloud, proxy, cloud.make_image(
        'carol-alpha', visibility=visibility))
    assert all(what == 'forwarded' for _, what in writes), writes
    return writes


def test_transfer_survives_a_502_on_its_first_write_and_a_reset_get(
        cloud, proxy):
    calm = calm_writes(cloud, proxy, 'private')
    img = cloud.make_image('carol-alpha', visibility='private')
    proxy.fault('GET', image_path(img['id']), reset=True)
    proxy.fault(WRITES, image_path(img['id'], '(/.*)?'), **GATEWAY_502)
    writes = share(cloud, proxy, img)
    assert fired(proxy, 'GET', image_path(img['id']))[:2] == [
        'reset', 'forwarded']
    # The first write was answered 502 (Glance never saw it), then sent
    # again; nothing else was.
    same_writes(writes, [(calm[0][0], 'answered 502')] + calm)


# The answer lost after Glance acted: a gateway's 502, or a reset.
LOST = {'502': (GATEWAY_502, 'answered 502 after forwarding'),
        'reset': ({'reset': True}, 'reset after forwarding')}


@pytest.mark.parametrize('lost', sorted(LOST))
def test_share_patch_whose_answer_is_lost_is_sent_again(cloud, proxy, lost):
    fault, what = LOST[lost]
    calm = calm_writes(cloud, proxy, 'private')
    img = cloud.make_image('carol-alpha', visibility='private')
    proxy.fault('PATCH', image_path(img['id']), after=True, **fault)
    writes = share(cloud, proxy, img)
    assert calm[0][0] == 'PATCH'
    same_writes(writes, [('PATCH', what)] + calm)


@pytest.mark.parametrize('lost', sorted(LOST))
def test_member_post_whose_answer_is_lost_is_not_sent_twice(cloud, proxy,
                                                            lost):
    fault, what = LOST[lost]
    calm = calm_writes(cloud, proxy, 'shared')
    img = cloud.make_image('carol-alpha', visibility='shared')
    proxy.fault('POST', image_path(img['id'], '/members'), after=True,
                **fault)
    writes = share(cloud, proxy, img)
    # Glance added the member; the command read that back and did not
    # POST again: the same writes as a calm run.
    assert ('POST', 'forwarded') in calm
    same_writes(writes, [('POST', what) if w == ('POST', 'forwarded') else w
                         for w in calm])


def shared_with_beta(cloud, owner='alice-alpha', status='pending'):
    img = cloud.make_image(owner, visibility='shared')
    beta = cloud.project('beta')
    cloud.glance(owner).image_members.create(img['id'], beta)
    if status != 'pending':
        cloud.glance('bob-beta').image_members.update(img['id'], beta,
                                                      status)
    return img, beta


def test_status_retries_a_gateway_502_and_logs_it(cloud, proxy):
    img, beta = shared_with_beta(cloud)
    want = ok(run(cloud, proxy, 'alice-alpha', 'image', 'share', 'status',
                  img['id'], '-f', 'json'))
    members_path = image_path(img['id'], '/members')
    proxy.fault('GET', members_path, **GATEWAY_502)
    res = run(cloud, proxy, 'alice-alpha', 'image', 'share', 'status',
              img['id'], '-f', 'json', options=['--debug'])
    assert ok(res) == want
    assert fired(proxy, 'GET', members_path)[-2:] == [
        'answered 502', 'forwarded']
    retried = [line for line in res.stderr.splitlines()
               if 'retry' in line.lower() and '502' in line]
    assert retried, res.stderr


def test_status_without_retries_names_the_gateway_502(cloud, proxy):
    img, beta = shared_with_beta(cloud)
    members_path = image_path(img['id'], '/members')
    for how in ({'options': ['--os-image-share-retries', '0']},
                {'env': {'OS_IMAGE_SHARE_RETRIES': '0'}}):
        proxy.fault('GET', members_path, **GATEWAY_502)
        res = run(cloud, proxy, 'alice-alpha', 'image', 'share', 'status',
                  img['id'], '-f', 'json', **how)
        assert res.returncode == 1, (how, res.stdout, res.stderr)
        [line] = stderr_lines(res)
        assert '502' in line and 'Bad gateway' in line, line
        assert "has no attribute" not in line
    assert fired(proxy, 'GET', members_path) == ['answered 502'] * 2


def test_accept_retries_a_503_on_the_member_put(cloud, proxy):
    img, beta = shared_with_beta(cloud)
    member_path = image_path(img['id'], '/members/%s' % beta)
    proxy.fault('PUT', member_path, status=503,
                headers={'Retry-After': '1', 'Content-Type': 'text/html'},
                body='<html><body>503 Service Unavailable</body></html>')
    data = ok(run(cloud, proxy, 'bob-beta', 'image', 'share', 'accept',
                  img['id'], '-f', 'json'))
    assert (data['previous_status'], data['member_status']) == (
        'pending', 'accepted')
    assert fired(proxy, 'PUT', member_path) == ['answered 503', 'forwarded']
    assert members(cloud, img['id']) == [(beta, 'accepted')]


def test_list_retries_a_500_on_the_image_list(cloud, proxy):
    img, beta = shared_with_beta(cloud, status='accepted')
    listing = r'^/v2/images(\?|$)'
    # A bare answer: no Content-Type, a text body.
    proxy.fault('GET', listing, status=500, body='Internal Server Error')
    rows = ok(run(cloud, proxy, 'alice-alpha', 'image', 'share', 'list',
                  '-f', 'json'))
    mine = [r for r in rows if r['Image ID'] == img['id']]
    assert [(r['Project ID'], r['Member Status']) for r in mine] == [
        (beta, 'accepted')]
    assert fired(proxy, 'GET', listing)[:2] == ['answered 500', 'forwarded']
    assert members(cloud, img['id']) == [(beta, 'accepted')]


def test_the_proxy_is_loopback_only_and_bounded():
    with GlanceProxy('http://127.0.0.1:1', max_connections=1,
                     lifetime=3) as prx:
        assert prx.url.startswith('http://127.0.0.1:')
        port = int(prx.url.rsplit(':', 1)[1])
        first = socket.create_connection(('127.0.0.1', port), timeout=30)
        second = socket.create_connection(('127.0.0.1', port), timeout=30)
        # Over the bound: closed at once, unanswered.
        try:
            assert second.recv(1) == b''
        except ConnectionResetError:
            pass
        first.close()
        second.close()
        # Its lifetime over, it stops by itself.
        assert prx.wait_closed(30)


def test_copy_survives_a_reset_download_and_a_502_on_its_image_get(
        cloud, proxy):
    src = cloud.make_image('alice-alpha', visibility='private')
    data = image_path(src['id'], '/file')
    proxy.fault('GET', data, reset=True)
    proxy.fault('GET', image_path(src['id']), **GATEWAY_502)
    [row] = ok(run(cloud, proxy, 'alice-alpha', 'image', 'transfer',
                   src['id'], '--mode', 'copy', '--to-cloud',
                   'bob-beta-proxy', '-f', 'json'))
    copy = cloud.glance('admin').images.get(row['Image ID'])
    assert copy['id'] != src['id']
    assert (copy['owner'], copy['checksum'], copy['status']) == (
        cloud.project('beta'), src['checksum'], 'active')
    # One copy: the restarted download made no second image.
    copies = cloud.glance('admin').images.list(filters={
        'owner': cloud.project('beta'), 'imageshare_source_id': src['id']})
    assert [i['id'] for i in copies] == [copy['id']]
    assert fired(proxy, 'GET', data) == ['reset', 'forwarded']
    assert fired(proxy, 'GET', image_path(src['id']))[:2] == [
        'answered 502', 'forwarded']


def test_a_bare_503_on_the_member_post_without_retries_is_a_sentence(
        cloud, proxy):
    # A gateway's 503 with no body, retries off: the share is rolled back
    # and the line says Glance failed (not refused), with no empty detail.
    img = cloud.make_image('carol-alpha')
    beta = cloud.project('beta')
    proxy.fault('POST', image_path(img['id'], '/members'), status=503,
                body='')
    res = run(cloud, proxy, 'carol-alpha', 'image', 'transfer', img['id'],
              '--to', 'beta', '-f', 'json',
              options=['--os-image-share-retries', '0'])
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert stderr_lines(res) == [
        'Glance failed to add member %s on image %s: no details (HTTP 503)'
        % (beta, img['id']),
        'Failed to transfer 1 of 1 image/project pairs']
    assert fired(proxy, 'POST', image_path(img['id'], '/members')) == [
        'answered 503']
    assert cloud.glance('admin').images.get(img['id'])['visibility'] == \
        'private'


def rolled_back(cloud, image_id):
    """Private and unlabelled, as before the run."""
    image = dict(cloud.glance('admin').images.get(image_id))
    assert (image['visibility'], image.get(LABEL)) == ('private', None)


def test_a_retry_after_that_is_no_delay_is_absent_and_past_the_budget_fails(
        cloud, proxy):
    # nan, inf, -1: the backoff (0.5 s), and the share is done; 1e9: past
    # the 30 s budget, the request fails at once and the run rolls back.
    beta = cloud.project('beta')
    for value, code in (('nan', 0), ('inf', 0), ('-1', 0), ('1e9', 1)):
        img = cloud.make_image('carol-alpha')
        posts = image_path(img['id'], '/members')
        proxy.fault('POST', posts, status=503, body='',
                    headers={'Retry-After': value})
        start = time.monotonic()
        res = run(cloud, proxy, 'carol-alpha', 'image', 'transfer',
                  img['id'], '--to', 'beta', '-f', 'json')
        took = time.monotonic() - start
        assert res.returncode == code, (value, res.stdout, res.stderr)
        assert took < 20, (value, took)
        if code:
            assert fired(proxy, 'POST', posts) == ['answered 503']
            assert 'Invalid value' not in res.stderr
            assert ('Glance failed to add member %s on image %s: no details '
                    '(HTTP 503)' % (beta, img['id'])) in res.stderr
            rolled_back(cloud, img['id'])
            continue
        assert fired(proxy, 'POST', posts) == ['answered 503', 'forwarded']
        stamps = proxy.moments('POST', posts)
        assert stamps[1] - stamps[0] >= 0.5, (value, stamps)
        image = dict(cloud.glance('admin').images.get(img['id']))
        assert (image['visibility'], image.get(LABEL)) == ('shared', None)
        assert members(cloud, img['id']) == [(beta, 'accepted')]


def test_retry_after_zero_still_waits_the_shortest_wait(cloud, proxy):
    img, beta = shared_with_beta(cloud)
    got = image_path(img['id'])
    # A Glance that answers 503 with Retry-After: 0 to everything: 1 + 2
    # tries, at least 0.5 s apart.
    proxy.fault('GET', got, status=503, body='',
                headers={'Retry-After': '0'}, times=99)
    res = run(cloud, proxy, 'alice-alpha', 'image', 'share', 'status',
              img['id'], options=['--os-image-share-retries', '2'])
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert fired(proxy, 'GET', got) == ['answered 503'] * 3
    stamps = proxy.moments('GET', got)
    assert min(b - a for a, b in zip(stamps, stamps[1:])) >= 0.5, stamps


def test_a_remove_whose_answer_is_lost_is_read_back_not_sent_again(
        cloud, proxy):
    beta = cloud.project('beta')
    # The run's last write removes its label: the PATCH lands, its answer
    # is a 502. Done, no warning, no label.
    img = cloud.make_image('carol-alpha')
    patches = image_path(img['id'])
    proxy.fault('PATCH', patches, nth=2, after=True, **GATEWAY_502)
    res = run(cloud, proxy, 'carol-alpha', 'image', 'transfer', img['id'],
              '--to', 'beta', '-f', 'json')
    assert [r['Member Status'] for r in ok(res)] == ['accepted']
    assert 'left shared' not in res.stderr, res.stderr
    assert fired(proxy, 'PATCH', patches) == [
        'forwarded', 'answered 502 after forwarding']
    image = dict(cloud.glance('admin').images.get(img['id']))
    assert (image['visibility'], image.get(LABEL)) == ('shared', None)
    assert members(cloud, img['id']) == [(beta, 'accepted')]
    # The member is refused: the rollback's PATCH (private, no label)
    # lands and loses its answer. Nothing claims it was left shared (a
    # failed pair has no row: its error is on stderr).
    img = cloud.make_image('carol-alpha')
    patches = image_path(img['id'])
    proxy.fault('POST', image_path(img['id'], '/members'), status=403,
                body='refused by the test')
    proxy.fault('PATCH', patches, nth=2, after=True, **GATEWAY_502)
    res = run(cloud, proxy, 'carol-alpha', 'image', 'transfer', img['id'],
              '--to', 'beta', '-f', 'json')
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert res.stdout == '', res.stdout
    assert 'refused by the test' in res.stderr, res.stderr
    assert 'left shared' not in res.stderr, res.stderr
    assert fired(proxy, 'PATCH', patches) == [
        'forwarded', 'answered 502 after forwarding']
    rolled_back(cloud, img['id'])


def test_a_member_post_answered_after_the_timeout_is_read_back(cloud, proxy):
    # api_timeout 3 s; the proxy forwards the POST and answers 5 s later.
    # The member is there: the run reads it back and goes on.
    img = cloud.make_image('carol-alpha')
    posts = image_path(img['id'], '/members')
    proxy.fault('POST', posts, delay=API_TIMEOUT + 2)
    res = run(cloud, proxy, 'carol-alpha', 'image', 'transfer', img['id'],
              '--to', 'beta', '-f', 'json', suffix='-proxy-t3')
    beta = cloud.project('beta')
    assert [(r['Project ID'], r['Member Status']) for r in ok(res)] == [
        (beta, 'accepted')]
    assert fired(proxy, 'POST', posts) == ['answered late']
    assert fired(proxy, 'GET', image_path(img['id'], '/members/' + beta)
                 )[:1] == ['forwarded']
    assert members(cloud, img['id']) == [(beta, 'accepted')]


NGINX_502 = ('<html>\r\n<head><title>502 Bad Gateway</title></head><body>'
             '<center><h1>502 Bad Gateway</h1></center><hr><center>nginx'
             '</center></body></html>')


def test_an_html_answer_reads_as_its_lines(cloud, proxy):
    img, beta = shared_with_beta(cloud)
    members_path = image_path(img['id'], '/members')
    # A control character in the page (an escape that would drive the
    # terminal) is written as repr writes it.
    proxy.fault('GET', members_path, status=502, headers={
        'Content-Type': 'text/html'}, body=NGINX_502.replace(
            'nginx', 'nginx \x1b]0;owned\x07'))
    res = run(cloud, proxy, 'alice-alpha', 'image', 'share', 'status',
              img['id'], options=['--os-image-share-retries', '0'])
    assert res.returncode == 1, (res.stdout, res.stderr)
    [line] = stderr_lines(res)
    assert line.endswith('502 Bad Gateway: nginx \\x1b]0;owned\\x07'), line


def test_share_briefly_that_cannot_make_it_private_again_says_so(cloud,
                                                                 proxy):
    # A private image hiding beta; the PATCH that makes it private again
    # is answered 500 every time: no row claims 'private', exit 1, the
    # error says it stays shared, with the command; the re-run finishes.
    img = cloud.make_image('alice-alpha', visibility='shared')
    glance = cloud.glance('alice-alpha')
    beta = cloud.project('beta')
    glance.image_members.create(img['id'], beta)
    glance.images.update(img['id'], visibility='private')
    proxy.fault('PATCH', r'^/v2/images/%s$' % img['id'], nth=2, status=500,
                times=20)
    env = dict(cloud.env(), OS_CLIENT_CONFIG_FILE=proxy.clouds_yaml)
    res = subprocess.run(
        [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha-proxy',
         '--os-image-share-retries', '0', 'image', 'share', 'revoke',
         img['id'], '--all', '--share-briefly', '-f', 'json'],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        timeout=300)
    assert res.returncode == 1, res.stderr
    assert [(r['Project ID'], r['Result']) for r in json.loads(
        res.stdout)] == [(beta, 'removed')]
    lines = stderr_lines(res)
    assert any(line.startswith(
        'Could not set image %s private again: ' % img['id'])
        and line.endswith(
            "stays shared (its hidden members have their access back) with "
            "this run's label: run 'openstack image share revoke %s --all "
            "--share-briefly'" % img['id']) for line in lines), lines
    assert cloud.glance('admin').images.get(img['id'])[
        'visibility'] == 'shared'
    res = cloud.run('alice-alpha', 'image', 'share', 'revoke', img['id'],
                    '--all', '--share-briefly', '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert cloud.glance('admin').images.get(img['id'])[
        'visibility'] == 'private'
