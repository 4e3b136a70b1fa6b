"""Loading a scenario: YAML parsed, validated against the schema, then checked semantically.

``schemas/scenario.schema.json`` settles the shape; :class:`_Builder` checks what the schema
cannot (clause ids, names, needs) and builds the :mod:`~harness.scenarios.model`. Every problem
is reported with its JSON pointer in one :class:`ScenarioError`; nothing is half-built.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from harness import contract
from harness.base import values
from harness.base.errors import DataError
from harness.base.exchange import is_spending_action
from harness.contract.resources import schemas_dir
from harness.judging.checks import ErrorKind
from harness.scenarios.expressions import (
    Expression,
    ExpressionError,
    Template,
    parse_expression,
    parse_template,
)
from harness.scenarios.model import (
    ACTION_DEP,
    ADD_LOCALS,
    BALANCE_LOCALS,
    FACTS,
    OPTIONAL_ACTIONS,
    SERVICE_FIELDS,
    Actor,
    Advance,
    Assertion,
    Capture,
    CaptureSource,
    Command,
    ControlStep,
    DeltaCheck,
    HeaderCheck,
    HttpStatusCheck,
    Mint,
    Need,
    OrderOutcome,
    Outcome,
    OutcomeCheck,
    Pricing,
    RefillOutcome,
    Repeat,
    RequestStep,
    Scenario,
    Selector,
    ShapeCheck,
    Size,
    SleepStep,
    StatusCheck,
    Step,
    ThatCheck,
    Vocabulary,
    WaitStep,
)

__all__ = ["DRIPFEED_ACCEPTED", "SCHEMA_ID", "ScenarioError", "load_file", "load_scenario"]

SCHEMA_ID: Final = "https://smm-conformance.invalid/schemas/scenario.schema.json"
_MAX_PROBLEMS: Final = 12
DRIPFEED_ACCEPTED: Final = "accepted"
"""The selector value ``dripfeed: accepted`` (see :attr:`Selector.dripfeed_accepted`)."""
_ERROR_KINDS: Final[Mapping[str, ErrorKind]] = MappingProxyType({
    "bad-request": ErrorKind.BAD_REQUEST,
    "auth": ErrorKind.AUTH,
    "funds": ErrorKind.FUNDS,
    "not-found": ErrorKind.NOT_FOUND,
    "throttled": ErrorKind.THROTTLED,
})


class ScenarioError(DataError):
    """A file is not a valid scenario; ``problems`` are (JSON pointer, message) pairs."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        shown = [f"  {pointer or '/'}: {message}" for pointer, message in problems[:_MAX_PROBLEMS]]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(f"  (and {len(problems) - _MAX_PROBLEMS} more)")
        super().__init__(f"{source} is not a valid scenario:\n" + "\n".join(shown))
        self.source = source
        self.problems = tuple(problems)


@functools.cache
def _schema() -> Mapping[str, Any]:
    document: dict[str, Any] = json.loads(
        schemas_dir().joinpath("scenario.schema.json").read_text(encoding="utf-8")
    )
    Draft202012Validator.check_schema(document)
    return document


def load_file(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(path.name, [("", f"cannot be read: {error}")]) from None
    return load_scenario(text, path.name, expected_name=path.stem)


def load_scenario(text: str, source: str, *, expected_name: str | None = None) -> Scenario:
    """Parse, validate against the schema, then check what the schema cannot (clause ids,
    names, needs). Every problem is reported with its JSON pointer; nothing is half-built."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(source, [("", f"not valid YAML: {error}")]) from None
    validator = Draft202012Validator(_schema())
    problems = sorted(
        {
            (_pointer(error.absolute_path), error.message)
            for error in map(_relevant, validator.iter_errors(document))
        }
    )
    if problems:
        raise ScenarioError(source, problems)
    return _Builder(document, source, expected_name).build()


def _relevant(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf failures, the most telling nested error instead of the summary."""
    if error.context:
        nested = best_match(error.context)
        if nested is not None:
            return _relevant(nested)
    return error


def _pointer(path: Iterable[object]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class _Builder:
    """Turns a schema-valid document into a Scenario, collecting every semantic problem."""

    def __init__(self, document: Mapping[str, Any], source: str, expected: str | None) -> None:
        self.doc = document
        self.source = source
        self.expected = expected
        self.problems: list[tuple[str, str]] = []
        self.clauses = tuple(document["clauses"])
        self.needs = frozenset(Need(n) for n in document["needs"] if n != "none")
        self.services: dict[str, Selector] = {}
        self.captured: dict[str, tuple[int, frozenset[str]]] = {}  # name -> (step, deps)
        self.asserted: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        self.problems.append((where, message))

    def build(self) -> Scenario:
        name = self.doc["name"]
        if self.expected is not None and name != self.expected:
            self.problem(
                "/name", f"{name!r} must be the file name without .yaml ({self.expected!r})"
            )
        self._check_clauses()
        for service_name, raw in self.doc.get("services", {}).items():
            self.services[service_name] = self._selector(f"/services/{service_name}", raw)
        steps = [self._step(i, raw) for i, raw in enumerate(self.doc["steps"])]
        for index, clause in enumerate(self.clauses):
            if clause not in self.asserted:
                self.problem(f"/clauses/{index}", f"{clause} is cited but no assertion checks it")
        if self.problems:
            raise ScenarioError(self.source, sorted(set(self.problems)))
        return Scenario(
            name=name,
            description=self.doc["description"],
            source=self.source,
            clauses=self.clauses,
            needs=self.needs,
            services=tuple(self.services.items()),
            steps=tuple(s for s in steps if s is not None),
        )

    def _check_clauses(self) -> None:
        known = contract.clauses()
        for index, clause in enumerate(self.clauses):
            info = known.get(clause)
            if info is None:
                self.problem(
                    f"/clauses/{index}", f"unknown clause {clause!r} (not in clauses.yaml)"
                )
                continue
            missing = sorted(set(info.needs) - {"none"} - set(self.needs))
            if missing:
                self.problem(
                    "/needs", f"{clause} needs {', '.join(missing)}; add it to the scenario's needs"
                )

    def _need(self, where: str, need: Need, why: str) -> None:
        if need not in self.needs:
            self.problem(where, f"{why} needs {need.value!r}; add it to the scenario's needs")

    def _selector(self, where: str, raw: Mapping[str, Any]) -> Selector:
        types = raw.get("type", ())
        types = (types,) if isinstance(types, str) else tuple(types)
        known = contract.service_types()
        for kind in types:
            if kind not in known:
                self.problem(
                    f"{where}/type", f"unknown service type {kind!r}; known: {', '.join(known)}"
                )
        wanted = raw.get("dripfeed")
        accepted = wanted == DRIPFEED_ACCEPTED
        dripfeed = True if accepted else wanted
        if accepted:
            # Finding such a service on a catalogue that flags none places a drip-feed order.
            self._need(f"{where}/dripfeed", Need.SPEND, "dripfeed: accepted")
        return Selector(
            types=types,
            pricing=Pricing(raw["pricing"]) if "pricing" in raw else None,
            refill=raw.get("refill"),
            cancel=raw.get("cancel"),
            dripfeed=dripfeed,
            dripfeed_accepted=accepted,
            size=Size(raw.get("size", "visible")),
            scale=raw.get("scale", 1),
            optional=raw.get("optional", False),
        )

    # -- names ----------------------------------------------------------------------------

    def _template(self, where: str, text: str) -> Template | None:
        try:
            return parse_template(text)
        except ExpressionError as error:
            self.problem(where, str(error))
            return None

    def _expression(self, where: str, text: str, *, comparison: bool = False) -> Expression | None:
        try:
            return parse_expression(text, comparison=comparison)
        except ExpressionError as error:
            self.problem(where, str(error))
            return None

    def _resolve(self, where: str, names: Iterable[str], local: frozenset[str]) -> frozenset[str]:
        """Check every name is known here; return the optional services they depend on."""
        deps: set[str] = set()
        for name in names:
            head, dot, tail = name.partition(".")
            if name in local:
                continue
            if head in self.services:
                if not dot or tail not in SERVICE_FIELDS:
                    fields = ", ".join(sorted(SERVICE_FIELDS))
                    self.problem(where, f"{name!r}: a service is used through a field ({fields})")
                elif self.services[head].optional:
                    deps.add(head)
            elif name in FACTS:
                need = FACTS[name]
                if need is not None:
                    self._need(where, need, f"the fact {name!r}")
            elif name in self.captured:
                deps.update(self.captured[name][1])
            elif name in ADD_LOCALS:
                self.problem(where, f"{name!r} is known only in the expect and capture of an add")
            elif name == "sent":
                self.problem(where, "'sent' is known only in the expect and capture of a repeat")
            elif name in BALANCE_LOCALS | {"http_status"}:
                self.problem(where, f"{name!r} is only known after the step: use it in expect or "
                             "capture")
            else:
                self.problem(where, f"unknown name {name!r}")
        return frozenset(deps)

    # -- steps ----------------------------------------------------------------------------

    def _step(self, index: int, raw: Mapping[str, Any]) -> Step | None:
        where = f"/steps/{index}"
        number = index + 1
        actor = Actor(raw.get("as", "main"))
        deps: set[str] = set()
        if actor is Actor.SECOND:
            self._need(f"{where}/as", Need.SECOND_KEY, "as: second")
        if actor is Actor.FRESH:
            self._need(f"{where}/as", Need.CONTROL, "as: fresh")

        locals_: set[str] = set(BALANCE_LOCALS)
        kind: str
        if "action" in raw:
            kind = "request"
            locals_ |= {"http_status"}
        elif "control" in raw:
            kind = "control"
            self._need(f"{where}/control", Need.CONTROL, "a control step")
        elif "wait_for" in raw:
            kind = "wait"
            locals_ |= {"http_status"}
        else:
            kind = "sleep"
        step_base: dict[str, Any] = {"number": number, "name": raw["name"], "where": where,
                                     "actor": actor}
        optional = raw.get("action") if "action" in raw else (
            "refill_status" if "refill" in raw.get("wait_for", {}) else None
        )
        if optional in OPTIONAL_ACTIONS:
            deps.add(f"{ACTION_DEP}{optional}")

        kind_fields: dict[str, Any] | None
        if kind == "request":
            kind_fields, pre_deps, extra_locals = self._request(where, raw, actor)
        elif kind == "control":
            kind_fields, pre_deps, extra_locals = self._control(where, raw)
        elif kind == "wait":
            kind_fields, pre_deps, extra_locals = self._wait(where, raw, actor)
        else:
            expression = self._expression(f"{where}/sleep", raw["sleep"])
            if expression is None:
                return None
            pre_deps = self._resolve(f"{where}/sleep", expression.names, frozenset())
            return SleepStep(**step_base, seconds=expression, deps=pre_deps)
        deps |= pre_deps
        locals_ |= extra_locals

        captures, capture_deps = self._captures(where, raw.get("capture", {}), frozenset(locals_))
        deps |= capture_deps
        visible = frozenset(locals_ | {c.name for c in captures})
        refills = raw.get("action") == "refill_status" or "refill" in raw.get("wait_for", {})
        vocabulary = Vocabulary.REFILL if refills else Vocabulary.ORDER
        assertions, assert_deps, measure = self._assertions(
            where, raw.get("expect", []), kind, actor, visible, vocabulary
        )
        deps |= assert_deps
        referenced = {n for c in captures for n in _capture_names(c)}
        referenced |= {n for a in assertions for n in _assertion_names(a)}
        if referenced & BALANCE_LOCALS:
            measure.add(actor.wallet_owner)
        if raw.get("action") == "add":
            measure.discard(actor.wallet_owner)  # the add's own balance reads are the driver's
        for capture in captures:
            self.captured[capture.name] = (number, frozenset(deps))
        if kind_fields is None:
            return None
        step_kind: type[RequestStep | ControlStep | WaitStep] = {
            "request": RequestStep, "control": ControlStep, "wait": WaitStep
        }[kind]
        return step_kind(
            **step_base, **kind_fields, expect=tuple(assertions), capture=tuple(captures),
            measure=frozenset(measure), deps=frozenset(deps),
        )

    def _request(
        self, where: str, raw: Mapping[str, Any], actor: Actor
    ) -> tuple[dict[str, Any] | None, frozenset[str], frozenset[str]]:
        ok = True
        action = self._template(f"{where}/action", raw["action"])
        deps: set[str] = set()
        if action is not None:
            deps |= self._resolve(f"{where}/action", action.names, frozenset())
            literal = action.literal
            if literal is not None and is_spending_action(literal) and literal != "add":
                self.problem(f"{where}/action", "write the add action as 'add' so it is reserved "
                             "under the spend cap")
            if literal == "add":
                self._need(f"{where}/action", Need.SPEND, "an add")
                if actor is Actor.NONE:
                    self.problem(
                        f"{where}/as", "an add is sent with a key (main, second, fresh or wrong)"
                    )
        else:
            ok = False
        params: list[tuple[str, Template]] = []
        for name, value in raw.get("params", {}).items():
            if name in ("key", "action"):
                self.problem(
                    f"{where}/params/{name}", f"{name} is set by `as`/`action`, not a param"
                )
                continue
            template = self._template(f"{where}/params/{name}", str(value))
            if template is None:
                ok = False
                continue
            deps |= self._resolve(f"{where}/params/{name}", template.names, frozenset())
            params.append((name, template))
        worst = None
        if "worst_case" in raw:
            worst = self._expression(f"{where}/worst_case", raw["worst_case"])
            if worst is not None:
                deps |= self._resolve(f"{where}/worst_case", worst.names, frozenset())
        repeat = None
        extra: frozenset[str] = frozenset()
        if "repeat" in raw:
            count = self._expression(f"{where}/repeat/count", raw["repeat"]["count"])
            if count is not None:
                deps |= self._resolve(f"{where}/repeat/count", count.names, frozenset())
                repeat = Repeat(count, Outcome(raw["repeat"]["until"]))
            if action is not None and action.literal == "add":
                self.problem(f"{where}/repeat", "an add cannot be repeated")
            extra = frozenset({"sent"})
        if action is not None and action.literal == "add":
            extra = extra | ADD_LOCALS
        on_refusal = None
        if "on_refusal" in raw:
            seconds = str(raw["on_refusal"]["advance"]["seconds"])
            on_refusal = self._template(f"{where}/on_refusal/advance/seconds", seconds)
            if on_refusal is None:
                ok = False
            else:
                deps |= self._resolve(f"{where}/on_refusal/advance/seconds", on_refusal.names,
                                      frozenset())
            if action is not None and action.literal == "add":
                self.problem(f"{where}/on_refusal", "an add is never sent twice")
            if "repeat" in raw:
                self.problem(f"{where}/on_refusal", "a repeat already sends the request again")
        if not ok or action is None:
            return None, frozenset(deps), extra
        fields = {"action": action, "params": tuple(params), "form": raw.get("form"),
                  "worst_case": worst, "repeat": repeat, "on_refusal_advance": on_refusal}
        return fields, frozenset(deps), extra

    def _control(
        self, where: str, raw: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, frozenset[str], frozenset[str]]:
        (verb, body), = raw["control"].items()
        at = f"{where}/control/{verb}"
        templates: dict[str, Template] = {}
        deps: set[str] = set()
        for name, value in body.items():
            if name == "status":
                continue
            template = self._template(f"{at}/{name}", str(value))
            if template is not None:
                deps |= self._resolve(f"{at}/{name}", template.names, frozenset())
                templates[name] = template
        if len(templates) != len([n for n in body if n != "status"]):
            return None, frozenset(deps), frozenset()
        command: Command
        if verb == "mint":
            command = Mint(templates["balance"])
        elif verb == "advance":
            command = Advance(templates["seconds"])
        elif verb == "order_outcome":
            command = OrderOutcome(
                templates["order"], body["status"], templates.get("remains"),
                templates.get("start_count"),
            )
        else:
            command = RefillOutcome(templates["refill"], body["status"])
        return {"command": command}, frozenset(deps), frozenset()

    def _wait(
        self, where: str, raw: Mapping[str, Any], actor: Actor
    ) -> tuple[dict[str, Any] | None, frozenset[str], frozenset[str]]:
        spec = raw["wait_for"]
        refill = "refill" in spec
        target = self._template(f"{where}/wait_for/{'refill' if refill else 'order'}",
                                spec["refill" if refill else "order"])
        clause = spec["clause"]
        self._clause(f"{where}/wait_for/clause", clause)
        if actor in (Actor.WRONG, Actor.NONE):
            self.problem(f"{where}/as", "a wait polls with a real key (main, second or fresh)")
        self._words(f"{where}/wait_for/status", spec["status"],
                    Vocabulary.REFILL if refill else Vocabulary.ORDER)
        if target is None:
            return None, frozenset(), frozenset()
        deps = self._resolve(f"{where}/wait_for", target.names, frozenset())
        fields = {"target": target, "refill": refill, "words": tuple(spec["status"]),
                  "wait_clause": clause}
        return fields, deps, frozenset()

    def _words(self, where: str, words: Sequence[str], vocabulary: Vocabulary) -> None:
        read = values.refill_status if vocabulary is Vocabulary.REFILL else values.order_status
        for index, word in enumerate(words):
            if read(word) is None:
                self.problem(
                    f"{where}/{index}", f"{word!r} is not a known {vocabulary.value} status"
                )

    def _clause(self, where: str, clause: str) -> None:
        if clause not in self.clauses:
            self.problem(
                where, f"{clause} is checked here but not listed in the scenario's clauses"
            )
        self.asserted.add(clause)

    def _captures(
        self, where: str, raw: Mapping[str, Any], local: frozenset[str]
    ) -> tuple[list[Capture], frozenset[str]]:
        captures: list[Capture] = []
        deps: set[str] = set()
        visible = set(local)
        for name, spec in raw.items():
            at = f"{where}/capture/{name}"
            if name in self.services or name in FACTS or name in local:
                self.problem(at, f"{name!r} is already the name of a service, fact or step value")
                continue
            if name in self.captured:
                self.problem(at, f"{name!r} is already captured by step {self.captured[name][0]}")
                continue
            text = spec if isinstance(spec, str) else spec["value"]
            default = None
            if isinstance(spec, Mapping):
                default = self._expression(f"{at}/default", spec["default"])
                if default is not None:
                    deps |= self._resolve(f"{at}/default", default.names, frozenset(visible))
            capture = self._capture(at, name, text, default, frozenset(visible))
            if capture is not None:
                deps |= self._resolve(at, _capture_names(capture), frozenset(visible))
                captures.append(capture)
                visible.add(name)
        return captures, frozenset(deps)

    def _capture(
        self, at: str, name: str, text: str, default: Expression | None, visible: frozenset[str]
    ) -> Capture | None:
        if text.startswith("/"):
            pointer = self._template(at, text)
            if pointer is None:
                return None
            return Capture(name, at, CaptureSource.POINTER, pointer=pointer, default=default)
        if text.startswith("header:"):
            header = text.removeprefix("header:").strip()
            if not re.fullmatch(r"[A-Za-z0-9-]+", header):
                self.problem(at, f"{header!r} is not a header name")
                return None
            return Capture(name, at, CaptureSource.HEADER, header=header, default=default)
        expression = self._expression(at, text)
        if expression is None:
            return None
        return Capture(name, at, CaptureSource.EXPRESSION, expression=expression, default=default)

    def _assertions(
        self, where: str, raw: Sequence[Mapping[str, Any]], kind: str, actor: Actor,
        visible: frozenset[str], vocabulary: Vocabulary,
    ) -> tuple[list[Assertion], frozenset[str], set[Actor]]:
        assertions: list[Assertion] = []
        deps: set[str] = set()
        measure: set[Actor] = set()
        for index, spec in enumerate(raw):
            at = f"{where}/expect/{index}"
            clause = spec["clause"]
            self._clause(f"{at}/clause", clause)
            base = {"clause": clause, "where": at, "what": spec.get("what")}
            if kind == "control" and not ("balance_delta" in spec or "that" in spec):
                self.problem(at, "a control step can only check balance_delta or that")
                continue
            built = self._assertion(at, spec, base, actor, measure, vocabulary)
            if built is None:
                continue
            deps |= self._resolve(at, _assertion_names(built), visible)
            assertions.append(built)
        return assertions, frozenset(deps), measure

    def _assertion(
        self, at: str, spec: Mapping[str, Any], base: dict[str, Any], actor: Actor,
        measure: set[Actor], default_vocabulary: Vocabulary,
    ) -> Assertion | None:
        item = self._template(f"{at}/item", spec["item"]) if "item" in spec else None
        if "outcome" in spec:
            kind = _ERROR_KINDS.get(spec.get("kind", "")) if "kind" in spec else None
            if kind is not None and item is not None:
                self.problem(f"{at}/kind", "kind grades a whole error answer, not an item")
            return OutcomeCheck(**base, outcome=Outcome(spec["outcome"]), kind=kind, item=item)
        if "status" in spec:
            vocabulary = Vocabulary(spec.get("vocabulary", default_vocabulary))
            self._words(f"{at}/status", spec["status"], vocabulary)
            pointer = self._template(f"{at}/at", spec["at"]) if "at" in spec else None
            return StatusCheck(**base, words=tuple(spec["status"]), vocabulary=vocabulary,
                               item=item, at=pointer)
        if "shape" in spec:
            return ShapeCheck(**base, form=spec["shape"], canonical=spec.get("canonical", False))
        if "balance_delta" in spec:
            raw = spec["balance_delta"]
            pairs = ({actor.wallet_owner.value: raw} if isinstance(raw, (str, list))
                     else dict(raw))
            deltas: list[tuple[Actor, tuple[Expression, ...]]] = []
            for who, texts in pairs.items():
                owner = Actor(who)
                if owner is Actor.SECOND:
                    self._need(f"{at}/balance_delta", Need.SECOND_KEY, "the second key's balance")
                if owner is Actor.FRESH:
                    self._need(f"{at}/balance_delta", Need.CONTROL, "the fresh tenant's balance")
                # A list: any one of these amounts (a charge that depends on the dialect).
                alternatives = [texts] if isinstance(texts, str) else list(texts)
                expressions = [self._expression(f"{at}/balance_delta", text)
                               for text in alternatives]
                if any(e is None for e in expressions):
                    return None
                deltas.append((owner, tuple(e for e in expressions if e is not None)))
                measure.add(owner)
            return DeltaCheck(**base, deltas=tuple(deltas))
        if "that" in spec:
            expression = self._expression(f"{at}/that", spec["that"], comparison=True)
            return ThatCheck(**base, expression=expression) if expression is not None else None
        if "http_status" in spec:
            return HttpStatusCheck(**base, statuses=frozenset(spec["http_status"]))
        header = spec["header"]
        pattern = None
        if "pattern" in header:
            try:
                pattern = re.compile(header["pattern"])
            except re.error as error:
                self.problem(f"{at}/header/pattern", f"not a regular expression: {error}")
                return None
        return HeaderCheck(**base, name=header["name"], pattern=pattern,
                           on_status=frozenset(header.get("on_status", ())))


def _capture_names(capture: Capture) -> frozenset[str]:
    names: set[str] = set()
    if capture.pointer is not None:
        names |= capture.pointer.names
    if capture.expression is not None:
        names |= capture.expression.names
    return frozenset(names)


def _assertion_names(assertion: Assertion) -> frozenset[str]:
    names: set[str] = set()
    for template in (getattr(assertion, "item", None), getattr(assertion, "at", None)):
        if template is not None:
            names |= template.names
    if isinstance(assertion, DeltaCheck):
        for _, expressions in assertion.deltas:
            for expression in expressions:
                names |= expression.names
    if isinstance(assertion, ThatCheck):
        names |= assertion.expression.names
    return frozenset(names)
