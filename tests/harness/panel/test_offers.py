"""Whether the panel offers an optional action, and what an unusable answer to one costs.

One defect, one failure: refused like an unknown action, the action is not offered (its
clauses N/A); answered ``null``, it fails its own clause once (or ERR-005, when the panel answers
every unknown action that way) and the tests that need it are blocked by that clause.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from harness.judging.judge import NotApplicable
from harness.judging.verdicts import NaReason, Verdict
from harness.panel.probes import UNKNOWN_ACTION
from harness.run.session import HarnessRun
from harness.wire.client import RawResponse
from tests.fixtures.transports import Sent
from tests.harness.panel.test_requests import CountingPanel, harness_run, in_test

NEVER = "987654321987"


@dataclass
class OptionalActions(CountingPanel):
    """The counting panel, with ``cancel`` answered as ``cancel_body`` (JSON text) and the
    action no panel knows (the baseline of every probe) answered as ``unknown_body``."""

    cancel_body: str = '[{"order": "987654321987", "cancel": {"error": "Incorrect order ID"}}]'
    unknown_body: str = '{"error": "Incorrect request"}'

    def answer_to(self, request: Sent) -> RawResponse:
        action = request.params.get("action", "")
        if action == "cancel":
            return self.raw(self.cancel_body)
        if action == UNKNOWN_ACTION:
            return self.raw(self.unknown_body)
        return super().answer_to(request)

    @staticmethod
    def raw(text: str) -> RawResponse:
        return RawResponse(200, (("Content-Type", "application/json"),), text.encode())


def _offers(panel: OptionalActions) -> tuple[bool, HarnessRun]:
    run = harness_run(panel)
    in_test(run, "test_probe")
    offered = run.panel.offers("cancel", {"orders": NEVER})
    return offered, run


def test_an_action_that_answers_is_offered() -> None:
    offered, run = _offers(OptionalActions())
    assert offered
    assert not run.book.must_failed()


def test_an_action_refused_like_an_unknown_one_is_not_offered_and_fails_nothing() -> None:
    panel = OptionalActions(cancel_body='{"error": "Incorrect request"}')
    offered, run = _offers(panel)
    assert not offered
    with pytest.raises(NotApplicable) as stopped:
        run.panel.require_offered("cancel", {"orders": NEVER})
    assert stopped.value.reason is NaReason.NOT_OFFERED
    assert stopped.value.blocked_by is None
    assert not run.book.must_failed()


def test_an_action_answered_null_fails_its_own_clause_once_and_blocks_the_rest() -> None:
    offered, run = _offers(OptionalActions(cancel_body="null"))
    assert not offered
    book = run.book
    assert book.outcome("CANCEL-001").verdict is Verdict.FAIL
    assert "neither a result nor the error envelope" in book.outcome("CANCEL-001").reason
    assert book.outcome("ERR-005").verdict is not Verdict.FAIL
    assert book.outcome("CANCEL-001").counts[Verdict.FAIL] == 1
    for _ in range(3):  # every test that needs cancel: blocked, never failed again
        with pytest.raises(NotApplicable) as stopped:
            run.panel.require_offered("cancel", {"orders": NEVER})
        assert stopped.value.blocked_by == "CANCEL-001"
    assert book.outcome("CANCEL-001").counts[Verdict.FAIL] == 1


def test_a_panel_answering_every_unknown_action_null_is_err_005_s_business() -> None:
    offered, run = _offers(OptionalActions(cancel_body="null", unknown_body="null"))
    assert not offered
    book = run.book
    assert book.outcome("CANCEL-001").verdict is Verdict.NA  # nothing recorded on it here
    with pytest.raises(NotApplicable) as stopped:
        run.panel.require_offered("cancel", {"orders": NEVER})
    assert stopped.value.blocked_by == "ERR-005"


def test_the_unknown_action_baseline_is_asked_once_per_run() -> None:
    panel = OptionalActions()
    run = harness_run(panel)
    in_test(run, "test_probe")
    for action in ("cancel", "refill", "refill_status"):
        run.panel.offers(action, {"orders": NEVER})
        run.panel.offers(action, {"orders": NEVER})  # cached
    assert panel.received.count(UNKNOWN_ACTION) == 1
    assert panel.received.count("cancel") == 1


def test_the_probe_answers_are_json_text_as_sent() -> None:
    # The fake's bodies are real JSON texts: a broken fixture would make every test above
    # vacuous.
    panel = OptionalActions(cancel_body="null")
    assert json.loads(panel.raw(panel.cancel_body).body) is None
