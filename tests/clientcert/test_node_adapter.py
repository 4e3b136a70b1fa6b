"""The JSON-lines adapter with the Node example shim (plain Node, built-in fetch).

Without ``node`` on PATH these tests skip, saying why; where they must run (``.ci/run``
exports ``CLIENTCERT_REQUIRE_NODE=1``; a ``CI`` variable set true does the same) they fail
instead, so CI never passes without having run them."""

from __future__ import annotations

import os
import shutil

import pytest

from clientcert.certify import certify
from clientcert.jsonlines import LibraryError
from clientcert.protocol import AdapterSettings
from harness import Verdict
from tests.clientcert.node_adapter import make

_TRUE = ("1", "true", "yes", "on")


def _required() -> bool:
    return any(os.environ.get(name, "").strip().lower() in _TRUE
               for name in ("CLIENTCERT_REQUIRE_NODE", "CI"))


@pytest.fixture(autouse=True)
def _node() -> None:
    if shutil.which("node") is not None:
        return
    reason = "node is not on PATH (Debian package nodejs)"
    if _required():
        pytest.fail(f"{reason}, and CLIENTCERT_REQUIRE_NODE or CI says this test must run",
                    pytrace=False)
    pytest.skip(reason)


def test_node_client_passes_every_must_clause() -> None:
    book = certify(make, ["reference", "smmpremium", "smartpanel"])
    outcomes = {o.id: o for o in book.outcomes()}
    assert not book.must_failed(), "\n".join(o.line(200) for o in outcomes.values())
    assert outcomes["CLIENT-003"].verdict is Verdict.PASS  # strings kept: exact money
    assert outcomes["CLIENT-008"].verdict is Verdict.PASS


def test_an_error_in_the_shim_is_raised_as_the_library_error() -> None:
    adapter = make(AdapterSettings(url="http://127.0.0.1:9/api/v2", key="k" * 20, timeout=0.5))
    try:
        with pytest.raises(LibraryError, match="PanelError: balance: no answer"):
            adapter.balance()
    finally:
        adapter.close()
