# The one place the version is set: pyproject.toml (setuptools' `attr`), nbdev and `lungseg --version` read it here.
__version__ = "0.1.0"
