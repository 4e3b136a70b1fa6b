"""report.html renders clause texts as formatted text (Markdown, raw HTML off, no image, no
script link) and fits a 1280-px window: long reasons, test ids and evidence wrap or scroll inside
their own cell, never widening the page."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness import contract
from harness.base.redaction import Secret
from harness.judging.verdicts import Verdict
from harness.reporting.certificate import build_certificate
from harness.reporting.writers import markdown_html, render_html
from harness.run.config import PanelConfig
from harness.run.session import HarnessRun
from tests.fixtures.transports import RecordingTransport

LONG_ID = ("test_13_properties.py::test_valid_requests_of_every_action_get_contract_answers["
           + "x" * 180 + "]")


def failing_record() -> dict[str, Any]:
    """A failed run whose reasons, tests and evidence hold long unbreakable tokens."""
    run = HarnessRun(PanelConfig(url="https://panel.example/api/v2/" + "p" * 150,
                                 key=Secret("html-key-00001", "main key"),
                                 max_spend=Decimal("0.50")), transport=RecordingTransport())
    run.book.record("BAL-001", Verdict.FAIL, test=LONG_ID,
                    message="expected a success answer, got HTTP 429 " + "a" * 400,
                    exchanges=["#12 POST key=<redacted>:main key&action=balance&" + "z" * 500
                               + "\n-> HTTP 429 application/json {" + "y" * 700 + "}"])
    for clause in ("ADD-003", "ADD-004", "CANCEL-001", "ISO-001"):
        run.book.record_blocked(clause, by="BAL-001", test=LONG_ID, detail=LONG_ID)
    run.book.record("GEN-001", Verdict.PASS, test="t.py::test_post")
    return build_certificate(run, exit_status=1, tests={"BAL-001": [LONG_ID] * 3})


# ---------------------------------------------------------------------------------------------
# clause texts as Markdown


def test_backticks_become_code_and_markup_stays_text() -> None:
    assert markdown_html("`action=balance` with a valid key answers `balance`") == (
        "<p><code>action=balance</code> with a valid key answers <code>balance</code></p>")
    # Raw HTML is shown, never passed through: a clause text cannot inject markup.
    hostile = markdown_html('see <script>alert("x")</script> and <img src=x onerror=y>')
    assert "<script>" not in hostile
    assert "<img" not in hostile
    assert "&lt;script&gt;" in hostile
    assert "<img" not in markdown_html("![logo](http://evil.test/x.png)")  # images are off
    assert "href" not in markdown_html("[click](javascript:alert(1))")  # left as text
    # Wire syntax outside backticks stays literal: <id> is text, and rate * n * q no emphasis.
    assert markdown_html("`status&order=<id>` and rate * n * q / 1000") == (
        "<p><code>status&amp;order=&lt;id&gt;</code> and rate * n * q / 1000</p>")


def test_every_clause_text_is_rendered_without_a_stray_backtick() -> None:
    page = render_html(failing_record())
    texts = re.findall(r'<div class="text">(.*?)</div>', page, re.S)
    assert len(texts) == len(contract.clauses())
    assert sum(text.count("`") for text in texts) == 0
    with_code = sum("`" in c.text for c in contract.clauses().values())
    assert with_code > 50  # the contract does use backticks: they must all be rendered
    assert sum("<code>" in text for text in texts) == with_code
    assert "<script" not in page


# ---------------------------------------------------------------------------------------------
# narrow windows


def css_rules(page: str) -> dict[str, dict[str, str]]:
    """The page's inline style sheet as selector -> property -> value."""
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", style.group(1)):
        declarations = dict(
            (part.split(":", 1)[0].strip(), part.split(":", 1)[1].strip())
            for part in body.split(";") if ":" in part)
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


def test_the_style_sheet_keeps_long_values_inside_their_cells() -> None:
    page = render_html(failing_record())
    rules = css_rules(page)
    assert rules["table.clauses"]["table-layout"] == "fixed"
    assert rules["table.meta"]["table-layout"] == "fixed"
    assert rules["table.clauses td"]["overflow-wrap"] == "anywhere"
    assert rules["td"]["overflow-wrap"] == "break-word"
    assert rules["pre"]["white-space"] == "pre-wrap"
    assert rules[".scroll"]["overflow-x"] == "auto"
    assert rules["body"]["max-width"] == "75em"
    # Only short cells (an id, a verdict) may refuse to wrap.
    nowrap = {sel for sel, decl in rules.items() if decl.get("white-space") == "nowrap"}
    assert nowrap == {"td.id", "td.v", "td.cid:first-child"}
    # Every table sits in a box that scrolls rather than widen the page.
    assert page.count("<table") - page.count('<table class="meta">') == \
        page.count('<div class="scroll"><table') + page.count('<div class="scroll">\n<table')


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs a headless chromium")
def test_a_failing_report_fits_a_1280_px_window_in_chromium(tmp_path: Path) -> None:
    page = render_html(failing_record()).replace("<details>", "<details open>")
    # The page forbids scripts (its CSP); the copy measured here drops that one line only.
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    probe = probe.replace("</body>", "<script>document.title = 'W=' + "
                          "document.documentElement.scrollWidth;</script></body>")
    path = tmp_path / "report.html"
    path.write_text(probe, encoding="utf-8")
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
         "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    title = re.search(r"<title>W=(\d+)</title>", done.stdout)
    assert title is not None, done.stderr[-2000:]
    assert int(title.group(1)) <= 1280
