"""Every built-in mock profile is certified: the whole suite passes with zero FAIL; and the
run, recorded (``--panel-record``), emulates the profile (issue 18's round trip).

Each profile runs as ``mockpanel serve`` with a control token and a manual clock; the harness
gets the control API, a spend cap and a second key minted through the control API, and the
profile's published rate limit when it has one (so the RATE clauses are judged too). The two
canonical dialects (``reference``, ``perfectpanel``) must not even deviate: no NON-STRICT.

The round trip: a profile inferred from the recording (``mockpanel profiles infer``), served,
is detected as the same dialect by the harness, and answers the shape diff's fixed script
(``mockpanel profiles diff``: every action, every error kind the harness provokes) with the
same shapes, field types, error wordings and HTTP statuses as the built-in.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.profiles import PROFILES
from tests.conformance.harness_runs import (
    Keys,
    mint_key,
    read_verdicts,
    run_harness,
    serve_profile,
    summary_of,
)
from tests.mockpanel.emulate.round_trip import (
    detected_dialect,
    inferred_profile,
    shape_differences,
)

CANONICAL = ("reference", "perfectpanel")
MAIN_BALANCE = Decimal("100.00")
SECOND_BALANCE = Decimal("1.00")
# A certification must judge most of the contract, not pass by skipping it.
MIN_MUST_PASSED = 60



@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_harness_certifies_every_mock_profile(
    pytester: pytest.Pytester, tmp_path: Path, profile: str
) -> None:
    keys = Keys()
    limit = PROFILES[profile].rate_limit
    recording = tmp_path / "run.har"
    extra = [f"--panel-record={recording}"]
    if limit is not None:
        extra.append(f"--panel-rate-limit={limit.per_minute}")
    with serve_profile(profile, keys, MAIN_BALANCE) as url:
        mint_key(url, keys.token, keys.second, SECOND_BALANCE)
        result = run_harness(pytester, url, keys, max_spend="5", controlled=True, extra=extra)
    verdicts = read_verdicts(result.outlines)
    summary = summary_of(result.outlines)

    assert verdicts.failed() == set(), summary
    assert result.ret == pytest.ExitCode.OK, summary
    assert "CERTIFIED: no MUST clause failed" in result.outlines
    assert len(verdicts.with_verdict("PASS", "MUST")) >= MIN_MUST_PASSED, summary
    if profile in CANONICAL:
        assert verdicts.with_verdict("NON-STRICT") == {}, summary
    output = "\n".join(result.outlines + result.errlines)
    assert not any(secret in output for secret in keys.all())

    # The round trip: record, infer, serve the inferred profile, compare.
    assert not any(secret in recording.read_text(encoding="utf-8") for secret in keys.all())
    kept = tmp_path / f"{profile}.yaml"
    inferred = inferred_profile(recording, profile, keep=kept)
    assert detected_dialect(inferred).name == detected_dialect(PROFILES[profile]).name
    assert shape_differences(PROFILES[profile], inferred) == "", kept.read_text()
