"""Sphinx configuration for the osc-imageshare release notes."""

project = 'osc-imageshare release notes'
copyright = '2026, osc-imageshare developers'
extensions = ['reno.sphinxext']
master_doc = 'index'
html_theme = 'alabaster'
