"""The OSC plugin contract."""

import argparse
import subprocess
import sys
from unittest import mock

import fixtures
from osc_lib import exceptions

from osc_imageshare import plugin
from tests.unit import base


class TestPlugin(base.TestCase):

    def test_contract(self):
        self.assertEqual('image_share', plugin.API_NAME)
        self.assertNotEqual('image', plugin.API_NAME)
        self.assertEqual('os_image_share_api_version',
                         plugin.API_VERSION_OPTION)
        self.assertEqual('2', plugin.DEFAULT_API_VERSION)
        self.assertEqual({'2': 'osc_imageshare.api.glance.GlanceAPI'},
                         plugin.API_VERSIONS)

    @mock.patch('keystoneauth1.adapter.Adapter')
    def test_make_client_uses_the_osc_session_and_endpoint(self, client_cls):
        instance = mock.Mock(_api_version={'image_share': '2'},
                             region_name='RegionTwo', interface='internal')
        instance.get_configuration.return_value = {}
        instance.get_endpoint_for_service_type.return_value = (
            'http://glance-two-int:9292/v2')
        client = plugin.make_client(instance)
        self.assertIs(client_cls.return_value, client.adapter)
        self.assertEqual(('http://glance-two-int:9292', 3),
                         (client.get_endpoint(), client.policy.retries))
        instance.get_endpoint_for_service_type.assert_called_once_with(
            'image', region_name='RegionTwo', interface='internal')
        client_cls.assert_called_once_with(
            instance.session, service_type='image',
            endpoint_override='http://glance-two-int:9292',
            region_name='RegionTwo', interface='internal')

    def test_make_client_refuses_unknown_version(self):
        instance = mock.Mock(_api_version={'image_share': '1'})
        e = self.assertRaises(exceptions.UnsupportedVersion,
                              plugin.make_client, instance)
        self.assertEqual('Image share API version 1 is not supported; use '
                         'one of: 2', str(e))

    def test_build_option_parser(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_IMAGE_SHARE_API_VERSION', '2'))
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        self.assertEqual('2', parser.parse_args([]).os_image_share_api_version)
        self.assertEqual('3', parser.parse_args(
            ['--os-image-share-api-version', '3']).os_image_share_api_version)

    def test_retries_option_and_env(self):
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        self.assertIsNone(parser.parse_args([]).os_image_share_retries)
        self.assertEqual(0, parser.parse_args(
            ['--os-image-share-retries', '0']).os_image_share_retries)
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_IMAGE_SHARE_RETRIES', '5'))
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        self.assertEqual(5, parser.parse_args([]).os_image_share_retries)
        self.assertEqual(10, parser.parse_args(
            ['--os-image-share-retries', '10']).os_image_share_retries)
        for bad in ('-1', 'many', '11', '1000'):
            stderr = self.useFixture(fixtures.StringStream('stderr'))
            self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                 stderr.stream))
            # OSC's parser prints its whole usage first: not for this one.
            self.useFixture(fixtures.MonkeyPatch(
                'argparse.ArgumentParser.print_usage', self.fail))
            exc = self.assertRaises(SystemExit, parser.parse_args,
                                    ['--os-image-share-retries', bad])
            self.assertEqual(2, exc.code)
            stderr.stream.flush()
            self.assertEqual(
                'openstack: error: argument --os-image-share-retries (env '
                'OS_IMAGE_SHARE_RETRIES): takes a whole number from 0 to 10 '
                '(0 disables retries), not %r\n' % bad,
                stderr.getDetails()['stderr'].as_text())

    def test_import_adds_nothing_to_openstack_start(self):
        # OSC imports every plugin module on every start (while importing
        # its shell, which is built on osc_lib's): importing ours may load
        # nothing more than osc_lib's shell has loaded already.
        code = ('import sys, osc_lib.shell; before = set(sys.modules)'
                '; import osc_imageshare.plugin; print(sorted('
                'm for m in set(sys.modules) - before))')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual("['osc_imageshare', 'osc_imageshare.plugin']",
                         out.strip())
