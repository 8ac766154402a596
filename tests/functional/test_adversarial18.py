"""Adversarial checks of issue 18 on the real local cloud.

Every command refuses a blank name or ID, and options that do not go
together, as a usage error: exit code 2, one line, nothing on stdout.
"""

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.plugin]


def usage(cloud, cloud_name, *args):
    res = cloud.run(cloud_name, *args)
    assert (res.returncode, res.stdout) == (2, ''), res.stderr
    lines = stderr_lines(res)
    assert len(lines) == 1, lines
    return lines[0]


def test_blank_names_and_conflicts_are_usage_errors(cloud):
    img = cloud.make_image('alice-alpha')
    share = ('image', 'share')
    blank = 'must not be empty'
    cases = [
        (share + ('status', ''), 'status', 'argument <image>: ' + blank),
        (share + ('accept', ' '), 'accept', 'argument <image>: ' + blank),
        (share + ('reject', img['id'], '--project', ''), 'reject',
         'argument --project: ' + blank),
        (share + ('revoke', '', '--all'), 'revoke',
         'argument <image>: ' + blank),
        (share + ('revoke', img['id'], ''), 'revoke',
         'argument <project>: ' + blank),
        (share + ('revoke', img['id']), 'revoke',
         'name the projects to remove, or give --all (not both)'),
        (share + ('wait', img['id'], ' '), 'wait',
         'argument <project>: ' + blank),
        (share + ('set', '', '--member', 'beta'), 'set',
         'argument <image>: ' + blank),
        (share + ('set', img['id'], '--member', 'beta', '--member-file',
                  ''), 'set', 'argument --member-file: ' + blank),
        (share + ('audit', '--project', ''), 'audit',
         'argument --project: ' + blank),
        (share + ('audit', '--pending-days', '-1'), 'audit',
         "argument --pending-days: must be a number of days, 0 or more: "
         "'-1'"),
        (('image', 'transfer', img['id'], '--to', 'beta', '--mode', 'copy',
          '--name', ''), 'transfer', 'argument --name: ' + blank),
        (('image', 'transfer', img['id'], '--to', 'beta', '--timeout',
          '5'), 'transfer', '--timeout applies to --wait only'),
        (('image', 'transfer', img['id'], '--to', 'beta', '--mode', 'owner',
          '--protect'), 'transfer', '--protect applies to --mode share only'),
    ]
    for args, command, message in cases:
        prog = 'openstack image %s' % (
            command if command == 'transfer' else 'share ' + command)
        assert usage(cloud, 'alice-alpha', *args) == (
            '%s: error: %s' % (prog, message))
    after = cloud.glance('admin').images.get(img['id'])
    assert after['visibility'] == 'private'


def test_boolean_and_os_hidden_properties_select_images(cloud):
    tag = unique('sel')
    shown = cloud.make_image('alice-alpha', protected=True, tags=[tag])
    hidden = cloud.make_image('alice-alpha', protected=True, tags=[tag],
                              os_hidden=True)
    cloud.make_image('alice-alpha', tags=[tag])
    for props, want in ((['protected=true'], {shown['id'], hidden['id']}),
                        (['os_hidden=true'], {hidden['id']}),
                        (['os_hidden=false', 'protected=true'],
                         {shown['id']})):
        args = ['image', 'transfer', '--tag', tag, '--to-cloud', 'bob-beta',
                '--dry-run']
        for prop in props:
            args += ['--property', prop]
        rows, _ = cloud.json('alice-alpha', *args)
        assert {r['Image ID'] for r in rows} == want, props
    for img in (shown, hidden):
        cloud.glance('admin').images.update(img['id'], protected=False)
