"""``openstack image share status``."""

import logging

from osc_lib.cli import format_columns

from osc_imageshare.api import identity
from osc_imageshare import cli
from osc_imageshare.ops import access
from osc_imageshare.ops import kinds

LOG = logging.getLogger(__name__)

FIELDS = ('id', 'name', 'owner', 'owner_name', 'visibility', 'protected',
          'status', 'caller_project', 'caller_role', 'member_status',
          'members', 'kind')


class MembersColumn(format_columns.ListDictColumn):
    """Members: one line each as text, a list of objects in JSON/YAML.

    Text formatters (value, csv, shell) get the text, not a Python repr.
    """

    def human_readable(self):
        return '\n'.join(
            '%s%s %s since %s' % (
                m['project_id'],
                ' (%s)' % m['project_name'] if m['project_name'] else '',
                m['status'], m['updated_at'])
            for m in self._value)


class KindColumn(format_columns.ListColumn):
    """The kinds: plain words as text, the keywords in JSON/YAML."""

    def human_readable(self):
        return ', '.join(kinds.WORDS[k] for k in self._value)


class ShowImageShareStatus(cli.ShowOne):
    """Show who can use an image, in which state, and the risks.

    The owner (and an admin) sees every member; a member sees its own
    membership, pending ones included.  ``kind`` says what kind of image
    it is (disk, volume-backed, companions, encrypted).  Risks, those of
    its kind included, are printed on stderr.
    """

    def get_parser(self, prog_name):
        parser = cli.one_line_errors(super().get_parser(prog_name))
        parser.add_argument(
            'image', metavar='<image>', type=cli.nonblank,
            help='Image to show (name or ID); found even while your '
                 "project's membership is pending")
        return parser

    def take_action(self, parsed_args):
        cm = self.app.client_manager
        data, warnings = access.share_status(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.image)
        cli.report(LOG, warnings)
        data = dict(data, members=cli.for_format(
            parsed_args, MembersColumn(data['members'])),
            kind=cli.for_format(parsed_args, KindColumn(data['kind'])))
        return FIELDS, tuple(data[f] for f in FIELDS)
