"""Every example of the five seed documents, replayed against the profile emulating its seed.

The examples are the transcriptions of ``seed_NNN.yaml`` (checked against the pages by
``test_transcripts.py``): each request is sent as the page shows it, with this test's key and
the ids it created, to an in-process panel brought into the state the example shows; the
answer must have the page's shape, JSON types, money places, exact words and HTTP status
(see :mod:`tests.mockpanel.seeds.compare`). A profile that drifts from its seed fails here,
naming the example and the line of the page it comes from.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from mockpanel.profiles import PROFILES
from tests.fixtures.inprocess import MakePanel
from tests.mockpanel.seeds.compare import Rules, differences
from tests.mockpanel.seeds.replay import Answer, Replay
from tests.mockpanel.seeds.transcripts import Example, load_all

TRANSCRIPTS = load_all()
EXAMPLES = [example for transcript in TRANSCRIPTS for example in transcript.examples]
SEED_PROFILES = {
    "000_9cacb542ce98a4dc.txt": "smmpremium",
    "001_83170cb3c7cbf73c.txt": "smmpro",
    "002_fba3e2809a2ac43d.txt": "smmhub",
    "003_41f8170a78346ebb.txt": "perfectpanel",
    "004_48888adee68f2136.txt": "extended",
}


class Receiver:
    """A webhook receiver recording each POST's content type and JSON body."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text(), parse_float=Decimal)
        self.calls.append((request.content_type, body))
        return web.Response(status=204)


MakeServer = Callable[..., Awaitable[Any]]


async def _receiver(aiohttp_server: MakeServer) -> Receiver:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    receiver.url = str(server.make_url("/hook"))
    return receiver


def _where(example: Example) -> str:
    quote = example.answer or example.error or example.webhook
    lines = "" if quote is None else f" lines {quote.first}-{quote.last}"
    return f"{example.seed}{lines} ({example.profile}, example {example.name!r})"


def _check_error(example: Example, answer: Answer) -> list[str]:
    problems = []
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return [f"not an error object with an error string: {body!r}"]
    if not body["error"].strip():
        problems.append("the error string is blank")
    if example.message is not None and body["error"] != example.message:
        problems.append(f"error {body['error']!r} where the seed says {example.message!r}")
    return problems


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
async def test_the_profile_answers_as_its_seed_shows(
    example: Example, make_panel: MakePanel, aiohttp_server: MakeServer
) -> None:
    receiver = await _receiver(aiohttp_server) if example.webhook is not None else None
    config = {} if receiver is None else {"webhook_url": receiver.url}
    panel = await make_panel(example.profile, **config)
    replay = Replay(panel, example)
    await replay.prepare()
    rules = Rules(example.exact, example.optional, replay.ids, example.any_item,
                  example.copied_places)
    where = _where(example)

    if receiver is not None:
        await panel.delivered()
        assert receiver.calls, f"{where}: no webhook was sent"
        content_type, payload = receiver.calls[-1]
        assert content_type == example.content_type, where
        problems = differences(payload, example.expected(), rules)
        assert not problems, f"{where}: posted {payload!r}\n  " + "\n  ".join(problems)
        return

    answer, before = await replay.send()
    for earlier in before:  # a published budget is not smaller than it says
        assert 200 <= earlier.status < 300, f"{where}: refused early: {earlier.body!r}"
    problems = []
    if example.http_status is not None and answer.status != example.http_status:
        problems.append(f"HTTP {answer.status} where the seed states {example.http_status}")
    if example.error is None and not 200 <= answer.status < 300:
        problems.append(f"HTTP {answer.status} for an answer the seed shows as a success")
    for header in example.headers:
        if header not in answer.headers:
            problems.append(f"no {header} header")
    if example.error is not None:
        problems += _check_error(example, answer)
    else:
        problems += differences(answer.body, example.expected(), rules)
    assert not problems, (
        f"{where}: answered HTTP {answer.status} {answer.body!r}\n  " + "\n  ".join(problems)
    )


def test_each_seed_has_a_transcript_for_the_profile_drawn_from_it() -> None:
    assert {t.seed: t.profile for t in TRANSCRIPTS} == SEED_PROFILES
    for transcript in TRANSCRIPTS:
        assert PROFILES[transcript.profile].source == transcript.seed, transcript.profile
