"""Clients for other clouds.yaml entries and for rescoped sessions."""

import logging

from osc_imageshare import errors

LOG = logging.getLogger(__name__)


def glance_for(session, region_name=None, interface=None):
    """A Glance v2 client on a keystoneauth session."""
    from glanceclient.v2 import client

    return client.Client(session=session, region_name=region_name,
                         interface=interface)


def open_cloud(name):
    """``(session, glance client)`` for a clouds.yaml entry."""
    from keystoneauth1 import exceptions as ks_exc
    import openstack.config
    from openstack import exceptions as sdk_exc

    try:
        region = openstack.config.OpenStackConfig().get_one(cloud=name)
        session = region.get_session()
        session.get_project_id()  # authenticate now, before any write
    except sdk_exc.ConfigException as e:
        raise errors.ImageShareError(
            "Cloud '%s' cannot be used: %s" % (name, e))
    except ks_exc.ClientException as e:
        raise errors.ImageShareError(
            "Cloud '%s' could not authenticate: %s" % (name, e))
    return session, glance_for(session, region.region_name,
                               region.get_interface())
