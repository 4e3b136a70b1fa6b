"""The ``smm-conformance`` command itself: its registry of subcommands, its entry points, and bad
input for every subcommand (a missing file, not JSON, a report of another format version, an
unusable key or output) as one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from harness.contract.openapi import build_openapi
from harness.programme import cli
from harness.programme.cli import COMMANDS, main
from tests.fixtures.constants import REPO
from tests.harness.programme.reports import PASS, record, write_report

NAMES = ("keygen", "sign", "verify", "diff", "matrix", "badge", "openapi")


def test_every_registered_module_adds_its_command() -> None:
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert choices is not None
    assert tuple(choices) == NAMES
    assert len(COMMANDS) == len(NAMES)
    for name in NAMES:
        args = parser.parse_args(_minimal(name))
        assert callable(args.func), name


def _minimal(name: str) -> list[str]:
    return {"keygen": ["keygen", "k"], "sign": ["sign", "r", "--key", "k"],
            "verify": ["verify", "r", "--trust", "p"], "diff": ["diff", "a", "b"],
            "matrix": ["matrix", "r"], "badge": ["badge", "r"], "openapi": ["openapi"]}[name]


def test_the_console_script_is_declared() -> None:
    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts.get("smm-conformance") == "harness.programme.cli:main"
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'smm-conformance = "harness.programme.cli:main"' in pyproject


def test_no_command_and_an_unknown_one_are_usage_errors(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 2
    assert "a command is needed" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("smm-conformance ")


def test_an_unexpected_error_is_reported_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from harness.programme import diff_command

    def broken(*_: object) -> object:
        raise KeyError("boom")

    monkeypatch.setattr(diff_command, "compare", broken)
    report = write_report(tmp_path / "r", record({"GEN-001": PASS}))
    assert main(["diff", str(report), str(report)]) == 3
    err = capsys.readouterr().err
    assert err == ("smm-conformance diff: internal error: KeyError: 'boom' (a bug in "
                   "smm-conformance: please report it)\n")


@pytest.mark.parametrize("name", ["sign", "verify", "diff", "matrix", "badge"])
@pytest.mark.parametrize("problem", ["missing", "not-json", "other-format"])
def test_every_command_reading_a_report_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, problem: str
) -> None:
    good = write_report(tmp_path / "good", record({"GEN-001": PASS})) / "report.json"
    key = tmp_path / "k.key"
    assert main(["keygen", str(key)]) == 0
    bad = tmp_path / "bad.json"
    if problem == "not-json":
        bad.write_text("<html>not json</html>")
    elif problem == "other-format":
        data = json.loads(good.read_text())
        data["format"] = "smm-conformance-report/1"
        bad.write_text(json.dumps(data))
    capsys.readouterr()
    argv = {"sign": ["sign", str(bad), "--key", str(key)],
            "verify": ["verify", str(bad), "--trust", str(key) + ".pub"],
            "diff": ["diff", str(good), str(bad)],
            "matrix": ["matrix", str(good), str(bad), "-o", str(tmp_path / "m.html")],
            "badge": ["badge", str(bad), "-o", str(tmp_path / "b.svg")]}[name]
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2
    assert err.startswith(f"smm-conformance {name}: {bad}: ")
    assert err.count("\n") == 1
    assert {"missing": "no such report", "not-json": "not JSON",
            "other-format": "a report of format 'smm-conformance-report/1'"}[problem] in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "m.html").exists()
    assert not (tmp_path / "b.svg").exists()


def test_keygen_refuses_an_unwritable_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert main(["keygen", str(blocker / "k.key")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smm-conformance keygen: ")
    assert err.count("\n") == 1
    assert main(["keygen", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["keygen", str(tmp_path / "k"), "--public", str(tmp_path / "k")]) == 2
    assert "cannot be written over the private key" in capsys.readouterr().err


def test_openapi_writes_the_same_document_as_the_old_entry_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "openapi.json"
    assert main(["openapi", "-o", str(target)]) == 0
    assert capsys.readouterr().out == f"OpenAPI document written to {target}\n"
    assert json.loads(target.read_text(encoding="utf-8")) == build_openapi()
    assert main(["openapi"]) == 0
    out = capsys.readouterr().out
    old = subprocess.run([sys.executable, "-m", "harness.openapi"], capture_output=True,
                         text=True, check=True, cwd=tmp_path)
    assert out == old.stdout == target.read_text(encoding="utf-8")  # byte for byte
    assert main(["openapi", "-o", str(tmp_path / "missing-dir" / "x" / "o.json")]) == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["openapi", "-o", str(blocker / "o.json")]) == 2
    assert capsys.readouterr().err.startswith("smm-conformance openapi: cannot write ")


def test_the_module_entry_point_runs_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "harness.programme", "diff",
                           str(tmp_path / "a.json"), str(tmp_path / "b.json")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"smm-conformance diff: {tmp_path / 'a.json'}: no such report\n"
    assert done.stdout == ""
