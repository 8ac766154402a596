import configparser
import os

import setuptools

# The version is the one setup.cfg declares ([metadata] version), in every
# checkout, tagged or not: pbr would otherwise derive it from the git tags
# (a clone without them, as CI makes: 0.0.1.devN).  PBR_VERSION, when set
# (a packager's), still wins.  See doc/source/contributor/releasing.rst.
_config = configparser.ConfigParser()
_config.read(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'setup.cfg'))
if not os.environ.get('PBR_VERSION'):
    os.environ['PBR_VERSION'] = _config['metadata']['version']

setuptools.setup(setup_requires=['pbr>=6.0'], pbr=True)
