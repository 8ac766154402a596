"""The cliff commands: parse, call one workflow function, render."""

from osc_lib.command import command
from osc_lib import exceptions

# Formatters that print each value as text: a list or dict value must be
# given to them as plain text, or they print its Python repr.
TEXT_FORMATS = ('value', 'csv', 'shell')


def add_project_domain(parser, projects):
    """``--project-domain``, for the projects named by ``projects``."""
    parser.add_argument(
        '--project-domain', metavar='<project-domain>',
        help='Domain (name or ID) of %s, where a project name exists in '
             'several domains' % projects)


def add_parallel(parser, what):
    """``--parallel <n>``: how many of ``what`` at a time."""
    from osc_imageshare.transfer import parallel

    parser.add_argument(
        '--parallel', metavar='<n>', type=int, default=None,
        help='How many %s to handle at a time, 1 to %d (default: %d); '
             'the output keeps the order of the arguments'
             % (what, parallel.MAX, parallel.DEFAULT))


def add_earlier_members(parser, default):
    """``--revoke-earlier-members`` | ``--keep-earlier-members``.

    ``default`` says what happens without either.
    """
    earlier = parser.add_mutually_exclusive_group()
    earlier.add_argument(
        '--revoke-earlier-members', action='store_const',
        dest='earlier_members', const='revoke',
        help='A private image may hide members from when it was shared, '
             'who get their access back when it is shared again: remove '
             'them in this run (default: %s)' % default)
    earlier.add_argument(
        '--keep-earlier-members', action='store_const',
        dest='earlier_members', const='keep',
        help='Keep the members a private image hid, who get their '
             'access back; a warning names them')


def add_timeout(parser):
    from osc_imageshare.transfer import wait

    parser.add_argument(
        '--timeout', metavar='<seconds>', type=float, default=None,
        help='Give up after this many seconds, naming the projects still '
             'pending, with exit code 1 (default: %d)'
             % wait.DEFAULT_TIMEOUT)


def progress_writer(stream):
    """A progress callback on ``stream`` if it is a terminal, else None.

    Called with a text it rewrites the line; with None it clears it.
    """
    if not stream.isatty():
        return None

    def progress(text):
        stream.write('\r\033[K' + (text or ''))
        stream.flush()
    return progress


def require(parser, check, message):
    """Fail parsing (usage, exit code 2) unless ``check(parsed_args)``.

    For rules argparse cannot state, as 'images, or --tag/--property'.
    """
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        parsed, rest = parse(args, namespace)
        if not check(parsed):
            parser.error(message)
        return parsed, rest
    parser.parse_known_args = parse_known_args


def report(log, warnings=(), errors=()):
    """Warnings, then errors, on stderr through OSC's logging."""
    for warning in warnings:
        log.warning(warning)
    for error in errors:
        log.error(error)


def for_format(parsed_args, column):
    """``column`` for structured formats, its plain text for the others."""
    if getattr(parsed_args, 'formatter', None) in TEXT_FORMATS:
        return column.human_readable()
    return column


class PartialFailureLister(command.Lister):
    """A batch: print the rows that worked, then fail if any did not.

    ``take_action`` sets ``self.failure`` to the one-line summary
    ('Failed to <verb> N of M ...') when something failed; the exit code
    is then 1, after the rows, so scripts get both.
    """

    failure = None

    def run(self, parsed_args):
        self.failure = None
        code = super().run(parsed_args)
        if self.failure:
            raise exceptions.CommandError(self.failure)
        return code
