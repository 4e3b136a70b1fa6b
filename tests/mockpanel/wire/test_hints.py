"""Hints: a misspelt action or a body the profile cannot decode is refused in the profile's
words, with the mock's advice appended in parentheses and repeated in ``X-Mock-Hint``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES
from mockpanel.wire.hints import action_hint

if TYPE_CHECKING:
    from tests.mockpanel.wire.conftest import MakePanel

FORM_ONLY = "this panel takes form bodies (application/x-www-form-urlencoded), not JSON"


@pytest.mark.parametrize(
    ("profile", "sent", "meant"),
    [
        ("reference", "Add", "add"),
        ("reference", "ADD", "add"),
        ("reference", "stauts", "status"),
        ("reference", "balanse", "balance"),
        ("smmhub", "refil_status", "refill_status"),
        ("extended", "multistatus", "multiStatus"),
        ("extended", "multi_status", "multiStatus"),
        ("smmpremium", "Orders", "orders"),
    ],
)
async def test_a_misspelt_action_gets_did_you_mean(
    make_panel: MakePanel, profile: str, sent: str, meant: str
) -> None:
    panel = await make_panel(profile)
    key = await panel.tenant("10")
    response = await panel.client.post(panel.path, data={"key": key, "action": sent})
    body = await panel.read(response)
    status, expected = panel.expected_error(ErrorCode.UNKNOWN_ACTION, action=sent)
    hint = f'did you mean "{meant}"?'
    assert response.status == status
    assert body == {**expected, "error": f"{expected['error']} ({hint})"}
    assert response.headers["X-Mock-Hint"] == hint


async def test_the_reference_wording_with_its_hint(make_panel: MakePanel) -> None:
    panel = await make_panel("reference")
    key = await panel.tenant("10")
    assert await panel.api(key=key, action="Add") == (
        200, {"error": 'Incorrect request: unknown action Add (did you mean "add"?)'}
    )


@pytest.mark.parametrize(
    ("profile", "sent"),
    [
        ("reference", "nope"),
        ("reference", "orders"),
        ("reference", "multistatus"),
        ("smmpro", "refill_status"),
        ("smmpro", "cancel"),
        ("reference", "a" * 5000),
        ("reference", 'add"\r\nX-Evil: 1'),
    ],
)
async def test_nothing_close_gets_no_hint(make_panel: MakePanel, profile: str, sent: str) -> None:
    """Another vendor's action is no typo: ``orders`` and ``multistatus`` are not pointed at
    ``status`` on the reference, nor ``refill_status`` at ``refill`` on smmpro."""
    panel = await make_panel(profile)
    key = await panel.tenant("10")
    response = await panel.client.post(panel.path, data={"key": key, "action": sent})
    assert "X-Mock-Hint" not in response.headers
    assert "X-Evil" not in response.headers
    assert (response.status, await panel.read(response)) == panel.expected_error(
        ErrorCode.UNKNOWN_ACTION, action=sent
    )


@pytest.mark.parametrize("name", sorted(p.name for p in PROFILES.values()))
async def test_a_json_body_to_a_form_only_panel_is_told_to_send_a_form(
    make_panel: MakePanel, name: str
) -> None:
    panel = await make_panel(name)
    key = await panel.tenant("10")
    document = {"key": key, "action": "add", "service": "1", "link": "https://x.test/p",
                "quantity": "100"}
    response = await panel.client.post(
        panel.path, data=json.dumps(document), headers={"Content-Type": "application/json"}
    )
    body = await panel.read(response)
    if "json" in {encoding.value for encoding in panel.profile.wire.encodings}:
        assert "X-Mock-Hint" not in response.headers  # decoded and served
        assert response.status == panel.profile.wire.create_status, body
        return
    status, expected = panel.expected_error(
        ErrorCode.UNSUPPORTED_ENCODING,
        encoding="application/json",
        accepted="application/x-www-form-urlencoded",
    )
    hint = FORM_ONLY if "form" in {e.value for e in panel.profile.wire.encodings} else None
    assert hint is not None, "every profile takes forms"
    assert response.status == status
    assert body == {**expected, "error": f"{expected['error']} ({hint})"}
    assert response.headers["X-Mock-Hint"] == hint
    assert await panel.balance(key) == Decimal("10")


async def test_another_content_type_is_told_what_the_panel_takes(make_panel: MakePanel) -> None:
    panel = await make_panel("smmpremium")
    key = await panel.tenant("10")
    response = await panel.client.post(
        panel.path, data=f"key={key}&action=balance", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 400
    assert response.headers["X-Mock-Hint"] == (
        "this panel takes application/x-www-form-urlencoded or application/json bodies"
    )
    assert (await panel.read(response))["error"].endswith(
        "(this panel takes application/x-www-form-urlencoded or application/json bodies)"
    )


def test_action_hint_is_silent_for_an_exact_name_and_for_very_long_input() -> None:
    reference = PROFILES["reference"]
    assert action_hint(reference, "add") is None
    assert action_hint(reference, "add" + "d" * 100) is None
    assert action_hint(reference, "adD") == 'did you mean "add"?'
