"""The cliff commands: parse, call one workflow function, render."""

import argparse
import atexit
import math
import signal
import sys

from cliff import columns as cliff_columns
from osc_lib.command import command
from osc_lib import exceptions

from osc_imageshare.api import glance
from osc_imageshare.batch import signals
from osc_imageshare import errors
from osc_imageshare.ops import messages

# Formatters that print each value as text: a list or dict value must be
# given to them as plain text, or they print its Python repr.
TEXT_FORMATS = ('value', 'csv', 'shell')
# Formatters whose cells are text a line-reader or a terminal reads: a
# control character in a value (a name other projects chose) is escaped.
ESCAPED_FORMATS = TEXT_FORMATS + ('table',)
# Special within the double quotes of -f shell (cliff escapes '"').
_SHELL_ESCAPES = {'\\': '\\\\', '$': '\\$', '`': '\\`'}


def add_project_domain(parser, projects):
    """``--project-domain``, for the projects named by ``projects``."""
    parser.add_argument(
        '--project-domain', metavar='<project-domain>', type=nonblank,
        help='Domain (name or ID) of %s, where a project name exists in '
             'several domains' % projects)


def add_exclude(parser, domain_option, dest=None):
    """``--exclude <project>``: leave a project of ``domain_option`` out.

    Needs ``domain_option`` (a usage error without it); ``dest``: its
    attribute, where it is not the option's name.
    """
    parser.add_argument(
        '--exclude', metavar='<project>', action='append', default=[],
        type=nonblank,
        help='Leave this project of the %s domain out: its ID, its name, '
             'or <domain>/<name>; repeat for several. One that names no '
             'enabled project of that domain is an error (exit code 1, '
             'nothing changed): a typo never leaves a project in'
             % domain_option)
    dest = dest or domain_option.lstrip('-').replace('-', '_')
    require(parser, lambda a: getattr(a, dest) or not a.exclude,
            '--exclude needs %s' % domain_option)


def add_selection(parser, verb):
    """``--tag`` and ``--property``: the caller's own images to ``verb``."""
    parser.add_argument(
        '--tag', metavar='<tag>', action='append', default=[],
        dest='tags', type=nonblank,
        help="Also %s your project's own images that have this tag "
             "(hidden ones included); repeat for several (an image must "
             "have them all)" % verb)
    parser.add_argument(
        '--property', metavar='<key=value>', action='append',
        default=[], dest='properties', type=key_value,
        help="Also %s your project's own images with this property "
             "value; repeat for several (an image must match them all, "
             "and every --tag)" % verb)


# -- argparse ``type=`` validators: a bad value is a usage error (exit 2)
def nonblank(text):
    """A name or ID: an empty or blank value is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError('must not be empty')
    return text


MAX_SECONDS = 7 * 24 * 3600     # a week: longer is a mistyped number


def seconds(text):
    """A number of seconds from 0 (check once) to ``MAX_SECONDS``."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_SECONDS:   # nan and inf too
        raise argparse.ArgumentTypeError(
            "takes a number of seconds from 0 to %d (a week), not '%s'"
            % (MAX_SECONDS, text))
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


def add_timeout(parser, needs=None):
    """``--timeout``; ``needs``: the option it applies to, if any."""
    from osc_imageshare.ops import waiting

    parser.add_argument(
        '--timeout', metavar='<seconds>', type=seconds, default=None,
        help='%s after this many seconds (at most %d, a week), naming '
             'the projects still pending, with exit code 1; 0 checks once '
             '(default: %d)' % ('With %s: give up' % needs if needs
                                else 'Give up', MAX_SECONDS,
                                waiting.DEFAULT_TIMEOUT))


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

    ``problem`` returns the sentence saying what is wrong, or None.  An
    argument the parser does not know is the error to report first (the
    rules would judge a command line that is not the one meant):
    ``parse_args`` names it.
    """
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        parsed, rest = parse(args, namespace)
        message = None if rest else problem(parsed)
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
    # Each warning and error is one sentence, one line: printable (a
    # name another project chose, quoted in it, can neither drive the
    # terminal nor split it into a line that looks like another).
    for warning in messages.grouped(warnings, full):
        log.warning(messages.visible(warning))
    for error in errors:
        log.error(messages.visible(error))


def _lines(text):
    return '\n'.join(messages.visible(line)
                     for line in str(text).split('\n'))


printable = messages.printable


def text_cell(value, formatter):
    """A cell as the text ``formatter`` prints, or ``value`` unchanged.

    For the text formats, a list-valued column becomes its plain text
    (never a Python repr) and a string is made ``printable``; -f shell
    also escapes what its double quotes would expand.  JSON and YAML get
    the values as they are: they encode them.
    """
    if formatter not in ESCAPED_FORMATS:
        return value
    if isinstance(value, cliff_columns.FormattableColumn):
        if formatter == 'table':
            return value        # the table asks for human_readable()
        value = value.human_readable()
    elif isinstance(value, str):
        value = printable(value)
    if formatter == 'shell' and isinstance(value, str):
        value = ''.join(_SHELL_ESCAPES.get(ch, ch) for ch in value)
    return value


class Rendered:
    """A command whose columns are known before it runs.

    ``columns(parsed_args)`` names them: the parser checks ``-c`` against
    them (an unknown column is a usage error, exit code 2, before any
    request), ``take_action`` returns them, and the rows are printed
    with ``text_cell``.
    """

    def columns(self, parsed_args):
        """The names of the columns this command prints with these options."""
        raise NotImplementedError

    def get_parser(self, prog_name):
        parser = one_line_errors(super().get_parser(prog_name))
        validate(parser, self._unknown_columns)
        return parser

    def _unknown_columns(self, parsed_args):
        """The usage error of a ``-c`` naming no column, or None."""
        names = self.columns(parsed_args)
        known = {_column_key(c) for c in names}
        unknown = [c for c in getattr(parsed_args, 'columns', None) or ()
                   if _column_key(c) not in known]
        if not unknown:
            return None
        return ('-c %s: no such column; the columns are %s' % (
            ', '.join("'%s'" % c for c in unknown),
            ', '.join("'%s'" % c for c in names)))

    def cells(self, parsed_args, row):
        """``row`` as the chosen format prints it (``text_cell``)."""
        formatter = getattr(parsed_args, 'formatter', None)
        return tuple(text_cell(v, formatter) for v in row)


def _column_key(name):
    """A column name as cliff matches ``-c``: 'image_id' is 'Image ID'."""
    return name.lower().strip().replace(' ', '_')


E_NOTHING_CHANGED = 'Interrupted by {signal} before anything was changed'
W_LATE_SIGNAL = ('{signal} came too late to stop anything: the run had sent '
                 'its writes, and ended as it would have')


class Interruptible:
    """A command a caught signal may end: exit code 1, the summary on stderr.

    The workflows raise ``signals.Interrupted`` (a library exception);
    here, and only here, it becomes the ``SystemExit`` that ends the
    process: Python prints its message on stderr, alone, and exits 1
    (cliff handles ``Exception`` only, and lets it through).  Rows the
    exception carries (what the workflow knew at that moment) are
    printed first, in the command's columns.
    """

    def run(self, parsed_args):
        # Outside the workflows' own handling (their write phases): a
        # signal before the first write ends the command, nothing changed;
        # one after it lets the command end as it would, and says so.
        late = []

        def outside(signum, frame):
            name = signal.Signals(signum).name
            if not glance.WROTE.is_set():
                raise signals.Interrupted(E_NOTHING_CHANGED.format(
                    signal=name))
            late.append(name)
            # The run ends soon; a second signal ends it at once.
            for other in signals.SIGNALS:
                if signal.getsignal(getattr(signal, other)) is outside:
                    signal.signal(getattr(signal, other), signal.SIG_DFL)
        # Not signals.handled_by: its end would put the default handlers
        # back for a moment, and a late signal then would kill the process
        # (128 + n, nothing said) before _late is in place.
        previous = signals.swap(outside)
        try:
            return super().run(parsed_args)
        except signals.Interrupted as e:
            if e.rows is not None:
                self.produce_output(parsed_args, self.columns(parsed_args),
                                    e.rows)
            raise SystemExit(_lines(e)) from None
        except errors.ImageShareError as e:
            # One error line: what it quotes (a name from the cloud or a
            # file) can neither drive the terminal nor split the line.
            if messages.visible(e) == str(e):
                raise
            raise exceptions.CommandError(messages.visible(e)) from None
        finally:
            if late:
                signals.restore(previous)   # a second signal ends it
                sys.stderr.write(W_LATE_SIGNAL.format(signal=late[0]) + '\n')
            elif glance.WROTE.is_set():
                # Until the process exits: the run is over, a signal is
                # late (put in place of ``outside``, with no gap between).
                signals.install(_late)
                # Python puts the default handlers back as it shuts down
                # (a signal then would end it with 128 + n, nothing said),
                # but leaves an ignored signal ignored.
                atexit.register(signals.install, signal.SIG_IGN)
            else:
                signals.restore(previous)


def _late(signum, frame):
    sys.stderr.write(W_LATE_SIGNAL.format(
        signal=signal.Signals(signum).name) + '\n')
    signals.install(signal.SIG_IGN)    # said once


class Lister(Interruptible, Rendered, command.Lister):
    """A cliff ``Lister``: ``Rendered``, and ended as ``Interruptible``."""

    def produce_output(self, parsed_args, column_names, data):
        return super().produce_output(
            parsed_args, column_names,
            [self.cells(parsed_args, row) for row in data])


class ShowOne(Interruptible, Rendered, command.ShowOne):
    """A cliff ``ShowOne``: ``Rendered``, and ended as ``Interruptible``."""

    def produce_output(self, parsed_args, column_names, data):
        return super().produce_output(parsed_args, column_names,
                                      self.cells(parsed_args, data))


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
