"""Pacing that fits the panel, with an injected clock (nothing really sleeps): the advertised
limit, the rate-limit headers and 429s slow the harness down; Retry-After is honoured up to
--panel-max-retry-after; a panel that never throttles is never slowed; the rate-limit tests
still get their 429s."""

from __future__ import annotations

import time

import pytest

from harness.base.errors import Throttled
from harness.base.progress import Progress
from harness.base.redaction import Secret
from harness.run.config import DEFAULT_MAX_RETRY_AFTER, build, resolve_values
from harness.run.session import HarnessRun
from harness.wire.client import PanelClient, RawResponse
from harness.wire.limiter import TokenBucket
from harness.wire.pacing import (
    FLOOR,
    Pacer,
    RateHeaders,
    RetryPolicy,
    RunClock,
    advertised_pace,
    rate_headers,
)
from tests.fixtures.transports import RecordingTransport, json_answer, scripted

URL = "http://panel.invalid/api/v2"
KEY = "pacing-main-key-5Tq8"


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer_on(fake: FakeTime, **options: object) -> Pacer:
    return Pacer(clock=fake.clock, sleep=fake.sleep, wall=lambda: 1_700_000_000.0,
                 **options)  # type: ignore[arg-type]


OK = 200
HEADERS: tuple[tuple[str, str], ...] = ()


def send(pacer: Pacer, fake: FakeTime, status: int = OK,
         headers: tuple[tuple[str, str], ...] = HEADERS, *, polite: bool = True,
         honoured: bool = True, first: bool = True) -> float:
    """One request through the pacer; returns when it left (fake time)."""
    if polite:
        pacer.before(retry=not first)
    left = fake.now
    pacer.after(status, headers, honoured=honoured, paced=polite, first=first)
    return left


def most_in_a_minute(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 60) for start in times)


# ---------------------------------------------------------------------------------------------
# a panel that never throttles


def test_a_panel_that_never_throttles_is_never_slowed() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    for _ in range(1000):
        send(pacer, fake)
    assert fake.slept == []
    assert pacer.pace is None
    assert pacer.describe() == "not paced (the panel has shown no limit)"


def test_only_the_politeness_limit_applies_until_the_panel_shows_a_limit() -> None:
    fake = FakeTime()
    bucket = TokenBucket(5.0, 5.0, clock=fake.clock, sleep=fake.sleep)
    pacer = pacer_on(fake, limiter=bucket)
    left = [send(pacer, fake) for _ in range(50)]
    assert most_in_a_minute(left) == 50
    assert left[-1] - left[0] == pytest.approx((50 - 5) / 5.0)  # 5 a second after the burst


# ---------------------------------------------------------------------------------------------
# slowing down


def test_the_advertised_limit_is_paced_at_ninety_percent_one_at_a_time() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake, advertised=60)
    left = [send(pacer, fake) for _ in range(200)]
    assert most_in_a_minute(left) in (54, 55)  # 54 intervals of 1/0.9 s span 60 s: never 60
    assert pacer.pace == pytest.approx(advertised_pace(60)) == pytest.approx(0.9)
    assert "90% of the advertised 60/min" in pacer.describe()


def test_a_429_sets_the_pace_from_what_the_panel_served_in_the_last_minute() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    for _ in range(60):  # a fast harness: the panel serves 60 in no time...
        send(pacer, fake)
        fake.now += 0.01
    send(pacer, fake, 429)  # ... then refuses
    assert pacer.pace == pytest.approx(0.9 * 60 / 60)
    fake.slept.clear()
    left = [send(pacer, fake) for _ in range(120)]
    assert most_in_a_minute(left) <= 55
    assert pacer.report().throttled == 1
    assert "learned" in pacer.describe()


def test_a_429_the_last_minute_does_not_explain_halves_the_pace_and_it_grows_back() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake, limiter=TokenBucket(2.0, 1.0, clock=fake.clock, sleep=fake.sleep))
    send(pacer, fake, 429)  # refused at once: another client spent the budget
    assert pacer.pace == pytest.approx(1.0)  # half the politeness limit
    paces = []
    for _ in range(4):
        fake.now += 61  # a quiet minute
        send(pacer, fake)
        paces.append(pacer.pace)
    # A quarter more after each quiet minute, never past 90 % of the refused pace.
    assert paces == pytest.approx([1.25, 1.5625, 1.8, 1.8])


def test_a_429_soon_after_a_waited_one_halves_rather_than_trust_a_minute_of_waiting() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    for _ in range(60):  # the panel served 60 over half a minute...
        send(pacer, fake)
        fake.now += 0.5
    send(pacer, fake, 429)
    assert pacer.pace == pytest.approx(0.9)
    fake.now += 56  # ... its Retry-After
    send(pacer, fake, first=False)
    send(pacer, fake, 429)  # refused again: the last minute is mostly that wait
    # Halved, not 90 % of the ten requests that minute saw (0.15 a second).
    assert pacer.pace == pytest.approx(0.45)


def test_the_pace_never_drops_below_one_request_a_minute() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake, advertised=1)
    for _ in range(10):
        send(pacer, fake)
        send(pacer, fake, 429, first=True)
    assert pacer.pace is not None
    assert pacer.pace >= FLOOR


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((("X-RateLimit-Limit", "30"),), RateHeaders(limit=30)),
        ((("X-RateLimit-Limit", "100"), ("X-RateLimit-Remaining", "0"),
          ("X-RateLimit-Reset", "1700000020")), RateHeaders(100, 0, 20.0)),
        ((("ratelimit-limit", "10, 10;w=1"), ("RateLimit-Remaining", "4"),
          ("RateLimit-Reset", "3")), RateHeaders(10, 4, 3.0, 1.0)),
        ((("RateLimit", "limit=100, remaining=50, reset=7"),), RateHeaders(100, 50, 7.0)),
        ((("RateLimit", '"default";r=5;t=30'), ("RateLimit-Policy", '"default";q=100;w=3600')),
         RateHeaders(100, 5, 30.0, 3600.0)),
        ((("X-RateLimit-Reset", "1700000005000"),), RateHeaders(reset=5.0)),  # milliseconds
        ((("X-RateLimit-Limit", "lots"), ("X-RateLimit-Reset", "9999999999")), RateHeaders()),
        ((("Content-Type", "application/json"),), RateHeaders()),
    ],
)
def test_rate_limit_headers_are_read(
    headers: tuple[tuple[str, str], ...], expected: RateHeaders
) -> None:
    assert rate_headers(headers, wall_now=1_700_000_000.0) == expected


def test_a_limit_header_paces_before_any_429() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    left = [send(pacer, fake, headers=(("X-RateLimit-Limit", "30"),)) for _ in range(100)]
    assert most_in_a_minute(left) <= 28  # 90 % of 30, plus the first
    assert pacer.pace == pytest.approx(0.45)
    assert "headers" in pacer.describe()


def test_a_spent_budget_holds_polite_requests_until_its_reset() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    spent = (("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "20"))
    first = send(pacer, fake, headers=spent)
    second = send(pacer, fake)
    assert second - first == pytest.approx(20.0)
    # A request sent impolitely (a rate-limit test) is not held.
    send(pacer, fake, headers=spent)
    assert send(pacer, fake, polite=False) == fake.now


def test_the_remaining_budget_is_spread_until_its_reset() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    send(pacer, fake, headers=(("RateLimit-Remaining", "10"), ("RateLimit-Reset", "100")))
    assert pacer.pace == pytest.approx(0.1)


# ---------------------------------------------------------------------------------------------
# retries


def test_retry_after_is_honoured_up_to_the_cap_and_the_cap_can_be_raised() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    told = (("Retry-After", "55"),)
    assert pacer.retry_wait(told, retries=0, waited=0.0, named_retries=0,
                            what="action=balance") == (55.0, True)
    long_wait = (("Retry-After", "400"),)
    with pytest.raises(Throttled) as stopped:
        pacer.retry_wait(long_wait, retries=0, waited=0.0, named_retries=0,
                         what="action=balance")
    assert "Retry-After 6m40s" in str(stopped.value)
    assert "--panel-max-retry-after" in str(stopped.value)
    patient = pacer_on(fake, policy=RetryPolicy(max_wait=600.0))
    assert patient.retry_wait(long_wait, retries=0, waited=0.0, named_retries=0,
                              what="action=balance") == (400.0, True)
    # The cap bounds a request's waits in all, not each one.
    with pytest.raises(Throttled):
        pacer.retry_wait(told, retries=1, waited=250.0, named_retries=1, what="x")


def test_a_429_that_names_no_wait_backs_off_doubling_to_a_minute() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    waits: list[float] = []

    def next_wait() -> float:
        decided = pacer.retry_wait((), retries=len(waits), waited=sum(waits),
                                   named_retries=0, what="action=balance")
        assert decided is not None
        wait, told = decided
        assert not told
        return wait

    for _ in range(9):
        waits.append(next_wait())
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    with pytest.raises(Throttled, match="no Retry-After"):
        next_wait()  # 243 s waited: another 60 s would pass the 300 s cap


def test_a_reset_header_names_the_wait_of_a_429() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake)
    hinted = (("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "12"))
    assert pacer.retry_wait(hinted, retries=0, waited=0.0, named_retries=0,
                            what="x") == (12.0, True)


def test_a_panel_that_breaks_its_word_gets_its_429_judged() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake, policy=RetryPolicy(attempts=3))
    told = (("Retry-After", "2"),)
    assert pacer.retry_wait(told, retries=1, waited=2.0, named_retries=1, what="x") == (2.0, True)
    assert pacer.retry_wait(told, retries=2, waited=4.0, named_retries=2, what="x") is None


def test_429s_the_rate_limit_tests_provoke_do_not_slow_the_pace() -> None:
    fake = FakeTime()
    pacer = pacer_on(fake, advertised=60)
    for _ in range(10):
        send(pacer, fake)
    for _ in range(70):  # the burst of RATE-002, on purpose
        send(pacer, fake, polite=False, honoured=False)
    send(pacer, fake, 429, polite=False, honoured=False, headers=(("Retry-After", "50"),))
    # The budget it spent refuses the next polite request: waited out, not learned from.
    send(pacer, fake, 429)
    assert pacer.pace == pytest.approx(0.9)
    report = pacer.report()
    assert (report.provoked, report.throttled) == (1, 1)
    # Once the window of the provoked refusal is over, a 429 teaches the pace again.
    fake.now += 61
    for _ in range(30):
        send(pacer, fake)
    send(pacer, fake, 429)
    assert pacer.pace is not None
    assert pacer.pace < 0.9


# ---------------------------------------------------------------------------------------------
# through the client


def answer(status: int, body: object, *headers: tuple[str, str]) -> RawResponse:
    return json_answer(body, status, *headers)


THROTTLED = answer(429, {"error": "Rate limit exceeded"}, ("Retry-After", "55"))
BALANCE = answer(200, {"balance": "1.00", "currency": "USD"})


def test_the_exchange_a_test_judges_is_the_answered_retry() -> None:
    fake = FakeTime()
    transport = RecordingTransport(scripted(THROTTLED, BALANCE))
    client = PanelClient(URL, transport=transport, clock=fake.clock, sleep=fake.sleep)
    judged: list[int | None] = []
    client.observers.append(lambda exchange: judged.append(exchange.status))
    exchange = client.call({"action": "balance"}, key=Secret(KEY, "main key"), form="balance")
    assert len(transport.requests) == 2
    assert fake.slept == [55.0]
    assert (exchange.status, exchange.retries) == (200, 1)
    assert judged == [200]  # the 429 was never recorded, so no check could judge it


def test_the_rate_limit_tests_still_see_their_429s() -> None:
    fake = FakeTime()
    transport = RecordingTransport(scripted(THROTTLED, BALANCE))
    client = PanelClient(URL, transport=transport, clock=fake.clock, sleep=fake.sleep)
    exchange = client.call({"action": "balance"}, key=Secret(KEY, "main key"),
                           honour_429=False, polite=False)
    assert exchange.status == 429
    assert exchange.header("Retry-After") == "55"
    assert (len(transport.requests), fake.slept) == (1, [])


def test_a_throttled_request_waits_on_the_progress_line() -> None:
    class Terminal:
        quiet = False
        interactive = False

        def __init__(self) -> None:
            self.lines: list[str] = []

        def show(self, text: str, *, replace: bool) -> None:
            self.lines.append(text)

    fake = FakeTime()
    terminal = Terminal()
    progress = Progress(terminal, clock=fake.clock)
    client = PanelClient(URL, transport=RecordingTransport(scripted(THROTTLED, BALANCE)),
                         clock=fake.clock, sleep=fake.sleep, progress=progress)
    assert client.call({"action": "balance"}, key=None).status == 200
    assert sum(fake.slept) == 55.0
    assert terminal.lines == [
        f"smm-harness: {waited} waiting for the panel's rate limit (HTTP 429 to action=balance,"
        f" Retry-After 55s) (gives up in {left})"
        for waited, left in (("10s", "4m50s"), ("40s", "4m20s"))]


def test_a_panel_asking_more_than_the_cap_stops_the_test_not_a_clause() -> None:
    fake = FakeTime()
    slow_down = answer(429, {"error": "slow down"}, ("Retry-After", "3600"))
    transport = RecordingTransport(scripted(slow_down))
    client = PanelClient(URL, transport=transport, clock=fake.clock, sleep=fake.sleep)
    judged: list[object] = []
    client.observers.append(judged.append)
    with pytest.raises(Throttled, match=r"action=balance throttled.*Retry-After 1h00m"):
        client.call({"action": "balance"}, key=None)
    assert judged == []
    assert fake.slept == []


# ---------------------------------------------------------------------------------------------
# the option and the run's wiring


def config_from(**cli: str) -> object:
    return build(resolve_values({"panel_url": URL, "panel_key": KEY, **cli}, {}, {}),
                 default_seed=1)


def test_max_retry_after_has_a_default_a_flag_an_env_and_an_ini_twin() -> None:
    config = build(resolve_values({"panel_url": URL, "panel_key": KEY}, {}, {}), default_seed=1)
    assert config is not None
    assert config.max_retry_after == DEFAULT_MAX_RETRY_AFTER == 300.0
    for cli, env, ini in (({"panel_max_retry_after": "600"}, {}, {}),
                          ({}, {"PANEL_MAX_RETRY_AFTER": "600"}, {}),
                          ({}, {}, {"panel_max_retry_after": "600"})):
        given = build(resolve_values({"panel_url": URL, "panel_key": KEY, **cli}, env, ini),
                      default_seed=1)
        assert given is not None
        assert given.max_retry_after == 600.0
    for bad, fragment in (("-1", "0 seconds or more"), ("soon", "number of seconds"),
                          ("inf", "number of seconds")):
        with pytest.raises(pytest.UsageError, match=fragment) as refused:
            build(resolve_values({"panel_url": URL, "panel_key": KEY},
                                 {"PANEL_MAX_RETRY_AFTER": bad}, {}), default_seed=1)
        assert str(refused.value).startswith("environment variable PANEL_MAX_RETRY_AFTER")


def run_for(**cli: str) -> HarnessRun:
    config = build(resolve_values({"panel_url": URL, "panel_key": KEY, **cli}, {}, {}),
                   default_seed=1)
    assert config is not None
    return HarnessRun(config, transport=RecordingTransport(scripted(BALANCE)))


def test_a_black_box_run_paces_at_the_advertised_limit_and_waits_up_to_the_option() -> None:
    run = run_for(panel_rate_limit="60", panel_max_retry_after="120",
                  panel_request_rate="1000")
    assert run.pacer.pace == pytest.approx(0.9)
    assert run.pacer.limiter is not None
    assert getattr(run.pacer.limiter, "rate", None) == pytest.approx(0.9)  # shared under -n
    assert run.client.retry.max_wait == 120.0
    assert run_for(panel_request_rate="1000").pacer.pace is None  # nothing advertised


def test_a_controlled_run_paces_nothing_in_real_time() -> None:
    run = run_for(panel_rate_limit="60", panel_control_url="http://panel.invalid/_mock",
                  panel_control_token="pacing-control-token-9Xy")
    assert run.pacer.pace is None  # waits are clock moves: pacing would only cost time
    assert run.client.retry.max_wait >= 3600.0
    assert run.client.progress is None


def test_the_run_clock_counts_a_simulated_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    # A test replaces time.sleep to let simulated time pass: the pacer must see it pass.
    clock = RunClock(clock=lambda: 5.0)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    clock.sleep(60)
    assert clock.now() == 65.0
    # A real sleep (the underlying clock moves as long) adds nothing.
    moving = FakeTime()
    real = RunClock(clock=moving.clock)
    monkeypatch.setattr(time, "sleep", moving.sleep)
    real.sleep(10)
    assert real.now() == moving.now
