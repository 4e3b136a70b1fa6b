"""What the Schemathesis hooks know of the panel (harness.interop.st_panel) and how they keep
the key on the wire only (harness.interop.st_wire): the pre-flight, the pricing of every add
under PANEL_MAX_SPEND, the orders drawn from the catalogue, the key's placement and removal."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import contract
from harness.base.errors import SpendRefused
from harness.base.redaction import REDACTED, Secret
from harness.contract.openapi import API_PATH
from harness.interop.st_panel import (
    EXAMPLES_SHARE,
    ORDER_SHARE,
    PanelSession,
    PanelUnusable,
    lenient_int,
    post_form,
    poster,
    units_at_risk,
)
from harness.interop.st_panel import settings as read_settings
from harness.interop.st_wire import (
    FILTERED,
    as_read,
    html_json,
    redact_answer,
    wire_form,
    without_key,
)
from harness.panel.catalog import Catalog
from mockpanel.pytest_plugin import MockPanelHandle

KEY = Secret("k-panel-0123456789", "PANEL_KEY")
URL = "http://panel.test/api/v2"
CATALOGUE = [
    {"service": 1, "name": "Followers", "type": "Default", "rate": "0.90", "min": "50",
     "max": "10000", "dripfeed": True},
    {"service": 6, "name": "Package", "type": "Package", "rate": "4.99", "min": "1", "max": "1"},
    {"service": 7, "name": "Comments", "type": "Custom Comments", "rate": "8", "min": "5",
     "max": "1500"},
]


def _panel(services: object = CATALOGUE, balance: object = "100.00") -> Any:
    """A fake ``post`` answering ``services`` and ``balance``; it records what it was sent."""
    sent: list[Mapping[str, str]] = []

    def post(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        sent.append(dict(form))
        answer = services if form["action"] == "services" else {"balance": balance,
                                                                  "currency": "USD"}
        return 200, json.dumps(answer).encode()

    post.sent = sent  # type: ignore[attr-defined]
    return post


def _session(cap: str = "1.00") -> PanelSession:
    return PanelSession.open(URL, KEY, Decimal(cap), post=_panel())


# ---- settings -------------------------------------------------------------------------------


def test_settings_read_the_key_and_a_cap_of_zero_by_default() -> None:
    key, cap = read_settings({"PANEL_KEY": "abc-key"})
    assert key.matches("abc-key")
    assert "abc-key" not in repr(key)
    assert cap == 0
    assert read_settings({"PANEL_KEY": "abc-key", "PANEL_MAX_SPEND": "1.50"})[1] == Decimal("1.50")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "PANEL_KEY is not set"),
        ({"PANEL_KEY": "  "}, "PANEL_KEY is not set"),
        ({"PANEL_KEY": "k", "PANEL_MAX_SPEND": "a lot"}, "PANEL_MAX_SPEND='a lot'"),
        ({"PANEL_KEY": "k", "PANEL_MAX_SPEND": "-1"}, "PANEL_MAX_SPEND='-1'"),
        ({"PANEL_KEY": "k", "PANEL_MAX_SPEND": "Infinity"}, "PANEL_MAX_SPEND='Infinity'"),
    ],
)
def test_bad_settings_stop_the_run(environ: dict[str, str], message: str) -> None:
    with pytest.raises(PanelUnusable, match=message):
        read_settings(environ)


# ---- reading a form as a panel does ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [("12", 12), ("007", 7), (" 12abc", 12), ("-5", -5), ("+3", 3), ("abc", None), ("", None),
     (None, None), (12, None)],
)
def test_lenient_int_reads_what_php_reads(value: object, number: int | None) -> None:
    assert lenient_int(value) == number


def test_units_at_risk_reads_quantity_runs_and_lines() -> None:
    catalog = Catalog.parse(CATALOGUE)
    default, _, comments = catalog.services
    assert units_at_risk(default, {"quantity": "100"}) == 100
    assert units_at_risk(default, {"quantity": "100", "runs": "3"}) == 300
    assert units_at_risk(default, {"quantity": "100", "runs": "0"}) == 100
    assert units_at_risk(default, {"quantity": "abc"}) == default.max
    assert units_at_risk(default, {}) == default.max
    assert units_at_risk(comments, {"comments": "a\n\nb\nc"}) == 3


# ---- pre-flight -----------------------------------------------------------------------------


def test_the_pre_flight_reads_the_catalogue_and_the_precision() -> None:
    post = _panel(balance="100.00000")
    session = PanelSession.open(URL, KEY, Decimal(1), post=post)
    assert [s.id for s in session.catalog.services] == ["1", "6", "7"]
    assert session.places == 5
    assert [form["action"] for form in post.sent] == ["services", "balance"]
    assert all(form["key"] == KEY.reveal() for form in post.sent)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, json.dumps({"error": "Invalid API key"}).encode(), "is PANEL_KEY this panel"),
        (401, json.dumps({"error": "Invalid API key"}).encode(), "HTTP 401"),
        (200, b"<html><body>Sign in</body></html>", "no JSON"),
        (404, b"Not Found", "is --url the panel's origin"),
        (200, b"[]", "no service"),
        (200, json.dumps([{"service": 1, "name": "no rate"}]).encode(), "no service"),
    ],
)
def test_an_unusable_panel_stops_the_run_with_the_cause(
    status: int, body: bytes, message: str
) -> None:
    def post(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        return status, body

    with pytest.raises(PanelUnusable, match=message):
        PanelSession.open(URL, KEY, Decimal(0), post=post)


def test_a_key_the_panel_echoes_is_redacted_in_the_cause() -> None:
    def post(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        return 200, json.dumps({"error": f"Invalid API key {form['key']}"}).encode()

    with pytest.raises(PanelUnusable) as raised:
        PanelSession.open(URL, KEY, Decimal(0), post=post)
    assert KEY.reveal() not in str(raised.value)
    assert REDACTED in str(raised.value)


def test_an_unreachable_panel_stops_the_run() -> None:
    def post(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        raise ConnectionRefusedError("Connection refused")

    with pytest.raises(PanelUnusable, match="could not be sent: Connection refused"):
        PanelSession.open(URL, KEY, Decimal(0), post=post)


def test_the_balance_must_be_readable() -> None:
    with pytest.raises(PanelUnusable, match="no balance"):
        PanelSession.open(URL, KEY, Decimal(0), post=_panel(balance="lots"))


def test_post_form_reads_the_mock(mock_panel: MockPanelHandle) -> None:
    session = PanelSession.open(mock_panel.url, Secret(mock_panel.key, "PANEL_KEY"), Decimal(0),
                                post=post_form)
    assert session.catalog.services
    assert session.url == mock_panel.base_url + API_PATH


# ---- the cap --------------------------------------------------------------------------------


def test_with_a_cap_of_zero_no_add_naming_a_real_service_is_allowed() -> None:
    session = _session("0")
    with pytest.raises(SpendRefused):
        session.reserve({"service": "1", "quantity": "50"})
    with pytest.raises(SpendRefused):
        session.reserve({"service": "1abc"})  # a lenient panel reads service 1
    assert session.orders() is None
    assert session.order_examples() == []


def test_an_add_naming_no_catalogue_service_costs_nothing() -> None:
    session = _session("0")
    assert session.reserve({"service": "999"}) is None
    assert session.reserve({"service": "abc"}) is None
    assert session.reserve({}) is None
    assert session.neutral_service() not in {s.id for s in session.catalog.services}


def test_reservations_hold_the_worst_case_until_refused() -> None:
    session = _session("0.10")
    first = session.reserve({"service": "1", "quantity": "100"})  # 0.90 x 100 / 1000
    assert first is not None
    assert first.amount == Decimal("0.09")
    with pytest.raises(SpendRefused):
        session.reserve({"service": "1", "quantity": "100"})
    session.settle(first, refused=True)  # it took nothing
    second = session.reserve({"service": "1", "quantity": "100"})
    assert second is not None
    session.settle(second, refused=None)  # a 5xx: nobody knows, the worst case stays
    with pytest.raises(SpendRefused):
        session.reserve({"service": "1", "quantity": "100"})
    assert session.orders_accepted == 0


def test_accepted_orders_stay_reserved_and_are_counted() -> None:
    session = _session("0.10")
    first = session.reserve({"service": "1", "quantity": "100"})
    assert first is not None
    session.settle(first, refused=False)
    with pytest.raises(SpendRefused):
        session.reserve({"service": "1", "quantity": "100"})
    assert session.orders_accepted == 1


def test_the_summary_measures_the_spend_from_the_balance() -> None:
    session = _session("1.00")
    session.orders_accepted = 2
    assert session.summary(post=_panel(balance="99.91")) == (
        "2 order(s) accepted, spent 0.09 (balance 100.00 -> 99.91), cap 1.00")

    def down(url: str, form: Mapping[str, str]) -> tuple[int, bytes]:
        raise ConnectionResetError("reset")

    session.neutral_service()
    assert session.summary(post=down) == (
        "2 order(s) accepted, spent unknown (the closing balance could not be read), cap 1.00; "
        "1 add(s) over the cap sent naming an unknown service")


def test_a_flat_service_costs_its_rate_whatever_the_quantity() -> None:
    session = _session("4.99")
    reservation = session.reserve({"service": "6", "quantity": "99999"})
    assert reservation is not None
    assert reservation.amount == Decimal("4.99")


def test_drip_feed_multiplies_the_worst_case() -> None:
    session = _session("100")
    reservation = session.reserve({"service": "1", "quantity": "100", "runs": "4"})
    assert reservation is not None
    assert reservation.amount == Decimal("0.36")


# ---- orders from the catalogue --------------------------------------------------------------


def test_order_examples_are_valid_orders_of_each_affordable_type() -> None:
    session = _session("100")
    examples = session.order_examples()
    by_id = {s.id: s for s in session.catalog.services}
    assert {by_id[form["service"]].type for form in examples} == {
        "Default", "Package", "Custom Comments"}
    for form in examples:
        assert contract.validate("add", "request", {"key": "k", **form}) == []
        assert session.reserve(form) is not None  # together they fit under the cap
    assert session.guard.committed <= Decimal(100) * EXAMPLES_SHARE


@pytest.mark.parametrize(
    ("cap", "services"),
    [
        # Half of 0.10 is 0.05: 5 comments (0.04) first; 50 followers (0.045) no longer fit.
        ("0.10", ["7"]),
        # Half of 0.20 is 0.10: both (0.085), not the 4.99 package.
        ("0.20", ["7", "1"]),
        ("0.05", []),
    ],
)
def test_a_small_cap_keeps_the_cheapest_examples_that_fit_together(
    cap: str, services: list[str]
) -> None:
    session = _session(cap)
    assert [form["service"] for form in session.order_examples()] == services


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_drawn_orders_are_valid_and_fit_their_share(data: st.DataObject) -> None:
    session = _session("2.00")
    drawn = session.orders()
    assert drawn is not None
    form = data.draw(drawn)
    assert contract.validate("add", "request", {"key": "k", **form}) == []
    service = session.service(form)
    assert service is not None
    reservation = session.reserve(form)
    assert reservation is not None
    assert reservation.amount <= Decimal("2.00") * ORDER_SHARE


# ---- the key on the wire --------------------------------------------------------------------


def test_the_wire_form_carries_the_real_key_in_place_of_a_generated_one() -> None:
    body = {"key": "generated", "action": "balance"}
    form = wire_form(body, KEY)
    assert form == {"key": KEY.reveal(), "action": "balance"}
    assert body["key"] == "generated"  # the case itself never holds the key


@pytest.mark.parametrize("body", [{"action": "balance"}, {"key": "", "action": "balance"},
                                  {"key": None, "action": "balance"}])
def test_a_key_generated_missing_or_empty_stays_so(body: dict[str, Any]) -> None:
    # AUTH-001 / AUTH-003 being tested: the panel must refuse it.
    assert wire_form(body, KEY) == body


def test_as_read_encodes_like_the_http_client() -> None:
    read = as_read(URL, {"action": "add", "service": 12, "quantity": ["5", "7"], "none": None})
    assert read == {"action": "add", "service": "12", "quantity": "7"}


def test_the_recorded_request_shows_the_key_filtered() -> None:
    sent = f"key={KEY.reveal()}&action=add&link=https%3A%2F%2Fexample.test%2Fp"
    recorded = without_key(sent, KEY)
    assert isinstance(recorded, str)
    assert KEY.reveal() not in recorded
    assert "key=%5BFiltered%5D" in recorded
    assert "link=https%3A%2F%2Fexample.test%2Fp" in recorded
    assert without_key(sent.encode(), KEY) == recorded.encode()
    assert FILTERED == "[Filtered]"


def test_a_body_without_the_key_is_recorded_as_sent() -> None:
    other = "key=someone-else&action=balance"
    assert without_key(other, KEY) == other
    assert without_key("not a form ===", KEY) == "not a form ==="


def test_an_echoed_key_is_redacted_in_the_answer() -> None:
    echoed = json.dumps({"error": f"key {KEY.reveal()} is suspended"}).encode()
    assert KEY.reveal().encode() not in redact_answer(echoed, KEY)
    plain = json.dumps({"error": "Invalid API key"}).encode()
    assert redact_answer(plain, KEY) is plain


def test_json_labelled_text_html_is_read_as_json() -> None:
    assert html_json(b'\xef\xbb\xbf{"balance": "1.00"}') == {"balance": "1.00"}
    with pytest.raises(ValueError, match="Expecting value"):
        html_json(b"<html>Login</html>")


# ---- TLS: Schemathesis' --tls-verify reaches the pre-flight ---------------------------------


class _Balance(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"balance": "1.00", "currency": "USD"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def self_signed_panel(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS panel with a self-signed certificate for 127.0.0.1, and the certificate."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Balance)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/api/v2", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_pre_flight_follows_tls_verify(self_signed_panel: tuple[str, Path]) -> None:
    url, cert = self_signed_panel
    form = {"key": "k", "action": "balance"}
    with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
        poster(True)(url, form)
    assert poster(False)(url, form)[0] == 200  # --tls-verify false
    assert poster(str(cert))(url, form)[0] == 200  # --tls-verify <CA bundle>
