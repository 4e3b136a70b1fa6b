"""The plan of a parallel run: which process this is (the controller, or worker ``gwN``), how
many workers there are, the run's seed, and the controller's private directory where the
shared files live. The controller hands it to each worker through ``node.workerinput``."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CONTROLLER",
    "OUTPUT_KEY",
    "PLAN_KEY",
    "Plan",
    "controller_plan",
    "is_controller",
    "make_plan_dir",
    "remove_plan_dir",
    "worker_count",
    "worker_plan",
]

#: The harness's entry in ``node.workerinput`` and in ``config.workeroutput``.
PLAN_KEY = "smm_harness_plan"
OUTPUT_KEY = "smm_harness_output"
CONTROLLER = "controller"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a process of a parallel run shares with the others (no secrets, only a path)."""

    directory: Path
    workers: int
    name: str  # "gw0", "gw1", ... or "controller"
    index: int  # the worker's index; -1 for the controller
    seed: int

    def to_input(self) -> dict[str, object]:
        return {"directory": str(self.directory), "workers": self.workers, "seed": self.seed}

    @property
    def is_controller(self) -> bool:
        return self.index < 0

    @property
    def worker_seed(self) -> int:
        """Each worker draws its own links and ids: worker 0 uses the run's seed, worker k
        seed + k, so that two workers never order for the same link at once."""
        return self.seed + max(self.index, 0)


def worker_count(config: pytest.Config) -> int:
    """How many workers xdist starts (0 when the run is not distributed)."""
    if getattr(config.option, "dist", "no") == "no":
        return 0
    raw = getattr(config.option, "numprocesses", None)
    if isinstance(raw, int):
        return raw
    tx = getattr(config.option, "tx", None) or []
    return len(tx)


def is_controller(config: pytest.Config) -> bool:
    """This process distributes tests to xdist workers and runs none itself."""
    return not hasattr(config, "workerinput") and worker_count(config) > 0


def make_plan_dir() -> Path:
    """The controller's private directory for the shared files (mode 0700)."""
    return Path(tempfile.mkdtemp(prefix="smm-harness-"))


def remove_plan_dir(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def controller_plan(directory: Path, workers: int, seed: int) -> Plan:
    return Plan(directory, workers, CONTROLLER, -1, seed)


def worker_plan(config: pytest.Config) -> Plan | None:
    """The plan the controller gave this worker; ``None`` outside xdist workers."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    given = workerinput.get(PLAN_KEY)
    if not isinstance(given, dict):
        raise pytest.UsageError("smm-harness: this xdist worker got no plan from its controller")
    name = str(workerinput.get("workerid", "gw?"))
    index = int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0
    return Plan(Path(given["directory"]), int(given["workers"]), name, index, int(given["seed"]))
