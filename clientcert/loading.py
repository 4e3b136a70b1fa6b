"""Find the adapter factory named ``module:factory`` (``--client-adapter``)."""

from __future__ import annotations

import importlib
from typing import cast

from clientcert.protocol import AdapterFactory

__all__ = ["AdapterSpecError", "load_factory"]


class AdapterSpecError(ValueError):
    """``--client-adapter`` names nothing callable; the message says what is wrong."""


def load_factory(spec: str) -> AdapterFactory:
    """Import ``module`` and return its attribute ``factory`` (dots allowed: ``a.b:C.make``)."""
    module_name, colon, attribute = spec.strip().partition(":")
    if not colon or not module_name or not attribute:
        raise AdapterSpecError(f"expected module:factory, e.g. my_sdk_adapter:make (got {spec!r})")
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        raise AdapterSpecError(f"cannot import {module_name!r}: {error}") from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise AdapterSpecError(f"{module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise AdapterSpecError(f"{spec!r} is not callable")
    return cast(AdapterFactory, target)
