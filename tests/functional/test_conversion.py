"""``--mode copy`` into a Glance that converts on import (qcow2 -> raw).

``tools/local-cloud conversion`` adds glance3 to the running cloud: RegionTwo's
configuration (no direct upload, glance-direct and glance-download, sha256)
plus Glance's image_conversion plugin (output raw, run by qemu-img, which
it installs where missing).  Entries alice-alpha-conv and bob-beta-conv
reach it.  The sources are real qcow2 images made by qemu-img.
"""

import io
import json
import os
import subprocess
import sys

import pytest

from tests.functional.conftest import LOCAL_CLOUD
from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique

pytestmark = [pytest.mark.server]

SOURCE_ID = 'imageshare_source_id'
VIRTUAL = 8 << 20       # the raw image glance3 makes: 8 MiB


@pytest.fixture(scope='module')
def conv(cloud):
    """The cloud, with its converting Glance running."""
    res = subprocess.run([sys.executable, LOCAL_CLOUD, 'conversion'],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return cloud


def qcow2(tmp_path, backing=False):
    """A small qcow2 file holding a few written clusters, its bytes."""
    path = str(tmp_path / unique('disk'))
    args = ['qemu-img', 'create', '-q', '-f', 'qcow2']
    if backing:
        base = path + '.base'
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'raw', base,
                        str(VIRTUAL)], check=True)
        args += ['-b', base, '-F', 'raw']
    subprocess.run(args + [path, str(VIRTUAL)], check=True)
    # Data in the image, so the raw copy is more than zeros.
    subprocess.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x5a 0 64k',
                    path], check=True, capture_output=True)
    with open(path, 'rb') as f:
        return f.read()


def qcow2_source(cloud, data, disk_format='qcow2', container_format='bare'):
    """alice's image in RegionOne (its Glance converts nothing)."""
    glance = cloud.glance('alice-alpha')
    image = glance.images.create(name=unique('qcow2'),
                                 disk_format=disk_format,
                                 container_format=container_format)
    glance.images.upload(image['id'], io.BytesIO(data),
                         image_size=len(data))
    return glance.images.get(image['id'])


def glance3(cloud, name):
    """A glanceclient on glance3 (no catalog entry: the entry's URL)."""
    from glanceclient.v2 import client
    region = cloud.region(name)
    return client.Client(session=region.get_session(),
                         endpoint_override=region.get_endpoint('image'))


def copies(cloud, source_id, cloud_name):
    """Every image in glance3 recording ``source_id``, any status."""
    glance = glance3(cloud, cloud_name)
    return list(glance.images.list(filters={SOURCE_ID: source_id}))


def transfer(cloud, source_id, *args):
    return cloud.run('alice-alpha', 'image', 'transfer', source_id,
                     '--mode', 'copy', '-f', 'json', *args)


def assert_converted(cloud, src, row, target, method):
    assert row['Method'] == method
    glance = glance3(cloud, target)
    copy = glance.images.get(row['Image ID'])
    assert copy['status'] == 'active'
    assert (copy['disk_format'], copy['size']) == ('raw', VIRTUAL)
    assert copy['os_hash_algo'] == 'sha256'
    # The row reports the conversion with the target's figures.
    assert row['Changes'] == (
        'copied, converted by the target: qcow2 -> raw, %d bytes, '
        'sha256:%s' % (VIRTUAL, copy['os_hash_value']))
    assert (row['Size'], row['Hash']) == (
        VIRTUAL, 'sha256:' + copy['os_hash_value'])
    # The source's hash, recorded on the copy: it names what was sent.
    assert copy['imageshare_source_hash'] == 'sha512:' + src[
        'os_hash_value']
    assert copy['imageshare_converted'] == 'qcow2->raw'
    assert copy[SOURCE_ID] == src['id']
    # The data is the source's disk, as raw.
    data = b''.join(glance.images.data(copy['id']))
    assert len(data) == VIRTUAL
    assert data[:65536] == b'\x5a' * 65536
    assert data[65536:] == bytes(VIRTUAL - 65536)
    return copy


@pytest.mark.parametrize('target,args,method', [
    # bob may not read alice's image: upload is refused there, import.
    ('bob-beta-conv', [], 'glance-direct'),
    # Same project, another region: glance3 pulls it from RegionOne.
    ('alice-alpha-conv', [], 'glance-download'),
    ('alice-alpha-conv', ['--import-method', 'glance-direct'],
     'glance-direct'),
])
def test_converted_copy_reported_labelled_and_found_again(
        conv, tmp_path, target, args, method):
    src = qcow2_source(conv, qcow2(tmp_path))
    assert src['size'] < VIRTUAL
    res = transfer(conv, src['id'], '--to-cloud', target, *args)
    assert res.returncode == 0, res.stderr
    assert stderr_lines(res) == []
    rows = json.loads(res.stdout)
    [row] = rows
    copy = assert_converted(conv, src, row, target, method)
    # A re-run recognises the converted copy: no second copy.
    again = transfer(conv, src['id'], '--to-cloud', target, *args)
    assert again.returncode == 0, again.stderr
    [row2] = json.loads(again.stdout)
    assert (row2['Image ID'], row2['Changes'], row2['Method']) == (
        copy['id'], 'none (verified copy exists)', 'none')
    assert stderr_lines(again) == []
    assert [i['id'] for i in copies(conv, src['id'], target)] == [copy['id']]


@pytest.mark.parametrize('backing,formats,cause', [
    # qcow2 data labelled raw: glance3 finds the label false.
    (False, ('raw', 'bare'), 'Image format mismatch'),
    # A qcow2 with a backing file, labelled ami (which RegionOne's Glance
    # does not inspect): glance3 refuses to convert it.
    (True, ('ami', 'ami'), 'Image has disallowed configuration'),
])
def test_a_conversion_that_fails_is_one_line_and_cleaned(
        conv, tmp_path, backing, formats, cause):
    src = qcow2_source(conv, qcow2(tmp_path, backing), *formats)
    beta = conv.project('beta')
    res = transfer(conv, src['id'], '--to-cloud', 'bob-beta-conv')
    assert res.returncode == 1
    assert res.stdout == ''   # nothing worked: nothing on stdout
    lines = stderr_lines(res)
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        "Could not copy image %s into project %s by glance-direct: the "
        "target Glance failed to import the data (status queued, "
        "os_glance_failed_import 'fs'; see its log); the partial copy "
        % (src['id'], beta)), lines
    assert lines[0].endswith('in project %s was deleted' % beta), lines
    assert lines[1] == 'Failed to copy 1 of 1 image/project pairs'
    # Cleaned: nothing of it in glance3, in any status.
    assert copies(conv, src['id'], 'bob-beta-conv') == []
    # The cause, in glance3's log.
    log = os.path.join(os.path.dirname(conv.clouds_yaml), 'glance3',
                       'glance.log')
    with open(log) as f:
        assert cause in f.read()
