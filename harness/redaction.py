"""Secrets (API keys, control tokens) and the scrubbing that keeps them out of every output.

Redaction is structural: a key lives in a :class:`Secret`, whose ``repr``/``str`` never show it,
and only the HTTP client calls :meth:`Secret.reveal` at the moment it writes the request bytes.
Everything recorded (exchanges, evidence, reports) is built from the redacted description of a
request, never from the sent bytes. :func:`scrub` is the second line of defence for text that
comes *back* from a panel, which may echo a key in an error message.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "Secret", "scrub", "scrub_spellings", "spellings"]

REDACTED = "<redacted>"


class Secret:
    """A key or token that prints as its label only; compare with :meth:`matches`."""

    __slots__ = ("_forms", "_value", "label")

    def __init__(self, value: str, label: str) -> None:
        if not value:
            raise ValueError(f"{label}: a secret cannot be empty")
        self._value = value
        self.label = label
        self._forms = tuple(dict.fromkeys((value, quote_plus(value), quote(value))))

    def reveal(self) -> str:
        """The raw value, for the HTTP client only: never store or print what this returns."""
        return self._value

    def matches(self, candidate: str) -> bool:
        """Constant-time comparison, so timing does not leak how much of a guess was right."""
        return hmac.compare_digest(self._value.encode(), candidate.encode())

    def forms(self) -> tuple[str, ...]:
        """Every spelling of the value that can show up in text: raw and URL-encoded."""
        return self._forms

    def __repr__(self) -> str:
        return f"Secret({self.label})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Secret) and other.label == self.label and self.matches(other._value)
        )

    def __hash__(self) -> int:
        return hash(("Secret", self.label))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the raw value wherever the pickle goes (xdist, caches): refuse.
        raise TypeError("a Secret cannot be pickled")


def spellings(secrets: Iterable[Secret]) -> tuple[str, ...]:
    """Every spelling of ``secrets``, longest first, so that a URL-encoded form is not half
    replaced by the raw one."""
    return tuple(sorted({form for s in secrets for form in s.forms()}, key=len, reverse=True))


def scrub_spellings(text: str, ordered: tuple[str, ...]) -> str:
    """Replace each of ``ordered`` (from :func:`spellings`) in ``text`` with ``<redacted>``."""
    for spelling in ordered:
        if spelling in text:
            text = text.replace(spelling, REDACTED)
    return text


def scrub(text: str, secrets: Iterable[Secret]) -> str:
    """Replace every spelling of every secret in ``text`` with ``<redacted>``."""
    return scrub_spellings(text, spellings(secrets))
