"""The waiver file (``--panel-waivers FILE``): a vendor's known failures, each with a reason
and an expiry date, read and checked before the run starts.

The file is YAML, valid against ``schemas/waivers.schema.json``::

    waivers:
      - clause: ERR-005
        reason: "the gateway answers unknown actions with an HTML page; fix due in sprint 42"
        expires: 2026-09-30

A bad file stops the run at configure time with a :class:`pytest.UsageError` naming each bad
entry and field (never a traceback); so does a clause id that is not in ``clauses.yaml``, and a
clause waived twice. What a waiver does to a verdict is the book's business
(:meth:`harness.judging.verdicts.VerdictBook.waive`); the dates are UTC days, like the
certificate's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from harness.contract.resources import schemas_dir
from harness.judging.verdicts import Waiver

__all__ = ["ORIGIN", "expired_warnings", "load_waivers", "parse_waivers", "utc_today"]

ORIGIN = "--panel-waivers (env PANEL_WAIVERS, ini panel_waivers)"
_MAX_PROBLEMS = 20
_FIELDS = ("clause", "reason", "expires")
# What each field must be, in the words a vendor editing the file needs.
_EXPECTED = {
    "clause": "a clause id such as ERR-005",
    "reason": "a non-empty text saying why the failure is excused",
    "expires": "an ISO date YYYY-MM-DD, the last day the waiver is in force",
}


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps a date as the text written: the schema checks it, not PyYAML
    (which would read ``2026-02-30`` as a string but ``2026-02-28`` as a date)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def utc_today() -> date:
    """The UTC calendar day waivers are judged on."""
    return datetime.now(UTC).date()


@functools.cache
def _validator() -> Draft202012Validator:
    schema = json.loads(schemas_dir().joinpath("waivers.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def load_waivers(path: Path, known: Collection[str]) -> tuple[Waiver, ...]:
    """Read and check the waiver file at ``path`` against the clause ids ``known``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise pytest.UsageError(f"{ORIGIN}: cannot read {path}: {reason}") from None
    return parse_waivers(text, known, source=str(path))


def parse_waivers(text: str, known: Collection[str], *, source: str) -> tuple[Waiver, ...]:
    """The waivers of a file's ``text``; every problem is reported at once, each naming its
    entry (1-based, with its clause when readable) and field."""
    try:
        document = yaml.load(text, Loader=_Loader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as error:
        raise _refused(source, [f"not valid YAML: {' '.join(str(error).split())}"]) from None
    if document is None:
        raise _refused(source, ["the file is empty: expected 'waivers:' and a list of entries"])
    errors = sorted(_validator().iter_errors(document), key=_in_file_order)
    problems = list(dict.fromkeys(p for error in errors for p in _describe(error, document)))
    if problems:
        raise _refused(source, problems)
    waivers: list[Waiver] = []
    first: dict[str, int] = {}
    for index, entry in enumerate(document["waivers"], start=1):
        clause = entry["clause"]
        where = _entry(index, entry)
        if clause not in known:
            problems.append(f"{where}, field clause: {clause!r} is not a clause of "
                            "schemas/clauses.yaml")
            continue
        if clause in first:
            problems.append(f"{where}, field clause: {clause} is already waived by entry "
                            f"{first[clause]} (one waiver per clause)")
            continue
        first[clause] = index
        try:
            expires = date.fromisoformat(entry["expires"])
        except ValueError:  # the schema's format check should have caught it: say so anyway
            problems.append(f"{where}, field expires: must be {_EXPECTED['expires']} "
                            f"(got {entry['expires']!r})")
            continue
        waivers.append(Waiver(clause, " ".join(entry["reason"].split()), expires))
    if problems:
        raise _refused(source, problems)
    return tuple(waivers)


def expired_warnings(waivers: Iterable[Waiver], today: date) -> list[str]:
    """One warning per waiver past its date: it is ignored, the FAIL it excused stands."""
    return [
        f"{ORIGIN}: the waiver of {w.clause} expired on {w.expires} and is ignored: a FAIL "
        f"of {w.clause} fails the run ({w.reason})"
        for w in waivers
        if not w.in_force(today)
    ]


# ---------------------------------------------------------------------------------------------
# messages


def _refused(source: str, problems: Sequence[str]) -> pytest.UsageError:
    shown = [f"  {problem}" for problem in problems[:_MAX_PROBLEMS]]
    if len(problems) > _MAX_PROBLEMS:
        shown.append(f"  (and {len(problems) - _MAX_PROBLEMS} more)")
    return pytest.UsageError(
        f"{ORIGIN}: {source} is not a valid waiver file (schemas/waivers.schema.json):\n"
        + "\n".join(shown)
    )


def _in_file_order(error: ValidationError) -> list[tuple[int, str]]:
    """Entries by number (entry 2 before entry 10), fields by name."""
    return [(part, "") if isinstance(part, int) else (-1, str(part)) for part in error.path]


def _entry(index: int, entry: object) -> str:
    clause = entry.get("clause") if isinstance(entry, Mapping) else None
    return f"entry {index} ({clause})" if isinstance(clause, str) and clause else f"entry {index}"


def _describe(error: ValidationError, document: Any) -> list[str]:
    """The problems of one schema error in a vendor's words: which entry, which field, what
    it must be."""
    path = list(error.absolute_path)
    if not path:
        if error.validator == "additionalProperties" and isinstance(document, Mapping):
            extra = sorted(str(k) for k in document if k != "waivers")
            return [f"field {name}: unknown (the file holds only 'waivers')" for name in extra]
        if isinstance(document, Mapping):
            return ["field waivers: missing (expected 'waivers:' and a list of entries)"]
        return [f"expected a mapping with a 'waivers' list, got {type(document).__name__}"]
    if len(path) == 1:
        return ["field waivers: must be a list of entries (clause, reason, expires)"]
    index = path[1]
    assert isinstance(index, int)
    entry = document["waivers"][index]
    where = _entry(index + 1, entry)
    if len(path) == 2:
        if not isinstance(entry, Mapping):
            return [f"{where}: must be a mapping with {', '.join(_FIELDS)}"]
        if error.validator == "required":
            return [f"{where}, field {name}: missing (expected {_EXPECTED[name]})"
                    for name in _FIELDS if name not in entry]
        extra = sorted(str(k) for k in entry if k not in _FIELDS)
        return [f"{where}, field {name}: unknown (an entry has {', '.join(_FIELDS)})"
                for name in extra]
    name = str(path[2])
    expected = _EXPECTED.get(name)
    if expected is None:
        return [f"{where}, field {name}: {error.message}"]
    return [f"{where}, field {name}: must be {expected} (got {error.instance!r})"]
