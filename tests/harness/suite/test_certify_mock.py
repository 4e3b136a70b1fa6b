"""The harness certifies the reference mock panel: every mock profile passes with zero FAIL.

The runs are controlled (a control token, a manual clock), so lifecycles, refunds and refills
are driven through the control API and each run takes a second or two.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from harness.plugin import SUITE_DIR
from mockpanel.profiles import PROFILES
from tests.conformance.harness_runs import seeded

KEY = "certify-main-key-0001"
TOKEN = "certify-control-token"
ROW = re.compile(r"^([A-Z]+-\d{3})\s+(MUST|SHOULD|MAY)\s+(PASS|NON-STRICT|FAIL|N/A)\s+(.*)$")


@contextmanager
def mock_process(profile: str, *extra: str) -> Iterator[tuple[str, str]]:
    """``mockpanel serve`` in its own process (a thread would share the GIL with the suite
    and slow both down); yields the API URL and the control URL."""
    command = [sys.executable, "-m", "mockpanel", "serve", "--port", "0", "--profile", profile,
               "--key", f"{KEY}=100", "--control-token", TOKEN, "--clock", "manual", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            if "API URL:" in line:
                url = line.split("API URL:")[1].strip()
            if "Press Ctrl-C" in line:
                break
        assert url is not None, "mockpanel serve did not announce its URL"
        yield url, url.removesuffix("/api/v2") + "/_mock"
    finally:
        process.terminate()
        process.wait(timeout=10)


def certify(pytester: pytest.Pytester, profile: str, *args: str) -> pytest.RunResult:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    mock_args = [a for a in args if a.startswith("--rate-limit")]
    run_args = [a for a in args if not a.startswith("--rate-limit")]
    with mock_process(profile, *mock_args) as (url, control_url):
        return pytester.runpytest_inprocess(
            str(SUITE_DIR), f"--panel-url={url}", f"--panel-key={KEY}",
            f"--panel-control-url={control_url}", f"--panel-control-token={TOKEN}",
            "--panel-request-rate=100000", "--panel-max-spend=5", "-q",
            # Allure's listener costs a second per in-process run and reports nothing here.
            "-p", "no:allure_pytest", *seeded(run_args),
        )


def table(result: pytest.RunResult) -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in result.outlines:
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return rows



def test_the_reference_mock_passes_every_must_clause(pytester: pytest.Pytester) -> None:
    result = certify(pytester, "reference", "--rate-limit=60/min:key", "--panel-rate-limit=60")
    rows = table(result)
    assert result.ret == pytest.ExitCode.OK, "\n".join(result.outlines[-400:])
    assert len(rows) >= 120
    assert [cid for cid, (_, verdict, _) in rows.items() if verdict == "FAIL"] == []
    not_passed = {cid: reason for cid, (level, verdict, reason) in rows.items()
                  if level == "MUST" and verdict != "PASS"}
    assert not_passed == {}
    assert "CERTIFIED: no MUST clause failed" in result.outlines
    assert KEY not in "\n".join(result.outlines)
    assert TOKEN not in "\n".join(result.outlines)


@pytest.mark.parametrize("profile", sorted(set(PROFILES) - {"reference"}))
def test_every_mock_profile_passes_with_zero_failures(
    pytester: pytest.Pytester, profile: str
) -> None:
    result = certify(pytester, profile)
    rows = table(result)
    failed = {cid: reason for cid, (_, verdict, reason) in rows.items() if verdict == "FAIL"}
    assert failed == {}
    assert result.ret == pytest.ExitCode.OK, "\n".join(result.outlines[-400:])
    passed_must = [cid for cid, (level, verdict, _) in rows.items()
                   if level == "MUST" and verdict == "PASS"]
    assert len(passed_must) >= 60, "a profile must still be judged on most MUST clauses"
