"""A tiny blocking HTTP client for setting a bench up and checking the answers under load.

Load itself always comes from wrk; this only places the orders a load needs and confirms that
what wrk hammered was answered correctly (wrk counts HTTP errors, not wrong JSON).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

__all__ = ["BenchClientError", "post_form", "post_json"]

_TIMEOUT = 30.0


class BenchClientError(RuntimeError):
    """A setup request failed or was answered with something unexpected."""


def _send(request: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError as error:
        raise BenchClientError(f"{request.full_url}: {error}") from error
    try:
        return status, json.loads(raw)
    except ValueError:
        raise BenchClientError(
            f"{request.full_url}: HTTP {status}, not JSON: {raw[:200]!r}"
        ) from None


def post_form(url: str, fields: Mapping[str, str]) -> tuple[int, Any]:
    """POST ``fields`` as a form; the status and the decoded JSON answer."""
    body = urlencode(fields).encode("ascii")
    return _send(urllib.request.Request(url, data=body, method="POST"))


def post_json(url: str, document: Any, token: str | None = None) -> tuple[int, Any]:
    """POST ``document`` as JSON (with a Bearer ``token`` when given)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(document).encode("utf-8")
    return _send(urllib.request.Request(url, data=body, headers=headers, method="POST"))
