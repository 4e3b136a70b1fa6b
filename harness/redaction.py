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

__all__ = ["REDACTED", "Secret", "scrub"]

REDACTED = "<redacted>"


class Secret:
    """A key or token that prints as its label only; compare with :meth:`matches`."""

    __slots__ = ("_value", "label")

    def __init__(self, value: str, label: str) -> None:
        if not value:
            raise ValueError(f"{label}: a secret cannot be empty")
        self._value = value
        self.label = label

    def reveal(self) -> str:
        """The raw value, for the HTTP client only: never store or print what this returns."""
        return self._value

    def matches(self, candidate: str) -> bool:
        """Constant-time comparison, so timing does not leak how much of a guess was right."""
        return hmac.compare_digest(self._value.encode(), candidate.encode())

    def forms(self) -> tuple[str, ...]:
        """Every spelling of the value that can show up in text: raw and URL-encoded."""
        return tuple(dict.fromkeys((self._value, quote_plus(self._value), quote(self._value))))

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


def scrub(text: str, secrets: Iterable[Secret]) -> str:
    """Replace every spelling of every secret in ``text`` with ``<redacted>``.

    Longer spellings go first so that a URL-encoded form is not half replaced by the raw one.
    """
    spellings = sorted({form for secret in secrets for form in secret.forms()}, key=len)
    for spelling in reversed(spellings):
        if spelling in text:
            text = text.replace(spelling, REDACTED)
    return text
