"""The pytest plugin end to end: --client-adapter runs the shipped suite, prints the verdict
table, writes the certificate and JUnit; a broken client fails the run; without the option
nothing is collected."""

from __future__ import annotations

import json

import pytest

from harness import contract


def test_reference_client_is_certified_with_reports(pytester: pytest.Pytester) -> None:
    report = pytester.path / "cert"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "0",
        "--client-adapter=tests.clientcert.reference_adapter:make",
        "--client-profiles=reference", f"--client-report={report}",
        f"--junitxml={pytester.path / 'junit.xml'}")
    result.stdout.fnmatch_lines(["*client conformance*", "CLIENT-003 *MUST *PASS*",
                                 "CERTIFIED: no MUST clause failed*"])
    assert result.ret == 0
    record = json.loads((report / "report.json").read_text())
    assert record["certified"] is True
    assert len(record["clauses"]) == 15
    # The contract's one hash (it covers client_clauses.yaml), so diff/verify can compare it.
    assert record["contract"]["hash"] == contract.contract_hash()
    assert (report / "report.html").exists()
    assert (report / "report.md").exists()
    assert "test_client[reference-money]" in (pytester.path / "junit.xml").read_text()


def test_a_broken_client_fails_the_run(pytester: pytest.Pytester,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(broken_adapter="""
from tests.clientcert.broken_clients import FloatMoney, factory
make = factory(FloatMoney)
""")
    monkeypatch.setenv("CLIENT_ADAPTER", "broken_adapter:make")  # the environment twin
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "0",
                                           "--client-profiles=reference")
    result.stdout.fnmatch_lines(["CLIENT-003 *MUST *FAIL*binary float*",
                                 "NOT CERTIFIED: 1 MUST clause(s) failed*"])
    assert result.ret == 1


def test_bad_adapter_spec_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "0",
                                           "--client-adapter=nowhere")
    result.stderr.fnmatch_lines(["*--client-adapter: expected module:factory*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
