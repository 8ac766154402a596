"""A batch says each kind of warning once, with the images it concerns."""

import pytest

from tests.functional.conftest import stderr_lines
from tests.functional.conftest import unique
from tests.functional.test_transfer import depends
from tests.functional.test_transfer import protect

pytestmark = [pytest.mark.plugin]


def test_a_batch_of_five_prints_each_warning_once(cloud):
    tag = unique('batch')
    images = [cloud.make_image('alice-alpha', tags=[tag])['id']
              for _ in range(5)]
    alpha = cloud.project('alpha')
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer', '--tag',
                                tag, '--to-cloud', 'bob-beta')
    assert sorted(r['Image ID'] for r in rows) == sorted(images)
    order = [r['Image ID'] for r in rows]
    listed = '5 images: %s, %s, %s and 2 more; -v lists them' % tuple(
        order[:3])
    assert warnings == [
        '%s (%s)' % (depends('<image>', alpha), listed),
        '%s (%s)' % (protect('<image>'), listed)]
    # -v (or --debug) lists every image; a re-run changes nothing.
    res = cloud.run('alice-alpha', '-v', 'image', 'transfer', '--tag', tag,
                    '--to-cloud', 'bob-beta', '-f', 'json')
    assert res.returncode == 0, res.stderr
    full = '5 images: %s' % ', '.join(order)
    assert [w for w in stderr_lines(res) if '<image>' in w] == [
        '%s (%s)' % (depends('<image>', alpha), full),
        '%s (%s)' % (protect('<image>'), full)]


def test_one_image_keeps_its_own_sentences(cloud):
    img = cloud.make_image('alice-alpha')['id']
    _, warnings = cloud.json('alice-alpha', 'image', 'transfer', img,
                             '--to-cloud', 'bob-beta')
    assert warnings == [depends(img, cloud.project('alpha')), protect(img)]
