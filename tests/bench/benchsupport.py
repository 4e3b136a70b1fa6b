"""Shared bits of the bench tests."""

from __future__ import annotations

import shutil

import pytest

needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)"
)
