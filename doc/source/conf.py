"""Sphinx configuration for osc-imageshare."""

project = 'osc-imageshare'
copyright = '2026, osc-imageshare developers'
extensions = ['cliff.sphinxext']
master_doc = 'index'
exclude_patterns = []
html_theme = 'alabaster'
autoprogram_cliff_application = 'openstack'
man_pages = [
    ('index', 'osc-imageshare', 'move Glance images between projects',
     ['osc-imageshare developers'], 1),
]
