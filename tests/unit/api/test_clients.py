"""Which endpoint, TLS settings and timeout each client gets.

The caller runs through osc-lib's real ClientManager and openstacksdk's
real config loader (a clouds.yaml written per test), the catalog is a
real keystoneauth one built from a token fixture: no request leaves the
process, and each test names the exact URL chosen.
"""

import os
from unittest import mock
import warnings

import fixtures
from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import fixture as ks_fixture
from keystoneauth1.identity import access as access_plugin
from keystoneauth1 import session as ks_session
import openstack.config
import openstack.exceptions
from osc_lib import clientmanager
import requests
import testtools

from osc_imageshare.api import clients
from osc_imageshare.api import identity
from osc_imageshare import errors
from tests.unit import fakes

ALPHA = 'a1' * 16
BETA = 'b2' * 16

CATALOG = {
    # (service, interface, region): URL
    ('image', 'public', 'RegionOne'): 'http://glance-one:9292',
    ('image', 'internal', 'RegionOne'): 'http://glance-one-int:9292',
    ('image', 'public', 'RegionTwo'): 'http://glance-two:9292/v2/',
    ('image', 'internal', 'RegionTwo'): 'http://glance-two-int/image',
    ('identity', 'public', 'RegionOne'): 'http://keystone:5000/v3',
    ('identity', 'internal', 'RegionOne'): 'http://keystone-int:5000/v3',
    ('identity', 'public', 'RegionDead'): 'http://keystone:5000/v3',
}


def catalog_session(project_id=ALPHA, timeout=None, verify=True, cert=None):
    """A keystoneauth session whose token carries ``CATALOG``."""
    token = ks_fixture.V3Token(project_id=project_id, project_name='alpha')
    services = {}
    for (stype, interface, region), url in sorted(CATALOG.items()):
        if stype not in services:
            services[stype] = token.add_service(stype)
        services[stype].add_endpoint(interface, url, region=region)
    auth = access_plugin.AccessInfoPlugin(
        access.create(body=token, auth_token='tok-%s' % project_id),
        auth_url='http://keystone:5000/v3')
    return ks_session.Session(auth=auth, timeout=timeout, verify=verify,
                              cert=cert)


REGIONS = {'regions': '[RegionOne, RegionTwo, RegionDead]'}

ENTRY = """\
  %(name)s:
    auth:
      auth_url: http://keystone:5000/v3
      username: bob
      password: secret
      project_name: beta
      user_domain_name: Default
      project_domain_name: Default
    identity_api_version: 3
"""


class CloudsYaml(fixtures.Fixture):
    """A clouds.yaml with the given entries, as OS_CLIENT_CONFIG_FILE."""

    def __init__(self, **entries):
        self.entries = entries

    def _setUp(self):
        # OS_* of the developer's shell must not leak into the tests.
        for var in [v for v in os.environ if v.startswith('OS_')]:
            self.useFixture(fixtures.EnvironmentVariable(var))
        d = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(d, 'clouds.yaml')
        text = 'clouds:\n'
        for name, extra in sorted(self.entries.items()):
            text += ENTRY % {'name': name}
            text += ''.join('    %s: %s\n' % kv for kv in sorted(
                extra.items()))
        with open(self.path, 'w') as f:
            f.write(text)
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', self.path))

    def region(self, name, **options):
        return openstack.config.OpenStackConfig(
            config_files=[self.path], vendor_files=[]).get_one(
                cloud=name, **options)


class TestCallerEndpoint(testtools.TestCase):
    """The caller: osc-lib's ClientManager, as ``openstack`` builds it."""

    def client_manager(self, entry=None, **options):
        # openstacksdk refuses --os-region-name outside the entry's regions.
        clouds = self.useFixture(CloudsYaml(me=entry or REGIONS))
        cm = clientmanager.ClientManager(
            cli_options=clouds.region('me', **options),
            api_version={'image_share': '2'})
        # What setup_auth would hold after authenticating, minus the HTTP.
        cm._auth_required = True
        cm.session = catalog_session()
        cm._auth_ref = cm.session.auth.get_access(cm.session)
        return cm

    def glance_url(self, entry=None, **options):
        cm = self.client_manager(entry, **options)
        return clients.caller_glance(cm).get_endpoint()

    def test_default_region_and_interface(self):
        self.assertEqual('http://glance-one:9292', self.glance_url(
            {'region_name': 'RegionOne'}))
        self.assertEqual('http://glance-one:9292', self.glance_url())

    def test_os_interface_internal(self):
        self.assertEqual('http://glance-one-int:9292', self.glance_url(
            {'region_name': 'RegionOne'}, interface='internal'))

    def test_os_region_name(self):
        # The catalog's "/v2/" is dropped: glanceclient adds "/v2/...".
        self.assertEqual('http://glance-two:9292', self.glance_url(
            region_name='RegionTwo'))

    def test_another_region_of_the_same_cloud(self):
        # glance-download's check: the same token on the source region's
        # Glance, by the catalog, with the client's interface.
        for interface, url in (('public', 'http://glance-two:9292'),
                               ('internal', 'http://glance-two-int/image')):
            cm = self.client_manager({'region_name': 'RegionOne'},
                                     interface=interface)
            there = clients.in_region(clients.caller_glance(cm), 'RegionTwo')
            self.assertEqual(url, there.get_endpoint())
            self.assertIs(cm.session, there.session)

    def test_os_region_name_outside_the_entry(self):
        # openstacksdk's rule, for our commands as for core ones.
        e = self.assertRaises(openstack.exceptions.ConfigException,
                              self.glance_url, {'region_name': 'RegionOne'},
                              region_name='RegionTwo')
        self.assertIn('Region RegionTwo is not a valid region name', str(e))

    def test_os_region_name_and_interface(self):
        self.assertEqual('http://glance-two-int/image', self.glance_url(
            region_name='RegionTwo', interface='internal'))

    def test_interface_from_clouds_yaml(self):
        self.assertEqual('http://glance-one-int:9292', self.glance_url(
            {'region_name': 'RegionOne', 'interface': 'internal'}))

    def test_override_wins_over_region_and_interface(self):
        entry = dict(REGIONS, image_endpoint_override=(
            'http://real-glance:9292/v2'))
        self.assertEqual('http://real-glance:9292', self.glance_url(
            entry, region_name='RegionDead'))
        self.assertEqual('http://real-glance:9292', self.glance_url(
            entry, interface='internal', region_name='RegionTwo'))

    def test_region_without_image_endpoint(self):
        e = self.assertRaises(errors.ImageShareError, self.glance_url,
                              {'region_name': 'RegionDead'})
        self.assertEqual(
            "Your cloud has no public image endpoint in region 'RegionDead' "
            "in its catalog; set image_endpoint_override in clouds.yaml, or "
            "choose another region or interface", str(e))

    def test_session_is_osc_session(self):
        cm = self.client_manager({'region_name': 'RegionOne'})
        self.assertIs(cm.session,
                      clients.caller_glance(cm).session)

    def test_identity_catalog(self):
        cm = self.client_manager({'region_name': 'RegionOne'},
                                 interface='internal')
        ident = identity.Identity.from_client_manager(cm)
        self.assertEqual({'endpoint_filter': {
            'service_type': 'identity', 'version': '3',
            'interface': 'internal', 'region_name': 'RegionOne'}},
            ident._where)
        self.assertEqual(
            'http://keystone-int:5000/v3',
            cm.session.get_endpoint(**ident._where['endpoint_filter']))

    def test_identity_override(self):
        cm = self.client_manager({
            'region_name': 'RegionOne',
            'identity_endpoint_override': 'http://keystone-lb:5000/v3'})
        ident = identity.Identity.from_client_manager(cm)
        self.assertEqual({'endpoint_override': 'http://keystone-lb:5000/v3'},
                         ident._where)
        with mock.patch.object(cm.session, 'get') as get:
            get.return_value.json.return_value = {'projects': []}
            ident.my_projects()
        get.assert_called_once_with(
            '/auth/projects', endpoint_override='http://keystone-lb:5000/v3')


class TestRescoped(testtools.TestCase):
    """A rescoped session: the caller's TLS, timeout and endpoint rule."""

    def test_session_keeps_tls_and_timeout(self):
        caller = catalog_session(timeout=7.5, verify='/etc/ca.pem',
                                 cert=('/c.pem', '/k.pem'))
        with mock.patch('keystoneauth1.session.Session.get_token'):
            sess = clients.rescoped_session(
                caller, caller.auth.get_access(caller), BETA)
        self.assertEqual(('/etc/ca.pem', ('/c.pem', '/k.pem'), 7.5),
                         (sess.verify, sess.cert, sess.timeout))
        self.assertEqual(('http://keystone:5000/v3', 'tok-%s' % ALPHA, BETA),
                         (sess.auth.auth_url, sess.auth.auth_methods[0].token,
                          sess.auth.project_id))

    def test_refused_rescope_is_one_line(self):
        caller = catalog_session()
        with mock.patch('keystoneauth1.session.Session.get_token',
                        side_effect=ks_exc.Unauthorized('no role')):
            e = self.assertRaises(
                errors.ImageShareError, clients.rescoped_session,
                caller, caller.auth.get_access(caller), BETA)
        self.assertEqual(
            'Could not rescope your token to project %s (no role (HTTP 401)); '
            'give '
            '--to-cloud <cloud> with credentials of that project' % BETA,
            str(e))

    def rescoped_url(self, entry, **options):
        clouds = self.useFixture(CloudsYaml(me=entry))
        cm = clientmanager.ClientManager(
            cli_options=clouds.region('me', **options),
            api_version={'image_share': '2'})
        glance_for = clients.rescoped_glance(cm)
        return glance_for(catalog_session(BETA)).get_endpoint()

    def test_glance_by_caller_region_and_interface(self):
        self.assertEqual('http://glance-two-int/image', self.rescoped_url(
            REGIONS, region_name='RegionTwo', interface='internal'))

    def test_glance_by_caller_override(self):
        self.assertEqual('http://real-glance:9292', self.rescoped_url(
            {'region_name': 'RegionDead',
             'image_endpoint_override': 'http://real-glance:9292'}))


class TestEntry(testtools.TestCase):
    """A --to-cloud entry: openstacksdk's rules, with its own settings."""

    def entry(self, **settings):
        clouds = self.useFixture(CloudsYaml(bob=settings))
        return clouds.region('bob')

    def url(self, **settings):
        region = self.entry(**settings)
        rule = clients.entry_endpoint(region, 'image', 'bob')
        return clients.glance_api(catalog_session(BETA), rule.url(
            catalog_session(BETA)), rule).get_endpoint()

    def test_region_and_interface_of_the_entry(self):
        self.assertEqual('http://glance-one:9292',
                         self.url(region_name='RegionOne'))
        self.assertEqual('http://glance-two-int/image', self.url(
            region_name='RegionTwo', interface='internal'))

    def test_caller_environment_does_not_apply(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_REGION_NAME', 'RegionTwo'))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_INTERFACE', 'internal'))
        region = self.entry(region_name='RegionOne')
        self.assertEqual(
            clients.Endpoint('image', None, 'RegionOne', 'public', 'bob'),
            clients.entry_endpoint(region, 'image', 'bob'))

    def test_per_service_interface(self):
        self.assertEqual('http://glance-one-int:9292', self.url(
            region_name='RegionOne', image_interface='internal'))

    def test_override(self):
        self.assertEqual('http://real-glance:9292', self.url(
            region_name='RegionDead',
            image_endpoint_override='http://real-glance:9292/'))

    def test_region_without_image_endpoint(self):
        e = self.assertRaises(errors.ImageShareError, self.url,
                              region_name='RegionDead')
        self.assertEqual(
            "Cloud 'bob' has no public image endpoint in region 'RegionDead' "
            "in its catalog; set image_endpoint_override in clouds.yaml, or "
            "choose another region or interface", str(e))

    def test_session_tls_and_timeout(self):
        region = self.entry(region_name='RegionOne', api_timeout=2.5,
                            cacert='/etc/ca.pem', cert='/c.pem',
                            key='/k.pem')
        sess = region.get_session()
        self.assertEqual(('/etc/ca.pem', ('/c.pem', '/k.pem'), 2.5),
                         (sess.verify, sess.cert, sess.timeout))
        region = self.entry(region_name='RegionOne', verify=False)
        self.assertEqual((False, None), (region.get_session().verify,
                                         region.get_session().timeout))

    def test_open_cloud(self):
        self.open_bob()

    def test_open_cloud_uses_no_deprecated_openstacksdk_api(self):
        # openstacksdk's own deprecation classes (RemovedInSDK50Warning,
        # RemovedInSDK60Warning, ... where this version has them) are
        # errors: our calls must not give one (-v shows them). The
        # openstacksdk of 2023.1 has no such classes (no openstack.warnings).
        try:
            import openstack.warnings as sdk_warnings
        except ImportError:
            sdk_warnings = None
        deprecations = [getattr(sdk_warnings, name) for name in dir(
            sdk_warnings) if name.startswith('RemovedInSDK')]
        with warnings.catch_warnings():
            for category in deprecations:
                warnings.simplefilter('error', category)
            self.open_bob()

    def open_bob(self):
        self.useFixture(CloudsYaml(bob={
            'region_name': 'RegionOne', 'api_timeout': 4,
            'image_endpoint_override': 'http://real-glance:9292'}))
        calls = []

        def request(sess, url, method, **kw):
            calls.append((method, url, kw.get('endpoint_override'),
                          sess.timeout))
            resp = requests.Response()
            resp.status_code = 200
            resp.headers['Content-Type'] = 'application/json'
            resp._content = b'{"images": []}'
            return resp

        with mock.patch('keystoneauth1.session.Session.get_project_id',
                        return_value=BETA), \
                mock.patch('keystoneauth1.session.Session.request',
                           autospec=True, side_effect=request):
            sess, glance = clients.open_cloud('bob')
        self.assertEqual(4, sess.timeout)
        self.assertEqual('http://real-glance:9292',
                         glance.get_endpoint())
        self.assertEqual([('GET', '/v2/images?limit=1',
                           'http://real-glance:9292', 4)], calls)

    def test_unknown_entry(self):
        self.useFixture(CloudsYaml(bob={}, alice={}))
        e = self.assertRaises(errors.ImageShareError, clients.open_cloud,
                              'nobody')
        self.assertTrue(str(e).startswith("Cloud 'nobody' is not an entry "
                                          "of "), str(e))
        self.assertTrue(str(e).endswith('; its entries: alice, bob'),
                        str(e))
        e = self.assertRaises(errors.ImageShareError, clients.open_cloud,
                              'bobb')
        self.assertIn("(did you mean 'bob'?); its entries: alice, bob",
                      str(e))

    def test_unknown_cloud_sentence(self):
        self.assertEqual(
            "Cloud 'bob-betta' is not an entry of /c.yaml (did you mean "
            "'bob-beta'?); its entries: alice-alpha, bob-beta",
            clients.unknown_cloud('bob-betta', ['bob-beta', 'alice-alpha'],
                                  '/c.yaml'))
        self.assertEqual("Cloud 'x' is not an entry of clouds.yaml; its "
                         "entries: none", clients.unknown_cloud('x', []))


class TestCheckReachable(testtools.TestCase):

    def check(self, failure, timeout=None):
        glance = fakes.FakeGlance(fail={('GET', '/v2/images'): failure})
        glance.endpoint = 'http://127.0.0.1:9'
        e = self.assertRaises(errors.ImageShareError,
                              clients.check_reachable, glance, 'bob',
                              timeout)
        self.assertEqual(('GET', '/v2/images?limit=1'), glance.calls[0])
        return str(e)

    def test_timeout_not_retried(self):
        self.assertEqual(
            "Cloud 'bob': the image service at http://127.0.0.1:9 did not "
            "answer within 3.0 s (api_timeout)",
            self.check(ks_exc.ConnectTimeout('Request to '
                                             'http://127.0.0.1:9 timed out'),
                       3.0))

    def test_refused_after_retries(self):
        refused = ks_exc.ConnectFailure(
            'Unable to establish connection to http://127.0.0.1:9/v2/images: '
            '[Errno 111] Connection refused')
        self.assertEqual(
            "Cloud 'bob': cannot reach the image service at "
            "http://127.0.0.1:9 (Connection refused); check the entry's "
            "image_endpoint_override, region_name and interface",
            self.check(refused))

    def test_certificate_refused(self):
        self.assertEqual(
            "Cloud 'bob': no TLS connection to the image service at "
            "http://127.0.0.1:9 (CERTIFICATE_VERIFY_FAILED); check the "
            "entry's cacert, verify, cert and key",
            self.check(ks_exc.SSLError(
                "SSL exception connecting to https://127.0.0.1:9/v2/images: "
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
                "failed: self-signed certificate")))

    def test_http_error(self):
        self.assertEqual(
            "Cloud 'bob': the image service at http://127.0.0.1:9 answered "
            "HTTP 401: Authentication required",
            self.check(errors.Unauthorized('Authentication required')))

    def test_answers(self):
        glance = fakes.FakeGlance()
        clients.check_reachable(glance, 'bob', 3)
        self.assertEqual([('GET', '/v2/images?limit=1')], glance.calls)


class TestRetriesOption(testtools.TestCase):

    def cm(self, value):
        cm = fakes.FakeClientManager()
        cm.get_configuration = lambda: {'image_share_retries': value}
        return cm

    def test_default_value_and_zero(self):
        self.assertEqual(3, clients.retries_of(self.cm(None)))
        self.assertEqual(5, clients.retries_of(self.cm('5')))
        self.assertEqual(0, clients.retries_of(self.cm(0)))

    def test_not_a_number(self):
        e = self.assertRaises(errors.ImageShareError, clients.retries_of,
                              self.cm('many'))
        self.assertEqual("--os-image-share-retries must be a whole number "
                         "(0 disables retries), not 'many'", str(e))

    def test_reaches_the_glance_built(self):
        with mock.patch('keystoneauth1.adapter.Adapter'):
            api = clients.glance_api(mock.Mock(), 'http://g:9292/v2', None, 1)
        self.assertEqual((1, 'http://g:9292'),
                         (api.policy.retries, api.get_endpoint()))


class TestCloudLabel(testtools.TestCase):

    def test_entry_and_region_never_a_url(self):
        cm = mock.Mock(region_name='RegionTwo')
        cm._cli_options.name = 'alice-alpha'
        self.assertEqual('alice-alpha/RegionTwo',
                         clients.cloud_label(cm))
        cm._cli_options.name = 'envvars'    # OS_* variables, no entry
        self.assertEqual('RegionTwo', clients.cloud_label(cm))
        cm.region_name = None
        self.assertIsNone(clients.cloud_label(cm))
