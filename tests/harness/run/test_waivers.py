"""The waiver file: a good one read into dated waivers; every bad one refused up front with a
UsageError naming the entry and the field (never a traceback); unknown and repeated clauses
refused; expired waivers warned about; the option in its three spellings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness import contract
from harness.contract.resources import schemas_dir
from harness.judging.verdicts import Waiver
from harness.run.config import build, resolve_values
from harness.run.waivers import ORIGIN, expired_warnings, load_waivers, parse_waivers

KNOWN = frozenset(contract.clauses())

GOOD = """\
# known failures of our panel, reviewed monthly
waivers:
  - clause: ERR-005
    reason: >
      the gateway answers unknown actions
      with an HTML page (ticket 42)
    expires: 2026-09-30
  - clause: AUTH-002
    reason: "fixed in the next release"
    expires: "2026-01-31"
"""


def refused(text: str) -> str:
    with pytest.raises(pytest.UsageError) as caught:
        parse_waivers(text, KNOWN, source="waivers.yaml")
    message = str(caught.value)
    assert message.startswith(f"{ORIGIN}: waivers.yaml is not a valid waiver file")
    return message


def entry(clause: object = "ERR-005", reason: object = "r", expires: object = "2026-09-30",
          **extra: object) -> str:
    fields = {"clause": clause, "reason": reason, "expires": expires, **extra}
    body = ", ".join(f"{k}: {json.dumps(v)}" for k, v in fields.items() if v is not None)
    return "waivers:\n  - {" + body + "}\n"


def test_the_schema_is_a_valid_json_schema() -> None:
    schema = json.loads(schemas_dir().joinpath("waivers.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$defs"]["waiver"]["required"] == ["clause", "reason", "expires"]


def test_a_good_file_gives_dated_waivers_in_file_order() -> None:
    assert parse_waivers(GOOD, KNOWN, source="w.yaml") == (
        Waiver("ERR-005", "the gateway answers unknown actions with an HTML page (ticket 42)",
               date(2026, 9, 30)),
        Waiver("AUTH-002", "fixed in the next release", date(2026, 1, 31)),
    )
    assert parse_waivers("waivers: []\n", KNOWN, source="w.yaml") == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (entry(clause="ERR-5"),
         "entry 1 (ERR-5), field clause: must be a clause id such as ERR-005 (got 'ERR-5')"),
        (entry(clause=5), "entry 1, field clause: must be a clause id such as ERR-005 (got 5)"),
        (entry(reason=""), "entry 1 (ERR-005), field reason: must be a non-empty text"),
        (entry(reason="   "), "entry 1 (ERR-005), field reason: must be a non-empty text"),
        (entry(reason=["a"]), "entry 1 (ERR-005), field reason: must be a non-empty text"),
        (entry(expires="2026-02-30"),
         "entry 1 (ERR-005), field expires: must be an ISO date YYYY-MM-DD"),
        (entry(expires="30/09/2026"), "field expires: must be an ISO date YYYY-MM-DD"),
        (entry(expires="20260930"), "field expires: must be an ISO date YYYY-MM-DD"),
        (entry(expires=20260930), "(got 20260930)"),
        (entry(expires=None), "entry 1 (ERR-005), field expires: missing (expected an ISO date"),
        (entry(reason=None), "entry 1 (ERR-005), field reason: missing (expected a non-empty"),
        (entry(clause=None), "entry 1, field clause: missing (expected a clause id"),
        (entry(owner="me"), "entry 1 (ERR-005), field owner: unknown (an entry has clause, "
                            "reason, expires)"),
        ("waivers:\n  - ERR-005\n", "entry 1: must be a mapping with clause, reason, expires"),
        ("waivers: ERR-005\n", "field waivers: must be a list of entries"),
        ("- clause: ERR-005\n", "expected a mapping with a 'waivers' list, got list"),
        ("waiver: []\n", "field waiver: unknown (the file holds only 'waivers')"),
        ("waiver: []\n", "field waivers: missing"),
        ("", "the file is empty"),
        ("waivers: [\n", "not valid YAML"),
        (entry(clause="ADD-999"),
         "entry 1 (ADD-999), field clause: 'ADD-999' is not a clause of schemas/clauses.yaml"),
    ],
    ids=["clause-pattern", "clause-int", "reason-empty", "reason-blank", "reason-list",
         "no-such-day", "not-iso", "basic-iso", "date-int", "no-expires", "no-reason",
         "no-clause", "extra-field", "entry-not-mapping", "not-a-list", "top-level-list",
         "top-level-typo", "top-level-missing", "empty", "bad-yaml", "unknown-clause"],
)
def test_a_bad_file_is_refused_naming_the_entry_and_the_field(text: str, expected: str) -> None:
    assert expected in refused(text)


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    good = '{clause: ERR-005, reason: "r", expires: 2026-09-30}'
    text = "waivers:\n" + "".join(f"  - {good.replace('ERR-005', f'ADD-00{n}')}\n"
                                  for n in range(1, 10))
    text += '  - {clause: ADD-010, reason: "", expires: 2026-09-30}\n'
    text += '  - {clause: ADD-011, reason: "r", expires: 2026-9-30}\n'
    lines = refused(text).splitlines()[1:]
    assert lines == [
        "  entry 10 (ADD-010), field reason: must be a non-empty text saying why the failure is"
        " excused (got '')",
        "  entry 11 (ADD-011), field expires: must be an ISO date YYYY-MM-DD, the last day the "
        "waiver is in force (got '2026-9-30')",
    ]


def test_a_clause_waived_twice_is_refused() -> None:
    text = GOOD + '  - {clause: ERR-005, reason: "again", expires: 2027-01-01}\n'
    assert ("entry 3 (ERR-005), field clause: ERR-005 is already waived by entry 1"
            in refused(text))


def test_a_missing_or_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(pytest.UsageError, match=r"cannot read .*nope\.yaml: No such file"):
        load_waivers(tmp_path / "nope.yaml", KNOWN)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00waivers")
    with pytest.raises(pytest.UsageError, match=r"cannot read .*binary\.yaml: UnicodeDecodeError"):
        load_waivers(binary, KNOWN)
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    assert [w.clause for w in load_waivers(good, KNOWN)] == ["ERR-005", "AUTH-002"]


def test_only_expired_waivers_are_warned_about() -> None:
    waivers = parse_waivers(GOOD, KNOWN, source="w.yaml")
    assert expired_warnings(waivers, date(2026, 1, 31)) == []  # the last day is in force
    [warning] = expired_warnings(waivers, date(2026, 2, 1))
    assert warning == (f"{ORIGIN}: the waiver of AUTH-002 expired on 2026-01-31 and is ignored:"
                       " a FAIL of AUTH-002 fails the run (fixed in the next release)")


@pytest.mark.parametrize(
    ("cli", "env", "ini", "expected"),
    [({"panel_waivers": "a.yaml"}, {"PANEL_WAIVERS": "b.yaml"}, {"panel_waivers": "c.yaml"},
      "a.yaml"),
     ({}, {"PANEL_WAIVERS": "b.yaml"}, {"panel_waivers": "c.yaml"}, "b.yaml"),
     ({}, {}, {"panel_waivers": "c.yaml"}, "c.yaml"),
     ({}, {}, {}, None)],
    ids=["cli", "env", "ini", "none"],
)
def test_the_option_has_a_flag_an_env_and_an_ini_twin(
    cli: dict[str, str], env: dict[str, str], ini: dict[str, str], expected: str | None
) -> None:
    picked = resolve_values({"panel_url": "https://p.example/api/v2", "panel_key": "k" * 8, **cli},
                            env, ini)
    config = build(picked, default_seed=1)
    assert config is not None
    assert config.waivers == (None if expected is None else Path(expected))
