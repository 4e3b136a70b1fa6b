"""One test per mock profile and scenario (parametrized by :mod:`clientcert.plugin`): the
scenario's observations go into the run's verdict book; the test fails when one is a FAIL of
a MUST clause, so JUnit and Allure show the same findings as the certificate."""

from __future__ import annotations

import pytest

from clientcert.plugin import ClientCase, ClientRun


def test_client(client_case: ClientCase, client_run: ClientRun) -> None:
    failures = client_run.judge(client_case)
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
