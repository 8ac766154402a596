"""Input that must never be misread, on the real local cloud (issue 18).

One image is one image however it is named; a usage error is exit code
2 and one line, and changes nothing.
"""

import json
import subprocess

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.plugin]


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
    for timeout in ('-1', 'nan', 'inf', '1e308'):
        cases.append((transfer + ('--to', 'beta', '--no-accept', '--wait',
                                  '--timeout', timeout),
                      "argument --timeout: takes a number of seconds from 0 "
                      "to 604800 (a week), not '%s'" % timeout))
    cases += [
        (('image', 'transfer', '--property', 'name=b1', '--property',
          'name=b2', '--to', 'beta'),
         "--property name is given twice ('name=b1', 'name=b2'): an image "
         "has one value per key"),
        (('image', 'transfer', '--property', 'protected=yes', '--to',
          'beta'),
         "--property protected=yes: Glance takes true or false for "
         "'protected'")]
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


def shared_with_beta(cloud):
    img = cloud.make_image('alice-alpha')
    cloud.json('alice-alpha', 'image', 'transfer', img['id'], '--to-cloud',
               'bob-beta')
    return img


def members_of(cloud, image_id):
    return [m['member_id'] for m in
            cloud.glance('admin').image_members.list(image_id)]


def set_from(cloud, image_id, text, *args, path=None):
    """``image share set --member-file`` from stdin, or from ``path``."""
    import os
    import subprocess

    from tests.functional.conftest import BIN
    argv = [os.path.join(BIN, 'openstack'), '--os-cloud', 'alice-alpha',
            'image', 'share', 'set', image_id, '--member-file',
            str(path or '-')] + list(args)
    return subprocess.run(argv, input=text, env=cloud.env(),
                          capture_output=True, timeout=300)


def test_an_empty_member_file_never_revokes_everyone(cloud, tmp_path):
    img = shared_with_beta(cloud)
    beta = cloud.project('beta')
    comments = tmp_path / 'members.txt'
    comments.write_text('# the consumers\n\n   # none yet\n')
    for text, path in ((b'', None), (b'', comments)):
        res = set_from(cloud, img['id'], text, '--prune', '-f', 'json',
                       path=path)
        assert res.returncode == 1
        assert res.stdout == b''
        assert res.stderr.decode().splitlines() == [
            'No members given (an empty member file, or only comments): '
            '--prune would revoke all 1 member(s) of image %s; give '
            '--no-members instead of the list if that is what you mean'
            % img['id']]
    assert members_of(cloud, img['id']) == [beta]
    # A private image hides its members: no count of them is made up.
    private = cloud.make_image('alice-alpha')
    res = set_from(cloud, private['id'], b'', '--prune', '-f', 'json')
    assert (res.returncode, res.stdout) == (1, b'')
    assert res.stderr.decode().splitlines() == [
        'No members given (an empty member file, or only comments): '
        '--prune would revoke no member of image %s that Glance lists (it '
        'is private: the members it hides, if any, are neither listed nor '
        'revoked); give --no-members instead of the list if that is what '
        'you mean'
        % private['id']]
    plan, warnings = cloud.json('alice-alpha', 'image', 'share', 'set',
                                img['id'], '--prune', '--no-members',
                                '--dry-run')
    assert [(r['Project ID'], r['Diff']) for r in plan] == [
        (beta, 'plan: revoked')]
    assert ('Image %s: --prune --no-members would revoke all 1 member(s).'
            % img['id']) in warnings
    assert members_of(cloud, img['id']) == [beta]
    rows, _ = cloud.json('alice-alpha', 'image', 'share', 'set', img['id'],
                         '--prune', '--no-members')
    assert [(r['Project ID'], r['Diff']) for r in rows] == [
        (beta, 'revoked')]
    assert members_of(cloud, img['id']) == []


def test_a_member_file_of_repeats_is_resolved_once(cloud, tmp_path):
    img = cloud.make_image('alice-alpha')
    beta = cloud.project('beta')
    listing = tmp_path / 'members.txt'
    listing.write_text(('%s\n' % beta) * 1000)
    res = set_from(cloud, img['id'], b'', '--debug', '-f', 'json',
                   path=listing)
    assert res.returncode == 0, res.stderr[-2000:]
    keystone = [line for line in res.stderr.decode().splitlines()
                if 'REQ: curl' in line and '/v3/projects' in line]
    assert len(keystone) <= 2, keystone   # by ID, then by name: once
    assert members_of(cloud, img['id']) == [beta]


def test_a_binary_member_file_names_the_file_and_line(cloud, tmp_path):
    img = cloud.make_image('alice-alpha')
    binary = tmp_path / 'members.bin'
    binary.write_bytes(b'# ok\n\x7fELF\x02\x01\xff\xfe\x00\n')
    res = set_from(cloud, img['id'], b'', '--prune', path=binary)
    assert res.returncode == 1 and res.stdout == b''
    assert res.stderr.decode().splitlines() == [
        '--member-file %s, line 2 is not UTF-8 text (byte 0xff at column '
        '7): give a text file of project names or IDs, one per line'
        % binary]
    assert cloud.glance('admin').images.get(img['id'])[
        'visibility'] == 'private'


def test_a_newline_in_a_name_keeps_one_row_per_line(cloud):
    """Names are other projects' data: -f value and shell escape them."""
    name = unique('two\nlines $(false) \x1b[2J')
    img = cloud.make_image('alice-alpha', name=name)
    shown = name.replace('\n', '\\n').replace(
        '\x1b', '\\x1b')
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--to-cloud', 'bob-beta', '-f', 'value', '-c',
                    'Image Name', '-c', 'Member Status')
    assert res.returncode == 0, res.stderr
    assert res.stdout == '%s accepted\n' % shown
    # -f shell: what eval gives back is the escaped text, nothing runs.
    res = cloud.run('bob-beta', 'image', 'share', 'status', img['id'],
                    '-f', 'shell', '-c', 'name')
    assert res.returncode == 0, res.stderr
    evaluated = subprocess.run(
        ['sh', '-c', 'eval "$1"; printf %s "$name"', 'sh', res.stdout],
        capture_output=True, text=True, check=True).stdout
    assert evaluated == shown
    # JSON carries the name as it is.
    status, _ = cloud.json('bob-beta', 'image', 'share', 'status', img['id'])
    assert status['name'] == name
    # The other commands' value rows, and a warning naming it on stderr:
    # one line each, the name escaped.
    res = cloud.run('bob-beta', 'image', 'share', 'status', img['id'],
                    '-f', 'value', '-c', 'name')
    assert (res.returncode, res.stdout) == (0, shown + '\n'), res.stderr
    res = cloud.run('alice-alpha', 'image', 'share', 'list', '-f', 'value',
                    '-c', 'Image ID', '-c', 'Image Name')
    assert res.returncode == 0, res.stderr
    assert [line for line in res.stdout.splitlines()
            if line.startswith(img['id'])] == ['%s %s' % (img['id'], shown)]
    res = cloud.run('bob-beta', 'image', 'transfer', img['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta', '-f', 'json')
    assert res.returncode == 0, res.stderr
    copy = json.loads(res.stdout)[0]['Image ID']
    assert '\x1b' not in res.stderr
    assert ("Image %s: its copy %s in your project %s has the same name "
            "'%s', in the same Glance: that name now finds both (use the "
            "IDs, or give --name)." % (
                img['id'], copy, 'beta (%s)' % cloud.project('beta'), shown)
            ) in res.stderr.splitlines()


def test_a_newline_in_a_project_name_cannot_forge_a_stderr_line(cloud):
    # A project's owner names it; the sentence quoting it stays one line.
    name = unique('pr\nWARNING forged')
    project, _ = cloud.json('admin', 'project', 'create', name, '--domain',
                            'Default')
    try:
        img = cloud.make_image('admin')
        res = cloud.run('admin', 'image', 'transfer', img['id'], '--to',
                        project['id'], '--no-accept', '-f', 'json')
        assert res.returncode == 0, res.stderr
        assert not [line for line in res.stderr.splitlines()
                    if line.startswith('WARNING forged')], res.stderr
        shown = name.replace('\n', '\\n')
        assert [line for line in res.stderr.splitlines()
                if line.startswith('Project %s (%s) has not accepted' % (
                    shown, project['id']))], res.stderr
        # An error quoting it: one line too.
        res = cloud.run('admin', 'image', 'share', 'revoke', img['id'],
                        name + '-none')
        assert res.returncode == 1
        assert not [line for line in res.stderr.splitlines()
                    if line.startswith('WARNING forged')], res.stderr
    finally:
        cloud.run('admin', 'project', 'delete', project['id'])


def test_property_values_read_as_glance_takes_them(cloud):
    # protected=True is Glance's 'true': the image is selected (it was
    # Glance's raw 400).
    key = unique('sel')
    img = cloud.make_image('alice-alpha', protected=True, **{key: 'x'})
    try:
        rows, notes = cloud.json(
            'alice-alpha', 'image', 'transfer', '--property',
            'protected=True', '--property', '%s=x' % key, '--to-cloud',
            'bob-beta', '--dry-run')
        assert {r['Image ID'] for r in rows} == {img['id']}
        assert any('--property protected=true' in n for n in notes), notes
    finally:
        cloud.glance('admin').images.update(img['id'], protected=False)


def test_a_member_file_bom_is_skipped_an_invisible_character_named(
        cloud, tmp_path):
    img = cloud.make_image('alice-alpha')
    beta = cloud.project('beta')
    listing = tmp_path / 'members.txt'
    listing.write_bytes(('\ufeff%s\n' % beta).encode())
    res = set_from(cloud, img['id'], b'', '--dry-run', '-f', 'json',
                   path=listing)
    assert res.returncode == 0, res.stderr
    assert [r['Project ID'] for r in json.loads(res.stdout)] == [beta]
    listing.write_bytes(('beta\u200b\n').encode())
    res = set_from(cloud, img['id'], b'', path=listing)
    assert res.returncode == 1 and res.stdout == b''
    assert res.stderr.decode().splitlines() == [
        '--member-file %s, line 1 holds an invisible character, U+200B ZERO '
        'WIDTH SPACE, at column 5: remove it (no project name or ID has one)'
        % listing]
    assert cloud.glance('admin').images.get(img['id'])[
        'visibility'] == 'private'
