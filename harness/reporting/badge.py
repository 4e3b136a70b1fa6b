"""The badge a vendor puts on its site: a small shields-style SVG that says where its last
certificate stands (certified, certified on a partial scope, or not certified), how many MUST
clauses failed and the date of the run, drawn from the certificate record (``report.json``).

A partial certificate never reads as a full one (as in the report's banner): it is yellow and
says "partial scope". The SVG is plain XML with no script and nothing loaded from elsewhere;
every text is escaped, and its width is estimated from Verdana's advance widths and then
enforced with ``textLength``, so a label never spills out of its box whatever the font.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["DEFAULT_LABEL", "Badge", "badge_of", "render_badge"]

DEFAULT_LABEL = "SMM API v2"
# shields.io's colours: brightgreen, yellow, red.
_COLOURS = {"certified": "#4c1", "certified, partial scope": "#dfb317",
            "not certified": "#e05d44"}
# Verdana 11 px advance widths (px), roughly: the exact glyphs do not matter, since every text
# is stretched or squeezed to the width computed here (textLength).
_LOWER = dict.fromkeys(" .,:;'!|il·", 3.9) | dict.fromkeys("fjrt()-/", 4.6) | {"m": 10.7,
                                                                              "w": 8.9}
_UPPER = {"I": 4.6, "J": 5.0, "M": 9.6, "W": 10.8}
_DEFAULT_LOWER, _DEFAULT_UPPER = 6.7, 7.8
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PADDING = 6  # px each side of a text


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    colour: str

    @property
    def text(self) -> str:
        return f"{self.label}: {self.message}"


def badge_of(record: Mapping[str, Any], *, label: str = DEFAULT_LABEL) -> Badge:
    """The badge of a certificate record (already checked against the report schema)."""
    certified, full = bool(record["certified"]), bool(record["scope"]["full"])
    standing = ("certified" if full else "certified, partial scope") if certified \
        else "not certified"
    failures = sum(1 for c in record["clauses"] if c["verdict"] == "FAIL" and c["level"] == "MUST")
    found = re.match(r"\d{4}-\d\d-\d\d", str(record["run"]["started_at"]))
    date = found.group(0) if found else "date unknown"
    noun = "failure" if failures == 1 else "failures"
    return Badge(label, f"{standing} · {failures} MUST {noun} · {date}", _COLOURS[standing])


def _width(text: str) -> int:
    return round(sum(_UPPER.get(c, _DEFAULT_UPPER) if c.isupper()
                     else _LOWER.get(c, _DEFAULT_LOWER) for c in text))


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold even escaped (most control
    characters): a label given on a command line must not make the SVG unreadable."""
    return _NOT_XML.sub("", text)


def render_badge(badge: Badge) -> str:
    """The badge as a standalone SVG document (UTF-8)."""
    badge = Badge(_xml_text(badge.label), _xml_text(badge.message), badge.colour)
    left_text, right_text = _width(badge.label), _width(badge.message)
    left, right = left_text + 2 * _PADDING, right_text + 2 * _PADDING
    total = left + right
    label, message = escape(badge.label), escape(badge.message)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" \
aria-label={quoteattr(badge.text)}>
<title>{escape(badge.text)}</title>
<linearGradient id="shine" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" \
stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="round"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#round)">
<rect width="{left}" height="20" fill="#555"/>
<rect x="{left}" width="{right}" height="20" fill={quoteattr(badge.colour)}/>
<rect width="{total}" height="20" fill="url(#shine)"/>
</g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" \
font-size="11" text-rendering="geometricPrecision">
<text x="{left / 2}" y="15" fill="#010101" fill-opacity=".3" textLength="{left_text}" \
lengthAdjust="spacingAndGlyphs" aria-hidden="true">{label}</text>
<text x="{left / 2}" y="14" textLength="{left_text}" lengthAdjust="spacingAndGlyphs">{label}</text>
<text x="{left + right / 2}" y="15" fill="#010101" fill-opacity=".3" textLength="{right_text}" \
lengthAdjust="spacingAndGlyphs" aria-hidden="true">{message}</text>
<text x="{left + right / 2}" y="14" textLength="{right_text}" \
lengthAdjust="spacingAndGlyphs">{message}</text>
</g>
</svg>
"""
