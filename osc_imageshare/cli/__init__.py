"""The cliff commands: parse, call one workflow function, render."""

import argparse
import math

from osc_lib.command import command
from osc_lib import exceptions

from osc_imageshare.batch import signals

# Formatters that print each value as text: a list or dict value must be
# given to them as plain text, or they print its Python repr.
TEXT_FORMATS = ('value', 'csv', 'shell')


def add_project_domain(parser, projects):
    """``--project-domain``, for the projects named by ``projects``."""
    parser.add_argument(
        '--project-domain', metavar='<project-domain>', type=nonblank,
        help='Domain (name or ID) of %s, where a project name exists in '
             'several domains' % projects)


# -- argparse ``type=`` validators: a bad value is a usage error (exit 2)
def nonblank(text):
    """A name or ID: an empty or blank value is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError('must not be empty')
    return text


def seconds(text):
    """A number of seconds, 0 or more (0: check once)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            "takes a number of seconds, 0 or more, not '%s'" % text)
    return value


def workers(text):
    """``--parallel``: a whole number from 1 to ``runner.MAX``."""
    from osc_imageshare.batch import runner

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= runner.MAX:
        raise argparse.ArgumentTypeError(
            "takes a whole number from 1 to %d (the connections a session "
            "keeps open per host), not '%s'" % (runner.MAX, text))
    return value


def key_value(text):
    """``<key>=<value>`` with a key; the value may be empty."""
    if not text.partition('=')[0].strip() or '=' not in text:
        raise argparse.ArgumentTypeError(
            "takes <key>=<value>, not '%s'" % text)
    return text


def one_line_errors(parser):
    """A usage error is one line on stderr (and exit code 2)."""
    def error(message):
        parser.exit(2, '%s: error: %s\n' % (parser.prog, message))
    parser.error = error
    return parser


def add_parallel(parser, what,
                 order='the output keeps the order of the arguments'):
    """``--parallel <n>``: how many of ``what`` at a time."""
    from osc_imageshare.batch import runner

    parser.add_argument(
        '--parallel', metavar='<n>', type=workers, default=None,
        help='How many %s to handle at a time, 1 to %d (default: %d); %s'
             % (what, runner.MAX, runner.DEFAULT, order))


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
    from osc_imageshare.ops import waiting

    parser.add_argument(
        '--timeout', metavar='<seconds>', type=seconds, default=None,
        help='Give up after this many seconds, naming the projects still '
             'pending, with exit code 1; 0 checks once (default: %d)'
             % waiting.DEFAULT_TIMEOUT)


def timeout_of(parsed_args):
    """``--timeout``, or the default where it was not given (0 is 0)."""
    from osc_imageshare.ops import waiting

    if parsed_args.timeout is None:
        return waiting.DEFAULT_TIMEOUT
    return parsed_args.timeout


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
    validate(parser, lambda parsed: None if check(parsed) else message)


def require_project_for_domain(parser):
    """``--project-domain`` only with the ``--project`` it qualifies."""
    require(parser, lambda a: a.project or not a.project_domain,
            '--project-domain needs --project')


def validate(parser, problem):
    """Fail parsing (usage, exit code 2) with ``problem(parsed_args)``.

    ``problem`` returns the sentence saying what is wrong, or None.
    """
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        parsed, rest = parse(args, namespace)
        message = problem(parsed)
        if message:
            parser.error(message)
        return parsed, rest
    parser.parse_known_args = parse_known_args


def full_lists(app):
    """Whether ``-v`` or ``--debug`` asks for every image of a warning."""
    options = getattr(app, 'options', None)
    level = getattr(options, 'verbose_level', 1)
    return getattr(options, 'debug', False) is True or (
        isinstance(level, int) and level > 1)


def report(log, warnings=(), errors=(), full=False):
    """Warnings, each kind once, then errors, on stderr (OSC's logging).

    ``full``: the grouped warnings list every image (``-v``, ``--debug``).
    """
    from osc_imageshare.ops import messages

    for warning in messages.grouped(warnings, full):
        log.warning(warning)
    for error in errors:
        log.error(error)


def for_format(parsed_args, column):
    """``column`` for structured formats, its plain text for the others."""
    if getattr(parsed_args, 'formatter', None) in TEXT_FORMATS:
        return column.human_readable()
    return column


class Interruptible:
    """A command a caught signal may end: exit code 1, the summary on stderr.

    The workflows raise ``signals.Interrupted`` (a library exception);
    here, and only here, it becomes the ``SystemExit`` that ends the
    process: Python prints its message on stderr, alone, and exits 1
    (cliff handles ``Exception`` only, and lets it through).
    """

    def run(self, parsed_args):
        try:
            return super().run(parsed_args)
        except signals.Interrupted as e:
            raise SystemExit(*e.args) from None


class Lister(Interruptible, command.Lister):
    """A cliff ``Lister`` that a caught signal ends as ``Interruptible``."""


class ShowOne(Interruptible, command.ShowOne):
    """A cliff ``ShowOne`` that a caught signal ends as ``Interruptible``."""


class PartialFailureLister(Lister):
    """A batch: print the rows that worked, then fail if any did not.

    ``take_action`` sets ``self.failure`` to the one-line summary
    ('Failed to <verb> N of M ...') when something failed; the exit code
    is then 1, after the rows, so scripts get both.  When no row
    worked, stdout stays empty.
    """

    failure = None

    def produce_output(self, parsed_args, column_names, data):
        data = list(data)
        if self.failure and not data:
            return 0    # nothing worked: nothing on stdout, not even '[]'
        return super().produce_output(parsed_args, column_names, data)

    def run(self, parsed_args):
        self.failure = None
        code = super().run(parsed_args)
        if self.failure:
            raise exceptions.CommandError(self.failure)
        return code
