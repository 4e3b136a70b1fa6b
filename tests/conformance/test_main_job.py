"""The main job (``ci/main.sh``): starts the built-in mock, certifies it, prints the verdict
table, exits with the harness's status, and never prints a key or the control token."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from harness.run.config import OPTIONS
from tests.conformance.harness_runs import read_verdicts

MAIN_SH = Path(__file__).resolve().parents[2] / "ci" / "main.sh"
# main.sh makes up its keys and token with secrets.token_hex(16): 32 hex digits each.
SECRET_SHAPE = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def main_job(*args: str, report_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {spec.env for spec in OPTIONS}}
    if report_dir is not None:
        env["MAIN_REPORT_DIR"] = str(report_dir)
    return subprocess.run(["bash", str(MAIN_SH), *args], capture_output=True, text=True,
                          env=env, timeout=600, check=False)


def test_the_main_job_certifies_the_built_in_mock(tmp_path: Path) -> None:
    job = main_job(report_dir=tmp_path / "report")
    output = job.stdout + job.stderr
    assert job.returncode == 0, output[-4000:]
    verdicts = read_verdicts(job.stdout.splitlines())
    assert len(verdicts.rows) >= 120  # the whole verdict table, one row per clause
    assert verdicts.failed() == set()
    assert verdicts.verdict("MONEY-011") == "PASS"  # the controlled clauses were judged
    assert "(profile reference, mode controlled)" in job.stdout
    assert "CERTIFIED: no MUST clause failed" in job.stdout.splitlines()
    assert SECRET_SHAPE.search(output) is None, "a key or the control token was printed"
    # ... and publishes its certificate, secrets nowhere in it.
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["certified"] is True
    assert report["dialect"]["detected"]["name"] == "reference"
    for written in sorted((tmp_path / "report").iterdir()):
        assert SECRET_SHAPE.search(written.read_text(encoding="utf-8")) is None, written.name


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--bogus"], 2, "unknown option --bogus"),
        (["--profile"], 2, "usage: ci/main.sh"),
        (["no-such-profile"], 1, "the mock panel did not start"),
    ],
)
def test_bad_arguments_are_refused(args: list[str], status: int, message: str) -> None:
    job = main_job(*args)
    assert job.returncode == status
    assert message in job.stderr
    assert "API v2 conformance" not in job.stdout


def test_the_programme_certifies_signs_verifies_and_writes_matrix_and_badges(
    tmp_path: Path,
) -> None:
    """``ci/main.sh --programme`` (issue 20's "done when"): the reference certificate signed
    and verified offline (a tampered copy refused), two more profiles certified, their matrix
    and a badge each written; the private key is not left behind."""
    env = {k: v for k, v in os.environ.items() if k not in {spec.env for spec in OPTIONS}}
    out = tmp_path / "programme"
    env.update(PROGRAMME_DIR=str(out), PROGRAMME_PROFILES="smmhub extended")
    job = subprocess.run(["bash", str(MAIN_SH), "--programme"], capture_output=True, text=True,
                         env=env, timeout=900, check=False)
    output = job.stdout + job.stderr
    assert job.returncode == 0, output[-4000:]
    assert "a tampered copy is refused" in job.stdout
    assert SECRET_SHAPE.search(output) is None, "a key or the control token was printed"
    signature = json.loads((out / "reference" / "report.json.sig").read_text(encoding="utf-8"))
    assert signature["algorithm"] == "ed25519"
    assert (out / "signer.pub").read_text(encoding="utf-8").startswith("-----BEGIN PUBLIC KEY")
    assert not list(out.rglob("*.key")), "the private key was left in the output"
    matrix = (out / "matrix.html").read_text(encoding="utf-8")
    for profile in ("reference", "smmhub", "extended"):
        assert profile in matrix
        badge = (out / profile / "badge.svg").read_text(encoding="utf-8")
        assert "<svg" in badge
        assert "certified" in badge
    assert "| Standing |" in (out / "matrix.md").read_text(encoding="utf-8")
