"""``python -m harness.programme``: the same as the ``smm-conformance`` command."""

from __future__ import annotations

from harness.programme.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
