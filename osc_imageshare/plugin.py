"""The OpenStackClient plugin contract.

OSC imports this module on every ``openstack`` start, so it imports nothing
heavy: glanceclient is loaded only when a command needs a client.
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
    """Return a glanceclient v2 client on the OSC session."""
    version = str(instance._api_version[API_NAME])
    if version not in API_VERSIONS:
        raise exceptions.UnsupportedVersion(
            'Image share API version %s is not supported; use one of: %s'
            % (version, ', '.join(sorted(API_VERSIONS))))
    from glanceclient.v2 import client

    LOG.debug('Instantiating image share client: %s', API_VERSIONS[version])
    return client.Client(session=instance.session,
                         region_name=instance.region_name,
                         interface=instance.interface)


def build_option_parser(parser):
    """Add the plugin's global option to the openstack parser."""
    parser.add_argument(
        '--os-image-share-api-version',
        metavar='<image-share-api-version>',
        default=utils.env('OS_IMAGE_SHARE_API_VERSION'),
        help='Image API version used by the image share commands, '
             'default=%s (Env: OS_IMAGE_SHARE_API_VERSION)'
             % DEFAULT_API_VERSION)
    return parser
