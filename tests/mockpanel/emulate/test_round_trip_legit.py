"""Emulating panels that are not mockpanel (issue 18's proof): record the harness's run against
a panel of the false-alarm corpus (its own books behind a plain ``http.server``,
``tests/conformance/legit_panels.py``), infer a profile from the recording, serve the inferred
profile with ``mockpanel serve --profile-file``, run the harness against that, and compare.

The verdicts must be the same for every clause that does not depend on money timing or the
order lifecycle: all but the ``LIFE`` and ``MONEY`` areas. Measured, the only two that differ
are LIFE-003 and MONEY-011, both about a Partial order (what it reports, what it refunds): a
black-box run asks for one with the mock's magic link (``mock_outcome=partial``), which the
mock serving the emulation honours and the original, finishing orders on its own timer, does
not (N/A there, PASS on the emulation). That is the course of an order, not the dialect; every
other clause, STATUS, CANCEL, REFILL, ISO and ROBUST included, has the same verdict.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conformance.harness_runs import (
    Keys,
    mint_key,
    read_verdicts,
    run_harness,
    serve_legit,
    serve_profile,
    summary_of,
)
from tests.mockpanel.emulate.round_trip import inferred_profile

# Three families, each unlike the mock's reference in its own way: the classic clone (the
# baseline, PUT/DELETE reaching the script), Laravel (422/401/201, a BRL wallet at 2 places,
# JSON bodies), and seed 000's smmpremium (INR, alphanumeric ids, `orders` multi-status,
# 400/401/402/404, start_count left out while Pending).
PANELS = ("perfectpanel-classic", "laravel-422", "smmpremium-seed-000")
BALANCES = (Decimal("500.00"), Decimal("1.00"))
MAX_SPEND = "100"
TIMING_AREAS = frozenset({"LIFE", "MONEY"})


def _dialect_verdicts(rows: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    return {clause: row[1] for clause, row in rows.items()
            if clause.split("-")[0] not in TIMING_AREAS}


@pytest.mark.parametrize("name", PANELS)
def test_a_panel_written_apart_from_mockpanel_is_emulated_from_its_recording(
    pytester: pytest.Pytester, tmp_path: Path, name: str
) -> None:
    keys = Keys()
    recording = tmp_path / "run.har"
    with serve_legit(name, keys, BALANCES, controlled=False) as url:
        first = run_harness(pytester, url, keys, max_spend=MAX_SPEND, controlled=False,
                            extra=[f"--panel-record={recording}"])
    original = read_verdicts(first.outlines)
    assert original.rows, summary_of(first.outlines)

    profile_file = tmp_path / f"{name}.yaml"
    inferred = inferred_profile(recording, name, keep=profile_file)
    with serve_profile(name, keys, BALANCES[0], file=profile_file, clock="real") as url:
        mint_key(url, keys.token, keys.second, BALANCES[1])
        second = run_harness(pytester, url, keys, max_spend=MAX_SPEND, controlled=False)
    emulated = read_verdicts(second.outlines)

    want = _dialect_verdicts(original.rows)
    got = _dialect_verdicts(emulated.rows)
    differing = {c: (want.get(c), got.get(c)) for c in want.keys() | got.keys()
                 if want.get(c) != got.get(c)}
    assert differing == {}, (
        f"{name}: verdicts differ (original, emulated) {differing}\n"
        f"inferred profile: {profile_file.read_text(encoding='utf-8')}\n"
        f"original:\n{summary_of(first.outlines)}\nemulated:\n{summary_of(second.outlines)}"
    )
    # The comparison is not vacuous: most of the dialect's clauses were judged on both.
    judged = [c for c, v in want.items() if v in ("PASS", "NON-STRICT", "FAIL")]
    assert len(judged) >= 40, want
    assert inferred.name == name
