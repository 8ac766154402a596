"""``openstack image transfer``."""

import functools
import logging
import sys

from osc_lib.command import command
from osc_lib import exceptions

from osc_imageshare import clouds
from osc_imageshare import commands
from osc_imageshare import copy
from osc_imageshare import identity
from osc_imageshare import owner
from osc_imageshare import share

LOG = logging.getLogger(__name__)


class TransferImage(command.Lister):
    """Give other projects an image: shared, copied, or handed over.

    --mode share (default) sets a private image shared, adds each target
    project as a member, accepts as that project and reads the membership
    back. --mode copy streams a verified, independent copy into each
    target project. --mode owner (admin) hands the image itself over. A
    failure is rolled back; the other images and projects go ahead.
    Re-running changes nothing.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'images', metavar='<image>', nargs='+',
            help='Image to transfer (name or ID); repeat for several. '
                 '--mode share needs your project to own it; --mode copy '
                 'takes any image your project may download')
        parser.add_argument(
            '--to', metavar='<project>', action='append', default=[],
            help='Target project (name or ID); repeat for several. A name '
                 'must resolve to one project; an ID you may not look up '
                 'is used with a warning')
        commands.add_project_domain(parser, 'the --to projects')
        parser.add_argument(
            '--to-cloud', metavar='<cloud>', action='append', default=[],
            help='clouds.yaml entry scoped to a target project: that '
                 'project is a target, and accepts with these credentials; '
                 'repeat for several')
        parser.add_argument(
            '--mode', choices=['share', 'copy', 'owner'], default='share',
            help="share: the target uses the image, which stays in your "
                 "project (default); copy: the target gets its own verified "
                 "copy (new ID), independent of yours; owner: the target "
                 "becomes the image's owner (same ID; admin only)")
        parser.add_argument(
            '--name', metavar='<name>',
            help='Name of the copy (--mode copy; default: the source name)')
        parser.add_argument(
            '--visibility', choices=['private', 'shared'],
            default='private',
            help='Visibility of the copy (--mode copy; default: private)')
        parser.add_argument(
            '--import-method', choices=('auto',) + copy.METHODS,
            default='auto',
            help='How the target Glance takes the copy (--mode copy): '
                 'upload streams it into the image; glance-direct streams '
                 'it into the staging area, then imports it; '
                 'glance-download has the target Glance, in another region '
                 'of the same Keystone, pull it from the source region '
                 '(no data through this client; the target project must '
                 'be able to read the image); auto (default) uses '
                 'glance-download where it can, else upload, else '
                 'glance-direct, and says which in the Method column')
        parser.add_argument(
            '--keep-signature', action='store_true',
            help='Copy the img_signature* properties too (--mode copy; by '
                 'default they are dropped with a warning, since the '
                 'target verifies them against a certificate it may not '
                 'have)')
        progress = parser.add_mutually_exclusive_group()
        progress.add_argument(
            '--progress', action='store_true', default=None,
            help='Show the copy\'s progress on stderr (--mode copy; default: '
                 'only when stderr is a terminal)')
        progress.add_argument(
            '--no-progress', action='store_false', dest='progress',
            default=None,
            help='Never show the progress of a copy')
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
        args = parsed_args
        self._check_options(args)
        cm = self.app.client_manager
        ident = identity.Identity.from_client_manager(cm)
        glance_for = functools.partial(clouds.glance_for,
                                       region_name=cm.region_name,
                                       interface=cm.interface)
        self._verb = 'transfer'
        if args.mode == 'share':
            result = share.transfer(
                cm.image_share, ident, args.images, to=args.to,
                project_domain=args.project_domain, to_clouds=args.to_cloud,
                accept=not args.no_accept, protect=args.protect,
                dry_run=args.dry_run, open_cloud=clouds.open_cloud,
                glance_for=glance_for)
            columns, rows, warnings, errors = (
                share.COLUMNS, result.rows, result.warnings, result.errors)
            self._failed = result.failed, result.total
        else:
            targets = share.resolve_targets(
                ident, args.to, args.project_domain, args.to_cloud,
                accept=args.mode == 'copy', open_cloud=clouds.open_cloud,
                glance_for=glance_for, allow_own=args.mode == 'copy')
            warnings = share.unverified_warnings(targets)
            if args.mode == 'copy':
                self._verb = 'copy'
                progress = (sys.stderr.isatty() if args.progress is None
                            else args.progress)
                rows, errors, failed, total = copy.transfer_copies(
                    cm.image_share, ident, args.images, targets, args.name,
                    args.visibility, progress, args.dry_run,
                    import_method=args.import_method,
                    keep_signature=args.keep_signature)
                columns = copy.COLUMNS
            else:
                rows, more, errors = owner.transfer_owner(
                    cm.image_share, ident, args.images, targets,
                    args.dry_run)
                warnings += more
                columns = owner.COLUMNS
                failed, total = len(errors), len(args.images)
            self._failed = failed, total
        commands.report(LOG, warnings, errors)
        return columns, rows

    @staticmethod
    def _check_options(args):
        share_only = [o for o, v in (('--no-accept', args.no_accept),
                                     ('--protect', args.protect)) if v]
        copy_only = [o for o, v in (
            ('--name', args.name), ('--progress', args.progress),
            ('--visibility', args.visibility != 'private'),
            ('--import-method', args.import_method != 'auto'),
            ('--keep-signature', args.keep_signature)) if v]
        if args.mode != 'share' and share_only:
            raise exceptions.CommandError(
                '%s applies to --mode share only' % ', '.join(share_only))
        if args.mode != 'copy' and copy_only:
            raise exceptions.CommandError(
                '%s applies to --mode copy only' % ', '.join(copy_only))
        if args.name and len(args.images) > 1:
            raise exceptions.CommandError(
                '--name needs exactly one image')

    def run(self, parsed_args):
        # Print what succeeded, then fail: scripts get both.
        self._failed = 0, 0
        code = super().run(parsed_args)
        failed, total = self._failed
        if failed:
            raise exceptions.CommandError(
                'Failed to %s %d of %d image/project pairs'
                % (self._verb, failed, total))
        return code
