"""``mockpanel profiles show|diff`` and ``mockpanel serve --profile-file`` as a user runs them
(``infer`` has its own tests beside the inference, in ``tests/mockpanel/emulate``)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from mockpanel import cli
from mockpanel.config import MockConfig
from mockpanel.profiles import BUILTIN_NAMES, PROFILES, load_profile_text
from mockpanel.profiles.files import builtin_text
from mockpanel.state import Service
from mockpanel.wire.setup import state_config
from tests.fixtures.plain_http import post
from tests.fixtures.served import served

_LIMIT = 60.0  # a safety net for a wedged subprocess, never asserted on


@pytest.mark.parametrize("name", ["reference", "smartpanel", "extended"])
def test_show_prints_a_whole_profile_that_loads_back(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["profiles", "show", name]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"# The built-in profile {name!r}")
    assert "extends" not in text.split("\n# ", 1)[-1].split("\nname:", 1)[1]
    assert load_profile_text(text, "shown.yaml") == PROFILES[name]


def test_show_as_shipped_prints_the_file_with_its_reasons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["profiles", "show", "smmhub", "--as-shipped"]) == 0
    out = capsys.readouterr().out
    assert out == builtin_text("smmhub")
    assert "Order already completed" in out
    assert "# Seed 002's cancel example" in out


def test_the_listing_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["profiles"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == sorted(BUILTIN_NAMES)


def test_show_of_an_unknown_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["profiles", "show", "nosuch"])
    assert caught.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err


def test_diff_of_a_profile_and_its_own_file_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["profiles", "show", "smmapi"]) == 0
    copy = tmp_path / "copy.yaml"
    copy.write_text(capsys.readouterr().out, encoding="utf-8")
    assert cli.main(["profiles", "diff", "smmapi", str(copy)]) == 0


def test_diff_names_what_differs_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        "name: edited\nextends: smmapi\nerrors:\n  invalid_key: {message: Wrong key}\n",
        encoding="utf-8",
    )
    assert cli.main(["profiles", "diff", "smmapi", str(edited)]) == 1
    out = capsys.readouterr().out
    assert 'text "API key invalid"' in out
    assert 'text "Wrong key"' in out
    assert "wrong key:" in out


def test_diff_of_a_bad_operand_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nextends: reference\nwebhooks: maybe\n", encoding="utf-8")
    for operand, says in ((str(bad), "bad.yaml, line 3: webhooks"),
                          ("nosuch", "'nosuch' is neither a built-in profile")):
        with pytest.raises(SystemExit) as caught:
            cli.main(["profiles", "diff", "reference", operand])
        assert caught.value.code == 2
        err = capsys.readouterr().err
        assert says in err
        assert "Traceback" not in err


PROVIDER = """\
name: my-provider
extends: laravel
summary: my provider's panel
source: their API page
errors:
  insufficient_funds: {message: 'Saldo insuficiente'}
services:
  types: [Default]
  catalog:
  - {id: 501, name: Seguidores, type: Default, category: Instagram, rate: '12.50',
     min: 100, max: 5000}
"""


def test_serve_a_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "my-provider.yaml"
    path.write_text(PROVIDER, encoding="utf-8")
    with served("--profile-file", str(path), "--key", "provider-key-1=1.00") as server:
        assert "profile my-provider - my provider's panel" in server.stdout
        status, body = post(server.url, key="provider-key-1", action="services")
        assert [(s["service"], s["rate"], s["min"]) for s in body] == [(501, "12.50", 100)]
        status, body = post(server.url, key="provider-key-1", action="add", service=501,
                            link="https://x.test/p", quantity=100)
        assert (status, body) == (422, {"error": "Saldo insuficiente"})  # laravel's 422
        status, body = post(server.url, key="provider-key-1", action="balance")
        assert (Decimal(body["balance"]), body["currency"]) == (Decimal("1.00"), "BRL")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name: x\nextends: reference\nnumbers:\n  charge: float\n",
         'line 4: numbers.charge: "float" is not allowed; allowed values: "string", "number"'),
        ("name: x\nextends: reference\nmoney_places: 2\n",
         "the balance 1.005 has more than the 2 decimal places of profile 'x'"),
    ],
    ids=["bad-value", "key-balance-places"],
)
def test_serve_a_bad_profile_file_exits_2_with_one_clear_line(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mockpanel", "serve", "--port", "0", "--profile-file", str(path),
         "--key", "secret-key-123=1.005"],
        capture_output=True, text=True, timeout=_LIMIT,
    )
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert "secret-key-123" not in done.stderr


def test_profile_and_profile_file_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--profile", "smmhub", "--profile-file", "x.yaml"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def _smmapi_traffic(url: str) -> None:
    """What an SDK under test might send: reads, a wrong key, an unknown action and order."""
    post(url, key="client-key-12345", action="services")
    post(url, key="client-key-12345", action="balance")
    post(url, key="not-the-key-9876", action="balance")
    post(url, key="client-key-12345", action="frobnicate")
    post(url, key="client-key-12345", action="status", order="987654321")


def test_infer_from_a_serve_record_recording_then_serve_it(tmp_path: Path) -> None:
    recording = tmp_path / "traffic.har"
    with served("--profile", "smmapi", "--key", "client-key-12345=10.00",
                "--record", str(recording)) as server:
        _smmapi_traffic(server.url)
    output = tmp_path / "provider.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "mockpanel", "profiles", "infer", str(recording),
         "-o", str(output)],
        capture_output=True, text=True, timeout=_LIMIT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"mockpanel: wrote {output}: profile 'provider' from 5 API ")
    text = output.read_text(encoding="utf-8")
    assert "client-key-12345" not in text
    assert text.startswith("# A mockpanel profile inferred from traffic.har")
    inferred = load_profile_text(text, "provider.yaml")
    smmapi = PROFILES["smmapi"]
    assert (inferred.currency, inferred.money_places) == (smmapi.currency, smmapi.money_places)
    # The catalogue it served (2-place money raises service 2's minimum), less the refill
    # periods a services answer has no room for.
    def row(s: Service) -> tuple[object, ...]:
        return (s.id, s.name, s.type, s.rate, s.min, s.max, s.dripfeed, s.refill, s.cancel)

    served_catalogue = state_config(smmapi, MockConfig(profile=smmapi)).catalog
    assert [row(s) for s in inferred.services.catalog] == [row(s) for s in served_catalogue]
    with served("--profile-file", str(output), "--key", "client-key-12345=10.00") as server:
        status, body = post(server.url, key="not-the-key-9876", action="balance")
        assert (status, body) == (200, {"error": "API key invalid", "status": "102"})


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot be read"),
        ("<html>not json</html>", "not JSON"),
        ('{"log": {"entries": []}}', "no API"),
    ],
    ids=["missing", "not-json", "no-entries"],
)
def test_infer_of_a_bad_recording_is_one_clear_line(
    tmp_path: Path, content: str | None, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "run.har"
    if content is not None:
        recording.write_text(content, encoding="utf-8")
    output = tmp_path / "out.yaml"
    with pytest.raises(SystemExit) as caught:
        cli.main(["profiles", "infer", str(recording), "-o", str(output)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("mockpanel: ")
    assert says in err
    assert err.count("\n") == 1
    assert not output.exists()  # nothing written
