"""Option resolution: precedence, validation messages naming their source, the frozen config."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from harness.base.redaction import display_url
from harness.run.config import (
    DEFAULT_ORDER_TIMEOUT,
    DEFAULT_REQUEST_RATE,
    LIVE_EXAMPLES,
    OPTIONS,
    Mode,
    PanelConfig,
    build,
    known_profiles,
    resolve_values,
)
from tests.fixtures.fakepanel import FakePanel, serve

URL = "https://panel.example/api/v2"
KEY = "config-key-0001"  # keys shorter than 8 characters are refused (see below)
TOKEN = "config-token-0001"


def config_from(cli: dict[str, str | list[str]] | None = None, env: dict[str, str] | None = None,
                ini: dict[str, str | list[str]] | None = None) -> PanelConfig | None:
    return build(resolve_values(cli or {}, env or {}, ini or {}), default_seed=7)


def test_every_option_has_a_flag_an_env_twin_and_an_ini_twin() -> None:
    flags = {spec.flag for spec in OPTIONS}
    assert {"--panel-url", "--panel-key", "--panel-second-key", "--panel-max-spend",
            "--panel-profile", "--panel-control-url", "--panel-control-token",
            "--panel-rate-limit", "--panel-order-timeout", "--panel-request-rate",
            "--panel-clause"} <= flags
    envs = {spec.env for spec in OPTIONS}
    assert {"PANEL_URL", "PANEL_KEY", "PANEL_SECOND_KEY", "PANEL_MAX_SPEND", "PANEL_PROFILE",
            "PANEL_CONTROL_URL", "PANEL_CONTROL_TOKEN", "PANEL_RATE_LIMIT",
            "PANEL_ORDER_TIMEOUT", "PANEL_REQUEST_RATE", "PANEL_CLAUSES"} <= envs
    assert all(spec.ini == spec.flag[2:].replace("-", "_") or spec.multiple for spec in OPTIONS)


def test_without_a_url_there_is_no_config() -> None:
    assert config_from(env={"PANEL_KEY": KEY}, ini={"panel_max_spend": "5"}) is None


def test_defaults() -> None:
    config = config_from(cli={"panel_url": URL, "panel_key": KEY})
    assert config is not None
    assert config.max_spend == Decimal(0)
    assert config.profile == "auto"
    assert config.control_url is None
    assert config.mode is Mode.BLACK_BOX
    assert config.rate_limit is None
    assert config.order_timeout == DEFAULT_ORDER_TIMEOUT
    assert config.request_rate == DEFAULT_REQUEST_RATE
    assert config.clauses == ()
    assert config.seed == 7
    assert config.examples == LIVE_EXAMPLES  # a live panel (no control API)


@pytest.mark.parametrize(
    ("cli", "env", "ini", "expected"),
    [
        ({"panel_max_spend": "3"}, {"PANEL_MAX_SPEND": "2"}, {"panel_max_spend": "1"}, "3"),
        ({}, {"PANEL_MAX_SPEND": "2"}, {"panel_max_spend": "1"}, "2"),
        ({}, {}, {"panel_max_spend": "1"}, "1"),
        ({}, {}, {}, "0"),
        ({}, {"PANEL_MAX_SPEND": ""}, {"panel_max_spend": "1"}, "1"),  # empty = unset
    ],
    ids=["cli-wins", "env-beats-ini", "ini", "default", "empty-env-is-unset"],
)
def test_precedence_is_cli_then_env_then_ini_then_default(
    cli: dict[str, str], env: dict[str, str], ini: dict[str, str], expected: str
) -> None:
    config = config_from({"panel_url": URL, "panel_key": KEY, **cli}, env, ini)
    assert config is not None
    assert config.max_spend == Decimal(expected)


def test_the_url_itself_follows_precedence_from_env_and_ini() -> None:
    from_env = config_from(env={"PANEL_URL": URL, "PANEL_KEY": KEY})
    from_ini = config_from(ini={"panel_url": "http://127.0.0.1:9/api/v2", "panel_key": KEY})
    assert from_env is not None
    assert from_env.url == URL
    assert from_ini is not None
    assert from_ini.url == "http://127.0.0.1:9/api/v2"


def test_money_is_decimal_and_the_config_is_frozen() -> None:
    config = config_from(cli={"panel_url": URL, "panel_key": KEY, "panel_max_spend": "0.10"})
    assert config is not None
    assert config.max_spend == Decimal("0.10")
    assert isinstance(config.max_spend, Decimal)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_spend = Decimal(100)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("source", "value", "origin", "fragment"),
    [
        ("cli", "abc", "--panel-max-spend", "decimal amount"),
        ("env", "-1", "environment variable PANEL_MAX_SPEND", "0 or more"),
        ("ini", "NaN", "ini option panel_max_spend", "decimal amount"),
    ],
)
def test_bad_values_name_where_they_came_from(
    source: str, value: str, origin: str, fragment: str
) -> None:
    cli = {"panel_url": URL, "panel_key": KEY}
    env: dict[str, str] = {}
    ini: dict[str, str | list[str]] = {}
    if source == "cli":
        cli["panel_max_spend"] = value
    elif source == "env":
        env["PANEL_MAX_SPEND"] = value
    else:
        ini["panel_max_spend"] = value
    with pytest.raises(pytest.UsageError) as info:
        config_from(cli, env, ini)
    assert str(info.value).startswith(origin)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("panel_url", "ftp://x/api", "http(s) URL"),
        ("panel_url", "not a url", "http(s) URL"),
        ("panel_rate_limit", "0", "at least 1"),
        ("panel_rate_limit", "1.5", "whole number"),
        ("panel_order_timeout", "0", "more than 0"),
        ("panel_order_timeout", "inf", "number of seconds"),
        ("panel_request_rate", "-2", "more than 0"),
        ("panel_profile", "bad name!", "dialect name"),
        ("panel_seed", "x", "integer"),
        ("panel_examples", "0", "at least 1"),
        ("panel_examples", "2.5", "whole number"),
        ("panel_clauses", "add 003", "not a clause id"),
    ],
)
def test_invalid_values_are_usage_errors(option: str, value: str, fragment: str) -> None:
    cli = {"panel_url": URL, "panel_key": KEY, option: value}
    with pytest.raises(pytest.UsageError, match=r"^--panel-") as info:
        config_from(cli)
    assert fragment in str(info.value)


def test_secret_values_are_never_repeated_in_messages() -> None:
    with pytest.raises(pytest.UsageError) as info:
        config_from({"panel_url": URL, "panel_key": " s3cr3t-key "})
    assert "s3cr3t" not in str(info.value)
    with pytest.raises(pytest.UsageError) as same:
        config_from({"panel_url": URL, "panel_key": "s3cr3t-key", "panel_second_key": "s3cr3t-key"})
    assert "must differ from the main key" in str(same.value)
    assert "s3cr3t" not in str(same.value)
    with pytest.raises(pytest.UsageError) as url:
        config_from({"panel_url": "ftp://user:s3cr3t@host/x?key=s3cr3t", "panel_key": KEY})
    assert "s3cr3t" not in str(url.value)


def test_a_key_is_required_unless_a_control_api_can_mint_one() -> None:
    with pytest.raises(pytest.UsageError, match="needs --panel-key"):
        config_from({"panel_url": URL})
    minted = config_from({"panel_url": URL, "panel_control_url": "http://127.0.0.1:1/_mock",
                          "panel_control_token": TOKEN})
    assert minted is not None
    assert minted.key is None
    assert minted.mode is Mode.CONTROLLED


def test_control_url_and_token_go_together() -> None:
    with pytest.raises(pytest.UsageError, match="go together"):
        config_from({"panel_url": URL, "panel_key": KEY,
                     "panel_control_url": "http://127.0.0.1:1/_mock"})
    with pytest.raises(pytest.UsageError, match="go together"):
        config_from({"panel_url": URL, "panel_key": KEY}, {"PANEL_CONTROL_TOKEN": TOKEN})


def test_no_control_url_means_black_box_even_for_the_mock() -> None:
    config = config_from({"panel_url": "http://127.0.0.1:8080/api/v2", "panel_key": KEY})
    assert config is not None
    assert config.control_url is None
    assert config.mode is Mode.BLACK_BOX


def test_clause_selection_by_id_and_glob() -> None:
    config = config_from({"panel_url": URL, "panel_key": KEY,
                          "panel_clauses": ["ADD-*", "status-003"]})
    assert config is not None
    assert config.clauses == ("ADD-*", "STATUS-003")
    assert config.selects("ADD-011")
    assert config.selects("STATUS-003")
    assert not config.selects("STATUS-004")
    assert not config.selects("MADD-001")
    env = config_from({"panel_url": URL, "panel_key": KEY}, {"PANEL_CLAUSES": "GEN-*, ERR-001"})
    assert env is not None
    assert env.clauses == ("GEN-*", "ERR-001")
    everything = config_from({"panel_url": URL, "panel_key": KEY})
    assert everything is not None
    assert everything.selects("HOOK-002")


def test_display_url_drops_credentials() -> None:
    shown = display_url("https://user:pw@panel.example:8443/api/v2?key=abc#frag")
    assert shown == "https://panel.example:8443/api/v2"


def test_keys_are_secrets_in_the_config() -> None:
    config = config_from({"panel_url": URL, "panel_key": "k3y-value",
                          "panel_second_key": "other-value"})
    assert config is not None
    assert "k3y-value" not in repr(config)
    assert "other-value" not in repr(config)
    assert config.key is not None
    assert config.key.reveal() == "k3y-value"


def test_pytest_reads_cli_env_and_ini_together(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)
    monkeypatch.setenv("PANEL_REQUEST_RATE", "7")
    # A panel that takes the ini's key: pre-flight checks it before the test runs.
    with serve(FakePanel(balances={"ini-key-0001": Decimal(10)})) as url:
        pytester.makeini(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
            f"panel_url = {url}\npanel_key = ini-key-0001\n"
            "panel_max_spend = 1.5\npanel_request_rate = 2\npanel_clauses = ADD-* GEN-001\n"
        )
        pytester.makepyfile(
            # A name no module of the outer run has (test modules are imported by basename).
            test_inner_resolved_config=f"""
            from decimal import Decimal
            from harness.run.session import RUN_KEY

            def test_config(pytestconfig):
                config = pytestconfig.stash[RUN_KEY].config
                assert config.url == "{url}"
                assert config.key.reveal() == "ini-key-0001"
                assert config.max_spend == Decimal("1.5")
                assert config.request_rate == 7.0          # env beats ini
                assert config.order_timeout == 3.0         # cli
                assert config.clauses == ("ADD-*", "GEN-001")
            """
        )
        result = pytester.runpytest_inprocess("test_inner_resolved_config.py",
                                              "--panel-order-timeout=3")
    result.assert_outcomes(passed=1)


def test_pytest_reports_a_bad_value_as_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)
    monkeypatch.setenv("PANEL_MAX_SPEND", "lots")
    result = pytester.runpytest_inprocess("--panel-url=http://127.0.0.1:9/api/v2",
                                          f"--panel-key={KEY}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*environment variable PANEL_MAX_SPEND*decimal amount*"])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://panel.example/api/v2", 5.0),
        ("http://127.0.0.1:8080/api/v2", 1000.0),
        ("http://127.3.2.1/api/v2", 1000.0),
        ("http://localhost:9000/api/v2", 1000.0),
        ("http://[::1]:9000/api/v2", 1000.0),
        ("http://10.0.0.5/api/v2", 5.0),
    ],
)
def test_politeness_default_depends_on_whether_the_panel_is_on_loopback(
    url: str, expected: float
) -> None:
    config = config_from(cli={"panel_url": url, "panel_key": KEY})
    assert config is not None
    assert config.request_rate == expected
    explicit = config_from(cli={"panel_url": url, "panel_key": KEY, "panel_request_rate": "2"})
    assert explicit is not None
    assert explicit.request_rate == 2.0


def test_panel_report_is_a_directory_path_from_any_source() -> None:
    base = {"panel_url": URL, "panel_key": KEY}
    absent = config_from(cli=base)
    assert absent is not None
    assert absent.report_dir is None
    cli = config_from(cli={**base, "panel_report": "out/cli"}, env={"PANEL_REPORT": "env"})
    env = config_from(cli=base, env={"PANEL_REPORT": "out/env"}, ini={"panel_report": "ini"})
    ini = config_from(cli=base, ini={"panel_report": " out/ini "})
    assert cli is not None
    assert cli.report_dir == Path("out/cli")
    assert env is not None
    assert env.report_dir == Path("out/env")
    assert ini is not None
    assert ini.report_dir == Path("out/ini")
    with pytest.raises(pytest.UsageError, match=r"^environment variable PANEL_REPORT: .*path"):
        config_from(cli=base, env={"PANEL_REPORT": "   "})


# ---------------------------------------------------------------------------------------------
# what can be refused before the first request


@pytest.mark.parametrize("option", ["panel_key", "panel_second_key", "panel_control_token"])
def test_a_secret_too_short_to_redact_safely_is_refused_without_showing_it(option: str) -> None:
    base: dict[str, str | list[str]] = {
        "panel_url": URL, "panel_key": KEY, "panel_control_url": "http://127.0.0.1:1/_mock",
        "panel_control_token": TOKEN}
    with pytest.raises(pytest.UsageError) as info:
        config_from({**base, option: "Invalid"})  # 7 characters: an ordinary word
    message = str(info.value)
    assert message.startswith(f"--{option.replace('_', '-')}: is too short")
    assert "at least 8 characters" in message
    assert "Invalid" not in message
    assert config_from({**base, option: "Invalid1"}) is not None  # 8 will do


def test_an_unknown_profile_is_refused_with_the_known_ones() -> None:
    with pytest.raises(pytest.UsageError) as info:
        config_from({"panel_url": URL, "panel_key": KEY, "panel_profile": "smmhubb"})
    message = str(info.value)
    assert message.startswith("--panel-profile: unknown dialect (did you mean 'smmhub'?); known: ")
    for name in ("auto", "reference", "perfectpanel", "smmhub", "smartpanel"):
        assert name in message
    assert known_profiles()[0] == "auto"
    assert set(known_profiles()) >= {"reference", "smmhub", "extended", "smmserver"}
    for given, expected in (("smmhub", "smmhub"), ("SmmHub", "smmhub"), ("AUTO", "auto")):
        config = config_from({"panel_url": URL, "panel_key": KEY, "panel_profile": given})
        assert config is not None
        assert config.profile == expected


def test_a_clause_pattern_matching_no_clause_is_refused() -> None:
    with pytest.raises(pytest.UsageError) as info:
        config_from({"panel_url": URL, "panel_key": KEY, "panel_clauses": ["GEN-*", "ADD-99*"]})
    message = str(info.value)
    assert message.startswith("--panel-clause: 'ADD-99*' matches no clause of schemas/clauses.yaml")
    assert "areas: GEN, ERR, AUTH" in message
    with pytest.raises(pytest.UsageError, match=r"'ADD-999' matches no clause.*close ids: ADD-"):
        config_from({"panel_url": URL, "panel_key": KEY, "panel_clauses": ["ADD-999"]})
    config = config_from({"panel_url": URL, "panel_key": KEY, "panel_clauses": ["add-00?"]})
    assert config is not None
    assert config.clauses == ("ADD-00?",)


def test_pytest_refuses_a_bad_profile_and_an_empty_selection_before_any_request(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for spec in OPTIONS:
        monkeypatch.delenv(spec.env, raising=False)
    panel = FakePanel()
    with serve(panel) as url:
        profile = pytester.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}",
                                               "--panel-profile=smmhubb")
        clause = pytester.runpytest_inprocess(f"--panel-url={url}", f"--panel-key={KEY}",
                                              "--panel-clause=ADD-99*")
    for result, fragment in ((profile, "unknown dialect (did you mean 'smmhub'?)"),
                             (clause, "'ADD-99*' matches no clause")):
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        errors = "\n".join(result.errlines)
        assert fragment in errors
        assert "exit status 5" not in "\n".join(result.outlines) + errors
        assert "CERTIFIED" not in "\n".join(result.outlines)
    assert panel.actions == []  # refused before the first request
