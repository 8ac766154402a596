"""The heartbeat of a copy under way, and the signals that stop one.

While the data moves, the copy's ``updated_at`` is refreshed
(``Heartbeat``), so that other runs see it alive; INT, TERM and HUP
raise (``catch_signals``) so that the half-made copy is deleted, and
nothing interrupts that clean-up (``deaf``).
"""

import logging
import signal
import threading

from osc_imageshare.batch import signals
from osc_imageshare.imagecopy import labels

LOG = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15


class Heartbeat:
    """Refreshes the copy's ``updated_at`` while the data moves.

    By writing ``COPIER`` again, unchanged: Glance stamps every write, so
    the beat costs no property of the target's image_property_quota
    (``is_live`` reads ``updated_at`` where there is no ``HEARTBEAT``).
    """

    def __init__(self, glance, image_id, copier, every=HEARTBEAT_SECONDS):
        self._glance, self._id, self._every = glance, image_id, every
        self._copier = copier
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self._every):
            try:
                self._glance.patch_image(self._id,
                                         replace={labels.COPIER: self._copier})
            except Exception as e:   # a missed beat is not an error
                LOG.debug('Heartbeat on %s failed: %s', self._id, e)

    def stop(self):
        """Stop beating; return once no beat is under way."""
        self._stop.set()
        # A beat under way would write the label again after the copy's
        # labels are dropped (engine).
        self._thread.join(self._every + 30)


class Caught(BaseException):
    """A caught signal (``name``): the copy under way is cleaned up."""

    def __init__(self, signum):
        super().__init__(signum)
        self.name = signal.Signals(signum).name


def catch_signals():
    """TERM and HUP raise, as INT does, so that clean-up runs."""
    def raise_(signum, frame):
        raise Caught(signum)
    return signals.handled_by(raise_)


def deaf():
    """Let no signal stop a clean-up half-way."""
    return signals.handled_by(signal.SIG_IGN)
