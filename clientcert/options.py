"""The client suite's options in three spellings (CLI flag, environment variable, ini
option), resolved CLI > environment > ini by the harness's own option machinery."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from clientcert.bench import PROFILE_NAMES
from clientcert.certify import DEFAULT_TIMEOUT
from clientcert.loading import AdapterSpecError, load_factory
from clientcert.protocol import AdapterFactory
from harness.run.options import OptionSpec, Raw, read_options, register_options

__all__ = ["OPTIONS", "ClientConfig", "OptionSpec", "add_options", "resolve"]


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
    register_options(parser, OPTIONS, "clientcert", "SMM client library conformance")


def _given(picked: Mapping[str, Raw], dest: str) -> tuple[str, str]:
    """An option's text and where it was given; empty strings when it was not."""
    raw = picked.get(dest)
    return ("", "") if raw is None else (str(raw.value), raw.origin)


def resolve(config: pytest.Config, environ: Mapping[str, str] | None = None) -> ClientConfig | None:
    """The run's settings, or ``None`` when no adapter is named (the suite stays inert)."""
    picked = read_options(config, OPTIONS, environ)
    adapter = picked.get("client_adapter")
    if adapter is None:
        return None
    spec, origin = str(adapter.value), adapter.origin
    try:
        factory = load_factory(spec)
    except AdapterSpecError as error:
        raise pytest.UsageError(f"{origin}: {error}") from None
    raw, origin = _given(picked, "client_profiles")
    profiles = tuple(p.strip() for p in raw.split(",") if p.strip()) or PROFILE_NAMES
    unknown = [p for p in profiles if p not in PROFILE_NAMES]
    if unknown:
        raise pytest.UsageError(f"{origin}: unknown profile(s) {', '.join(unknown)}; known: "
                                f"{', '.join(PROFILE_NAMES)}")
    raw, origin = _given(picked, "client_timeout")
    try:
        timeout = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise pytest.UsageError(f"{origin}: expected seconds (got {raw!r})") from None
    if not 0 < timeout <= 10:
        raise pytest.UsageError(f"{origin}: the timeout must be in (0, 10] seconds")
    raw, _ = _given(picked, "client_report")
    return ClientConfig(spec, factory, profiles, timeout, Path(raw) if raw else None)
