"""``--panel-record FILE``: every exchange of a run, written as HAR 1.2 at its end.

HAR is the format browsers' developer tools, proxies and API tools read, so a run's traffic can
be opened, searched and replayed with them (and a profile inferred from it). The recording is
built from the same :class:`~harness.base.exchange.Exchange` values every report shows: the key
is ``<redacted>:<label>`` in them already, and every string of the file is scrubbed again with
the run's :class:`~harness.base.redaction.SecretBook` as it is written, like the certificate;
a worker scrubs with its own book first (its minted keys are known to it alone).

Each exchange is kept as the client records it (appending to a list; nothing is built or
written while tests run) and turned into a HAR entry at the end. Under pytest-xdist each worker
hands its entries to the controller with its verdicts' channel (``workeroutput``); the
controller alone writes the one file, sorted by start time, atomically (a temporary file
renamed over the target), so a reader never sees half of it.

What an entry holds beyond HAR's own fields: ``comment`` is the test that made the request
(absent for requests between tests: pre-flight, dialect detection, closing balances),
``_retries`` the 429s waited out before the answer recorded, ``_error`` why no HTTP answer came.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from harness.base.exchange import Exchange
from harness.base.version import __version__
from harness.reporting.certificate import plain
from harness.run.session import HarnessRun
from harness.wire.client import BASE_HEADERS
from smmhar import Body, entry, har_log, write_atomic

__all__ = ["HAR_OUTPUT_KEY", "HarRecorder", "har_entry"]

#: A worker's entries travel to the controller under this ``workeroutput`` key (JSON text).
HAR_OUTPUT_KEY = "smm_harness_har"
_CREATOR = "smm-conformance-harness"


def har_entry(exchange: Exchange, test: str | None = None) -> dict[str, object]:
    """``exchange`` as a HAR entry (not yet scrubbed: :class:`HarRecorder` does that)."""
    request = exchange.request
    url = exchange.url
    body: Body | None = None
    ctype = request.content_type or ""
    if request.method == "GET" and request.params and not request.body:
        # The query-string encoding: the parameters (the key redacted) travelled in the URL.
        url += ("&" if "?" in url else "?") + urlencode(request.params)
    elif request.body:  # a JSON body, or a hand-made one (its key slot shown redacted)
        body = Body(ctype, request.body)
    elif request.params:
        body = Body(ctype, urlencode(request.params))
    elif request.method != "GET":
        body = Body(ctype, "")
    headers = [*BASE_HEADERS, *([("Content-Type", ctype)] if ctype else [])]
    extra: dict[str, object] = {"_retries": exchange.retries}
    if exchange.status is None:
        extra["_error"] = exchange.transport_error or exchange.json_error or "no response"
    started = exchange.started_at
    if started is None:  # an exchange made by hand: it ended about now
        started = time.time() - exchange.elapsed
    return entry(
        started=started,
        seconds=max(0.0, exchange.elapsed),
        method=request.method,
        url=url,
        request_headers=headers,
        request_body=body,
        status=exchange.status or 0,
        response_headers=exchange.headers,
        response_body=Body(exchange.header("Content-Type") or "", exchange.text),
        comment=test,
        extra=extra,
    )


class HarRecorder:
    """Keeps the run's exchanges; at the end a worker hands them over, the reporting process
    writes the file. Registered by the plugin when ``--panel-record`` is given."""

    NAME = "smm_harness_har"

    def __init__(self, run: HarnessRun, path: Path, *, worker: bool) -> None:
        self.run = run
        self.path = path
        self.worker = worker
        self._seen: list[tuple[Exchange, str | None]] = []
        self._received: list[Any] = []
        # First: an observer after it (a judge) may raise, and the exchange happened anyway.
        run.client.observers.insert(0, self.observe)

    def observe(self, exchange: Exchange) -> None:
        judge = self.run.judge
        self._seen.append((exchange, None if judge is None else judge.test))

    def entries(self) -> list[Any]:
        """This process's entries, scrubbed of every secret it knows."""
        built = [har_entry(exchange, test) for exchange, test in self._seen]
        scrubbed = plain(built, self.run.secrets.scrub)
        assert isinstance(scrubbed, list)
        return scrubbed

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", {}).get(HAR_OUTPUT_KEY)
        if isinstance(output, str):
            self._received.extend(json.loads(output))

    @pytest.hookimpl(trylast=True)  # after the plugin's own end (closing balances are requests)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.worker:
            workeroutput = getattr(session.config, "workeroutput", {})
            workeroutput[HAR_OUTPUT_KEY] = json.dumps(self.entries())
            return
        entries = sorted([*self.entries(), *self._received],
                         key=lambda e: str(e.get("startedDateTime", "")))
        about = f"SMM panel API v2 conformance run against {self.run.config.display_url}"
        document = plain(
            har_log(entries, creator=_CREATOR, version=__version__, comment=about),
            self.run.secrets.scrub,
        )
        assert isinstance(document, dict)
        try:
            write_atomic(self.path, document)
        except OSError as error:
            self.run.problems.append(
                f"--panel-record: {self.path} not written: {error.strerror or error}"
            )
