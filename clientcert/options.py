"""The client suite's options in three spellings (CLI flag, environment variable, ini
option), resolved CLI > environment > ini, in the style of the harness's own options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from clientcert.bench import PROFILE_NAMES
from clientcert.certify import DEFAULT_TIMEOUT
from clientcert.loading import AdapterSpecError, load_factory
from clientcert.protocol import AdapterFactory

__all__ = ["OPTIONS", "ClientConfig", "OptionSpec", "add_options", "resolve"]


@dataclass(frozen=True, slots=True)
class OptionSpec:
    dest: str
    flag: str
    env: str
    help: str

    @property
    def ini(self) -> str:
        return self.dest


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("client_adapter", "--client-adapter", "CLIENT_ADAPTER",
               "module:factory of the adapter of the client library to certify. Without it "
               "the client suite is inert."),
    OptionSpec("client_profiles", "--client-profiles", "CLIENT_PROFILES",
               "comma-separated mock profiles to run in (default: every built-in one)."),
    OptionSpec("client_timeout", "--client-timeout", "CLIENT_TIMEOUT",
               f"seconds the library is asked to wait for an answer "
               f"(default {DEFAULT_TIMEOUT:g})."),
    OptionSpec("client_report", "--client-report", "CLIENT_REPORT",
               "directory for the client certificate: report.json, report.md, report.html."),
)


@dataclass(frozen=True, slots=True)
class ClientConfig:
    adapter: str
    factory: AdapterFactory
    profiles: tuple[str, ...]
    timeout: float
    report: Path | None


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("clientcert", "SMM client library conformance")
    for spec in OPTIONS:
        group.addoption(spec.flag, dest=spec.dest, default=None,
                        help=f"{spec.help} [env {spec.env}, ini {spec.ini}]")
        parser.addini(spec.ini, spec.help, default=None)


def _pick(config: pytest.Config, spec: OptionSpec, env: Mapping[str, str]) -> tuple[str, str]:
    for value, origin in ((config.getoption(spec.dest), spec.flag),
                          (env.get(spec.env), f"environment variable {spec.env}"),
                          (config.getini(spec.ini), f"ini option {spec.ini}")):
        if value not in (None, ""):
            return str(value), origin
    return "", ""


def resolve(config: pytest.Config, environ: Mapping[str, str] | None = None) -> ClientConfig | None:
    """The run's settings, or ``None`` when no adapter is named (the suite stays inert)."""
    env = os.environ if environ is None else environ
    spec, origin = _pick(config, OPTIONS[0], env)
    if not spec:
        return None
    try:
        factory = load_factory(spec)
    except AdapterSpecError as error:
        raise pytest.UsageError(f"{origin}: {error}") from None
    raw, origin = _pick(config, OPTIONS[1], env)
    profiles = tuple(p.strip() for p in raw.split(",") if p.strip()) or PROFILE_NAMES
    unknown = [p for p in profiles if p not in PROFILE_NAMES]
    if unknown:
        raise pytest.UsageError(f"{origin}: unknown profile(s) {', '.join(unknown)}; known: "
                                f"{', '.join(PROFILE_NAMES)}")
    raw, origin = _pick(config, OPTIONS[2], env)
    try:
        timeout = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise pytest.UsageError(f"{origin}: expected seconds (got {raw!r})") from None
    if not 0 < timeout <= 10:
        raise pytest.UsageError(f"{origin}: the timeout must be in (0, 10] seconds")
    raw, _ = _pick(config, OPTIONS[3], env)
    return ClientConfig(spec, factory, profiles, timeout, Path(raw) if raw else None)
