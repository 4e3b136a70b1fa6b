"""The wheel carries the contract: installed into a fresh virtualenv, it finds its data anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from mockpanel.profiles import BUILTIN_NAMES

REPO = Path(__file__).resolve().parent.parent

# Only what loading the contract needs; the wheel itself goes in with --no-deps so the test
# does not depend on resolving the whole dependency tree.
CONTRACT_RUNTIME = ["jsonschema>=4.21,<5", "referencing>=0.35,<1", "pyyaml>=6.0,<7"]

PROBE = """
import json, harness, harness.contract as contract
from harness.contract.resources import schemas_dir, scenarios_dir
import mockpanel.profiles
print(json.dumps({
    "profiles_file": mockpanel.profiles.__file__,
    "profiles": sorted(mockpanel.profiles.PROFILES),
    "harness_file": harness.__file__,
    "schemas_dir": str(schemas_dir()),
    "add_schema_id": contract.schema("add", "request")["$id"],
    "violations": len(
        contract.validate("balance", "response", {"balance": "1.0", "currency": "USD"})
    ),
    "clauses": len(contract.clauses()),
    "scenarios_is_dir": scenarios_dir().is_dir(),
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(REPO)],
        check=True, capture_output=True,
    )
    (built,) = out.glob("smm_conformance-*.whl")
    return built


def test_wheel_contains_schemas_scenarios_and_entry_points(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "harness/_data/schemas/v2/common.json" in names
    assert "harness/_data/schemas/clauses.yaml" in names
    assert any(n.startswith("harness/_data/scenarios/") for n in names)
    assert "mockpanel/__init__.py" in names
    # The built-in profiles are data files, and their schema ships for editors.
    assert {f"mockpanel/profiles/builtin/{n}.yaml" for n in BUILTIN_NAMES} <= set(names)
    assert "mockpanel/profiles/profile.schema.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mockpanel = mockpanel.cli:main" in text
    assert "smm_harness = harness.plugin" in text


def test_installed_wheel_loads_contract_from_another_directory(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *CONTRACT_RUNTIME], check=True, capture_output=True)
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, capture_output=True)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    done = subprocess.run(
        [str(python), "-I", "-c", PROBE], cwd=workdir, check=True, capture_output=True, text=True
    )
    found = json.loads(done.stdout)
    assert found["harness_file"].startswith(str(env_dir)), "imported the checkout, not the wheel"
    assert found["schemas_dir"].startswith(str(env_dir))
    assert found["add_schema_id"].endswith("/v2/request/add.json")
    assert found["violations"] == 0
    assert found["clauses"] >= 60
    assert found["scenarios_is_dir"] is True
    assert found["profiles_file"].startswith(str(env_dir))
    assert found["profiles"] == sorted(BUILTIN_NAMES)
