"""One defect, one failure: what the generic checks judge (money at the panel's precision is
``tests/harness/panel/test_catalog.py``).

Each rule is tested both ways: the defect it must still catch, and the correct-but-different
answer (a probe's stock page, a legitimately rounded debit, a PHP panel's flags) it must accept.
"""

from __future__ import annotations

import pytest

from harness import contract
from harness.base.exchange import Exchange, SentRequest
from harness.judging.checks import DEFAULT_REGISTRY, CheckFailure, Facts, Grade, unusable_by
from harness.judging.judge import Judge
from harness.judging.verdicts import Verdict, VerdictBook
from harness.panel.catalog import Service
from tests.harness.judging.test_checks import ERROR, STATUS, ex


def failed(exchange: Exchange, facts: Facts | None = None) -> set[str]:
    """The clauses the registered checks fail on ``exchange``."""
    results = DEFAULT_REGISTRY.run(exchange, facts or Facts())
    return {r.clause for r in results if r.failure is not None and r.failure.grade.value == "FAIL"}


def probe(exchange: Exchange, method: str = "POST") -> Exchange:
    request = exchange.request
    sent = SentRequest(method, request.action, request.form, request.params, request.key,
                       request.content_type, "raw bytes", probe=True)
    return Exchange(exchange.seq, exchange.url, sent, exchange.status, exchange.headers,
                    exchange.text, exchange.json, exchange.json_error,
                    exchange.transport_error, exchange.elapsed)


HTML_500 = ex("balance", None, status=500, ctype="text/html", text="<h1>Internal error</h1>")
HTML_404 = ex("balance", None, status=404, ctype="text/html", text="<h1>Not found</h1>")
HTML_200 = ex("balance", None, status=200, ctype="text/html", text="<html>login</html>")
JSON_500 = ex("balance", ERROR, status=500)
RESET = ex("balance", None, status=None, transport_error="connection reset")


@pytest.mark.parametrize(
    ("exchange", "only"),
    [(HTML_500, "ROBUST-001"), (JSON_500, "ROBUST-001"), (HTML_404, "GEN-002"),
     (HTML_200, "GEN-002"), (RESET, "GEN-002")],
    ids=["html-500", "json-500", "html-404", "html-200", "reset"],
)
def test_an_unusable_protocol_answer_fails_exactly_one_clause(
    exchange: Exchange, only: str
) -> None:
    # Before: an HTML 500 failed ROBUST-001, GEN-002, ERR-001 and ERR-003 at once.
    assert failed(exchange) == {only}
    assert unusable_by(exchange) == only


@pytest.mark.parametrize("method", ["PUT", "DELETE", "GET"])
@pytest.mark.parametrize("answer", [HTML_500, HTML_404, RESET], ids=["500", "404", "reset"])
def test_a_probe_is_left_to_its_own_test(method: str, answer: Exchange) -> None:
    # A stock 501/405 page for a method the panel does not implement is correct HTTP: no
    # generic clause judges a probe, and nothing is blocked by it.
    assert failed(probe(answer, method)) == set()
    assert unusable_by(probe(answer, method)) is None


def test_a_bare_get_or_put_without_the_probe_flag_is_not_judged_either() -> None:
    for method in ("PUT", "DELETE", "GET"):
        bare = ex(None, None, status=501, ctype="text/html", text="<h1>501</h1>", method=method)
        assert failed(bare) == set()


def test_usable_answers_are_still_judged() -> None:
    # A JSON error with HTTP 201 is still ERR-003's failure, an envelope without a message
    # ERR-001's: narrowing the generic checks must not blind them.
    assert failed(ex("balance", ERROR, status=201)) == {"ERR-003"}
    assert failed(ex("balance", {"error": ""}, status=400)) == {"ERR-001"}
    assert unusable_by(ex("balance", ERROR, status=400)) is None


# -- schemas as real panels write them -----------------------------------------------------------

def test_start_count_null_while_pending_is_on_the_contract() -> None:
    pending = {**STATUS, "status": "Pending", "start_count": None, "remains": "1000"}
    assert contract.validate("status", "response", pending) == []
    assert contract.validate("status-multi", "response", {"1": pending}) == []
    # ...but not a word where a count belongs.
    assert contract.validate("status", "response", {**pending, "start_count": "n/a"})
    assert failed(ex("status", pending)) == set()


@pytest.mark.parametrize("flag", ["true", "false", "1", "0", True, 0])
def test_flags_printed_as_text_are_on_the_contract(flag: object) -> None:
    service = {"service": 1, "name": "F", "type": "Default", "category": "C", "rate": "0.90",
               "min": "50", "max": "10000", "refill": flag, "cancel": flag}
    assert contract.validate("services", "response", [service]) == []
    parsed = Service.parse(service)
    assert parsed is not None
    assert parsed.refill is (flag in ("true", "1", True))


@pytest.mark.parametrize("flag", ["yes", "TRUE", 2, None])
def test_a_flag_that_is_no_flag_is_off_the_contract(flag: object) -> None:
    service = {"service": 1, "name": "F", "type": "Default", "category": "C", "rate": "0.90",
               "min": "50", "max": "10000", "refill": flag}
    assert contract.validate("services", "response", [service])


# -- the judge: what a test expected of an unusable answer is blocked, not failed again ----------

def _judge() -> tuple[VerdictBook, Judge]:
    book = VerdictBook(contract.clauses().values())
    return book, Judge(book, DEFAULT_REGISTRY, "test_x", ("BAL-001", "BAL-002"))


@pytest.mark.parametrize(("answer", "root"), [(HTML_500, "ROBUST-001"), (HTML_200, "GEN-002")],
                         ids=["500", "html"])
def test_a_failure_shown_by_an_unusable_answer_is_blocked_by_its_root(
    answer: Exchange, root: str
) -> None:
    book, judge = _judge()
    judge.observe(answer)  # the registered checks: the root clause fails once
    verdict = judge.record_failure(CheckFailure("BAL-001", "the balance is readable",
                                                "expected a success answer", Grade.FAIL,
                                                [answer]))
    assert verdict is Verdict.NA
    assert book.outcome(root).verdict is Verdict.FAIL
    assert book.outcome("BAL-001").verdict is Verdict.NA
    assert book.outcome("BAL-001").blocked_by == root
    assert [f.clause for f in (judge.first_must_failure(),) if f] == [root]


def test_a_failure_on_a_usable_answer_is_its_own() -> None:
    book, judge = _judge()
    answer = ex("balance", {"balance": "-1.00", "currency": "USD"})
    verdict = judge.record_failure(CheckFailure("BAL-002", "the balance is not negative",
                                                "balance -1.00", Grade.FAIL, [answer]))
    assert verdict is Verdict.FAIL
    assert book.outcome("BAL-002").verdict is Verdict.FAIL
