"""The README's example runs as written, in a new shell (issue 28).

Its commands (the ``$`` lines of the literal block after "Example, on
the local cloud") run in one ``bash -e -c``, in the clone, with nothing
on PATH but the system's directories and no ``OS_*`` variable: only the
setup the README gives (the demo's virtualenv activated, the local
cloud's environment loaded) makes ``openstack`` and the cloud known.
The demo's virtualenv is this test's (the same ``openstack`` with the
plugin), the local cloud is the test's.  What they print is the README's
output, IDs aside, and the cloud holds what it says.
"""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from tests.functional.conftest import ROOT
from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.plugin]

README = os.path.join(ROOT, 'README.rst')
DEMO_ACTIVATE = '.tox/demo/bin/activate'
CLEAN_PATH = '/usr/local/bin:/usr/bin:/bin'
IDS = re.compile(r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                 r'[0-9a-f]{12}\b|\b[0-9a-f]{32}\b')


def example():
    """``(commands, stdout lines, stderr lines)`` of the README's example.

    The output after the commands: the JSON on stdout, then the warnings.
    """
    with open(README) as f:
        text = f.read()
    block = text.split('\nExample, on the local cloud', 1)[1]
    block = block.split('::\n\n', 1)[1]
    lines = []
    for line in block.split('\n'):
        if line and not line.startswith('    '):
            break
        lines.append(line[4:])
    commands = [line[2:] for line in lines if line.startswith('$ ')]
    output = [line for line in lines if line and not line.startswith('$ ')]
    end = output.index(']') + 1
    return commands, output[:end], output[end:]


def without_ids(lines):
    return [IDS.sub('<id>', line) for line in lines]


def test_the_readme_example_runs_as_written_in_a_new_shell(cloud):
    commands, stdout, stderr = example()
    activate = os.path.join(sys.prefix, 'bin', 'activate')
    assert os.path.exists(activate), 'the tests run in a virtualenv'
    script = '\n'.join(c.replace(DEMO_ACTIVATE, shlex.quote(activate))
                       for c in commands)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'VIRTUAL_ENV'))}
    env['PATH'] = CLEAN_PATH
    env['OSC_IMAGESHARE_CLOUD_DIR'] = os.path.dirname(cloud.clouds_yaml)
    res = subprocess.run(['bash', '-e', '-c', script], cwd=ROOT, env=env,
                         capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=300)
    assert res.returncode == 0, (res.stdout, res.stderr)
    # The setup the README says, and the same in the demo's closing hint.
    setup = [c for c in commands if 'openstack' not in c]
    assert setup == ['source ' + DEMO_ACTIVATE,
                     'eval "$(python3 tools/local-cloud env)"']
    with open(os.path.join(ROOT, 'tools', 'demo')) as f:
        assert "echo '  %s'" % setup[1] in f.read()
    [row] = json.loads(res.stdout)
    try:
        assert (without_ids(res.stdout.splitlines()),
                without_ids(stderr_lines(res))) == (
            without_ids(stdout), without_ids(stderr))
        # On the test's cloud: alice's image, beta an accepted member.
        admin = cloud.glance('admin')
        image = admin.images.get(row['Image ID'])
        members = [(m['member_id'], m['status'])
                   for m in admin.image_members.list(image['id'])]
        assert (image['name'], image['owner'], image['visibility'],
                members) == ('web', cloud.project('alpha'), 'shared',
                             [(cloud.project('beta'), 'accepted')])
    finally:
        cloud.glance('admin').images.delete(row['Image ID'])


def declared_version():
    with open(os.path.join(ROOT, 'setup.cfg')) as f:
        return re.search(r'^version = (\S+)$', f.read(), re.M).group(1)


def test_the_plugin_says_its_version(cloud):
    # A version to cite in a bug report and to pin: setup.cfg's, whatever
    # git says (no 0.0.1.devN).
    version = declared_version()
    assert re.fullmatch(r'\d+\.\d+\.\d+', version)
    modules, _ = cloud.json('admin', 'module', 'list', '--all')
    assert modules['osc_imageshare'] == version
    res = subprocess.run([sys.executable, '-m', 'pip', 'show',
                          'osc-imageshare'], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=120)
    assert 'Version: %s' % version in res.stdout.splitlines(), res.stderr


def commands():
    """The plugin's commands, as setup.cfg declares them."""
    with open(os.path.join(ROOT, 'setup.cfg')) as f:
        text = f.read().split('openstack.image_share.v2 =', 1)[1]
    return [line.split('=')[0].strip().replace('_', ' ')
            for line in text.split('\n\n', 1)[0].strip().splitlines()]


def test_every_help_text_is_plain_and_right(cloud):
    # --help is read in a terminal: no reStructuredText markup; and what
    # an option says holds for its command.
    assert "image transfer" in commands()
    for command in commands():
        res = cloud.run('admin', *command.split(), '--help')
        assert res.returncode == 0, (command, res.stderr)
        for markup in ('``', ':option:', ':ref:', '**', '`_'):
            assert markup not in res.stdout, (command, markup)
        if command == 'image share list':
            assert 'order of the arguments' not in res.stdout
            assert 'in the order Glance lists the images' in ' '.join(
                res.stdout.split())


def warning_lines(res):
    return [line.split(': ', 1)[1] for line in res.stderr.splitlines()
            if re.search(r'\w+Warning: ', line)]


def test_verbose_shows_no_deprecation_warning_of_ours(cloud):
    # With -v, Python shows DeprecationWarnings: ours may show only those
    # the openstack command itself gives (openstacksdk's InfluxDB notice,
    # once per cloud it loads), never one our calls cause, nor a third
    # copy of that notice for the --to-cloud entry we load.
    core = warning_lines(cloud.run('alice-alpha', '-v', 'image', 'list',
                                   '--limit', '1'))
    influx = [w for w in core if 'InfluxDB' in w]
    img = cloud.make_image('alice-alpha')
    for args in (('image', 'share', 'status', img['id']),
                 ('image', 'transfer', img['id'], '--to-cloud', 'bob-beta',
                  '--dry-run'),
                 ('image', 'share', 'list', '--incoming')):
        res = cloud.run('alice-alpha', '-v', *args, '-f', 'json')
        assert res.returncode == 0, res.stderr
        ours = warning_lines(res)
        assert set(ours) <= set(core), (args, ours)
        assert [w for w in ours if 'InfluxDB' in w] == influx, args
