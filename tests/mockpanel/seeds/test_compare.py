"""The comparison of an answer with a seed example: each rule catches the drift it is for and
accepts an answer that differs only where the page's values are another account's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fixtures.inprocess import loads
from tests.mockpanel.seeds.compare import Rules, differences
from tests.mockpanel.seeds.transcripts import answer_json, curl_fields

STATUS = loads('{"charge": "0.27819", "start_count": "3572", "status": "Partial",'
               ' "remains": "157", "currency": "USD"}')
EXACT = Rules(exact=frozenset({"status", "currency", "error"}))


def _status(**changes: Any) -> dict[str, Any]:
    return {**STATUS, **changes}


def test_other_values_of_the_same_types_and_places_are_accepted() -> None:
    mine = _status(charge="12.00001", start_count="0", remains="9")
    assert differences(mine, STATUS, EXACT) == []


def test_a_number_where_the_seed_has_a_string_is_caught_and_the_reverse() -> None:
    assert differences(_status(remains=157), STATUS, EXACT) != []
    services = loads('[{"service": 1, "rate": "0.90", "dripfeed": false}]')
    assert differences(loads('[{"service": "1", "rate": "0.90", "dripfeed": false}]'),
                       services, Rules(any_item=True)) != []
    assert differences(loads('[{"service": 1, "rate": "0.90", "dripfeed": 0}]'),
                       services, Rules(any_item=True)) != []


def test_a_json_number_with_or_without_a_fraction_is_a_number() -> None:
    seed = loads('{"order": 98421, "charge": 4.20}')
    assert differences(loads('{"order": 7, "charge": 0.9}'), seed, Rules()) == []
    assert differences(loads('{"order": 7, "charge": 1}'), seed, Rules()) == []
    assert differences(loads('{"order": 7, "charge": "0.9"}'), seed, Rules()) != []


def test_a_missing_or_an_extra_key_is_caught_unless_declared_optional() -> None:
    lean = {key: value for key, value in STATUS.items() if key != "start_count"}
    assert differences(lean, STATUS, EXACT) != []
    assert differences(_status(order="1"), STATUS, EXACT) != []
    add = loads('{"order": 23501}')
    extras = loads('{"order": 1, "status": "Pending", "charge": 0.9}')
    assert differences(extras, add, Rules()) != []
    assert differences(extras, add, Rules(optional=frozenset({"status", "charge"}))) == []


def test_money_strings_keep_the_pages_decimals_but_json_numbers_need_not() -> None:
    assert differences(_status(charge="0.28"), STATUS, EXACT) != []
    balance = loads('{"balance": "100.84", "currency": "USD"}')
    assert differences(loads('{"balance": "7.00", "currency": "USD"}'), balance, EXACT) == []
    assert differences(loads('{"balance": "7.00000", "currency": "USD"}'), balance, EXACT) != []
    number = loads('{"charge": 4.20}')
    assert differences({"charge": Decimal("4.2")}, number, Rules()) == []


def test_copied_places_frees_only_the_keys_it_names() -> None:
    copied = Rules(exact=frozenset({"status", "currency"}), copied_places=frozenset({"charge"}))
    assert differences(_status(charge="0.28"), STATUS, copied) == []
    assert differences(_status(charge="abc"), STATUS, copied) != []  # still a decimal number
    balance = loads('{"balance": "100.84", "currency": "USD"}')
    assert differences(loads('{"balance": "7.0", "currency": "USD"}'), balance, copied) != []


def test_a_numeric_string_must_stay_numeric_but_a_text_id_may_be_any_text() -> None:
    assert differences(_status(remains="n/a"), STATUS, EXACT) != []
    assert differences({"order": "2B3C4D"}, {"order": "K7M2X9"}, Rules()) == []
    assert differences({"order": "123456"}, {"order": "K7M2X9"}, Rules()) == []


def test_exact_keys_compare_values_and_others_do_not() -> None:
    assert differences(_status(status="Completed"), STATUS, EXACT) != []
    assert differences(_status(currency="INR"), STATUS, EXACT) != []
    assert differences(_status(status="Completed"), STATUS, Rules()) == []
    seed = {"order": 2, "error": "Incorrect order ID"}
    assert differences({"order": 2, "error": "Order not found"}, seed, EXACT) != []


def test_ids_are_mapped_to_the_ones_created_for_them() -> None:
    seed = loads('{"1": {"status": "Partial"}, "10": {"error": "Incorrect order ID"}}')
    rules = Rules(exact=frozenset({"status", "error"}),
                  ids={"order": {"1": "16701", "10": "999999999"}})
    mine = {"16701": {"status": "Partial"}, "999999999": {"error": "Incorrect order ID"}}
    assert differences(mine, seed, rules) == []
    assert differences({"16701": {"status": "Partial"}}, seed, rules) != []
    swapped = {"16701": {"error": "Incorrect order ID"}, "999999999": {"status": "Partial"}}
    assert differences(swapped, seed, rules) != []


def test_list_items_correspond_in_order_and_name_the_ids_asked_for() -> None:
    seed = loads('[{"order": 1832047, "cancel": 1},'
                 ' {"order": 1832048, "cancel": {"error": "Order already completed"}}]')
    rules = Rules(exact=frozenset({"error"}),
                  ids={"order": {"1832047": "16701", "1832048": "16702"}})
    good = [{"order": 16701, "cancel": 1},
            {"order": 16702, "cancel": {"error": "Order already completed"}}]
    assert differences(good, seed, rules) == []
    assert differences(list(reversed(good)), seed, rules) != []
    assert differences(good[:1], seed, rules) != []
    wrong_id = [{"order": 16703, "cancel": 1}, good[1]]
    assert differences(wrong_id, seed, rules) != []


def test_a_catalogue_item_must_match_some_item_of_the_page() -> None:
    seed = loads('[{"service": 1, "type": "Default", "rate": "0.90"},'
                 ' {"service": 2, "type": "Custom Comments", "rate": "8"}]')
    rules = Rules(any_item=True)
    many = [{"service": n, "type": "SEO", "rate": "1.20"} for n in range(5)]
    assert differences(many, seed, rules) == []
    assert differences([], seed, rules) != []
    assert differences([*many, {"service": 9, "type": "SEO"}], seed, rules) != []


def test_seed_000s_curl_comments_and_elision_are_undone() -> None:
    text = '# → [\n# {\n# "service": 1234,\n# "min": 100\n# },\n# ...\n# ]'
    assert answer_json(text) == [{"service": 1234, "min": 100}]
    assert answer_json('# → {"charge":"6.00"}') == {"charge": "6.00"}


def test_curl_fields_are_read_from_one_line_or_many() -> None:
    one_line = 'curl -X POST https://x/api/v2 \\ -d "key=K" \\ -d "action=add" \\ -d "link=https://a/b"'
    assert curl_fields(one_line) == [("key", "K"), ("action", "add"), ("link", "https://a/b")]
    assert curl_fields('curl \\\n-d "orders=1,2"') == [("orders", "1,2")]
