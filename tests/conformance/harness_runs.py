"""Running the harness against a live panel (through pytester) and reading back its verdicts.

The panel under test always runs in a process of its own (``mockpanel serve``, or
``python -m tests.conformance.broken_panels serve NAME`` and its legit twin), so the harness
never shares the GIL with it; the harness itself runs in process (``runpytest_inprocess``, as
the plugin's own tests do) from pytester's empty directory, so the shipped suite and the
scenarios are collected as a user's run would. The verdicts are read from the terminal
summary, the only report the harness prints.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures.constants import PYTESTER_INI, REPO

__all__ = [
    "BROKEN_PANELS_MODULE",
    "DEFAULT_SEED",
    "LEGIT_PANELS_MODULE",
    "SEED_ENV",
    "Keys",
    "Verdicts",
    "mint_key",
    "read_verdicts",
    "run_harness",
    "run_seed",
    "seeded",
    "serve_broken",
    "serve_legit",
    "serve_profile",
    "summary_of",
]

BROKEN_PANELS_MODULE = "tests.conformance.broken_panels"
LEGIT_PANELS_MODULE = "tests.conformance.legit_panels"
ROW = re.compile(r"^([A-Z]+-\d{3})\s+(MUST|SHOULD|MAY)\s+(PASS|NON-STRICT|FAIL|N/A)\s+(.*)$")
_EVIDENCE_HEAD = re.compile(r"^--- ([A-Z]+-\d{3}) ")
_EVIDENCE_TEST = re.compile(r"^    (\S+\.(?:py|yaml)::\S+?): ")
_STARTUP_SECONDS = 30
DEFAULT_SEED = 20261121
"""The harness seed of the project's own runs: CI must give the same verdicts every time. The
suites are sound for any seed (a seed sweep shows it); a fixed one makes a failure replayable."""
SEED_ENV = "SMM_TEST_SEED"
"""Set it to another integer to run the project's tests with another seed (to sweep seeds)."""


@dataclass(frozen=True, slots=True)
class Keys:
    """Fresh random secrets for one run: they must never appear in any output."""

    main: str = field(default_factory=lambda: f"main-{secrets.token_hex(12)}")
    second: str = field(default_factory=lambda: f"second-{secrets.token_hex(12)}")
    token: str = field(default_factory=lambda: f"token-{secrets.token_hex(12)}")

    def all(self) -> tuple[str, str, str]:
        return (self.main, self.second, self.token)


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The verdict table of one run, and which tests the failure evidence names per clause."""

    rows: dict[str, tuple[str, str, str]]  # clause -> (level, verdict, reason)
    evidence: dict[str, tuple[str, ...]]  # clause -> test ids its FAIL evidence names

    def verdict(self, clause: str) -> str:
        if clause not in self.rows:
            raise AssertionError(f"{clause} is not in the verdict table")
        return self.rows[clause][1]

    def with_verdict(self, verdict: str, level: str | None = None) -> dict[str, str]:
        """Clause -> reason for every clause with ``verdict`` (at ``level``, if given)."""
        return {cid: reason for cid, (lvl, v, reason) in self.rows.items()
                if v == verdict and (level is None or lvl == level)}

    def failed(self) -> set[str]:
        return set(self.with_verdict("FAIL"))


def read_verdicts(lines: Sequence[str]) -> Verdicts:
    """Parse the verdict table and the evidence section of the terminal summary."""
    rows: dict[str, tuple[str, str, str]] = {}
    evidence: dict[str, list[str]] = {}
    clause: str | None = None
    for line in lines:
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3), match.group(4))
            continue
        head = _EVIDENCE_HEAD.match(line)
        if head:
            clause = head.group(1)
            evidence.setdefault(clause, [])
            continue
        test = _EVIDENCE_TEST.match(line)
        if test and clause is not None:
            evidence[clause].append(test.group(1))
        elif not line.startswith("    "):
            clause = None
    return Verdicts(rows, {cid: tuple(tests) for cid, tests in evidence.items()})


def summary_of(lines: Sequence[str]) -> str:
    """The run's conformance section (verdict table, evidence, totals) and all that follows
    it (pytest's short summary, any warnings): the whole story of a run for an assertion
    message, however long the output after the table grows."""
    for index, line in enumerate(lines):
        if "SMM panel API v2 conformance" in line:
            return "\n".join(lines[index:])
    return "\n".join(lines[-200:])


@contextmanager
def _announced(command: list[str], env: dict[str, str] | None, marker: str) -> Iterator[str]:
    """Start ``command``; yield the text after ``marker`` on its first line holding it."""
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        announced = None
        for line in process.stdout:
            if marker in line:
                announced = line.split(marker, 1)[1].strip()
                break
        if announced is None:
            raise AssertionError(f"{command[1:3]} exited ({process.wait()}) without a URL")
        yield announced
    finally:
        process.terminate()
        process.wait(timeout=_STARTUP_SECONDS)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def _child_env(**settings: str) -> dict[str, str]:
    """This environment with ``settings``, and the repository root on ``PYTHONPATH``: a panel
    child runs ``python -m tests.conformance...`` from pytester's temporary directory."""
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, **settings, "PYTHONPATH": os.pathsep.join(path)}


@contextmanager
def serve_broken(name: str, keys: Keys, balances: tuple[Decimal, Decimal]) -> Iterator[str]:
    """A broken panel (``broken_panels.py serve NAME``) holding the main and second keys;
    yields its API URL. Keys travel by environment, never on a command line."""
    env = _child_env(
        BROKEN_PANEL_KEYS=f"{keys.main}={balances[0]},{keys.second}={balances[1]}",
        BROKEN_PANEL_CONTROL_TOKEN=keys.token,
    )
    with _announced([sys.executable, "-m", BROKEN_PANELS_MODULE, "serve", name], env,
                    "http://") as rest:
        yield "http://" + rest


@contextmanager
def serve_legit(
    name: str, keys: Keys, balances: tuple[Decimal, Decimal], *, controlled: bool,
    flaw: str | None = None,
) -> Iterator[str]:
    """A legit panel (``legit_panels.py serve NAME``) holding the main and second keys; yields
    its API URL. Controlled: a manual clock and the control API at ``<host>/_mock``, behind
    the run's token. ``flaw``: the panel with that one defect (``flaws.py``). Keys and token
    travel by environment, never on a command line."""
    env = _child_env(LEGIT_PANEL_KEYS=f"{keys.main}={balances[0]},{keys.second}={balances[1]}")
    env.pop("LEGIT_PANEL_CONTROL_TOKEN", None)
    env.pop("LEGIT_PANEL_FLAW", None)
    if controlled:
        env["LEGIT_PANEL_CONTROL_TOKEN"] = keys.token
    if flaw is not None:
        env["LEGIT_PANEL_FLAW"] = flaw
    with _announced([sys.executable, "-m", LEGIT_PANELS_MODULE, "serve", name], env,
                    "http://") as rest:
        yield "http://" + rest


@contextmanager
def serve_profile(profile: str, keys: Keys, balance: Decimal, *,
                  file: Path | None = None, clock: str = "manual") -> Iterator[str]:
    """``mockpanel serve`` of a built-in profile (or of the profile file ``file``) with the
    main key and a control token; yields the API URL (the control API is at
    ``<base>/_mock``). A black-box run wants the ``real`` clock: orders then move by
    themselves."""
    chosen = ["--profile", profile] if file is None else ["--profile-file", str(file)]
    command = [sys.executable, "-m", "mockpanel", "serve", "--port", "0", *chosen,
               "--key", f"{keys.main}={balance}", "--control-token", keys.token,
               "--clock", clock]
    with _announced(command, None, "API URL:") as url:
        yield url


def control_url(api_url: str) -> str:
    """The mock's control API root for its API URL (``/api/v2`` or another profile path)."""
    scheme, _, rest = api_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/_mock"


def mint_key(api_url: str, token: str, key: str, balance: Decimal) -> None:
    """Open a tenant with ``key`` through the control API (``POST /_mock/tenants``)."""
    request = urllib.request.Request(
        control_url(api_url) + "/tenants",
        data=json.dumps({"balance": str(balance), "key": key}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 201:
            raise AssertionError(f"minting a tenant answered HTTP {answer.status}")


def run_seed() -> int:
    """The harness seed for this test run: ``$SMM_TEST_SEED`` when set, else
    :data:`DEFAULT_SEED`."""
    given = os.environ.get(SEED_ENV, "").strip()
    if not given:
        return DEFAULT_SEED
    try:
        return int(given)
    except ValueError:
        raise pytest.UsageError(f"{SEED_ENV} must be an integer, got {given!r}") from None


def seeded(args: Sequence[str]) -> list[str]:
    """``args`` with ``--panel-seed`` of :func:`run_seed` added, unless they carry a seed."""
    if any(a == "--panel-seed" or a.startswith("--panel-seed=") for a in args):
        return list(args)
    return [*args, f"--panel-seed={run_seed()}"]


def run_harness(
    pytester: pytest.Pytester,
    url: str,
    keys: Keys,
    *,
    max_spend: str,
    controlled: bool,
    extra: Sequence[str] = (),
    fresh_process: bool = False,
) -> pytest.RunResult:
    """The whole shipped suite and scenarios against ``url``, from an empty directory, with
    the seed of :func:`run_seed` unless ``extra`` gives one.

    ``fresh_process`` runs it in a new interpreter, as a vendor runs it, rather than in this
    one. A seed fixes the random sequences only together with the local modules imported:
    Hypothesis also draws constants it collects from every local module in ``sys.modules``
    (``hypothesis.internal.conjecture.providers._get_local_constants``). This process has
    imported all of the project's (:mod:`tests.fixtures.local_modules`), a vendor's run only
    what the harness needs, so the same seed takes another path here. A test that relies on
    the path a vendor's run takes (that its random sequences reach some clause) asks for a
    fresh process."""
    pytester.makeini(PYTESTER_INI)
    args = [f"--panel-url={url}", f"--panel-key={keys.main}",
            f"--panel-second-key={keys.second}", f"--panel-max-spend={max_spend}",
            "--panel-request-rate=100000", "--panel-order-timeout=20", "-q", "-p",
            "no:cacheprovider", *seeded(extra)]
    if controlled:
        args += [f"--panel-control-url={control_url(url)}",
                 f"--panel-control-token={keys.token}"]
    if fresh_process:
        return pytester.runpytest_subprocess(*args)
    return pytester.runpytest_inprocess(*args)
