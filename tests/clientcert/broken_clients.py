"""The broken-client corpus: the reference client (reference_client.py) with one rule broken
each, and the clause the client suite must catch it under. ``python -m
tests.clientcert.broken_clients table > tests/clientcert/DEFECTS.md`` writes the table;
tests/clientcert/test_broken_clients.py proves every row and that the file is current."""

from __future__ import annotations

import json
import sys
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from clientcert import AdapterSettings
from clientcert.protocol import AdapterFactory
from tests.clientcert.reference_adapter import ReferenceAdapter
from tests.clientcert.reference_client import PanelError, RateLimited, ReferenceClient, money


class RetriesAddOnTimeout(ReferenceClient):
    """Re-sends any request, add included, after a timeout, a dropped connection or a 5xx."""

    def request(self, action: str, **params: object) -> Any:
        for _ in range(2):
            try:
                return super().request(action, **params)
            except PanelError:
                continue
        return super().request(action, **params)


class IgnoresRetryAfter(ReferenceClient):
    """Retries a 429 at once, up to ten times (a tight loop)."""

    def request(self, action: str, **params: object) -> Any:
        for _ in range(10):
            try:
                return super().request(action, **params)
            except RateLimited:
                continue
        return super().request(action, **params)


class FloatMoney(ReferenceClient):
    """Reads the balance as a binary float."""

    def balance(self) -> dict[str, Any]:
        answer = self.request("balance")
        return {"balance": float(answer["balance"]), "currency": answer.get("currency")}


class Http200ErrorIsSuccess(ReferenceClient):
    """Looks only at the HTTP status: an {"error": ...} body with HTTP 200 is a success."""

    def _decode(self, action: str, status: int, headers: dict[str, str], body: bytes) -> Any:
        if status == 200:
            return json.loads(body, parse_float=Decimal)
        return super()._decode(action, status, headers, body)

    def status(self, order: object) -> dict[str, Any]:
        row = self.request("status", order=order)
        return {name: row.get(name) for name in ("status", "charge", "remains")}

    def add(self, service: object, link: str, quantity: int | None, **extra: str) -> str:
        answer = self.request("add", service=service, link=link, quantity=quantity, **extra)
        return answer.get("order")  # type: ignore[no-any-return]


class DropsBatchErrors(ReferenceClient):
    """Leaves the ids a multi-status answer reports as errors out of its result."""

    def multi_status(self, orders: Sequence[object]) -> dict[str, Any]:
        read = super().multi_status(orders)
        return {k: v for k, v in read.items() if not isinstance(v, PanelError)}


class NoTimeout(ReferenceClient):
    """Never gives up: waits for the panel however long it takes."""

    def __init__(self, url: str, key: str, timeout: float = 30.0) -> None:
        super().__init__(url, key, 60.0)


class KeyInErrors(ReferenceClient):
    """Puts the whole request, key included, in its error messages."""

    def request(self, action: str, **params: object) -> Any:
        try:
            return super().request(action, **params)
        except PanelError as error:
            sent = urllib.parse.urlencode({"key": self._key, "action": action})
            raise PanelError(f"{error} (request {sent})") from None


class IntOrderIds(ReferenceClient):
    """Turns every order id into an int (alphanumeric ids crash it)."""

    def add(self, service: object, link: str, quantity: int | None, **extra: str) -> str:
        return int(super().add(service, link, quantity, **extra))  # type: ignore[return-value]


class KnownWordsOnly(ReferenceClient):
    """Maps status words through a fixed table of the canonical five: others raise."""

    WORDS: ClassVar[dict[str, str]] = {
        "Pending": "pending", "In progress": "in_progress", "Completed": "completed",
        "Partial": "partial", "Canceled": "canceled",
    }

    def status(self, order: object) -> dict[str, Any]:
        read = super().status(order)
        try:
            read["status"] = self.WORDS[read["status"]]
        except KeyError:
            raise PanelError(f"unknown status {read['status']!r}") from None
        return read


class HtmlIsEmptySuccess(ReferenceClient):
    """Reads an answer that is not JSON as an empty success (zero balance)."""

    def _decode(self, action: str, status: int, headers: dict[str, str], body: bytes) -> Any:
        try:
            return super()._decode(action, status, headers, body)
        except PanelError as error:
            if "not JSON" in str(error):
                return {"balance": "0"}
            raise


class CancelFlagOnly(ReferenceClient):
    """Knows only ``"cancel": 1``; the ``{"status": "success"}`` acknowledgement reads as
    refused."""

    def cancel(self, orders: Sequence[object]) -> dict[str, Any]:
        answer = self.request("cancel", orders=",".join(str(o) for o in orders))
        items = [answer] if isinstance(answer, dict) else answer
        return {str(i.get("order")): True if i.get("cancel") == 1 else PanelError("refused")
                for i in items}


class SleepsAfter429Briefly(ReferenceClient):
    """Retries a 429 after a tenth of a second, whatever Retry-After said."""

    def request(self, action: str, **params: object) -> Any:
        try:
            return super().request(action, **params)
        except RateLimited:
            time.sleep(0.1)
            return super().request(action, **params)


class EmptyBodyIsEmptyAnswer(ReferenceClient):
    """Decodes an empty HTTP-200 body as an empty JSON object (as lenient PHP readers do:
    ``json_decode('') ?: []``) and reads a balance that is not there as zero."""

    def _decode(self, action: str, status: int, headers: dict[str, str], body: bytes) -> Any:
        if status == 200 and not body.strip():
            return {}
        return super()._decode(action, status, headers, body)

    def balance(self) -> dict[str, Any]:
        answer = self.request("balance")
        return {"balance": money(answer.get("balance") or 0), "currency": answer.get("currency")}


class TrustsTheLabel(ReferenceClient):
    """Reads an answer as JSON only when its Content-Type says so (``text/html`` JSON, as PHP
    panels send it, is refused)."""

    def _decode(self, action: str, status: int, headers: dict[str, str], body: bytes) -> Any:
        label = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if status == 200 and not label.startswith("application/json"):
            raise PanelError(f"{action}: expected application/json, got {label!r}")
        return super()._decode(action, status, headers, body)


class DefaultFormOnly(ReferenceClient):
    """Sends every add as a Default one (service, link, quantity) whatever the service type:
    a Package gets a quantity, Custom Comments get no comments."""

    def add(self, service: object, link: str, quantity: int | None, **extra: str) -> str:
        return super().add(service, link, quantity if quantity is not None else 1000)


@dataclass(frozen=True, slots=True)
class Row:
    client: type[ReferenceClient]
    defect: str
    clause: str
    verdict: str  # what the clause must end: FAIL (MUST) or NON-STRICT (SHOULD)
    profile: str
    scenario: str

    @property
    def name(self) -> str:
        return self.client.__name__


CORPUS: tuple[Row, ...] = (
    Row(RetriesAddOnTimeout, "re-sends add after a timeout, a drop or a 5xx", "CLIENT-008",
        "FAIL", "reference", "no_resend"),
    Row(IgnoresRetryAfter, "retries a 429 at once, in a loop", "CLIENT-009", "FAIL",
        "reference", "rate_limit"),
    Row(SleepsAfter429Briefly, "retries a 429 before Retry-After", "CLIENT-009", "FAIL",
        "reference", "rate_limit"),
    Row(FloatMoney, "reads money as a binary float", "CLIENT-003", "FAIL", "reference",
        "money"),
    Row(Http200ErrorIsSuccess, "treats an HTTP-200 error body as success", "CLIENT-001", "FAIL",
        "reference", "top_level_errors"),
    Row(DropsBatchErrors, "drops the per-id errors of a batch", "CLIENT-002", "FAIL",
        "reference", "batch_errors"),
    Row(NoTimeout, "waits for a slow panel without end", "CLIENT-011", "FAIL", "reference",
        "slow_panel"),
    Row(KeyInErrors, "puts the API key in its error messages", "CLIENT-012", "FAIL",
        "reference", "top_level_errors"),
    Row(IntOrderIds, "turns order ids into ints", "CLIENT-004", "FAIL", "smmpremium",
        "counts_and_ids"),
    Row(KnownWordsOnly, "crashes on status words outside the canonical five", "CLIENT-013",
        "FAIL", "smmapi", "status_words"),
    Row(HtmlIsEmptySuccess, "reads an HTML page as an empty success", "CLIENT-010", "FAIL",
        "reference", "broken_answers"),
    Row(CancelFlagOnly, "understands only the `\"cancel\": 1` acknowledgement", "CLIENT-006",
        "NON-STRICT", "extended", "cancel"),
    Row(EmptyBodyIsEmptyAnswer, "reads an empty body as an empty answer (balance 0)",
        "CLIENT-010", "FAIL", "reference", "broken_answers"),
    Row(TrustsTheLabel, "refuses JSON labelled `text/html`", "CLIENT-014", "NON-STRICT",
        "smartpanel", "content_type"),
    Row(DefaultFormOnly, "sends every add in the Default form, whatever the service type",
        "CLIENT-015", "NON-STRICT", "smmhub", "order_types"),
)


def factory(client: type[ReferenceClient]) -> AdapterFactory:
    def make(settings: AdapterSettings) -> ReferenceAdapter:
        return ReferenceAdapter(client(settings.url, settings.key, settings.timeout))

    return make


def table() -> str:
    lines = [
        "# The broken-clients matrix",
        "",
        "Generated from `tests/clientcert/broken_clients.py` (`python -m",
        "tests.clientcert.broken_clients table > tests/clientcert/DEFECTS.md`);",
        "`tests/clientcert/test_broken_clients.py` runs the client suite's scenario against",
        "each broken client in the profile named, checks that the clause ends with the verdict",
        "shown while the unbroken reference client passes it there, and fails if this file is",
        "out of date. Each client is the reference client (`reference_client.py`) with one",
        "rule broken.",
        "",
        "| broken client | defect | caught under | verdict | profile | scenario |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| `{r.name}` | {r.defect} | {r.clause} | {r.verdict} | {r.profile} | "
              f"`{r.scenario}` |" for r in CORPUS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["table"]:
        sys.stdout.write(table())
    else:
        sys.exit("usage: python -m tests.clientcert.broken_clients table")
