"""Reading a ``report.json`` someone hands the harness back: a baseline for a run
(``--panel-baseline``), the two sides of ``smm-conformance diff``, the report ``sign`` and
``verify`` read.

The file may come from anywhere (an older harness, a hand edit, a truncated download), so every
way it can be wrong ends in one :class:`ReportFileError` whose message is one line naming the
file and what is wrong with it: missing, unreadable, not UTF-8, not JSON, a key given twice (a
reader sees one value, the parser keeps another: refused rather than guessed), ``NaN``, not a
report, a report of another format version, not of the shape ``schemas/report.schema.json``
describes. No pytest here: the command-line tool imports it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from harness.contract.resources import schemas_dir

__all__ = [
    "FORMAT",
    "REPORT_NAME",
    "ReportFileError",
    "read_json",
    "read_report",
    "report_path",
]

# /2: WAIVED verdicts, waivers, root_causes and each clause's blocked_by; the scope and the
# conclusion; spend.spent null when a closing balance was not measured; an optional baseline
# section (added without a new version: a /2 reader ignores nothing it needs).
FORMAT = "smm-conformance-report/2"
REPORT_NAME = "report.json"
_FORMAT_PREFIX = "smm-conformance-report/"
_SHOWN = 160  # the longest excerpt of a bad value a message quotes


class ReportFileError(ValueError):
    """A file that cannot be used as a report; the message is one line, ready to print."""


def report_path(path: Path) -> Path:
    """``path`` itself, or the ``report.json`` inside it when it is a ``--panel-report``
    directory."""
    return path / REPORT_NAME if path.is_dir() else path


def read_json(path: Path, what: str = "file") -> Any:
    """The JSON value in ``path``, parsed strictly: no duplicate key, no NaN or Infinity."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReportFileError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ReportFileError(f"{path}: is a directory, not a {what}") from None
    except OSError as error:
        raise ReportFileError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReportFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ReportFileError(
            f"{path}: not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except _Refused as error:
        raise ReportFileError(f"{path}: {error}") from None
    except RecursionError:
        raise ReportFileError(f"{path}: nested too deeply to be a report") from None


def read_report(path: Path, *, validate: bool = True) -> dict[str, Any]:
    """The report in ``path`` (a file or a ``--panel-report`` directory).

    Its ``format`` must be this harness's :data:`FORMAT`; with ``validate`` it must also have
    the shape of ``schemas/report.schema.json``. ``verify`` reads without ``validate``: a report
    altered after signing must reach the signature check, which says what was changed, rather
    than stop at a schema message.
    """
    path = report_path(path)
    record = read_json(path, "report")
    if not isinstance(record, dict):
        raise ReportFileError(f"{path}: not a conformance report (a JSON {_kind(record)}, "
                              "not an object)")
    found = record.get("format")
    if not isinstance(found, str) or not found.startswith(_FORMAT_PREFIX):
        raise ReportFileError(f"{path}: not a conformance report (no \"format\": "
                              f"\"{FORMAT}\" in it)")
    if found != FORMAT:
        raise ReportFileError(f"{path}: a report of format {_excerpt(found)}; this harness "
                              f"reads {FORMAT} (run both with the same harness version)")
    if validate:
        error = best_match(_validator().iter_errors(record))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
            raise ReportFileError(f"{path}: not a valid {FORMAT} report: at {where}: "
                                  f"{_excerpt(error.message)}")
    return record


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads((schemas_dir() / "report.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


class _Refused(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            raise _Refused(f"the key {_excerpt(key)} appears twice in one object")
        record[key] = value
    return record


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _excerpt(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
