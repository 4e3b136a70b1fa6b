"""Build HAR 1.2 entries from plain values, wrap them in a log, write the log atomically.

HAR 1.2 (Jan Odvarko's spec, the format browsers' developer tools export and proxies and API
tools import) is one JSON document: ``{"log": {"version", "creator", "entries": [...]}}``. Each
entry is one request and its answer with their timing. What the writers here know and what
they cannot:

- the whole time of an exchange, not its phases: ``timings.wait`` holds it and ``send`` and
  ``receive`` are 0 (the spec requires all three, and ``time`` is their sum);
- header bytes are unknown (``headersSize`` -1, as the spec allows);
- a form body's parameters are given both as ``text`` and as ``params``, as browsers export
  them (the spec calls the two alternatives; readers accept both and take either);
- an exchange that got no HTTP answer has status 0, as browsers record an aborted request.

Fields of our own start with ``_``, as the spec requires of custom fields.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "HAR_VERSION",
    "Body",
    "entry",
    "har_log",
    "post_data",
    "query_string",
    "started_date_time",
    "write_atomic",
    "write_text_atomic",
]

HAR_VERSION = "1.2"
_FORM = "application/x-www-form-urlencoded"

JsonObject = dict[str, object]


@dataclass(frozen=True, slots=True)
class Body:
    """A message body as recorded: its media type (``""`` when none was declared) and text."""

    mime_type: str
    text: str


def started_date_time(epoch: float) -> str:
    """ISO 8601 with milliseconds and the zone, as HAR wants: ``2024-05-01T10:00:00.123+00:00``."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _pairs(pairs: Iterable[tuple[str, str]]) -> list[JsonObject]:
    return [{"name": name, "value": value} for name, value in pairs]


def query_string(url: str) -> list[JsonObject]:
    """The query string of ``url`` as HAR name/value pairs (blank values kept)."""
    return _pairs(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def post_data(body: Body) -> JsonObject:
    """HAR ``postData``: the text, and the parameters too when the body is a URL-encoded form."""
    data: JsonObject = {"mimeType": body.mime_type, "text": body.text}
    if body.mime_type.split(";")[0].strip().lower() == _FORM:
        data["params"] = _pairs(parse_qsl(body.text, keep_blank_values=True))
    return data


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def entry(
    *,
    started: float,
    seconds: float,
    method: str,
    url: str,
    request_headers: Sequence[tuple[str, str]],
    request_body: Body | None,
    status: int,
    response_headers: Sequence[tuple[str, str]],
    response_body: Body,
    status_text: str | None = None,
    http_version: str = "HTTP/1.1",
    comment: str | None = None,
    extra: Mapping[str, object] | None = None,
) -> JsonObject:
    """One HAR entry. ``started`` is the wall-clock time the request left (seconds since the
    epoch), ``seconds`` how long its answer took; ``status`` 0 means no HTTP answer came.
    ``extra`` holds custom fields, whose names must start with ``_``."""
    if seconds < 0:
        raise ValueError(f"an exchange cannot take a negative time ({seconds})")
    millis = round(seconds * 1000.0, 3)
    request: JsonObject = {
        "method": method,
        "url": url,
        "httpVersion": http_version,
        "cookies": [],
        "headers": _pairs(request_headers),
        "queryString": query_string(url),
        "headersSize": -1,
        "bodySize": 0 if request_body is None else _size(request_body.text),
    }
    if request_body is not None:
        request["postData"] = post_data(request_body)
    size = _size(response_body.text)
    response: JsonObject = {
        "status": status,
        "statusText": _status_text(status) if status_text is None else status_text,
        "httpVersion": http_version if status else "",
        "cookies": [],
        "headers": _pairs(response_headers),
        "content": {"size": size, "mimeType": response_body.mime_type,
                    "text": response_body.text},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": size if status else -1,
    }
    record: JsonObject = {
        "startedDateTime": started_date_time(started),
        "time": millis,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": millis, "receive": 0},
    }
    if comment is not None:
        record["comment"] = comment
    for name, value in (extra or {}).items():
        if not name.startswith("_"):
            raise ValueError(f"a custom HAR field must start with '_', got {name!r}")
        record[name] = value
    return record


def har_log(
    entries: Iterable[JsonObject], *, creator: str, version: str, comment: str | None = None
) -> JsonObject:
    """The HAR document: ``{"log": {...}}`` around ``entries`` (kept in the order given)."""
    log: JsonObject = {
        "version": HAR_VERSION,
        "creator": {"name": creator, "version": version},
        "entries": list(entries),
    }
    if comment is not None:
        log["comment"] = comment
    return {"log": log}


def write_atomic(path: Path, document: Mapping[str, object]) -> None:
    """Write ``document`` as JSON to ``path`` all at once (:func:`write_text_atomic`)."""
    # ASCII escapes: a lone surrogate in a decoded answer stays writable, and valid JSON.
    write_text_atomic(path, json.dumps(document, ensure_ascii=True, indent=1, default=str))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` all at once: into a temporary file beside it, then
    renamed over it, so a reader (or a process killed half-way) never sees half a file.
    The parent directory is created when missing; ``OSError`` is the caller's to report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
