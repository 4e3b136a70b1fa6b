"""Options in three spellings (a command-line flag, an environment variable, an ini key) and
the one precedence rule, CLI > environment > ini, that every plugin of this project applies:
the harness's ``--panel-*`` options and the client suite's ``--client-*`` options alike.

A value comes back as :class:`Raw`, which remembers where it was given, so that a message
about a bad value can say so ("environment variable PANEL_KEY: ...").
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytest

__all__ = ["OptionSpec", "Raw", "pick_values", "read_options", "register_options"]


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option in its three spellings; ``multiple`` options collect a list."""

    dest: str
    flag: str
    env: str
    help: str
    multiple: bool = False

    @property
    def ini(self) -> str:
        return self.dest


@dataclass(frozen=True, slots=True)
class Raw:
    """A raw option value and a description of its origin, for error messages."""

    value: str | list[str]
    origin: str


def pick_values(
    specs: Iterable[OptionSpec],
    cli: Mapping[str, str | list[str] | None],
    env: Mapping[str, str],
    ini: Mapping[str, str | list[str] | None],
) -> dict[str, Raw]:
    """Pick each option's raw value by precedence CLI > environment > ini; absent ones are left
    out (their defaults apply). Empty strings count as absent, so ``PANEL_KEY=`` unsets a key.
    """
    picked: dict[str, Raw] = {}
    for spec in specs:
        candidates: tuple[tuple[str | list[str] | None, str], ...] = (
            (cli.get(spec.dest), spec.flag),
            (env.get(spec.env), f"environment variable {spec.env}"),
            (ini.get(spec.ini), f"ini option {spec.ini}"),
        )
        for value, origin in candidates:
            if value is None or value == "" or value == []:
                continue
            picked[spec.dest] = Raw(value, origin)
            break
    return picked


def register_options(
    parser: pytest.Parser, specs: Iterable[OptionSpec], group: str, description: str
) -> None:
    """Register every option as a CLI flag and an ini twin (``None`` default = not given)."""
    options = parser.getgroup(group, description)
    for spec in specs:
        env_help = f"{spec.help} [env {spec.env}, ini {spec.ini}]"
        if spec.multiple:
            options.addoption(spec.flag, dest=spec.dest, action="append", default=None,
                              metavar="ID", help=env_help)
            parser.addini(spec.ini, spec.help, type="args", default=None)
        else:
            options.addoption(spec.flag, dest=spec.dest, default=None, help=env_help)
            parser.addini(spec.ini, spec.help, default=None)


def read_options(
    config: pytest.Config, specs: Iterable[OptionSpec], environ: Mapping[str, str] | None = None
) -> dict[str, Raw]:
    """The three sources read from pytest and the environment, then :func:`pick_values`."""
    specs = tuple(specs)
    cli = {spec.dest: config.getoption(spec.dest) for spec in specs}
    ini = {spec.ini: config.getini(spec.ini) for spec in specs}
    env = dict(os.environ if environ is None else environ)
    return pick_values(specs, cli, env, ini)
