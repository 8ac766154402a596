"""Every session and client the plugin uses, built by one set of rules.

- The caller (the ``openstack`` command's own cloud) uses osc-lib's
  session (``--os-cacert``, ``--insecure``, ``--os-cert``/``--os-key``)
  and chooses each endpoint as OSC's own commands do: the clouds.yaml
  ``<service>_endpoint_override`` if set, else the catalog's URL for
  ``--os-region-name`` and ``--os-interface``.
- A ``--to-cloud`` entry is built as openstacksdk builds it, from that
  entry alone: its session (``verify``, ``cacert``, ``cert``/``key``,
  ``api_timeout``), its ``image_endpoint_override``, region and interface.
- A rescoped session (the caller's token exchanged for another project of
  the caller's user) keeps the caller's TLS settings and timeout, and its
  Glance is chosen by the caller's rules.

Each Glance is a ``glance.GlanceAPI`` on a keystoneauth ``Adapter``
(``glance_api()``), with the retry bound of ``--os-image-share-retries``.
keystoneauth and openstacksdk are imported inside the functions:
plugin.make_client imports this module on first use.
"""

import dataclasses
import logging
import re

from osc_imageshare import errors

LOG = logging.getLogger(__name__)

# A version as the last path segment of an image endpoint ("/v2"):
# the door adds its own "/v2/..." to every request path.
_VERSION_SUFFIX = re.compile(r'/v\d+(\.\d+)?/*$')


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """How to choose one service's URL: an override, or the catalog."""

    service_type: str
    override: str = None
    region_name: str = None
    interface: object = None    # a name, or a list in preference order
    cloud: str = None           # for messages: the clouds.yaml entry

    def url(self, session):
        """The override, else the catalog URL of this region/interface.

        The same rule as osc-lib's ClientManager
        .get_endpoint_for_service_type, for any session.
        """
        if self.override:
            return self.override
        from keystoneauth1 import exceptions as ks_exc

        access = session.auth.get_access(session)
        try:
            return access.service_catalog.url_for(
                service_type=self.service_type,
                region_name=self.region_name,
                interface=self.interface or 'public')
        except ks_exc.EndpointNotFound:
            raise errors.ImageShareError(self.not_found())

    def not_found(self):
        interface = self.interface or 'public'
        if isinstance(interface, (list, tuple)):
            interface = ' or '.join(interface)
        return ("%s has no %s %s endpoint%s in its catalog; set "
                "%s_endpoint_override in clouds.yaml, or choose another "
                "region or interface" % (
                    "Cloud '%s'" % self.cloud if self.cloud
                    else 'Your cloud', interface, self.service_type,
                    " in region '%s'" % self.region_name
                    if self.region_name else '',
                    self.service_type.replace('-', '_')))


# ---------------------------------------------------------------- caller
def caller_endpoint(client_manager, service_type):
    """The caller's rule for ``service_type`` (osc-lib's)."""
    override = client_manager.get_configuration().get(
        '%s_endpoint_override' % service_type.replace('-', '_'))
    return Endpoint(service_type, override, client_manager.region_name,
                    client_manager.interface)


def caller_glance(client_manager):
    """The caller's Glance client: OSC's session, OSC's endpoint rule."""
    from keystoneauth1 import exceptions as ks_exc

    endpoint = caller_endpoint(client_manager, 'image')
    try:
        url = client_manager.get_endpoint_for_service_type(
            'image', region_name=client_manager.region_name,
            interface=client_manager.interface)
    except ks_exc.EndpointNotFound:
        url = None
    if not url:
        raise errors.ImageShareError(endpoint.not_found())
    return glance_api(client_manager.session, url, endpoint,
                      retries_of(client_manager))


def retries_of(client_manager):
    """``--os-image-share-retries`` (env OS_IMAGE_SHARE_RETRIES), or 3."""
    from osc_imageshare.api import retry

    value = client_manager.get_configuration().get('image_share_retries')
    try:
        value = retry.RETRIES if value in (None, '') else min(
            max(int(value), 0), retry.MAX_RETRIES)
    except (TypeError, ValueError):
        raise errors.ImageShareError(
            '--os-image-share-retries must be a whole number (0 disables '
            'retries), not %r' % (value,))
    # The option is global: the --to-cloud entries opened later follow it.
    _CONFIGURED['retries'] = value
    return value


_CONFIGURED = {}


def caller_identity(client_manager):
    """The caller's Identity endpoint rule (as OSC's identity commands)."""
    return caller_endpoint(client_manager, 'identity')


def rescoped_glance(client_manager):
    """``glance_for(session)``: a Glance client on a rescoped session.

    The caller's override, region and interface apply: the rescoped token
    is for the same cloud.
    """
    endpoint = caller_endpoint(client_manager, 'image')
    retries = retries_of(client_manager)

    def glance_for(session):
        return glance_api(session, endpoint.url(session), endpoint, retries)
    return glance_for


def rescoped_session(session, auth_ref, project_id):
    """A session for ``project_id`` authenticated by ``auth_ref``'s token.

    It keeps ``session``'s TLS settings (verify, CA bundle, client
    certificate) and timeout.
    """
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1.identity import v3
    from keystoneauth1 import session as ks_session

    auth_url = getattr(session.auth, 'auth_url', None)
    sess = ks_session.Session(
        auth=v3.Token(auth_url=auth_url, token=auth_ref.auth_token,
                      project_id=project_id),
        verify=session.verify, cert=session.cert, timeout=session.timeout)
    try:
        sess.get_token()  # fail here, before any write
    except ks_exc.ClientException as e:
        raise errors.ImageShareError(
            "Could not rescope your token to project %s (%s); give "
            "--to-cloud <cloud> with credentials of that project"
            % (project_id, e))
    return sess


# ---------------------------------------------------------------- entries
def entry_endpoint(region, service_type, name=None):
    """openstacksdk's rule for ``service_type`` of a CloudRegion."""
    return Endpoint(service_type, region.get_endpoint(service_type),
                    region.get_region_name(service_type),
                    region.get_interface(service_type), name)


def open_cloud(name, retries=None, reach=True):
    """``(session, GlanceAPI)`` for a clouds.yaml entry.

    Authenticates and reads the entry's Glance once, so that a wrong
    entry stops the command before any write.  ``reach`` False: the
    caller's own first read of that Glance, before any write, is the
    check (``check_reachable`` makes the error its sentence).
    """
    from keystoneauth1 import exceptions as ks_exc
    import openstack.config
    from openstack import exceptions as sdk_exc

    try:
        config = openstack.config.OpenStackConfig()
        names = config.get_cloud_names()
        if name not in names:
            raise errors.ImageShareError(unknown_cloud(
                name, names, getattr(config, 'config_filename', None)))
        region = entry_region(config, name)
        session = region.get_session()
        session.get_project_id()  # authenticate now, before any write
    except sdk_exc.ConfigException as e:
        raise errors.ImageShareError(
            "Cloud '%s' cannot be used: %s" % (name, e))
    except ks_exc.ClientException as e:
        raise errors.ImageShareError(
            "Cloud '%s' could not authenticate: %s" % (name, e))
    endpoint = entry_endpoint(region, 'image', name)
    client = glance_api(session, endpoint.url(session), endpoint,
                        _CONFIGURED.get('retries') if retries is None
                        else retries)
    if reach:
        check_reachable(client, name, session.timeout)
    return session, client


def entry_region(config, name):
    """``config.get_one(cloud=name)``: the entry's CloudRegion.

    openstacksdk 4.22 warns that InfluxDB support is deprecated
    (RemovedInSDK60Warning) for every CloudRegion it makes, InfluxDB
    configured or not; OSC's own loading of the caller's cloud gives the
    notice already, so ours, a repetition, is left out.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='Support for InfluxDB')
        return config.get_one(cloud=name)


def unknown_cloud(name, names, where=None):
    """The sentence for a --to-cloud entry that clouds.yaml lacks."""
    import difflib

    close = difflib.get_close_matches(name, names, n=1)
    return "Cloud '%s' is not an entry of %s%s; its entries: %s" % (
        name, where or 'clouds.yaml',
        " (did you mean '%s'?)" % close[0] if close else '',
        ', '.join(sorted(names)) or 'none')


def check_reachable(client, name, timeout=None, read=None):
    """One cheap Glance request; a one-line error if it cannot answer.

    ``read``: the caller's own first request instead (its answer is
    returned).
    """
    where = client.endpoint
    cloud = "Cloud '%s'" % name
    try:
        return read() if read else client.first_images(limit=1)
    except errors.TransportError as e:
        raise errors.ImageShareError(_unreachable(
            cloud, where, timeout, e.__cause__ or e))
    except errors.GlanceError as e:
        raise errors.ImageShareError(
            '%s: the image service at %s answered HTTP %s: %s'
            % (cloud, where, e.code, e.message))


def _unreachable(cloud, where, timeout, e):
    """The sentence for an entry whose Glance cannot be reached."""
    from keystoneauth1 import exceptions as ks_exc

    if isinstance(e, ks_exc.ConnectTimeout):
        return ('%s: the image service at %s did not answer within %s s '
                '(api_timeout)' % (cloud, where, timeout) if timeout else
                '%s: the image service at %s did not answer' % (cloud, where))
    if isinstance(e, ks_exc.SSLError):
        return ("%s: no TLS connection to the image service at %s (%s); "
                "check the entry's cacert, verify, cert and key"
                % (cloud, where, _reason(e)))
    return ("%s: cannot reach the image service at %s (%s); check the "
            "entry's image_endpoint_override, region_name and interface"
            % (cloud, where, _reason(e)))


def _reason(exc):
    text = str(exc)
    for known in ('Connection refused', 'Name or service not known',
                  'No route to host', 'CERTIFICATE_VERIFY_FAILED'):
        if known in text:
            return known
    return ' '.join(text.split())


def in_region(client, region):
    """``client``'s session on the Glance of another ``region``.

    The catalog's URL there, for the client's interface: what a Glance
    that pulls an image from that region (glance-download) finds with
    the same token.
    """
    rule = Endpoint('image', None, region, client.interface)
    session = client.session
    return glance_api(session, rule.url(session), rule,
                      client.policy.retries)


# ---------------------------------------------------------------- Glance
def glance_api(session, url, endpoint_rule=None, retries=None):
    """A ``GlanceAPI`` sending every request to ``url`` on ``session``."""
    from keystoneauth1 import adapter

    from osc_imageshare.api import glance
    from osc_imageshare.api import retry

    url = _VERSION_SUFFIX.sub('', url.rstrip('/'))
    rule = endpoint_rule or Endpoint('image')
    LOG.debug('Glance client for %s', url)
    return glance.GlanceAPI(
        adapter.Adapter(session, service_type='image',
                        endpoint_override=url,
                        region_name=rule.region_name,
                        interface=rule.interface),
        region_name=rule.region_name, interface=rule.interface,
        endpoint=url, reach=in_region,
        retries=retry.RETRIES if retries is None else retries)


def cloud_label(client_manager):
    """``<clouds.yaml entry>/<region>`` of the caller, as far as known.

    What a copy records as its source cloud: words a user recognises,
    never an endpoint URL.
    """
    options = getattr(client_manager, '_cli_options', None)
    name = getattr(options, 'name', None)
    region = getattr(client_manager, 'region_name', None)
    name = name if isinstance(name, str) and name != 'envvars' else None
    region = region if isinstance(region, str) else None
    return '/'.join(w for w in (name, region) if w) or None
