"""``openstack image replicate``."""

import argparse
import functools
import logging

from osc_imageshare.api import clients
from osc_imageshare.api import identity
from osc_imageshare import cli
from osc_imageshare.ops import replicate
from osc_imageshare.ops import replicate_check
from osc_imageshare.ops import selection
from osc_imageshare.ops import series

LOG = logging.getLogger(__name__)

COLUMNS = ('Series', 'Target', 'Source ID', 'Source Created', 'Replica ID',
           'Action', 'Method')
CHECK_COLUMNS = ('Series', 'Target', 'Newest Source', 'Newest Replica',
                 'Lag', 'Status')


def keep_count(text):
    """``--keep``: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            "takes a whole number, 1 or more (the replicas kept per series "
            "and target), not '%s'" % text)
    return value


def lag_limit(text):
    """``--max-lag``: a duration such as 26h, 90m, 2d, 1d12h."""
    try:
        return series.duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "takes a duration such as 26h, 90m, 2d or 1d12h, not '%s'"
            % text)


def property_names(text):
    """``--series-by``: property names, separated by commas."""
    names = [n.strip() for n in text.split(',')]
    if not all(names):
        raise argparse.ArgumentTypeError(
            "takes property names separated by commas, not '%s'" % text)
    return names


class ReplicateImage(cli.PartialFailureLister):
    """Copy each series' newest images to another region, cloud or project.

    Each selected image belongs to a series (Nova's rotation key, or its
    name; --series-by). For each target, the newest images of each series
    (at most --keep) get a verified copy, made as --mode copy makes one;
    with --keep, the replicas beyond the newest n are then deleted.
    --check writes nothing and says whether each target keeps up.
    Re-running changes nothing; no local state: the target's labels say
    what is there.
    """

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            'images', metavar='<image>', nargs='*', type=cli.nonblank,
            help='Image of your project to replicate (name or ID); repeat '
                 'for several')
        cli.add_selection(parser, 'replicate')
        parser.add_argument(
            '--to-cloud', metavar='<cloud>', action='append', default=[],
            type=cli.nonblank,
            help='clouds.yaml entry of a target: its project, in its '
                 'region or cloud, gets the replicas; repeat for several')
        parser.add_argument(
            '--to', metavar='<project>', action='append', default=[],
            type=cli.nonblank,
            help='Target project (name or ID) in this Glance; repeat for '
                 'several')
        cli.add_project_domain(parser, 'the --to projects')
        parser.add_argument(
            '--keep', metavar='<n>', type=keep_count, default=None,
            help='Replicas kept per series and target: the newest n are '
                 'copied, and once verified, proven replicas beyond them '
                 'are deleted (never a protected one, never the replica of '
                 'the newest source); default: every selected image is '
                 'copied and nothing is deleted')
        parser.add_argument(
            '--series-by', metavar='<keys>', type=property_names,
            default=None,
            help='The properties (names separated by commas) whose values '
                 'make a series (default: '
                 'instance_uuid and backup_type, or image_type, for an '
                 'image with instance_uuid; else its name)')
        parser.add_argument(
            '--check', action='store_true',
            help='Write nothing: one row per series and target, with its '
                 'status (ok, lagging, missing, stale-replicas); exit code '
                 '1 when a newest source has no verified replica, or a side '
                 'or an image could not be read')
        parser.add_argument(
            '--max-lag', metavar='<duration>', type=lag_limit, default=None,
            help='With --check: also exit code 1 (lagging) when the newest '
                 'replica\'s source was created longer ago than this '
                 '(26h, 90m, 2d, 1d12h)')
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Print the rows of the run (would copy, would delete) and '
                 'change nothing')
        cli.add_parallel(parser, 'copies and deletions',
                         'the rows keep the order of the series')
        _rules(parser)
        return parser

    def take_action(self, parsed_args):
        args = parsed_args
        cm = self.app.client_manager
        req = replicate.Request(
            refs=args.images, tags=list(dict.fromkeys(args.tags)),
            properties=selection.parse_properties(args.properties),
            to=args.to, project_domain=args.project_domain,
            to_clouds=args.to_cloud, keep=args.keep,
            series_by=args.series_by, dry_run=args.dry_run,
            parallel=args.parallel, source_cloud=clients.cloud_label(cm),
            # Each entry's replicas listing is its reachability check.
            open_cloud=functools.partial(clients.open_cloud, reach=False),
            glance_for=clients.rescoped_glance(cm))
        ident = identity.Identity.from_client_manager(cm)
        if args.check:
            result = replicate_check.check(cm.image_share, ident, req,
                                           args.max_lag)
        else:
            result = replicate.replicate(cm.image_share, ident, req)
        cli.report(LOG, result.warnings, result.errors,
                   cli.full_lists(self.app))
        self.failure = result.summary
        return self.columns(args), result.rows

    def columns(self, parsed_args):
        return CHECK_COLUMNS if parsed_args.check else COLUMNS


def _rules(parser):
    """What argparse cannot say: usage errors (exit code 2) all the same."""
    cli.require(
        parser, lambda a: a.images or a.tags or a.properties,
        'name the images, or select them with --tag or --property')
    cli.require(
        parser, lambda a: a.to or a.to_cloud,
        'name at least one target: --to-cloud <cloud> or --to <project>')
    cli.require(parser, lambda a: a.check or a.max_lag is None,
                '--max-lag applies to --check only')
    cli.require(parser, lambda a: not (a.check and a.dry_run),
                '--check writes nothing already: --dry-run does not apply')
    cli.validate(parser, lambda a: selection.property_problem(
        a.properties))
