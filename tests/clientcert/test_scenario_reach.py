"""What the scenarios reach and where they file a finding: Processing in the dialects whose
seeds list it, every service type of the catalogue (N/A per type the library cannot send),
and a library that cannot read JSON labelled text/html judged once, under CLIENT-014, with
the scenarios that rest on reading answers N/A in that dialect instead of failing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clientcert import AdapterSettings, OrderRequest
from clientcert.certify import run_scenario
from clientcert.scenarios import Observation, by_name
from harness import Verdict
from mockpanel.pytest_plugin import MockPanelServers
from tests.clientcert.broken_clients import KnownWordsOnly, TrustsTheLabel, factory
from tests.clientcert.reference_adapter import ReferenceAdapter, make
from tests.clientcert.reference_client import ReferenceClient


@pytest.fixture(scope="module")
def servers() -> Iterator[MockPanelServers]:
    pool = MockPanelServers()
    yield pool
    pool.close()


def _of(found: list[Observation], clause: str) -> list[Observation]:
    return [o for o in found if o.clause == clause]


@pytest.mark.parametrize("profile", ["smmpro", "smmhub"])
def test_processing_is_read_back_where_the_seed_lists_it(
    servers: MockPanelServers, profile: str
) -> None:
    found = _of(run_scenario(servers, profile, by_name("status_words"), make), "CLIENT-013")
    assert "'Processing' read as 'Processing'" in [o.message for o in found]
    broken = _of(run_scenario(servers, profile, by_name("status_words"),
                              factory(KnownWordsOnly)), "CLIENT-013")
    assert [o.verdict for o in broken if "Processing" in o.message] == [Verdict.FAIL]


def test_processing_is_not_tried_where_the_dialect_lacks_it(servers: MockPanelServers) -> None:
    found = _of(run_scenario(servers, "reference", by_name("status_words"), make), "CLIENT-013")
    assert found
    assert not [o for o in found if "Processing" in o.message]


class DefaultOnlyAdapter(ReferenceAdapter):
    """An honest adapter over a library whose add takes service, link and quantity only."""

    def add(self, order: OrderRequest) -> object:
        if order.extras or order.quantity is None:
            raise NotImplementedError(order.type)
        return super().add(order)


def test_every_type_is_ordered_and_an_unsupported_one_is_na(servers: MockPanelServers) -> None:
    found = _of(run_scenario(servers, "smmhub", by_name("order_types"), make), "CLIENT-015")
    kinds = {o.message.split(":", 1)[0]: o.verdict for o in found}
    assert kinds == {"Default": Verdict.PASS, "Package": Verdict.PASS,
                     "Custom Comments": Verdict.PASS}
    assert any("comments" in o.message for o in found if o.message.startswith("Custom"))

    def narrow(settings: AdapterSettings) -> DefaultOnlyAdapter:
        return DefaultOnlyAdapter(ReferenceClient(settings.url, settings.key, settings.timeout))

    found = _of(run_scenario(servers, "smmhub", by_name("order_types"), narrow), "CLIENT-015")
    kinds = {o.message.split(":", 1)[0]: o.verdict for o in found}
    assert kinds == {"Default": Verdict.PASS, "Package": Verdict.NA,
                     "Custom Comments": Verdict.NA}


def test_an_unreadable_label_is_judged_once_under_client_014(servers: MockPanelServers) -> None:
    label = run_scenario(servers, "smartpanel", by_name("content_type"), factory(TrustsTheLabel))
    assert [o.verdict for o in _of(label, "CLIENT-014")] == [Verdict.FAIL]
    money = run_scenario(servers, "smartpanel", by_name("money"), factory(TrustsTheLabel))
    assert [o.verdict for o in _of(money, "CLIENT-003")] == [Verdict.NA]
    assert "CLIENT-014" in _of(money, "CLIENT-003")[0].message
    # A scenario that does not rest on reading answers is still judged there.
    slow = run_scenario(servers, "smartpanel", by_name("slow_panel"), factory(TrustsTheLabel))
    assert [o.verdict for o in _of(slow, "CLIENT-011")] == [Verdict.PASS]


def test_a_library_that_reads_the_label_is_judged_normally(servers: MockPanelServers) -> None:
    money = run_scenario(servers, "smartpanel", by_name("money"), make)
    assert {o.verdict for o in _of(money, "CLIENT-003")} == {Verdict.PASS}
    label = run_scenario(servers, "smartpanel", by_name("content_type"), make)
    assert [o.verdict for o in _of(label, "CLIENT-014")] == [Verdict.PASS]
    elsewhere = run_scenario(servers, "reference", by_name("content_type"), make)
    assert [o.verdict for o in _of(elsewhere, "CLIENT-014")] == [Verdict.NA]
