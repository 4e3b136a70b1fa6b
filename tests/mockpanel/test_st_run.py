"""``st run`` with the shipped configuration, as README shows it: the real Schemathesis CLI in a
subprocess, the generated OpenAPI document, ``harness/schemathesis.toml`` and its hooks, against
``mockpanel serve`` in a subprocess (or a deliberately broken panel).

A run against the mock must find nothing (no false positive: the protocol's errors-as-HTTP-200
are refusals, and nothing beyond the contract is demanded) and must really test: keyless
requests refused, real orders placed within the spend cap and their answers checked. A panel
that accepts what a MUST clause says it must refuse must fail the run. The key never appears
in what ``st`` prints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import pytest

from harness.base.redaction import Secret
from harness.contract.openapi import build_openapi
from harness.interop.st_panel import PanelSession, post_form
from tests.fixtures.served import served

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "harness" / "schemathesis.toml"
ST = Path(sys.executable).with_name("st")
KEY = "st-run-key-5c81e0a7d2"
TOKEN = "st-run-control-token"
CAP = Decimal("0.50")
# Safety net only (never asserted on): a wedged run must not hang the suite.
RUN_LIMIT = 300


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(build_openapi()), encoding="utf-8")
    return path


def _st(document: Path, url: str, cwd: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """``st --config-file harness/schemathesis.toml run openapi.json --url URL`` as a user runs
    it (from another folder, so nothing lands in the repository), with only ``environ`` set of
    the PANEL_* variables."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PANEL_")}
    env.update(environ)
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [str(ST), "--config-file", str(CONFIG), "run", str(document), "--url", url],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_LIMIT, check=False,
    )


def _control(base_url: str, path: str) -> Any:
    request = urllib.request.Request(f"{base_url}/_mock{path}",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _balance(url: str) -> Decimal:
    _, body = post_form(url, {"key": KEY, "action": "balance"})
    return Decimal(json.loads(body)["balance"])


def _accepted(entry: dict[str, Any]) -> bool:
    answer = entry["response"]
    return 200 <= entry["status"] < 300 and not (isinstance(answer, dict) and "error" in answer)


def _printed(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def _failures(done: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    """The summary's failure lines: (failure, count)."""
    summary = done.stdout.partition("SUMMARY")[2]
    return re.findall(r"^  ❌ (ST\d+ .+): (\d+)$", summary, re.MULTILINE)


@pytest.mark.parametrize(
    "profile",
    [
        pytest.param("reference", id="errors as HTTP 200"),
        pytest.param("laravel", id="errors as 4xx, orders as 201"),
        pytest.param("smartpanel", id="JSON labelled text/html"),
    ],
)
def test_st_run_finds_nothing_on_the_mock_and_places_real_orders(
    document: Path, tmp_path: Path, profile: str
) -> None:
    with served("--profile", profile, "--key", f"{KEY}=100.00", "--control-token",
                TOKEN) as server:
        before = _balance(server.url)
        # What the examples phase must order: the simplest affordable order of each type.
        expected = PanelSession.open(server.url, Secret(KEY, "PANEL_KEY"), CAP).order_examples()
        started = time.monotonic()
        done = _st(document, server.base_url, tmp_path, PANEL_KEY=KEY, PANEL_MAX_SPEND=str(CAP))
        elapsed = time.monotonic() - started
        after = _balance(server.url)
        journal = _control(server.base_url, "/journal")["exchanges"]

    printed = _printed(done)
    assert done.returncode == 0, printed[-4000:]
    assert _failures(done) == []
    assert re.search(r"^  (\d+) generated, \1 passed$", done.stdout, re.MULTILINE), done.stdout
    assert KEY not in printed
    assert not (tmp_path / ".schemathesis").exists()  # the shipped config keeps no cache
    adds = [entry for entry in journal if entry["action"] == "add"]
    ordered = {entry["params"]["service"] for entry in adds if _accepted(entry)}
    assert len(expected) >= 5
    assert {form["service"] for form in expected} <= ordered, "a service type was not ordered"
    assert Decimal(0) < before - after <= CAP
    assert f"order(s) accepted, spent {before - after} (balance {before} -> {after})" in (
        done.stderr)
    keyless = [entry for entry in journal if "key" not in entry["params"]]
    assert keyless, "no request without a key was sent"
    assert not any(_accepted(entry) for entry in keyless)
    assert {entry["action"] for entry in journal} >= {
        "services", "add", "status", "cancel", "refill", "refill_status", "balance"}
    print(f"st run ({profile}): {len(journal)} requests, {len(adds)} adds, "
          f"{len(ordered)} services ordered, spent {before - after}, {elapsed:.1f} s")


def test_st_run_without_a_spend_cap_spends_nothing(document: Path, tmp_path: Path) -> None:
    with served("--key", f"{KEY}=100.00", "--control-token", TOKEN) as server:
        before = _balance(server.url)
        done = _st(document, server.base_url, tmp_path, PANEL_KEY=KEY)
        after = _balance(server.url)
        journal = _control(server.base_url, "/journal")["exchanges"]
    assert done.returncode == 0, _printed(done)[-4000:]
    assert after == before
    assert "0 order(s) accepted, spent 0" in done.stderr
    adds = [entry for entry in journal if entry["action"] == "add"]
    assert adds, "no add was sent at all"
    assert not any(_accepted(entry) for entry in adds)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "PANEL_KEY is not set"),
        ({"PANEL_KEY": "not-the-key-0000"}, "is PANEL_KEY this panel's API key?"),
    ],
)
def test_st_run_stops_before_testing_without_a_usable_key(
    document: Path, tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with served("--key", f"{KEY}=100.00", "--control-token", TOKEN) as server:
        done = _st(document, server.base_url, tmp_path, **environ)
        journal = _control(server.base_url, "/journal")["exchanges"]
    printed = _printed(done)
    assert done.returncode != 0
    assert message in printed
    assert "Test cases" not in printed
    assert len(journal) <= 1  # the pre-flight's services request at most
    assert KEY not in printed


# ---- a panel that accepts what it must refuse -----------------------------------------------


class _KeylessPanel(BaseHTTPRequestHandler):
    """A panel that never checks the key: services and balance answer anyone (AUTH-001)."""

    catalogue: ClassVar[list[dict[str, object]]] = [
        {"service": 1, "name": "Followers", "type": "Default", "category": "Instagram",
         "rate": "0.90", "min": "50", "max": "10000"}]

    content_type = "application/json"

    def answer(self, form: dict[str, str]) -> object:
        action = form.get("action")
        if action == "services":
            return self.catalogue
        if action == "balance":
            return {"balance": "10.00", "currency": "USD"}
        return {"error": "Incorrect request"}

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8", "replace"),
                              keep_blank_values=True))
        body = json.dumps(self.answer(form)).encode()
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the test reads st's output, not the server's


class _HtmlPanel(_KeylessPanel):
    """A PHP-style panel: JSON under text/html, the key checked, a balance whose currency is a
    number (the balance schema wants a currency code)."""

    content_type = "text/html; charset=UTF-8"

    def answer(self, form: dict[str, str]) -> object:
        if form.get("key") != KEY:
            return {"error": "Invalid API key"}
        if form.get("action") == "balance":
            return {"balance": "10.00", "currency": 5}
        return super().answer(form)


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def keyless_panel() -> Iterator[str]:
    yield from _serve(_KeylessPanel)


@pytest.fixture
def html_panel() -> Iterator[str]:
    yield from _serve(_HtmlPanel)


def test_st_run_fails_a_panel_that_answers_without_a_key(
    document: Path, tmp_path: Path, keyless_panel: str
) -> None:
    done = _st(document, keyless_panel, tmp_path, PANEL_KEY=KEY)
    printed = _printed(done)
    assert done.returncode == 1, printed[-4000:]
    assert "Custom check failed: `smm_refusal`" in done.stdout
    assert "AUTH-001" in done.stdout
    # Its answers are well-formed: the one defect is reported once, by the refusal check.
    assert _failures(done) == [("ST901 Custom check failed: `smm_refusal`", "2")]
    assert KEY not in printed


def test_st_run_checks_json_labelled_text_html_against_the_schemas(
    document: Path, tmp_path: Path, html_panel: str
) -> None:
    done = _st(document, html_panel, tmp_path, PANEL_KEY=KEY)
    printed = _printed(done)
    assert done.returncode == 1, printed[-4000:]
    # The label is accepted (GEN-003 is a SHOULD); the body is read as JSON and checked.
    assert "Undocumented Content-Type" not in done.stdout
    assert _failures(done) == [("ST108 Response violates schema", "1")]
    assert '{"balance":"10.00","currency":5}' in done.stdout
    assert KEY not in printed
