"""The fixed script of requests the shape diff sends to a panel, and what it was answered.

The script is the same for every profile: it never reads the profile to decide what to ask.
Like any client it reads the panel's own ``services`` answer to pick services by type (the
cheapest Default one, one flagged for refill, ...), so two panels serving the same catalogue
are asked exactly the same things. The only profile facts it uses are the ones a client is
*given* rather than discovers: the API endpoint (the profile's first path) and, for the
endpoint probe, a list of paths chosen by the caller (the union of both sides' paths, so both
sides are probed alike).

Each panel runs in-process on a manual clock with a control token; the script drives orders
and refills through Pending, In progress and their endings with the control API
(``/_mock/...``: clock, forced outcomes, a suspended tenant), whose own answers are not part
of any vendor's API and are not recorded. What is recorded is raw: each step's HTTP status,
Content-Type, the few headers that belong to a shape (``Allow``, ``Retry-After``) and the body
text, plus every order and refill id the panel handed out, named by the role it plays in the
script (``<order refillable>``), so :mod:`mockpanel.emulate.shapes` can compare two runs whose
ids differ. The keys the script uses are its own, fixed; none is a real client's secret.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final

from aiohttp import ClientSession, ClientTimeout, web

from mockpanel.config import MockConfig
from mockpanel.profiles import Profile
from mockpanel.state import LifecycleTimings
from mockpanel.wire.app import create_app
from mockpanel.wire.keys import FAILURES

__all__ = ["Exchange", "Transcript", "harness_provokes", "record", "run_script"]

MAIN_KEY: Final = "emulate-main-key"
POOR_KEY: Final = "emulate-poor-key"  # a tenant with nothing on its balance
SUSPENDED_KEY: Final = "emulate-suspended-key"
WRONG_KEY: Final = "emulate-wrong-key"
KEYS: Final = (MAIN_KEY, POOR_KEY, SUSPENDED_KEY, WRONG_KEY)
_TOKEN: Final = "emulate-control-token"
# Enough for every order the script places at any catalogue's minimums; a whole number so it
# fits every profile's money places (0..8).
_OPENING: Final = Decimal(1_000_000)
# Phases long enough that "a little later" and "much later" are unambiguous on the manual clock.
_TIMINGS: Final = LifecycleTimings(
    order_pending=10.0, order_in_progress=100.0, refill_pending=10.0, refill_in_progress=100.0
)
_A_LITTLE: Final = 15  # seconds: Pending -> In progress
_MUCH: Final = 200  # seconds: In progress -> its ending

LINK: Final = "https://example.com/emulate/post"
UNKNOWN_ORDER: Final = "987654321"  # no numeric (5-6 digits) or alphanumeric (6 letters) id
UNKNOWN_REFILL: Final = "987654322"
_TOO_MANY: Final = ",".join(str(900_000_001 + n) for n in range(101))  # 101 distinct ids
# Requests a panel with a published budget is sent at most, looking for its refusal: more than
# every per-minute budget the built-ins publish below 1000 (smmpremium's 100).
_RATE_PROBE: Final = 121

# Steps a harness run never takes, so a profile inferred from its recording cannot know their
# answers (they stay the reference's, listed under not_observed): account suspension (the
# harness cannot suspend an account), the mock's magic-link outcomes (a mock feature, not a
# dialect), an order caught In progress and a refill Rejected (states the harness does not
# bring orders and refills into), and every path but the one the harness was pointed at.
_BEYOND_THE_HARNESS: Final = frozenset(
    {
        "suspended account",
        *(f"{verb} (link asking for {word})" for verb in ("add", "status")
          for word in ("processing", "done", "failed")),
        "status (In progress)",
        "cancel (In progress)",
        "refill_status (Rejected)",
    }
)
_HEADERS_KEPT: Final = ("Allow", "Retry-After")

# What a client sends for each service type (PerfectPanel's parameter table, by type): the
# names in order. Custom Comments Package also carries seed 004's per-post form (username,
# min, max, delay), which a panel taking the standard form ignores, so one request suits both.
_TYPE_PARAMS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "default": ("link", "quantity"),
        "package": ("link",),
        "custom comments": ("link", "comments"),
        "custom comments package": ("link", "comments", "username", "min", "max", "delay"),
        "seo": ("link", "quantity", "keywords"),
        "mentions": ("link", "quantity", "usernames"),
        "mentions with hashtags": ("link", "quantity", "usernames", "hashtags"),
        "mentions custom list": ("link", "usernames"),
        "mentions hashtag": ("link", "quantity", "hashtag"),
        "mentions user followers": ("link", "quantity", "username"),
        "mentions media likers": ("link", "quantity", "media"),
        "comment likes": ("link", "quantity", "username"),
        "comment replies": ("link", "username", "comments"),
        "poll": ("link", "quantity", "answer_number"),
        "invites from groups": ("link", "quantity", "groups"),
        "subscriptions": ("username", "min", "max", "delay"),
        "web traffic": (
            "link", "quantity", "country", "device", "type_of_traffic", "google_keyword"
        ),
    }
)
_LINE_PARAMS: Final = frozenset({"comments", "usernames", "keywords", "groups"})
_MAX_LINES: Final = 200  # a catalogue minimum above this is answered too low: alike on both sides
_FIXED_PARAMS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "link": LINK,
        "media": "https://example.com/emulate/media",
        "username": "emulate_user",
        "hashtag": "emulate",
        "hashtags": "#emulate",
        "country": "US",
        "google_keyword": "emulate",
        "answer_number": "1",
        "device": "1",
        "type_of_traffic": "1",
        "delay": "0",
    }
)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One step of the script and the panel's raw answer to it.

    ``catalogue`` marks the ``services`` answer, whose values are compared as well as its
    shape; ``facts`` are what the script measured beyond one answer (how many requests a
    rate limit admitted), compared exactly.
    """

    step: str
    status: int
    content_type: str | None
    body: str
    headers: tuple[tuple[str, str], ...] = ()
    catalogue: bool = False
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Transcript:
    """A whole run: the exchanges in script order, and every id the panel handed out (or the
    script made up) mapped to the role it plays, e.g. ``"10342" -> "<order refillable>"``.
    ``failures`` counts the mock's own bugs (answers of HTTP 500) during the run."""

    profile: str
    exchanges: tuple[Exchange, ...]
    ids: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    failures: int = 0


@dataclass(frozen=True, slots=True)
class _Offer:
    """A service as the ``services`` answer describes it, read as a client reads it."""

    id: str
    type: str  # normalised: lower case, single spaces ("custom comments")
    min: int
    max: int
    rate: Decimal | None
    flags: Mapping[str, bool | None]

    def flag(self, name: str) -> bool | None:
        return self.flags.get(name)

    @property
    def cost(self) -> Decimal:
        """The price of the least order, per 1000 (what "cheap" means for a Default service)."""
        return (self.rate or Decimal(10**9)) * self.min


# When the catalogue has no Default service at all, the script still sends its requests (to a
# service id no catalogue uses), so both sides are asked the same things.
_NO_OFFER: Final = _Offer("999999", "default", 100, 1000, None, MappingProxyType({}))


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _as_flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, "0", "false", "False"):
        return False
    if value in (1, "1", "true", "True"):
        return True
    return None


def _as_rate(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        return None
    return rate if rate.is_finite() else None


def normal_type(name: object) -> str:
    """A service type as a comparable name: ``Custom Comments`` and SmartPanel's
    ``custom_comments`` are both ``custom comments``; a missing type is PerfectPanel's
    default, ``default``."""
    if not isinstance(name, str) or not name.strip():
        return "default"
    return re.sub(r"[\s_]+", " ", name).strip().lower()


def offers(document: Any) -> tuple[_Offer, ...]:
    """The services of a ``services`` answer (its JSON document), in its order; anything
    unreadable is skipped."""
    if not isinstance(document, list):
        return ()
    found: list[_Offer] = []
    for entry in document:
        if not isinstance(entry, dict):
            continue
        service = entry.get("service")
        low, high = _as_int(entry.get("min")), _as_int(entry.get("max"))
        if isinstance(service, bool) or not isinstance(service, int | str) or low is None:
            continue
        found.append(
            _Offer(
                str(service),
                normal_type(entry.get("type")),
                low,
                high if high is not None else low,
                _as_rate(entry.get("rate")),
                MappingProxyType(
                    {name: _as_flag(entry.get(name)) for name in ("dripfeed", "refill", "cancel")}
                ),
            )
        )
    return tuple(found)


def _pick(candidates: Sequence[_Offer], flag: str, wanted: bool) -> _Offer:
    """The first candidate whose ``flag`` is ``wanted``; else the first that does not say;
    else the first. Deterministic from the catalogue alone."""
    for preferred in (wanted, None):
        for offer in candidates:
            if offer.flag(flag) is preferred:
                return offer
    return candidates[0] if candidates else _NO_OFFER


def _add_fields(offer: _Offer, link: str = LINK) -> dict[str, str]:
    """The ``add`` fields for ``offer``: its type's parameters, at the service's minimum."""
    names = _TYPE_PARAMS.get(offer.type, ("link", "quantity"))
    least = max(offer.min, 1)
    fields = {"action": "add", "service": offer.id}
    for name in names:
        if name == "quantity" or name in ("min", "max"):
            fields[name] = str(least)
        elif name in _LINE_PARAMS:
            count = min(least, _MAX_LINES)
            fields[name] = "\n".join(f"emulate line {n}" for n in range(1, count + 1))
        else:
            fields[name] = _FIXED_PARAMS[name]
    if "link" in fields:
        fields["link"] = link
    return fields


def _scalar(document: Any, name: str) -> str | None:
    """The first scalar ``name`` field of a JSON document (depth first), as text."""
    if isinstance(document, dict):
        value = document.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        members = list(document.values())
    elif isinstance(document, list):
        members = document
    else:
        return None
    for member in members:
        found = _scalar(member, name)
        if found is not None:
            return found
    return None


class _Run:
    """One panel and the script's progress through it."""

    def __init__(self, session: ClientSession, endpoint: str) -> None:
        self.session = session
        self.endpoint = endpoint
        self.exchanges: list[Exchange] = []
        self.ids: dict[str, str] = {UNKNOWN_ORDER: "<unknown order>",
                                    UNKNOWN_REFILL: "<unknown refill>"}
        self._made_up = 0

    # -------------------------------------------------------------------- ids by role

    def _name(self, role: str, raw: str | None) -> str:
        """Register ``raw`` (an id the panel answered) as ``role``; without one, a made-up id
        no panel issued stands in, so the script's later requests stay the same."""
        if raw is None:
            self._made_up += 1
            raw = str(987_650_000 + self._made_up)
        self.ids.setdefault(raw, role)
        return raw

    async def created(self, role: str, step: str, fields: Mapping[str, str], what: str) -> str:
        """Send ``fields`` and name the ``what`` id (``order``/``refill``) it answered."""
        document = await self.post(step, fields)
        return self._name(role, _scalar(document, what))

    # ------------------------------------------------------------------------ sending

    async def send(
        self,
        step: str,
        method: str = "POST",
        *,
        path: str | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        catalogue: bool = False,
    ) -> Any:
        """One request, recorded as ``step``; its JSON document (``None`` when not JSON)."""
        async with self.session.request(
            method, path or self.endpoint, data=data, headers=headers
        ) as response:
            body = await response.text(encoding="utf-8", errors="replace")
            kept = tuple(
                (name, response.headers[name]) for name in _HEADERS_KEPT if name in response.headers
            )
            self.exchanges.append(
                Exchange(
                    step, response.status, response.headers.get("Content-Type"), body, kept,
                    catalogue,
                )
            )
        try:
            return json.loads(body, parse_float=Decimal)
        except ValueError:
            return None

    async def post(
        self, step: str, fields: Mapping[str, str], key: str | None = MAIN_KEY, **kw: Any
    ) -> Any:
        """A form POST of ``fields`` (with ``key`` first, unless None)."""
        form = ({} if key is None else {"key": key}) | dict(fields)
        return await self.send(step, data=form, **kw)

    async def control(self, method: str, path: str, body: object = None) -> Any:
        """A control API request; not part of the transcript (no vendor speaks it)."""
        async with self.session.request(
            method,
            "/_mock" + path,
            data=None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {_TOKEN}", "Content-Type": "application/json"},
        ) as response:
            return json.loads(await response.text())

    async def advance(self, seconds: int) -> None:
        await self.control("POST", "/clock/advance", {"seconds": seconds})


async def _script(run: _Run, probe_paths: Sequence[str]) -> None:
    """The script itself: every action and its batch forms, every error kind."""
    post = run.post
    catalogue = offers(await post("services", {"action": "services"}, catalogue=True))
    defaults = [o for o in catalogue if o.type == "default"] or [_NO_OFFER]
    cheap = min(defaults, key=lambda o: o.cost)
    refillable = _pick(defaults, "refill", True)
    cancellable = _pick(defaults, "cancel", True)
    dripping = _pick(defaults, "dripfeed", True)
    steady = _pick(defaults, "dripfeed", False)

    await post("balance", {"action": "balance"})

    # ---- orders: one per role, all placed at time 0
    pending = await run.created("<order pending>", "add", _add_fields(cheap), "order")
    refilled = await run.created(
        "<order refillable>", "add (refill service)", _add_fields(refillable), "order"
    )
    refilled_too = await run.created(
        "<order refillable 2>", "add (refill service, again)", _add_fields(refillable), "order"
    )
    to_cancel = await run.created(
        "<order cancellable>", "add (cancel service)", _add_fields(cancellable), "order"
    )
    to_cancel_too = await run.created(
        "<order cancellable 2>", "add (cancel service, again)", _add_fields(cancellable), "order"
    )
    in_progress = await run.created(
        "<order cancellable 3>", "add (cancel service, third)", _add_fields(cancellable), "order"
    )
    partial = await run.created("<order partial>", "add (for Partial)", _add_fields(cheap), "order")
    endings = {}
    for word in ("processing", "done", "failed"):
        endings[word] = await run.created(
            f"<order {word}>",
            f"add (link asking for {word})",
            _add_fields(cheap, f"{LINK}?mock_outcome={word}"),
            "order",
        )
    others = sorted({o.type for o in catalogue} - {"default"})
    for kind in others:
        offer = next(o for o in catalogue if o.type == kind)
        await run.created(f"<order {kind}>", f"add ({kind})", _add_fields(offer), "order")
    drip = _add_fields(dripping) | {"runs": "2", "interval": "10"}
    await run.created("<order drip-feed>", "add drip-feed (runs + interval)", drip, "order")
    no_drip = _add_fields(steady) | {"runs": "2", "interval": "10"}
    await post("add drip-feed on a service without it", no_drip)
    await run.control("POST", f"/orders/{partial}/outcome", {"status": "Partial"})

    # ---- status while Pending, single and batch, with the aliases some dialects use
    await post("status (Pending)", {"action": "status", "order": pending})
    listed = f"{pending},{refilled},{UNKNOWN_ORDER}"
    await post("status orders=", {"action": "status", "orders": listed})
    await post("multiStatus orders=", {"action": "multiStatus", "orders": listed})
    await post("orders orders=", {"action": "orders", "orders": listed})
    await post("status (Partial)", {"action": "status", "order": partial})

    # ---- cancel while Pending: by orders= and by order=
    await post("cancel orders=", {"action": "cancel", "orders": to_cancel})
    await post("cancel order=", {"action": "cancel", "order": to_cancel_too})
    await post("status (after cancel)", {"action": "status", "order": to_cancel})

    # ---- the lifecycle: In progress, then its endings
    await run.advance(_A_LITTLE)
    await post("status (In progress)", {"action": "status", "order": pending})
    await post("status (link asking for processing)",
               {"action": "status", "order": endings["processing"]})
    await post("refill (order In progress)", {"action": "refill", "order": refilled})
    await post("cancel (In progress)", {"action": "cancel", "orders": in_progress})
    await run.advance(_MUCH)
    await post("status (Completed)", {"action": "status", "order": pending})
    for word in ("done", "failed"):
        await post(f"status (link asking for {word})",
                   {"action": "status", "order": endings[word]})
    await post("status orders= (Completed)",
               {"action": "status", "orders": f"{pending},{partial}"})
    await post("cancel (Completed)", {"action": "cancel", "orders": pending})
    await post("cancel orders= (Completed + unknown)",
               {"action": "cancel", "orders": f"{pending},{UNKNOWN_ORDER}"})

    # ---- refills
    refill = await run.created(
        "<refill>", "refill", {"action": "refill", "order": refilled}, "refill"
    )
    await post("refill (service without refill)", {"action": "refill", "order": pending})
    fresh = await run.created(
        "<order placed late>", "add (refill service, late)", _add_fields(refillable), "order"
    )
    await post("refill (order Pending)", {"action": "refill", "order": fresh})
    await post("refill (unknown order)", {"action": "refill", "order": UNKNOWN_ORDER})
    second = await run.created(
        "<refill 2>",
        "refill orders=",
        {"action": "refill", "orders": f"{refilled_too},{UNKNOWN_ORDER}"},
        "refill",
    )
    await post("refill_status (Pending)", {"action": "refill_status", "refill": refill})
    await post("refill_status refills=",
               {"action": "refill_status", "refills": f"{refill},{UNKNOWN_REFILL}"})
    await run.control("POST", f"/refills/{second}/outcome", {"status": "Rejected"})
    await post("refill_status (Rejected)", {"action": "refill_status", "refill": second})
    await run.advance(_A_LITTLE)
    await post("refill_status (In progress)", {"action": "refill_status", "refill": refill})
    await run.advance(_MUCH)
    await post("refill_status (Completed)", {"action": "refill_status", "refill": refill})
    await post("balance (after orders)", {"action": "balance"})

    # ---- the key and the action
    await post("no key", {"action": "balance"}, key=None)
    await post("blank key", {"action": "balance"}, key="")
    await post("wrong key", {"action": "balance"}, key=WRONG_KEY)
    tenant = await run.control("POST", "/tenants", {"balance": "0", "key": SUSPENDED_KEY})
    if isinstance(tenant, dict) and isinstance(tenant.get("tenant"), str):
        await run.control("POST", f"/tenants/{tenant['tenant']}/suspend")
    await post("suspended account", {"action": "balance"}, key=SUSPENDED_KEY)
    await post("missing action", {})
    await post("blank action", {"action": ""})
    await post("unknown action", {"action": "frobnicate"})
    await post("misspelt action", {"action": "Balance"})

    # ---- unknown ids and bad parameters
    await post("unknown order", {"action": "status", "order": UNKNOWN_ORDER})
    await post("unknown refill", {"action": "refill_status", "refill": UNKNOWN_REFILL})
    await post("status without order", {"action": "status"})
    await post("refill_status without refill", {"action": "refill_status"})
    await post("cancel without orders", {"action": "cancel"})
    await post("invalid id in a list", {"action": "status", "orders": "not-an-id"})
    await post("too many ids (101)", {"action": "status", "orders": _TOO_MANY})
    await post("too many ids to cancel (101)", {"action": "cancel", "orders": _TOO_MANY})
    add = _add_fields(cheap)
    await post("unknown service", add | {"service": "999999"})
    await post("add without service", {k: v for k, v in add.items() if k != "service"})
    await post("add without link", {k: v for k, v in add.items() if k != "link"})
    await post("add without quantity", {k: v for k, v in add.items() if k != "quantity"})
    await post("invalid link", add | {"link": "not a link"})
    await post("invalid quantity", add | {"quantity": "ten"})
    await post("quantity below min", add | {"quantity": str(cheap.min - 1)})
    await post("quantity above max", add | {"quantity": str(cheap.max + 1)})
    await post("not enough funds", add, key=POOR_KEY)

    # ---- how the request arrives
    form = f"key={MAIN_KEY}&action=balance"
    await run.send("body too large", data=(form + "&pad=" + "x" * 70_000).encode(),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    await run.send("text/plain body", data=form.encode(), headers={"Content-Type": "text/plain"})
    await run.send("JSON body", data=json.dumps({"key": MAIN_KEY, "action": "balance"}),
                   headers={"Content-Type": "application/json"})
    await run.send("repeated field", data=(form + "&action=balance").encode(),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    await run.send("empty body", data=b"",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    await run.send("GET with query", "GET", path=f"{run.endpoint}?{form}")
    await run.send("PUT", "PUT", data=form.encode(),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    await run.send("DELETE", "DELETE")
    for path in probe_paths:
        for served in (path, path + "/"):
            await post(f"endpoint {served}", {"action": "balance"}, path=served)


def harness_provokes(step: str) -> bool:
    """Whether a harness run takes ``step`` too: every action and every error kind it
    provokes, which is what a profile inferred from a harness recording can reproduce."""
    return step not in _BEYOND_THE_HARNESS and not step.startswith("endpoint ")


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def _config(profile: Profile, seed: int, rate_limit: bool) -> MockConfig:
    return MockConfig(
        profile=profile,
        keys=((MAIN_KEY, _OPENING), (POOR_KEY, Decimal(0))),
        control_token=_TOKEN,
        clock="manual",
        seed=seed,
        timings=_TIMINGS,
        rate_limit="profile" if rate_limit else "off",
    )


async def _rate_probe(profile: Profile, seed: int, endpoint: str) -> tuple[Exchange, int]:
    """The first refusal of a burst of ``balance`` requests on a fresh panel with the
    profile's own budget (or the last answer, when none was refused), and how many requests
    were answered before it."""
    app = create_app(_config(profile, seed, rate_limit=True))
    runner, base = await _serve(app)
    try:
        async with ClientSession(base_url=base, timeout=ClientTimeout(total=30)) as session:
            run = _Run(session, endpoint)
            admitted = 0
            while len(run.exchanges) < _RATE_PROBE:
                await run.post("rate limit", {"action": "balance"})
                if run.exchanges[-1].status != 200:
                    break
                admitted += 1
            last = run.exchanges[-1]
            answered = "all" if admitted == _RATE_PROBE else str(admitted)
            probe = Exchange(
                last.step, last.status, last.content_type, last.body, last.headers,
                facts=(("requests answered before a refusal", f"{answered} of {_RATE_PROBE}"),),
            )
            return probe, len(app[FAILURES])
    finally:
        await runner.cleanup()


async def record(
    profile: Profile, *, seed: int = 0, probe_paths: Sequence[str] | None = None
) -> Transcript:
    """Run the script against ``profile`` served in-process; the raw transcript.

    ``probe_paths`` are the endpoints probed with a ``balance`` request each (with and
    without a trailing slash); by default the profile's own paths. A comparison passes the
    same list for both sides.
    """
    endpoint = profile.wire.paths[0]
    paths = tuple(profile.wire.paths if probe_paths is None else probe_paths)
    app = create_app(_config(profile, seed, rate_limit=False))
    runner, base = await _serve(app)
    try:
        async with ClientSession(base_url=base, timeout=ClientTimeout(total=30)) as session:
            run = _Run(session, endpoint)
            await _script(run, paths)
        failures = len(app[FAILURES])
    finally:
        await runner.cleanup()
    probe, probe_failures = await _rate_probe(profile, seed, endpoint)
    return Transcript(
        profile.name,
        (*run.exchanges, probe),
        MappingProxyType(dict(run.ids)),
        failures + probe_failures,
    )


def run_script(
    profile: Profile, *, seed: int = 0, probe_paths: Sequence[str] | None = None
) -> Transcript:
    """:func:`record` from synchronous code (it runs its own event loop)."""
    return asyncio.run(record(profile, seed=seed, probe_paths=probe_paths))
