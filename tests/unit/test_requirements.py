"""requirements.txt lists what the package imports, and no more.

A library the package never imports is a cost for every ``openstack``
start (python-glanceclient brought warlock, jsonschema and attrs) and a
library it imports without listing it may be missing.
"""

import ast
import pathlib
import re
import sys
import unittest

import osc_imageshare

PACKAGE = pathlib.Path(osc_imageshare.__file__).parent
REQUIREMENTS = PACKAGE.parent / 'requirements.txt'
# Distribution name -> the module it installs, where they differ.
MODULE_OF = {'osc-lib': 'osc_lib', 'openstacksdk': 'openstack',
             'pyyaml': 'yaml'}


def imported_libraries():
    found = set()
    for path in PACKAGE.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name.split('.')[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split('.')[0])
    return {m for m in found
            if m not in sys.stdlib_module_names and m != 'osc_imageshare'}


def required():
    names = set()
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split('#')[0].strip()
        if line:
            name = re.match(r'[A-Za-z0-9_.-]+', line).group(0).lower()
            names.add(MODULE_OF.get(name, name))
    return names


class TestRequirements(unittest.TestCase):

    def test_the_runtime_requirements_are_what_the_package_imports(self):
        self.assertEqual(imported_libraries(), required())

    def test_glanceclient_is_a_test_requirement_only(self):
        self.assertNotIn('python-glanceclient', required())
        tests = (PACKAGE.parent / 'test-requirements.txt').read_text()
        self.assertIn('python-glanceclient>=', tests)
