"""The shape of an answer, and the differences between two panels' answers to the script.

An answer's shape is what a client depends on, with what legitimately varies left out:

- its HTTP status, the media type (and parameters) of its Content-Type, and its JSON
  formatting (compact, spaced, pretty-printed with an indent);
- its JSON structure: objects by key (key order ignored: JSON objects are unordered and no
  client of these APIs reads them in order), arrays element by element, and each scalar by
  type: a string of digits (``"157"``), a decimal string with its places (``"0.27819"``: 5
  places), an integer, a number with its places, a boolean, null;
- the ids the panel handed out, by the role they play in the script (``<order pending>``)
  and whether they are digits or letters, never their value: a multi-status answer keyed by
  order id compares key by key across two runs with different ids;
- any other text by its exact value: error wordings (the ``error`` text, filled in), status
  spellings (``Inprogress``), wrappers (``"status": "success"``), the currency. Inside an
  object holding an ``error``, numbers and digit strings are exact too: SMMApi's
  ``"status": "102"`` is a wording, not a count;
- for the ``services`` answer, its catalogue as well: every service's id, name, type
  spelling, category, rate, min, max and flags, by value (an emulated provider must serve
  the same catalogue), entries matched by service id.

Counts, money digits and start counts are left out, so two runs of one profile with
different seeds have the same shapes; places, types and wordings are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TextIO, TypeAlias

from mockpanel.emulate.script import KEYS, Exchange, Transcript, harness_provokes, run_script
from mockpanel.profiles import Profile

__all__ = [
    "AnswerShape",
    "Difference",
    "compare",
    "diff_command",
    "diff_profiles",
    "render",
    "shape_of",
]

# A shape: an object's members by key, an array's elements in order, or a leaf's description.
Shape: TypeAlias = "dict[str, Shape] | list[Shape] | str"

_DIGITS: Final = re.compile(r"-?[0-9]+")
_DECIMAL: Final = re.compile(r"-?[0-9]+\.([0-9]+)")
_ABSENT: Final = "(absent)"
_FLAGS: Final = frozenset({"dripfeed", "refill", "cancel"})
_FLAG_WORDS: Final[Mapping[object, str]] = {True: "yes", False: "no", "1": "yes", "0": "no"}


@dataclass(frozen=True, slots=True)
class Difference:
    """One place where two panels answered the same step differently: the script step, where
    in the answer (``HTTP status``, ``Content-Type``, or a JSON path such as
    ``$.<order pending>.status``), and what each side answered there, as short text."""

    step: str
    path: str
    a: str
    b: str


@dataclass(frozen=True, slots=True)
class AnswerShape:
    """One answer reduced to what is compared (see the module docstring)."""

    status: int
    content_type: str
    formatting: str
    body: Shape
    headers: tuple[tuple[str, str], ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    # service id -> field -> value, for the services answer; None for every other answer
    catalogue: Mapping[str, Mapping[str, str]] | None = None


class _Number(str):
    """A JSON number with a fraction or exponent, kept as its literal text (its places)."""

    __slots__ = ()


# ------------------------------------------------------------------------------ shaping


class _Names:
    """Ids and secrets in text: ids become their role, the script's keys ``<key>``."""

    def __init__(self, ids: Mapping[str, str]) -> None:
        self.ids = ids
        words = sorted([*ids, *KEYS], key=len, reverse=True)
        self._pattern = re.compile(
            "(?<![A-Za-z0-9])(" + "|".join(re.escape(w) for w in words) + ")(?![A-Za-z0-9])"
        )

    def text(self, value: str) -> str:
        return self._pattern.sub(lambda m: self.ids.get(m.group(1), "<key>"), value)


def _content_type(header: str | None) -> str:
    """``text/html; charset=utf-8`` for ``text/html; charset=UTF-8``: the media type and its
    parameters, lower case (values are case-insensitive for charset, the one sent)."""
    if header is None:
        return "(none)"
    media, *params = (part.strip() for part in header.split(";"))
    kept = []
    for param in params:
        name, _, value = param.partition("=")
        kept.append(f"{name.strip().lower()}={value.strip().strip(chr(34)).lower()}")
    return "; ".join([media.lower(), *kept])


def _formatting(text: str) -> str:
    """How JSON text is laid out: compact, spaced on one line, or pretty-printed (with the
    indent of its first member), and whether whitespace trails it."""
    body = text.strip()
    in_string = escaped = spaced = broken = False
    for char in body:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in " \t\r\n":
            spaced = True
            broken = broken or char == "\n"
    if broken:
        second = body.split("\n")[1]
        layout = f"pretty-printed, indent {len(second) - len(second.lstrip(' '))}"
    else:
        layout = "spaced on one line" if spaced else "compact"
    return layout + (", trailing whitespace" if text != text.rstrip() else "")


def _leaf(value: Any, names: _Names, exact: bool, texts: bool) -> str:
    role = names.ids.get(str(value)) if isinstance(value, str | int) else None
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}" if exact else "boolean"
    if value is None:
        return "null"
    if isinstance(value, _Number):
        if exact:
            return f"number {value}"
        places = _DECIMAL.fullmatch(value)
        return f"number, {len(places.group(1))} places" if places else f"number like {value}"
    if isinstance(value, int):
        if role is not None:
            return f"id {role} as an integer"
        return f"integer {value}" if exact else "integer"
    assert isinstance(value, str)
    if role is not None:
        kind = "digits" if value.isdigit() else "letters and digits"
        return f"id {role} as text of {kind}"
    if _DIGITS.fullmatch(value):
        return f"text {json.dumps(value)}" if exact else "text of digits"
    places = _DECIMAL.fullmatch(value)
    if places and not exact:
        return f"decimal text, {len(places.group(1))} places"
    if not texts and not exact:
        return "text"
    return f"text {json.dumps(names.text(value))}"


def _shape(value: Any, names: _Names, *, exact: bool = False, texts: bool = True) -> Shape:
    """``value``'s shape; ``exact``: its scalars are compared by value (members of an object
    holding an ``error``); ``texts``: plain text is compared by value (not in a catalogue,
    whose values are compared on their own)."""
    if isinstance(value, dict):
        inner = "error" in value
        return {
            names.text(key): _shape(member, names, exact=inner, texts=texts)
            for key, member in value.items()
        }
    if isinstance(value, list):
        return [_shape(item, names, texts=texts) for item in value]
    return _leaf(value, names, exact, texts)


def _plain(value: Any) -> str:
    """A catalogue value as its meaning: a rate as a number (2.50 is 2.5: the places are the
    shape's business), min/max as integers, flags as yes/no, text as itself."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | _Number):
        return str(value)
    return json.dumps(value)


def _catalogue_value(name: str, value: Any) -> str:
    if name in _FLAGS and isinstance(value, bool | int | str) and value in _FLAG_WORDS:
        return _FLAG_WORDS[value]  # true, 1 and "1" all say yes: the shape tells them apart
    if name == "rate" and not isinstance(value, bool):
        try:
            rate = Decimal(str(value)).normalize()
        except InvalidOperation:
            return _plain(value)
        return format(rate, "f")
    if name in ("min", "max") and isinstance(value, int | str) and not isinstance(value, bool):
        text = str(value).strip()
        return str(int(text)) if text.isdigit() else text
    return _plain(value)


def _catalogue(document: Any, names: _Names) -> tuple[Shape, dict[str, dict[str, str]]]:
    """The services answer's shape, entries keyed ``[service ID]``, and its values."""
    if not isinstance(document, list) or not all(
        isinstance(e, dict) and isinstance(e.get("service"), str | int) for e in document
    ):
        return _shape(document, names), {}
    shape: dict[str, Shape] = {}
    values: dict[str, dict[str, str]] = {}
    for entry in document:
        key = f"[service {entry['service']}]"
        shape[key] = _shape(entry, names, texts=False)
        values[key] = {
            name: _catalogue_value(name, value)
            for name, value in entry.items()
            if name != "service"
        }
    return shape, values


def _load(text: str) -> Any:
    return json.loads(text, parse_float=_Number, parse_constant=_Number)


def shape_of(exchange: Exchange, ids: Mapping[str, str]) -> AnswerShape:
    """The shape of one answer of a run whose ids play the roles ``ids`` names."""
    names = _Names(ids)
    catalogue: dict[str, dict[str, str]] | None = None
    try:
        document = _load(exchange.body)
    except ValueError:
        shown = names.text(exchange.body.strip())
        body: Shape = f"not JSON: {json.dumps(shown[:200])}"
        formatting = "not JSON"
    else:
        formatting = _formatting(exchange.body)
        if exchange.catalogue:
            body, catalogue = _catalogue(document, names)
        else:
            body = _shape(document, names)
    headers = tuple(
        (name, "present" if name == "Retry-After" else ", ".join(sorted(value.split(","))))
        for name, value in exchange.headers
    )
    return AnswerShape(
        exchange.status,
        _content_type(exchange.content_type),
        formatting,
        body,
        headers,
        exchange.facts,
        catalogue,
    )


# ---------------------------------------------------------------------------- comparing


def _natural(key: str) -> tuple[tuple[int, int | str], ...]:
    """Sorts ``[service 2]`` before ``[service 10]``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"([0-9]+)", key)
    )


def _summary(shape: Shape) -> str:
    """Short text for a shape: a leaf's description; a small object of leaves in full (an
    error answer shows its wording); otherwise an object's keys or an array's length."""
    if isinstance(shape, dict):
        keys = sorted(shape, key=_natural)
        if len(keys) <= 3 and all(isinstance(shape[k], str) for k in keys):
            return "{" + ", ".join(f"{k}: {shape[k]}" for k in keys) + "}"
        shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
        return f"object {{{shown}}}"
    if isinstance(shape, list):
        return f"array of {len(shape)}"
    return shape


def _member(path: str, key: str) -> str:
    if key.startswith("[") or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|<[^<>]*>", key):
        return path + ("" if key.startswith("[") else ".") + key
    return f"{path}[{json.dumps(key)}]"


def _shapes(a: Shape, b: Shape, path: str) -> Iterator[tuple[str, str, str]]:
    """Where shapes ``a`` and ``b`` differ: (path, a's summary, b's summary)."""
    if isinstance(a, dict) and isinstance(b, dict) and (a.keys() & b.keys() or not (a and b)):
        for key in sorted(a.keys() | b.keys(), key=_natural):
            where = _member(path, key)
            if key not in a:
                yield where, _ABSENT, _summary(b[key])
            elif key not in b:
                yield where, _summary(a[key]), _ABSENT
            else:
                yield from _shapes(a[key], b[key], where)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield path, _summary(a), _summary(b)
        for index, (left, right) in enumerate(zip(a, b, strict=False)):
            yield from _shapes(left, right, f"{path}[{index}]")
    elif a != b:
        yield path, _summary(a), _summary(b)


def _pairs(
    name: str, a: Iterable[tuple[str, str]], b: Iterable[tuple[str, str]]
) -> Iterator[tuple[str, str, str]]:
    left, right = dict(a), dict(b)
    for key in sorted(left.keys() | right.keys()):
        if left.get(key) != right.get(key):
            yield f"{name}{key}", left.get(key, _ABSENT), right.get(key, _ABSENT)


def _catalogues(
    a: Mapping[str, Mapping[str, str]], b: Mapping[str, Mapping[str, str]]
) -> Iterator[tuple[str, str, str]]:
    """Values of the services both list (the shape reports those only one lists, and fields
    only one has); and the listing order when both list the same services."""
    for service in a:
        if service not in b:
            continue
        for name in sorted(a[service].keys() & b[service].keys()):
            left, right = a[service][name], b[service][name]
            if left != right:
                yield f"${service}.{name}", f"value {left!r}", f"value {right!r}"
    if set(a) == set(b) and list(a) != list(b):
        yield "$ (order of services)", " ".join(a), " ".join(b)


def _answers(a: AnswerShape, b: AnswerShape) -> Iterator[tuple[str, str, str]]:
    if a.status != b.status:
        yield "HTTP status", str(a.status), str(b.status)
    if a.content_type != b.content_type:
        yield "Content-Type", a.content_type, b.content_type
    if a.formatting != b.formatting:
        yield "JSON formatting", a.formatting, b.formatting
    yield from _pairs("header ", a.headers, b.headers)
    yield from _pairs("", a.facts, b.facts)
    yield from _shapes(a.body, b.body, "$")
    if a.catalogue is not None and b.catalogue is not None:
        yield from _catalogues(a.catalogue, b.catalogue)


def _by_step(transcript: Transcript) -> dict[str, AnswerShape]:
    shapes: dict[str, AnswerShape] = {}
    for exchange in transcript.exchanges:
        step, count = exchange.step, 1
        while step in shapes:  # the script names its steps once each; stay total anyway
            count += 1
            step = f"{exchange.step} #{count}"
        shapes[step] = shape_of(exchange, transcript.ids)
    return shapes


def compare(a: Transcript, b: Transcript) -> list[Difference]:
    """Every difference between two runs of the script, in the script's order."""
    left, right = _by_step(a), _by_step(b)
    steps = list(left) + [step for step in right if step not in left]
    differences: list[Difference] = []
    for step in steps:
        if step not in right or step not in left:
            # Only a step that depends on the catalogue (an add of a type) can be missing.
            sent = "sent (its catalogue lists this type)"
            not_sent = "not sent (its catalogue lists no such type)"
            said = (sent, not_sent) if step in left else (not_sent, sent)
            differences.append(Difference(step, "(step)", *said))
            continue
        differences.extend(
            Difference(step, path, x, y)
            for path, x, y in _merged(_answers(left[step], right[step]))
        )
    return differences


_SERVICE_KEY: Final = re.compile(r"\[service ([^\]]*)\]")


def _merged(found: Iterable[tuple[str, str, str]]) -> Iterator[tuple[str, str, str]]:
    """One line for the same difference in several services of a catalogue: a dialect that
    writes its flags as integers does so for every service (``$[service 1,2,3].refill``)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for path, a, b in found:
        services = _SERVICE_KEY.findall(path)
        general = _SERVICE_KEY.sub("[service *]", path, count=1)
        groups.setdefault((general, a, b), []).extend(services[:1])
    for (general, a, b), services in groups.items():
        yield general.replace("*", _ranges(services), 1) if services else general, a, b


def _ranges(ids: Sequence[str]) -> str:
    """``1-5,7,K2`` for ``1 2 3 4 5 7 K2``: runs of consecutive numbers shortened."""
    parts: list[str] = []
    run: list[int] = []
    for item in [*ids, ""]:
        if item.isdigit() and run and int(item) == run[-1] + 1:
            run.append(int(item))
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)))
        run = [int(item)] if item.isdigit() else []
        if item and not item.isdigit():
            parts.append(item)
    return ",".join(parts)


def diff_profiles(
    a: Profile, b: Profile, *, seeds: tuple[int, int] = (0, 0), harness_steps: bool = False
) -> list[Difference]:
    """Run the script against ``a`` and ``b`` (each in-process, ``seeds`` their seeds) and
    compare the shapes of their answers. Both are probed on the union of their paths.
    ``harness_steps``: only the steps a harness run takes too (:func:`harness_provokes`), what
    a profile inferred from a harness recording can know."""
    paths = sorted(set(a.wire.paths) | set(b.wire.paths))
    return _kept(
        compare(
            run_script(a, seed=seeds[0], probe_paths=paths),
            run_script(b, seed=seeds[1], probe_paths=paths),
        ),
        harness_steps,
    )


def _kept(differences: list[Difference], harness_steps: bool) -> list[Difference]:
    return [d for d in differences if not harness_steps or harness_provokes(d.step)]


def render(differences: Sequence[Difference], a_label: str, b_label: str) -> str:
    """A report: each step with differences, then one line per difference under it, then a
    one-line summary."""
    lines: list[str] = []
    step = None
    for difference in differences:
        if difference.step != step:
            step = difference.step
            lines.append(f"{step}:")
        lines.append(
            f"  {difference.path}: {a_label}: {difference.a} | {b_label}: {difference.b}"
        )
    steps = len({d.step for d in differences})
    if differences:
        lines.append(
            f"{len(differences)} difference{'s' if len(differences) != 1 else ''} in "
            f"{steps} step{'s' if steps != 1 else ''} between {a_label} and {b_label}"
        )
    else:
        lines.append(f"same shapes: {a_label} and {b_label} answer every step of the script alike")
    return "\n".join(lines) + "\n"


def diff_command(
    a: Profile, b: Profile, a_label: str, b_label: str, out: TextIO, *,
    harness_steps: bool = False,
) -> int:
    """``mockpanel profiles diff A B``: the report on ``out``; 0 when the shapes are the same,
    1 when they differ (``harness_steps``: as :func:`diff_profiles`). A mock bug met on the
    way (an HTTP 500) is reported on a line of its own, since it says nothing about either
    profile."""
    paths = sorted(set(a.wire.paths) | set(b.wire.paths))
    left, right = run_script(a, probe_paths=paths), run_script(b, probe_paths=paths)
    for label, transcript in ((a_label, left), (b_label, right)):
        if transcript.failures:
            out.write(
                f"warning: the mock serving {label} hit {transcript.failures} bug(s) "
                "(HTTP 500); see its log\n"
            )
    differences = _kept(compare(left, right), harness_steps)
    out.write(render(differences, a_label, b_label))
    return 1 if differences else 0
