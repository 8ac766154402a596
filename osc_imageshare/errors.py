"""Errors the workflows raise, and Glance's answers put into plain words."""

from osc_lib import exceptions


class ImageShareError(exceptions.CommandError):
    """A one-line error the user can act on (exit code 1)."""


def glance_message(exc):
    """The text Glance put in an error response, on one line."""
    details = getattr(exc, 'details', None) or str(exc)
    return ' '.join(str(details).split())
