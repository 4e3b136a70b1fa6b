"""Profiles as data files: the built-ins, ``extends:`` and its merge rules, the schema, and the
errors a bad file gets (the field, the line, the allowed values; never a traceback)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.config import MockConfig
from mockpanel.errors import ErrorCode
from mockpanel.profiles import (
    BUILTIN_NAMES,
    PROFILES,
    REFERENCE,
    SMMHUB,
    Encoding,
    Handler,
    NumberStyle,
    ProfileFileError,
    load_profile_file,
    load_profile_text,
)
from mockpanel.profiles.codec import profile_to_plain
from mockpanel.profiles.files import builtin_text, file_schema, merged
from mockpanel.profiles.writing import profile_yaml
from mockpanel.state import ServiceType
from mockpanel.wire.setup import state_config

SCHEMA_FILE = Path(__file__).parents[3] / "mockpanel" / "profiles" / "profile.schema.json"


def test_the_ten_built_ins_are_shipped_files_in_listing_order() -> None:
    assert tuple(PROFILES) == BUILTIN_NAMES
    assert len(BUILTIN_NAMES) == 10
    for name in BUILTIN_NAMES:
        text = builtin_text(name)
        assert text.startswith("#"), f"{name}.yaml should say what it is drawn from"
        if name != "reference":
            assert "\nextends: reference\n" in text


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_show_output_loads_back_into_the_same_profile(name: str) -> None:
    # What `mockpanel profiles show NAME` prints is a whole profile a user can copy.
    assert load_profile_text(profile_yaml(PROFILES[name]), f"{name}.yaml") == PROFILES[name]


def test_vendor_files_give_only_what_differs() -> None:
    # smmhub's file words 9 errors; every other one is the reference's, merged code by code.
    assert SMMHUB.errors[ErrorCode.INSUFFICIENT_FUNDS].message == "Insufficient balance"
    assert SMMHUB.errors[ErrorCode.UNKNOWN_ORDER] == REFERENCE.errors[ErrorCode.UNKNOWN_ORDER]
    assert "unknown_order" not in builtin_text("smmhub")
    assert SMMHUB.numbers == REFERENCE.numbers
    assert SMMHUB.services.catalog == REFERENCE.services.catalog  # restricted by types only
    assert state_config(SMMHUB, MockConfig(profile=SMMHUB)).catalog != state_config(
        REFERENCE, MockConfig()).catalog


def test_the_catalogue_is_profile_data() -> None:
    served = state_config(PROFILES["extended"], MockConfig(profile="extended")).catalog
    per_post = next(s for s in served if s.id == 8)
    assert (per_post.type, str(per_post.form), per_post.min, per_post.max) == (
        ServiceType.CUSTOM_COMMENTS_PACKAGE, "per_post", 10, 20_000)
    text = """
name: tiny
extends: reference
services:
  types: [Default]
  catalog:
  - {id: 501, name: My Followers, type: Default, category: Followers, rate: '1.25',
     min: 10, max: 900}
"""
    profile = load_profile_text(text, "tiny.yaml")
    (only,) = state_config(profile, MockConfig(profile=profile)).catalog
    assert (only.id, only.rate, only.min, only.max, only.refill) == (
        501, Decimal("1.25"), 10, 900, False)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_merges_groups_and_errors_and_replaces_lists_and_tables(tmp_path: Path) -> None:
    _write(tmp_path, "base.yaml", """
name: base
extends: smmhub
numbers: {balance: number}
errors:
  unknown_order: {message: 'No order {order}', status: 404}
""")
    child = load_profile_file(_write(tmp_path, "child.yaml", """
name: child
extends: base.yaml          # a file next to this one
wire: {content_type: text/html}
errors:
  unknown_order: {status: 400}
actions: {balance: balance, services: services}
"""))
    assert child.name == "child"
    assert child.numbers == replace(SMMHUB.numbers, balance=NumberStyle.NUMBER)  # group merge
    assert child.wire == replace(SMMHUB.wire, content_type="text/html")
    assert child.wire.encodings == frozenset({Encoding.FORM})  # smmhub's, two levels up
    spec = child.errors[ErrorCode.UNKNOWN_ORDER]
    assert (spec.message, spec.status) == ("No order {order}", 400)  # field by field
    assert child.errors[ErrorCode.INSUFFICIENT_FUNDS].message == "Insufficient balance"
    assert dict(child.actions) == {"balance": Handler.BALANCE, "services": Handler.SERVICES}


def test_merged_is_a_pure_function_of_plain_forms() -> None:
    parent = profile_to_plain(REFERENCE)
    out = merged(parent, {"shapes": {"cancel": {"ack": "success"}}, "cancellable": []})
    assert out["shapes"]["cancel"] == {"ack": "success", "error_nested": True,
                                       "unwrap_single": False}
    assert out["shapes"]["batch"] == parent["shapes"]["batch"]
    assert out["cancellable"] == []
    assert parent["shapes"]["cancel"]["ack"] == "flag"  # not changed in place


def test_the_shipped_schema_is_the_one_files_are_checked_against() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == file_schema()


BAD_FILES = [
    pytest.param("name: x\nextends: reference\nwire:\n  encodings: [form, xml]\n",
                 ["line 4", "wire.encodings.1", '"xml" is not allowed', '"form", "json", "query"'],
                 id="bad-enum-value"),
    pytest.param("name: x\nextends: reference\nnumbers:\n  balanse: string\n",
                 ["line 4", "numbers.balanse", "unknown setting 'balanse'", "balance"],
                 id="misspelt-setting"),
    pytest.param("name: x\nextends: reference\nmoney_places: two\n",
                 ["line 3", "money_places", "'two' is not of type 'integer'"], id="wrong-type"),
    pytest.param("name: x\nextends: reference\nerrors:\n  no_such_error: {message: hi}\n",
                 ["line 4", "errors.no_such_error", '"no_such_error" is not allowed as a key',
                  '"invalid_key"'],
                 id="unknown-error-code"),
    pytest.param("name: x\nextends: reference\nservices:\n  catalog:\n"
                 "  - {id: 1, name: A, type: Default, category: C, rate: 0.5, min: 1, max: 2}\n",
                 ["line 5", "services.catalog.0.rate", "0.5 is not of type 'string'"],
                 id="money-as-a-float"),
    pytest.param("name: x\nextends: reference\ncurrency: usd\n",
                 ["currency 'usd' is not an ISO 4217 code"], id="profile-check"),
    pytest.param("name: x\nextends: reference\nservices:\n  catalog:\n"
                 "  - {id: 1, name: A, type: Default, category: C, rate: '0.5', min: 9, max: 2}\n",
                 ["services.catalog.0", "need 1 <= min <= max"], id="service-check"),
    pytest.param("name: x\nsummary: s\n", ["source", "required"], id="whole-profile-incomplete"),
    pytest.param("name: x\nextends: nosuch\n",
                 ["line 2", "extends", "'nosuch' is neither a built-in", "reference"],
                 id="unknown-parent"),
    pytest.param("name: x\nwire: [\n", ["is not valid YAML", "line"], id="not-yaml"),
    pytest.param("- just\n- a list\n", ["must be a mapping"], id="not-a-mapping"),
    pytest.param("name: x\nextends: loop.yaml\n", ["extends more than"], id="extends-loop"),
]


@pytest.mark.parametrize(("text", "says"), BAD_FILES)
def test_a_bad_file_gets_a_clear_error(tmp_path: Path, text: str, says: list[str]) -> None:
    path = _write(tmp_path, "loop.yaml", text)
    with pytest.raises(ProfileFileError) as caught:
        load_profile_file(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for part in says:
        assert part in message, message
    assert "Traceback" not in message


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileFileError, match="cannot be read"):
        load_profile_file(tmp_path / "missing.yaml")


def test_a_correct_but_unusual_file_is_accepted(tmp_path: Path) -> None:
    # Everything a real provider may legitimately differ in, in one file that extends nothing:
    # a whole profile is written out (what `profiles show` prints), then odd choices applied.
    plain = profile_to_plain(REFERENCE)
    plain.update(name="odd", currency="TRY", money_places=0, id_style="alphanumeric")
    plain["wire"].update(paths=["/api", "/v2/api"], encodings=["query"], indent=2,
                         content_type="text/plain; charset=windows-1254", create_status=201)
    plain["shapes"].update(batch=[], max_ids=1)
    plain["rate_limit"] = {"per_minute": 1, "scope": "ip"}
    profile = load_profile_text(json.dumps(plain), "odd.json")  # JSON is YAML too
    assert (profile.currency, profile.money_places, profile.wire.paths) == (
        "TRY", 0, ("/api", "/v2/api"))
    assert profile.rate_limit is not None
    assert profile.rate_limit.scope == "ip"
