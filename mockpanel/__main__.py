"""``python -m mockpanel``: the same command line as the ``mockpanel`` script."""

from __future__ import annotations

from mockpanel.cli import main

raise SystemExit(main())
