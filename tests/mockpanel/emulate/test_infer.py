"""``mockpanel profiles infer``: a profile inferred from a HAR recording (mockpanel.emulate.infer).

The recordings are made here, in-process: a fixed script of requests (every action, the
refusals a harness run provokes) sent to a built-in profile's mock, each exchange written as a
harness ``--panel-record`` entry (keys as ``<redacted>:<label>``). Inferring from it must give
back the profile's own settings wherever the recording showed them; a hand-made recording of a
panel unlike any built-in must be read as faithfully; a recording that spent nothing must still
give a usable profile; bad input must give one clear :class:`InferenceError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from harness.contract.dialects import load_dialects
from mockpanel.config import MockConfig
from mockpanel.emulate.infer import (
    Inference,
    InferenceError,
    infer,
    inference_yaml,
    read_recording,
)
from mockpanel.emulate.infer_read import parse_recording
from mockpanel.errors import ErrorCode
from mockpanel.profiles import PROFILES, REFERENCE, Profile, load_profile_text
from mockpanel.profiles.codec import profile_to_plain
from mockpanel.state import LifecycleTimings, ServiceType
from mockpanel.wire.app import create_app
from mockpanel.wire.setup import state_config
from smmhar import Body, entry, har_log

DIALECTS_FILE = Path(__file__).parents[3] / "schemas" / "dialects.yaml"
KEYS = {"main key": "infer-main-key-123456", "poor key": "infer-poor-key-123456",
        "wrong key": "infer-wrong-key-123456"}
TOKEN = "infer-control-token"
NEVER = "9876543210"
LINK = "https://example.com/infer/post"
FORM = "application/x-www-form-urlencoded"


# --- recording a scripted run --------------------------------------------------------------


class Recorder:
    """Sends requests to an in-process mock and keeps each as a harness HAR entry."""

    def __init__(self, client: TestClient, path: str) -> None:
        self.client = client
        self.path = path
        self.entries: list[dict[str, object]] = []

    async def call(self, params: Mapping[str, str], key: str | None = "main key", *,
                   encoding: str = "form", test: str = "script") -> Any:
        sent = dict(params)
        recorded = dict(params)
        if key is not None:
            sent = {"key": KEYS.get(key, key), **sent}
            recorded = {"key": f"<redacted>:{key}", **recorded}
        started = time.time()
        url = self.path
        if encoding == "json":
            body: str | None = json.dumps(sent)
            shown: str | None = json.dumps(recorded)
            ctype = "application/json"
            answer = await self.client.post(url, data=body, headers={"Content-Type": ctype})
        elif encoding == "query":
            body = shown = None
            ctype = ""
            answer = await self.client.get(url + "?" + urlencode(sent))
            url += "?" + urlencode(recorded)
        elif encoding == "text":
            body, shown, ctype = urlencode(sent), urlencode(recorded), "text/plain"
            answer = await self.client.post(url, data=body, headers={"Content-Type": ctype})
        else:
            body, shown, ctype = urlencode(sent), urlencode(recorded), FORM
            answer = await self.client.post(url, data=body, headers={"Content-Type": ctype})
        text = await answer.text()
        self.entries.append(entry(
            started=started, seconds=0.001, method="GET" if encoding == "query" else "POST",
            url=f"http://127.0.0.1:1{url}", request_headers=[("Content-Type", ctype)],
            request_body=None if shown is None else Body(ctype, shown), status=answer.status,
            response_headers=list(answer.headers.items()),
            response_body=Body(answer.headers.get("Content-Type", ""), text), comment=test,
        ))
        try:
            return json.loads(text)
        except ValueError:
            return None

    async def control(self, path: str, body: Mapping[str, object]) -> None:
        answer = await self.client.post("/_mock" + path, json=body,
                                        headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status < 300, await answer.text()


def _order_id(answer: Any) -> str | None:
    if isinstance(answer, dict) and answer.get("order") is not None:
        return str(answer["order"])
    return None


def _served(profile: Profile, *, refill: bool | None = None,
            dripfeed: bool | None = None) -> Any:
    """A served Default service (by its flags), the test's shortcut for reading the catalogue."""
    for service in state_config(profile, MockConfig(profile=profile)).catalog:
        if service.type is not ServiceType.DEFAULT or service.type not in profile.services.types:
            continue
        if refill is not None and service.refill != refill:
            continue
        if dripfeed is not None and service.dripfeed != dripfeed:
            continue
        return service
    return None


async def _script(rec: Recorder, profile: Profile, *, spend: bool) -> None:
    await rec.call({"action": "services"})
    await rec.call({"action": "balance"})
    await rec.call({"action": "balance"}, "wrong key")
    await rec.call({"action": "balance"}, None)
    await rec.call({"action": "no_such_action"})
    await rec.call({"action": "smm_fingerprint_no_such_action"})
    await rec.call({})
    await rec.call({"action": "balance"}, encoding="json")
    await rec.call({"action": "balance"}, encoding="query")
    await rec.call({"action": "balance"}, encoding="text")
    await rec.call({"action": "status", "order": NEVER})
    await rec.call({"action": "status", "orders": f"{NEVER},{NEVER}1"})
    for alias in ("orders", "multiStatus"):
        await rec.call({"action": alias, "orders": f"{NEVER},{NEVER}1"})
    await rec.call({"action": "status", "orders": ",".join(str(10**9 + n) for n in range(101))})
    await rec.call({"action": "refill_status", "refill": NEVER})
    await rec.call({"action": "refill_status", "refills": f"{NEVER},{NEVER}1"})
    await rec.call({"action": "refill", "orders": f"{NEVER},{NEVER}1"})
    await rec.call({"action": "cancel", "orders": NEVER})
    await rec.call({"action": "cancel", "orders": f"{NEVER},{NEVER}1"})
    plain = _served(profile, refill=False) or _served(profile)
    refillable = _served(profile, refill=True)
    await rec.call({"action": "add", "service": "900000008", "link": LINK, "quantity": "100"})
    await rec.call({"action": "add", "service": str(plain.id), "quantity": "100"})
    await rec.call({"action": "add", "service": str(plain.id), "link": LINK,
                    "quantity": str(plain.min - 1)})
    await rec.call({"action": "add", "service": str(plain.id), "link": LINK,
                    "quantity": str(plain.max + 1)})
    await rec.call({"action": "add", "service": str(plain.id), "link": "not a url",
                    "quantity": str(plain.min)})
    await rec.call({"action": "add", "service": str(plain.id), "link": LINK, "quantity": "abc"})
    if not spend:
        return
    await rec.call({"action": "add", "service": str(plain.id), "link": LINK,
                    "quantity": str(plain.min)}, "poor key")
    pending = _order_id(await rec.call({"action": "add", "service": str(plain.id),
                                        "link": LINK, "quantity": str(plain.min)}))
    await rec.call({"action": "status", "order": str(pending)})
    await rec.call({"action": "refill", "order": str(pending)})
    await rec.call({"action": "status", "orders": f"{pending},{NEVER}"})
    for alias in ("orders", "multiStatus"):
        await rec.call({"action": alias, "orders": f"{pending},{NEVER}"})
    drip = _served(profile, dripfeed=True)
    if drip is not None:
        await rec.call({"action": "add", "service": str(drip.id), "link": LINK,
                        "quantity": str(drip.min), "runs": "2", "interval": "5"})
    await rec.call({"action": "cancel", "orders": str(pending)})
    await rec.call({"action": "cancel", "orders": str(pending)})  # Canceled by now, if it could
    partial = _order_id(await rec.call({"action": "add", "service": str(plain.id), "quantity":
                                        str(plain.min), "link": LINK + "?mock_outcome=partial"}))
    completed = [
        _order_id(await rec.call({"action": "add", "service": str(s.id), "link": LINK,
                                  "quantity": str(s.min)}))
        for s in (plain, refillable) if s is not None
    ]
    working = _order_id(await rec.call({"action": "add", "service": str(plain.id),
                                        "link": LINK, "quantity": str(plain.min)}))
    await rec.control("/clock/advance", {"seconds": 15})
    for order in [*completed, working]:
        await rec.call({"action": "status", "order": str(order)})
    await rec.call({"action": "cancel", "orders": str(working)})
    await rec.control("/clock/advance", {"seconds": 300})
    for order in [*completed, partial]:
        await rec.call({"action": "status", "order": str(order)})
        await rec.call({"action": "cancel", "orders": str(order)})
        await rec.call({"action": "refill", "order": str(order)})
    for alias in ("status", "orders", "multiStatus"):
        await rec.call({"action": alias, "orders": ",".join(map(str, completed))})
    await rec.call({"action": "refill", "order": str(completed[-1])})
    refills = [a for a in [await rec.call({"action": "refill", "orders": str(completed[-1])})]
               if isinstance(a, list)]
    await rec.call({"action": "refill", "orders": f"{completed[-1]},{NEVER}"})
    refill_id = next((str(i["refill"]) for a in refills for i in a
                      if isinstance(i.get("refill"), int | str)), None)
    if refill_id is not None:
        await rec.call({"action": "refill_status", "refill": refill_id})
        await rec.call({"action": "refill_status", "refills": f"{refill_id},{NEVER}"})


async def record(profile: Profile, *, spend: bool = True) -> dict[str, object]:
    """A HAR log of the script run against ``profile``'s mock."""
    config = MockConfig(
        profile=profile, clock="manual", control_token=TOKEN, rate_limit="off",
        keys=((KEYS["main key"], Decimal(100_000)), (KEYS["poor key"], Decimal(0))),
        timings=LifecycleTimings(order_pending=10.0, order_in_progress=100.0,
                                 refill_pending=10.0, refill_in_progress=100.0),
    )
    async with TestClient(TestServer(create_app(config))) as client:
        rec = Recorder(client, profile.wire.paths[0])
        await _script(rec, profile, spend=spend)
    return har_log(rec.entries, creator="test", version="0")


def _plain(profile: Profile) -> dict[str, Any]:
    """The profile's settings, less its source (which names the recording's file)."""
    return {k: v for k, v in profile_to_plain(profile).items() if k != "source"}


def _at(plain: Mapping[str, Any], path: str) -> Any:
    node: Any = plain
    for part in path.split("."):
        node = node[part]
    return node


def _same_settings(inference: Inference, original: Profile) -> None:
    """Every setting the recording showed equals the original's, but for what one recording
    cannot show whole: the paths it did not use, the status words of statuses it did not see
    (each named in not_observed), the flags a services answer does not carry. The catalogue is
    the one the original served (each rate's minimum raised where the panel's places need it),
    less what a services answer has no room for (refill days, package sizes)."""
    got, want = profile_to_plain(inference.profile), profile_to_plain(original)
    for path in inference.settings:
        if path in ("services.catalog", "services.types") or path in inference.not_observed:
            continue  # a guess (an unseen error's usual HTTP status) is said to be one
        mine, theirs = _at(got, path), _at(want, path)
        if path.startswith("errors."):
            for part in ("message", "status", "fields", "by_status"):
                if part in inference.settings[path]:
                    assert mine[part] == theirs[part], (path, part)
        elif path == "wire.paths":
            assert set(mine) <= set(theirs)
        elif path == "cancellable":
            assert set(mine) <= set(theirs)
            for status in set(theirs) - set(mine):
                assert f"{path}.{status}" in inference.not_observed, (path, status)
        elif path in ("order_words", "refill_words"):
            assert mine.items() <= theirs.items(), path
            for status in set(theirs) - set(mine):
                assert f"{path}.{status}" in inference.not_observed, (path, status)
        else:
            assert mine == theirs, path
    served = state_config(original, MockConfig(profile=original)).catalog
    flags = [f for f in ("refill", "cancel") if f in original.services.fields]

    def row(s: Any) -> tuple[Any, ...]:
        return (s.id, s.name, s.type, s.rate, s.min, s.max, *(getattr(s, f) for f in flags))

    assert [row(s) for s in inference.profile.services.catalog] == [
        row(s) for s in served if s.type in original.services.types]


# --- round trips of the built-ins ----------------------------------------------------------


@pytest.mark.parametrize("name", ["reference", "smmhub", "smartpanel", "smmserver", "smmapi",
                                  "extended", "smmpremium", "laravel", "smmpro", "perfectpanel"])
async def test_a_built_in_profile_is_inferred_back_from_its_recording(name: str) -> None:
    original = PROFILES[name]
    inference = infer(await record(original), name=f"inferred-{name}")
    _same_settings(inference, original)
    # Not vacuous: the recording shows the settings that tell the dialects apart.
    for path in ("wire.encodings", "wire.content_type", "numbers.order_id", "numbers.balance",
                 "errors.invalid_key", "errors.unknown_action", "errors.quantity_too_low",
                 "errors.insufficient_funds", "services.fields", "shapes.status_fields",
                 "order_words", "money_places", "currency"):
        assert path in inference.settings, path


async def test_vendor_wordings_numbers_and_shapes_are_read_off_the_wire() -> None:
    hub = infer(await record(PROFILES["smmhub"]), name="hub").profile
    assert hub.errors[ErrorCode.QUANTITY_TOO_LOW].message == "Quantity is too low"
    assert hub.errors[ErrorCode.INSUFFICIENT_FUNDS].message == "Insufficient balance"
    assert dict(hub.errors[ErrorCode.ORDER_NOT_CANCELLABLE].by_status) == {
        "Completed": "Order already completed"}
    smart = infer(await record(PROFILES["smartpanel"]), name="smart").profile
    assert smart.wire.content_type == "text/html; charset=UTF-8"
    assert smart.wire.indent == 4
    assert (smart.services.flags, smart.services.type_spelling) == ("int", "snake")
    assert smart.shapes.status_item_error == "string"
    assert "cancel" not in smart.actions
    server = infer(await record(PROFILES["smmserver"]), name="server").profile
    assert server.numbers.order_id == "string"
    assert dict(server.order_words) == {"Canceled": "Cancelled"} or "Cancelled" not in str(
        profile_to_plain(server))
    api = infer(await record(PROFILES["smmapi"]), name="api").profile
    assert dict(api.errors[ErrorCode.INVALID_KEY].fields) == {"status": "102"}
    assert dict(api.errors[ErrorCode.MISSING_KEY].fields) == {"status": "101"}
    assert dict(api.order_words) == {"In progress": "Inprogress"}
    assert (api.currency, api.money_places) == ("TRY", 2)
    extended = infer(await record(PROFILES["extended"]), name="ext").profile
    assert extended.errors[ErrorCode.INVALID_KEY].status == 401
    assert extended.errors[ErrorCode.UNKNOWN_ORDER].status == 404
    assert extended.actions.get("multiStatus") is not None
    assert "refill_status" not in extended.actions


# --- a recording that spent nothing --------------------------------------------------------


async def test_a_read_only_recording_gives_a_usable_profile_with_add_shapes_not_observed() -> None:
    inference = infer(await record(PROFILES["smmhub"], spend=False), name="readonly")
    for path in ("errors.insufficient_funds", "wire.create_status", "id_style",
                 "shapes.add_fields", "cancellable"):
        assert path in inference.not_observed, path
        assert path not in inference.settings
    assert "no add was refused for funds" in inference.not_observed["errors.insufficient_funds"]
    # What it did show is still read: the catalogue, the wordings of refusals that cost nothing.
    assert inference.profile.errors[ErrorCode.QUANTITY_TOO_LOW].message == "Quantity is too low"
    assert inference.profile.services.types == PROFILES["smmhub"].services.types
    text = inference_yaml(inference, source_label="readonly.har")
    assert _plain(load_profile_text(text, "readonly.yaml")) == _plain(inference.profile)


# --- a panel unlike every built-in ---------------------------------------------------------


def _exchange(params: Mapping[str, str], status: int, answer: Any, *,
              ctype: str = "application/json", text: str | None = None,
              headers: tuple[tuple[str, str], ...] = ()) -> dict[str, object]:
    body = text if text is not None else json.dumps(answer)
    return entry(
        started=time.time(), seconds=0.01, method="POST", url="https://panel.example/api/v3",
        request_headers=[("Content-Type", FORM)], request_body=Body(FORM, urlencode(params)),
        status=status, response_headers=[("Content-Type", ctype), *headers],
        response_body=Body(ctype, body),
    )


MAIN = "<redacted>:main key"
SECOND = "<redacted>:second key"


def odd_panel() -> dict[str, object]:
    """A hand-made recording: string ids, "1"/"0" flags, TRY with two places, its own words."""
    services = [
        {"service": "11", "name": "Followers", "type": "Default", "rate": "1.25", "min": 100,
         "max": 5000, "category": "Insta", "refill": "1", "cancel": "0"},
        {"service": "12", "name": "Likes", "type": "Default", "rate": "0.5", "min": 10,
         "max": 1000, "category": "Insta", "refill": "0", "cancel": "1"},
    ]
    add = {"key": MAIN, "action": "add", "service": "11", "link": "https://x.example/p"}
    entries = [
        _exchange({"key": MAIN, "action": "services"}, 200, services),
        _exchange({"key": MAIN, "action": "balance"}, 200, None,
                  text='{"balance": 12.50, "currency": "TRY"}'),
        _exchange({"key": "<redacted>:wrong key", "action": "balance"}, 403,
                  {"error": "Wrong key! (code 7)", "code": 7}),
        _exchange({"action": "balance"}, 403, {"error": "Key required", "code": 6}),
        _exchange({"key": MAIN, "action": "frobnicate"}, 400,
                  {"error": "No such method: frobnicate"}),
        _exchange({"key": MAIN, "action": "status", "order": "555"}, 404,
                  {"error": "Order #555 does not exist"}),
        _exchange({**add, "quantity": "50"}, 422, {"error": "Minimum is 100, you sent 50"}),
        _exchange({**add, "quantity": "9000"}, 422, {"error": "Maximum is 5000"}),
        _exchange({**add, "key": SECOND, "quantity": "100"}, 402, {"error": "Top up first"}),
        _exchange({**add, "quantity": "100"}, 201, {"order": "A1B2C3"}),
        _exchange({key: value for key, value in {"key": MAIN, "action": "status",
                                                 "order": "A1B2C3"}.items()}, 200,
                  {"status": "Inprogress", "charge": 0.13, "start_count": 10, "remains": 90,
                   "currency": "TRY"}),
        _exchange({"key": MAIN, "action": "status", "order": "555"}, 404,
                  {"error": "Order #555 does not exist"}),
    ]
    return har_log(entries, creator="hand", version="1")


def test_a_panel_unlike_every_built_in_is_inferred_faithfully() -> None:
    inference = infer(odd_panel(), name="odd")
    p = inference.profile
    assert p.wire.paths == ("/api/v3",)
    assert (p.currency, p.money_places) == ("TRY", 2)
    assert (p.numbers.balance, p.numbers.service_id) == ("number", "string")
    assert (p.numbers.limits, p.numbers.charge) == ("number", "number")
    assert p.services.flags == "string"
    assert [s.id for s in p.services.catalog] == [11, 12]
    assert (p.services.catalog[0].refill, p.services.catalog[0].cancel) == (True, False)
    assert (p.id_style, p.wire.create_status) == ("alphanumeric", 201)
    errors = p.errors
    assert (errors[ErrorCode.INVALID_KEY].message, errors[ErrorCode.INVALID_KEY].status) == (
        "Wrong key! (code 7)", 403)
    assert dict(errors[ErrorCode.INVALID_KEY].fields) == {"code": 7}
    assert dict(errors[ErrorCode.MISSING_KEY].fields) == {"code": 6}
    assert errors[ErrorCode.UNKNOWN_ACTION].message == "No such method: {action}"
    assert errors[ErrorCode.UNKNOWN_ORDER].message == "Order #{order} does not exist"
    assert errors[ErrorCode.QUANTITY_TOO_LOW].message == "Minimum is {min}, you sent {quantity}"
    assert errors[ErrorCode.QUANTITY_TOO_HIGH].message == "Maximum is {max}"
    assert (errors[ErrorCode.INSUFFICIENT_FUNDS].message,
            errors[ErrorCode.INSUFFICIENT_FUNDS].status) == ("Top up first", 402)
    assert dict(p.order_words) == {"In progress": "Inprogress"}
    assert inference.observed["bad_key.message"] == "Wrong key! (code 7)"
    assert inference.observed["unknown_order.message"] == "Order #{id} does not exist"


# --- the file -----------------------------------------------------------------------------


async def test_the_file_says_what_it_is_and_loads_into_the_inferred_profile() -> None:
    inference = infer(await record(PROFILES["smmapi"]), name="my-provider")
    text = inference_yaml(inference, source_label="run.har")
    assert text.startswith("# A mockpanel profile inferred from run.har")
    assert "mockpanel serve --profile-file" in text.split("\nname:")[0]
    document = yaml.safe_load(text)
    assert list(document)[:4] == ["name", "extends", "summary", "source"]
    assert document["extends"] == "reference"
    assert document["not_observed"]
    assert document["observed"]
    # Written explicitly even where it equals the reference's value.
    assert document["errors"]["unknown_order"]["status"] == 200
    assert _plain(load_profile_text(text, "my-provider.yaml")) == _plain(inference.profile)
    assert load_profile_text(text, "my-provider.yaml").source == "mockpanel profiles infer run.har"


async def test_every_observed_trait_is_a_dialects_yaml_trait_and_matches_the_dialect() -> None:
    data = load_dialects()
    traits = {t.id: t for t in data.traits}
    ids = set(yaml.safe_load(DIALECTS_FILE.read_text(encoding="utf-8"))["traits"][i]["id"]
              for i in range(len(traits)))
    assert ids == set(traits)
    for name in ("smartpanel", "extended", "smmapi"):
        inference = infer(await record(PROFILES[name]), name=name)
        assert set(inference.observed) <= set(traits), set(inference.observed) - set(traits)
        dialect = next(d for d in data.dialects if d.name == name)
        for trait_id, value in inference.observed.items():
            expected = dialect.traits.get(trait_id)
            if expected is None or trait_id == "services.types":
                continue
            shown = tuple(value) if isinstance(value, list) else value
            assert traits[trait_id].matches(shown, expected), (name, trait_id, value, expected)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(("har", "words"), [
    ([], "not a HAR file"),
    ({"log": {}}, "no log.entries"),
    ({"log": {"entries": []}}, "no API requests"),
    ({"log": {"entries": [1, "x", {"request": {}}]}}, "no API requests"),
    (har_log([_exchange({"key": MAIN, "action": "balance"}, 200, {"balance": "1.00"})],
             creator="t", version="1"), "no services answer"),
])
def test_a_recording_nothing_can_be_inferred_from_is_one_clear_error(har: Any,
                                                                     words: str) -> None:
    with pytest.raises(InferenceError) as caught:
        infer(har, name="x")
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_text_that_is_not_json_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InferenceError, match="not JSON"):
        parse_recording("<html>not a recording</html>")
    with pytest.raises(InferenceError, match="cannot be read"):
        read_recording(tmp_path / "missing.har")
    (tmp_path / "bytes.har").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InferenceError, match="not JSON"):
        read_recording(tmp_path / "bytes.har")


def test_odd_entries_are_passed_over_not_fatal() -> None:
    har = odd_panel()
    entries = har["log"]["entries"]  # type: ignore[index]
    entries.extend([
        None, 7, {"request": "x", "response": {}},
        _exchange({"key": MAIN, "action": "status", "orders": "9" * 400}, 200, None,
                  text="<html>502 Bad Gateway</html>", ctype="text/html"),
        {**_exchange({"key": MAIN, "action": "balance"}, 200, None, text='{"error": "bad'),
         "request": {"method": "POST", "url": "https://panel.example/api/v3\ud800",
                     "postData": {"mimeType": FORM, "text": "key=x&action=balance&n=\ud800"}}},
        _exchange({"key": MAIN, "action": "status", "order": "1" * 300}, 200,
                  {"1" * 300: {"status": "Weird"}}),
    ])
    inference = infer(har, name="odd")
    assert inference.profile.currency == "TRY"


# --- what a recording leaves unsaid ---------------------------------------------------------


def flagless_panel(*, drip_refused_on: str = "12", refill_seen: bool = False) -> dict[str, object]:
    """A catalogue without any flag (seed 004's shape), statuses 400/404 for its refusals."""
    services = [
        {"service": sid, "name": f"S{sid}", "type": "Default", "rate": "1.00", "min": 10,
         "max": 1000, "category": "C"} for sid in (11, 12, 13)
    ]
    add = {"key": MAIN, "action": "add", "link": "https://x.example/p", "quantity": "10"}
    entries = [
        _exchange({"key": MAIN, "action": "services"}, 200, services),
        _exchange({"key": MAIN, "action": "balance"}, 200, {"balance": "9.00", "currency": "USD"}),
        _exchange({"key": MAIN, "action": "frobnicate"}, 400, {"error": "Unknown action"}),
        _exchange({"key": MAIN, "action": "status", "order": "555"}, 404,
                  {"error": "Order not found"}),
        _exchange({"key": MAIN, "action": "refill", "order": "555"}, 404,
                  {"error": "Order not found"}),
        _exchange({**add, "service": "11", "quantity": "5"}, 400, {"error": "Too few"}),
        _exchange({**add, "service": drip_refused_on, "runs": "2", "interval": "5"}, 400,
                  {"error": "No drip-feed here"}),
        _exchange({**add, "service": "11", "runs": "2", "interval": "5"}, 200, {"order": 71}),
        _exchange({**add, "service": "11", "link": ""}, 400, {"error": "Bad link"}),
    ]
    if refill_seen:  # refilled on 11; refused on 12 once its order had completed
        done = {"status": "Completed", "charge": "0.02", "start_count": "1", "remains": "0",
                "currency": "USD"}
        entries += [
            _exchange({**add, "service": "12"}, 200, {"order": 72}),
            _exchange({"key": MAIN, "action": "status", "order": "71"}, 200, done),
            _exchange({"key": MAIN, "action": "status", "order": "72"}, 200, done),
            _exchange({"key": MAIN, "action": "refill", "order": "71"}, 200, {"refill": "5"}),
            _exchange({"key": MAIN, "action": "refill", "order": "72"}, 400,
                      {"error": "No refill for this service"}),
        ]
    return har_log(entries, creator="hand", version="1")


def test_an_unseen_refusal_takes_the_http_status_of_its_kind() -> None:
    inference = infer(flagless_panel(), name="flagless")
    errors = inference.profile.errors
    # Seen: 400 for refusals, 404 for unknown ids. Unseen: the reference's words, those codes.
    assert errors[ErrorCode.ORDER_NOT_COMPLETED].status == 400
    assert errors[ErrorCode.ORDER_NOT_COMPLETED].message == "The order is not completed"
    assert errors[ErrorCode.UNKNOWN_REFILL].status == 404
    assert "HTTP status (400)" in inference.not_observed["errors.order_not_completed"]
    # Nothing tells a suspended account's, the key's or the funds' status: the reference's.
    for code in (ErrorCode.ACCOUNT_SUSPENDED, ErrorCode.INVALID_KEY,
                 ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.RATE_LIMITED):
        assert errors[code].status == REFERENCE.errors[code].status, code


def test_a_panel_answering_every_refusal_with_200_keeps_200() -> None:
    # The correct-but-different case: HTTP 200 envelopes, as PerfectPanel; nothing is guessed.
    har = flagless_panel()
    for item in har["log"]["entries"]:  # type: ignore[index]
        item["response"]["status"] = 200
    inference = infer(har, name="classic")
    assert inference.profile.errors[ErrorCode.ORDER_NOT_COMPLETED].status == 200
    assert "HTTP status" not in inference.not_observed["errors.order_not_completed"]


def test_flags_a_catalogue_does_not_carry_are_read_off_what_was_done() -> None:
    inference = infer(flagless_panel(), name="flagless")
    catalog = {s.id: s for s in inference.profile.services.catalog}
    # Drip-feed: taken on 11, refused on 12; 13, never tried, takes it as 11 did.
    assert (catalog[11].dripfeed, catalog[12].dripfeed, catalog[13].dripfeed) == (
        True, False, True)
    # Refill: the action is answered (its unknown-order error), no service was tried: each may.
    assert all(s.refill and s.refill_days >= 1 for s in catalog.values())
    assert "services.catalog[].refill" in inference.not_observed
    # Where the recording shows a refill taken on one service and refused on another, the
    # one not tried follows the one that took it.
    seen = {s.id: s for s in infer(flagless_panel(refill_seen=True), name="x").profile
            .services.catalog}
    assert (seen[11].refill, seen[12].refill, seen[13].refill) == (True, False, True)


def test_flags_the_catalogue_carries_are_not_second_guessed() -> None:
    inference = infer(odd_panel(), name="odd")  # "refill": "1"/"0", "cancel": "0"/"1"
    catalog = {s.id: s for s in inference.profile.services.catalog}
    assert (catalog[11].refill, catalog[11].cancel, catalog[12].refill, catalog[12].cancel) == (
        True, False, False, True)


def test_an_empty_link_worded_bad_link_is_the_link_error_not_the_funds_one() -> None:
    errors = infer(flagless_panel(), name="flagless").profile.errors
    assert errors[ErrorCode.INVALID_LINK].message == "Bad link"
    assert errors[ErrorCode.INSUFFICIENT_FUNDS].message == \
        REFERENCE.errors[ErrorCode.INSUFFICIENT_FUNDS].message
