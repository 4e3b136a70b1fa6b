"""The seed documents' examples, transcribed into ``seed_NNN.yaml`` beside this module.

The five vendor pages of ``../shared/seeds`` are the ground truth the profiles emulate, but a
CI clone has no ``../shared``: each page's examples are copied here, each with the lines it
came from, and :mod:`tests.mockpanel.seeds.test_transcripts` checks the copies against the
page text, so they cannot drift from it silently.

One file per seed: ``seed`` (the page's file name), ``profile`` (the mock profile emulating
it) and ``examples``, each with:

``name``
    unique in the file; the test id.
``request``
    ``form``: the body fields, as the page shows them (``YOUR_API_KEY``, the page's ids); with
    ``lines: [first, last]`` where the page shows the request (a curl command, whose ``-d``
    fields must equal ``form``, or a parameter table, which must list every field of
    ``form``); or with a ``note`` instead, where the page prints an answer or an error but no
    request for it (the request is then chosen here, and the note says from what).
    A value ``{min}``, ``{min-1}`` or ``{max+1}`` is the chosen service's advertised limit.
``answer``
    ``lines`` and ``text``: the page's example answer, verbatim (each line compared with its
    outer whitespace stripped: the pages' indentation is layout). Seed 000 prints answers as
    curl comments, whose ``# → ``/``# `` prefixes and ``# ...`` elision are undone when the
    text is parsed. ``replace`` (with ``replace_line``, where the page names those values)
    sets fields of the parsed answer: a status word the page lists but prints no example of.
``error``
    instead of ``answer``, for an error the page documents without printing its answer:
    ``lines``/``text`` (the table row or list item, verbatim); ``message``, the exact error
    string when the page gives one (``spelled``: the text it is read from, when that is not
    the message itself); no ``message`` when the page names the case but not the words.
``http``
    ``{status, line}``: the HTTP status, only where the page states it (on that line).
``exact``
    keys whose values must equal the page's (status words, currency, error strings): every
    other value is compared by JSON type only.
``optional``
    keys the answer may carry beyond the example's, because the same page documents them
    for this answer elsewhere (the line is cited in a comment).
``copied_places``
    money keys whose number of decimals is not compared, because the example is a stock sample
    copied from another panel's page (the reason in a comment).
``items: any``
    the answer is a catalogue: each item must match one of the page's items (their number
    is the catalogue's), instead of the items matching one to one, in order.
``repeat``
    send the request this many times and compare the last answer (rate limits).
``headers``
    response headers the answer must carry.
``webhook``
    ``{lines, content_type}``: the answer is the webhook the panel POSTs, not an API answer.
``setup``
    the state the example needs: ``balance`` (the tenant's opening balance), ``suspend``,
    ``services`` (a page's service id -> the ``type`` and flags of one in the profile's own
    catalogue, or ``unknown: true``), ``orders`` and ``refills`` (a page's id -> the
    ``status`` to bring a new one to, with ``remains`` and the order's ``service``; or
    ``unknown: never-issued`` / ``unknown: other-tenant``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DATA_DIR",
    "Example",
    "OrderSetup",
    "Quote",
    "RefillSetup",
    "ServiceChoice",
    "Setup",
    "Transcript",
    "answer_json",
    "curl_fields",
    "load_all",
    "load_transcript",
]

DATA_DIR = Path(__file__).resolve().parent

# Seed 000's curl comments: "# → " opens an answer, "# " continues it.
_COMMENT = re.compile(r"^#(?: →)? ?")
# A comma left before a closing bracket once an elided "..." line is dropped.
_DANGLING_COMMA = re.compile(r",(\s*[\]}])")
_CURL_FIELD = re.compile(r'-d "([^"=]*)=([^"]*)"')


@dataclass(frozen=True, slots=True)
class Quote:
    """Lines ``first..last`` (1-based, inclusive) of the seed and their text as transcribed."""

    first: int
    last: int
    text: str


@dataclass(frozen=True, slots=True)
class ServiceChoice:
    """A page's service id stands for a service of this ``type`` (and these flags, where the
    profile's catalogue shows them); ``unknown``: for an id the catalogue does not have."""

    type: str | None = None
    flags: Mapping[str, bool] = field(default_factory=dict)
    unknown: bool = False


@dataclass(frozen=True, slots=True)
class OrderSetup:
    status: str | None = None
    remains: int | None = None
    service: ServiceChoice = field(default_factory=lambda: ServiceChoice("Default"))
    unknown: str | None = None  # "never-issued" or "other-tenant"


@dataclass(frozen=True, slots=True)
class RefillSetup:
    status: str | None = None
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class Setup:
    balance: str = "1000"
    suspend: bool = False
    services: Mapping[str, ServiceChoice] = field(default_factory=dict)
    orders: Mapping[str, OrderSetup] = field(default_factory=dict)
    refills: Mapping[str, RefillSetup] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Example:
    """One transcribed example (see the module docstring for each field)."""

    seed: str
    profile: str
    name: str
    form: Mapping[str, str]
    request: Quote | None  # None: the page shows no request (``note`` says why this one)
    note: str | None
    answer: Quote | None
    replace: Mapping[str, str]
    replace_line: int | None
    error: Quote | None
    message: str | None
    spelled: str | None
    http_status: int | None
    http_line: int | None
    exact: frozenset[str]
    optional: frozenset[str]
    copied_places: frozenset[str]
    any_item: bool
    repeat: int
    headers: tuple[str, ...]
    webhook: Quote | None
    content_type: str | None
    setup: Setup

    @property
    def id(self) -> str:
        return f"{self.seed[:3]}-{self.name}"

    def expected(self) -> Any:
        """The page's answer as JSON (numbers with a fraction as ``Decimal``), with
        ``replace`` applied; for an error example, the envelope ``{"error": message}``."""
        if self.answer is None:
            return {"error": self.message}
        document = answer_json(self.answer.text)
        if self.replace:
            assert isinstance(document, dict), self.id
            document = {**document, **self.replace}
        return document


@dataclass(frozen=True, slots=True)
class Transcript:
    seed: str
    profile: str
    path: Path
    examples: tuple[Example, ...]


def answer_json(text: str) -> Any:
    """The JSON of an answer as a page prints it: curl-comment prefixes removed, an elided
    ``...`` line dropped with the comma it leaves dangling."""
    lines = [_COMMENT.sub("", line, count=1) if line.startswith("#") else line
             for line in text.splitlines()]
    kept = [line for line in lines if line.strip() != "..."]
    joined = "\n".join(kept)
    if len(kept) != len(lines):
        joined = _DANGLING_COMMA.sub(r"\1", joined)
    return json.loads(joined, parse_float=Decimal)


def curl_fields(text: str) -> list[tuple[str, str]]:
    """The ``-d "name=value"`` fields of a curl command, in order."""
    return _CURL_FIELD.findall(text)


def _text(value: Any, where: str) -> str:
    # YAML reads 500 as an int and 1.20 as a float; only text and whole numbers are accepted
    # so that no value changes on its way from the page (a float would lose its zeros).
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{where}: {value!r} must be text (quote it)")
    return str(value)


def _quote(raw: Mapping[str, Any] | None, where: str) -> Quote | None:
    if raw is None or "lines" not in raw:
        return None
    first, last = raw["lines"]
    if not 1 <= first <= last:
        raise ValueError(f"{where}: bad lines {raw['lines']!r}")
    return Quote(int(first), int(last), str(raw.get("text", "")))


def _service(raw: Mapping[str, Any]) -> ServiceChoice:
    flags = {name: bool(raw[name]) for name in ("refill", "cancel", "dripfeed") if name in raw}
    return ServiceChoice(raw.get("type"), flags, bool(raw.get("unknown", False)))


def _setup(raw: Mapping[str, Any] | None) -> Setup:
    raw = raw or {}
    orders = {
        _text(seed_id, "order id"): OrderSetup(
            status=spec.get("status"),
            remains=spec.get("remains"),
            service=_service(spec["service"]) if "service" in spec else ServiceChoice("Default"),
            unknown=spec.get("unknown"),
        )
        for seed_id, spec in (raw.get("orders") or {}).items()
    }
    refills = {
        _text(seed_id, "refill id"): RefillSetup(spec.get("status"), spec.get("unknown"))
        for seed_id, spec in (raw.get("refills") or {}).items()
    }
    services = {
        _text(seed_id, "service id"): _service(spec)
        for seed_id, spec in (raw.get("services") or {}).items()
    }
    return Setup(
        balance=_text(raw.get("balance", "1000"), "balance"),
        suspend=bool(raw.get("suspend", False)),
        services=services,
        orders=orders,
        refills=refills,
    )


_KNOWN = frozenset(
    {
        "name", "request", "answer", "error", "http", "exact", "optional", "copied_places",
        "items", "repeat", "headers", "webhook", "setup",
    }
)


def _example(seed: str, profile: str, raw: Mapping[str, Any]) -> Example:
    name = str(raw["name"])
    where = f"{seed} {name}"
    unknown = set(raw) - _KNOWN
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    if ("answer" in raw) == ("error" in raw):
        raise ValueError(f"{where}: exactly one of answer and error")
    request = raw.get("request") or {}
    answer = raw.get("answer") or {}
    error = raw.get("error") or {}
    http = raw.get("http") or {}
    webhook = raw.get("webhook") or {}
    if "webhook" not in raw and "lines" not in request and "note" not in request:
        raise ValueError(f"{where}: a request needs its lines or a note saying why none")
    return Example(
        seed=seed,
        profile=profile,
        name=name,
        form={
            str(k): _text(v, f"{where} form.{k}") for k, v in (request.get("form") or {}).items()
        },
        request=_quote(request, where),
        note=request.get("note"),
        answer=_quote(answer or None, where),
        replace={str(k): _text(v, where) for k, v in (answer.get("replace") or {}).items()},
        replace_line=answer.get("replace_line"),
        error=_quote(error or None, where),
        message=error.get("message"),
        spelled=error.get("spelled"),
        http_status=http.get("status"),
        http_line=http.get("line"),
        exact=frozenset(raw.get("exact") or ()),
        optional=frozenset(raw.get("optional") or ()),
        copied_places=frozenset(raw.get("copied_places") or ()),
        any_item=raw.get("items") == "any",
        repeat=int(raw.get("repeat", 1)),
        headers=tuple(raw.get("headers") or ()),
        webhook=_quote(webhook or None, where),
        content_type=webhook.get("content_type"),
        setup=_setup(raw.get("setup")),
    )


def load_transcript(path: Path) -> Transcript:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    seed, profile = str(document["seed"]), str(document["profile"])
    examples = tuple(_example(seed, profile, raw) for raw in document["examples"])
    names = [example.name for example in examples]
    if len(names) != len(set(names)):
        raise ValueError(f"{path.name}: example names repeat")
    return Transcript(seed, profile, path, examples)


def load_all() -> tuple[Transcript, ...]:
    """Every ``seed_NNN.yaml`` of this folder, in seed order."""
    return tuple(load_transcript(path) for path in sorted(DATA_DIR.glob("seed_*.yaml")))
