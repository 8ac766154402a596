"""Plan = execution: ``--dry-run`` prints the very steps the run takes.

For each mode, as a user would: ``openstack image transfer ... --dry-run
-f json`` (the Changes column: ``plan: step, step``), then the same
command without ``--dry-run``, with ``-v``: each step the run starts is
logged (``Image <id>, project <id>: <step>``), and those lines must be
the plan's steps, in order, and nothing else.
"""

import re

import pytest

from tests.functional.conftest import stderr_lines

pytestmark = [pytest.mark.plugin]


def planned(cloud, who, *args):
    rows, _ = cloud.json(who, 'image', 'transfer', *args, '--dry-run')
    return {(r.get('Source ID') or r['Image ID'], r['Project ID']):
            r['Changes'].removeprefix('plan: ').split(', ')
            for r in rows}


def run_steps(cloud, who, *args):
    res = cloud.run(who, '-v', 'image', 'transfer', *args, '-f', 'json')
    assert res.returncode == 0, (res.stdout, res.stderr)
    steps = {}
    for line in stderr_lines(res):
        m = re.search(r'Image (\S+), project (\S+): (.*)$', line)
        if m:
            steps.setdefault(m.group(1, 2), []).append(m.group(3))
    return steps


def test_share_dry_run_steps_are_the_run_steps(cloud):
    images = [cloud.make_image('alice-alpha')['id'] for _ in range(2)]
    args = images + ['--to-cloud', 'bob-beta', '--protect', '--parallel',
                     '2']
    plan = planned(cloud, 'alice-alpha', *args)
    beta = cloud.project('beta')
    assert sorted(plan) == sorted((i, beta) for i in images), plan
    assert plan[images[0], beta] == [
        'visibility private->shared', 'check earlier members', 'protect',
        'add member', 'accept as cloud bob-beta'], plan
    assert run_steps(cloud, 'alice-alpha', *args) == plan
    glance = cloud.glance('alice-alpha')
    for i in images:
        glance.images.update(i, protected=False)


def test_copy_dry_run_steps_are_the_run_steps(cloud):
    image = cloud.make_image('alice-alpha')['id']
    args = [image, '--mode', 'copy', '--to-cloud', 'bob-beta']
    plan = planned(cloud, 'alice-alpha', *args)
    beta = cloud.project('beta')
    assert list(plan) == [(image, beta)], plan
    assert plan[image, beta][0].startswith('copy 4096 bytes as cloud '
                                           'bob-beta by '), plan
    assert run_steps(cloud, 'alice-alpha', *args) == plan


def test_copy_again_plans_and_keeps_the_verified_copy(cloud):
    # A verified copy is there: the plan says it is kept (and renamed),
    # the run does exactly that, and no second copy is made.
    image = cloud.make_image('alice-alpha')['id']
    args = [image, '--mode', 'copy', '--to-cloud', 'bob-beta']
    first, _ = cloud.json('alice-alpha', 'image', 'transfer', *args)
    copy_id = first[0]['Image ID']
    beta = cloud.project('beta')
    plan = planned(cloud, 'alice-alpha', *args)
    assert plan == {(image, beta): ['keep the verified copy %s' % copy_id]}
    assert run_steps(cloud, 'alice-alpha', *args) == plan
    renamed = args + ['--name', 'renamed-copy']
    plan = planned(cloud, 'alice-alpha', *renamed)
    assert plan[image, beta][0].startswith(
        "keep the verified copy %s (set name '" % copy_id), plan
    assert plan[image, beta][0].endswith("'->'renamed-copy')"), plan
    assert run_steps(cloud, 'alice-alpha', *renamed) == plan
    copies = [i for i in cloud.glance('bob-beta').images.list()
              if i.get('imageshare_source_id') == image]
    assert [(c['id'], c['name']) for c in copies] == [
        (copy_id, 'renamed-copy')]


def test_copy_dry_run_refuses_what_the_run_refuses(cloud):
    # --keep-id into the source's own Glance (bob-beta is alice-alpha's
    # region): the dry run refuses it with the run's sentence, exit 1.
    image = cloud.make_image('alice-alpha')['id']
    beta = cloud.project('beta')
    said = []
    for dry in (['--dry-run'], []):
        res = cloud.run('alice-alpha', 'image', 'transfer', image, '--mode',
                        'copy', '--to-cloud', 'bob-beta', '--keep-id', *dry,
                        '-f', 'json')
        assert res.returncode == 1, res.stderr
        assert res.stdout == ''
        said.append(stderr_lines(res))
    assert said[0] == said[1], said
    assert said[0] == [
        "--keep-id cannot copy image %s into project %s: the target is the "
        "source's own Glance (region RegionOne), where an ID names one image "
        "only; copy without --keep-id, or into another region or cloud"
        % (image, beta), 'Failed to copy 1 of 1 image/project pairs']
    assert [i for i in cloud.glance('admin').images.list()
            if i.get('imageshare_source_id') == image] == []


def test_copy_plan_names_the_leftover_the_run_deletes(cloud):
    image = cloud.make_image('alice-alpha')['id']
    beta = cloud.project('beta')
    # What an interrupted copy leaves: a queued image, labelled.
    left = cloud.glance('bob-beta').images.create(
        name='left', disk_format='raw', container_format='bare',
        imageshare_source_id=image)
    args = [image, '--mode', 'copy', '--to-cloud', 'bob-beta']
    plan, _ = cloud.json('alice-alpha', 'image', 'transfer', *args,
                         '--dry-run')
    assert plan[0]['Changes'].endswith(
        '; first delete the image left by an interrupted copy (%s)'
        % left['id']), plan
    rows, warnings = cloud.json('alice-alpha', 'image', 'transfer', *args)
    assert any(w.startswith('Image %s in project %s is the leftover of an '
                            'interrupted copy of %s (queued' % (
                                left['id'], beta, image))
               and w.endswith(': deleted') for w in warnings), warnings
    assert [(i['id'], i['status']) for i in cloud.glance('admin').images.list(
        filters={'imageshare_source_id': image})] == [
        (rows[0]['Image ID'], 'active')]


def test_owner_dry_run_steps_are_the_run_steps(cloud):
    images = [cloud.make_image('alice-alpha')['id'] for _ in range(2)]
    beta = cloud.project('beta')
    args = images + ['--mode', 'owner', '--to', beta]
    plan = planned(cloud, 'admin', *args)
    alpha = cloud.project('alpha')
    assert plan == {(i, beta): ['owner %s->%s' % (alpha, beta)]
                    for i in images}, plan
    assert run_steps(cloud, 'admin', *args) == plan
