"""The ``mock_panel`` fixture serving a profile file: the marker's ``file=``, the
``--mock-profile-file`` option and the ``mock_profile_file`` ini option, as a user's suite
sees them (through ``pytester``)."""

from __future__ import annotations

import pytest

_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

# A provider of the user's own: smmhub's dialect, its own wording for funds, its own catalogue.
PROVIDER = """
name: my-provider
extends: smmhub
summary: my provider
source: my provider's API page
errors:
  insufficient_funds: {message: 'Top up first: {needed} needed'}
services:
  types: [Default]
  catalog:
  - {id: 77, name: My Likes, type: Default, category: Likes, rate: '2.00', min: 10, max: 500}
"""

USES_PROVIDER = """
from decimal import Decimal


def check_provider(mock_panel):
    assert mock_panel.profile == "my-provider"
    status, services = mock_panel.call("services")
    assert [s["service"] for s in services] == [77]
    status, body = mock_panel.call("add", service=77, link="https://x.test/p", quantity=500)
    assert body == {"error": "Top up first: 1.00000 needed"}
"""


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(_INI)
    (pytester.path / "providers").mkdir()
    (pytester.path / "providers" / "my-provider.yaml").write_text(PROVIDER, encoding="utf-8")
    return pytester


def test_the_marker_serves_a_file_next_to_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_marker=USES_PROVIDER + """
import pytest


@pytest.mark.mock_profile(file="providers/my-provider.yaml", balance="0.50")
def test_file(mock_panel):
    check_provider(mock_panel)


def test_default_is_untouched(mock_panel):
    assert mock_panel.profile == "reference"
""")
    pytester.runpytest("-q").assert_outcomes(passed=2)


@pytest.mark.parametrize("how", ["option", "ini"])
def test_the_session_default_may_be_a_file(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(test_session=USES_PROVIDER + """
import pytest


@pytest.mark.mock_profile(balance="0.50")
def test_file(mock_panel):
    check_provider(mock_panel)


@pytest.mark.mock_profile("smmpro")
def test_a_named_profile_still_wins(mock_panel):
    assert mock_panel.profile == "smmpro"
""")
    if how == "ini":
        pytester.makeini(_INI + "mock_profile_file = providers/my-provider.yaml\n")
        result = pytester.runpytest("-q")
    else:
        result = pytester.runpytest("-q", "--mock-profile-file", "providers/my-provider.yaml")
    result.assert_outcomes(passed=2)


def test_a_bad_file_errors_the_test_with_where_and_why(pytester: pytest.Pytester) -> None:
    (pytester.path / "providers" / "bad.yaml").write_text(
        "name: bad\nextends: reference\nnumbers:\n  balance: float\n", encoding="utf-8"
    )
    pytester.makepyfile(test_bad="""
import pytest


@pytest.mark.mock_profile(file="providers/bad.yaml")
def test_it(mock_panel):
    pass


@pytest.mark.mock_profile("smmhub", file="providers/bad.yaml")
def test_both(mock_panel):
    pass
""")
    result = pytester.runpytest("-q")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([
        '*bad.yaml, line 4: numbers.balance: "float" is not allowed; allowed values: '
        '"string", "number"*',
        "*takes a profile name or file=, not both*",
    ])
    assert "Traceback" not in result.stdout.str()
