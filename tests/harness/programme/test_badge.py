"""The badge (harness/reporting/badge.py) and its command (harness/programme/badge_command.py):
valid SVG whose text says certified (green), certified on a partial scope (yellow) or not
certified (red), the MUST failures and the run's date; hostile text stays text; bad input is
one line on stderr."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.programme import badge_command
from harness.reporting.badge import Badge, badge_of, render_badge
from tests.harness.programme.reports import FAIL, PASS, record, write_report

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def fills(root: ET.Element) -> list[str]:
    return [rect.get("fill", "") for rect in root.iter(f"{SVG}rect")]


def passing() -> dict[str, Any]:
    return record({"GEN-001": PASS, "ADD-001": PASS})


def test_a_full_certificate_is_a_green_certified_badge_with_its_date() -> None:
    data = passing()
    data["scope"]["full"] = True  # every MUST clause checked
    badge = badge_of(data)
    assert badge.message == f"certified · 0 MUST failures · {data['run']['started_at'][:10]}"
    root = parse(render_badge(badge))
    assert root.tag == f"{SVG}svg"
    assert texts(root) == ["SMM API v2", "SMM API v2", badge.message, badge.message]
    assert "#4c1" in fills(root)
    assert root.get("aria-label") == f"SMM API v2: {badge.message}"
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == badge.text


def test_a_partial_certificate_never_reads_as_a_full_one() -> None:
    data = passing()
    assert data["certified"] is True
    assert data["scope"]["full"] is False  # most MUST clauses were not checked in this record
    badge = badge_of(data)
    assert badge.message.startswith("certified, partial scope · 0 MUST failures · ")
    assert "#dfb317" in fills(parse(render_badge(badge)))


def test_must_failures_make_a_red_not_certified_badge_that_counts_them() -> None:
    data = record({"GEN-001": FAIL, "ADD-001": FAIL, "GEN-003": FAIL})  # GEN-003 is a SHOULD
    badge = badge_of(data)
    assert badge.message.startswith("not certified · 2 MUST failures · ")
    assert badge_of(record({"GEN-001": FAIL})).message.startswith(
        "not certified · 1 MUST failure · ")
    root = parse(render_badge(badge))
    assert "#e05d44" in fills(root)
    assert "#4c1" not in fills(root)


def test_a_waived_failure_is_not_counted_and_does_not_uncertify() -> None:
    badge = badge_of(record({"ADD-001": FAIL}, waived=["ADD-001"]))
    assert badge.message.startswith("certified, partial scope · 0 MUST failures")


def test_hostile_text_stays_text_and_the_svg_stays_valid_xml() -> None:
    data = passing()
    data["run"]["started_at"] = "<script>alert(1)</script>"
    badge = badge_of(data, label='</text><script>alert("x")</script>&\x01\x1b')
    assert badge.message.endswith("· date unknown")
    svg = render_badge(badge)
    root = parse(svg)
    assert list(root.iter(f"{SVG}script")) == []
    assert texts(root)[0] == '</text><script>alert("x")</script>&'  # controls dropped
    assert "&lt;/text&gt;&lt;script&gt;" in svg


def test_the_boxes_grow_with_their_text_and_hold_it() -> None:
    short = parse(render_badge(Badge("API", "certified", "#4c1")))
    long = parse(render_badge(Badge("API", "not certified · 12 MUST failures · 2026-01-01",
                                    "#e05d44")))
    assert int(long.get("width", "0")) > int(short.get("width", "0")) + 150
    for root in (short, long):
        rects = list(root.iter(f"{SVG}rect"))[1:3]  # the label box, the message box
        label_box, message_box = (float(r.get("width", "0")) for r in rects)
        label, _, message, _ = (node for node in root.iter(f"{SVG}text"))
        # Each text is drawn at a fixed length that fits inside its box, whatever the font.
        assert 0 < float(label.get("textLength", "0")) < label_box
        assert 0 < float(message.get("textLength", "0")) < message_box
        assert label_box + message_box == float(root.get("width", "0"))


# ---------------------------------------------------------------------------------------------
# the command


def run_command(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="smm-conformance")
    badge_command.register(parser.add_subparsers(required=True))
    args = parser.parse_args(["badge", *argv])
    result: int = args.func(args)
    return result


def test_the_command_writes_the_badge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = write_report(tmp_path / "smmhub", record({"GEN-001": FAIL}))
    out = tmp_path / "site" / "badge.svg"
    assert run_command(str(report), "-o", str(out), "--label", "Acme panel") == 0
    root = parse(out.read_text(encoding="utf-8"))
    assert texts(root)[0] == "Acme panel"
    assert texts(root)[2].startswith("not certified · 1 MUST failure · ")
    assert capsys.readouterr().out.startswith(f"badge written to {out}: Acme panel: not cert")


@pytest.mark.parametrize(("content", "expected"), [
    (None, "no such report"),
    ("\xff\xfe", "not JSON"),
    (json.dumps({"format": "smm-conformance-report/1"}), "smm-conformance-report/1"),
    (json.dumps({"format": "smm-conformance-report/2", "certified": True}), "not a valid"),
])
def test_bad_input_is_one_line_on_stderr_and_no_badge(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        expected: str) -> None:
    bad = tmp_path / "report.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    out = tmp_path / "badge.svg"
    assert run_command(str(bad), "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("smm-conformance badge: ")
    assert err.count("\n") == 1
    assert expected in err
    assert "Traceback" not in err
    assert not out.exists()


def test_the_command_refuses_an_empty_label_and_overwriting_its_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = write_report(tmp_path / "p", passing())
    assert run_command(str(report), "--label", "  ", "-o", str(tmp_path / "b.svg")) == 2
    assert "--label must be" in capsys.readouterr().err
    assert run_command(str(report), "-o", str(report / "report.json")) == 2
    assert "is the report read" in capsys.readouterr().err
    assert json.loads((report / "report.json").read_text(encoding="utf-8"))["format"]
