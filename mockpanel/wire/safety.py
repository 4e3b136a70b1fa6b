"""Every route's safety net: no HTML ever, no unexplained 5xx, no half-read body left behind.

:func:`safe` wraps each handler of the mock (every control route and the catch-all
:func:`unrouted`), so these rules hold without any aiohttp middleware. A middleware would do
the same, but aiohttp then runs its middleware machinery on every request: about a tenth of a
bare request's work.

- an ``HTTPException`` of status 400 or more (aiohttp's own refusals, the routing errors of
  :func:`unrouted`) becomes ``{"error": reason}`` with the same status (and ``Allow``);
- any other exception is a mock bug: logged, kept in ``FAILURES``, journaled, answered as a
  JSON 500 so no test can mistake it for vendor behaviour;
- whatever the answer, the rest of the request body is read first (:func:`finish_body`).

The API view, the one route on every request's path, has the same net written into its
handler (:meth:`mockpanel.wire.api.ApiView.handle`) from these pieces.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from mockpanel.wire.decoding import abandon_body, body_abandoned
from mockpanel.wire.jsontext import Json, dumps
from mockpanel.wire.keys import BODY_TIMEOUT, CONFIG, FAILURES, JOURNAL, STATE

__all__ = ["bug", "failure", "finish_body", "http_error", "plain_json", "safe", "unrouted"]

_log = logging.getLogger("mockpanel")


def plain_json(status: int, body: Json, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=dumps(body), status=status, content_type="application/json", headers=headers
    )


def safe(handler: Handler) -> Handler:
    """``handler`` answering JSON whatever goes wrong, with the request body fully read."""

    @functools.wraps(handler)
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except Exception as exc:
            response = failure(request, exc)
        await finish_body(request, response)
        return response

    return answer


def failure(request: web.Request, exc: Exception) -> web.Response:
    """The answer to what a handler raised: aiohttp's refusal as JSON, anything else a bug."""
    if isinstance(exc, web.HTTPException):
        return http_error(exc)
    return bug(request, exc)


def http_error(exc: web.HTTPException) -> web.Response:
    """An aiohttp refusal (status 400 or more) as ``{"error": reason}``; anything else (a
    redirect) is raised again for aiohttp to send."""
    if exc.status < 400:
        raise exc
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    return plain_json(exc.status, {"error": exc.reason}, headers)


def bug(request: web.Request, exc: Exception) -> web.Response:
    """A mock bug: logged, kept in ``FAILURES``, journaled, answered as a JSON 500."""
    # config_dict rather than request.app: right for a route of a sub-application too.
    app = request.config_dict
    _log.exception("mock panel bug answering %s %s", request.method, request.path)
    app[FAILURES].append(exc)
    body: Json = {"error": f"mock panel bug: {type(exc).__name__}; see the mock's log"}
    app[JOURNAL].record(
        time=app[STATE].clock.now(),
        tenant=None,
        action=None,
        params={},
        status=500,
        response=body,
    )
    return plain_json(500, body)


async def finish_body(request: web.Request, response: web.StreamResponse) -> None:
    """Read (and drop) what the handler left of the request body, within the size limit and
    the body timeout.

    aiohttp drains an unread body itself after answering, but a body whose Content-Encoding
    or chunking breaks on the way fails there with an unhandled error that closes the
    connection under a client that was told to keep it. Reading it here instead, a broken,
    stalled or oversized remainder makes the answer say ``Connection: close``, and the client
    opens a new connection for its next request.
    """
    content, app = request.content, request.config_dict
    if content.is_eof() and not body_abandoned(request):
        return
    limit = app[CONFIG].max_body_bytes
    try:
        async with asyncio.timeout(app[BODY_TIMEOUT]):
            while limit > 0 and not content.is_eof():
                chunk = await content.readany()
                if not chunk:
                    break
                limit -= len(chunk)
    except (web.RequestPayloadError, ConnectionError, TimeoutError) as exc:
        abandon_body(request, exc)
    if body_abandoned(request) or not content.is_eof():
        response.force_close()


async def unrouted(request: web.Request) -> web.StreamResponse:
    """The catch-all route (registered last): a 405 naming the methods the path takes, as
    aiohttp's router would have said, or a 404; :func:`safe` writes either as JSON."""
    allowed: set[str] = set()
    route = request.match_info.route
    for resource in request.app.router.resources():
        if resource is not route.resource:
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()
