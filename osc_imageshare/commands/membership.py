"""The verbs around a share: accept, reject, revoke, list."""

import logging

from osc_lib.command import command
from osc_lib import exceptions

from osc_imageshare import commands
from osc_imageshare import identity
from osc_imageshare import membership
from osc_imageshare import messages

LOG = logging.getLogger(__name__)


class _SetImageShareStatus(command.ShowOne):

    status = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'image', metavar='<image>',
            help='Image shared with your project (name or ID); found even '
                 'while the membership is pending')
        parser.add_argument(
            '--project', metavar='<project>',
            help='Act for this project (name or ID) instead of yours '
                 '(admin only); the image and its owner are not touched')
        commands.add_project_domain(parser, '--project')
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        data = membership.set_status(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.image, self.status, parsed_args.project,
            parsed_args.project_domain)
        fields = membership.STATUS_FIELDS
        return fields, tuple(data[f] for f in fields)


class AcceptImageShare(_SetImageShareStatus):
    """Accept an image shared with your project."""

    status = 'accepted'


class RejectImageShare(_SetImageShareStatus):
    """Reject an image shared with your project."""

    status = 'rejected'


class RevokeImageShare(commands.PartialFailureLister):
    """Remove projects from the members of an image you own."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('image', metavar='<image>',
                            help='Image (name or ID)')
        parser.add_argument(
            'projects', metavar='<project>', nargs='*',
            help='Member to remove: a member ID as listed, or a project '
                 'name or ID')
        commands.add_project_domain(parser, 'the projects')
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
        return parser

    def take_action(self, parsed_args):
        if bool(parsed_args.projects) == parsed_args.all_members:
            raise exceptions.CommandError(
                'Name the projects to remove, or give --all (not both)')
        cm = self.app.client_manager
        rows, warnings, errors = membership.revoke(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.image, parsed_args.projects or None,
            parsed_args.project_domain, parsed_args.unshare,
            parsed_args.share_briefly)
        commands.report(LOG, warnings, errors)
        if errors:
            self.failure = messages.E_PARTIAL.format(
                verb='revoke', failed=len(errors),
                total=sum(1 for r in rows if r[1] is not None),
                things='projects')
        return membership.REVOKE_COLUMNS, rows


class ListImageShare(command.Lister):
    """List the members of your shared images, or images shared with you."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--incoming', action='store_true',
            help='List images other projects share with your project, in '
                 'every member status, instead of your own images')
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        list_rows = (membership.list_incoming if parsed_args.incoming
                     else membership.list_shares)
        return membership.LIST_COLUMNS, list_rows(
            cm.image_share, identity.Identity.from_client_manager(cm))
