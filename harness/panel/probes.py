"""What the harness asks a panel to learn what it offers, read the same way everywhere.

The dialect fingerprint and the driver both ask whether an optional action exists and which
action answers multi-status; both read the answers with these functions, so the two can never
disagree on what an answer means. They do not ask twice either: the fingerprint probes before
the first test, and the driver takes those answers (``Panel.asked_before`` and
``Panel.probed_before``) rather than sending the same requests again.
"""

from __future__ import annotations

import functools
from typing import Final

from harness.base.exchange import Exchange
from harness.contract.dialects import load_dialects

__all__ = ["UNKNOWN_ACTION", "multi_status_aliases", "refused_as_unknown", "same_refusal"]

UNKNOWN_ACTION: Final = "smm_fingerprint_no_such_action"
"""The action no panel knows: its refusal is what every optional action's refusal is compared
with. The fingerprint asks it first, and the driver reuses that answer."""


@functools.cache
def multi_status_aliases() -> tuple[str, ...]:
    """The vendor actions some known dialect answers multi-status through (``orders``,
    ``multiStatus``, ...), read from ``schemas/dialects.yaml`` in file order."""
    return load_dialects().multi_status_aliases()


def same_refusal(message: str | None, action: str, unknown: str | None, unknown_action: str,
                 ) -> bool | None:
    """Whether the refusal ``message`` of ``action`` is worded as the refusal ``unknown`` of
    an action that does not exist (``unknown_action``): the action's own name read as a
    placeholder in both. ``None`` when either is not an error message."""
    if message is None or unknown is None:
        return None
    return message.replace(action, "{action}") == unknown.replace(unknown_action, "{action}")


def refused_as_unknown(probe: Exchange, action: str, baseline: Exchange, unknown_action: str,
                       ) -> bool | None:
    """Whether the panel refused ``action`` (``probe``) as it refuses an action it does not
    know (``baseline``, its answer to ``unknown_action``): ``True`` means not offered, ``False``
    offered (an answer, or a refusal worded otherwise), ``None`` when the answers cannot
    tell (no HTTP answer, or no error message to compare)."""
    if probe.status is None:
        return None
    message = probe.error_message
    if message is None:
        return False if probe.is_json else None
    return same_refusal(message, action, baseline.error_message, unknown_action)
