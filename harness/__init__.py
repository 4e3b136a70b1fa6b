"""Conformance harness for the SMM panel API v2: a pytest plugin and its checks.

The plugin (``harness.plugin``) is registered through the ``pytest11`` entry point and stays
inert unless ``--panel-url`` is given, so installing this package changes no other test suite.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
