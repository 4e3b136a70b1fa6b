"""Running the harness with ``-n 2`` against a mock in its own process, and what to read back.

Reuses :mod:`tests.conformance.harness_runs` (serving the mock and the broken panels, parsing
the verdict table). The probe plugin written into a run's directory records, per worker, the
*label* of its main key (``tenant T12``), never a key.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conformance.harness_runs import (
    Keys,
    Verdicts,
    _announced,
    control_url,
    read_verdicts,
    seeded,
    serve_broken,
    serve_profile,
)
from tests.fixtures.constants import PYTESTER_INI

__all__ = [
    "PROBE",
    "Keys",
    "Verdicts",
    "busiest_second",
    "harness_args",
    "journal_times",
    "probe_labels",
    "read_verdicts",
    "serve_broken",
    "serve_profile",
    "serve_real_clock",
]

#: A ``conftest.py`` for the run's directory: writes each worker's main-key label and seed to
#: ``$PARALLEL_PROBE_DIR/<worker id>``.
PROBE = '''
import json
import os
from pathlib import Path

from harness.run.session import RUN_KEY


def pytest_sessionfinish(session):
    run = session.config.stash.get(RUN_KEY, None)
    worker = getattr(session.config, "workerinput", {}).get("workerid")
    if run is None or worker is None:
        return
    seen = {"main": run.panel.main_key().label, "seed": run.config.seed,
            "given_key_used": run.config.key is not None}
    Path(os.environ["PARALLEL_PROBE_DIR"], worker).write_text(json.dumps(seen))
'''


def harness_args(
    url: str,
    keys: Keys,
    *,
    max_spend: str,
    controlled: bool,
    rate: str = "100000",
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line of a run (the keys travel on it, as a user's would; never printed),
    with the project's fixed seed unless ``extra`` gives one."""
    args = [f"--panel-url={url}", f"--panel-key={keys.main}",
            f"--panel-second-key={keys.second}", f"--panel-max-spend={max_spend}",
            f"--panel-request-rate={rate}", "--panel-order-timeout=20", "-p",
            "no:cacheprovider", "-rN", *seeded(extra)]
    if controlled:
        args += [f"--panel-control-url={control_url(url)}",
                 f"--panel-control-token={keys.token}"]
    return args


def probe_labels(directory: Path) -> dict[str, dict[str, object]]:
    """What the probe wrote: worker id -> {main, seed, given_key_used}."""
    return {p.name: json.loads(p.read_text()) for p in sorted(directory.iterdir())}


def prepare(pytester: pytest.Pytester) -> None:
    pytester.makeini(PYTESTER_INI)


@contextmanager
def serve_real_clock(keys: Keys, balance: Decimal) -> Iterator[str]:
    """``mockpanel serve`` on a real clock (journal times are then real seconds) with the main
    and second keys and a control token the harness is not told about; yields the API URL."""
    command = [sys.executable, "-m", "mockpanel", "serve", "--port", "0",
               "--key", f"{keys.main}={balance}", "--key", f"{keys.second}={balance}",
               "--control-token", keys.token, "--clock", "real", "--no-rate-limit",
               "--journal-size", "100000"]
    with _announced(command, None, "API URL:") as url:
        yield url


def journal_times(url: str, token: str) -> list[float]:
    """When the panel received each API request (its journal, read through the control API)."""
    request = urllib.request.Request(control_url(url) + "/journal",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = json.load(answer)
    return sorted(float(entry["time"]) for entry in body["exchanges"])


def busiest_second(times: Sequence[float]) -> int:
    """The most requests any window of one second holds."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
