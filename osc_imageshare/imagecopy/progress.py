"""The progress line of a copy: written to what the caller gives."""

import time

MIB = 1024 * 1024


class Progress:
    """What a copy is doing, on ``out``: the phase, since when, how far.

    One line per phase (``uploading`` or ``staging`` with percentage,
    rate and ETA; ``importing`` with what the target Glance reports;
    ``verifying``).  On a terminal it is rewritten in place at most a
    few times a second, and a phase that ends keeps its last line;
    elsewhere (a pipe, a log file) only that last line is written, once,
    when the phase ends: plain text, no control characters.  ``out`` is a
    text stream (the command gives its stderr): the library writes
    nowhere by itself.
    """

    EVERY = 0.25       # seconds between two rewrites of the line

    def __init__(self, total, out, phase='uploading'):
        self.total = total or 1
        self.out = out
        self.live = _is_terminal(out)
        self.printed = False
        self.line = None        # off a terminal: the line not written yet
        self.phase(phase)

    def phase(self, name):
        """A new phase starts now: end the line of the one before."""
        self.done()
        self.name = name
        self.since = time.time()
        self.start = time.monotonic()
        self.last = 0
        self.finished = False

    def _write(self, text):
        line = '%s since %s (%.0f s): %s' % (
            self.name, time.strftime('%H:%M:%S', time.localtime(
                self.since)), time.time() - self.since, text)
        self.printed = True
        if not self.live:
            self.line = line
            return
        self.out.write('\r\033[K' + line)
        self.out.flush()

    def __call__(self, done):
        now = time.monotonic()
        if now - self.last < self.EVERY and done < self.total \
                or self.finished:
            return
        self.last = now
        self.finished = done >= self.total
        rate = done / max(now - self.start, 1e-6)
        eta = (self.total - done) / rate if rate else 0
        self._write('%5.1f%%  %7.1f MiB/s  ETA %4.0f s' % (
            100.0 * done / self.total, rate / MIB, eta))

    def status(self, text):
        """How the phase stands, in words (the first time, and steadily)."""
        now = time.monotonic()
        if self.live and self.printed and now - self.last < self.EVERY:
            return
        self.last = now
        self._write(text)

    def end(self, text):
        """End the phase saying ``text`` (a refusal: no percentage left)."""
        self._write(text)
        self.done()

    def done(self):
        """End the progress line, so that what follows has its own."""
        if self.printed:
            self.out.write(('' if self.live else self.line) + '\n')
            self.out.flush()
            self.printed = False
            self.line = None


def _is_terminal(stream):
    """Whether ``stream`` is a terminal, which may be rewritten in place."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):     # no isatty, or closed
        return False


def import_state(img, source, task_message):
    """What the target Glance reports of an import under way, in words."""
    words = ['image %s' % img.get('status')]
    if task_message:
        words.append(task_message)       # Glance's 'Copied 512 MiB'
    if img.get('size'):
        words.append('%d of %s bytes' % (img['size'], source.get('size')))
    if img.get('disk_format') != source.get('disk_format'):
        words.append('converted %s->%s' % (source.get('disk_format'),
                                           img.get('disk_format')))
    return ', '.join(words)
