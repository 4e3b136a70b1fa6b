"""The whole read-only suite, black-box, against a mock panel that enforces 20 requests a
minute per key (429 with Retry-After) certifies with the plain vendor command: the harness
learns the limit, waits the 429s out and never blames a clause for its own pace. Time is
simulated: the mock's clock is manual and every sleep of the harness moves it (through the
control API, which the harness itself is not given), so minutes pass in seconds.

The same run with the 429s not waited out fails clauses on the harness's own 429s: proof
that the first test would catch a harness that ignored them.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest

from harness.base.redaction import Secret, SecretBook
from harness.wire.client import HttpTransport
from harness.wire.control import ControlClient
from harness.wire.pacing import Pacer
from mockpanel.config import MockConfig
from mockpanel.profiles import RateLimit
from mockpanel.server import RunningPanel, run_panel

KEY = "pacing-mock-key-Hq27Zt"
TOKEN = "pacing-mock-token-Wd83Lp"
LIMIT = 20
ROW = re.compile(r"^([A-Z]+-\d{3})\s+(MUST|SHOULD|MAY)\s+(PASS|FAIL|NON-STRICT|N/A|WAIVED)\b")


@pytest.fixture
def limited() -> Iterator[RunningPanel]:
    config = MockConfig(keys=((KEY, Decimal("25.00")),), control_token=TOKEN, clock="manual",
                        rate_limit=RateLimit(LIMIT, "key"), journal_size=100_000)
    with run_panel(config) as panel:
        yield panel
        assert panel.failures == ()


def control(panel: RunningPanel) -> ControlClient:
    assert panel.control_url is not None
    return ControlClient(panel.control_url, Secret(TOKEN, "control token"),
                         transport=HttpTransport(), secrets=SecretBook())


def simulate_time(panel: RunningPanel, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``time.sleep`` of the harness moves the mock's clock instead; returns the sleeps."""
    clock = control(panel)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if seconds > 0:
            clock.advance_clock(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return slept


def certify(pytester: pytest.Pytester, panel: RunningPanel, *args: str) -> pytest.RunResult:
    # The README's plain read-only vendor command, in an empty directory.
    return pytester.runpytest_inprocess(
        f"--panel-url={panel.url}", f"--panel-key={KEY}", "-q", "-p", "no:cacheprovider",
        "-p", "no:allure_pytest", "--panel-seed=5", *args,
    )


def verdicts(result: pytest.RunResult) -> dict[str, str]:
    found = (ROW.match(line) for line in result.outlines)
    return {m.group(1): m.group(3) for m in found if m}


def statuses(panel: RunningPanel) -> Counter[int]:
    journal = control(panel).journal()
    assert isinstance(journal, dict)
    return Counter(int(entry["status"]) for entry in journal["exchanges"])


def test_a_rate_limited_panel_certifies_with_the_plain_command(
    clean: pytest.Pytester, limited: RunningPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept = simulate_time(limited, monkeypatch)
    result = certify(clean, limited)
    table = verdicts(result)
    seen = statuses(limited)
    summary = "\n".join(result.outlines[-60:])

    assert [cid for cid, verdict in table.items() if verdict == "FAIL"] == [], summary
    assert result.ret == pytest.ExitCode.OK, summary
    assert table["BAL-001"] == "PASS"
    # The limit was met (so the run proves something), and the harness learned it at once:
    # one 429, waited out, in a run of over a hundred requests.
    assert seen[429] == 1, seen  # learned from the first: 90 % of what the key was served
    assert seen[200] > 5 * LIMIT
    assert sum(slept) > 60 * seen[200] / LIMIT * 0.9  # it did slow down to fit the limit


def test_with_the_advertised_limit_the_rate_limit_clauses_still_get_their_429s(
    clean: pytest.Pytester, limited: RunningPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_time(limited, monkeypatch)
    result = certify(clean, limited, f"--panel-rate-limit={LIMIT}",
                     "--panel-clause=RATE-*", "--panel-clause=BAL-*", "--panel-clause=ERR-*")
    table = verdicts(result)
    summary = "\n".join(result.outlines[-60:])
    assert result.ret == pytest.ExitCode.OK, summary
    for clause in ("RATE-001", "RATE-002", "RATE-003", "RATE-004", "RATE-005", "BAL-001"):
        assert table[clause] == "PASS", (clause, summary)


def test_a_harness_ignoring_429s_would_fail_clauses_on_its_own_pace(
    clean: pytest.Pytester, limited: RunningPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_time(limited, monkeypatch)
    monkeypatch.setattr(Pacer, "retry_wait", lambda self, *args, **kwargs: None)
    monkeypatch.setattr(Pacer, "after", lambda self, *args, **kwargs: None)
    result = certify(clean, limited, "--panel-clause=BAL-*", "--panel-clause=ERR-*",
                     "--panel-clause=STATUS-*", "--panel-clause=SVC-*")
    table = verdicts(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "FAIL" in table.values()
    assert statuses(limited)[429] > 1
