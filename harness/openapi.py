"""``python -m harness.openapi [-o FILE]``: write the OpenAPI 3.1 view of the contract.

An entry point only; the generator is :mod:`harness.contract.openapi`.
"""

from __future__ import annotations

from harness.contract.openapi import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
