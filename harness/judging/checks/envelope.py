"""Transport and envelope checks: every protocol request gets a JSON answer, no 5xx, and errors
come in the error envelope with a status of the documented meaning.
"""

from __future__ import annotations

from harness.base.exchange import Exchange
from harness.judging.checks.core import (
    Applies,
    ErrorKind,
    Facts,
    Grade,
    Registry,
    broken,
    check,
    protocol_request,
    schema_problem,
    server_broke,
)

__all__ = ["CHECKS"]

_ERROR_SUCCESS_FIELDS = ("order", "balance", "refill")


@check("GEN-002", "the panel answers", applies=Applies.ANY)
def answered(exchange: Exchange, facts: Facts) -> None:
    if protocol_request(exchange) and exchange.transport_error is not None:
        broken(f"no HTTP answer: {exchange.transport_error}")


@check("GEN-002", "every answer is JSON")
def json_body(exchange: Exchange, facts: Facts) -> None:
    if not protocol_request(exchange) or server_broke(exchange):
        return
    if exchange.transport_error is None and exchange.json_error is not None:
        broken(f"body is not JSON ({exchange.json_error}): {exchange.text[:120]!r}")


@check("ROBUST-001", "no 5xx answers")
def no_server_error(exchange: Exchange, facts: Facts) -> None:
    if protocol_request(exchange) and server_broke(exchange):
        broken(f"HTTP {exchange.status}")


@check("GEN-003", "JSON is labelled as JSON", grade=Grade.NON_STRICT)
def json_content_type(exchange: Exchange, facts: Facts) -> None:
    if not exchange.is_json or not protocol_request(exchange):
        return
    ctype = (exchange.header("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        broken(f"Content-Type is {ctype or 'missing'}")


def _judged_error(exchange: Exchange) -> bool:
    """An error answer to a protocol request that is JSON and not a crash: the envelope and
    status checks judge it (a 5xx or a body that is not JSON has failed its own clause)."""
    return protocol_request(exchange) and exchange.is_json and not server_broke(exchange)


@check("ERR-001", "errors use the error envelope", applies=Applies.ERROR)
def error_envelope(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    problem = schema_problem("error", exchange.json)
    if problem:
        broken(problem)


@check("ERR-003", "errors are HTTP 200 or 4xx", applies=Applies.ERROR)
def error_status(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    status = exchange.status
    if status is not None and status != 200 and not 400 <= status < 500:
        broken(f"an error answered with HTTP {status}")


@check("ERR-002", "errors are answered with HTTP 200", applies=Applies.ERROR,
       grade=Grade.NON_STRICT)
def error_status_canonical(exchange: Exchange, facts: Facts) -> None:
    # 429 is RATE-003's business (a throttled request SHOULD get it): not an API error the
    # dialect chooses a status for.
    if not _judged_error(exchange):
        return
    if exchange.status not in (200, 429, None):
        broken(f"error answered with HTTP {exchange.status} (canonical: 200)")


@check("ERR-004", "4xx statuses follow the documented meanings", applies=Applies.ERROR,
       grade=Grade.NON_STRICT, needs=("error_kind",))
def error_status_meaning(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    status = exchange.status
    expected = facts.error_kind
    if expected is None or status is None or not 400 <= status < 500:
        return
    if status != expected.value and not (status == 422 and expected is ErrorKind.BAD_REQUEST):
        broken(f"HTTP {status} for a {expected.name.lower()} error (documented {expected.value})")


@check("ERR-007", "an error answer carries no success fields", applies=Applies.ERROR)
def error_without_success_fields(exchange: Exchange, facts: Facts) -> None:
    if not _judged_error(exchange):
        return
    body = exchange.json
    if isinstance(body, dict):
        present = [name for name in _ERROR_SUCCESS_FIELDS if name in body]
        if present:
            broken(f"error answer also carries {', '.join(present)}")


CHECKS = Registry.collect(globals())
