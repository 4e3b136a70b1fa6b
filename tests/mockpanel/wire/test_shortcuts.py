"""``MOCKPANEL_NO_SHORTCUTS=1`` (:mod:`mockpanel.shortcuts`) puts every reference twin in
place of its shortcut, in both layers; without it the shortcuts are in place.

Each shortcut's own tests (in the test module of its module) run on both twins; this checks
only the one switch, in a fresh interpreter each way, as it is read once at import.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Each selected name, with the twin the switch puts in its place.
_PROBE = """
from mockpanel.shortcuts import NO_SHORTCUTS
from mockpanel.state import ManualClock, PanelState, StateConfig, money, params, tenants
from mockpanel.wire import decoding, jsontext, render

reference = {
    "format_money": money.format_money is money.format_money_reference,
    "is_link": params.is_link is params.is_link_reference,
    "new_order": params.new_order is params.new_order_reference,
    "key_digest": tenants.key_digest is tenants.key_digest_reference,
    "decode_urlencoded": decoding.decode_urlencoded is decoding.decode_urlencoded_reference,
    "dumps_bytes": jsontext.dumps_bytes is jsontext.dumps_bytes_reference,
    "usual_headers": render.usual_headers is render.usual_headers_reference,
    "no quiet calls": not PanelState(StateConfig(), ManualClock())._quiet(0.0),
}
expected = {name: NO_SHORTCUTS for name in reference}
assert reference == expected, (NO_SHORTCUTS, reference)
"""


@pytest.mark.parametrize("value", ["", "0", "1"])
def test_the_switch_selects_every_twin(value: str) -> None:
    env = {**os.environ, "MOCKPANEL_NO_SHORTCUTS": value}
    subprocess.run([sys.executable, "-c", _PROBE], check=True, env=env)
