"""The client certificate: the harness's report record and writers (JSON, Markdown, HTML),
fed with a client run. The record has the panel certificate's shape, so the same writers
render it; the fields a client run has no use for say so (no spend, no dialect detection)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import harness
from clientcert.clauses import client_clauses
from harness import Verdict, VerdictBook, contract
from harness.base.dates import utc_iso
from harness.judging.verdicts import root_causes
from harness.reporting.certificate import clause_row, count_table, root_cause_row

__all__ = ["FORMAT", "build_record", "write"]

FORMAT = "smm-client-conformance-report/1"


def build_record(book: VerdictBook, *, adapter: str, profiles: Sequence[str], exit_status: int,
                 started: datetime, tests: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The panel certificate's record, its counts, clause rows and root causes built by the
    same functions; only the run, the scope and the fields a client run has no use for differ."""
    outcomes = book.outcomes()
    texts = client_clauses()
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
        "run": {"started_at": utc_iso(started), "finished_at": utc_iso(datetime.now(UTC)),
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
        "counts": count_table(outcomes),
        "root_causes": [root_cause_row(cause) for cause in root_causes(outcomes)],
        "waivers": [],
        "notes": [],
        "clauses": [clause_row(o, texts[o.id].text, tests.get(o.id, ())) for o in outcomes],
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
