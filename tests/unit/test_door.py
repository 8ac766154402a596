"""One door: no module but api/glance.py reaches glanceclient's insides.

No module under osc_imageshare/ imports glanceclient (any of it); only
api/glance.py and api/clients.py (which builds the adapter) import
keystoneauth's adapter; and no module calls a name starting with ``_``
on a glanceclient or keystoneauth object (a private API).
"""

import ast
import pathlib
import unittest

import osc_imageshare

PACKAGE = pathlib.Path(osc_imageshare.__file__).parent
ADAPTER_OK = {'api/glance.py', 'api/clients.py'}
LIBRARIES = ('glanceclient', 'keystoneauth1')


def modules():
    for path in sorted(PACKAGE.rglob('*.py')):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(
            path.read_text(), str(path))


def imported(tree):
    """``{local name: module path}`` for every import in ``tree``."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split('.')[0]] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = '%s.%s' % (node.module, a.name)
    return names


def private_calls(tree, names):
    """``library.x._private(...)``-style calls on a library's names."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr.startswith('_')
                and not node.func.attr.startswith('__')):
            continue
        root = node.func.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and names.get(root.id, '').startswith(
                LIBRARIES):
            found.append('%s line %d' % (node.func.attr, node.lineno))
    return found


class TestDoor(unittest.TestCase):

    def test_no_module_imports_glanceclient(self):
        found = [(rel, mod) for rel, tree in modules()
                 for mod in imported(tree).values()
                 if mod.split('.')[0] == 'glanceclient']
        self.assertEqual([], found)

    def test_only_the_door_and_clients_build_on_the_adapter(self):
        found = [rel for rel, tree in modules()
                 if rel not in ADAPTER_OK and any(
                     m.startswith('keystoneauth1.adapter')
                     for m in imported(tree).values())]
        self.assertEqual([], found)

    def test_no_private_call_on_a_library_object(self):
        found = [(rel, call) for rel, tree in modules()
                 for call in private_calls(tree, imported(tree))]
        self.assertEqual([], found)

    def test_no_call_of_a_private_library_method(self):
        # Whatever object holds it: glanceclient's and keystoneauth's own
        # private methods (``_handle_response``...), called on anything
        # but ``self``.
        from glanceclient.common import http
        from keystoneauth1 import adapter
        from keystoneauth1 import session

        private = {n for cls in (http.SessionClient, http.HTTPClient,
                                 adapter.Adapter, session.Session)
                   for n in dir(cls)
                   if n.startswith('_') and not n.startswith('__')}
        self.assertIn('_handle_response', private)
        found = [(rel, node.func.attr, node.lineno)
                 for rel, tree in modules() for node in ast.walk(tree)
                 if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute)
                 and node.func.attr in private
                 and not (isinstance(node.func.value, ast.Name)
                          and node.func.value.id in ('self', 'cls'))]
        self.assertEqual([], found)

    def test_the_checks_see_what_they_ban(self):
        tree = ast.parse('from glanceclient.common import http\n'
                         'import keystoneauth1.adapter as ad\n'
                         'http._set_common_request_kwargs({}, {})\n'
                         'ad.Adapter._handle(1)\n')
        names = imported(tree)
        self.assertEqual({'http': 'glanceclient.common.http',
                          'ad': 'keystoneauth1.adapter'}, names)
        self.assertEqual(['_set_common_request_kwargs line 3',
                          '_handle line 4'],
                         sorted(private_calls(tree, names),
                                key=lambda c: c[-1]))
