"""How to: run the mock yourself, without the pytest fixtures (scripts, unittest, other tools).

``run_panel`` serves a :class:`MockConfig` on a free loopback port in a background thread for
the length of a ``with`` block. The same server runs from a shell: ``mockpanel serve --port 0``.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from decimal import Decimal

from mockpanel.config import MockConfig
from mockpanel.server import run_panel


def post(url: str, **fields: str) -> dict[str, object]:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data=data, timeout=10) as response:
        return dict(json.loads(response.read()))


def test_serve_a_panel_with_your_own_key() -> None:
    config = MockConfig(profile="reference", keys=(("my-test-key", Decimal("25.00")),))
    with run_panel(config) as panel:
        # panel.url is http://127.0.0.1:<free port>/api/v2
        assert post(panel.url, key="my-test-key", action="balance") == {
            "balance": "25.00000",
            "currency": "USD",
        }
        order = post(
            panel.url,
            key="my-test-key",
            action="add",
            service="1",
            link="https://example.test/p",
            quantity="100",
        )
        assert "order" in order
