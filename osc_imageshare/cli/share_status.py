"""``openstack image share status``."""

import logging

from osc_lib.cli import format_columns

from osc_imageshare.api import identity
from osc_imageshare import cli
from osc_imageshare.ops import share_status

LOG = logging.getLogger(__name__)

FIELDS = ('id', 'name', 'owner', 'owner_name', 'visibility', 'protected',
          'status', 'caller_project', 'caller_role', 'member_status',
          'members', 'kind', 'risks')


class MembersColumn(format_columns.ListDictColumn):
    """Members: one line each as text, a list of objects in JSON/YAML.

    Text formatters (value, csv, shell) get the text, not a Python repr
    (``cli.text_cell``).
    """

    def human_readable(self):
        # A member ID and a name are another project's data: printable.
        return '\n'.join(
            '%s%s %s since %s' % (
                cli.printable(m['project_id']),
                ' (%s)' % cli.printable(m['project_name'])
                if m['project_name'] else '',
                m['status'], m['updated_at'])
            for m in self._value)


class KindColumn(format_columns.ListColumn):
    """The kinds: their keywords in every format, one per line as text."""

    def human_readable(self):
        return '\n'.join(self._value)


class RisksColumn(format_columns.ListDictColumn):
    """Risks: their codes, a line each, as text; objects in JSON and YAML.

    The sentences are on stderr already: a table of them would be a few
    hundred characters wide.
    """

    def human_readable(self):
        return '\n'.join(r['code'] for r in self._value)


class ShowImageShareStatus(cli.ShowOne):
    """Show who can use an image, in which state, and the risks.

    The owner (and an admin) sees every member; a member sees its own
    membership, pending ones included.  The kind column says what kind
    of image it is (disk, volume-backed, companions, encrypted).  Risks,
    those of its kind included, are printed on stderr, and are its risks
    column: a keyword and the sentence each.
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
        data, warnings = share_status.read(
            cm.image_share, identity.Identity.from_client_manager(cm),
            parsed_args.image)
        cli.report(LOG, warnings)
        data = dict(data, members=MembersColumn(data['members']),
                    kind=KindColumn(data['kind']),
                    risks=RisksColumn(data['risks']))
        return self.columns(parsed_args), tuple(data[f] for f in FIELDS)

    def columns(self, parsed_args):
        return FIELDS
