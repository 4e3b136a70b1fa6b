"""The API view (``/api/v2``): one request through budget, faults, action and journal.

The steps, in order, each able to end the request:

1. a per-address budget (``RateLimit.scope == "ip"``) is charged before anything is read;
2. the fields are decoded the profile's ways and the key is looked up;
3. a per-key budget is charged to the key's tenant (unknown keys are never throttled);
4. the fault rules are consulted (:mod:`mockpanel.wire.faults`): delays are slept, and a
   fault acting before the action replaces the answer;
5. the key and action are checked and the action runs; a :class:`DomainError` becomes the
   profile's error answer, with a hint for a misspelt action or an unsupported body;
6. a fault acting after the action delays, damages or drops the answer.

Budgets and faults are addressed by tenant and action, which are only known once the body is
decoded, so they are steps of this view rather than aiohttp middlewares wrapping it. Every
request ends as exactly one journal entry, the faults that hit it included.
"""

from __future__ import annotations

from aiohttp import web

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import Profile
from mockpanel.state import PanelState, Tenant
from mockpanel.wire import render
from mockpanel.wire.actions import Call
from mockpanel.wire.faults import ANSWERS, NO_FAULTS, FaultPlan
from mockpanel.wire.hints import hint_for
from mockpanel.wire.journal import FaultNote
from mockpanel.wire.jsontext import Json, dumps
from mockpanel.wire.keys import (
    ACTIONS,
    BODY_TIMEOUT,
    CONFIG,
    FAULTS,
    JOURNAL,
    LIMITER,
    PROFILE,
    SLEEP,
    STATE,
)
from mockpanel.wire.params import read_params
from mockpanel.wire.ratelimit import RateLimiter
from mockpanel.wire.render import Reply

__all__ = ["api"]


def _charge(limiter: RateLimiter | None, scope: str, subject: str) -> None:
    """Take one request from ``subject``'s budget, or refuse it as ``RATE_LIMITED``."""
    if limiter is None or limiter.limit.scope != scope:
        return
    retry_after = limiter.admit(subject)
    if retry_after is not None:
        raise DomainError(ErrorCode.RATE_LIMITED, retry_after=retry_after)


def _refusal(profile: Profile, error: DomainError) -> Reply:
    return render.error_reply(profile, error, hint_for(profile, error))


def _run(app: web.Application, tenant: Tenant | None, params: dict[str, str]) -> Reply:
    """Check the key and the action, then run it; a refusal is the profile's error answer."""
    profile, state = app[PROFILE], app[STATE]
    try:
        if not params.get("key"):
            raise DomainError(ErrorCode.MISSING_KEY)
        if tenant is None:
            raise DomainError(ErrorCode.INVALID_KEY)
        action = params.get("action", "")
        if not action:
            raise DomainError(ErrorCode.MISSING_ACTION)
        run = app[ACTIONS].get(action)
        if run is None:
            raise DomainError(ErrorCode.UNKNOWN_ACTION, action=action)
        return run(Call(state, profile, tenant, params))
    except DomainError as error:
        return _refusal(profile, error)


def _record(
    app: web.Application,
    tenant: Tenant | None,
    params: dict[str, str],
    status: int | None,
    response: Json,
    faults: tuple[FaultNote, ...] = (),
) -> None:
    state: PanelState = app[STATE]
    app[JOURNAL].note(
        time=state.clock.now(),
        tenant=None if tenant is None else tenant.id,
        action=params.get("action"),
        params=params,
        status=status,
        response=response,
        faults=faults,
    )


def _dropped() -> web.Response:
    # What the view returns after a ``reset`` fault aborted the transport: aiohttp's attempt
    # to write it fails with a ConnectionError, which it treats as the client having gone.
    return web.Response(status=204)


async def api(request: web.Request) -> web.StreamResponse:
    """``/api/v2``: one request, one action, one journal entry."""
    app = request.app
    profile = app[PROFILE]
    limiter = app[LIMITER]
    params: dict[str, str] = {}
    tenant: Tenant | None = None
    try:
        if limiter is not None:  # request.remote asks the transport: only when it counts
            _charge(limiter, "ip", request.remote or "unknown")
        params = await read_params(
            request,
            profile.wire.encodings,
            app[CONFIG].max_body_bytes,
            body_seconds=app[BODY_TIMEOUT],
        )
        key = params.get("key", "")
        tenant = app[STATE].authenticate(key) if key else None
        if tenant is not None:
            _charge(limiter, "key", tenant.id)
    except DomainError as error:
        reply = _refusal(profile, error)
        _record(app, tenant, params, reply.status, reply.body)
        return render.json_response(profile, reply)

    plan: FaultPlan = app[FAULTS].take(params.get("action"), None if tenant is None else tenant.id)
    if plan is NO_FAULTS:  # the usual case: no delay, no answer replaced, nothing to note
        reply = _run(app, tenant, params)
        _record(app, tenant, params, reply.status, reply.body)
        return render.json_response(profile, reply)
    notes = plan.notes()
    sleep = app[SLEEP]
    if delay := plan.delay(after=False):
        await sleep(delay)
    rule = plan.answers(after=False)
    if rule is not None:
        answer = ANSWERS[rule.fault](rule, profile, None, request)
        _record(app, tenant, params, None if answer is None else answer.status, None, notes)
        return _dropped() if answer is None else answer

    reply = _run(app, tenant, params)
    if delay := plan.delay(after=True):
        await sleep(delay)
    rule = plan.answers(after=True)
    if rule is None:
        _record(app, tenant, params, reply.status, reply.body, notes)
        return render.json_response(profile, reply)
    body = dumps(reply.body, indent=profile.wire.indent).encode("ascii")
    answer = ANSWERS[rule.fault](rule, profile, body, request)
    _record(app, tenant, params, None if answer is None else answer.status, reply.body, notes)
    return _dropped() if answer is None else answer
