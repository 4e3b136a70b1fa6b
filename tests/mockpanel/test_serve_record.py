"""``mockpanel serve --record FILE``: what clients sent and what the mock answered, as HAR 1.2.

Run as a user runs it (``python -m mockpanel serve``): requests in every encoding, a wrong key,
a wrong path and a control API call; the file is readable while the server runs (rewritten
within a second), after a clean stop, and after ``kill -9``; no key or token is ever in it.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mockpanel import cli
from mockpanel.config import MockConfig
from tests.fixtures.plain_http import Answer, exchange, form_request
from tests.fixtures.served import Served
from tests.smmhar.schema import read_har

KEY = "rec-key-4f7a9c2e"
WRONG = "wrong-key-8d1b3a6f"
TOKEN = "rec-token-51c0e9d7"
# A safety net only: the file is rewritten within a second of a request.
_FLUSH_LIMIT = 20.0


def _start(tmp_path: Path) -> tuple[Served, Path]:
    recording = tmp_path / "traffic.har"
    server = Served(("--key", f"{KEY}=10", "--control-token", TOKEN,
                     "--record", str(recording)))
    server.wait_ready()
    assert f"recording:   {recording}" in server.stdout
    return server, recording


def _traffic(server: Served) -> list[tuple[str, int]]:
    """Requests a client might send; the method and status of each, in order."""
    url = server.url
    sent: list[Answer] = [
        exchange(form_request(url, key=KEY, action="balance")),
        exchange(form_request(url, key=WRONG, action="balance")),
        exchange(urllib.request.Request(
            url, data=json.dumps({"key": KEY, "action": "services"}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")),
        exchange(urllib.request.Request(
            url + "?" + urllib.parse.urlencode({"key": KEY, "action": "balance"}))),
        exchange(form_request(server.base_url + "/api/v3", key=KEY, action="balance")),
    ]
    # The control API is the test's setup, not the client's traffic: never recorded.
    control = urllib.request.Request(server.base_url + "/_mock/state",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    assert exchange(control).status == 200
    return [("POST", sent[0].status), ("POST", sent[1].status), ("POST", sent[2].status),
            ("GET", sent[3].status), ("POST", sent[4].status)]


def _entries_when(path: Path, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + _FLUSH_LIMIT
    while True:
        entries: list[dict[str, Any]] = read_har(path)["log"]["entries"]
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


def _no_secrets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for secret in (KEY, WRONG, TOKEN):
        assert secret not in text


def test_the_recording_holds_every_request_and_answer_without_keys(tmp_path: Path) -> None:
    server, recording = _start(tmp_path)
    try:
        assert read_har(recording)["log"]["entries"] == []  # readable from the start
        seen = _traffic(server)
        running = _entries_when(recording, len(seen))  # flushed while serving
        assert len(running) == len(seen)
    finally:
        assert server.stop(signal.SIGTERM) == 0
    document = read_har(recording)
    entries = document["log"]["entries"]
    assert document["log"]["creator"]["name"] == "mockpanel"
    assert [(e["request"]["method"], e["response"]["status"]) for e in entries] == seen
    assert seen[0][1] == 200
    assert seen[4][1] == 404
    _no_secrets(recording)
    form, wrong, as_json, query, _ = entries
    assert {"name": "key", "value": "[redacted]"} in form["request"]["postData"]["params"]
    assert {"name": "action", "value": "balance"} in form["request"]["postData"]["params"]
    assert {"name": "key", "value": "[redacted]"} in wrong["request"]["postData"]["params"]
    # The wrong key was refused (in the profile's status), and the refusal recorded.
    assert "error" in json.loads(wrong["response"]["content"]["text"])
    assert json.loads(as_json["request"]["postData"]["text"]) == {
        "key": "[redacted]", "action": "services"}
    assert {"name": "key", "value": "[redacted]"} in query["request"]["queryString"]
    assert "[redacted]" in query["request"]["url"]
    # What the mock answered, as it answered it, with the time it took.
    balance = json.loads(form["response"]["content"]["text"])
    assert "balance" in balance
    assert form["response"]["content"]["mimeType"].startswith("application/json")
    for entry in entries:
        assert entry["time"] >= 0
        assert entry["timings"]["wait"] == entry["time"]
        assert entry["request"]["url"].startswith(server.base_url)


def test_a_killed_server_leaves_a_readable_recording(tmp_path: Path) -> None:
    server, recording = _start(tmp_path)
    try:
        status = exchange(form_request(server.url, key=KEY, action="balance")).status
        entries = _entries_when(recording, 1)
    finally:
        server.stop(signal.SIGKILL)
    assert [e["response"]["status"] for e in entries] == [status]
    assert [e["response"]["status"] for e in read_har(recording)["log"]["entries"]] == [status]
    _no_secrets(recording)


def test_an_unwritable_recording_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = cli.main(["serve", "--port", "0", "--key", f"{KEY}=1",
                     "--record", str(blocker / "traffic.har")])
    assert code == 1
    err = capsys.readouterr().err
    assert f"cannot write --record {blocker / 'traffic.har'}" in err
    assert "Traceback" not in err
    assert KEY not in err


def test_the_config_refuses_an_empty_path() -> None:
    with pytest.raises(ValueError, match="record must be a non-empty file path"):
        MockConfig(record=" ")
    assert MockConfig(record="t.har").record == "t.har"
