"""The OpenStackClient plugin contract.

OSC imports this module on every ``openstack`` start, so it imports nothing
heavy: keystoneauth's adapter and the Glance door are loaded only when a
command needs a client, and osc_imageshare.api.clients builds it.
"""

import logging

from osc_lib import exceptions
from osc_lib import utils

LOG = logging.getLogger(__name__)

DEFAULT_API_VERSION = '2'
API_VERSION_OPTION = 'os_image_share_api_version'
API_NAME = 'image_share'
API_VERSIONS = {
    '2': 'glanceclient.v2.client.Client',
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
             '502, 504 or a broken connection; at most 30 s of waiting per '
             'request; 0 disables, default=3 '
             '(Env: OS_IMAGE_SHARE_RETRIES)')
    return parser


def whole_number(value):
    """``--os-image-share-retries``: 0 or more (argparse says if not)."""
    if value in (None, ''):
        return None
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number
