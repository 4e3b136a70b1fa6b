"""A suspended tenant in the state layer: every call naming it is refused with
``ACCOUNT_SUSPENDED`` and changes nothing; the flag is kept in the state file, shown in the
snapshot, and forgotten by ``reset()``."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.state import ManualClock, PanelState, StateConfig, StateFileError

LINK = "https://instagram.com/p/abc"
ADD = {"link": LINK, "quantity": "1000"}


def _refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code is ErrorCode.ACCOUNT_SUSPENDED


def test_every_call_of_a_suspended_tenant_is_refused_and_changes_nothing() -> None:
    panel = PanelState(StateConfig(), ManualClock())
    tenant, _ = panel.create_tenant(Decimal("100"))
    order = panel.place_order(tenant, "1", ADD)
    before = panel.snapshot()
    assert panel.set_suspended(tenant.id, True) is True
    assert panel.is_suspended(tenant)
    _refused(lambda: panel.balance(tenant))
    _refused(lambda: panel.place_order(tenant, "1", ADD))
    _refused(lambda: panel.place_order(tenant, "999", {}))  # refused before any validation
    _refused(lambda: panel.order(tenant, order.id))
    _refused(lambda: panel.orders(tenant))
    _refused(lambda: panel.cancel(tenant, order.id))
    _refused(lambda: panel.refill(tenant, order.id))
    _refused(lambda: panel.refill_status(tenant, "1"))
    after = panel.snapshot()
    assert after["tenants"][0].pop("suspended") is True
    assert before["tenants"][0].pop("suspended") is False
    assert after == before
    assert panel.set_suspended(tenant.id, False) is True
    assert panel.balance(tenant) == Decimal("99.10000")


def test_suspension_is_idempotent_and_per_tenant() -> None:
    panel = PanelState(StateConfig(), ManualClock())
    first, _ = panel.create_tenant(Decimal("1"))
    second, _ = panel.create_tenant(Decimal("2"))
    assert panel.set_suspended(first.id, True) is True
    assert panel.set_suspended(first.id, True) is False
    assert panel.balance(second) == Decimal("2.00000")
    assert not panel.is_suspended(second)
    assert panel.set_suspended(second.id, False) is False
    with pytest.raises(KeyError):
        panel.set_suspended("t99", True)
    panel.reset()
    assert not panel.is_suspended(first)  # a stale tenant is simply unknown now
    third, _ = panel.create_tenant(Decimal("3"))
    assert not panel.is_suspended(third)


def test_a_suspension_survives_a_restart_and_so_does_its_lifting(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    config = StateConfig()
    panel = PanelState.open(path, config, ManualClock(), keys=[("k1", Decimal(5))])
    tenant = panel.authenticate("k1")
    assert tenant is not None
    panel.set_suspended(tenant.id, True)
    panel.close()

    panel = PanelState.open(path, config, ManualClock(), keys=[("k1", Decimal(5))])
    tenant = panel.authenticate("k1")
    assert tenant is not None
    assert panel.is_suspended(tenant)
    _refused(lambda: panel.balance(tenant))
    assert panel.snapshot()["tenants"][0]["suspended"] is True
    panel.set_suspended(tenant.id, False)
    panel.close()

    panel = PanelState.open(path, config, ManualClock())
    tenant = panel.authenticate("k1")
    assert tenant is not None
    assert not panel.is_suspended(tenant)
    assert panel.balance(tenant) == Decimal("5.00000")
    panel.close()


def test_a_damaged_suspension_flag_is_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    config = StateConfig()
    PanelState.open(path, config, ManualClock(), keys=[("k1", Decimal(5))]).close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA ignore_check_constraints = ON")
    connection.execute("UPDATE tenants SET suspended = 7")
    connection.commit()
    connection.close()
    with pytest.raises(StateFileError, match="is damaged"):
        PanelState.open(path, config, ManualClock())
