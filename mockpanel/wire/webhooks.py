"""Webhooks: every order status change POSTed as seed 004's JSON payload, retried with backoff.

The state calls :meth:`WebhookSender.notice` (a :meth:`~mockpanel.state.PanelState.subscribe`
listener) with the order as it was at the change, under its lock and possibly from another
thread; the payload is rendered there, in the profile's number style, and queued to the app's
event loop. One worker task, started and stopped by the app's ``cleanup_ctx``, delivers the
queue in order (a receiver sees an order's changes in the order they happened) through an
aiohttp ``ClientSession``: a 2xx answer is delivered; anything else, a refused connection or a
timeout is retried after ``backoff``, ``2 * backoff``, ``4 * backoff``... seconds, up to
``attempts`` tries in all. Every attempt is recorded in the journal. Timed changes are applied
when they fall due (:mod:`mockpanel.wire.timer`), so their webhooks leave then, not with the
next request.

Where a change goes: the tenant's own URL (``PUT /_mock/tenants/<id>/webhook``; ``null``
switches its webhooks off), else the panel's ``--webhook-url``, else nowhere. Changes that
happen while the app is not running (before startup, after cleanup) are not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal

import aiohttp
from aiohttp import web

from mockpanel.profiles import Profile
from mockpanel.state import Clock, OrderView
from mockpanel.wire import render
from mockpanel.wire.journal import DeliveryOutcome, Journal
from mockpanel.wire.jsontext import Json, dumps

__all__ = ["Sleep", "WebhookSender", "WebhookSetting"]

_log = logging.getLogger("mockpanel")
_USER_AGENT: Final = "mockpanel-webhooks"
Sleep = Callable[[float], Awaitable[None]]
WebhookSetting = tuple[str | None, Literal["tenant", "panel"]]


@dataclass(frozen=True, slots=True)
class _Job:
    tenant: str
    order: str
    url: str
    payload: Json


class WebhookSender:
    """Per-tenant webhook URLs, the delivery queue and its worker."""

    def __init__(
        self,
        *,
        profile: Profile,
        journal: Journal,
        clock: Clock,
        default_url: str | None,
        attempts: int,
        backoff: float,
        timeout: float,
        sleep: Sleep,
        failures: list[BaseException],
    ) -> None:
        self.profile = profile
        self.default_url = default_url
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self._journal = journal
        self._clock = clock
        self.sleep = sleep  # how backoff waits; tests may swap it to record the delays
        self._failures = failures
        self._urls: dict[str, str | None] = {}  # tenant id -> URL, or None: switched off
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Job] | None = None

    # ------------------------------------------------------------------ settings

    def setting(self, tenant: str) -> WebhookSetting:
        """Where ``tenant``'s changes go, and whether that is its own setting or the panel's."""
        if tenant in self._urls:
            return self._urls[tenant], "tenant"
        return self.default_url, "panel"

    def set_url(self, tenant: str, url: str | None) -> None:
        """Send ``tenant``'s changes to ``url`` (``None``: send them nowhere)."""
        self._urls[tenant] = url

    def unset(self, tenant: str) -> None:
        """Let ``tenant`` follow the panel's URL again."""
        self._urls.pop(tenant, None)

    def clear(self) -> None:
        """Forget every tenant's setting (``POST /_mock/reset``)."""
        self._urls.clear()

    # ------------------------------------------------------------------ delivery

    def notice(self, view: OrderView) -> None:
        """The state listener: queue ``view``'s new status for its tenant's URL. Never raises."""
        url = self.setting(view.tenant_id)[0]
        loop, queue = self._loop, self._queue
        if url is None or loop is None or queue is None:
            return
        job = _Job(view.tenant_id, view.id, url, render.webhook(self.profile, view))
        try:
            if _running_loop() is loop:
                queue.put_nowait(job)
            else:  # a state call made from another thread
                loop.call_soon_threadsafe(queue.put_nowait, job)
        except RuntimeError:  # the loop closed meanwhile: the app is gone, and so is delivery
            return

    async def join(self) -> None:
        """Wait until every queued delivery has been delivered or given up."""
        if self._queue is not None:
            await self._queue.join()

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """``cleanup_ctx`` of the app: the HTTP session and the worker, for the app's life."""
        del app
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            worker = asyncio.create_task(self._work(session, self._queue))
            try:
                yield
            finally:
                self._loop = self._queue = None
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    async def _work(self, session: aiohttp.ClientSession, queue: asyncio.Queue[_Job]) -> None:
        while True:
            job = await queue.get()
            try:
                await self._deliver(session, job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a mock bug: kept for the fixtures, the worker goes on
                _log.exception("mock panel bug delivering a webhook for order %s", job.order)
                self._failures.append(exc)
            finally:
                queue.task_done()

    async def _deliver(self, session: aiohttp.ClientSession, job: _Job) -> None:
        body = dumps(job.payload).encode("ascii")
        headers = {"Content-Type": "application/json", "User-Agent": _USER_AGENT}
        for attempt in range(1, self.attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                async with session.post(
                    job.url, data=body, headers=headers, allow_redirects=False
                ) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            delivered = status is not None and 200 <= status <= 299
            last = attempt == self.attempts
            outcome = (
                DeliveryOutcome.DELIVERED
                if delivered
                else DeliveryOutcome.GAVE_UP if last else DeliveryOutcome.RETRYING
            )
            self._journal.record_delivery(
                time=self._clock.now(),
                tenant=job.tenant,
                order=job.order,
                url=job.url,
                attempt=attempt,
                status=status,
                error=error,
                payload=job.payload,
                outcome=outcome,
            )
            if delivered or last:
                return
            await self.sleep(self.backoff * 2 ** (attempt - 1))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
