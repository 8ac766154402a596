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
