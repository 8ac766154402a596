"""The OpenStackClient plugin contract.

OSC imports this module on every ``openstack`` start, so it imports nothing
heavy: keystoneauth's adapter and the Glance door are loaded only when a
command needs a client, and osc_imageshare.api.clients builds it.
"""

import logging
import sys

from osc_lib import exceptions
from osc_lib import utils

LOG = logging.getLogger(__name__)

DEFAULT_API_VERSION = '2'
API_VERSION_OPTION = 'os_image_share_api_version'
API_NAME = 'image_share'
# OSC reads the keys at every start, and warns about a requested version
# that is none of them; older OSC releases call ``.keys()`` on it,
# so it stays a dict.  make_client refuses the others; the value names the
# class clients.caller_glance builds (the door), for the --debug line.
API_VERSIONS = {
    '2': 'osc_imageshare.api.glance.GlanceAPI',
}


def make_client(instance):
    """The Glance door (``GlanceAPI``) as OSC's image commands reach Glance.

    OSC's session (TLS options), and the endpoint osc-lib chooses:
    ``image_endpoint_override`` if set, else the catalog's URL for
    ``--os-region-name`` and ``--os-interface``.
    """
    version = str(instance._api_version[API_NAME])
    if version not in API_VERSIONS:
        raise exceptions.UnsupportedVersion(
            'Image share API version %s is not supported; use one of: %s'
            % (version, ', '.join(sorted(API_VERSIONS))))
    from osc_imageshare.api import clients

    LOG.debug('Instantiating image share client: %s', API_VERSIONS[version])
    return clients.caller_glance(instance)


def build_option_parser(parser):
    """Add the plugin's global option to the openstack parser."""
    parser.add_argument(
        '--os-image-share-api-version',
        metavar='<image-share-api-version>',
        default=utils.env('OS_IMAGE_SHARE_API_VERSION'),
        help='Image API version used by the image share commands, '
             'default=%s (Env: OS_IMAGE_SHARE_API_VERSION)'
             % DEFAULT_API_VERSION)
    parser.add_argument(
        '--os-image-share-retries',
        metavar='<count>',
        type=whole_number,
        default=utils.env('OS_IMAGE_SHARE_RETRIES'),
        help='Times the image share commands send a Glance request again '
             'after a 429 or 503 answer, or (where that is safe) a 500, '
             '502, 504 or a broken connection, 0 to 10; at least 0.5 s '
             'between tries and at most 30 s per request; 0 disables, '
             'default=3 (Env: OS_IMAGE_SHARE_RETRIES)')
    return parser


def whole_number(value):
    """``--os-image-share-retries``: 0 to 10, else one line and exit 2.

    The option is OSC's global parser's, whose usage errors print its
    whole usage (some 60 lines) first: this one stays one line, for the
    option and for OS_IMAGE_SHARE_RETRIES alike.
    """
    from osc_imageshare.api import retry

    if value in (None, ''):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= retry.MAX_RETRIES:
        sys.stderr.write(
            'openstack: error: argument --os-image-share-retries (env '
            'OS_IMAGE_SHARE_RETRIES): takes a whole number from 0 to %d (0 '
            'disables retries), not %r\n' % (retry.MAX_RETRIES, value))
        raise SystemExit(2)
    return number
