"""The ``mock_panel`` fixtures as a user's test suite sees them, run through ``pytester``."""

from __future__ import annotations

import pytest

from mockpanel.config import MockConfig
from mockpanel.pytest_plugin import MockPanelError, MockPanelHandle
from mockpanel.server import run_panel


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """Inner sessions with pytest-asyncio's loop scope set, so they warn about nothing."""
    pytester.makeini(_INI)
    return pytester


_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

# The inner suites are plain synchronous tests: the panel runs in its own thread.
USER_SUITE = """
from decimal import Decimal

import pytest


def test_default_profile_and_balance(mock_panel):
    assert mock_panel.profile == "reference"
    assert mock_panel.url.startswith("http://127.0.0.1:")
    assert mock_panel.url.endswith("/api/v2")
    assert mock_panel.balance() == Decimal("100.00")
    assert mock_panel.key not in repr(mock_panel)


def test_each_test_gets_a_fresh_tenant_a(mock_panel):
    status, body = mock_panel.call("add", service=1, link="https://example.test/a", quantity=1000)
    assert status == 200 and "order" in body
    assert mock_panel.balance() == Decimal("99.10")


def test_each_test_gets_a_fresh_tenant_b(mock_panel):
    assert mock_panel.balance() == Decimal("100.00")
    assert mock_panel.call("status", order=1)[1] == {"error": "Incorrect order ID"}


@pytest.mark.mock_profile("smmpremium", balance="5.00")
def test_marker_picks_profile_and_balance(mock_panel):
    assert mock_panel.profile == "smmpremium"
    status, body = mock_panel.call("balance")
    assert (status, body) == (200, {"balance": "5.00", "currency": "INR"})
    status, body = mock_panel.call("status", order="NOPE1")
    assert status == 404  # smmpremium answers refusals with real HTTP codes


@pytest.mark.parametrize("mock_panel", ["smmhub", "extended"], indirect=True)
def test_indirect_parametrization(mock_panel):
    assert mock_panel.profile in {"smmhub", "extended"}
    status, body = mock_panel.call("cancel", orders="424242")
    assert status in {200, 404}
    expected = {"error": "Incorrect order ID", "order": 424242}
    if mock_panel.profile == "smmhub":
        expected = {"order": 424242, "cancel": {"error": "Incorrect order ID"}}
    assert body == [expected]


def test_clock_outcomes_and_journal(mock_panel):
    _, added = mock_panel.call("add", service=1, link="https://example.test/b", quantity=1000)
    order = added["order"]
    assert mock_panel.call("status", order=order)[1]["status"] == "Pending"
    assert mock_panel.call("status", order=order)[1]["status"] == "Pending"  # manual clock
    mock_panel.advance(3)
    assert mock_panel.call("status", order=order)[1]["status"] == "In progress"
    mock_panel.set_outcome(order, "Partial", remains=500, start_count=10)
    _, state = mock_panel.call("status", order=order)
    assert (state["status"], state["remains"], state["start_count"]) == ("Partial", "500", "10")
    assert mock_panel.balance() == Decimal("99.55")  # half of 0.90 refunded
    journal = mock_panel.journal()
    assert [entry["action"] for entry in journal] == [
        "add", "status", "status", "status", "status", "balance"
    ]
    assert {entry["tenant"] for entry in journal} == {mock_panel.tenant}
    assert all(entry["params"]["key"] == "[redacted]" for entry in journal)


def test_refill_outcome(mock_panel):
    _, added = mock_panel.call("add", service=1, link="https://example.test/c", quantity=1000)
    mock_panel.set_outcome(added["order"], "Completed")
    _, created = mock_panel.call("refill", order=added["order"])
    refill = created["refill"]
    assert mock_panel.call("refill_status", refill=refill)[1] == {"status": "Pending"}
    mock_panel.set_refill_outcome(refill, "Rejected")
    assert mock_panel.call("refill_status", refill=refill)[1] == {"status": "Rejected"}


def test_tenants_are_isolated(mock_panel):
    _, added = mock_panel.call("add", service=1, link="https://example.test/d", quantity=1000)
    other = mock_panel.new_tenant("1.00", "EUR")
    assert other.key != mock_panel.key and other.tenant != mock_panel.tenant
    assert other.call("balance")[1] == {"balance": "1.00000", "currency": "EUR"}
    assert other.call("status", order=added["order"])[1] == {"error": "Incorrect order ID"}


def test_one_server_per_profile(mock_panel_server, mock_panel):
    reference = mock_panel_server.get("reference")
    assert mock_panel_server.get() is reference
    assert mock_panel.url == reference.url
    assert mock_panel_server.get("smmhub").port != reference.port
"""


def test_the_fixtures_in_a_user_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_SUITE)
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=10)


@pytest.mark.parametrize("how", ["option", "ini"])
def test_session_default_profile(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(
        test_default="""
        def test_profile(mock_panel):
            assert mock_panel.profile == "smmpro"
            assert mock_panel.call("cancel", orders="1")[1] == {
                "error": "Incorrect request: unknown action cancel"
            }

        import pytest

        @pytest.mark.mock_profile("reference")
        def test_marker_still_wins(mock_panel):
            assert mock_panel.profile == "reference"
        """
    )
    if how == "ini":
        pytester.makeini(_INI + "mock_profile = smmpro\n")
        result = pytester.runpytest()
    else:
        pytester.makeini(_INI + "mock_profile = smmhub\n")
        result = pytester.runpytest("--mock-profile", "smmpro")
    result.assert_outcomes(passed=2)


def test_an_unknown_profile_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.mock_profile("nope")
        def test_it(mock_panel):
            pass

        @pytest.mark.mock_profile("reference", colour="blue")
        def test_unknown_argument(mock_panel):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*unknown profile 'nope'; known profiles: extended, *",
            "*@pytest.mark.mock_profile got unknown arguments: colour*",
        ]
    )


def test_a_mock_bug_errors_the_test_that_met_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bug="""
        from mockpanel.state import PanelState

        def test_meets_a_bug(mock_panel, monkeypatch):
            def broken(self, tenant):
                raise RuntimeError("ledger exploded")

            monkeypatch.setattr(PanelState, "balance", broken)
            status, body = mock_panel.call("balance")
            assert status == 500

        def test_next_test_is_clean(mock_panel):
            assert mock_panel.call("balance")[0] == 200
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_meets_a_bug*", "*ledger exploded*"])


def test_suites_that_do_not_use_the_fixtures_start_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys
        import threading

        def test_plain():
            assert "mockpanel.server" not in sys.modules
            assert "mockpanel.wire.app" not in sys.modules
            assert not [t for t in threading.enumerate() if t.name.startswith("mockpanel-")]
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_parallel_workers_each_get_their_own_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_SUITE)
    result = pytester.runpytest("-n", "2", "-q")
    result.assert_outcomes(passed=10)


# The handle used directly (this suite has the plugin installed like any user's).


def test_control_refusals_raise_with_the_status_and_reason(mock_panel: MockPanelHandle) -> None:
    with pytest.raises(MockPanelError, match=r"HTTP 404\): .*no order 987654321"):
        mock_panel.set_outcome(987654321, "Completed")
    with pytest.raises(MockPanelError, match=r"HTTP 400\)"):
        mock_panel.advance(-1)
    _, added = mock_panel.call("add", service=1, link="https://example.test/x", quantity=100)
    mock_panel.set_outcome(added["order"], "Completed")
    with pytest.raises(MockPanelError, match=r"HTTP 409\)"):
        mock_panel.set_outcome(added["order"], "Canceled")  # no way back from Completed


def test_minting_a_tenant_needs_the_control_api() -> None:
    with run_panel(MockConfig()) as panel, pytest.raises(ValueError, match="no control API"):
        MockPanelHandle.mint(panel)


def test_the_handle_keeps_its_secrets_out_of_repr(mock_panel: MockPanelHandle) -> None:
    assert mock_panel.key not in repr(mock_panel)
    assert mock_panel._control_token not in repr(mock_panel)


def test_fixture_servers_keep_per_key_limits_and_drop_per_address_ones() -> None:
    from mockpanel.profiles import PROFILES
    from mockpanel.pytest_plugin import fixture_rate_limit

    assert PROFILES["extended"].rate_limit is not None
    assert PROFILES["extended"].rate_limit.scope == "ip"
    assert fixture_rate_limit("extended") == "off"
    assert PROFILES["smmpremium"].rate_limit is not None
    assert fixture_rate_limit("smmpremium") == "profile"
    assert fixture_rate_limit("reference") == "profile"
