"""``image transfer`` as one pipeline: targets, plan, run, one Result.

``transfer`` resolves the targets once (how each accepts included) while
the owner's reads run, has the mode make a plan of explicit steps per
(image, target), and either returns that plan (``dry_run``) or executes
exactly its steps; every mode returns the same ``plan.Result``.
"""

from concurrent import futures
import logging

from osc_imageshare.transfer import copy
from osc_imageshare.transfer import owner
from osc_imageshare.transfer import plan as plan_mod
from osc_imageshare.transfer import share
from osc_imageshare.transfer import targets as targets_mod

LOG = logging.getLogger(__name__)

MODES = {'share': share, 'copy': copy, 'owner': owner}


def transfer(glance, ident, image_refs, mode='share', to=(),
             project_domain=None, to_clouds=(), dry_run=False,
             open_cloud=None, glance_for=None, **options):
    """Transfer ``image_refs`` to the targets; returns a ``plan.Result``.

    ``options`` are the mode's: share: ``accept``, ``protect``,
    ``earlier_members`` ('refuse', 'revoke' or 'keep'); copy: ``name``,
    ``visibility``, ``progress``, ``copy_options`` (more keyword arguments
    of ``copy.copy_image``).
    """
    impl = MODES[mode]
    impl.preflight(ident)
    # Authenticating the targets (a token each) and reading the images
    # are independent: do both at once, one round trip saved or more.
    with futures.ThreadPoolExecutor(1) as pool:
        resolving = pool.submit(
            targets_mod.resolve, ident, to, project_domain, to_clouds,
            impl.needs_accept(options), open_cloud, glance_for,
            impl.ALLOW_OWN)
        try:
            read, read_error = impl.read(glance, ident, image_refs), None
        except Exception as e:
            read, read_error = None, e
        targets = resolving.result()   # a target's error comes first
    if read_error is not None:
        raise read_error
    plan = impl.make_plan(read, targets, options)
    warnings = targets_mod.unverified_warnings(targets)
    if dry_run:
        warnings += impl.dry_run_warnings(plan, ident)
    else:
        warnings += impl.execute(glance, ident, plan)
    return plan_mod.result(plan, impl, dry_run, warnings)
