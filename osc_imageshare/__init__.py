"""osc-imageshare: move Glance images between projects, safely."""


def __getattr__(name):
    """``__version__``: the installed version, read on first use.

    Not at import: ``openstack`` loads every plugin on each run, and the
    metadata is read only by who asks (``openstack module list --all``).
    """
    if name == '__version__':
        import importlib.metadata

        return importlib.metadata.version('osc-imageshare')
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
