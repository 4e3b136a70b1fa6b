"""The mock panel side of a trial, through the mock's public surfaces only: its pytest
plugin's server pool and tenant handle (:mod:`mockpanel.pytest_plugin`), its profile
registry, and its control API (faults, outcomes, clock, journal)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from mockpanel.profiles import PROFILES
from mockpanel.pytest_plugin import MockPanelHandle, MockPanelServers

__all__ = ["PROFILE_NAMES", "Bench", "json_label", "offers"]

PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)
_CONTROL_TIMEOUT = 10.0


def offers(profile: str, handler: str) -> bool:
    """Whether the dialect offers ``handler`` (``cancel``, ``refill``, ``status_multi``...)
    under any action name: a refused request for a feature it does not offer is N/A."""
    if handler == "status_multi":
        batch = {h.value for h in PROFILES[profile].shapes.batch}
        if "status" in batch:
            return True
    return any(h.value == handler for h in PROFILES[profile].actions.values())


def json_label(profile: str) -> str | None:
    """The Content-Type the dialect labels its JSON answers with when that is not a JSON type
    (SmartPanel's PHP prints JSON as ``text/html``); ``None`` when it says JSON."""
    label = PROFILES[profile].wire.content_type
    media = label.split(";", 1)[0].strip().lower()
    return None if media == "application/json" or media.endswith("+json") else label


class Bench:
    """One tenant on a running mock panel of one profile, and the control calls a clause needs.
    Every fault rule is scoped to this tenant, so trials never disturb each other."""

    def __init__(self, servers: MockPanelServers, profile: str, balance: str) -> None:
        self.profile = profile
        self.panel = servers.get(profile)
        # The balance at the dialect's precision ("100.84292" -> "100.84"): still no binary
        # float holds it exactly.
        places = PROFILES[profile].money_places
        amount = Decimal(balance).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
        self.handle = MockPanelHandle.mint(self.panel, amount)
        token = self.panel.control_token
        assert token is not None  # the fixture pool always configures one
        self._token = token

    @property
    def url(self) -> str:
        return self.handle.url

    @property
    def key(self) -> str:
        return self.handle.key

    # -- the control API ------------------------------------------------------------------

    def _control(self, method: str, path: str, payload: object = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.panel.base_url}/_mock{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self._token}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=_CONTROL_TIMEOUT) as response:
                return json.loads(response.read(), parse_float=Decimal)
        except urllib.error.HTTPError as error:
            with error:
                body = error.read().decode("utf-8", "replace")[:300]
            raise RuntimeError(f"control {method} {path} refused ({error.code}): {body}") from None

    def arm(self, *rules: Mapping[str, object]) -> None:
        """Put fault rules in force for this tenant only (replacing any others)."""
        scoped = [{**rule, "tenant": self.handle.tenant} for rule in rules]
        self._control("PUT", "/faults", {"rules": scoped})

    def disarm(self) -> None:
        self._control("DELETE", "/faults")

    def outcome(self, order: object, status: str, **extra: int) -> bool:
        """Force an order's status; ``False`` when this dialect cannot reach that status."""
        try:
            self._control("POST", f"/orders/{_segment(order)}/outcome",
                          {"status": status, **extra})
        except RuntimeError:
            return False
        return True

    def journal(self, action: str | None = None) -> list[dict[str, Any]]:
        """This tenant's exchanges (oldest first), optionally only those of ``action``."""
        entries = self.handle.journal()
        return [e for e in entries if action is None or e.get("action") == action]

    def call(self, action: str, **params: object) -> tuple[int, Any]:
        """Speak the API directly (to set a trial up, never to judge the library)."""
        return self.handle.call(action, **params)

    @property
    def money_places(self) -> int:
        return PROFILES[self.profile].money_places

    def catalogue(self) -> list[Mapping[str, Any]]:
        """The services list as the panel sends it (read directly, never through the library)."""
        _, listed = self.call("services")
        return [row for row in listed if isinstance(row, Mapping)] if isinstance(
            listed, list) else []

    def default_service(self) -> Mapping[str, Any]:
        """A ``Default`` service of the catalogue with refill, cheapest minimum first."""
        rows: Iterable[Mapping[str, Any]] = self.catalogue()
        plain = [r for r in rows if str(r.get("type", "")).lower() == "default"]
        refillable = [r for r in plain if str(r.get("refill")).lower() in ("true", "1")]
        return (refillable or plain)[0]


def _segment(identifier: object) -> str:
    return urllib.parse.quote(str(identifier), safe="")
