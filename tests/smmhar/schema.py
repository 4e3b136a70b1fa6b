"""The HAR 1.2 schema of this folder, for every test that reads a recording."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).with_name("har-1.2.schema.json")


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def har_problems(document: object) -> list[str]:
    """Every way ``document`` breaks HAR 1.2 (empty: it is valid)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator().iter_errors(document)]


def read_har(path: Path) -> Any:
    """The recording at ``path``, checked valid HAR 1.2."""
    document = json.loads(path.read_text(encoding="utf-8"))
    assert har_problems(document) == []
    return document
