"""``openstack image share audit``."""

import argparse
import logging

from osc_imageshare.api import identity
from osc_imageshare import cli
from osc_imageshare.ops import audit
from osc_imageshare.ops import messages

LOG = logging.getLogger(__name__)

COLUMNS = ('Image ID', 'Image Name', 'Owner', 'Member', 'Member Name',
           'Status', 'Risk', 'Detail')
FIX_COLUMNS = COLUMNS + ('Fixed',)


def _days(value):
    try:
        return audit.check_days(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            'must be a number of days, 0 or more: %r' % value)


class AuditImageShare(cli.PartialFailureLister):
    """List the shared images of a project or cloud, and their risks.

    One row per image, member and risk, sorted by image ID then member
    (an image and member with no risk only with --all). Reads the images
    a page at a time and their members in parallel; changes nothing
    unless --fix is given.
    """

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            '--all-projects', action='store_true',
            help='Every shared image of the cloud, every member (admin '
                 'only)')
        which.add_argument(
            '--project', metavar='<project>', type=cli.nonblank,
            help="This project's images (name or ID) instead of yours "
                 "(admin only); with --incoming, those shared with it")
        cli.add_project_domain(parser, '--project')
        parser.add_argument(
            '--incoming', action='store_true',
            help='The images other projects share with your project (or '
                 '--project), in every member status, instead of the '
                 'images it owns')
        parser.add_argument(
            '--risk', metavar='<risk>', action='append', default=[],
            dest='risks', choices=audit.KEYWORDS,
            help='Print only this risk: %s; repeat for several (default: '
                 'every risk but unverifiable, whose members are counted '
                 'on stderr)' % ', '.join(audit.KEYWORDS))
        parser.add_argument(
            '--all', action='store_true', dest='show_all',
            help="Also print the members without risk (Risk 'none'): a "
                 "full inventory of the shares")
        parser.add_argument(
            '--pending-days', metavar='<days>', type=_days,
            default=audit.DEFAULT_PENDING_DAYS,
            help='A member pending for this many days or more, by its '
                 'created_at, is stale-pending (default: %d; 0: every '
                 'pending member)' % audit.DEFAULT_PENDING_DAYS)
        parser.add_argument(
            '--fix', action='store_true',
            help='Remove the members that are not-a-project or '
                 'project-deleted, and print one row per fix (Fixed '
                 'column) instead of the risks; nothing else is changed')
        parser.add_argument(
            '--protect', action='store_true',
            help='With --fix: also protect the unprotected images your '
                 'project owns')
        parser.add_argument(
            '--dry-run', action='store_true',
            help='With --fix: print the fixes it would make, and change '
                 'nothing')
        cli.add_parallel(parser, 'images (one member-list request '
                         'each), then fixes', 'the rows stay sorted')
        _rules(parser)
        return parser

    def take_action(self, parsed_args):
        args = parsed_args
        cm = self.app.client_manager
        ident = identity.Identity.from_client_manager(cm)
        where = audit.scope(ident, args.incoming, args.all_projects,
                            args.project, args.project_domain)
        notes = audit.Notes()
        rows = list(audit.audit(cm.image_share, ident, where,
                                args.risks or None, args.show_all,
                                args.pending_days, args.parallel,
                                notes=notes))
        cli.report(LOG, warnings=notes.warnings(ident))
        summaries = [audit.E_UNREADABLE.format(count=len(notes.unreadable))
                     ] if notes.unreadable else []
        if not args.fix:
            self.failure = '\n'.join(summaries) or None
            return self.columns(args), rows
        fixed, errors = audit.fix(cm.image_share, ident, rows, args.protect,
                                  args.dry_run, args.parallel, notes)
        # The fixes are the rows: an image that could not be read is an
        # error line, then both summaries.
        cli.report(LOG, errors=notes.unreadable + errors)
        if notes.unreadable:
            summaries = [audit.E_UNREADABLE_FIX.format(
                count=len(notes.unreadable))]
        if errors:
            summaries.append(messages.E_PARTIAL.format(
                verb='fix', failed=len(errors),
                total=len(fixed) + len(errors), things='risks'))
        self.failure = '\n'.join(summaries) or None
        return self.columns(args), fixed

    def columns(self, parsed_args):
        return FIX_COLUMNS if parsed_args.fix else COLUMNS


def _rules(parser):
    """What argparse cannot say: usage errors (exit code 2) all the same."""
    cli.require(parser, lambda a: not (a.incoming
                                       and a.all_projects),
                '--incoming and --all-projects exclude each other')
    cli.require(parser, lambda a: a.fix or not (a.protect
                                                or a.dry_run),
                '--protect and --dry-run need --fix')
    cli.require_project_for_domain(parser)
