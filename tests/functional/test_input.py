"""Input that must never be misread, on the real local cloud (issue 18).

One image is one image however it is named; a usage error is exit code
2 and one line, and changes nothing.
"""

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique


def test_one_image_by_name_id_and_tag_is_one_row(cloud):
    tag = unique('tag')
    img = cloud.make_image('alice-alpha', name=unique('twice'), tags=[tag])
    beta = cloud.project('beta')
    rows, warnings = cloud.json(
        'alice-alpha', 'image', 'transfer', img['name'], img['id'], '--tag',
        tag, '--to-cloud', 'bob-beta')
    assert [(r['Image ID'], r['Project ID'], r['Member Status'])
            for r in rows] == [(img['id'], beta, 'accepted')]
    unprotected = [w for w in warnings if 'is not protected' in w]
    assert unprotected == [
        "Image %s is not protected and 1 project(s) have accepted it: the "
        "owner can delete it by accident; protect it with 'openstack image "
        "set --protected %s'." % (img['id'], img['id'])]
    members = list(cloud.glance('alice-alpha').image_members.list(img['id']))
    assert [m['member_id'] for m in members] == [beta]


def test_one_image_by_name_and_id_is_copied_once(cloud):
    img = cloud.make_image('alice-alpha', name=unique('twice'))
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['name'],
                         img['id'], '--mode', 'copy', '--to-cloud',
                         'bob-beta')
    assert len(rows) == 1 and rows[0]['Source ID'] == img['id']
    copies = [i for i in cloud.glance('bob-beta').images.list(
        filters={'owner': cloud.project('beta')})
        if i.get('imageshare_source_id') == img['id']]
    assert [c['id'] for c in copies] == [rows[0]['Image ID']]


def usage(cloud, cloud_name, *args):
    res = cloud.run(cloud_name, *args)
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert res.stdout == ''
    lines = stderr_lines(res)
    assert len(lines) == 1, lines
    return lines[0]


def test_usage_errors_are_exit_2_one_line_and_change_nothing(cloud):
    img = cloud.make_image('alice-alpha')
    transfer = ('image', 'transfer', img['id'])
    cases = [
        (transfer, 'name at least one target project: --to <project>, '
                   '--to-cloud <cloud> or --to-domain <domain>'),
        (transfer + ('--to', ''), 'argument --to: must not be empty'),
        (transfer + ('--to', '  '), 'argument --to: must not be empty'),
        (transfer + ('--to-cloud', ''),
         'argument --to-cloud: must not be empty'),
        (('image', 'transfer', '--property', 'novalue', '--to', 'beta'),
         "argument --property: takes <key>=<value>, not 'novalue'"),
        (transfer + ('--to', 'beta', '--parallel', '0'),
         "argument --parallel: takes a whole number from 1 to 10 (the "
         "connections a session keeps open per host), not '0'"),
    ]
    for timeout in ('-1', 'nan', 'inf'):
        cases.append((transfer + ('--to', 'beta', '--no-accept', '--wait',
                                  '--timeout', timeout),
                      "argument --timeout: takes a number of seconds, 0 or "
                      "more, not '%s'" % timeout))
    for args, message in cases:
        assert usage(cloud, 'alice-alpha', *args) == (
            'openstack image transfer: error: ' + message)
    assert usage(cloud, 'alice-alpha', 'image', 'share', 'set', img['id'],
                 '--member', '') == (
        'openstack image share set: error: argument --member: must not be '
        'empty')
    after = cloud.glance('admin').images.get(img['id'])
    assert after['visibility'] == 'private'


def test_timeout_zero_checks_once(cloud):
    img = cloud.make_image('carol-alpha')
    beta = cloud.project('beta')
    res = cloud.run('carol-alpha', 'image', 'transfer', img['id'], '--to',
                    'beta', '--no-accept', '--wait', '--timeout', '0', '-f',
                    'json')
    assert res.returncode == 1
    assert stderr_lines(res)[-1] == (
        'Timed out after 0 s waiting for image %s: project beta (%s) has '
        'not accepted it yet' % (img['id'], beta))
    res = cloud.run('carol-alpha', 'image', 'share', 'wait', img['id'],
                    '--timeout', '0')
    assert res.returncode == 1
    assert stderr_lines(res) == [
        'Timed out after 0 s waiting for image %s: project beta (%s) has '
        'not accepted it yet' % (img['id'], beta)]


def test_hidden_images_are_found_selected_listed_and_copied_hidden(cloud):
    tag = unique('tag')
    img = cloud.make_image('alice-alpha', name=unique('hidden'), tags=[tag],
                           os_hidden=True)
    beta = cloud.project('beta')
    plan, warnings = cloud.json('alice-alpha', 'image', 'transfer', '--tag',
                                tag, '--to-cloud', 'bob-beta', '--dry-run')
    assert [r['Image ID'] for r in plan] == [img['id']]
    assert '1 image(s) match --tag %s: %s (%s)' % (
        tag, img['name'], img['id']) in warnings
    rows, _ = cloud.json('alice-alpha', 'image', 'transfer', img['name'],
                         '--to-cloud', 'bob-beta')
    assert [(r['Image ID'], r['Member Status']) for r in rows] == [
        (img['id'], 'accepted')]
    mine, _ = cloud.json('alice-alpha', 'image', 'share', 'list')
    assert (img['id'], beta, 'accepted') in [
        (r['Image ID'], r['Project ID'], r['Member Status']) for r in mine]
    incoming, _ = cloud.json('bob-beta', 'image', 'share', 'list',
                             '--incoming')
    assert (img['id'], 'accepted') in [
        (r['Image ID'], r['Member Status']) for r in incoming]
    status, _ = cloud.json('bob-beta', 'image', 'share', 'status',
                           img['name'])
    assert status['member_status'] == 'accepted'
    copied, _ = cloud.json('alice-alpha', 'image', 'transfer', img['name'],
                           '--mode', 'copy', '--to-cloud', 'bob-beta')
    copy = cloud.glance('admin').images.get(copied[0]['Image ID'])
    assert copy['os_hidden'] is True and copy['owner'] == beta
    again, _ = cloud.json('alice-alpha', 'image', 'transfer', img['id'],
                          '--mode', 'copy', '--to-cloud', 'bob-beta')
    assert (again[0]['Image ID'], again[0]['Changes']) == (
        copy['id'], 'none (verified copy exists)')
