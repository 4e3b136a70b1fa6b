"""``harness`` is the suite author's face: every name of ``__all__`` resolves to the object its
layer defines, on first use, and importing the package (or only its contract) loads no more."""

from __future__ import annotations

import subprocess
import sys

import pytest

import harness
from harness.judging.checks import require
from harness.panel.driver import Panel


@pytest.mark.parametrize("name", harness.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(harness, name) is not None
    assert name in dir(harness)


def test_a_name_is_the_layer_s_own_object() -> None:
    assert harness.Panel is Panel
    assert harness.require is require


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = harness.no_such_name  # type: ignore[attr-defined]


def test_importing_the_contract_loads_no_driver_nor_pytest() -> None:
    code = ("import sys, harness.contract; "
            "print(sorted(m for m in ('harness.panel.driver', 'pytest', 'hypothesis', "
            "'harness.wire.client') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
