"""``mockpanel profiles infer``: a profile file inferred from a HAR 1.2 recording.

A harness run (``pytest --panel-record run.har``) talks to a real panel the way every client
does, and provokes every refusal it can without spending more than it may; ``mockpanel serve
--record`` keeps what a client sent the mock. Either recording says how the panel answers:
where its API is, which bodies it reads, how it spells numbers, statuses and errors, what it
sells. :func:`infer` reads that into the settings of a profile; :func:`inference_yaml` writes
them as a file that ``extends: reference``, gives every setting the recording showed
explicitly (even one equal to the reference's), and lists each one it did not show under
``not_observed`` with the reason, so a reader knows which values are guesses.

The recording's evidence is read in three steps: the served answers (:mod:`.infer_answers`),
the refusals classified by their requests (:mod:`.infer_errors`), and the shapes, actions and
budget that follow from both (:mod:`.infer_shapes`). ``observed`` records the same evidence as
the dialect traits of ``schemas/dialects.yaml`` (``bad_key.message``, ``cancel.shape``, ...),
the vocabulary the harness's dialect detection uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from mockpanel.emulate.infer_answers import (
    Findings,
    accepted_media,
    flags_from_behaviour,
    services_settings,
    wire_settings,
)
from mockpanel.emulate.infer_candidates import Context
from mockpanel.emulate.infer_errors import classify, wordings
from mockpanel.emulate.infer_numbers import money_settings, numbers_settings, words_settings
from mockpanel.emulate.infer_read import InferenceError, Seen, parse_recording, read_exchanges
from mockpanel.emulate.infer_shapes import (
    actions_settings,
    dripfeed_settings,
    error_settings,
    rate_limit_settings,
    shapes_settings,
)
from mockpanel.profiles import REFERENCE, Profile, ProfileFileError, load_profile_text
from mockpanel.profiles.codec import profile_to_plain
from mockpanel.profiles.writing import dump_yaml

__all__ = ["Inference", "InferenceError", "infer", "inference_yaml", "read_recording"]

_ORDER: Final = tuple(profile_to_plain(REFERENCE))


@dataclass(frozen=True, slots=True)
class Inference:
    """What a recording showed: the profile, the settings it gave explicitly (plain values by
    dotted path), the settings it left at the reference's value (with the reason), the dialect
    traits it showed, and notes on what could not be used."""

    name: str
    profile: Profile
    settings: Mapping[str, Any]
    not_observed: Mapping[str, str]
    observed: Mapping[str, Any]
    notes: tuple[str, ...]
    exchanges: int


def read_recording(path: str | Path) -> dict[str, Any]:
    """The HAR document in the file at ``path``; :class:`InferenceError` if it cannot be read
    or is not JSON."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InferenceError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return parse_recording(data)


def infer(har: Mapping[str, Any], *, name: str) -> Inference:
    """The profile ``har`` (a HAR 1.2 document) shows, called ``name``.

    :class:`InferenceError` (one line) when ``har`` is not a HAR log, holds no API exchange, or
    no services answer (a profile cannot exist without its catalogue)."""
    if not isinstance(har, Mapping):
        raise InferenceError("the recording is not a HAR file: no top-level object")
    exchanges = read_exchanges(har)
    f = Findings()
    catalog = services_settings(exchanges, f)
    accepted = wire_settings(exchanges, f)
    places = money_settings(exchanges, f)
    numbers_settings(exchanges, f)
    words_settings(exchanges, f)
    ctx = Context(catalog, accepted, accepted_media(accepted),
                  places if places is not None else REFERENCE.money_places,
                  flags=frozenset(f.settings.get("services.fields", ())))
    observations = classify(ctx, exchanges)
    found = wordings(observations)
    error_settings(found, f)
    actions_settings(exchanges, observations, f)
    shapes_settings(exchanges, found, ctx, f)
    rate_limit_settings(exchanges, _started(har), f)
    dripfeed_settings(exchanges, observations, f)
    drip = [s for s in exchanges if s.action == "add" and s.params.get("runs")]
    handlers = set(f.settings.get("actions", {}).values())
    flags_from_behaviour(
        catalog,
        {"dripfeed": _services(s for s in drip if s.answered),
         "refill": ctx.refilled, "cancel": ctx.cancelled},
        {"dripfeed": _services(s for s in drip if s.is_json and not s.answered),
         "refill": ctx.refill_refused, "cancel": ctx.cancel_refused_services},
        {"dripfeed": f.settings.get("services.takes_dripfeed") is True,
         "refill": "refill" in handlers, "cancel": "cancel" in handlers},
        f,
    )
    profile = _load(_document(f, name, "a recording"), name)
    return Inference(
        name=name,
        profile=profile,
        settings=MappingProxyType(dict(f.settings)),
        not_observed=MappingProxyType(dict(sorted(f.not_observed.items()))),
        observed=MappingProxyType(dict(sorted(f.observed.items()))),
        notes=tuple(dict.fromkeys(f.notes)),
        exchanges=len(exchanges),
    )


def inference_yaml(inference: Inference, *, source_label: str) -> str:
    """The profile file of ``inference``: a header saying what it is and how to serve it, the
    settings the recording showed, ``observed`` traits and ``not_observed`` reasons."""
    f = Findings(dict(inference.settings), dict(inference.not_observed),
                 dict(inference.observed), list(inference.notes))
    header = [
        f"A mockpanel profile inferred from {source_label} ({inference.exchanges} API "
        "exchanges) by `mockpanel profiles infer`.",
        "Serve it: mockpanel serve --profile-file THIS_FILE",
        "Every setting below was seen in the recording. What the recording did not show keeps",
        "the reference profile's value and is listed under not_observed with the reason: those",
        "are guesses. `observed` lists the dialect traits (schemas/dialects.yaml) it showed.",
    ]
    header += [f"Note: {note}" for note in inference.notes[:20]]
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header)
    return comment + dump_yaml(_document(f, inference.name, source_label))


def _services(exchanges: Iterable[Seen]) -> set[int]:
    """The catalogue service ids ``exchanges`` name."""
    named = (s.params.get("service", "") for s in exchanges)
    return {int(text) for text in named if text.isdigit() and len(text) < 12}


def _started(har: Mapping[str, Any]) -> dict[int, datetime]:
    """Each entry's start time, by its index in the log."""
    times: dict[int, datetime] = {}
    log = har.get("log")
    entries = log.get("entries") if isinstance(log, Mapping) else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        value = entry.get("startedDateTime") if isinstance(entry, Mapping) else None
        if isinstance(value, str):
            try:
                times[i] = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return times


def _nest(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted paths as nested tables, top-level keys in the profile's field order."""
    tree: dict[str, Any] = {}
    for path, value in settings.items():
        parts = path.split(".")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return {k: tree[k] for k in sorted(tree, key=lambda k: _ORDER.index(k) if k in _ORDER
                                       else len(_ORDER))}


def _document(f: Findings, name: str, source_label: str) -> dict[str, Any]:
    seen = sum(1 for path in f.settings)
    document: dict[str, Any] = {
        "name": name,
        "extends": "reference",
        "summary": f"inferred from a recording: {seen} settings seen, "
                   f"{len(f.not_observed)} left at the reference's value",
        "source": f"mockpanel profiles infer {source_label}",
    }
    document.update(_nest(f.settings))
    if f.observed:
        document["observed"] = dict(sorted(f.observed.items()))
    document["not_observed"] = dict(sorted(f.not_observed.items()))
    return document


def _load(document: Mapping[str, Any], name: str) -> Profile:
    try:
        return load_profile_text(dump_yaml(document), f"{name} (inferred)")
    except ProfileFileError as exc:
        raise InferenceError(f"the inferred profile is not valid: {exc}") from None
