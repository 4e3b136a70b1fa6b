"""The runner: its command line, its saved results, and the whole bench end to end (--quick)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.profiling import py_spy
from bench.run import GROUPS, PROFILE, main
from tests.bench.benchsupport import needs_wrk
from tests.fixtures.constants import REPO

# Cores 0 and 0 cannot separate server and client: the in-process runs below stay unpinned
# and leave this process's CPU affinity alone.
UNPINNED = ["--server-core", "0", "--client-core", "0"]
SECRET_SHAPED = re.compile(r"\b[0-9a-f]{32}\b")  # how Secrets.fresh() keys and tokens look


def test_memory_alone_is_saved_and_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quick", "--only", "memory", "--out", str(tmp_path), *UNPINNED]) == 0
    saved = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert [f["id"] for f in saved["figures"]] == ["memory.tracemalloc", "memory.rss"]
    assert saved["settings"]["orders"] == 2000
    assert "memory per order" in (tmp_path / "latest.txt").read_text(encoding="utf-8")
    first = capsys.readouterr().out

    again = tmp_path / "again"
    args = ["--quick", "--only", "memory", "--out", str(again), *UNPINNED]
    assert main([*args, "--compare", str(tmp_path / "latest.json")]) == 0
    table = capsys.readouterr().out
    assert "before" not in first
    header = next(line for line in table.splitlines() if line.startswith("figure"))
    assert header.split()[:3] == ["figure", "measured", "before"]


def test_skipping_every_group_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--skip", *GROUPS, PROFILE])
    assert exited.value.code == 2


def test_a_missing_wrk_is_reported_with_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find there
    assert main(["--only", "throughput", "--out", str(tmp_path)]) == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err
    assert not (tmp_path / "latest.json").exists()


def test_compare_with_a_file_that_is_not_a_result_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--only", "memory", "--compare", str(tmp_path / "nothing.json")])
    assert exited.value.code == 2


@needs_wrk
def test_quick_bench_runs_end_to_end(tmp_path: Path) -> None:
    """Every script, tiny parameters: each figure is measured (or says why not) and no
    secret reaches any output."""
    skip = [] if py_spy(sys.executable) else ["--skip", PROFILE]
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path), *skip],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    saved = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    figures = {f["id"]: f for f in saved["figures"]}
    actions = ("balance", "status", "add", "status-multi-100")
    assert set(figures) == {
        *(f"throughput.{a}" for a in actions),
        *(f"throughput.{a}.alone" for a in actions),
        "throughput.control",
        *(f"p99.{a}" for a in actions),
        "startup.first-answer",
        "tenants.mint",
        "tenants.mint.us",
        "growth.status",
        "growth.status.p99",
        "memory.tracemalloc",
        "memory.rss",
        "conformance.serial",
        "conformance.serial.fast",
        "conformance.n2",
    }
    for figure_id, figure in figures.items():
        if figure["verdict"] == "PENDING":
            # Only a suite run may be pending, and then it says what pytest said.
            assert figure_id.startswith("conformance."), figure
            assert "pytest exit" in figure["detail"]
        else:
            assert figure["value"] > 0, figure
    for figure in saved["figures"]:
        assert figure["name"] in done.stdout
    if not skip:
        assert "self time by function" in done.stdout
        assert (tmp_path / "profiles" / "add.collapsed").stat().st_size > 0
    for text in (done.stdout, done.stderr, *(p.read_text() for p in tmp_path.glob("*.*"))):
        assert not SECRET_SHAPED.search(text)
