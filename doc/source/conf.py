"""Sphinx configuration for osc-imageshare."""

project = 'osc-imageshare'
copyright = '2026, osc-imageshare developers'
extensions = ['cliff.sphinxext']
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
html_static_path = ['_static']
html_css_files = ['imageshare.css']
autoprogram_cliff_application = 'openstack'
# Smart quotes would print '--mode' in the help texts as an en dash plus
# 'mode': copied from the page, the option fails (tests/docs checks it).
smartquotes = False
man_pages = [
    ('index', 'osc-imageshare', 'move Glance images between projects',
     ['osc-imageshare developers'], 1),
]


def _man_translator():
    """Sphinx's man page translator, printing a page reference as its title.

    docutils 0.22's man page writer prints every reference with its URI
    after it: a reference to another page of this documentation (no URI
    in a single man page) rendered as ``Title <>``.  Here such a reference
    is its title; a web address is still printed after its text.
    """
    from docutils import nodes
    from sphinx.writers import manpage

    class Translator(manpage.ManualPageTranslator):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            external_visit = self.visit_reference
            external_depart = self.depart_reference

            def visit_reference(node):
                if '://' in node.get('refuri', ''):
                    self.depart_reference = external_depart
                    return external_visit(node)
                self.visit_Text(nodes.Text(node.astext()))
                raise nodes.SkipNode
            self.visit_reference = visit_reference
    return Translator


def setup(app):
    app.set_translator('man', _man_translator())
