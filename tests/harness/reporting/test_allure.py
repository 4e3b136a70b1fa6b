"""Allure results of a harness run: each test labelled with its clauses, area and severity, the
root cause of the clauses it left blocked and the waiver excusing its failure, and its exchanges
attached, redacted, bounded; the bridge only exists when Allure is writing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from harness.base.exchange import Exchange, SentRequest
from harness.base.redaction import Secret
from harness.judging.judge import Judge
from harness.plugin import SUITE_DIR
from harness.reporting.allure import MAX_ATTACHMENTS, AllureBridge, allure_active, severity_of
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from harness.run.waivers import utc_today
from tests.fixtures.fakepanel import KEY, SECOND_KEY, Defects, FakePanel, serve
from tests.fixtures.transports import RecordingTransport

# ---------------------------------------------------------------------------------------------
# units: activation, severity, labels and attachments through a recording stand-in for allure


def test_severity_is_the_strictest_cited_level() -> None:
    assert severity_of(["MAY", "MUST", "SHOULD"]) == "critical"
    assert severity_of(["MAY", "SHOULD"]) == "normal"
    assert severity_of(["MAY"]) == "minor"
    assert severity_of([]) is None


@dataclass
class FakeConfig:
    plugins: tuple[str, ...]
    alluredir: str | None

    @property
    def pluginmanager(self) -> FakeConfig:
        return self

    @property
    def option(self) -> Any:
        return type("Option", (), {"allure_report_dir": self.alluredir})()

    def has_plugin(self, name: str) -> bool:
        return name in self.plugins


def test_active_only_when_allure_is_loaded_and_writing() -> None:
    assert allure_active(FakeConfig(("allure_pytest",), "out"))  # type: ignore[arg-type]
    assert not allure_active(FakeConfig(("allure_pytest",), None))  # type: ignore[arg-type]
    assert not allure_active(FakeConfig((), "out"))  # type: ignore[arg-type]


@dataclass
class Recorder:
    """Stands in for the ``allure`` module: records labels and attachments."""

    labels: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[tuple[str, str]] = field(default_factory=list)

    @property
    def dynamic(self) -> Recorder:
        return self

    @property
    def attachment_type(self) -> Any:
        return type("Types", (), {"TEXT": "text"})

    def label(self, name: str, value: str) -> None:
        self.labels.append((name, value))

    def feature(self, value: str) -> None:
        self.labels.append(("feature", value))

    def tag(self, value: str) -> None:
        self.labels.append(("tag", value))

    def attach(self, body: str, *, name: str, attachment_type: str) -> None:
        self.attachments.append((name, body))


@dataclass
class Mark:
    args: tuple[str, ...]


@dataclass
class Item:
    marks: tuple[Mark, ...]

    def iter_markers(self, name: str) -> Iterator[Mark]:
        assert name == "clause"
        return iter(self.marks)


def exchange(seq: int, text: str) -> Exchange:
    request = SentRequest("POST", "balance", "balance", (("key", "<redacted>:main key"),
                                                          ("action", "balance")),
                          "main key", "application/x-www-form-urlencoded", "")
    return Exchange(seq, "http://127.0.0.1:9/api/v2", request, 200,
                    (("Content-Type", "application/json"),), text, None, None, None, 0.0)


def bridge_and_recorder(monkeypatch: pytest.MonkeyPatch) -> tuple[AllureBridge, Recorder]:
    config = PanelConfig(url="http://127.0.0.1:9/api/v2", key=Secret("unit-key+1", "main key"))
    bridge = AllureBridge(HarnessRun(config, transport=RecordingTransport()))
    recorder = Recorder()
    monkeypatch.setattr(bridge, "_allure", recorder)
    return bridge, recorder


def finish(bridge: AllureBridge, item: Item) -> None:
    """What the teardown report hook does, without pytest's hook machinery."""
    bridge._finish(item)  # type: ignore[arg-type]


def test_labels_name_every_cited_clause_once_with_area_and_severity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bridge, recorder = bridge_and_recorder(monkeypatch)
    item = Item((Mark(("ADD-001", "GEN-003")), Mark(("ADD-001", "ADD-003"))))
    bridge.pytest_runtest_setup(item)  # type: ignore[arg-type]
    finish(bridge, item)
    assert recorder.labels == [
        ("clause", "ADD-001"), ("clause", "GEN-003"), ("clause", "ADD-003"),
        ("feature", "ADD"), ("tag", "ADD"), ("feature", "GEN"), ("tag", "GEN"),
        ("severity", "critical"),
    ]


def test_attachments_are_the_items_exchanges_scrubbed_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bridge, recorder = bridge_and_recorder(monkeypatch)
    observe = bridge.run.client.observers[-1]
    observe(exchange(1, "before any test: not attached"))
    item = Item((Mark(("GEN-001",)),))
    bridge.pytest_runtest_setup(item)  # type: ignore[arg-type]
    # A panel echoing the key (raw and form-encoded) in its answer.
    observe(exchange(2, f'{{"error": "bad key unit-key+1 / {quote_plus("unit-key+1")}"}}'))
    for seq in range(3, MAX_ATTACHMENTS + 7):  # MAX + 5 in all, with #2
        observe(exchange(seq, '{"balance": "1.00"}'))
    finish(bridge, item)
    observe(exchange(99, "after the test: not attached"))

    bodies = [body for _, body in recorder.attachments]
    assert len(bodies) == MAX_ATTACHMENTS + 1
    assert recorder.attachments[0][0] == "exchange #2 balance"
    assert bodies[0].startswith("#2 POST application/x-www-form-urlencoded key=<redacted>:main key")
    assert '"error": "bad key <redacted> / <redacted>"' in bodies[0]
    assert all("unit-key" not in body for body in bodies)
    assert recorder.attachments[-1] == (
        "exchanges not attached",
        f"5 more exchange(s) of this test were not attached (at most {MAX_ATTACHMENTS} per test).",
    )
    assert not any("not attached" in body for body in bodies[:-1])

    recorder.attachments.clear()
    bridge.pytest_runtest_setup(item)  # type: ignore[arg-type]
    finish(bridge, item)
    assert recorder.attachments == []  # the next test starts empty


# ---------------------------------------------------------------------------------------------
# the real thing: allure-pytest writing results for a harness run



def results(folder: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in folder.glob("*-result.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        found[result["name"]] = result
    return found


def labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_allure_results_carry_clause_labels_and_redacted_exchanges(
    clean: pytest.Pytester, tmp_path: Path
) -> None:
    allure = tmp_path / "allure"
    panel = FakePanel(defects=Defects(echo_key=True, accept_any_key=True))
    with serve(panel) as url:
        result = clean.runpytest_inprocess(
            str(SUITE_DIR), f"--panel-url={url}", f"--panel-key={KEY}",
            f"--panel-second-key={SECOND_KEY}", "--panel-request-rate=1000",
            "--panel-clause=AUTH-*", "--panel-clause=GEN-001", f"--alluredir={allure}",
        )
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the fake accepts any key: AUTH-002
    found = results(allure)

    transport = found["test_balance_over_a_form_post"]
    assert {"name": "clause", "value": "GEN-001"} in transport["labels"]
    assert {"name": "clause", "value": "AUTH-005"} in transport["labels"]
    assert labels(transport, "severity") == ["critical"]
    assert {"GEN", "BAL", "AUTH"} <= set(labels(transport, "feature"))

    wrong = [r for name, r in found.items() if name.startswith("test_wrong_key_is_refused")]
    assert wrong
    assert all(labels(r, "clause") == ["AUTH-002"] for r in wrong)
    # A broken clause is a failed test for Allure, not a "broken" (crashed) one.
    assert "failed" in {r["status"] for r in wrong}
    assert "broken" not in {r["status"] for r in wrong}
    # Every failed one shows its exchanges, the balance one too, whose answer the harness
    # took from the dialect fingerprint's request before the first test (a replayed answer).
    for wrong_key in (r for r in wrong if r["status"] == "failed"):
        attached = [allure / a["source"] for a in wrong_key.get("attachments", ())
                    if a["name"].startswith("exchange #")]
        assert attached, wrong_key["name"]
        texts = [path.read_text(encoding="utf-8") for path in attached]
        assert any("key=<redacted>:" in text for text in texts)

    for path in allure.rglob("*"):
        data = path.read_bytes()
        for secret in (KEY, SECOND_KEY):
            assert secret.encode() not in data, f"{secret} written in {path.name}"
            assert quote_plus(secret).encode() not in data


def test_the_bridge_is_registered_only_with_alluredir(clean: pytest.Pytester,
                                                     tmp_path: Path) -> None:
    clean.makepyfile(bridgeprobe=(
        "def pytest_sessionfinish(session):\n"
        "    names = [type(p).__name__ for p in session.config.pluginmanager.get_plugins()]\n"
        "    print('BRIDGE', 'AllureBridge' in names)\n"
    ))
    clean.syspathinsert()
    args = [str(SUITE_DIR), "--panel-key=" + KEY, "-s", "--panel-clause=GEN-001", "-p",
            "bridgeprobe"]
    with serve(FakePanel()) as url:
        without = clean.runpytest_inprocess(*args, f"--panel-url={url}")
        with_dir = clean.runpytest_inprocess(*args, f"--panel-url={url}",
                                             f"--alluredir={tmp_path / 'allure'}")
    without.stdout.fnmatch_lines(["*BRIDGE False*"])
    with_dir.stdout.fnmatch_lines(["*BRIDGE True*"])


# ---------------------------------------------------------------------------------------------
# root causes and waivers


def test_a_test_that_left_clauses_blocked_names_their_root_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bridge, recorder = bridge_and_recorder(monkeypatch)
    item = Item((Mark(("ISO-001", "ISO-002", "ISO-003")),))
    judge = Judge(bridge.run.book, bridge.run.registry, "t.py::test_iso", _cited(item))
    bridge.run.judge = judge  # what the plugin's setup wrapper does before the bridge's setup
    bridge.pytest_runtest_setup(item)  # type: ignore[arg-type]
    judge.blocked("ISO-001", "AUTH-002")
    judge.blocked("ISO-002", "AUTH-002", "any key reads the first account")
    judge.blocked("ISO-003", "CANCEL-001")
    finish(bridge, item)
    assert [lb for lb in recorder.labels if lb[0] in ("blocked_by", "tag")] == [
        ("tag", "ISO"), ("blocked_by", "AUTH-002"), ("tag", "blocked by AUTH-002"),
        ("blocked_by", "CANCEL-001"), ("tag", "blocked by CANCEL-001"),
    ]

    recorder.labels.clear()
    bridge.run.judge = Judge(bridge.run.book, bridge.run.registry, "t.py::next", ("ISO-001",))
    bridge.pytest_runtest_setup(item)  # type: ignore[arg-type]
    finish(bridge, item)
    assert not [lb for lb in recorder.labels if lb[0] == "blocked_by"]  # nothing blocked here


def _cited(item: Item) -> tuple[str, ...]:
    return tuple(cid for mark in item.iter_markers("clause") for cid in mark.args)


def test_allure_labels_a_test_failed_on_a_waived_clause(clean: pytest.Pytester,
                                                        tmp_path: Path) -> None:
    allure = tmp_path / "allure"
    waivers = tmp_path / "waivers.yaml"
    expires = utc_today() + timedelta(days=30)
    waivers.write_text(f"waivers:\n  - {{clause: AUTH-002, reason: r, expires: {expires}}}\n",
                       encoding="utf-8")
    with serve(FakePanel(defects=Defects(accept_any_key=True))) as url:
        result = clean.runpytest_inprocess(
            str(SUITE_DIR), f"--panel-url={url}", f"--panel-key={KEY}",
            "--panel-request-rate=1000", "--panel-clause=AUTH-002", "--panel-clause=GEN-001",
            f"--alluredir={allure}", f"--panel-waivers={waivers}",
        )
    assert result.ret == pytest.ExitCode.OK
    found = results(allure)
    wrong = [r for name, r in found.items() if name.startswith("test_wrong_key_is_refused")]
    failed = [r for r in wrong if r["status"] == "failed"]
    assert failed
    assert all(labels(r, "waived") == ["AUTH-002"] for r in failed)
    assert all("WAIVED AUTH-002" in labels(r, "tag") for r in failed)
    # A test that passed needs no excuse, even on a waived clause.
    assert all(labels(r, "waived") == [] for r in wrong if r["status"] == "passed")
    assert labels(found["test_balance_over_a_form_post"], "waived") == []
