"""The schema files themselves: layout, identity, metaschema validity and offline references."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from harness import contract
from harness.contract.resources import schemas_dir

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _schema_files() -> list[str]:
    root = schemas_dir() / "v2"
    found = []
    for top in root.iterdir():
        if top.is_file():
            found.append(top.name)
        else:
            found.extend(f"{top.name}/{item.name}" for item in top.iterdir())
    return sorted(found)


FILES = _schema_files()


def _load(relpath: str) -> dict[str, Any]:
    folder, _, name = relpath.rpartition("/")
    base = schemas_dir() / "v2"
    item = base / folder / name if folder else base / name
    document: dict[str, Any] = json.loads(item.read_text(encoding="utf-8"))
    return document


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_layout_is_exactly_one_file_per_form_and_direction() -> None:
    expected = {"common.json"}
    for direction in ("request", "response", "canonical"):
        expected |= {f"{direction}/{name}.json" for name in contract.forms(direction)}
    assert set(FILES) == expected


@pytest.mark.parametrize("relpath", FILES)
def test_file_declares_its_id_and_draft(relpath: str) -> None:
    document = _load(relpath)
    assert document["$schema"] == DRAFT_2020_12
    assert document["$id"] == contract.BASE_URI + relpath


@pytest.mark.parametrize("relpath", FILES)
def test_file_passes_the_metaschema(relpath: str) -> None:
    Draft202012Validator.check_schema(_load(relpath))


@pytest.mark.parametrize("relpath", FILES)
def test_file_has_a_title_and_a_description_of_what_it_accepts(relpath: str) -> None:
    document = _load(relpath)
    assert document["title"].strip()
    assert len(document["description"]) >= 40


@pytest.mark.parametrize("relpath", FILES)
def test_every_ref_resolves_offline(relpath: str) -> None:
    # The registry has no retrieve function: a ref that leaves the files raises Unresolvable.
    document = _load(relpath)
    resolver = contract.registry().resolver(base_uri=document["$id"])
    refs = list(_refs(document))
    for ref in refs:
        resolved = resolver.lookup(ref)
        assert isinstance(resolved.contents, dict | bool), ref
    assert refs, f"{relpath} defines everything itself instead of sharing common.json's $defs"


def test_registry_holds_every_file_and_fetches_nothing() -> None:
    registry = contract.registry()
    for relpath in FILES:
        assert registry.contents(contract.BASE_URI + relpath) == _load(relpath)
    with pytest.raises(Unresolvable):
        registry.resolver().lookup("https://json-schema.org/draft/2020-12/schema#/$defs/x")
    with pytest.raises(Unresolvable):
        registry.resolver().lookup(contract.BASE_URI + "response/missing.json")


def test_lenient_status_words_extend_the_canonical_ones() -> None:
    defs = _load("common.json")["$defs"]
    for vocabulary in ("order_status", "refill_status"):
        lenient = defs[vocabulary]["enum"]
        canonical = defs[f"{vocabulary}_canonical"]["enum"]
        assert set(canonical) < set(lenient)
        assert len(lenient) == len(set(lenient))


def test_every_service_type_def_is_annotated_and_offered_by_add() -> None:
    add = _load("request/add.json")
    offered = {branch["$ref"] for branch in add["anyOf"]}
    labels = contract.service_types()
    assert {"#/$defs/" + name for name in labels.values()} == offered
    assert set(labels) == {
        "Default",
        "Package",
        "SEO",
        "Custom Comments",
        "Custom Comments Package",
        "Mentions",
        "Mentions with Hashtags",
        "Mentions Custom List",
        "Mentions Hashtag",
        "Mentions User Followers",
        "Mentions Media Likers",
        "Comment Likes",
        "Comment Replies",
        "Poll",
        "Invites from Groups",
        "Subscriptions",
        "Web Traffic",
    }
    canonical_types = _load("canonical/services.json")["$defs"]["service"]["properties"]["type"]
    assert set(canonical_types["enum"]) == set(labels)
