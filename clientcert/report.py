"""The client certificate: the harness's report record and writers (JSON, Markdown, HTML),
fed with a client run. The record has the panel certificate's shape, so the same writers
render it; the fields a client run has no use for say so (no spend, no dialect detection)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import harness
from clientcert.clauses import client_clauses
from harness import Verdict, VerdictBook, contract

__all__ = ["FORMAT", "build_record", "write"]

FORMAT = "smm-client-conformance-report/1"
_VERDICTS = ("PASS", "NON-STRICT", "WAIVED", "FAIL", "N/A")
_LEVELS = ("MUST", "SHOULD", "MAY")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_record(book: VerdictBook, *, adapter: str, profiles: Sequence[str], exit_status: int,
                 started: datetime, tests: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    outcomes = book.outcomes()
    texts = client_clauses()
    counted = Counter((o.level, o.verdict.value) for o in outcomes)
    counts = {lv: {v: counted[lv, v] for v in _VERDICTS} for lv in _LEVELS}
    counts["total"] = {v: sum(counts[lv][v] for lv in _LEVELS) for v in _VERDICTS}
    failed = [o.id for o in outcomes if o.verdict is Verdict.FAIL]
    verdict = harness.verdict_line(outcomes, exit_status)
    must = [o for o in outcomes if o.level == "MUST"]
    unchecked = [o.id for o in must if o.verdict is Verdict.NA]
    summary = (f"client scope: {len(must) - len(unchecked)} of {len(must)} MUST clauses checked "
               f"in {len(profiles)} profile(s)")
    return {
        "format": FORMAT,
        "harness": {"name": "smm-conformance clientcert", "version": harness.__version__},
        # The contract's one hash covers every schema and clause file, client_clauses.yaml too.
        "contract": {"hash": contract.contract_hash(), "clauses": len(outcomes)},
        "panel": {"url": f"client adapter {adapter} against the mock panel"},
        "run": {"started_at": _iso(started), "finished_at": _iso(datetime.now(UTC)),
                "seed": "-", "mode": "client", "clause_selection": [],
                "exit_status": exit_status},
        "dialect": {"configured": ", ".join(profiles), "detected": None},
        "spend": {"summary": "none: the mock panel's money only"},
        "certified": not failed and exit_status == 0,
        "verdict": verdict,
        "scope": {"name": "client", "full": not unchecked, "must_total": len(must),
                  "must_checked": len(must) - len(unchecked), "must_not_checked": unchecked,
                  "not_checked": ([{"reason": "not judged (N/A)", "count": len(unchecked),
                                    "clauses": unchecked}] if unchecked else []),
                  "not_offered": [], "summary": summary},
        "conclusion": f"{verdict} — {summary}",
        "failed_must": failed,
        "counts": counts,
        "root_causes": [{"clause": o.id, "level": o.level, "title": o.title,
                         "verdict": o.verdict.value, "reason": o.reason, "blocked": []}
                        for o in outcomes if o.verdict is Verdict.FAIL],
        "waivers": [],
        "notes": [],
        "clauses": [
            {"id": o.id, "area": "CLIENT", "level": o.level, "title": o.title,
             "text": texts[o.id].text, "verdict": o.verdict.value, "reason": o.reason,
             "blocked_by": None,
             "observations": {v.value: o.counts.get(v, 0) for v in
                              (Verdict.PASS, Verdict.NON_STRICT, Verdict.FAIL, Verdict.NA)},
             "tests": list(dict.fromkeys(tests.get(o.id, ()))),
             "evidence": [{"test": e.test, "message": e.message, "exchanges": list(e.exchanges)}
                          for e in o.evidence]}
            for o in outcomes
        ],
    }


def write(record: Mapping[str, Any], directory: Path, *, secrets: Sequence[str]) -> list[Path]:
    """Write the three files; every string scrubbed of the run's keys once more."""
    def scrub(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "[redacted]")
        return text

    target = directory.expanduser().resolve()
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = harness.write_reports(record, target, scrub=scrub)
    return written
