"""``openstack image transfer``."""

import logging
import sys


from osc_imageshare.api import clients
from osc_imageshare.api import identity
from osc_imageshare import cli
from osc_imageshare.imagecopy import engine
from osc_imageshare.ops import pipeline
from osc_imageshare.ops import selection

LOG = logging.getLogger(__name__)

# The rows each mode's workflow returns (ops/modes/*.row), by mode.
COLUMNS = {
    'share': ('Image ID', 'Image Name', 'Project ID', 'Project Name',
              'Member Status', 'Changes'),
    'copy': ('Source ID', 'Image ID', 'Image Name', 'Project ID', 'Size',
             'Hash', 'Seconds', 'MiB/s', 'Changes', 'Method'),
    'owner': ('Image ID', 'Image Name', 'Old Owner', 'Project ID',
              'Project Name', 'Changes'),
}


class TransferImage(cli.PartialFailureLister):
    """Give other projects an image: shared, copied, or handed over.

    --mode share (default) sets a private image shared, adds each target
    project as a member and accepts as that project; members that a
    private image hid, who come back when it is shared, stop the run
    unless told what to do with them. --mode copy streams a verified,
    independent copy into each target project. --mode owner (admin) hands
    the image itself over. --dry-run prints the plan's steps; the run
    executes exactly those. A failure is rolled back; the other images
    and projects go ahead. Re-running changes nothing.
    """

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            'images', metavar='<image>', nargs='*', type=cli.nonblank,
            help='Image to transfer (name or ID); repeat for several. '
                 '--mode share needs your project to own it; --mode copy '
                 'takes any image your project may download')
        cli.add_selection(parser, 'transfer')
        parser.add_argument(
            '--to', metavar='<project>', action='append', default=[],
            type=cli.nonblank,
            help='Target project (name or ID); repeat for several. A name '
                 'must resolve to one project; an ID you may not look up '
                 'is used with a warning')
        cli.add_project_domain(parser, 'the --to projects')
        parser.add_argument(
            '--to-domain', metavar='<domain>', type=cli.nonblank,
            help='Every enabled project of this domain (name or ID) is a '
                 'target, but your own and those of --exclude; needs the '
                 "right to list the domain's projects")
        cli.add_exclude(parser, '--to-domain')
        parser.add_argument(
            '--to-cloud', metavar='<cloud>', action='append', default=[],
            type=cli.nonblank,
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
            '--name', metavar='<name>', type=cli.nonblank,
            help='Name of the copy (--mode copy; default: the source '
                 'name); a verified copy already there is renamed')
        parser.add_argument(
            '--visibility', choices=['private', 'shared'], default=None,
            help='Visibility of the copy (--mode copy; default: private); '
                 'a verified copy already there is set to it')
        parser.add_argument(
            '--import-method', choices=('auto',) + engine.METHODS,
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
            '--keep-id', action='store_true',
            help='Create the copy with the source image\'s ID (--mode '
                 'copy, into another Glance: another region or cloud), so '
                 'that what names the image by ID keeps working; refused '
                 'into the same Glance, or where the ID is taken')
        parser.add_argument(
            '--keep-signature', action='store_true',
            help='Copy the img_signature* properties too (--mode copy; by '
                 'default they are dropped with a warning, since the '
                 'target verifies them against a certificate it may not '
                 'have)')
        progress = parser.add_mutually_exclusive_group()
        progress.add_argument(
            '--progress', action='store_true', default=None,
            help='Show on stderr what the copy is doing and since when '
                 '(uploading or staging: percentage, rate, ETA; importing: '
                 'what the target Glance reports; verifying), one line per '
                 'phase, rewritten in place on a terminal; elsewhere (a '
                 "log) each phase's last line once, plain text (--mode "
                 'copy; default: only when stderr is a terminal; never on '
                 'stdout)')
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
        cli.add_earlier_members(
            parser, 'set the image private again and stop, naming them')
        parser.add_argument(
            '--allow-volume-backed', action='store_true',
            help='Share a snapshot of a volume-backed server anyway (--mode '
                 'share only): it boots in the target only if the target '
                 'can read its Cinder snapshots itself; by default such an '
                 'image is refused, and never copied')
        parser.add_argument(
            '--allow-encrypted', action='store_true',
            help='Share or copy the image of an encrypted volume anyway '
                 '(its key stays in your key manager: grant the target read '
                 'access to the secret first); by default it is refused, '
                 'but for a copy into the same project (another region)')
        parser.add_argument(
            '--wait', action='store_true',
            help='With --no-accept: then wait until every target project '
                 'has accepted (polling its membership); a rejection or '
                 '--timeout ends the wait with exit code 1')
        cli.add_timeout(parser, needs='--wait')
        cli.add_parallel(parser, 'image/project pairs')
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Print the plan, each step per image and project, and '
                 'change nothing; with --tag or --property, also how many '
                 'images match, and which')
        _rules(parser)
        return parser

    def take_action(self, parsed_args):
        args = parsed_args
        options = self._options(args)
        cm = self.app.client_manager
        if args.mode == 'copy':
            options['source_cloud'] = clients.cloud_label(cm)
        result = pipeline.transfer(
            cm.image_share, identity.Identity.from_client_manager(cm),
            args.images, mode=args.mode, to=args.to,
            project_domain=args.project_domain, to_clouds=args.to_cloud,
            dry_run=args.dry_run, open_cloud=clients.open_cloud,
            glance_for=clients.rescoped_glance(cm), parallel=args.parallel,
            tags=args.tags, properties=selection.parse_properties(
                args.properties), to_domain=args.to_domain,
            exclude=args.exclude,
            wait=cli.timeout_of(args) if args.wait else None,
            wait_progress=cli.progress_writer(sys.stderr),
            **options)
        cli.report(LOG, result.warnings, result.errors,
                   cli.full_lists(self.app))
        self.failure = result.summary
        return self.columns(parsed_args), result.rows

    def columns(self, parsed_args):
        return COLUMNS[parsed_args.mode]

    @staticmethod
    def _options(args):
        """The options of the chosen mode (``_conflict`` checked them)."""
        if args.mode == 'share':
            return dict(accept=not args.no_accept, protect=args.protect,
                        earlier_members=args.earlier_members or 'refuse',
                        allow_volume_backed=args.allow_volume_backed,
                        allow_encrypted=args.allow_encrypted)
        if args.mode == 'copy':
            return dict(name=args.name, visibility=args.visibility,
                        allow_encrypted=args.allow_encrypted,
                        progress=sys.stderr if (
                            sys.stderr.isatty() if args.progress is None
                            else args.progress) else False,
                        copy_options=dict(
                            import_method=args.import_method,
                            keep_signature=args.keep_signature,
                            keep_id=args.keep_id))
        return {}


def _rules(parser):
    """What argparse cannot say: usage errors (exit code 2) all the same."""
    cli.require(
        parser, lambda a: a.images or a.tags or a.properties,
        'name the images, or select them with --tag or --property')
    cli.require(
        parser, lambda a: a.to or a.to_cloud or a.to_domain,
        'name at least one target project: --to <project>, --to-cloud '
        '<cloud> or --to-domain <domain>')
    cli.require(
        parser, lambda a: a.mode == 'share' or not a.allow_volume_backed,
        '--allow-volume-backed applies to --mode share only (a copy of '
        'a volume-backed snapshot would be 0 bytes that boot nowhere)')
    cli.validate(parser, lambda a: selection.property_problem(
        a.properties))
    cli.validate(parser, _conflict)


def _conflict(args):
    """What is wrong with the options given together, or None."""
    if args.timeout is not None and not args.wait:
        return '--timeout applies to --wait only'
    if args.wait and not args.no_accept:
        return ('--wait needs --no-accept: without it the run accepts for '
                'every target itself')
    share_only = [o for o, v in (
        ('--no-accept', args.no_accept), ('--protect', args.protect),
        ('--revoke-earlier-members', args.earlier_members == 'revoke'),
        ('--keep-earlier-members', args.earlier_members == 'keep'))
        if v]
    copy_only = [o for o, v in (
        ('--name', args.name), ('--progress', args.progress),
        ('--visibility', args.visibility),
        ('--import-method', args.import_method != 'auto'),
        ('--keep-signature', args.keep_signature),
        ('--keep-id', args.keep_id)) if v]
    if args.mode != 'share' and share_only:
        return '%s applies to --mode share only' % ', '.join(share_only)
    if args.mode != 'copy' and copy_only:
        return '%s applies to --mode copy only' % ', '.join(copy_only)
    if args.mode == 'owner' and args.allow_encrypted:
        return '--allow-encrypted applies to --mode share and copy only'
    if args.mode == 'owner' and len(set(args.to)) + len(
            set(args.to_cloud)) + bool(args.to_domain) > 1:
        # ops/modes/owner.make_plan says so too, for --to-domain alone.
        return ('--mode owner takes one target project (an image has one '
                'owner): give one --to, --to-cloud or --to-domain')
    if args.name and (len(args.images) != 1 or args.tags
                      or args.properties):
        return '--name needs exactly one image'
    return None
