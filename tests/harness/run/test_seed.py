"""The project's own harness runs use one fixed seed (CI gives the same verdicts every time),
unless a test gives its own or a developer sweeps with ``SMM_TEST_SEED``."""

from __future__ import annotations

import pytest

from tests.conformance.harness_runs import DEFAULT_SEED, SEED_ENV, run_seed, seeded
from tests.harness.run.xdist_runs import Keys, harness_args


def test_a_run_without_a_seed_gets_the_fixed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SEED_ENV, raising=False)
    assert run_seed() == DEFAULT_SEED
    assert seeded(["-q", "x.py"]) == ["-q", "x.py", f"--panel-seed={DEFAULT_SEED}"]


def test_a_seed_given_by_the_test_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SEED_ENV, "99")
    assert seeded(["--panel-seed=5"]) == ["--panel-seed=5"]
    assert seeded(["--panel-seed", "5"]) == ["--panel-seed", "5"]


def test_the_environment_sweeps_another_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SEED_ENV, " 123 ")
    assert run_seed() == 123
    assert seeded([])[-1] == "--panel-seed=123"
    monkeypatch.setenv(SEED_ENV, "")
    assert run_seed() == DEFAULT_SEED


def test_a_seed_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SEED_ENV, "abc")
    with pytest.raises(pytest.UsageError, match=SEED_ENV):
        run_seed()


def test_parallel_runs_are_seeded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SEED_ENV, raising=False)
    args = harness_args("http://127.0.0.1:9/api/v2", Keys(), max_spend="0", controlled=False)
    assert [a for a in args if a.startswith("--panel-seed")] == [f"--panel-seed={DEFAULT_SEED}"]
    given = harness_args("http://127.0.0.1:9/api/v2", Keys(), max_spend="0", controlled=False,
                         extra=["--panel-seed=7"])
    assert [a for a in given if a.startswith("--panel-seed")] == ["--panel-seed=7"]
