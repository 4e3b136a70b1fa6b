"""The model of a loaded scenario: frozen dataclasses and the vocabularies they use.

:func:`harness.scenarios.loader.load_scenario` builds these from a validated file;
:class:`harness.scenarios.runner.ScenarioRunner` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

from harness.judging.checks import ErrorKind
from harness.panel.catalog import Service, visible_units
from harness.scenarios.expressions import Expression, Template

__all__ = [
    "ACTION_DEP",
    "ADD_LOCALS",
    "BALANCE_LOCALS",
    "FACTS",
    "OPTIONAL_ACTIONS",
    "SERVICE_FIELDS",
    "Actor",
    "Advance",
    "Assertion",
    "Capture",
    "CaptureSource",
    "Command",
    "ControlStep",
    "DeltaCheck",
    "HeaderCheck",
    "HttpStatusCheck",
    "Mint",
    "Need",
    "OrderOutcome",
    "Outcome",
    "OutcomeCheck",
    "Pricing",
    "RefillOutcome",
    "Repeat",
    "RequestStep",
    "Scenario",
    "Selector",
    "ShapeCheck",
    "Size",
    "SleepStep",
    "StatusCheck",
    "Step",
    "ThatCheck",
    "Vocabulary",
    "WaitStep",
]


class Need(StrEnum):
    """What a run must allow (the vocabulary of clauses.yaml)."""

    SPEND = "spend"
    CONTROL = "control"
    SECOND_KEY = "second-key"
    RATE_LIMIT = "rate-limit"


class Actor(StrEnum):
    """Whose key a step sends."""

    MAIN = "main"
    SECOND = "second"
    FRESH = "fresh"
    WRONG = "wrong"
    NONE = "none"

    @property
    def wallet_owner(self) -> Actor:
        """Whose money a step of this actor puts at risk (a wrong or missing key: main's)."""
        return Actor.MAIN if self in (Actor.WRONG, Actor.NONE) else self


class Outcome(StrEnum):
    """A success answer, or an error (envelope, HTTP 200 or 4xx)."""

    OK = "ok"
    ERROR = "error"


class Vocabulary(StrEnum):
    """Which status words a status assertion reads."""

    ORDER = "order"
    REFILL = "refill"


class Pricing(StrEnum):
    """How a service's charge follows from its rate."""

    PER_1000 = "per-1000"
    FLAT = "flat"


class Size(StrEnum):
    """The quantity a selector orders: the smallest whose charge shows, or a bound."""

    VISIBLE = "visible"
    MIN = "min"
    MAX = "max"


class CaptureSource(Enum):
    """Where a captured value comes from."""

    POINTER = "pointer"
    HEADER = "header"
    EXPRESSION = "expression"

SERVICE_FIELDS: Final = frozenset(
    {"id", "name", "type", "rate", "min", "max", "quantity", "price", "comments"}
)
FACTS: Final[Mapping[str, Need | None]] = MappingProxyType({
    "link": None,
    "never_issued": None,
    "unknown_service": None,
    "places": None,
    "order_timeout": None,
    "multi_status_action": None,
    "rate_limit": Need.RATE_LIMIT,
})
"""Run facts a scenario may name, and the need each one implies."""
OPTIONAL_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {"cancel": "orders", "refill": "order", "refill_status": "refill"}
)
"""Actions a panel may not offer, with the id parameter that probes them: a step using one is
skipped (its clauses N/A) on a panel that answers it like an unknown action."""
ACTION_DEP: Final = "action:"  # prefix of an optional action among a step's dependencies
BALANCE_LOCALS: Final = frozenset({"before", "after", "debit", "credit"})
ADD_LOCALS: Final = frozenset({"charge", "units"})


@dataclass(frozen=True, slots=True)
class Selector:
    """Which catalogue services a scenario service may be; the cheapest match is used."""

    types: tuple[str, ...] = ()
    pricing: Pricing | None = None
    refill: bool | None = None
    cancel: bool | None = None
    dripfeed: bool | None = None
    """The catalogue's ``dripfeed`` flag as stated (``None``: either, or unsaid)."""
    dripfeed_accepted: bool = False
    """``dripfeed: accepted``: a service that takes drip-feed orders, flagged or, on a catalogue
    that flags none, proven by the run's drip-feed probe (the runner matches this selector
    against the catalogue as the run knows it, ``harness.panel.dripfeed.known_catalog``, with
    ``dripfeed`` True)."""
    size: Size = Size.VISIBLE
    scale: int = 1
    optional: bool = False

    def matches(self, service: Service) -> bool:
        if self.types and service.type not in self.types:
            return False
        if self.pricing is not None and service.flat != (self.pricing is Pricing.FLAT):
            return False
        flags = (("refill", self.refill), ("cancel", self.cancel), ("dripfeed", self.dripfeed))
        return all(want is None or getattr(service, name) is want for name, want in flags)

    def describe(self) -> str:
        kinds = " or ".join(self.types) if self.types else "any"
        text = f"{kinds} service"
        if self.pricing is not None:
            text += f" priced {self.pricing.value}"
        flags = [
            name if want else f"no {name}"
            for name, want in (("refill", self.refill), ("cancel", self.cancel),
                               ("dripfeed", self.dripfeed))
            if want is not None
        ]
        if self.dripfeed_accepted:
            flags = [f if f != "dripfeed" else "drip-feed (flagged, or proven by the run's "
                     "probe)" for f in flags]
        if flags:
            text += " with " + ", ".join(flags)
        if self.size is not Size.VISIBLE or self.scale > 1:
            text += f" taking {self.scale} x its {self.size.value} quantity"
        return text

    def quantity(self, service: Service, places: int) -> int | None:
        """The quantity to order, or ``None`` when the service cannot take it. A type with a
        per-unit form (every type but Package: a Custom Comments Package is also billed per
        post) orders a quantity whose charge shows."""
        if not service.metered:
            return service.min
        base = {Size.MIN: service.min, Size.MAX: service.max}.get(self.size)
        wanted = (visible_units(service, places) if base is None else base) * self.scale
        return max(wanted, service.min) if wanted <= service.max else None


@dataclass(frozen=True, slots=True)
class _Base:
    """What every assertion has: the clause it checks, its JSON pointer in the file, and an
    optional description of what is expected (for the failure message)."""

    clause: str
    where: str
    what: str | None


@dataclass(frozen=True, slots=True)
class OutcomeCheck(_Base):
    """The answer (or one per-id item of it) is a success or an error."""

    outcome: Outcome
    kind: ErrorKind | None = None
    item: Template | None = None


@dataclass(frozen=True, slots=True)
class StatusCheck(_Base):
    """A status word means one of ``words`` (any spelling the dialects use)."""

    words: tuple[str, ...]
    vocabulary: Vocabulary = Vocabulary.ORDER
    item: Template | None = None
    at: Template | None = None


@dataclass(frozen=True, slots=True)
class ShapeCheck(_Base):
    """The answer fits the lenient contract schema (and, with ``canonical``, the canonical one)."""

    form: str
    canonical: bool = False


@dataclass(frozen=True, slots=True)
class DeltaCheck(_Base):
    """Balances moved by exactly these amounts across the step (at the panel's precision):
    per actor, any one of its expressions (several where a charge legitimately depends on the
    panel's dialect, e.g. either form's price of a Custom Comments Package)."""

    deltas: tuple[tuple[Actor, tuple[Expression, ...]], ...]


@dataclass(frozen=True, slots=True)
class ThatCheck(_Base):
    """A comparison over captured values and facts holds."""

    expression: Expression


@dataclass(frozen=True, slots=True)
class HttpStatusCheck(_Base):
    """The HTTP status is one of ``statuses``."""

    statuses: frozenset[int]


@dataclass(frozen=True, slots=True)
class HeaderCheck(_Base):
    """A header is present (and matches ``pattern``), judged only on ``on_status`` answers."""

    name: str
    pattern: re.Pattern[str] | None = None
    on_status: frozenset[int] = frozenset()


Assertion = (
    OutcomeCheck | StatusCheck | ShapeCheck | DeltaCheck | ThatCheck | HttpStatusCheck
    | HeaderCheck
)


@dataclass(frozen=True, slots=True)
class Capture:
    """A value saved under ``name``: from the answer (pointer), a header, or an expression."""

    name: str
    where: str
    source: CaptureSource
    pointer: Template | None = None
    header: str | None = None
    expression: Expression | None = None
    default: Expression | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    """Send up to ``count`` times, stopping at the first answer of kind ``until``."""

    count: Expression
    until: Outcome


@dataclass(frozen=True, slots=True)
class Mint:
    """Mint the ``fresh`` tenant."""

    balance: Template


@dataclass(frozen=True, slots=True)
class Advance:
    """Move the panel's clock."""

    seconds: Template


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """Force an order's status, as its provider would."""

    order: Template
    status: str
    remains: Template | None = None
    start_count: Template | None = None


@dataclass(frozen=True, slots=True)
class RefillOutcome:
    """Finish a refill."""

    refill: Template
    status: str


Command = Mint | Advance | OrderOutcome | RefillOutcome


@dataclass(frozen=True, slots=True, kw_only=True)
class _Step:
    """What every step has; ``number`` counts from 1 as the failure messages do."""

    number: int
    name: str
    where: str
    actor: Actor = Actor.MAIN
    expect: tuple[Assertion, ...] = ()
    capture: tuple[Capture, ...] = ()
    measure: frozenset[Actor] = frozenset()
    """Actors whose balance is read before and after the step (an add measures its own)."""
    deps: frozenset[str] = frozenset()
    """Optional services (and ``action:<name>`` for optional actions) this step depends on,
    directly or through captures."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestStep(_Step):
    """One API request (or a bounded burst of them)."""

    action: Template
    params: tuple[tuple[str, Template], ...] = ()
    form: str | None = None
    worst_case: Expression | None = None
    repeat: Repeat | None = None
    on_refusal_advance: Template | None = None
    """Seconds to move the control clock on before sending a refused request once more."""

    @property
    def spends(self) -> bool:
        return self.action.literal == "add"


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlStep(_Step):
    """One control API call."""

    command: Command


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitStep(_Step):
    """Poll an order or a refill until its status means one of ``words``."""

    target: Template
    refill: bool
    words: tuple[str, ...]
    wait_clause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SleepStep(_Step):
    """Let time pass for the panel."""

    seconds: Expression


Step = RequestStep | ControlStep | WaitStep | SleepStep


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded, validated scenario."""

    name: str
    description: str
    source: str
    clauses: tuple[str, ...]
    needs: frozenset[Need]
    services: tuple[tuple[str, Selector], ...]
    steps: tuple[Step, ...]
