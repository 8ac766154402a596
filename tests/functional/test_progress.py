"""A copy's progress: its phases on stderr when it is a terminal, never on
stdout (the ``openstack`` CLI under a pseudo-terminal for stderr)."""

import json
import os
import re
import subprocess
import threading

import pytest

from osc_imageshare.cli import image_transfer
from tests.functional.conftest import BIN
from tests.functional.test_conversion import conv  # noqa: F401 (fixture)
from tests.functional.test_conversion import qcow2
from tests.functional.test_conversion import qcow2_source
from tests.functional.test_copy import make_source

pytestmark = [pytest.mark.plugin]

PHASE = re.compile(r'^(uploading|staging|importing|verifying) since '
                   r'\d\d:\d\d:\d\d \(\d+ s\): (.+)$')


def run_on_a_terminal(cloud, *args):
    """``openstack ARGS`` with stderr on a pseudo-terminal, stdout piped.

    Returns ``(exit code, stdout, what the terminal showed)``.
    """
    master, slave = os.openpty()
    shown = []

    def read():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:     # EIO: the last writer closed the terminal
                return
            if not data:
                return
            shown.append(data)
    proc = subprocess.Popen(
        [os.path.join(BIN, 'openstack')] + list(args), env=cloud.env(),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        reader.join(30)
        os.close(master)
    return proc.returncode, out.decode(), b''.join(shown).decode()


def phases(terminal):
    """Each state the progress line showed, in order: ``(phase, text)``."""
    found = []
    for part in re.split(r'[\r\n]+', terminal.replace('\x1b[K', '')):
        m = PHASE.match(part.strip())
        if m:
            found.append(m.groups())
    return found


def test_glance_download_shows_its_import_on_a_terminal(cloud):
    src = make_source(cloud, size=3 << 20)
    rc, out, terminal = run_on_a_terminal(
        cloud, '--os-cloud', 'alice-alpha', 'image', 'transfer', src['id'],
        '--mode', 'copy', '--to-cloud', 'alice-alpha-r2', '-f', 'json')
    assert rc == 0, terminal
    [row] = json.loads(out)
    assert list(row) == list(image_transfer.COLUMNS['copy'])
    assert (row['Method'], row['Changes']) == ('glance-download', 'copied')
    seen = phases(terminal)
    names = [p for p, _ in seen]
    assert 'importing' in names and names[-1] == 'verifying', terminal
    # Only what Glance reports: the image's status, as it changes.
    assert all(re.match(r'image (queued|importing|active)', text)
               for p, text in seen if p == 'importing'), seen
    assert seen[-1] == ('verifying', 'size and sha512 against the source')
    assert terminal.endswith('\n')
    assert 'since' not in out and '\r' not in out


def test_glance_direct_with_progress_shows_staging_then_import(cloud):
    src = make_source(cloud, size=3 << 20)
    rc, out, terminal = run_on_a_terminal(
        cloud, '--os-cloud', 'alice-alpha', 'image', 'transfer', src['id'],
        '--mode', 'copy', '--to-cloud', 'bob-beta-r2', '--import-method',
        'glance-direct', '--progress', '-f', 'json')
    assert rc == 0, terminal
    [row] = json.loads(out)
    assert row['Method'] == 'glance-direct'
    names = [p for p, _ in phases(terminal)]
    order = [n for i, n in enumerate(names) if n not in names[:i]]
    assert order == ['staging', 'importing', 'verifying'], terminal
    assert any(t.startswith('100.0%') for p, t in phases(terminal)
               if p == 'staging')
    # The bytes Glance reports it holds, once staged.
    assert '%d of %d bytes' % (src['size'], src['size']) in terminal
    assert 'since' not in out and '\r' not in out


def test_a_converting_glance_shows_the_conversion(conv, tmp_path):  # noqa
    src = qcow2_source(conv, qcow2(tmp_path))
    rc, out, terminal = run_on_a_terminal(
        conv, '--os-cloud', 'alice-alpha', 'image', 'transfer', src['id'],
        '--mode', 'copy', '--to-cloud', 'alice-alpha-conv', '-f', 'json')
    assert rc == 0, terminal
    [row] = json.loads(out)
    assert row['Changes'].startswith('copied, converted by the target')
    importing = [t for p, t in phases(terminal) if p == 'importing']
    assert importing[-1].startswith('image active'), importing
    assert importing[-1].endswith(', converted qcow2->raw'), importing
    assert 'since' not in out and '\r' not in out


def test_no_progress_off_a_terminal(cloud):
    src = make_source(cloud, size=1 << 20)
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'alice-alpha-r2', '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert res.stderr == ''
    [row] = json.loads(res.stdout)
    assert row['Method'] == 'glance-download'


def test_progress_off_a_terminal_is_one_plain_line_per_phase(cloud):
    # A log file, say: no carriage return, no escape, nothing rewritten.
    src = make_source(cloud, size=1 << 20)
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'alice-alpha-r2', '--progress',
                    '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]['Method'] == 'glance-download'
    assert not re.search(r'[\x00-\x09\x0b-\x1f\x7f]', res.stderr), res.stderr
    lines = res.stderr.splitlines()
    assert [PHASE.match(line).group(1) for line in lines] == [
        'importing', 'verifying'], lines
    assert PHASE.match(lines[0]).group(2).startswith('image active')
    assert PHASE.match(lines[1]).group(2) == (
        'size and sha512 against the source')


def test_a_refused_upload_ends_its_line_saying_so(cloud):
    # bob's region of the other Glance takes imports only: the upload's
    # line ends with the refusal, then the way in that worked.
    src = make_source(cloud, size=1 << 20)
    res = cloud.run('alice-alpha', 'image', 'transfer', src['id'], '--mode',
                    'copy', '--to-cloud', 'bob-beta-r2', '--progress',
                    '-f', 'json')
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]['Method'] == 'glance-direct'
    assert not re.search(r'[\x00-\x09\x0b-\x1f\x7f]', res.stderr), res.stderr
    shown = [PHASE.match(line).groups() for line in res.stderr.splitlines()]
    assert [phase for phase, _ in shown] == [
        'uploading', 'staging', 'importing', 'verifying'], shown
    assert shown[0][1].startswith('refused by the target ('), shown


def test_no_progress_on_a_terminal_with_no_progress(cloud):
    src = make_source(cloud, size=1 << 20)
    rc, out, terminal = run_on_a_terminal(
        cloud, '--os-cloud', 'alice-alpha', 'image', 'transfer', src['id'],
        '--mode', 'copy', '--to-cloud', 'alice-alpha-r2', '--no-progress',
        '-f', 'json')
    assert rc == 0, terminal
    assert terminal == ''
    assert json.loads(out)[0]['Changes'] == 'copied'
