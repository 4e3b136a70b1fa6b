"""The refusal check for Schemathesis: a request the contract says must be refused, is refused.

SMM panels refuse a request with the error envelope ``{"error": "..."}``, under HTTP 200 (the
classic dialect, ERR-002) or a 4xx (ERR-003). Schemathesis' own ``negative_data_rejection``
only counts a 4xx, so it fails every correct refusal of a classic panel; this check replaces it
(``harness/schemathesis.toml`` turns the built-in off).

What is judged is the form the panel received, decoded from the request as sent, against the
request schema of the form its ``action`` names; not what the generator meant to send. Form
encoding turns every value into text and the hooks put the real key in, so many cases generated
as "invalid" are valid once on the wire, and an ``add`` mutated into ``action=status`` is a
status request.

A form that breaks its request schema must be refused only where a MUST clause says so
(:data:`RULES`): no usable key, no usable action, an ``add`` without a service, with a service
id that is no id, or with neither link nor username, a ``status``/``refill``/``refill_status``
without a usable id, a ``cancel`` naming no order. The schema's other rules are SHOULD-level or
answered per id, so a real panel may accept what breaks them (a quantity written ``010``
(ADD-007), drip-feed fields (DRIP-003/005), type-specific parameters (ADD-013), a link without a
scheme, more than 100 ids in a batch (BATCH-002), malformed ids in a batch (per-id errors,
ROBUST-007)): the check leaves them to the harness, which grades them by level.

Refused means HTTP 4xx, or HTTP 200 with a top-level ``error``. The check fails an answer that
accepts (HTTP 200 with a success body of the form) or refuses with another status (ERR-003). It
leaves a 5xx to ``not_a_server_error`` and an answer that is neither JSON nor a success body of
the form to ``response_schema_conformance``, so that one defect is one failure.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from harness import contract
from harness.contract.openapi import API_PATH

__all__ = [
    "FORM_MEDIA_TYPE",
    "RULES",
    "Demand",
    "Finding",
    "Rule",
    "demand",
    "form_of",
    "judge",
    "refused",
    "sent_form",
    "smm_refusal",
]

FORM_MEDIA_TYPE: Final = "application/x-www-form-urlencoded"
_NOT_ID: Final = "not an id"
_MISSING: Final = "missing or empty"


@dataclass(frozen=True, slots=True)
class Rule:
    """A MUST clause that makes a panel refuse a form whose ``field`` is wrong in one way."""

    forms: tuple[str, ...]
    """The request forms it applies to."""
    field: str
    defect: str
    """:data:`_MISSING` (absent, empty or blank) or :data:`_NOT_ID` (breaks the field's schema)."""
    clause: str


RULES: Final[tuple[Rule, ...]] = (
    Rule(("add",), "service", _MISSING, "ADD-006"),
    Rule(("add",), "service", _NOT_ID, "ROBUST-007"),
    Rule(("status",), "order", _MISSING, "STATUS-006"),
    Rule(("status",), "order", _NOT_ID, "STATUS-006"),
    Rule(("refill",), "order", _MISSING, "REFILL-004"),
    Rule(("refill",), "order", _NOT_ID, "REFILL-004"),
    Rule(("refill_status",), "refill", _MISSING, "RSTATUS-002"),
    Rule(("refill_status",), "refill", _NOT_ID, "RSTATUS-002"),
)
"""The field defects a MUST clause makes a panel refuse. A missing key (AUTH-001) or a blank
one (AUTH-003), a missing action (ERR-006), an unknown one (ERR-005), an ``add`` with neither
``link`` nor ``username`` (ADD-006: no service type is ordered without one of them) and a
``cancel`` naming no order (ROBUST-002: nothing to act on) are decided by :func:`demand` itself,
as they are not one field's defect."""


@dataclass(frozen=True, slots=True)
class Demand:
    """Why a form must be refused: the clause, and what is wrong, in words (no values: the
    form holds the key)."""

    clause: str
    reason: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A form that had to be refused, and the answer that did not refuse it."""

    demand: Demand
    status: int
    answer: str
    """What the answer was, in words."""

    @property
    def message(self) -> str:
        return (
            f"The contract says this request must be refused ({self.demand.clause}: "
            f"{self.demand.reason}), with the error envelope under HTTP 200 or a 4xx; "
            f"the panel answered HTTP {self.status} {self.answer}."
        )


# ---- what was sent --------------------------------------------------------------------------


def sent_form(content_type: str | None, body: str | bytes | None) -> dict[str, str] | None:
    """The form a panel reads from a request: the last value of each field, as PHP's ``$_POST``
    does; ``{}`` for a form request without a body; ``None`` for a body of another media type
    (a content-type probe, which ROBUST-005 lets a panel refuse or process)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        return None if body else {}
    if body is None:
        return {}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return dict(parse_qsl(text, keep_blank_values=True, errors="replace"))


# ---- what the contract demands --------------------------------------------------------------


@functools.cache
def _action_forms() -> Mapping[str, tuple[str, ...]]:
    """Each ``action`` spelling of the request schemas (lower-cased) -> the forms it names."""
    found: dict[str, list[str]] = {}
    for form in contract.REQUEST_FORMS:
        document = contract.schema(form, "request")
        properties = document.get("properties") or document["$defs"]["params"]["properties"]
        action = properties["action"]
        spellings = [action["const"]] if "const" in action else list(action["enum"])
        for spelling in spellings:
            found.setdefault(str(spelling).lower(), []).append(form)
    return {spelling: tuple(forms) for spelling, forms in found.items()}


@functools.cache
def _own_fields(form: str) -> frozenset[str]:
    """The fields a form requires besides ``key`` and ``action`` (what tells ``status`` from
    ``status-multi``: ``order`` or ``orders``)."""
    document = contract.schema(form, "request")
    required = document.get("required") or document["$defs"]["params"]["required"]
    return frozenset(required) - {"key", "action"}


def form_of(params: Mapping[str, str]) -> str | None:
    """The request form a panel reads ``params`` as, or ``None`` when ``action`` names none.

    The action is matched without case or surrounding blanks (a lenient panel may read `` ADD``
    as ``add``; the check does not demand that it refuse it). Where one action names several
    forms (``status`` and ``status-multi``), the form whose own fields are all present wins;
    otherwise the single-id form.
    """
    forms = _action_forms().get(params.get("action", "").strip().lower())
    if not forms:
        return None
    complete = [form for form in forms if _own_fields(form) <= params.keys()]
    if len(complete) == 1:
        return complete[0]
    return next((form for form in forms if not form.endswith("-multi")), forms[0])


def _blank(params: Mapping[str, str], field: str) -> bool:
    return not params.get(field, "").strip()


def demand(params: Mapping[str, str]) -> Demand | None:
    """The MUST clause that makes a panel refuse ``params``, or ``None`` when none does."""
    if _blank(params, "key"):
        clause = "AUTH-001" if "key" not in params else "AUTH-003"
        return Demand(clause, f"key {_MISSING}")
    if _blank(params, "action"):
        return Demand("ERR-006", f"action {_MISSING}")
    form = form_of(params)
    if form is None:
        return Demand("ERR-005", "action names no action of the protocol")
    broken = {violation.pointer for violation in contract.validate(form, "request", params)}
    if not broken:
        return None
    for rule in RULES:
        if form not in rule.forms:
            continue
        if rule.defect == _MISSING and _blank(params, rule.field):
            return Demand(rule.clause, f"{form}: {rule.field} {_MISSING}")
        if rule.defect == _NOT_ID and f"/{rule.field}" in broken:
            return Demand(rule.clause, f"{form}: {rule.field} is {_NOT_ID}")
    if form == "add" and _blank(params, "link") and _blank(params, "username"):
        return Demand("ADD-006", "add: neither link nor username")
    if form == "cancel" and _blank(params, "order") and _blank(params, "orders"):
        return Demand("ROBUST-002", "cancel: no order or orders")
    return None


# ---- what the panel answered ----------------------------------------------------------------


def _json(content: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return False, None


def refused(status: int, content: bytes) -> bool | None:
    """Whether an answer refuses the request: a 4xx, or HTTP 200 with a top-level ``error``;
    ``None`` when no one can tell (a 5xx, a body that is not JSON)."""
    if 400 <= status < 500:
        return True
    parsed, answer = _json(content)
    if status >= 500 or not parsed:
        return None
    return status == 200 and isinstance(answer, dict) and answer.get("error") is not None


def judge(params: Mapping[str, str], status: int, content: bytes) -> Finding | None:
    """A :class:`Finding` when ``params`` had to be refused and the answer did not refuse it."""
    reason = demand(params)
    if reason is None:
        return None
    verdict = refused(status, content)
    if verdict is None or verdict:
        return None  # refused; or a 5xx (not_a_server_error's), or not JSON (GEN-002's)
    _, answer = _json(content)
    enveloped = isinstance(answer, dict) and answer.get("error") is not None
    if status != 200:
        what = "with the error envelope" if enveloped else "without the error envelope"
        return Finding(reason, status, f"{what} (ERR-003: a refusal comes with 200 or a 4xx)")
    form = form_of(params)
    if form is None:
        # No action of the protocol: any answer but a refusal is a panel guessing one.
        return Finding(reason, status, "with a JSON answer that is not the error envelope")
    if contract.validate(form, "response", answer):
        return None  # neither a success nor an envelope: a broken answer, not an acceptance
    return Finding(reason, status, f"with a success answer of {form}")


def smm_refusal(ctx: Any, response: Any, case: Any) -> bool | None:
    """The Schemathesis check (``harness.schemathesis_hooks`` registers it under this name):
    judges the form the panel received (``response.request``) by :func:`judge`; a failure is an
    ``AssertionError`` naming the clause. Operations of other documents are not judged."""
    if not str(case.operation.path).startswith(API_PATH + "#"):
        return None
    request = response.request
    params = sent_form(request.headers.get("Content-Type"), request.body)
    if params is None:
        return None
    if demand(params) is None:
        return None  # nothing to refuse: how the answer looks is for the other checks
    finding = judge(params, response.status_code, response.content)
    if finding is not None:
        raise AssertionError(finding.message)
    # True: refused as the protocol allows; None: left to not_a_server_error or the schemas.
    return True if refused(response.status_code, response.content) else None
