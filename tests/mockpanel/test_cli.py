"""``mockpanel`` as a user runs it: ``python -m mockpanel`` in a subprocess, driven over a real
socket with nothing but urllib, for every profile; plus the argument errors, in-process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import pytest

from harness.contract import validate
from mockpanel import cli
from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES, Handler, Profile
from mockpanel.state import OrderStatus, RefillStatus
from tests.fixtures.plain_http import exchange, post
from tests.fixtures.served import Served, served

TOKEN = "cli-test-control-token"
# A safety net only (never asserted on): a wedged subprocess must not hang the suite.
_EXIT_LIMIT = 30.0


def control(base_url: str, method: str, path: str, payload: object = None) -> Any:
    request = urllib.request.Request(
        f"{base_url}/_mock{path}",
        data=None if payload is None else json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method=method,
    )
    status, body, _ = exchange(request)
    assert 200 <= status < 300, body
    return body


class Client:
    """One key on one served profile; every answer is checked against the lenient contract."""

    def __init__(self, url: str, key: str, profile: Profile) -> None:
        self.url = url
        self.key = key
        self.profile = profile

    def call(self, handler: Handler, form: str, **params: object) -> tuple[int, Any]:
        action = self.profile.action_for(handler)
        assert action is not None, f"{self.profile.name} offers no {handler}"
        status, body = post(self.url, key=self.key, action=action, **params)
        assert validate(form, "response", body) == [], (form, body)
        return status, body

    def balance(self) -> Decimal:
        _, body = self.call(Handler.BALANCE, "balance")
        assert body["currency"] == self.profile.currency
        return Decimal(str(body["balance"]))

    def order_word(self, status: OrderStatus) -> str:
        return self.profile.order_words.get(status, status.value)

    def refill_word(self, status: RefillStatus) -> str:
        return self.profile.refill_words.get(status, status.value)

    def add(self, quantity: int = 1000) -> str:
        status, body = self.call(
            Handler.ADD, "add", service=1, link="https://example.test/post", quantity=quantity
        )
        assert status == self.profile.wire.create_status
        return str(body["order"])

    def status_of(self, order_id: str) -> dict[str, Any]:
        _, body = self.call(Handler.STATUS, "status", order=order_id)
        return dict(body)

    def multi_status(self, *order_ids: str) -> tuple[str, dict[str, Any]]:
        """Several orders' status through whichever action this profile batches them in."""
        handler = (
            Handler.STATUS if Handler.STATUS in self.profile.shapes.batch else Handler.STATUS_MULTI
        )
        _, body = self.call(handler, "status-multi", orders=",".join(order_ids))
        return str(self.profile.action_for(handler)), dict(body)


UNKNOWN_ID = "987654321"  # never issued: ids start far lower in every profile


def _offers_multi_status(profile: Profile) -> bool:
    return Handler.STATUS in profile.shapes.batch or profile.offers(Handler.STATUS_MULTI)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_action_of_every_profile_over_a_real_socket(name: str) -> None:
    profile = PROFILES[name]
    key = f"cli-{name}-key"
    with served(
        "--profile", name, "--key", f"{key}=50.00", "--control-token", TOKEN, "--clock", "manual"
    ) as server:
        api = Client(server.url, key, profile)
        expected = Decimal("50.00")
        assert api.balance() == expected

        _, services = api.call(Handler.SERVICES, "services")
        first = next(item for item in services if str(item["service"]) == "1")
        assert Decimal(str(first["rate"])) == Decimal("0.90")

        order = api.add()  # 1000 at 0.90 per 1000
        expected -= Decimal("0.90")
        assert api.balance() == expected
        state = api.status_of(order)
        assert state["status"] == api.order_word(OrderStatus.PENDING)
        assert Decimal(str(state["charge"])) == Decimal("0.90")

        if _offers_multi_status(profile):
            _, several = api.multi_status(order, UNKNOWN_ID)
            assert several[order]["status"] == api.order_word(OrderStatus.PENDING)
            unknown = several[UNKNOWN_ID]
            assert "error" in unknown if isinstance(unknown, dict) else isinstance(unknown, str)

        if profile.offers(Handler.CANCEL):
            api.call(Handler.CANCEL, "cancel", orders=order)
            expected += Decimal("0.90")  # a cancel refunds the whole charge
            assert api.balance() == expected
            assert api.status_of(order)["status"] == api.order_word(OrderStatus.CANCELED)

        if profile.offers(Handler.REFILL):
            done = api.add()
            expected -= Decimal("0.90")
            control(server.base_url, "POST", f"/orders/{done}/outcome", {"status": "Completed"})
            assert api.status_of(done)["status"] == api.order_word(OrderStatus.COMPLETED)
            status, created = api.call(Handler.REFILL, "refill", order=done)
            assert status == profile.wire.create_status
            refill = str(created["refill"])
            if profile.offers(Handler.REFILL_STATUS):
                _, pending = api.call(Handler.REFILL_STATUS, "refill_status", refill=refill)
                assert pending["status"] == api.refill_word(RefillStatus.PENDING)
                control(
                    server.base_url, "POST", f"/refills/{refill}/outcome", {"status": "Completed"}
                )
                _, finished = api.call(Handler.REFILL_STATUS, "refill_status", refill=refill)
                assert finished["status"] == api.refill_word(RefillStatus.COMPLETED)
            if Handler.REFILL in profile.shapes.batch:
                _, items = api.call(Handler.REFILL, "refill-multi", orders=f"{done},{UNKNOWN_ID}")
                by_order = {str(item["order"]): item["refill"] for item in items}
                assert not isinstance(by_order[done], dict)  # a new refill id
                assert "error" in by_order[UNKNOWN_ID]
            if Handler.REFILL_STATUS in profile.shapes.batch:
                _, items = api.call(
                    Handler.REFILL_STATUS, "refill_status-multi", refills=f"{refill},{UNKNOWN_ID}"
                )
                by_refill = {str(item["refill"]): item["status"] for item in items}
                assert by_refill[refill] == api.refill_word(RefillStatus.COMPLETED)
                assert "error" in by_refill[UNKNOWN_ID]
        assert api.balance() == expected  # refills are free

        status, refused = post(server.url, key=key, action="no_such_action")
        spec = profile.errors[ErrorCode.UNKNOWN_ACTION]
        assert validate("error", "response", refused) == []
        assert (status, refused["error"]) == (
            spec.status,
            spec.message.format(action="no_such_action"),
        )

        journal = control(server.base_url, "GET", "/journal")
        assert journal["exchanges"], "the journal recorded nothing"
        assert key not in json.dumps(journal, default=str)
    assert key not in server.stdout + server.stderr
    assert TOKEN not in server.stdout + server.stderr


def test_every_profile_is_listed_once_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["profiles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    width = max(map(len, PROFILES))
    assert lines == [f"{name:<{width}}  {PROFILES[name].summary}" for name in sorted(PROFILES)]


def test_profiles_through_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockpanel", "profiles"],
        capture_output=True,
        text=True,
        check=True,
        timeout=_EXIT_LIMIT,
    )
    assert [line.split()[0] for line in done.stdout.splitlines()] == sorted(PROFILES)


def test_without_options_it_serves_reference_with_a_demo_key() -> None:
    with served() as server:
        demo_key = server.field("demo key")
        assert "profile reference" in server.stdout
        assert "100.00 USD" in server.stdout
        assert "control API: off" in server.stdout
        status, body = post(server.url, key=demo_key, action="balance")
        assert (status, Decimal(body["balance"]), body["currency"]) == (200, 100, "USD")
        status, body = post(server.url, key="not-" + demo_key, action="balance")
        assert body == {"error": "Invalid API key"}
        # No control token, no control API.
        request = urllib.request.Request(f"{server.base_url}/_mock/state")
        status = exchange(request).status
        assert status == 404


def test_bare_command_means_serve_with_every_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(cli, "_serve", lambda args: seen.append(args) or 0)
    assert cli.main([]) == 0
    (args,) = seen
    assert (args.command, args.host, args.port, args.profile) == (
        "serve",
        "127.0.0.1",
        8080,
        "reference",
    )
    assert (args.keys, args.control_token, args.clock, args.seed) == ([], None, "real", 0)


def test_given_keys_are_used_and_never_printed() -> None:
    first, second = "k-first=secret", "k-second"
    with served("--key", f"{first}=12.50", "--key", f"{second}=0") as server:
        assert "demo key" not in server.stdout
        assert "2 from --key" in server.stdout
        _, body = post(server.url, key=first, action="balance")
        assert Decimal(body["balance"]) == Decimal("12.50")
        _, body = post(
            server.url,
            key=second,
            action="add",
            service=1,
            link="https://example.test/p",
            quantity=100,
        )
        assert body == {"error": "Not enough funds on balance"}
    assert first not in server.stdout + server.stderr
    assert second not in server.stdout + server.stderr


def test_manual_clock_moves_only_when_the_control_api_advances_it() -> None:
    with served("--clock", "manual", "--control-token", TOKEN, "--key", "clock-key=10") as server:
        _, added = post(
            server.url,
            key="clock-key",
            action="add",
            service=1,
            link="https://example.test/p",
            quantity=100,
        )
        order = added["order"]

        def status() -> str:
            return str(post(server.url, key="clock-key", action="status", order=order)[1]["status"])

        assert status() == "Pending"
        assert status() == "Pending"  # nothing moves by itself
        control(server.base_url, "POST", "/clock/advance", {"seconds": 3})
        assert status() == "In progress"
        control(server.base_url, "POST", "/clock/advance", {"seconds": 3600})
        assert status() == "Completed"
        assert "clock:       manual" in server.stdout


def test_real_clock_can_also_be_advanced() -> None:
    with served("--control-token", TOKEN, "--key", "real-key=10") as server:
        _, added = post(
            server.url,
            key="real-key",
            action="add",
            service=1,
            link="https://example.test/p",
            quantity=100,
        )
        control(server.base_url, "POST", "/clock/advance", {"seconds": 3600})
        _, body = post(server.url, key="real-key", action="status", order=added["order"])
        assert body["status"] == "Completed"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(signum: int) -> None:
    server = Served(("--key", "sig-key=1"))
    server.wait_ready()
    url = server.url
    assert post(url, key="sig-key", action="balance")[0] == 200
    assert server.stop(signum) == 0
    assert server.lines[-1] == "mockpanel: stopped"
    assert "Traceback" not in server.stderr
    with pytest.raises(urllib.error.URLError):
        post(url, key="sig-key", action="balance")


def test_a_busy_port_is_a_clear_error() -> None:
    with served() as first:
        port = first.url.split(":")[2].split("/")[0]
        done = subprocess.run(
            [sys.executable, "-m", "mockpanel", "serve", "--port", port],
            capture_output=True,
            text=True,
            timeout=_EXIT_LIMIT,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


SECRET = "s3cr3t-key-value"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--key", f"{SECRET}=abc"], "the BALANCE part must be a decimal number, got 'abc'"),
        (["--key", SECRET], "expected KEY=BALANCE"),
        (["--key", "=5"], "expected KEY=BALANCE"),
        (["--key", f"{SECRET}=-1"], "the balance must be a finite Decimal >= 0"),
        (["--key", f"{SECRET}=NaN"], "the balance must be a finite Decimal >= 0"),
        (["--key", f"{SECRET} x=1"], "without whitespace"),
        (["--profile", "smmpremium", "--key", f"{SECRET}=1.001"], "more than the 2 decimal"),
        (["--key", f"{SECRET}=1", "--key", f"{SECRET}=2"], "repeats an earlier key"),
        (["--profile", "nope"], "invalid choice: 'nope'"),
        (["--port", "70000"], "port must be 0..65535"),
        (["--port", "http"], "not a port number"),
        (["--clock", "fast"], "invalid choice: 'fast'"),
        (["--seed", "x"], "invalid int value"),
        (["--journal-size", "0"], "must be at least 1"),
        (["--control-token", f"{SECRET} x"], "control_token must be non-empty"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message_and_no_secret(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert SECRET not in captured.out + captured.err
