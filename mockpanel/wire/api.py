"""The API view (``/api/v2``): one request through budget, faults, action and journal.

The steps, in order, each able to end the request:

1. a per-address budget (``RateLimit.scope == "ip"``) is charged before anything is read;
2. the fields are decoded the profile's ways and the key is looked up;
3. a per-key budget is charged to the key's tenant (unknown keys are never throttled);
4. the fault rules are consulted (:mod:`mockpanel.wire.faults`): delays are slept, and a
   fault acting before the action replaces the answer;
5. the key (known, its account not suspended) and the action are checked and the action
   runs; a :class:`DomainError` becomes the profile's error answer, with a hint for a
   misspelt action or an unsupported body;
6. a fault acting after the action delays, damages or drops the answer.

Budgets and faults are addressed by tenant and action, which are only known once the body is
decoded, so they are steps of this view rather than aiohttp middlewares wrapping it. Every
request ends as exactly one journal entry, the faults that hit it included.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import Profile
from mockpanel.shortcuts import NO_SHORTCUTS
from mockpanel.state import PanelState, Tenant
from mockpanel.wire import render
from mockpanel.wire.actions import Action, Call
from mockpanel.wire.decoding import read_params, read_params_now
from mockpanel.wire.faults import ANSWERS, NO_FAULTS, FaultBook, FaultPlan
from mockpanel.wire.hints import hint_for
from mockpanel.wire.journal import FaultNote, Journal
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
from mockpanel.wire.ratelimit import RateLimiter
from mockpanel.wire.render import Reply
from mockpanel.wire.safety import failure, finish_body
from mockpanel.wire.webhooks import Sleep

__all__ = ["ApiView"]


def _charge(limiter: RateLimiter | None, scope: str, subject: str) -> None:
    """Take one request from ``subject``'s budget, or refuse it as ``RATE_LIMITED``."""
    if limiter is None or limiter.limit.scope != scope:
        return
    retry_after = limiter.admit(subject)
    if retry_after is not None:
        raise DomainError(ErrorCode.RATE_LIMITED, retry_after=retry_after)


def _refusal(profile: Profile, error: DomainError) -> Reply:
    return render.error_reply(profile, error, hint_for(profile, error))


def _dropped() -> web.Response:
    # What the view returns after a ``reset`` fault aborted the transport: aiohttp's attempt
    # to write it fails with a ConnectionError, which it treats as the client having gone.
    return web.Response(status=204)


class ApiView:
    """``/api/v2`` for one app: one request, one action, one journal entry.

    What the view needs from the app (profile, state, journal, budgets, faults, actions, body
    limits) is read from the app's keys once, when the app starts (:meth:`bind`, an
    ``on_startup`` handler), rather than on every request; aiohttp's app state is frozen from
    then on, and tests swap their seams (``ACTIONS``, ``SLEEP``, ``BODY_TIMEOUT``) before.
    """

    __slots__ = (
        "_actions",
        "_body_seconds",
        "_faults",
        "_journal",
        "_limiter",
        "_max_bytes",
        "_profile",
        "_sleep",
        "_state",
    )

    async def bind(self, app: web.Application) -> None:
        self._profile: Profile = app[PROFILE]
        self._state: PanelState = app[STATE]
        self._journal: Journal = app[JOURNAL]
        self._limiter: RateLimiter | None = app[LIMITER]
        self._faults: FaultBook = app[FAULTS]
        self._actions: Mapping[str, Action] = app[ACTIONS]
        self._sleep: Sleep = app[SLEEP]
        self._max_bytes: int = app[CONFIG].max_body_bytes
        self._body_seconds: float = app[BODY_TIMEOUT]

    def _run(self, tenant: Tenant | None, params: dict[str, str]) -> Reply:
        """Check the key and the action, then run it; a refusal is the profile's error answer."""
        profile = self._profile
        try:
            if not params.get("key"):
                raise DomainError(ErrorCode.MISSING_KEY)
            if tenant is None:
                raise DomainError(ErrorCode.INVALID_KEY)
            # A suspended account is refused whatever it asks, reads included (seed 000's
            # "403 | Account suspended | Contact support." names no action it spares), and
            # before its action is looked at: nothing it sends is validated or acted on.
            if self._state.is_suspended(tenant):
                raise DomainError(ErrorCode.ACCOUNT_SUSPENDED)
            action = params.get("action", "")
            if not action:
                raise DomainError(ErrorCode.MISSING_ACTION)
            run = self._actions.get(action)
            if run is None:
                raise DomainError(ErrorCode.UNKNOWN_ACTION, action=action)
            return run(Call(self._state, profile, tenant, params))
        except DomainError as error:
            return _refusal(profile, error)

    def _record(
        self,
        tenant: Tenant | None,
        params: dict[str, str],
        status: int | None,
        response: Json,
        faults: tuple[FaultNote, ...] = (),
    ) -> None:
        self._journal.note(
            self._state.clock.now(),  # time
            None if tenant is None else tenant.id,  # tenant
            params.get("action"),  # action
            params,
            status,
            response,
            faults,
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One request: budget, body, key, faults, action, journal (module docstring).

        :func:`~mockpanel.wire.safety.safe`'s net (JSON whatever goes wrong, the body read to
        its end) is written in here rather than wrapped around the one route every request
        takes.
        """
        profile = self._profile
        response: web.StreamResponse
        try:
            limiter = self._limiter
            params: dict[str, str] = {}
            tenant: Tenant | None = None
            try:
                if limiter is not None:  # request.remote asks the transport: only when it counts
                    _charge(limiter, "ip", request.remote or "unknown")
                encodings = profile.wire.encodings
                # Shortcut: a body received in full is taken from aiohttp's buffer at once;
                # twin: read_params.
                arrived = None if NO_SHORTCUTS else read_params_now(
                    request, encodings, self._max_bytes
                )
                read_now = arrived is not None
                if arrived is None:  # still arriving, failed on the way, or no shortcuts
                    arrived = await read_params(
                        request, encodings, self._max_bytes, body_seconds=self._body_seconds
                    )
                params = arrived
                key = params.get("key", "")
                tenant = self._state.authenticate(key) if key else None
                if tenant is not None and limiter is not None:
                    _charge(limiter, "key", tenant.id)
            except DomainError as error:
                reply = _refusal(profile, error)
                self._record(tenant, params, reply.status, reply.body)
                response = render.json_response(profile, reply)
            else:
                faults = self._faults
                plan = (
                    NO_FAULTS  # no rule armed: nothing to match
                    if faults.idle
                    else faults.take(params.get("action"), None if tenant is None else tenant.id)
                )
                if plan is NO_FAULTS:  # no delay, no answer replaced, nothing to note
                    reply = self._run(tenant, params)
                    self._record(tenant, params, reply.status, reply.body)
                    response = render.json_response(profile, reply)
                    if read_now:  # the body was read whole and nothing awaited since:
                        return response  # finish_body would find nothing left to read
                else:
                    response = await self._faulted(request, plan, tenant, params)
        except Exception as exc:
            response = failure(request, exc)
        await finish_body(request, response)
        return response

    async def _faulted(
        self,
        request: web.Request,
        plan: FaultPlan,
        tenant: Tenant | None,
        params: dict[str, str],
    ) -> web.StreamResponse:
        """The request when fault rules fired: delays slept, the answer replaced or damaged."""
        profile = self._profile
        notes = plan.notes()
        sleep = self._sleep
        if delay := plan.delay(after=False):
            await sleep(delay)
        rule = plan.answers(after=False)
        if rule is not None:
            answer = ANSWERS[rule.fault](rule, profile, None, request)
            self._record(tenant, params, None if answer is None else answer.status, None, notes)
            return _dropped() if answer is None else answer

        reply = self._run(tenant, params)
        if delay := plan.delay(after=True):
            await sleep(delay)
        rule = plan.answers(after=True)
        if rule is None:
            self._record(tenant, params, reply.status, reply.body, notes)
            return render.json_response(profile, reply)
        body = dumps(reply.body, indent=profile.wire.indent).encode("ascii")
        answer = ANSWERS[rule.fault](rule, profile, body, request)
        self._record(
            tenant, params, None if answer is None else answer.status, reply.body, notes
        )
        return _dropped() if answer is None else answer
