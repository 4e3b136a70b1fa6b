"""smmhar: entries and logs that HAR 1.2 readers accept, written all at once."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from smmhar import Body, entry, har_log, started_date_time, write_atomic
from tests.smmhar.schema import har_problems

FORM = "application/x-www-form-urlencoded"


def _form_entry(**changes: Any) -> dict[str, object]:
    values: dict[str, Any] = {
        "started": 1_714_557_600.25,
        "seconds": 0.0125,
        "method": "POST",
        "url": "http://127.0.0.1:8080/api/v2?debug=1&x=",
        "request_headers": [("Content-Type", FORM)],
        "request_body": Body(FORM, "key=%5Bredacted%5D&action=balance"),
        "status": 200,
        "response_headers": [("Content-Type", "application/json")],
        "response_body": Body("application/json", '{"balance": "1.00"}'),
    }
    values.update(changes)
    return entry(**values)


def test_a_form_exchange_is_valid_har_with_its_parameters_and_timing() -> None:
    record = _form_entry()
    document = har_log([record], creator="test", version="1")
    assert har_problems(document) == []
    log: Any = document["log"]
    assert log["version"] == "1.2"
    assert log["creator"] == {"name": "test", "version": "1"}
    request, response = log["entries"][0]["request"], log["entries"][0]["response"]
    assert request["postData"]["params"] == [{"name": "key", "value": "[redacted]"},
                                             {"name": "action", "value": "balance"}]
    assert request["postData"]["text"] == "key=%5Bredacted%5D&action=balance"
    assert request["queryString"] == [{"name": "debug", "value": "1"}, {"name": "x", "value": ""}]
    assert request["bodySize"] == len("key=%5Bredacted%5D&action=balance")
    assert response["statusText"] == "OK"
    assert response["content"] == {"size": 19, "mimeType": "application/json",
                                   "text": '{"balance": "1.00"}'}
    # HAR's time is the sum of the phases; the whole wait is what a client can measure.
    timings = log["entries"][0]["timings"]
    total = timings["send"] + timings["wait"] + timings["receive"]
    assert log["entries"][0]["time"] == 12.5 == total
    assert log["entries"][0]["startedDateTime"] == "2024-05-01T10:00:00.250+00:00"


def test_a_json_body_has_text_and_no_form_params() -> None:
    record = _form_entry(request_body=Body("application/json", '{"action":"balance"}'))
    assert har_problems(har_log([record], creator="t", version="1")) == []
    post: Any = record["request"]
    assert post["postData"] == {"mimeType": "application/json", "text": '{"action":"balance"}'}


def test_a_get_without_body_and_an_unanswered_request_are_valid() -> None:
    record = _form_entry(method="GET", request_body=None, status=0, response_headers=[],
                         response_body=Body("", ""), extra={"_error": "refused"})
    assert har_problems(har_log([record], creator="t", version="1")) == []
    request: Any = record["request"]
    response: Any = record["response"]
    assert "postData" not in request
    assert request["bodySize"] == 0
    assert (response["status"], response["statusText"], response["bodySize"]) == (0, "", -1)
    assert record["_error"] == "refused"


def test_custom_fields_must_start_with_an_underscore_and_time_cannot_run_backwards() -> None:
    with pytest.raises(ValueError, match="must start with '_'"):
        _form_entry(extra={"retries": 1})
    with pytest.raises(ValueError, match="negative"):
        _form_entry(seconds=-0.001)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("log", "creator"), {"name": "only a name"}),  # creator.version is required
        (("log", "entries", 0, "timings"), {"send": 0, "receive": 0}),  # no wait
        (("log", "entries", 0, "response", "content"), {"size": 1}),  # no mimeType
        (("log", "entries", 0, "startedDateTime"), "yesterday"),
        (("log", "entries", 0, "retries"), 1),  # a custom field without its underscore
        (("log", "version"), "1.1"),
    ],
)
def test_the_schema_catches_a_broken_log(path: tuple[object, ...], value: object) -> None:
    """The schema is a real check: each of these breaks one rule of the spec."""
    document: Any = copy.deepcopy(har_log([_form_entry()], creator="t", version="1"))
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert har_problems(document) != []


def test_started_date_time_is_iso_8601_with_the_zone() -> None:
    assert started_date_time(0) == "1970-01-01T00:00:00.000+00:00"


def test_write_atomic_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "deeper" / "run.har"
    write_atomic(target, har_log([], creator="t", version="1"))
    write_atomic(target, har_log([_form_entry()], creator="t", version="2"))
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["log"]["creator"]["version"] == "2"
    assert len(written["log"]["entries"]) == 1
    assert os.listdir(target.parent) == ["run.har"]  # no temporary file left behind


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_debris(tmp_path: Path) -> None:
    target = tmp_path / "run.har"
    write_atomic(target, har_log([], creator="t", version="1"))
    before = target.read_bytes()
    with pytest.raises(TypeError):  # a mapping key JSON cannot hold: fails half-way through
        write_atomic(target, {"log": {"entries": [{(1, 2): "x"}]}})
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.har"]
