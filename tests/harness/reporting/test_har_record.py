"""``--panel-record FILE``: a run's exchanges as HAR 1.2, keys and token nowhere in the file.

Real runs against ``mockpanel serve`` (its own process, control API, manual clock) on a few
clause areas, serial and with ``-n 2`` (whose workers mint tenants with keys this test never
learns: every ``key`` field of the file must then read ``<redacted>:...``), plus the option's
three spellings and a unit check of one entry per encoding.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness.base.errors import TransportError
from harness.base.exchange import Encoding
from harness.base.redaction import Secret, SecretBook
from harness.reporting.har import har_entry
from harness.run.config import build, resolve_values
from harness.wire.client import PanelClient, RawResponse
from tests.fixtures.transports import RecordingTransport, json_answer, scripted
from tests.harness.run.xdist_runs import Keys, harness_args, journal_times, serve_profile
from tests.smmhar.schema import har_problems, read_har

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
_CLAUSES = [f"--panel-clause={c}" for c in ("GEN-*", "AUTH-*", "BAL-*", "ADD-*")]
_NOT_GENERATED = "not test_13_properties and not test_14_stateful"
URL = "http://127.0.0.1:9/api/v2"
KEY = "k3y-value-0001"


def _key_fields(entry: dict[str, Any]) -> list[str]:
    request = entry["request"]
    pairs = [*request["queryString"], *request.get("postData", {}).get("params", [])]
    values = [p["value"] for p in pairs if p["name"] == "key"]
    text = request.get("postData", {}).get("text", "")
    if text.startswith("{"):
        value = json.loads(text).get("key")
        values += [] if value is None else [str(value)]
    return values


def _check_recording(path: Path, keys: Keys, api_url: str, began: float) -> list[dict[str, Any]]:
    """What every recording of a run must be; returns its entries."""
    document = read_har(path)  # valid HAR 1.2
    text = path.read_text(encoding="utf-8")
    for secret in keys.all():
        assert secret not in text
    entries: list[dict[str, Any]] = document["log"]["entries"]
    assert document["log"]["creator"]["name"] == "smm-conformance-harness"
    # Every API request the panel journaled is in the file (probes off the protocol, which
    # the journal does not keep, come on top).
    assert len(entries) >= len(journal_times(api_url, keys.token)) > 10
    starts = [e["startedDateTime"] for e in entries]
    assert starts == sorted(starts)
    for entry in entries:
        assert entry["time"] >= 0
        assert entry["timings"]["wait"] == entry["time"]
        assert began - 1 <= _epoch(entry["startedDateTime"]) <= time.time() + 1
        # A key field is empty (the empty-key test) or redacted, whoever's key it was.
        assert all(v == "" or v.startswith("<redacted>") for v in _key_fields(entry)), entry
    assert any(_key_fields(e) for e in entries)
    assert any(e.get("comment", "").startswith("tests/") or "::" in e.get("comment", "")
               for e in entries)  # attributed to the test that made it
    assert {e["response"]["status"] for e in entries} >= {200}
    return entries


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_run_records_its_exchanges_as_har_without_secrets(
    pytester: pytest.Pytester, tmp_path: Path, workers: list[str]
) -> None:
    keys = Keys()
    pytester.makeini(INI)
    recording = tmp_path / "out" / "run.har"
    began = time.time()
    with serve_profile("reference", keys, Decimal("500")) as url:
        args = harness_args(url, keys, max_spend="5", controlled=True,
                            extra=["--panel-seed=7", *_CLAUSES, "-k", _NOT_GENERATED])
        result = pytester.runpytest_inprocess(*args, *workers, f"--panel-record={recording}")
        assert result.ret == pytest.ExitCode.OK, "\n".join(result.outlines[-30:])
        entries = _check_recording(recording, keys, url, began)
    if workers:  # both workers' tests are in the one file
        comments = {e.get("comment", "") for e in entries}
        assert len(comments) > 2
    assert not list(recording.parent.glob(".*.tmp"))  # written atomically, nothing left over


def test_the_option_has_env_and_ini_twins_and_refuses_a_directory(tmp_path: Path) -> None:
    def record(cli: dict[str, str], env: dict[str, str], ini: dict[str, str]) -> Path | None:
        config = build(resolve_values({"panel_url": URL, "panel_key": KEY, **cli}, env, ini),
                       default_seed=1)
        assert config is not None
        return config.record

    assert record({}, {}, {}) is None
    assert record({}, {}, {"panel_record": "ini.har"}) == Path("ini.har").absolute()
    assert record({}, {"PANEL_RECORD": "env.har"}, {"panel_record": "ini.har"}) == \
        Path("env.har").absolute()
    assert record({"panel_record": "cli.har"}, {"PANEL_RECORD": "env.har"}, {}) == \
        Path("cli.har").absolute()
    with pytest.raises(pytest.UsageError, match="PANEL_RECORD: is a directory"):
        record({}, {"PANEL_RECORD": str(tmp_path)}, {})


def _echoing_the_key() -> RecordingTransport:
    """A transport that answers every request with one body, echoing the key it was sent."""
    return RecordingTransport(scripted(json_answer({"error": f"bad key {KEY}"})))


@pytest.mark.parametrize("encoding", list(Encoding))
def test_an_entry_holds_no_key_in_any_encoding_and_has_its_timing(encoding: Encoding) -> None:
    key = Secret(KEY, "main key")
    transport = _echoing_the_key()
    client = PanelClient(URL, transport=transport, secrets=SecretBook([key]))
    before = time.time()
    exchange = client.call({"action": "balance"}, key=key, encoding=encoding)
    sent = transport.requests[0]
    assert KEY in sent.url or KEY.encode() in (sent.body or b"")  # the panel got the key...
    record = har_entry(exchange, "tests/x.py::t")
    text = json.dumps(record)
    assert KEY not in text  # ...the recording did not (not even the echo in the answer)
    assert har_problems({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                                 "entries": [record]}}) == []
    assert exchange.started_at is not None
    assert before <= exchange.started_at <= time.time()
    assert record["time"] == round(exchange.elapsed * 1000, 3)
    assert record["comment"] == "tests/x.py::t"
    request: Any = record["request"]
    if encoding is Encoding.QUERY:
        assert request["method"] == "GET"
        assert "postData" not in request
        pairs = request["queryString"]
    else:
        assert request["postData"]["mimeType"] == exchange.request.content_type
        pairs = (request["postData"].get("params")
                 or [{"name": k, "value": v}
                     for k, v in json.loads(request["postData"]["text"]).items()])
    assert {"name": "key", "value": "<redacted>:main key"} in pairs
    assert {"name": "action", "value": "balance"} in pairs


class _Refused:
    def send(self, method: str, url: str, headers: Any, body: bytes | None) -> RawResponse:
        raise TransportError(f"ConnectionRefusedError: refused {KEY}")


def test_an_exchange_without_an_answer_is_status_0_with_its_error() -> None:
    key = Secret(KEY, "main key")
    client = PanelClient(URL, transport=_Refused(), secrets=SecretBook([key]))
    record: Any = har_entry(client.call({"action": "balance"}, key=key))
    assert har_problems({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                                 "entries": [record]}}) == []
    assert record["response"]["status"] == 0
    assert record["_error"] == "ConnectionRefusedError: refused <redacted>"
    assert "comment" not in record
