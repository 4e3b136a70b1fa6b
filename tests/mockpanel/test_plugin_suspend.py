"""The fixture's tenant handle suspends and resumes tenants through the control API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mockpanel.config import MockConfig
from mockpanel.pytest_plugin import MockPanelError, MockPanelHandle
from mockpanel.server import run_panel


def test_the_handle_suspends_and_resumes_itself_and_other_tenants() -> None:
    config = MockConfig(profile="smmpremium", control_token="plugin-token", clock="manual")
    with run_panel(config) as running:
        handle = MockPanelHandle.mint(running, balance="10.00")
        other = handle.new_tenant("20.00")

        handle.suspend()
        assert handle.call("balance") == (403, {"error": "Account suspended"})
        assert other.balance() == Decimal("20.00")  # only the suspended tenant is refused

        handle.suspend(other.tenant)  # another tenant, by id
        assert other.call("balance") == (403, {"error": "Account suspended"})
        handle.suspend()  # idempotent: a second suspension is no error

        handle.resume()
        assert handle.balance() == Decimal("10.00")
        other.resume()
        assert other.balance() == Decimal("20.00")

        with pytest.raises(MockPanelError) as refused:
            handle.suspend("t404")
        assert refused.value.status == 404
