"""Reading wrk's result line, and refusing a run that had errors."""

from __future__ import annotations

import pytest

from bench.procs import free_port
from bench.settings import Pinning
from bench.wrk import JSON_TYPE, Load, WrkError, parse_result, run_wrk
from tests.bench.benchsupport import needs_wrk

LINE = (
    'BENCH-RESULT {"requests": 5000, "duration_us": 2000000, "connect_errors": 0, '
    '"read_errors": 0, "write_errors": 0, "status_errors": 3, "timeouts": 1, '
    '"p50_us": 800, "p99_us": 4200, "max_us": 9000}'
)


def test_result_line_is_found_among_wrk_output() -> None:
    result = parse_result(f"Running 2s test @ http://x\n  1 threads\n{LINE}\n")
    assert result.requests == 5000
    assert result.rps == 2500.0
    assert result.p99_us == 4200
    assert result.errors == 4


@pytest.mark.parametrize(
    "output",
    [
        "Running 2s test\nRequests/sec: 100\n",
        "BENCH-RESULT {not json}",
        'BENCH-RESULT {"requests": 1}',
        LINE.replace('"duration_us": 2000000', '"duration_us": 0'),
    ],
)
def test_missing_or_broken_result_is_an_error(output: str) -> None:
    with pytest.raises(WrkError):
        parse_result(output)


def test_load_puts_secrets_in_the_environment_only() -> None:
    load = Load('{"balance": "1"}', JSON_TYPE, "Bearer s3cret")
    assert load.environment() == {
        "BENCH_BODY": '{"balance": "1"}',
        "BENCH_CONTENT_TYPE": JSON_TYPE,
        "BENCH_AUTHORIZATION": "Bearer s3cret",
    }
    assert "BENCH_AUTHORIZATION" not in Load("a=1").environment()


@needs_wrk
def test_a_run_full_of_connection_errors_is_refused() -> None:
    nobody = f"http://127.0.0.1:{free_port()}/api/v2"
    with pytest.raises(WrkError, match="connect"):
        run_wrk(nobody, Load("a=1"), duration=1, connections=2, pinning=Pinning(None, None))
