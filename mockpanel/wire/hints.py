"""Hints: the mock's advice beside a refusal, for mistakes a real panel answers unhelpfully.

A misspelt action (``Add``, ``stauts``) gets ``did you mean "add"?`` and a body in an encoding
the profile does not decode (JSON to a form-only panel) gets the encodings it does take. The
wire layer appends the hint to the profile's error text and sends it as ``X-Mock-Hint``. A hint
is built only from the profile's own vocabulary, never from what the client sent, so it is
always safe to put in a header.
"""

from __future__ import annotations

import difflib
from typing import Final

from mockpanel.errors import DomainError, ErrorCode
from mockpanel.profiles import Encoding, Profile

__all__ = ["action_hint", "encoding_hint", "hint_for"]

_CUTOFF: Final = 0.75  # close enough for typos, too far for another action ("refill_status")
_LONGEST_ACTION: Final = 64  # longer input is no misspelling; spare difflib the work


def action_hint(profile: Profile, action: str) -> str | None:
    """``did you mean "X"?`` when ``action`` differs from one of the profile's actions only in
    case or by a typo; ``None`` when nothing is close."""
    if len(action) > _LONGEST_ACTION:
        return None
    folded = {name.lower(): name for name in profile.actions}
    wanted = action.lower()
    match = folded.get(wanted)
    if match is None:
        close = difflib.get_close_matches(wanted, list(folded), n=1, cutoff=_CUTOFF)
        match = folded[close[0]] if close else None
    if match is None or match == action:
        return None
    return f'did you mean "{match}"?'


def encoding_hint(profile: Profile, content_type: str) -> str:
    """Which bodies the profile takes; said plainly when JSON was sent to a form-only panel."""
    encodings = profile.wire.encodings
    if Encoding.FORM in encodings and Encoding.JSON not in encodings and "json" in content_type:
        return "this panel takes form bodies (application/x-www-form-urlencoded), not JSON"
    media = []
    if Encoding.FORM in encodings:
        media.append("application/x-www-form-urlencoded")
    if Encoding.JSON in encodings:
        media.append("application/json")
    if not media:
        return "this panel takes its fields in the query string only"
    return "this panel takes " + " or ".join(media) + " bodies"


def hint_for(profile: Profile, error: DomainError) -> str | None:
    """The hint for a refusal, if it has one."""
    if error.code is ErrorCode.UNKNOWN_ACTION:
        action = error.params.get("action")
        return action_hint(profile, action) if isinstance(action, str) else None
    if error.code is ErrorCode.UNSUPPORTED_ENCODING:
        encoding = error.params.get("encoding")
        return encoding_hint(profile, encoding.lower() if isinstance(encoding, str) else "")
    return None
