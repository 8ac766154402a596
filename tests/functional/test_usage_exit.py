"""Usage errors of every command, on the real local cloud (issue 15).

Options that exclude each other, options of another mode, values out of
range: exit code 2, nothing on stdout, one line on stderr, and the
images, their members and the target projects' images exactly as before.
"""

import pytest

from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.plugin]


def state(cloud, img):
    """What a command could have changed: the image, members, copies."""
    admin = cloud.glance('admin')
    image = admin.images.get(img['id'])
    members = sorted((m['member_id'], m['status'], m['updated_at'])
                     for m in admin.image_members.list(img['id'])) \
        if image['visibility'] == 'shared' else []
    beta = sorted(i['id'] for i in admin.images.list(
        filters={'owner': cloud.project('beta')}))
    return (image['visibility'], image['protected'], image['owner'],
            image['updated_at'], sorted(image.get('tags') or []),
            members, beta)


def cases(img, shared):
    transfer = ('image', 'transfer', img['id'], '--to', 'beta')
    return [
        (transfer + ('--mode', 'copy', '--no-accept'),
         '--no-accept applies to --mode share only'),
        (transfer + ('--mode', 'copy', '--protect'),
         '--protect applies to --mode share only'),
        (transfer + ('--keep-id',), '--keep-id applies to --mode copy only'),
        (transfer + ('--visibility', 'shared'),
         '--visibility applies to --mode copy only'),
        (transfer + ('--mode', 'owner', '--to', 'gamma'),
         '--mode owner takes one target project (an image has one owner): '
         'give one --to, --to-cloud or --to-domain'),
        (transfer + ('--mode', 'copy', '--allow-volume-backed'),
         '--allow-volume-backed applies to --mode share only (a copy of a '
         'volume-backed snapshot would be 0 bytes that boot nowhere)'),
        (transfer + ('--mode', 'copy', '--progress', '--no-progress'),
         'argument --no-progress: not allowed with argument --progress'),
        (transfer + ('--wait',), '--wait needs --no-accept: without it the '
                                 'run accepts for every target itself'),
        (transfer + ('--parallel', '11'),
         "argument --parallel: takes a whole number from 1 to 10 (the "
         "connections a session keeps open per host), not '11'"),
        (('image', 'share', 'accept', shared['id'], '--project-domain',
          'Default'), '--project-domain needs --project'),
        (('image', 'share', 'revoke', shared['id'], 'beta', '--all'),
         'name the projects to remove, or give --all (not both)'),
        (('image', 'share', 'set', shared['id'], '--no-members'),
         '--no-members goes with --prune, without --member, '
         '--member-file or --member-domain'),
        (('image', 'share', 'list', '--parallel', '0'),
         "argument --parallel: takes a whole number from 1 to 10 (the "
         "connections a session keeps open per host), not '0'"),
        (('image', 'share', 'wait', shared['id'], '--timeout', '-1'),
         "argument --timeout: takes a number of seconds from 0 to 604800 (a "
         "week), not "
         "'-1'"),
        (('image', 'share', 'audit', '--fix', '--incoming',
          '--all-projects'),
         '--incoming and --all-projects exclude each other'),
        (('image', 'share', 'audit', '--pending-days', '-2'),
         "argument --pending-days: must be a number of days, 0 or more: "
         "'-2'"),
        # Output options, checked before the write (issue 24): the image
        # was shared, the member removed, then -c refused.
        (transfer + ('-c', 'Nonexistent'),
         "-c 'Nonexistent': no such column; the columns are 'Image ID', "
         "'Image Name', 'Project ID', 'Project Name', 'Member Status', "
         "'Changes'"),
        (('image', 'share', 'revoke', shared['id'], '--all', '--unshare',
          '-c', 'Bogus'),
         "-c 'Bogus': no such column; the columns are 'Image ID', "
         "'Project ID', 'Project Name', 'Result'"),
        (transfer + ('--exclude', 'service'), '--exclude needs --to-domain'),
    ]


def test_usage_errors_are_exit_2_one_line_and_change_nothing(cloud):
    img = cloud.make_image('alice-alpha')
    shared = cloud.make_image('alice-alpha')
    cloud.json('alice-alpha', 'image', 'transfer', shared['id'], '--to',
               cloud.project('beta'), '--no-accept')
    before = state(cloud, img), state(cloud, shared)
    for args, message in cases(img, shared):
        command = ' '.join(args[:3] if args[1] == 'share' else args[:2])
        # --mode owner is an admin's: its refusal must not need the role.
        who = 'admin' if 'owner' in args else 'alice-alpha'
        res = cloud.run(who, *args, '-f', 'json')
        assert (res.returncode, res.stdout, stderr_lines(res)) == (
            2, '', ['openstack %s: error: %s' % (command, message)]), args
    assert (state(cloud, img), state(cloud, shared)) == before
    assert before[1][5][0][1] == 'pending'


def test_a_bad_retries_count_is_one_line_exit_2(cloud):
    # The option is OSC's global parser's, whose usage errors print its
    # whole usage first; the count is still one line, from the option or
    # from the environment, before anything is asked of the cloud.
    shared = cloud.make_image('alice-alpha')
    before = state(cloud, shared)
    for bad in ('-1', 'abc', '1e3', '1000'):
        res = cloud.run('alice-alpha', '--os-image-share-retries', bad,
                        'image', 'share', 'revoke', shared['id'], '--all',
                        '-f', 'json')
        assert (res.returncode, res.stdout, stderr_lines(res)) == (
            2, '', ['openstack: error: argument --os-image-share-retries '
                    '(env OS_IMAGE_SHARE_RETRIES): takes a whole number from '
                    '0 to 10 (0 disables retries), not %r' % bad]), bad
    assert state(cloud, shared) == before


def test_an_unknown_option_is_named_not_a_missing_target(cloud):
    # The command line breaks a rule too (no target): the option nobody
    # knows is what the one line names, before any request.
    img = cloud.make_image('alice-alpha')
    before = state(cloud, img)
    res = cloud.run('alice-alpha', 'image', 'transfer', img['id'],
                    '--bogus', '-f', 'json')
    assert (res.returncode, res.stdout, stderr_lines(res)) == (
        2, '', ['openstack image transfer: error: unrecognized arguments: '
                '--bogus'])
    assert state(cloud, img) == before
