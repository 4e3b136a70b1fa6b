"""The service catalogue: service types, the per-type ``add`` rules as data, and the services.

How an ``add`` is validated and priced depends only on the service's type and its *form*, so
the rules live in tables (:data:`TYPE_RULES`, :data:`FORM_RULES`, :data:`PARAM_SPECS`) that
:mod:`mockpanel.state.params` interprets; adding a type or a form is adding a row, never a
branch.

Forms: most types take one parameter set everywhere, but dialects document two for ``Custom
Comments Package``. PerfectPanel-family panels take ``link`` + ``comments`` at a flat rate
(protocol-variants.md section 5, "[V SP]"): :attr:`AddForm.STANDARD`, the row in
:data:`TYPE_RULES`. Seed 004 takes ``username``, ``min``, ``max``, ``delay`` and optional
``posts``, ``old_posts``, ``expiry``: :attr:`AddForm.PER_POST`, the row in :data:`FORM_RULES`.
A :class:`Service` carries its form (a profile's catalogue names it per service), so everything
downstream reads ``service.rule`` and never asks which vendor it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

from mockpanel.errors import ErrorCode
from mockpanel.state.money import MAX_AMOUNT, smallest_chargeable

__all__ = [
    "FORM_RULES",
    "MAX_COUNT",
    "PARAM_KIND_COUNT",
    "PARAM_KIND_URL",
    "PARAM_SPECS",
    "PRICING_RULE_FLAT",
    "QUANTITY_SOURCE_FIXED",
    "QUANTITY_SOURCE_PARAM",
    "TYPE_RULES",
    "AddForm",
    "Conditional",
    "OptionalParam",
    "Ordered",
    "ParamKind",
    "ParamSpec",
    "PricingRule",
    "QuantitySource",
    "Service",
    "ServiceType",
    "TypeRule",
    "chargeable_catalog",
    "default_catalog",
    "rule_for",
]

# The largest count any integer parameter may carry (quantity, runs, interval, ...).
MAX_COUNT: Final = 10**9


class ServiceType(StrEnum):
    """The canonical ``type`` strings of the services catalogue."""

    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    SEO = "SEO"
    MENTIONS = "Mentions"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    COMMENT_LIKES = "Comment Likes"
    COMMENT_REPLIES = "Comment Replies"
    POLL = "Poll"
    INVITES_FROM_GROUPS = "Invites from Groups"
    SUBSCRIPTIONS = "Subscriptions"
    WEB_TRAFFIC = "Web Traffic"


class PricingRule(Enum):
    """How an order's charge follows from the service rate."""

    PER_THOUSAND = "per_thousand"  # quantize(rate * quantity / 1000)
    FLAT = "flat"  # rate, once, whatever the quantity


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
PRICING_RULE_FLAT: Final = PricingRule.FLAT


class QuantitySource(Enum):
    """Where an order's quantity comes from."""

    PARAM = "param"  # the ``quantity`` parameter
    LINES = "lines"  # the number of non-empty lines of ``TypeRule.lines_param``
    FIXED = "fixed"  # the service's own ``package_quantity``
    # ``posts`` x ``max``: the upper bound of a per-post order (seed 004's Custom Comments
    # Package: "Total quantity is computed server-side as posts × max").  # noqa: RUF003
    PER_POST = "per_post"


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
QUANTITY_SOURCE_PARAM: Final = QuantitySource.PARAM
QUANTITY_SOURCE_FIXED: Final = QuantitySource.FIXED


class ParamKind(Enum):
    """The shape a raw form value must have."""

    COUNT = "count"  # ASCII digits, 1..MAX_COUNT
    URL = "url"  # http:// or https:// with a host
    TEXT = "text"  # any non-blank text
    LINES = "lines"  # text with at least one non-blank line (``\n`` or ``\r\n``)
    CHOICE = "choice"  # ASCII digits naming one of ``ParamSpec.choices``
    WHOLE = "whole"  # ASCII digits, 0..MAX_COUNT (a number of minutes or posts that may be 0)
    DATE = "date"  # YYYY-MM-DD naming a real calendar day (seed 004's ``expiry``)


# As module names (an enum class read is slow on Python 3.11; drop with requires-python 3.12).
PARAM_KIND_COUNT: Final = ParamKind.COUNT
PARAM_KIND_URL: Final = ParamKind.URL


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """How one named ``add`` parameter is checked, and which code refuses a bad value."""

    kind: ParamKind
    error: ErrorCode = ErrorCode.INVALID_PARAM
    choices: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Conditional:
    """``requires`` becomes required when parameter ``param`` has the value ``equals``."""

    param: str
    equals: str
    requires: str


@dataclass(frozen=True, slots=True)
class OptionalParam:
    """Parameter ``name`` may be left out (absent or empty); ``default`` (raw text, checked
    like a sent value) stands in for it then, or, when ``None``, it is simply not there."""

    name: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Ordered:
    """Parameter ``low`` must not exceed parameter ``high`` (both numbers, when both are
    there); ``blame`` is the one named in the refusal."""

    low: str
    high: str
    blame: str


class AddForm(StrEnum):
    """Which parameter set an ``add`` of a type takes, where dialects document more than one."""

    STANDARD = "standard"  # the row of TYPE_RULES
    PER_POST = "per_post"  # seed 004's Custom Comments Package (FORM_RULES)


@dataclass(frozen=True, slots=True)
class TypeRule:
    """Everything type-specific about an ``add``: parameters, quantity, price, drip-feed."""

    params: tuple[str, ...]  # required, checked in this order
    quantity: QuantitySource
    pricing: PricingRule
    lines_param: str | None = None  # for QuantitySource.LINES
    dripfeed: bool = False  # the type accepts ``runs`` + ``interval``
    via_api: bool = True  # Subscriptions are created on the site only (seed 004)
    conditional: tuple[Conditional, ...] = ()
    optional: tuple[OptionalParam, ...] = ()  # checked after ``params``, in this order
    ordered: tuple[Ordered, ...] = ()  # checked after every parameter
    # This form's own checks for some parameters, in place of their PARAM_SPECS entry.
    specs: Mapping[str, ParamSpec] = field(default_factory=lambda: MappingProxyType({}))


_PER_1000 = PricingRule.PER_THOUSAND

TYPE_RULES: Final = MappingProxyType(
    {
        ServiceType.DEFAULT: TypeRule(
            ("link", "quantity"), QuantitySource.PARAM, _PER_1000, dripfeed=True
        ),
        ServiceType.PACKAGE: TypeRule(("link",), QuantitySource.FIXED, PricingRule.FLAT),
        ServiceType.CUSTOM_COMMENTS: TypeRule(
            ("link", "comments"), QuantitySource.LINES, _PER_1000, lines_param="comments"
        ),
        ServiceType.CUSTOM_COMMENTS_PACKAGE: TypeRule(
            ("link", "comments"), QuantitySource.LINES, PricingRule.FLAT, lines_param="comments"
        ),
        ServiceType.SEO: TypeRule(
            ("link", "quantity", "keywords"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.MENTIONS: TypeRule(
            ("link", "quantity", "usernames"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.MENTIONS_WITH_HASHTAGS: TypeRule(
            ("link", "quantity", "usernames", "hashtags"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.MENTIONS_CUSTOM_LIST: TypeRule(
            ("link", "usernames"), QuantitySource.LINES, _PER_1000, lines_param="usernames"
        ),
        ServiceType.MENTIONS_HASHTAG: TypeRule(
            ("link", "quantity", "hashtag"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.MENTIONS_USER_FOLLOWERS: TypeRule(
            ("link", "quantity", "username"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.MENTIONS_MEDIA_LIKERS: TypeRule(
            ("link", "quantity", "media"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.COMMENT_LIKES: TypeRule(
            ("link", "quantity", "username"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.COMMENT_REPLIES: TypeRule(
            ("link", "username", "comments"), QuantitySource.LINES, _PER_1000,
            lines_param="comments",
        ),
        ServiceType.POLL: TypeRule(
            ("link", "quantity", "answer_number"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.INVITES_FROM_GROUPS: TypeRule(
            ("link", "quantity", "groups"), QuantitySource.PARAM, _PER_1000
        ),
        ServiceType.SUBSCRIPTIONS: TypeRule(
            ("username", "min", "max", "delay"), QuantitySource.PARAM, _PER_1000, via_api=False
        ),
        ServiceType.WEB_TRAFFIC: TypeRule(
            ("link", "quantity", "country", "device", "type_of_traffic"),
            QuantitySource.PARAM,
            _PER_1000,
            dripfeed=True,
            conditional=(
                Conditional("type_of_traffic", "1", "google_keyword"),
                Conditional("type_of_traffic", "2", "referring_url"),
            ),
        ),
    }
)

_COUNT = ParamSpec(ParamKind.COUNT)
_TEXT = ParamSpec(ParamKind.TEXT)
_LINES = ParamSpec(ParamKind.LINES)
_WHOLE = ParamSpec(ParamKind.WHOLE)

# Seed 004's Custom Comments Package, the form a profile picks with AddForm.PER_POST:
#
#   username, min ("Minimum comments per post"), max, delay ("Delay between posts in minutes"),
#   posts optional ("Total posts to deliver to (defaults to 1)"), old_posts optional ("Amount
#   of already-published posts to also process"), expiry optional ("Expiry date YYYY-MM-DD").
#   "Total quantity is computed server-side as posts × max; charge is billed at the upper  # noqa: RUF003
#   bound and the undelivered slice is pro-rata refunded at completion."
#
# Decisions: the charge is the service rate per 1000 of that upper bound (rate * posts * max /
# 1000, as every per-quantity price in the seed), and posts * max is checked against the
# service's min..max like any quantity. min <= max; posts counts every post the order
# delivers to, the already-published ones included, so old_posts <= posts (an old post
# beyond ``posts`` would be delivered without being billed). ``delay`` is any whole number of
# minutes (the seed lists no allowed values, unlike PerfectPanel's Subscriptions). ``expiry``
# must be a real calendar date; the mock's clock is no calendar, so it is not compared with
# "today". How much is delivered is planned when the order is placed (see params.py):
# (min + max) // 2 comments per post, so the order ends Completed when min == max and
# otherwise Partial with the undelivered slice as remains, refunded pro rata; never
# Completed with something remaining (LIFE-002). The control API may end it otherwise.
_PER_POST_COMMENTS = TypeRule(
    ("username", "min", "max", "delay"),
    QuantitySource.PER_POST,
    _PER_1000,
    optional=(OptionalParam("posts", "1"), OptionalParam("old_posts"), OptionalParam("expiry")),
    ordered=(Ordered("min", "max", "max"), Ordered("old_posts", "posts", "old_posts")),
    specs=MappingProxyType({"delay": _WHOLE}),
)

FORM_RULES: Final[Mapping[tuple[ServiceType, AddForm], TypeRule]] = MappingProxyType(
    {(ServiceType.CUSTOM_COMMENTS_PACKAGE, AddForm.PER_POST): _PER_POST_COMMENTS}
)
# The parameters QuantitySource.PER_POST reads: how many posts, and the per-post bounds.
PER_POST_PARAMS: Final = ("posts", "min", "max")


def rule_for(service_type: ServiceType, form: AddForm) -> TypeRule:
    """The ``add`` rules of ``service_type`` in ``form``; ``KeyError`` for a form the type
    does not have."""
    if form is AddForm.STANDARD:
        return TYPE_RULES[service_type]
    return FORM_RULES[(service_type, form)]

PARAM_SPECS: Final = MappingProxyType(
    {
        "link": ParamSpec(ParamKind.URL, ErrorCode.INVALID_LINK),
        "quantity": _COUNT,
        "runs": _COUNT,
        "interval": _COUNT,
        "answer_number": _COUNT,
        "min": _COUNT,
        "max": _COUNT,
        "posts": _COUNT,
        "old_posts": _WHOLE,
        "expiry": ParamSpec(ParamKind.DATE),
        "comments": _LINES,
        "usernames": _LINES,
        "keywords": _LINES,
        "groups": _LINES,
        "username": _TEXT,
        "hashtag": _TEXT,
        "hashtags": _TEXT,
        "country": _TEXT,
        "google_keyword": _TEXT,
        "media": ParamSpec(ParamKind.URL),
        "referring_url": ParamSpec(ParamKind.URL),
        # Web Traffic: 1 Desktop, 2 Android, 3 iOS, 4 mixed mobile, 5 mixed.
        "device": ParamSpec(ParamKind.CHOICE, choices=frozenset(range(1, 6))),
        # Web Traffic: 1 Google keyword, 2 custom referrer, 3 blank.
        "type_of_traffic": ParamSpec(ParamKind.CHOICE, choices=frozenset(range(1, 4))),
        # Subscriptions: the post delays PerfectPanel offers, in minutes.
        "delay": ParamSpec(
            ParamKind.CHOICE,
            choices=frozenset(
                (0, 5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360,
                 420, 480, 540, 600)
            ),
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Service:
    """One catalogue entry. ``rate`` is per 1000 units, or the whole price for FLAT types.

    ``package_quantity`` is the fixed delivered quantity of a ``Package`` service (the type whose
    quantity is FIXED) and must be ``None`` for every other type. ``form`` picks the type's
    parameter set (see the module docstring); ``rule`` is the type's rule in that form.
    """

    id: int
    name: str
    type: ServiceType
    category: str
    rate: Decimal
    min: int
    max: int
    dripfeed: bool = False
    refill: bool = False
    cancel: bool = False
    refill_days: int = 0
    package_quantity: int | None = None
    form: AddForm = AddForm.STANDARD
    rule: TypeRule = field(init=False, repr=False, compare=False)
    # ``rate`` as an exact fraction of integers (set by __post_init__): every ``add`` prices
    # its order from it in integers, with no Decimal operation (money.fraction_units).
    rate_fraction: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, int) or self.id < 1:
            raise ValueError(f"service id must be a positive int, got {self.id!r}")
        if not self.name.strip() or not self.category.strip():
            raise ValueError(f"service {self.id}: name and category must not be blank")
        if not isinstance(self.type, ServiceType):
            raise ValueError(f"service {self.id}: type must be a ServiceType, got {self.type!r}")
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite():
            raise ValueError(f"service {self.id}: rate must be a finite Decimal")
        if not Decimal(0) < self.rate < MAX_AMOUNT:
            raise ValueError(f"service {self.id}: rate must be > 0 and < {MAX_AMOUNT}")
        if not 1 <= self.min <= self.max <= MAX_COUNT:
            raise ValueError(f"service {self.id}: need 1 <= min <= max <= {MAX_COUNT}")
        try:
            rule = rule_for(self.type, AddForm(self.form))
        except (KeyError, ValueError):
            raise ValueError(
                f"service {self.id}: type {self.type.value!r} has no {str(self.form)!r} form"
            ) from None
        object.__setattr__(self, "rule", rule)
        if self.dripfeed and not rule.dripfeed:
            raise ValueError(f"service {self.id}: type {self.type.value!r} has no drip-feed")
        if self.refill_days < 0 or (self.refill and self.refill_days < 1):
            raise ValueError(f"service {self.id}: a refill service needs refill_days >= 1")
        fixed = rule.quantity is QuantitySource.FIXED
        if fixed != (self.package_quantity is not None):
            raise ValueError(
                f"service {self.id}: package_quantity is required for, and only for, "
                "fixed-quantity types"
            )
        if self.package_quantity is not None and not 1 <= self.package_quantity <= MAX_COUNT:
            raise ValueError(f"service {self.id}: package_quantity must be 1..{MAX_COUNT}")
        object.__setattr__(self, "rate_fraction", self.rate.as_integer_ratio())


def chargeable_catalog(services: Iterable[Service], places: int) -> tuple[Service, ...]:
    """``services`` as a panel keeping ``places`` decimals must advertise them.

    A per-1000 service whose minimum order would cost less than half a money step (service 2's
    10 views at 0.001 per 1000 on a two-decimal INR panel) cannot honour its minimum; such a
    panel advertises the least quantity that costs something instead, and leaves out a
    service that no quantity up to its maximum can be charged for. Advertised min..max is then
    exactly what ``add`` accepts.
    """
    kept: list[Service] = []
    for service in services:
        if service.rule.pricing is PricingRule.PER_THOUSAND:
            least = smallest_chargeable(service.rate, places)
            if least > service.max:
                continue
            if least > service.min:
                service = replace(service, min=least)
        kept.append(service)
    return tuple(kept)


# The service a catalogue lists in place of a type's standard one when a profile takes that
# type in another form: same id, numbers that make sense for the form. Seed 004's per-post
# comments are priced per 1000 comments of the upper bound (its catalogue example prices
# "Comments" at "8"); 10..20000 fits its sample orders (e.g. min 10, max 20, 5 posts = 100).
_FORM_SERVICES: Final[Mapping[tuple[ServiceType, AddForm], Service]] = MappingProxyType(
    {
        (ServiceType.CUSTOM_COMMENTS_PACKAGE, AddForm.PER_POST): Service(
            8, "Instagram Comments Package [per post]", ServiceType.CUSTOM_COMMENTS_PACKAGE,
            "Instagram Comments", Decimal("8"), 10, 20_000, form=AddForm.PER_POST,
        ),
    }
)


def default_catalog(
    forms: Mapping[ServiceType, AddForm] = MappingProxyType({}),
) -> tuple[Service, ...]:
    """A realistic catalogue with at least one service per type.

    It mixes refill and no-refill, drip-feed and not, cancellable and not, and includes very
    cheap services so live suites can place real orders for almost nothing: service 2 at rate
    0.001 with min 10 costs 0.00001 per minimal order. A type that ``forms`` takes in another
    form than the standard one is listed as that form's service (same id).
    """
    standard = _standard_catalog()
    if not forms:
        return standard
    return tuple(
        _FORM_SERVICES[(s.type, forms[s.type])]
        if forms.get(s.type, AddForm.STANDARD) is not AddForm.STANDARD
        else s
        for s in standard
    )


def _standard_catalog() -> tuple[Service, ...]:
    d = Decimal
    t = ServiceType
    return (
        Service(1, "Instagram Followers [Real] [R30]", t.DEFAULT, "Instagram Followers",
                d("0.90"), 50, 10_000, dripfeed=True, refill=True, cancel=True, refill_days=30),
        Service(2, "TikTok Views [Cheap] [Instant]", t.DEFAULT, "TikTok Views",
                d("0.001"), 10, 10_000_000, cancel=True),
        Service(3, "YouTube Likes [No Refill] [Non-Cancel]", t.DEFAULT, "YouTube Likes",
                d("2.50"), 20, 50_000, dripfeed=True),
        Service(4, "Instagram Likes [Cheap] [R7]", t.DEFAULT, "Instagram Likes",
                d("0.002"), 10, 50_000, dripfeed=True, refill=True, cancel=True, refill_days=7),
        Service(5, "Instagram Followers [Lifetime Refill]", t.DEFAULT, "Instagram Followers",
                d("1.50"), 100, 100_000, refill=True, refill_days=365),
        Service(6, "Instagram Starter Package [1000 Likes]", t.PACKAGE, "Instagram Packages",
                d("4.99"), 1, 1, package_quantity=1000),
        Service(7, "Instagram Custom Comments", t.CUSTOM_COMMENTS, "Instagram Comments",
                d("8"), 5, 1500, cancel=True),
        Service(8, "Instagram Custom Comments Package [up to 10]", t.CUSTOM_COMMENTS_PACKAGE,
                "Instagram Comments", d("3.50"), 1, 10),
        Service(9, "Google Keyword Traffic [SEO]", t.SEO, "Website SEO",
                d("1.20"), 100, 100_000, cancel=True),
        Service(10, "Instagram Mentions [Random Users]", t.MENTIONS, "Instagram Mentions",
                d("1.80"), 100, 50_000),
        Service(11, "Instagram Mentions + Hashtags", t.MENTIONS_WITH_HASHTAGS,
                "Instagram Mentions", d("2.20"), 100, 50_000),
        Service(12, "Instagram Mentions [Custom List]", t.MENTIONS_CUSTOM_LIST,
                "Instagram Mentions", d("3.00"), 1, 1000),
        Service(13, "Instagram Mentions [Hashtag Users]", t.MENTIONS_HASHTAG,
                "Instagram Mentions", d("1.60"), 100, 50_000),
        Service(14, "Instagram Mentions [User Followers]", t.MENTIONS_USER_FOLLOWERS,
                "Instagram Mentions", d("2.00"), 100, 50_000),
        Service(15, "Instagram Mentions [Media Likers]", t.MENTIONS_MEDIA_LIKERS,
                "Instagram Mentions", d("2.00"), 100, 50_000),
        Service(16, "Instagram Comment Likes [R30]", t.COMMENT_LIKES, "Instagram Comments",
                d("0.75"), 20, 20_000, refill=True, cancel=True, refill_days=30),
        Service(17, "Instagram Comment Replies [Custom]", t.COMMENT_REPLIES,
                "Instagram Comments", d("6.00"), 1, 500),
        Service(18, "Telegram Poll Votes", t.POLL, "Telegram Polls",
                d("0.35"), 100, 100_000, cancel=True),
        Service(19, "Telegram Members [Invites from Groups] [R30]", t.INVITES_FROM_GROUPS,
                "Telegram Members", d("5.00"), 100, 20_000, refill=True, refill_days=30),
        Service(20, "Instagram Auto Likes [Subscription]", t.SUBSCRIPTIONS,
                "Instagram Auto Likes", d("0.80"), 50, 5000),
        Service(21, "Website Traffic [Worldwide]", t.WEB_TRAFFIC, "Website Traffic",
                d("0.10"), 500, 1_000_000, dripfeed=True, cancel=True),
    )
