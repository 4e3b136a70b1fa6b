"""The control API client: mint tenants, move the clock, force order and refill outcomes.

Speaks the mock's ``/_mock`` API (JSON bodies, ``Authorization: Bearer <token>``), which a
vendor sandbox may offer too. Minted keys are wrapped in :class:`~harness.base.redaction.Secret` and
registered for scrubbing before anything else sees them. A refusal raises
:class:`ControlError`; the plugin reports the clauses that needed it N/A, never FAIL, because
the control API is not part of the protocol under test.
"""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import quote

from harness.base.errors import ControlError, TransportError
from harness.base.exchange import parse_json
from harness.base.redaction import Secret, SecretBook
from harness.wire.client import Transport

__all__ = ["ControlClient", "ControlError"]


class ControlClient:
    """Synchronous client of a control API rooted at ``base_url`` (e.g. ``.../_mock``)."""

    def __init__(
        self, base_url: str, token: Secret, *, transport: Transport, secrets: SecretBook
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._transport = transport
        self._secrets = secrets
        self._minted = 0

    def mint_tenant(self, balance: Decimal, currency: str | None = None) -> Secret:
        """A fresh isolated account holding ``balance``; returns its key (a Secret)."""
        body: dict[str, object] = {"balance": format(balance, "f")}
        if currency is not None:
            body["currency"] = currency
        answer = self._post("/tenants", body)
        key = answer.get("key") if isinstance(answer, dict) else None
        if not isinstance(key, str) or not key:
            raise ControlError("POST /tenants answered without a key")
        self._minted += 1
        tenant = answer.get("tenant") if isinstance(answer, dict) else None
        label = f"tenant {tenant}" if isinstance(tenant, str) else f"tenant #{self._minted}"
        return self._secrets.add(Secret(key, label))

    def advance_clock(self, seconds: float) -> None:
        # Seconds are time, not money: a JSON number is the right shape.
        whole = float(seconds).is_integer()
        self._post("/clock/advance", {"seconds": int(seconds) if whole else seconds})

    def set_order_outcome(
        self,
        order_id: str,
        status: str,
        *,
        remains: int | None = None,
        start_count: int | None = None,
    ) -> object:
        """Force an order to ``status`` (with the refund it implies); returns the order view."""
        body: dict[str, object] = {"status": status}
        if remains is not None:
            body["remains"] = remains
        if start_count is not None:
            body["start_count"] = start_count
        return self._post(f"/orders/{quote(order_id, safe='')}/outcome", body)

    def set_refill_outcome(self, refill_id: str, status: str) -> object:
        return self._post(f"/refills/{quote(refill_id, safe='')}/outcome", {"status": status})

    def journal(self) -> object:
        return self._request("GET", "/journal", None)

    # -- internals ----------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, object]) -> object:
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: dict[str, object] | None) -> object:
        headers = {
            "Authorization": f"Bearer {self._token.reveal()}",
            "Accept": "application/json",
            "Connection": "close",
        }
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode()
        try:
            raw = self._transport.send(method, self.base_url + path, headers, payload)
        except TransportError as exc:
            raise ControlError(f"{method} {path}: {exc}") from None
        text = self._secrets.scrub(raw.body.decode("utf-8", "replace"))
        if not 200 <= raw.status < 300:
            raise ControlError(f"{method} {path}: HTTP {raw.status} {text[:300]}")
        value, error = parse_json(text)
        if error is not None:
            raise ControlError(f"{method} {path}: answer is not JSON ({error})")
        return value

