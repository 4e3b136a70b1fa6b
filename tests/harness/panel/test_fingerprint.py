"""Dialect fingerprinting on recorded answers: each trait read off the wire, the scoring, the
unknown-dialect answer, a panel that answers nothing sensible, the redaction of evidence, the
request budget, and the header line (through pytester, against the fake panel)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.base.errors import TransportError
from harness.base.redaction import Secret
from harness.contract.dialects import DialectDataError, load_dialects
from harness.contract.resources import schemas_dir
from harness.panel.fingerprint import DialectGuess, fingerprint, guess
from harness.reporting.terminal import dialect_line, header_lines
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from harness.wire.client import PanelClient, RawResponse
from harness.wire.limiter import TokenBucket
from tests.fixtures.fakepanel import KEY, FakePanel, serve
from tests.fixtures.transports import RecordingTransport, Sent

URL = "http://panel.test/api/v2"
JSON = "application/json"
SECRET = "rec-key-Pq93kd02Lm"
Answer = tuple[int, str, str]  # HTTP status, content type, body ({id} {action} {key} filled in)


def err(message: str, http: int = 200, **extra: str) -> Answer:
    return http, JSON, json.dumps({"error": message, **extra})


SERVICES = [
    {"service": 1, "name": "Followers", "type": "Default", "category": "Instagram",
     "rate": "0.90", "min": "50", "max": "10000", "refill": True, "cancel": True},
    {"service": 2, "name": "Comments", "type": "Custom Comments", "category": "Instagram",
     "rate": "12.50", "min": "10", "max": "1000", "refill": False, "cancel": False},
]


def canonical() -> dict[str, Answer]:
    """The classic PerfectPanel page (seed 003) as answers, one per probe."""
    return {
        "services": (200, JSON, json.dumps(SERVICES)),
        "balance": (200, JSON, '{"balance": "100.84292", "currency": "USD"}'),
        "bad_key": err("Invalid API key"),
        "unknown": err("Incorrect request"),
        "status": err("Incorrect order ID"),
        "status-multi": (200, JSON, '{"{id}": {"error": "Incorrect order ID"}}'),
        "refill_status": err("Refill not found"),
        "cancel": (200, JSON, '[{"order": {id}, "cancel": {"error": "Incorrect order ID"}}]'),
    }


class Recorded:
    """A panel answering from a recording (a handler of :class:`RecordingTransport`): no
    socket, and the transport keeps every request."""

    def __init__(self, answers: Mapping[str, Answer], key: str = SECRET) -> None:
        self.answers = dict(answers)
        self.key = key

    def route(self, params: Mapping[str, str]) -> str:
        action = params.get("action", "")
        if params.get("key") != self.key:
            return "bad_key"
        if action == "status" and "orders" in params:
            return "status-multi"
        return action if action in self.answers else "unknown"

    def __call__(self, request: Sent) -> RawResponse:
        params = request.params
        status, ctype, text = self.answers[self.route(params)]
        ids = params.get("orders") or params.get("order") or params.get("refill") or ""
        text = (text.replace("{id}", ids).replace("{action}", params.get("action", ""))
                .replace("{key}", params.get("key", "")))
        return RawResponse(status, (("Content-Type", ctype),), text.encode())


def run_fingerprint(answers: Mapping[str, Answer], **kwargs: Any,
                    ) -> tuple[DialectGuess, RecordingTransport]:
    transport = RecordingTransport(Recorded(answers, **kwargs))
    client = PanelClient(URL, transport=transport)
    return fingerprint(client, Secret(SECRET, "main key"), seed=7), transport


# ---------------------------------------------------------------------------------------------
# reading traits


def test_every_trait_is_read_from_a_canonical_panel() -> None:
    result, _ = run_fingerprint(canonical())
    assert dict(result.observed) == {
        "transport.content_type": "application/json",
        "transport.pretty_json": False,
        "transport.path": "/api/v2",
        "services.shape": "list",
        "services.fields": ("service", "name", "type", "category", "rate", "min", "max",
                            "refill", "cancel"),
        "services.flags": ("cancel", "refill"),
        "services.flag_style": "bool",
        "services.category": True,
        "services.service_id": "number",
        "services.rate": "string",
        "services.limits": "string",
        "services.type_spelling": "canonical",
        "services.types": ("Custom Comments", "Default"),
        "balance.balance": "string",
        "balance.places": 5,
        "balance.currency": "USD",
        "balance.extra": (),
        "bad_key.message": "Invalid API key",
        "bad_key.http": 200,
        "bad_key.extra": (),
        "unknown_action.message": "Incorrect request",
        "unknown_action.http": 200,
        "unknown_action.extra": (),
        "unknown_order.message": "Incorrect order ID",
        "unknown_order.http": 200,
        "unknown_order.extra": (),
        "multi_status.action": "status",
        "multi_status.item_error": "object",
        "refill_status.offered": True,
        "refill_status.message": "Refill not found",
        "refill_status.http": 200,
        "cancel.offered": True,
        "cancel.shape": "list",
        "cancel.error_nested": True,
        "cancel.message": "Incorrect order ID",
    }
    # The classic page is PerfectPanel's; smmhub cannot be told from it without spending.
    assert result.name == "perfectpanel"
    assert result.score == 1.0
    assert result.indistinguishable == ("smmhub",)


SMARTPANEL_SERVICES = [
    {"service": "1", "name": "Followers", "category": "Instagram", "rate": "0.90", "min": "50",
     "max": "10000", "type": "custom_comments", "dripfeed": 1, "refill": 0},
]
NUMERIC_SERVICES = [
    {"service": 1, "name": "Followers", "type": "Default", "rate": 0.9, "min": 50, "max": 10000,
     "dripfeed": "1"},
]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"services": (200, "text/html; charset=UTF-8", json.dumps(SMARTPANEL_SERVICES,
                                                                      indent=4))},
            {"transport.content_type": "text/html", "transport.pretty_json": True,
             "services.service_id": "string", "services.flag_style": "int",
             "services.flags": ("dripfeed", "refill"), "services.type_spelling": "snake",
             "services.types": ("custom_comments",),
             "services.fields": ("service", "name", "category", "rate", "min", "max", "type",
                                 "dripfeed", "refill")},
            id="services-raw-database-rows",
        ),
        pytest.param(
            {"services": (200, JSON, json.dumps(NUMERIC_SERVICES))},
            {"services.rate": "number", "services.limits": "number",
             "services.flag_style": "string", "services.flags": ("dripfeed",),
             "services.category": False},
            id="services-numbers-and-string-flags",
        ),
        pytest.param(
            {"services": (200, JSON, '{"status": "success", "data": "Empty Data"}')},
            {"services.shape": "object"},
            id="services-object",
        ),
        pytest.param(
            {"balance": (200, JSON, '{"status": "success", "balance": 12.3, "currency": "TRY"}')},
            {"balance.balance": "number", "balance.places": 1, "balance.currency": "TRY",
             "balance.extra": ("status",)},
            id="balance-number-with-wrapper",
        ),
        pytest.param(
            {"bad_key": err("API key invalid", 401, status="102")},
            {"bad_key.message": "API key invalid", "bad_key.http": 401,
             "bad_key.extra": ("status",)},
            id="bad-key-coded",
        ),
        pytest.param(
            {"unknown": err("Incorrect request: unknown action {action}", 422)},
            {"unknown_action.message": "Incorrect request: unknown action {action}",
             "unknown_action.http": 422},
            id="unknown-action-names-the-action",
        ),
        pytest.param(
            {"status": err("Order {id} not found.", 404, status="104")},
            {"unknown_order.message": "Order {id} not found.", "unknown_order.http": 404,
             "unknown_order.extra": ("status",)},
            id="unknown-order-echoes-the-id",
        ),
        pytest.param(
            {"status-multi": err("Incorrect request: the order parameter is missing", 400),
             "orders": (200, JSON, '{"{id}": "Incorrect order ID"}')},
            {"multi_status.action": "orders", "multi_status.item_error": "string"},
            id="multi-status-through-orders",
        ),
        pytest.param(
            {"status-multi": err("Incorrect order ID")},
            {"multi_status.action": "none"},
            id="no-multi-status",
        ),
        pytest.param(
            {"refill_status": err("Incorrect request")},
            {"refill_status.offered": False},
            id="refill-status-unknown-action",
        ),
        pytest.param(
            {"cancel": (200, JSON, '{"order": {id}, "cancel": {"error": "Incorrect order ID"}}')},
            {"cancel.shape": "object", "cancel.error_nested": True},
            id="cancel-unwrapped",
        ),
        pytest.param(
            {"cancel": (200, JSON, '[{"order": {id}, "error": "Cannot cancel {id}"}]')},
            {"cancel.shape": "list", "cancel.error_nested": False,
             "cancel.message": "Cannot cancel {id}"},
            id="cancel-flat-error",
        ),
        pytest.param(
            {"cancel": err("Incorrect request")},
            {"cancel.offered": False},
            id="cancel-unknown-action",
        ),
    ],
)
def test_each_trait_is_read_off_its_answer(
    changes: dict[str, Answer], expected: dict[str, object]
) -> None:
    result, _ = run_fingerprint(canonical() | changes)
    assert {name: result.observed.get(name) for name in expected} == expected


def test_traits_of_an_action_that_is_not_offered_are_unknown() -> None:
    result, _ = run_fingerprint(canonical() | {"cancel": err("Incorrect request")})
    assert "cancel.shape" not in result.observed
    assert "cancel.message" not in result.observed


# ---------------------------------------------------------------------------------------------
# scoring, on small dialect files


def write_dialects(tmp_path: Path, dialects: list[dict[str, Any]], **top: Any) -> Path:
    document = {
        "version": 1, "threshold": 0.8, "min_weight": 1,
        "traits": [
            {"id": "a.equals", "kind": "equals", "weight": 2, "says": "a is {value}"},
            {"id": "b.one_of", "kind": "one_of", "weight": 1, "says": "b is {value}"},
            {"id": "c.subset", "kind": "subset", "weight": 1, "says": "c holds {value}"},
        ],
        "dialects": dialects,
    } | top
    path = tmp_path / "dialects.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def dialect(name: str, traits: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"name": name, "source": "test", "summary": "test", "traits": traits} | more


def load(path: Path) -> Any:
    return load_dialects(path, schemas_dir() / "dialects.schema.json")


def test_score_is_matched_weight_over_the_weight_both_sides_know(tmp_path: Path) -> None:
    data = load(write_dialects(tmp_path, [
        dialect("full", {"a.equals": 1, "b.one_of": ["x", "y"], "c.subset": ["p", "q"]}),
        dialect("partial", {"a.equals": 1}),
        dialect("wrong", {"a.equals": 2, "b.one_of": ["y"], "c.subset": ["p"]}),
    ], threshold=0.5))
    observed = {"a.equals": 1, "b.one_of": "z", "c.subset": ("p", "q")}
    result = guess(observed, data)
    # full: a (2) and c (1) match, b (1) differs: 3/4. partial knows only a: 2/2.
    assert result.name == "partial"
    assert result.score == 1.0
    assert result.runner_up == ("full", 0.75)
    # a trait the panel did not show counts for nobody: both fit all they can be compared on
    only_a = guess({"a.equals": 1}, data)
    assert (only_a.name, only_a.score, only_a.runner_up) == ("full", 1.0, ("partial", 1.0))


def test_equal_scores_go_to_the_dialect_compared_on_more(tmp_path: Path) -> None:
    data = load(write_dialects(tmp_path, [
        dialect("narrow", {"a.equals": 1}),
        dialect("broad", {"a.equals": 1, "b.one_of": ["x"]}),
    ]))
    assert guess({"a.equals": 1, "b.one_of": "x"}, data).name == "broad"


@pytest.mark.parametrize(
    ("observed", "fits"),
    [
        ({"a.equals": 1}, True),
        ({"a.equals": True}, False),  # a JSON true is not the number 1
        ({"a.equals": "1"}, False),  # nor is the string "1"
        ({"b.one_of": "y"}, True),
        ({"b.one_of": "Y"}, False),
        ({"c.subset": ("q",)}, True),
        ({"c.subset": ("q", "r")}, False),
    ],
)
def test_each_kind_compares_strictly(
    tmp_path: Path, observed: dict[str, object], fits: bool
) -> None:
    data = load(write_dialects(tmp_path, [
        dialect("d", {"a.equals": 1, "b.one_of": ["x", "y"], "c.subset": ["p", "q"]}),
    ]))
    assert guess(observed, data).score == (1.0 if fits else 0.0)


def test_extends_inherits_and_null_drops_a_trait(tmp_path: Path) -> None:
    data = load(write_dialects(tmp_path, [
        dialect("base", {"a.equals": 1, "b.one_of": ["x"]}),
        dialect("child", {"a.equals": 2, "b.one_of": None}, extends="base"),
        dialect("grandchild", {"c.subset": ["p"]}, extends="child"),
    ]))
    assert dict(data.get("grandchild").traits) == {"a.equals": 2, "c.subset": ("p",)}


@pytest.mark.parametrize(
    ("dialects", "problem"),
    [
        ([dialect("d", {"z.unknown": 1})], "undeclared trait z.unknown"),
        ([dialect("d", {"b.one_of": "x"})], "must be a list"),
        ([dialect("d", {}, extends="nobody")], "extends unknown nobody"),
        ([dialect("d", {}, extends="e"), dialect("e", {}, extends="d")], "circle"),
        ([dialect("d", {}, indistinguishable_from=["e"]), dialect("e", {})], "symmetric"),
        ([dialect("d", {}), dialect("d", {})], "used twice"),
        ([dialect("D!", {})], "does not match"),
        ([{"name": "d", "traits": {}}], "'source' is a required property"),
    ],
)
def test_inconsistent_dialect_data_is_refused(
    tmp_path: Path, dialects: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(DialectDataError, match=re.escape(problem)):
        load(write_dialects(tmp_path, dialects))


def test_the_shipped_data_names_its_sources_and_aliases() -> None:
    data = load_dialects()
    assert {d.name for d in data.dialects} >= {"reference", "perfectpanel", "smartpanel"}
    assert all(d.source for d in data.dialects)
    assert data.multi_status_aliases() == ("orders", "multiStatus")
    # The reference dialect states every trait, so every other dialect is compared on all.
    assert set(data.get("reference").traits) == {t.id for t in data.traits}


# ---------------------------------------------------------------------------------------------
# the unknown dialect, a broken panel, redaction, the request budget


def test_a_panel_like_no_known_dialect_is_named_unknown() -> None:
    # An off-brand panel (LINKSIDX-like wording), numbers everywhere, errors as HTTP 403.
    answers = {
        "services": (200, JSON, json.dumps(NUMERIC_SERVICES)),
        "balance": (200, JSON, '{"funds": 3}'),
        "bad_key": err("Invalid api key", 403),
        "unknown": err("Invalid action", 403),
        "status": err("No such order", 403),
        "status-multi": err("No such order", 403),
        "refill_status": err("No such refill", 403),
        "cancel": err("No such order", 403),
    }
    result, _ = run_fingerprint(answers)
    assert result.name is None
    assert result.closest is not None
    assert result.score < load_dialects().threshold
    assert result.summary().startswith(f"unknown (closest {result.closest} ")
    # the evidence leads with what does not fit
    assert result.evidence[0].startswith("but ")
    assert result.agrees_with("reference") is None


def test_a_panel_answering_html_500_to_everything_gives_no_name_and_no_exception() -> None:
    page = (500, "text/html", "<html><body>Internal Server Error</body></html>")
    names = ("services", "balance", "bad_key", "unknown", "status", "status-multi",
             "refill_status", "cancel")
    result, transport = run_fingerprint(dict.fromkeys(names, page))
    assert result.name is None
    assert any("answered HTTP 500 text/html, not JSON" in line for line in result.evidence)
    assert len(transport.requests) <= 10


class Refusing:
    def send(self, method: str, url: str, headers: Mapping[str, str],
             body: bytes | None) -> RawResponse:
        raise TransportError("ConnectionRefusedError: [Errno 111] Connection refused")


def test_a_panel_that_does_not_answer_gives_no_name() -> None:
    client = PanelClient(URL, transport=Refusing())
    result = fingerprint(client, Secret(SECRET, "main key"), seed=1)
    assert result.name is None
    assert result.closest is None
    assert any("got no HTTP answer: ConnectionRefusedError" in line for line in result.evidence)


class Exploding:
    def __init__(self) -> None:
        self.calls = 0

    def send(self, method: str, url: str, headers: Mapping[str, str],
             body: bytes | None) -> RawResponse:
        self.calls += 1
        raise RuntimeError(f"transport bug while sending {body!r}")


def test_detect_dialect_never_raises_and_runs_once() -> None:
    transport = Exploding()
    run = HarnessRun(PanelConfig(url=URL, key=Secret(SECRET, "main key")), transport=transport)
    result = run.detect_dialect()
    assert result.name is None
    assert result.evidence[0].startswith("detection failed: RuntimeError: transport bug")
    assert SECRET not in " ".join(result.evidence)  # the body it quoted held the key
    assert run.dialect is result
    assert run.detect_dialect() is result
    assert transport.calls == 1


def test_no_key_reaches_the_evidence_even_when_the_panel_echoes_it() -> None:
    answers = canonical() | {
        "bad_key": err("Invalid API key {key}"),
        "unknown": err("Incorrect request for {key}"),
        "status": err("Incorrect order ID (key {key})"),
    }
    result, transport = run_fingerprint(answers)
    wrong = next(p["key"] for p in (r.params for r in transport.requests) if p.get("key") != SECRET)
    shown = "\n".join(result.evidence) + repr(dict(result.observed))
    assert "<redacted>" in shown
    assert SECRET not in shown
    assert wrong not in shown
    assert SECRET not in dialect_line("auto", result)


class CountingBucket(TokenBucket):
    def __init__(self) -> None:
        super().__init__(1000.0, 1000.0)
        self.taken = 0

    def acquire(self) -> float:
        self.taken += 1
        return super().acquire()


def test_detection_spends_nothing_and_stays_within_ten_polite_requests() -> None:
    transport = RecordingTransport(Recorded(canonical() | {
        "status-multi": err("Incorrect request"), "orders": err("Incorrect request")}))
    limiter = CountingBucket()
    client = PanelClient(URL, transport=transport, limiter=limiter)
    fingerprint(client, Secret(SECRET, "main key"), seed=3)
    actions = [r.params.get("action") for r in transport.requests]
    assert len(actions) == 10  # every multi-status alias tried: the most it ever sends
    assert limiter.taken == len(actions)
    assert set(actions) <= {"services", "balance", "status", "orders", "multiStatus",
                            "refill_status", "cancel", "smm_fingerprint_no_such_action"}


# ---------------------------------------------------------------------------------------------
# the header


def a_guess(name: str | None, indistinguishable: tuple[str, ...] = ()) -> DialectGuess:
    return DialectGuess(name, 0.93, ("smmhub", 0.71), ("e1", "e2", "e3", "e4"), {},
                        indistinguishable, closest=name or "reference")


@pytest.mark.parametrize(
    ("profile", "detected", "line"),
    [
        ("auto", a_guess("perfectpanel"),
         "smm-harness: dialect perfectpanel (score 0.93; runner-up smmhub 0.71): e1; e2; e3"),
        ("perfectpanel", a_guess("perfectpanel"),
         "smm-harness: dialect configured perfectpanel, detected perfectpanel "
         "(score 0.93; runner-up smmhub 0.71): e1; e2; e3"),
        ("smmpro", a_guess("perfectpanel"),
         "smm-harness: dialect configured smmpro, detected perfectpanel "
         "(score 0.93; runner-up smmhub 0.71) MISMATCH: e1; e2; e3"),
        ("smmhub", a_guess("perfectpanel", ("smmhub",)),
         "smm-harness: dialect configured smmhub, detected perfectpanel (score 0.93; "
         "runner-up smmhub 0.71; indistinguishable from smmhub without spending): e1; e2; e3"),
        ("smmhub", a_guess(None),
         "smm-harness: dialect configured smmhub, detected unknown (closest reference 0.93) "
         "UNCONFIRMED: e1; e2; e3"),
    ],
)
def test_the_dialect_line(profile: str, detected: DialectGuess, line: str) -> None:
    assert dialect_line(profile, detected) == line
    config = PanelConfig(url=URL, key=Secret(SECRET, "main key"), profile=profile)
    assert header_lines(config, detected)[-1] == line
    assert len(header_lines(config)) == len(header_lines(config, detected)) - 1



@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("auto", r"smm-harness: dialect reference \(score 0\.\d\d; runner-up \w+ 0\.\d\d\): "),
        ("smmpro", r"smm-harness: dialect configured smmpro, detected reference .* MISMATCH: "),
    ],
)
def test_the_header_names_the_detected_dialect(
    clean: pytest.Pytester, profile: str, expected: str
) -> None:
    panel = FakePanel()
    with serve(panel) as url:
        result = clean.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", f"--panel-profile={profile}",
            "--panel-request-rate=1000", "--co",
        )
    lines = [line for line in result.outlines if line.startswith("smm-harness: dialect")]
    assert len(lines) == 1
    assert re.match(expected, lines[0])
    assert KEY not in "\n".join(result.outlines)
    # the fake panel saw the probes, and nothing that could spend
    assert "add" not in panel.actions
    assert "smm_fingerprint_no_such_action" in panel.actions
