"""``--panel-profile auto`` names every built-in mock profile, spending nothing.

Each profile is served in process (``run_panel``) and fingerprinted through a plain
:class:`PanelClient`. The guess must be the profile itself or, where ``dialects.yaml``
documents that two dialects cannot be told apart without spending money
(``indistinguishable_from``), a dialect of that set; every dialect tied at the top must be in
that set too, so the documented equivalences are the only ones. Each profile must also fit its
own dialect on every trait the data states, which keeps ``schemas/dialects.yaml`` and
the built-in profile files from drifting apart. One profile is also run through the plugin as a
user would, to show the detected dialect in the terminal header.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from harness.base.exchange import Exchange
from harness.base.redaction import Secret
from harness.contract.dialects import load_dialects
from harness.panel.fingerprint import fingerprint, rank
from harness.wire.client import HttpTransport, PanelClient
from mockpanel.config import MockConfig
from mockpanel.profiles import PROFILES
from mockpanel.server import run_panel
from tests.conformance.harness_runs import Keys, serve_profile

KEY = "fingerprint-key-Hs62Lq0x"
OPENING = Decimal("10.00")


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_fingerprint_names_every_mock_profile(profile: str) -> None:
    data = load_dialects()
    own = data.get(profile)
    assert own is not None, f"dialects.yaml has no dialect for the mock profile {profile}"
    assert own.source == PROFILES[profile].source
    accepted = {profile, *own.indistinguishable_from}

    sent: list[Exchange] = []
    with run_panel(MockConfig(profile=profile, keys=((KEY, OPENING),))) as panel:
        client = PanelClient(panel.url, transport=HttpTransport())
        client.observers.append(sent.append)
        result = fingerprint(client, Secret(KEY, "main key"), seed=11)
        after = client.call({"action": "balance"}, key=Secret(KEY, "main key")).json
        assert panel.failures == ()

    assert result.name in accepted, result.evidence
    ranked = rank(result.observed, data)
    tied = {s.dialect.name for s in ranked if s.value == ranked[0].value}
    assert tied <= accepted, f"{tied - accepted} tie with {profile}: document or tell apart"
    fit = next(s for s in ranked if s.dialect.name == profile)
    assert fit.value == 1.0, [t.id for t in fit.differing]
    assert fit.considered >= data.min_weight
    # At most ten requests, none that could spend, and the balance did not move.
    assert len(sent) - 1 <= 10
    assert all(e.request.action != "add" for e in sent)
    assert isinstance(after, dict)
    assert Decimal(str(after["balance"])) == OPENING



def test_the_header_shows_the_dialect_of_a_served_profile(pytester: pytest.Pytester) -> None:
    keys = Keys()
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    with serve_profile("smartpanel", keys, OPENING) as url:
        result = pytester.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={keys.main}", "--panel-profile=smartpanel",
            "--panel-request-rate=100000", "--co", "-p", "no:cacheprovider",
        )
    lines = [line for line in result.outlines if line.startswith("smm-harness: dialect")]
    assert len(lines) == 1, result.outlines[:20]
    assert re.match(
        r"smm-harness: dialect configured smartpanel, detected smartpanel \(score 1\.00; "
        r"runner-up \w+ 0\.\d\d\): .*'This action is Invalid'", lines[0]
    )
    assert "MISMATCH" not in lines[0]
    output = "\n".join(result.outlines + result.errlines)
    assert not any(secret in output for secret in keys.all())
