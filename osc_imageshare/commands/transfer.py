"""``openstack image transfer``."""

import functools
import logging

from osc_lib.command import command
from osc_lib import exceptions

from osc_imageshare import clouds
from osc_imageshare import identity
from osc_imageshare import share

LOG = logging.getLogger(__name__)


class TransferImage(command.Lister):
    """Share images with other projects and accept them there, in one step.

    Sets a private image shared, adds each target project as a member,
    accepts as that project and reads the membership back.  A failed pair
    is rolled back; the others go ahead.  Re-running changes nothing.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'images', metavar='<image>', nargs='+',
            help='Image to transfer (name or ID); repeat for several. Your '
                 'project must own it')
        parser.add_argument(
            '--to', metavar='<project>', action='append', default=[],
            help='Target project (name or ID); repeat for several. A name '
                 'must resolve to one project; an ID you may not look up '
                 'is used with a warning')
        parser.add_argument(
            '--project-domain', metavar='<project-domain>',
            help='Domain (name or ID) of the --to projects, where a project '
                 'name exists in several domains')
        parser.add_argument(
            '--to-cloud', metavar='<cloud>', action='append', default=[],
            help='clouds.yaml entry scoped to a target project: that '
                 'project is a target, and accepts with these credentials; '
                 'repeat for several')
        parser.add_argument(
            '--no-accept', action='store_true',
            help='Add the members but leave them pending; each target then '
                 "runs 'openstack image share accept <image>'")
        parser.add_argument(
            '--protect', action='store_true',
            help='Also set the image protected, so that its owner cannot '
                 'delete it by accident while others depend on it')
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Print the plan, each step per image and project, and '
                 'change nothing')
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        result = share.transfer(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.images, to=parsed_args.to,
            project_domain=parsed_args.project_domain,
            to_clouds=parsed_args.to_cloud,
            accept=not parsed_args.no_accept, protect=parsed_args.protect,
            dry_run=parsed_args.dry_run, open_cloud=clouds.open_cloud,
            glance_for=functools.partial(
                clouds.glance_for, region_name=cm.region_name,
                interface=cm.interface))
        for warning in result.warnings:
            LOG.warning(warning)
        for error in result.errors:
            LOG.error(error)
        self._failed = result.failed, result.total
        return share.COLUMNS, result.rows

    def run(self, parsed_args):
        # Print what succeeded, then fail: scripts get both.
        self._failed = 0, 0
        code = super().run(parsed_args)
        failed, total = self._failed
        if failed:
            raise exceptions.CommandError(
                'Failed to transfer %d of %d image/project pairs'
                % (failed, total))
        return code
