"""HAR 1.2 (the HTTP Archive format of browsers' developer tools and proxies), from plain values.

A neutral, standard-library-only package that the harness (``--panel-record``) and the mock
(``mockpanel serve --record``) both write through, so the format is written once; it imports
neither of them (an import-linter contract says so). It knows nothing about keys: each caller
redacts its secrets before handing values here.
"""

from __future__ import annotations

from smmhar.har import (
    HAR_VERSION,
    Body,
    entry,
    har_log,
    post_data,
    query_string,
    started_date_time,
    write_atomic,
    write_text_atomic,
)

__all__ = [
    "HAR_VERSION",
    "Body",
    "entry",
    "har_log",
    "post_data",
    "query_string",
    "started_date_time",
    "write_atomic",
    "write_text_atomic",
]
