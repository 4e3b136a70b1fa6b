"""The one switch for the mock's shortcuts (aiohttp's ``AIOHTTP_NO_EXTENSIONS`` pattern).

A shortcut is a faster way to the very same answer on the request path. Each one sits beside
a readable reference twin, named in one line where the shortcut is chosen, and the tests hold
the two to each other. ``MOCKPANEL_NO_SHORTCUTS=1`` in the environment, read once when the mock
is imported, makes every module take the twins: the same behaviour, only slower.
"""

from __future__ import annotations

import os
from typing import Final

__all__ = ["NO_SHORTCUTS"]

NO_SHORTCUTS: Final = os.environ.get("MOCKPANEL_NO_SHORTCUTS", "") not in ("", "0")
