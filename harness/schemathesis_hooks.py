"""Schemathesis hooks for the SMM panel API v2, loaded by ``harness/schemathesis.toml``.

Environment: ``PANEL_KEY`` (the account's API key, required) and ``PANEL_MAX_SPEND`` (the most
the run may spend, a decimal; default 0, as for the harness: no ``add`` that could cost money is
sent).

- **Pre-flight** (``after_load_schema``): reads the catalogue and the balance with the key
  (:class:`~harness.interop.st_panel.PanelSession`) and stops the run at once, with the
  cause, when the URL, the answers or the key are wrong.
- **The key** (``before_call``/``after_call``): on the wire only, never in the generated case
  nor in what Schemathesis records or prints (:mod:`harness.interop.st_wire`).
- **Real orders**: the examples phase orders the simplest affordable order of each service
  type of the catalogue (``before_add_examples``), and half of the valid ``add`` bodies the
  fuzzing phase generates become orders drawn from the catalogue (``flatmap_body``): a
  generated ``add`` names a random service id, which the panel rightly refuses.
- **The cap**: every ``add`` about to be sent that names a catalogue service, drawn or
  generated, reserves its worst case under ``PANEL_MAX_SPEND``; one that does not fit is sent
  naming a service id the catalogue does not hold instead (it costs nothing and is refused),
  and the case shows the id that was sent. A refused ``add`` frees its reservation.
- **JSON labelled text/html** (a deserializer): PHP panels that set no Content-Type send JSON
  as ``text/html``; it is read as JSON, so ``response_schema_conformance`` checks it too.
- **The refusal check** ``smm_refusal`` (:mod:`harness.interop.st_refusal`).

Importing this module registers the hooks for the whole process; they act only on this
project's document (paths ``/api/v2#<form>``). The project's tests never import it: they run
``st`` as a user does.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any, Final

import schemathesis
from hypothesis import strategies as st

from harness import contract
from harness.base.budget import Reservation
from harness.base.errors import SpendRefused
from harness.contract.openapi import API_PATH
from harness.interop.st_panel import (
    KEY_VARIABLE,
    SPEND_VARIABLE,
    PanelSession,
    PanelUnusable,
    poster,
    settings,
)
from harness.interop.st_refusal import FORM_MEDIA_TYPE, refused, smm_refusal
from harness.interop.st_wire import (
    as_read,
    html_json,
    redact_answer,
    wire_form,
    without_key,
)

__all__ = ["after_call", "after_load_schema", "before_add_examples", "before_call",
           "flatmap_body", "html_labelled_json"]

_PREFIX: Final = API_PATH + "#"
_ADD: Final = _PREFIX + "add"

_session: PanelSession | None = None
_reservations: dict[int, Reservation] = {}
_lock = threading.Lock()


def _path(operation: Any) -> str:
    return str(getattr(operation, "path", "")) if operation is not None else ""


def _current() -> PanelSession:
    if _session is None:
        raise RuntimeError("the SMM hooks have no panel: the pre-flight (after_load_schema) "
                           "did not run")
    return _session


@schemathesis.hook
def after_load_schema(context: schemathesis.HookContext, schema: Any) -> None:
    global _session
    paths = schema.raw_schema.get("paths") or {}
    if not any(str(path).startswith(_PREFIX) for path in paths):
        return
    base = schema.get_base_url().rstrip("/")
    if base.endswith(API_PATH):
        raise PanelUnusable(
            f"--url {base}: give the panel's origin (e.g. https://panel.example); the "
            f"document's paths add {API_PATH}"
        )
    key, cap = settings(os.environ)
    post = poster(schema.config.tls_verify_for())
    _session = PanelSession.open(base + API_PATH, key, cap, post=post)
    print(f"SMM hooks: {len(_session.catalog.services)} services read with {KEY_VARIABLE}; "
          f"spend cap {cap} ({SPEND_VARIABLE})", file=sys.stderr)
    atexit.register(_closing, _session)


def _closing(session: PanelSession) -> None:
    """The run's last line: what it spent, from the closing balance."""
    print(f"SMM hooks: {session.summary()}", file=sys.stderr)


@schemathesis.hook
def before_add_examples(context: schemathesis.HookContext, examples: list[Any]) -> None:
    operation = context.operation
    if operation is None or _path(operation) != _ADD:
        return
    for form in _current().order_examples():
        # The key is a placeholder: before_call puts the real one on the wire.
        examples.append(operation.Case(body={"key": "-", **form}, media_type=FORM_MEDIA_TYPE))


@schemathesis.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    if _path(context.operation) != _ADD or not isinstance(body, dict):
        return st.just(body)
    if contract.validate("add", "request", body):
        return st.just(body)  # a case generated invalid stays as it is
    drawn = _current().orders()
    if drawn is None:
        return st.just(body)
    placeholder = body.get("key", "-")
    return st.one_of(drawn.map(lambda form: {"key": placeholder, **form}), st.just(body))


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: Any, kwargs: dict[str, Any]) -> None:
    if not _path(case.operation).startswith(_PREFIX) or case.media_type != FORM_MEDIA_TYPE:
        return
    if not isinstance(case.body, dict):
        return  # a body that is no form (a generated string, none at all) goes as generated
    session = _current()
    form = wire_form(case.body, session.key)
    params = as_read(session.url, form)
    if params.get("action", "").strip().lower() == "add":
        try:
            reservation = session.reserve(params)
        except SpendRefused:
            case.body["service"] = form["service"] = session.neutral_service()
        else:
            if reservation is not None:
                with _lock:
                    _reservations[id(case)] = reservation
    kwargs["data"] = form


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: Any, response: Any) -> None:
    if not _path(case.operation).startswith(_PREFIX):
        return
    session = _current()
    with _lock:
        reservation = _reservations.pop(id(case), None)
    if reservation is not None:
        session.settle(reservation, refused=refused(response.status_code, response.content))
    request = response.request
    if isinstance(request.body, str | bytes):
        request.body = without_key(request.body, session.key)
    response.content = redact_answer(response.content, session.key)


@schemathesis.deserializer("text/html")
def html_labelled_json(context: schemathesis.DeserializationContext, response: Any) -> Any:
    return html_json(response.content)


schemathesis.check(smm_refusal)
