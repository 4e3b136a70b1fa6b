"""Writing a profile as a YAML file a person can read and edit (``mockpanel profiles show``,
``mockpanel profiles infer``): short lists and small tables on one line, everything else as
blocks, keys in the order of the profile's fields, and comments where the writer has some."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import yaml

from mockpanel.profiles.codec import profile_to_plain
from mockpanel.profiles.model import Profile
from mockpanel.state.catalog import Service

__all__ = ["dump_yaml", "profile_yaml"]

# A one-line table longer than this is written as a block instead.
_FLOW_WIDTH = 88


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _flow(data: Any) -> bool:
    """Whether ``data`` reads best on one line: a list or table of plain values, short."""
    if isinstance(data, Mapping):
        values: Sequence[Any] = list(data.values())
    elif isinstance(data, list):
        values = data
    else:
        return False
    if not all(_scalar(v) for v in values):
        return False
    text = yaml.safe_dump(data, default_flow_style=True, width=10**6, allow_unicode=True)
    return len(text.strip()) <= _FLOW_WIDTH


class _Dumper(yaml.SafeDumper):
    pass


class _Row(dict[str, Any]):
    """A catalogue service: always one line, a row of the table."""


def _represent_dict(dumper: yaml.SafeDumper, data: Mapping[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=_flow(data))


def _represent_row(dumper: yaml.SafeDumper, data: Mapping[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=_flow(data))


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Row, _represent_row)

# A service's settings left out of its row when they have these values (Service's defaults).
_SERVICE_DEFAULTS: Final = MappingProxyType(
    {
        f.name: f.default
        for f in dataclasses.fields(Service)
        if f.init and f.default is not dataclasses.MISSING
    }
)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """``data`` (plain values of a whole or partial profile) as YAML text, in its own key order;
    each catalogue service on one line, without the settings it leaves at their defaults."""
    document = dict(data)
    services = document.get("services")
    if isinstance(services, Mapping) and isinstance(services.get("catalog"), list):
        document["services"] = {
            **services,
            "catalog": [_row(service) for service in services["catalog"]],
        }
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)


def _row(service: Any) -> Any:
    if not isinstance(service, Mapping):
        return service
    return _Row(
        (name, value)
        for name, value in service.items()
        if name not in _SERVICE_DEFAULTS or _plain_default(name) != value
    )


def _plain_default(name: str) -> Any:
    default = _SERVICE_DEFAULTS[name]
    return default.value if isinstance(default, enum.Enum) else default


def profile_yaml(profile: Profile, *, header: str = "") -> str:
    """The whole ``profile`` as a self-contained file (no ``extends``), every setting shown;
    ``header`` becomes leading comment lines."""
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + dump_yaml(profile_to_plain(profile))
