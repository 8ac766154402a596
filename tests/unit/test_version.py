"""The installed version is the release setup.cfg declares."""

import configparser
import importlib.metadata
import os
import unittest

import osc_imageshare

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class TestVersion(unittest.TestCase):

    def test_installed_metadata_is_the_declared_version(self):
        # setup.py has pbr take it as is: no .devN from git, tags or not.
        config = configparser.ConfigParser()
        config.read(os.path.join(ROOT, 'setup.cfg'))
        declared = config['metadata']['version']
        self.assertRegex(declared, r'^\d+\.\d+\.\d+$')
        self.assertEqual(declared,
                         importlib.metadata.version('osc-imageshare'))
        # What `openstack module list --all` shows for osc_imageshare.
        self.assertEqual(declared, osc_imageshare.__version__)

    def test_other_attributes_are_missing(self):
        self.assertFalse(hasattr(osc_imageshare, '__no_such__'))
