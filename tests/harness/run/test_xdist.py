"""``pytest -n 2`` (pytest-xdist) for harness runs: the cross-process politeness limit, spend
ledger and locks; verdict and spend merging; and whole runs with two workers against the mock
in its own process (controlled: one tenant per worker, the serial run's verdicts; black-box:
one politeness limit for both workers; a broken panel still fails)."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harness import contract
from harness.base.budget import SpendGuard, Wallet
from harness.base.errors import SpendRefused
from harness.base.redaction import Secret
from harness.judging.verdicts import Verdict, VerdictBook
from harness.run.xdist import ClockLock, SharedBucket, SharedLedger, WalletLocks
from tests.fixtures.fakepanel import KEY, FakePanel, serve
from tests.harness.run.xdist_runs import (
    PROBE,
    Keys,
    busiest_second,
    harness_args,
    journal_times,
    probe_labels,
    read_verdicts,
    serve_broken,
    serve_profile,
    serve_real_clock,
)

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
_SPAWN = multiprocessing.get_context("spawn")


def _ordered_log() -> Any:
    """A log whose order is the order of the ``put`` calls across processes: a
    ``SimpleQueue`` writes to its pipe inside ``put`` (a ``Queue`` hands the item to a feeder
    thread, so a message put before a lock is released could reach the pipe after one put by
    the process that took the lock next)."""
    return _SPAWN.SimpleQueue()


def _read(log: Any, count: int) -> list[Any]:
    """``count`` messages already written (the writers have been joined), never blocking."""
    messages = []
    for _ in range(count):
        assert not log.empty(), f"only {messages} were logged"
        messages.append(log.get())
    return messages



# ---------------------------------------------------------------------------------------------
# the shared politeness limit


class FakeTime:
    """One clock for several buckets (as CLOCK_MONOTONIC is for several processes)."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_two_buckets_on_one_file_are_one_bucket(tmp_path: Path) -> None:
    fake = FakeTime()
    first, second = (SharedBucket(tmp_path / "bucket", 2.0, 3.0, clock=fake.clock,
                                  sleep=fake.sleep) for _ in range(2))
    waits = [bucket.acquire() for bucket in (first, second, first, second, first)]
    # A burst of 3 between them, then one token every half second, whoever asks.
    assert waits == [0.0, 0.0, 0.0, 0.5, 0.5]
    fake.now += 10.0  # a long pause refills the burst, no more
    assert [first.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def _take_tokens(path: str, go: Any, out: Any, count: int) -> None:
    bucket = SharedBucket(Path(path), 40.0, 4.0)
    go.wait(30)
    stamps = []
    for _ in range(count):
        bucket.acquire()
        stamps.append(time.monotonic())
    out.put(stamps)


def test_the_limit_holds_across_processes(tmp_path: Path) -> None:
    go, out = _SPAWN.Event(), _SPAWN.Queue()
    workers = [_SPAWN.Process(target=_take_tokens, args=(str(tmp_path / "bucket"), go, out, 40))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    go.set()
    stamps = sorted(out.get(timeout=60) + out.get(timeout=60))
    for worker in workers:
        worker.join(30)
    assert len(stamps) == 80
    # Apart, each process would send 40 + 4 in its first second: together far above 44.
    assert busiest_second(stamps) <= 40 + 4


# ---------------------------------------------------------------------------------------------
# locks


def _hold_clock_then_leave(directory: str, inside: Any, asked: Any, log: Any) -> None:
    lock = ClockLock(Path(directory))
    lock.enter()
    inside.set()
    asked.wait(30)
    time.sleep(0.3)  # the other process is blocked on exclusive() meanwhile (if it is right)
    log.put("reader leaves")
    lock.leave()


def test_moving_the_clock_waits_for_the_other_workers_test(tmp_path: Path) -> None:
    inside, asked, log = _SPAWN.Event(), _SPAWN.Event(), _ordered_log()
    reader = _SPAWN.Process(target=_hold_clock_then_leave,
                            args=(str(tmp_path), inside, asked, log))
    reader.start()
    assert inside.wait(60)
    lock = ClockLock(tmp_path)
    lock.enter()
    asked.set()
    lock.exclusive()
    log.put("writer moves the clock")
    lock.close()
    reader.join(30)
    assert _read(log, 2) == ["reader leaves", "writer moves the clock"]


def _upgrade(directory: str, ready: Any, go: Any, log: Any) -> None:
    lock = ClockLock(Path(directory))
    lock.enter()
    ready.set()
    go.wait(30)
    lock.exclusive()
    log.put("exclusive")
    time.sleep(0.1)
    lock.close()


def test_two_tests_moving_the_clock_at_once_do_not_deadlock(tmp_path: Path) -> None:
    go, log = _SPAWN.Event(), _SPAWN.Queue()
    readies = [_SPAWN.Event() for _ in range(2)]
    workers = [_SPAWN.Process(target=_upgrade, args=(str(tmp_path), ready, go, log))
               for ready in readies]
    for worker in workers:
        worker.start()
    assert all(ready.wait(60) for ready in readies)
    go.set()
    assert [log.get(timeout=60), log.get(timeout=60)] == ["exclusive", "exclusive"]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0


def _spend_under_lock(directory: str, ready: Any, log: Any) -> None:
    locks = WalletLocks(Path(directory), ["main key", "second key"])
    locks.hold()
    ready.set()
    time.sleep(0.3)
    log.put("first spender done")
    locks.release()


def test_real_wallets_are_held_by_one_test_at_a_time(tmp_path: Path) -> None:
    ready, log = _SPAWN.Event(), _ordered_log()
    first = _SPAWN.Process(target=_spend_under_lock, args=(str(tmp_path), ready, log))
    first.start()
    assert ready.wait(60)
    locks = WalletLocks(tmp_path, ["second key", "main key"])
    locks.hold()
    log.put("second spender starts")
    locks.release()
    first.join(30)
    assert _read(log, 2) == ["first spender done", "second spender starts"]
    # Lock files are named after a hash of the label: no label (let alone a key) on disk.
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2
    assert not any("main" in name or "second" in name for name in names)


# ---------------------------------------------------------------------------------------------
# the spend cap across workers


def test_the_cap_holds_across_workers(tmp_path: Path) -> None:
    main = Wallet(Secret("k-main", "main key"))
    guards = [SpendGuard(Decimal("1.00"), ledger=SharedLedger(tmp_path / "spend.json", name))
              for name in ("gw0", "gw1")]
    for guard in guards:
        guard.open(main, Decimal("10.00"))
    first = guards[0].reserve(main, Decimal("0.60"))
    with pytest.raises(SpendRefused):
        guards[1].reserve(main, Decimal("0.60"))
    assert guards[1].remaining == Decimal("0.40")
    guards[1].reserve(main, Decimal("0.40"))
    assert not guards[0].can_spend(main)
    # A refused request frees its worst case for every worker.
    guards[0].settle(first, Decimal("0"), accepted=False)
    assert guards[1].remaining == Decimal("0.60")
    stored = json.loads((tmp_path / "spend.json").read_text())
    assert stored == {"gw0": "0", "gw1": "0.40"}


def test_merged_spend_measures_a_shared_wallet_once() -> None:
    main = Wallet(Secret("k-main", "main key"))
    moments = itertools.chain([1.0, 5.0, 2.0, 6.0], itertools.count(10.0))
    a, b = (SpendGuard(Decimal("5"), clock=lambda: next(moments)) for _ in range(2))
    a.open(main, Decimal("10.00"))
    a.close(main, Decimal("9.50"))
    b.open(main, Decimal("9.80"))
    b.close(main, Decimal("9.40"))
    for guard, tenant_balance in ((a, Decimal("1.00")), (b, Decimal("3.00"))):
        tenant = Wallet(Secret(f"k-{tenant_balance}", "tenant #1"), sandbox=True)
        guard.open(tenant, Decimal("100"))
        guard.close(tenant, Decimal("100") - tenant_balance)
        guard.reserve(main, Decimal("0.25"))
    controller = SpendGuard(Decimal("5"))
    for name, guard in (("gw0", a), ("gw1", b)):
        controller.merge(json.loads(json.dumps(guard.export())), origin=name)
    report = controller.report()
    assert report.spent == Decimal("0.60")  # 10.00 first opened, 9.40 last closed
    assert report.sandbox_spent == Decimal("4.00")  # two workers' tenants, same label
    assert report.committed == Decimal("0.50")
    assert report.requests == 2
    assert isinstance(report.spent, Decimal)


# ---------------------------------------------------------------------------------------------
# verdicts across workers


def _observations(seed: int, count: int) -> list[tuple[str, Verdict | None, str]]:
    rng = random.Random(seed)
    clauses = list(contract.clauses())
    choices = [Verdict.PASS, Verdict.PASS, Verdict.PASS, Verdict.NON_STRICT, Verdict.FAIL, None]
    return [(rng.choice(clauses), rng.choice(choices), f"t{i}") for i in range(count)]


def _record(book: VerdictBook, observations: list[tuple[str, Verdict | None, str]]) -> None:
    for clause, verdict, test in observations:
        if verdict is None:
            book.record_na(clause, f"reason of {test[:2]}", test=test)
        else:
            book.record(clause, verdict, test=test, message=f"msg {test}",
                        exchanges=[f"#1 POST body of {test}"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_merged_book_gives_the_serial_verdicts(seed: int) -> None:
    observations = _observations(seed, 400)
    serial = VerdictBook(contract.clauses().values())
    _record(serial, observations)
    halves = [VerdictBook(contract.clauses().values()) for _ in range(2)]
    for index, observation in enumerate(observations):
        _record(halves[index % 2], [observation])
    merged = VerdictBook(contract.clauses().values())
    for half in halves:
        merged.merge(json.loads(json.dumps(half.export())))
    for want, got in zip(serial.outcomes(), merged.outcomes(), strict=True):
        assert (got.id, got.verdict, dict(got.counts)) == (want.id, want.verdict,
                                                           dict(want.counts))
        assert len(got.evidence) == len(want.evidence)
        if want.verdict is Verdict.NA:
            assert set(got.reason.split("; ")) == set(want.reason.split("; "))
    assert merged.must_failed() == serial.must_failed()


def test_merging_an_unknown_clause_is_refused() -> None:
    book = VerdictBook(contract.clauses().values())
    with pytest.raises(KeyError, match="NOPE-001"):
        book.merge({"NOPE-001": {"counts": {"PASS": 1}}})


# ---------------------------------------------------------------------------------------------
# whole runs with two workers (the panel in its own process)


# Every clause family with money, orders and the clock in it, and the cheap checks. The
# property-based and stateful files draw their examples from the seed, which differs per
# worker: what they find may differ between two runs, so they are left to the serial suites.
_CLAUSES = [f"--panel-clause={c}" for c in (
    "GEN-*", "AUTH-*", "ERR-*", "SVC-*", "BAL-*", "ADD-*", "DRIP-*", "MONEY-*", "STATUS-*",
    "MSTATUS-*", "BATCH-*", "CANCEL-*", "REFILL-*", "RSTATUS-*", "ISO-*", "LIFE-*")]
_NOT_GENERATED = "not test_13_properties and not test_14_stateful"


def _secrets_absent(result: pytest.RunResult, keys: Keys, *more: Path) -> None:
    texts = ["\n".join(result.outlines + result.errlines)]
    texts += [p.read_text() for d in more for p in d.rglob("*") if p.is_file()]
    for text in texts:
        for secret in keys.all():
            assert secret not in text


def test_controlled_workers_use_own_tenants_and_match_the_serial_verdicts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys = Keys()
    probes = tmp_path / "probes"
    probes.mkdir()
    pytester.makeini(INI)
    pytester.makeconftest(PROBE)  # the run's directory: every worker loads it
    monkeypatch.setenv("PARALLEL_PROBE_DIR", str(probes))
    with serve_profile("reference", keys, Decimal("500")) as url:
        args = harness_args(url, keys, max_spend="5", controlled=True,
                            extra=["--panel-seed=7", *_CLAUSES, "-k", _NOT_GENERATED])
        serial = pytester.runpytest_inprocess(*args, f"--panel-report={tmp_path / 'serial'}")
        parallel = pytester.runpytest_inprocess(*args, "-n", "2",
                                                f"--panel-report={tmp_path / 'parallel'}")
    assert serial.ret == parallel.ret == pytest.ExitCode.OK
    # The controller collects nothing: the certificate's "tests citing each clause" come from
    # the workers, and say the same as a serial run's.
    reports = {mode: json.loads((tmp_path / mode / "report.json").read_text(encoding="utf-8"))
               for mode in ("serial", "parallel")}
    cited = {mode: {c["id"]: sorted(c["tests"]) for c in report["clauses"]}
             for mode, report in reports.items()}
    assert cited["parallel"] == cited["serial"]
    assert sum(len(tests) for tests in cited["parallel"].values()) > 0
    assert "smm-harness: workers: 2" in "\n".join(parallel.outlines)
    serial_rows = read_verdicts(serial.outlines).rows
    parallel_rows = read_verdicts(parallel.outlines).rows
    assert len(parallel_rows) == len(contract.clauses())
    assert {c: r[1] for c, r in parallel_rows.items()} == {c: r[1] for c, r in serial_rows.items()}
    assert sum(1 for line in parallel.outlines if line.startswith("CERTIFIED")) == 1
    seen = probe_labels(probes)
    assert sorted(seen) == ["gw0", "gw1"]
    mains = {worker: str(info["main"]) for worker, info in seen.items()}
    assert mains["gw0"] != mains["gw1"]
    assert all(label.startswith("tenant ") for label in mains.values())
    assert not any(info["given_key_used"] for info in seen.values())
    assert {info["seed"] for info in seen.values()} == {7, 8}
    _secrets_absent(parallel, keys, probes)


def test_black_box_workers_share_one_politeness_limit(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    keys = Keys()
    pytester.makeini(INI)
    with serve_real_clock(keys, Decimal("50")) as url:
        result = pytester.runpytest_inprocess(
            *harness_args(url, keys, max_spend="0", controlled=False, rate="5",
                          extra=["--panel-clause=SVC-*", "--panel-clause=BAL-*",
                                 "--panel-clause=AUTH-*"]),
            "-n", "2",
        )
        times = journal_times(url, keys.token)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*CERTIFIED: no MUST clause failed*"])
    verdicts = read_verdicts(result.outlines)
    assert verdicts.verdict("SVC-001") == "PASS"
    assert len(times) > 20  # enough requests that two unshared limits would show
    assert busiest_second(times) <= 5 + 5  # --panel-request-rate 5, its burst 5
    _secrets_absent(result, keys)


def test_a_broken_panel_still_fails_with_two_workers(pytester: pytest.Pytester) -> None:
    keys = Keys()
    pytester.makeini(INI)
    with serve_broken("cancel-refunds-twice", keys, (Decimal("500.00"), Decimal("1.00"))) as url:
        result = pytester.runpytest_inprocess(
            *harness_args(url, keys, max_spend="100", controlled=False,
                          extra=["--panel-clause=CANCEL-*", "--panel-clause=MONEY-*",
                                 "--panel-clause=ADD-*", "-k", _NOT_GENERATED]),
            "-n", "2",
        )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    verdicts = read_verdicts(result.outlines)
    assert verdicts.verdict("CANCEL-004") == "FAIL"
    # Spending tests of both workers compared the shared keys' balances: no other MUST
    # clause may fail from seeing the other worker's orders.
    failed = verdicts.with_verdict("FAIL", "MUST")
    assert failed.keys() <= {"CANCEL-004"}, failed
    assert sum(1 for line in result.outlines if line.startswith("NOT CERTIFIED")) == 1
    _secrets_absent(result, keys)


def test_a_worker_lost_mid_run_never_certifies(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_inner_crash='''
import os
import pytest

@pytest.mark.clause("BAL-001")
def test_reads(panel):
    panel.balance(panel.main_key())

@pytest.mark.clause("SVC-001")
def test_dies(panel):
    os._exit(3)
''')
    with serve(FakePanel()) as url:
        result = pytester.runpytest_inprocess(
            f"--panel-url={url}", f"--panel-key={KEY}", "--panel-request-rate=1000",
            "test_inner_crash.py", "-n", "2", "-p", "no:cacheprovider")
    assert result.ret != pytest.ExitCode.OK
    output = "\n".join(result.outlines)
    assert "ended without reporting its verdicts" in output
    assert any(line.startswith("NOT CERTIFIED: the verdicts of gw") for line in result.outlines)
    assert not any(line.startswith("CERTIFIED") for line in result.outlines)
    assert KEY not in output
