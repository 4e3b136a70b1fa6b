"""Hostile input: thousands of seeded random malformed requests (form, JSON and query bodies,
random fields and values, invalid UTF-8, wrong content types and methods, cut-off bodies) never
get a 5xx, a non-JSON answer or a dropped connection, and never move money.

The generator can build every request the API knows except one that could really place an
order: whenever a request carries the tenant's real key and an ``add`` action, it also carries
a defect that survives anything the generator does afterwards (a ``service`` or ``quantity``
that is invalid in every prefix, since bodies may be cut short). So at the end the tenant's
balance, its debits and credits, and the panel's orders and refills must all be untouched;
anything else is a bug in the mock. A failure names the seed and the request number.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from yarl import URL

from mockpanel.config import MockConfig
from mockpanel.profiles import PROFILES, Handler, Profile
from mockpanel.server import run_panel
from mockpanel.wire import create_app
from mockpanel.wire.keys import FAILURES

TOKEN = "fuzz-token"
OPENING = Decimal("1000")
DEFAULT_SERVICE = "1"  # a Default-type service in every profile's catalogue

FIELD_NAMES = [
    "service", "link", "quantity", "order", "orders", "refill", "refills", "runs", "interval",
    "comments", "username", "min", "max", "delay", "posts", "old_posts", "expiry",
    "answer_number", "groups", "keywords", "usernames", "hashtag", "media", "country",
    "", "KEY", "Action", "key[]", "action ", "x" * 300, "\u00e9", "\U0001f600",
]
VALUES = [
    "", "0", "1", "-1", "01", "1.5", "1e3", "NaN", "Infinity", "null", "true", "9" * 40,
    "abc", " 1 ", "1,2,3", ",,,", "1,,2", "x" * 3000, "https://example.test/p", "http://",
    "https://example.test/p?mock_outcome=partial&mock_remains=5", "javascript:alert(1)",
    "ftp://example.test/", "\x00", "\r\n", "line 1\nline 2\n", "%", "%zz", "+", "&", "=",
    "\U0001f4a5", "\u0434\u043e\u0431\u0430\u0432\u0438\u0442\u044c", "\u202e", "\ud7ff",
    "' OR 1=1 --", "<script>", "{}", "[]", "\t", "100000000000000000000000",
]
CONTENT_TYPES = [
    None, "", "text/plain", "application/json", "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=ISO-8859-1", "application/json; charset=utf-16",
    "multipart/form-data; boundary=x", "application/vnd.api+json", "text/html", "*/*",
    "application/x-www-form-urlencoded; charset=utf-8", "garbage;;;=", "application/json;;",
    "application/x-www-form-urlencoded; charset=", "APPLICATION/JSON",
]
# Not deflate: aiohttp never finishes a broken deflate stream, so such a request waits out the
# body timeout (test_bad_input.py checks a body that stops arriving, with a short timeout).
ENCODINGS_HEADERS = ["gzip", "bogus", "identity"]
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80", b"\xf4\x90\x80\x80"]
# Invalid whatever prefix of them survives a cut-off body (a prefix "" is simply missing).
BAD_SERVICES = ["x1", "-1", ".5", "abc", "\u0661", "\uff11", "+1", "e5", "NaN"]
MAX_QUERY = 6000
ANSWER_BOUND = 10.0  # seconds: a wedged answer fails the test instead of hanging it
BAD_QUANTITIES = ["x100", "-100", ".5", "abc", "+100", "e3", "\u0661\u0660\u0660", "NaN"]


@dataclass
class Shot:
    """One raw request."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False

    def url(self) -> URL:
        return URL(self.path + ("?" + self.query if self.query else ""), encoded=True)


def _text(rng: random.Random) -> str:
    alphabet = string.printable if rng.random() < 0.6 else "".join(
        chr(rng.randrange(0x20, 0xD7FF)) for _ in range(20)
    )
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))


def _value(rng: random.Random) -> str:
    return rng.choice(VALUES) if rng.random() < 0.75 else _text(rng)


class Fuzzer:
    """Seeded malformed requests for one profile and one real key."""

    def __init__(self, seed: int, profile: Profile, key: str) -> None:
        self.rng = random.Random(seed)
        self.profile = profile
        self.key = key
        self.add_actions = {n for n, h in profile.actions.items() if h is Handler.ADD}

    def fields(self) -> tuple[list[tuple[str, str]], str | None]:
        """Random fields, and the name of the field that must stay as generated (the defect)."""
        rng = self.rng
        fields: list[tuple[str, str]] = []
        if rng.random() < 0.85:
            fields.append(("key", self.key if rng.random() < 0.5 else rng.choice([
                "", "wrong", self.key + "x", self.key.upper(), "k" * 300, _text(rng),
            ])))
        if rng.random() < 0.9:
            actions = [*self.profile.actions, *sorted(self.add_actions) * 3]  # add: the risky one
            fields.append(("action", rng.choice(actions) if rng.random() < 0.6 else rng.choice([
                "", "Add", "ADD", "addd", "stauts", "balance ", " status", "status\x00", "orders",
                "multiStatus", "refill_status", "cancel", "a" * 5000, _text(rng),
            ])))
        for _ in range(rng.randrange(0, 8)):
            fields.append((rng.choice(FIELD_NAMES), _value(rng)))
        if rng.random() < 0.1 and fields:  # a repeated field
            fields.append(rng.choice(fields))
        defect = None
        places_order = any(n == "key" and v == self.key for n, v in fields) and any(
            n == "action" and v in self.add_actions for n, v in fields
        )
        if places_order:
            if rng.random() < 0.5:
                defect, bad = "service", rng.choice(BAD_SERVICES)
            else:  # a Default service with a good link: the quantity check is reached
                defect, bad = "quantity", rng.choice(BAD_QUANTITIES)
                fields = [(n, v) for n, v in fields if n not in ("service", "link")]
                fields += [("service", DEFAULT_SERVICE), ("link", "https://example.test/p")]
            fields = [(n, v) for n, v in fields if n != defect] + [(defect, bad)]
        rng.shuffle(fields)
        return fields, defect

    def _json_value(self, value: str) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return value
        if roll < 0.65 and value.isdigit():
            return int(value)
        return rng.choice([None, True, False, 1.5, -7, [1, 2], {"id": 1}, [], {}, 10**30, value])

    def _json(self, fields: list[tuple[str, str]], defect: str | None) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            return json.dumps([dict(fields)]).encode()
        if roll < 0.15:
            return rng.choice([b"12", b'"text"', b"null", b"[" * 5000, b'{"a": NaN}', b"{"])
        members = [
            f"{json.dumps(n)}: {json.dumps(v if n == defect else self._json_value(v))}"
            for n, v in fields
        ]
        return ("{" + ", ".join(members) + "}").encode()

    def shot(self) -> Shot:
        rng = self.rng
        fields, defect = self.fields()
        path = rng.choice(self.profile.wire.paths)
        shot = Shot(
            method=rng.choices(["POST", "GET", "PUT", "DELETE", "PATCH"], [85, 10, 2, 2, 1])[0],
            path=path + rng.choice(["", "", "", "/", "//", "/extra"]),
        )
        mode = rng.choices(["form", "json", "query", "split", "garbage"], [40, 20, 15, 15, 10])[0]
        form_type = "application/x-www-form-urlencoded"
        if mode == "form":
            shot.body, shot.headers["Content-Type"] = _form(fields).encode(), form_type
        elif mode == "json":
            shot.body, shot.headers["Content-Type"] = self._json(fields, defect), "application/json"
        elif mode == "query":
            shot.query = _form(fields)
        elif mode == "split":
            cut = rng.randrange(0, len(fields) + 1)
            shot.query, shot.body = _form(fields[:cut]), _form(fields[cut:]).encode()
            shot.headers["Content-Type"] = form_type
        else:
            shot.body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        if rng.random() < 0.2:  # a content type that may not fit the body
            content_type = rng.choice(CONTENT_TYPES)
            if content_type is None:
                shot.headers.pop("Content-Type", None)
            else:
                shot.headers["Content-Type"] = content_type
        if rng.random() < 0.08 and shot.body:  # invalid UTF-8 somewhere in the body
            at = rng.randrange(len(shot.body) + 1)
            shot.body = shot.body[:at] + rng.choice(INVALID_UTF8) + shot.body[at:]
        if rng.random() < 0.06:  # invalid UTF-8 in the query string
            shot.query += rng.choice(["&x=%FF", "%C3%28", "&%ED%A0%80=1", "&%FF=%FE"])
        if rng.random() < 0.08 and shot.body:  # a body cut short
            shot.body = shot.body[: rng.randrange(len(shot.body))]
        if rng.random() < 0.04:
            shot.headers["Content-Encoding"] = rng.choice(ENCODINGS_HEADERS)
        if rng.random() < 0.05:
            shot.chunked = True
        if rng.random() < 0.02:  # far over the size limit
            shot.body += b"&pad=" + b"x" * 70_000
        # A request line over 8190 bytes is refused by aiohttp's HTTP parser before the mock
        # sees it (a plain-text 400, like any web server's 414): that is HTTP, not the API.
        shot.query = shot.query[:MAX_QUERY]
        return shot


def _form(fields: list[tuple[str, str]]) -> str:
    return urlencode(fields, quote_via=quote)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 700):
        yield body[start:start + 700]


async def _fire(session: Any, shot: Shot, base: URL | None = None) -> tuple[int, str]:
    url = shot.url() if base is None else base.join(shot.url())
    data: Any = _chunks(shot.body) if shot.chunked else shot.body
    # With a Content-Encoding the body waits for "100 Continue": the mock is then answering
    # when a broken encoding shows. Sent at once, aiohttp's HTTP parser may meet it first and
    # refuse the request itself in plain text, before any application code runs.
    async with session.request(
        shot.method, url, data=data if shot.body or shot.chunked else None, headers=shot.headers,
        skip_auto_headers={"Content-Type"}, expect100="Content-Encoding" in shot.headers,
        timeout=aiohttp.ClientTimeout(total=ANSWER_BOUND),
    ) as response:
        return response.status, await response.text(errors="replace")


def _check(status: int, text: str, where: str) -> None:
    assert status < 500, f"{where}: HTTP {status} {text[:300]}"
    try:
        json.loads(text)
    except ValueError:
        pytest.fail(f"{where}: not JSON (HTTP {status}): {text[:300]!r}")


async def _snapshot(session: Any, base: URL | None = None) -> dict[str, Any]:
    url = URL("/_mock/state") if base is None else base.join(URL("/_mock/state"))
    async with session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as response:
        snapshot: dict[str, Any] = await response.json()
    return snapshot


def _assert_untouched(snapshot: dict[str, Any], where: str) -> None:
    (tenant,) = snapshot["tenants"]
    assert Decimal(tenant["balance"]) == OPENING, where
    assert Decimal(tenant["debited"]) == Decimal(tenant["credited"]) == 0, where
    assert tenant["orders"] == tenant["refills"] == [], where
    assert snapshot["orders"] == snapshot["refills"] == [], where


MakeClient = Callable[[Any], Awaitable[Any]]


# per profile: how many requests, and whether its published rate limit is left on
RUNS = {
    "reference": (3000, False),  # every encoding: form, JSON and the query string
    "smmhub": (1500, True),  # form only; 60/min per key, so many become 429s
    "smartpanel": (1000, False),  # /api/v1, query + form, text/html answers
    "extended": (2000, True),  # form only; 1000/min per address, so the last ones are 429s
}


@pytest.mark.parametrize("name", sorted(RUNS))
async def test_random_malformed_requests_in_process(aiohttp_client: MakeClient, name: str) -> None:
    count, limited = RUNS[name]
    seed = 6_000 + sorted(RUNS).index(name)
    profile = PROFILES[name]
    app = create_app(MockConfig(
        profile=name, control_token=TOKEN, clock="manual", keys=(("fuzz-key", OPENING),),
        rate_limit="profile" if limited else "off",
    ))
    client = await aiohttp_client(app)
    fuzzer = Fuzzer(seed, profile, "fuzz-key")
    statuses: set[int] = set()
    for number in range(count):
        shot = fuzzer.shot()
        where = f"seed {seed}, request {number}: {shot.method} {str(shot.url())[:150]}"
        status, text = await _fire(client, shot)
        _check(status, text, where)
        statuses.add(status)
    _assert_untouched(await _snapshot(client), f"seed {seed}")
    assert app[FAILURES] == []
    assert 200 in statuses, statuses  # the requests did reach the API
    assert len(statuses) >= 3, statuses
    if limited:
        assert 429 in statuses


async def test_random_malformed_requests_over_a_real_socket() -> None:
    config = MockConfig(profile="reference", control_token=TOKEN, clock="manual",
                        keys=(("fuzz-key", OPENING),), rate_limit="off")
    fuzzer = Fuzzer(7_000, PROFILES["reference"], "fuzz-key")
    with run_panel(config) as panel:
        base = URL(panel.base_url)
        async with aiohttp.ClientSession() as session:
            for number in range(300):
                shot = fuzzer.shot()
                where = f"seed 7000, request {number}: {shot.method} {str(shot.url())[:150]}"
                try:
                    status, text = await _fire(session, shot, base)
                except aiohttp.ClientError as exc:
                    pytest.fail(f"{where}: the connection failed: {exc!r}")
                _check(status, text, where)
            snapshot = await _snapshot(session, base)
        _assert_untouched(snapshot, "seed 7000")
        assert panel.failures == ()
