"""A small, correct SMM panel API v2 client, written for the client suite's tests: the "SDK"
the example adapter certifies, and the base every broken client of the corpus breaks one rule
of. Standard library only. It speaks the canonical PerfectPanel requests (form POST), reads
money as Decimal, raises on every error envelope, never re-sends, and gives up on time.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

__all__ = ["PanelError", "RateLimited", "ReferenceClient"]


class PanelError(Exception):
    """The panel refused, answered garbage, or did not answer. Never shows the key."""


class RateLimited(PanelError):
    """HTTP 429: wait ``retry_after`` seconds before the next request."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def money(value: object) -> Decimal:
    return Decimal(str(value))


def count(value: object) -> int:
    return int(Decimal(str(value)))


class ReferenceClient:
    def __init__(self, url: str, key: str, timeout: float = 30.0) -> None:
        self.url = url
        self._key = key
        self.timeout = timeout

    # -- transport -----------------------------------------------------------------------------

    def _send(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(
            self.url, data=data, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read()
        except TimeoutError:
            raise PanelError(f"{form['action']}: no answer within {self.timeout:g} s") from None
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PanelError(f"{form['action']}: connection failed ({type(reason).__name__})"
                             ) from None

    def _decode(self, action: str, status: int, headers: dict[str, str], body: bytes) -> Any:
        if status == 429:
            retry = headers.get("Retry-After")
            raise RateLimited(f"{action}: rate limited (Retry-After {retry})",
                              float(retry) if retry and retry.isdigit() else None)
        try:
            answer = json.loads(body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise PanelError(f"{action}: the panel answered HTTP {status} with a body that is "
                             f"not JSON ({len(body)} bytes)") from None
        if isinstance(answer, dict) and answer.get("error"):
            raise PanelError(f"{action}: {answer['error']} (HTTP {status})")
        if status >= 400:
            raise PanelError(f"{action}: HTTP {status}")
        return answer

    def request(self, action: str, **params: object) -> Any:
        form = {"key": self._key, "action": action}
        form.update({k: str(v) for k, v in params.items()})
        return self._decode(action, *self._send(form))

    # -- operations ----------------------------------------------------------------------------

    def balance(self) -> dict[str, Any]:
        answer = self.request("balance")
        return {"balance": money(answer["balance"]), "currency": answer.get("currency")}

    def services(self) -> list[dict[str, Any]]:
        rows = self.request("services")
        return [{**row, "rate": money(row["rate"])} for row in rows]

    def add(self, service: object, link: str, quantity: int | None, **extra: str) -> str:
        params: dict[str, object] = {"service": service, "link": link, **extra}
        if quantity is not None:
            params["quantity"] = quantity
        answer = self.request("add", **params)
        order = answer.get("order") if isinstance(answer, dict) else None
        if order in (None, ""):
            raise PanelError("add: the answer has no order id")
        return str(order)

    @staticmethod
    def _status(row: dict[str, Any]) -> dict[str, Any]:
        read = dict(row)
        for name in ("charge",):
            if name in read:
                read[name] = money(read[name])
        for name in ("remains", "start_count"):
            if name in read and read[name] not in (None, ""):
                read[name] = count(read[name])
        return read

    def status(self, order: object) -> dict[str, Any]:
        return self._status(self.request("status", order=order))

    def multi_status(self, orders: Sequence[object]) -> dict[str, Any]:
        answer = self.request("status", orders=",".join(str(o) for o in orders))
        read: dict[str, Any] = {}
        for order, row in answer.items():
            if isinstance(row, str):
                read[order] = PanelError(row)
            elif isinstance(row, dict) and row.get("error"):
                read[order] = PanelError(str(row["error"]))
            else:
                read[order] = self._status(row)
        return read

    def cancel(self, orders: Sequence[object]) -> dict[str, Any]:
        answer = self.request("cancel", orders=",".join(str(o) for o in orders))
        items = [answer] if isinstance(answer, dict) else answer
        read: dict[str, Any] = {}
        for item in items:
            verdict = item.get("cancel")
            error = item.get("error") or (verdict.get("error") if isinstance(verdict, dict)
                                          else None)
            read[str(item.get("order"))] = PanelError(str(error)) if error else True
        return read

    def refill(self, order: object) -> str:
        answer = self.request("refill", order=order)
        refill = answer.get("refill")
        if isinstance(refill, dict) and refill.get("error"):
            raise PanelError(f"refill: {refill['error']}")
        return str(refill)

    def refill_status(self, refill: object) -> str:
        answer = self.request("refill_status", refill=refill)
        status = answer.get("status")
        if isinstance(status, dict):
            raise PanelError(f"refill_status: {status.get('error')}")
        return str(status)
