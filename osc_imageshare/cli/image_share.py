"""The verbs around a share: accept, reject, revoke, list."""

import logging
import sys

from osc_lib import exceptions

from osc_imageshare.api import clients
from osc_imageshare.api import identity
from osc_imageshare import cli
from osc_imageshare.ops import membership
from osc_imageshare.ops import messages
from osc_imageshare.ops import policy
from osc_imageshare.ops import selection
from osc_imageshare.ops import share_set
from osc_imageshare.ops import waiting

LOG = logging.getLogger(__name__)

STATUS_FIELDS = ('image_id', 'image_name', 'owner', 'project_id',
                 'project_name', 'previous_status', 'member_status')
# The rows of share set (ops/share_set.set_members).
SET_COLUMNS = ('Image ID', 'Project ID', 'Project Name', 'Before', 'After',
               'Diff')
REVOKE_COLUMNS = ('Image ID', 'Project ID', 'Project Name', 'Result')
LIST_COLUMNS = ('Image ID', 'Image Name', 'Owner', 'Project ID',
                'Project Name', 'Member Status', 'Updated At')
WAIT_COLUMNS = ('Image ID', 'Image Name', 'Project ID', 'Project Name',
                'Member Status', 'Updated At')


class _SetImageShareStatus(cli.ShowOne):

    status = None

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            'image', metavar='<image>', type=cli.nonblank,
            help='Image shared with your project (name or ID); found even '
                 'while the membership is pending')
        parser.add_argument(
            '--project', metavar='<project>', type=cli.nonblank,
            help='Act for this project (name or ID) instead of yours '
                 '(admin only); the image and its owner are not touched')
        cli.add_project_domain(parser, '--project')
        cli.require_project_for_domain(parser)
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        data = membership.set_status(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.image, self.status, parsed_args.project,
            parsed_args.project_domain)
        return self.columns(parsed_args), tuple(
            data[f] for f in STATUS_FIELDS)

    def columns(self, parsed_args):
        return STATUS_FIELDS


class AcceptImageShare(_SetImageShareStatus):
    """Accept an image shared with your project."""

    status = 'accepted'


class RejectImageShare(_SetImageShareStatus):
    """Reject an image shared with your project."""

    status = 'rejected'


class RevokeImageShare(cli.PartialFailureLister):
    """Remove projects from the members of an image you own."""

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('image', metavar='<image>',
                            type=cli.nonblank,
                            help='Image (name or ID)')
        parser.add_argument(
            'projects', metavar='<project>', nargs='*',
            type=cli.nonblank,
            help='Member to remove: a member ID as listed, or a project '
                 'name or ID')
        cli.add_project_domain(parser, 'the projects')
        parser.add_argument(
            '--unshare', action='store_true',
            help="Also set the image 'private' once it has no members left")
        parser.add_argument(
            '--all', action='store_true', dest='all_members',
            help='Remove every member instead of the projects named')
        parser.add_argument(
            '--share-briefly', action='store_true',
            help="For a private image, whose members Glance hides and "
                 "neither lists nor removes: set it 'shared' for as long as "
                 "it takes to remove them (its hidden members regain access "
                 "meanwhile), then 'private' again")
        parser.add_argument(
            '--dry-run', action='store_true',
            help="Print the rows the run would print ('plan: remove', ...) "
                 "and change nothing")
        cli.require(
            parser, lambda a: bool(a.projects) != a.all_members,
            'name the projects to remove, or give --all (not both)')
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        rows, warnings, errors = membership.revoke(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.image, parsed_args.projects or None,
            parsed_args.project_domain, parsed_args.unshare,
            parsed_args.share_briefly, parsed_args.dry_run)
        cli.report(LOG, warnings, errors,
                   cli.full_lists(self.app))
        if errors:
            # The rows are of the projects done; each failure is an error.
            self.failure = messages.E_PARTIAL.format(
                verb='revoke', failed=len(errors),
                total=len(errors) + sum(1 for r in rows if r[1] is not None),
                things='projects')
        return self.columns(parsed_args), rows

    def columns(self, parsed_args):
        return REVOKE_COLUMNS


class ListImageShare(cli.Lister):
    """List the members of your shared images, or images shared with you."""

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            '--incoming', action='store_true',
            help='List images other projects share with your project, in '
                 'every member status, instead of your own images')
        cli.add_parallel(parser, 'images (one request each)',
                         'the rows come in the order Glance lists the '
                         'images')
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        list_rows = (membership.list_incoming if parsed_args.incoming
                     else membership.list_shares)
        return self.columns(parsed_args), list_rows(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.parallel)

    def columns(self, parsed_args):
        return LIST_COLUMNS


class SetImageShare(cli.PartialFailureLister):
    """Make the members of images exactly the projects given.

    Adds the missing ones (and accepts for them where you can, as 'image
    transfer' does: as their member, or as an admin; the others stay
    pending), keeps or with --prune revokes the members not given, and
    prints the diff, one row per image and project. A second run changes
    nothing. Several images (names, IDs, --tag, --property) are set one
    after another, each as one image is; the projects of
    --member-domain are read at the time of the run.
    Images 'image transfer' refuses (a volume-backed snapshot, an
    encrypted volume's image, companions a new member cannot read) are
    refused alike, nothing changed.
    """

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            'images', metavar='<image>', nargs='*', type=cli.nonblank,
            help='Image your project owns (name or ID); repeat for several')
        cli.add_selection(parser, 'set')
        parser.add_argument(
            '--member', metavar='<project>', action='append', default=[],
            dest='members', type=cli.nonblank,
            help='Project (name or ID) that must be a member; repeat for '
                 'several')
        parser.add_argument(
            '--member-domain', metavar='<domain>', action='append',
            default=[], dest='member_domains', type=cli.nonblank,
            help="Every enabled project of this domain (name or ID) at the "
                 "time of the run must be a member, but your own and those "
                 "of --exclude; repeat for several; needs the right to "
                 "list the domain's projects. With --prune, a project "
                 "deleted, disabled or moved out of it since is revoked")
        cli.add_exclude(parser, '--member-domain', 'member_domains')
        parser.add_argument(
            '--member-file', metavar='<file>', type=cli.nonblank,
            help="Read more member projects (names or IDs) from a file, "
                 "one per line ('#' starts a comment); '-' reads stdin")
        cli.add_project_domain(parser, 'the members')
        parser.add_argument(
            '--no-members', action='store_true',
            help='With --prune: the image is to have no members, every '
                 'member Glance lists is revoked (a private image hides '
                 'its members: they are left, and a warning says how to '
                 'remove them); an empty member list is refused without it')
        parser.add_argument(
            '--prune', action='store_true',
            help='Revoke the members that are not given (default: keep '
                 'them, and list them as kept); on a private image the run '
                 'shares (to add a member), the members it hid too')
        cli.add_earlier_members(
            parser, 'with --prune, remove them; without, set the image '
                    'private again and stop, naming them')
        parser.add_argument(
            '--no-accept', action='store_true',
            help='Leave the members added pending, for each project to '
                 'accept')
        parser.add_argument(
            '--allow-volume-backed', action='store_true',
            help='Add members to a snapshot of a volume-backed server '
                 'anyway: it boots in their projects only if they can read '
                 'its Cinder snapshots themselves; by default refused, as '
                 "by 'image transfer'")
        parser.add_argument(
            '--allow-encrypted', action='store_true',
            help='Add members to the image of an encrypted volume anyway '
                 '(its key stays in your key manager: grant them read '
                 'access to the secret first); by default refused, as by '
                 "'image transfer'")
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Print the diff the run would make, and change nothing')
        cli.add_parallel(parser, 'projects')
        cli.require(
            parser, lambda a: a.images or a.tags or a.properties,
            'name the images, or select them with --tag or --property')
        cli.require(
            parser, lambda a: not a.no_members or (
                a.prune and not a.members and not a.member_file
                and not a.member_domains),
            '--no-members goes with --prune, without --member, '
            '--member-file or --member-domain')
        cli.require(
            parser, lambda a: (a.members or a.member_file or a.no_members
                               or a.member_domains),
            'give the members: --member <project>, --member-file <file> '
            'or --member-domain <domain>')
        cli.validate(parser, lambda a: selection.property_problem(
            a.properties))
        return parser

    def take_action(self, parsed_args):
        args = parsed_args
        members = list(args.members)
        if args.member_file == '-':
            members += share_set.read_member_file(
                getattr(sys.stdin, 'buffer', sys.stdin))
        elif args.member_file:
            try:
                with open(args.member_file, 'rb') as f:
                    members += share_set.read_member_file(f, args.member_file)
            except OSError as e:
                raise exceptions.CommandError(
                    'Cannot read --member-file %s: %s'
                    % (args.member_file, e.strerror))
        cm = self.app.client_manager
        result = share_set.set_members(
            cm.image_share, identity.Identity.from_client_manager(cm),
            args.images, members, args.project_domain, args.prune,
            not args.no_accept, args.dry_run,
            clients.rescoped_glance(cm), args.parallel, args.no_members,
            args.earlier_members, args.allow_volume_backed,
            args.allow_encrypted, tags=args.tags,
            properties=selection.parse_properties(args.properties),
            member_domains=args.member_domains, exclude=args.exclude)
        cli.report(LOG, result.warnings, result.errors,
                   cli.full_lists(self.app))
        self.failure = result.summary
        return self.columns(parsed_args), result.rows

    def columns(self, parsed_args):
        return SET_COLUMNS


class WaitImageShare(cli.Lister):
    """Wait until projects have accepted an image you own.

    Polls the image's members (one request each time, less and less
    often) until every project given, or every member, has accepted. A
    rejection, or the timeout, ends it with an error naming the projects;
    INT, TERM or HUP with the rows as they stood, then such an error.
    Progress goes to stderr when it is a terminal.
    """

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument('image', metavar='<image>',
                            type=cli.nonblank,
                            help='Image your project owns (name or ID)')
        parser.add_argument(
            'projects', metavar='<project>', nargs='*',
            type=cli.nonblank,
            help='Member project (name or ID) to wait for (default: every '
                 'member of the image)')
        cli.add_project_domain(parser, 'the projects')
        cli.add_timeout(parser)
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        progress = cli.progress_writer(sys.stderr)
        try:
            rows = waiting.share_wait(
                cm.image_share, identity.Identity.from_client_manager(cm),
                parsed_args.image, parsed_args.projects,
                parsed_args.project_domain,
                cli.timeout_of(parsed_args), progress)
        finally:
            if progress:
                progress(None)
        return self.columns(parsed_args), rows

    def columns(self, parsed_args):
        return WAIT_COLUMNS


class ApplyImageSharePolicy(cli.PartialFailureLister):
    """Make the shares of a policy file (YAML) true.

    Each rule is what 'image share set' does with its options (images by
    names, tag or property; projects, domains less exclude; accept,
    protect, prune), plus an expiry after which the rule grants nothing
    and the access it granted is revoked. All the rules are planned
    together, then each image is set as 'image share set' sets one: one
    row per image and project, one summary. A file that is not a policy,
    or two rules that decide an image differently, is a usage error
    (exit code 2), nothing changed.
    """

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            'file', metavar='<file>', type=cli.nonblank,
            help="The policy file (YAML, see the Policies page); '-' reads "
                 "stdin")
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Print the diff the run would make, and change nothing')
        parser.add_argument(
            '--check', action='store_true',
            help='Change nothing; print only the rows that differ from the '
                 'policy, and exit 1 if any does (for monitoring)')
        cli.add_parallel(parser, "images' member lists to read, and projects "
                         "of an image to change,", order='the rows keep the '
                         "order of the images and projects")
        cli.require(parser, lambda a: not (a.dry_run and a.check),
                    '--dry-run and --check exclude each other')
        return parser

    def take_action(self, parsed_args):
        args = parsed_args
        name = args.file
        try:
            if name == '-':
                data = getattr(sys.stdin, 'buffer', sys.stdin).read(
                    policy.MAX_BYTES + 1)
            else:
                with open(name, 'rb') as f:
                    data = f.read(policy.MAX_BYTES + 1)
        except OSError as e:
            # Found before any request: a usage error, as a bad option is.
            sys.stderr.write('openstack %s: error: cannot read policy file '
                             '%s: %s\n' % (self.cmd_name or
                                           'image share apply',
                                           messages.visible(name),
                                           e.strerror))
            raise SystemExit(2)
        cm = self.app.client_manager
        try:
            rules = policy.load(data, name)
            result = policy.apply(
                cm.image_share, identity.Identity.from_client_manager(cm),
                rules, name, args.dry_run, args.check,
                clients.rescoped_glance(cm), args.parallel)
        except policy.PolicyError as e:
            # Not a policy: a usage error, as a bad option is.
            sys.stderr.write('openstack %s: error: %s\n' % (
                self.cmd_name or 'image share apply',
                '\n'.join(messages.visible(line)
                          for line in str(e).split('\n'))))
            raise SystemExit(2)
        cli.report(LOG, result.warnings, result.errors,
                   cli.full_lists(self.app))
        self.failure = result.summary
        if args.check and result.rows and not self.failure:
            self.failure = policy.E_DIFFERS.format(
                file=messages.arg(name), count=len(result.rows))
        return self.columns(parsed_args), result.rows

    def columns(self, parsed_args):
        return SET_COLUMNS
