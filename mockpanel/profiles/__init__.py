"""Vendor dialects as data: the frozen :class:`Profile` type and the registry of built-ins.

Each built-in profile is a YAML file shipped in ``mockpanel/profiles/builtin/``, checked
against a JSON Schema and read into the same frozen type (:mod:`mockpanel.profiles.files`); a
vendor's file ``extends: reference`` and gives only what its documents say differently. A
user's own provider is a file of the same form (``mockpanel serve --profile-file FILE``;
``mockpanel profiles show NAME`` prints one to start from).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from mockpanel.profiles.files import (
    BUILTIN_NAMES,
    ProfileFileError,
    load_builtin_profiles,
    load_profile_file,
    load_profile_text,
)
from mockpanel.profiles.model import (
    ENCODING_FORM,
    ENCODING_QUERY,
    HANDLER_ADD,
    HANDLER_BALANCE,
    HANDLER_STATUS,
    NUMBER_STYLE_NUMBER,
    NUMBER_STYLE_STRING,
    UNKNOWN_COUNT_ZERO,
    CancelAck,
    CancelShape,
    Encoding,
    ErrorSpec,
    FlagStyle,
    Handler,
    ItemError,
    Numbers,
    NumberStyle,
    Profile,
    RateLimit,
    ServiceField,
    ServiceList,
    Shapes,
    StatusField,
    TypeSpelling,
    UnknownCount,
    Wire,
)

__all__ = [
    "BUILTIN_NAMES",
    "ENCODING_FORM",
    "ENCODING_QUERY",
    "EXTENDED",
    "HANDLER_ADD",
    "HANDLER_BALANCE",
    "HANDLER_STATUS",
    "LARAVEL",
    "NUMBER_STYLE_NUMBER",
    "NUMBER_STYLE_STRING",
    "PERFECTPANEL",
    "PROFILES",
    "REFERENCE",
    "SMARTPANEL",
    "SMMAPI",
    "SMMHUB",
    "SMMPREMIUM",
    "SMMPRO",
    "SMMSERVER",
    "UNKNOWN_COUNT_ZERO",
    "CancelAck",
    "CancelShape",
    "Encoding",
    "ErrorSpec",
    "FlagStyle",
    "Handler",
    "ItemError",
    "NumberStyle",
    "Numbers",
    "Profile",
    "ProfileFileError",
    "RateLimit",
    "ServiceField",
    "ServiceList",
    "Shapes",
    "StatusField",
    "TypeSpelling",
    "UnknownCount",
    "Wire",
    "get_profile",
    "load_profile_file",
    "load_profile_text",
]

PROFILES: Final[Mapping[str, Profile]] = MappingProxyType(load_builtin_profiles())

REFERENCE: Final = PROFILES["reference"]
PERFECTPANEL: Final = PROFILES["perfectpanel"]
SMMPREMIUM: Final = PROFILES["smmpremium"]
SMMPRO: Final = PROFILES["smmpro"]
SMMHUB: Final = PROFILES["smmhub"]
EXTENDED: Final = PROFILES["extended"]
SMARTPANEL: Final = PROFILES["smartpanel"]
LARAVEL: Final = PROFILES["laravel"]
SMMAPI: Final = PROFILES["smmapi"]
SMMSERVER: Final = PROFILES["smmserver"]


def get_profile(name: str) -> Profile:
    """The built-in profile called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(
            f"unknown profile {name!r}; known profiles: {', '.join(sorted(PROFILES))}"
        ) from None
