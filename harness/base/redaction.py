"""Secrets (API keys, control tokens) and the scrubbing that keeps them out of every output.

Redaction is structural: a key lives in a :class:`Secret`, whose ``repr``/``str`` never show it,
and only the HTTP client calls :meth:`Secret.reveal` at the moment it writes the request bytes.
Everything recorded (exchanges, evidence, reports) is built from the redacted description of a
request, never from the sent bytes. :func:`scrub` is the second line of defence for text that
comes *back* from a panel, which may echo a key in an error message.

Scrubbing replaces whole tokens only: a spelling of a secret counts where it is not glued to a
letter or digit on a side where the secret itself starts or ends with one. So a key never turns
"Checking" into "Chec<redacted>ing", while a key echoed as ``key=...&`` or ``"...",`` is
still caught. A key short enough to be an ordinary word ("Invalid") would still hide that word
wherever it stands alone, so the options refuse keys shorter than :data:`MIN_SECRET_LENGTH`
(``harness.run.config``); a real panel's keys are far longer.
"""

from __future__ import annotations

import functools
import hmac
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "Secret",
    "SecretBook",
    "display_url",
    "scrub",
    "scrub_spellings",
    "spellings",
]

REDACTED = "<redacted>"
#: The shortest key or token the options accept: below it a secret can be an ordinary word of
#: a panel's answers ("Invalid", "error"), which redaction would then hide everywhere.
MIN_SECRET_LENGTH = 8
# A letter or digit (any script): what a token's edge must not be glued to.
_NOT_ALNUM_BEFORE = r"(?<![^\W_])"
_NOT_ALNUM_AFTER = r"(?![^\W_])"


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
    """Replace each whole-token occurrence of ``ordered`` (from :func:`spellings`) in ``text``
    with ``<redacted>``, in one pass (a replacement is never scanned again)."""
    if not any(spelling in text for spelling in ordered):
        return text  # the common case, and cheap on a 16 MiB answer
    return _pattern(ordered).sub(_replace, text)


def scrub(text: str, secrets: Iterable[Secret]) -> str:
    """Replace every spelling of every secret in ``text`` with ``<redacted>``."""
    return scrub_spellings(text, spellings(secrets))


def _token(spelling: str) -> str:
    """``spelling`` as a whole token: not glued to a letter or digit on a side where it starts
    or ends with one (a side that is punctuation already delimits itself)."""
    before = _NOT_ALNUM_BEFORE if spelling[0].isalnum() else ""
    after = _NOT_ALNUM_AFTER if spelling[-1].isalnum() else ""
    return f"{before}{re.escape(spelling)}{after}"


@functools.lru_cache(maxsize=64)
def _pattern(ordered: tuple[str, ...]) -> re.Pattern[str]:
    # ``<redacted>`` itself comes first and is kept as it is: text scrubbed twice (the client,
    # then the certificate) stays the same even for a secret spelled "redacted".
    alternatives = [re.escape(REDACTED), *(_token(s) for s in ordered)]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def _replace(match: re.Match[str]) -> str:
    return REDACTED


class SecretBook:
    """Every secret the run knows (config keys, control token, minted keys), for scrubbing."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        self._secrets: list[Secret] = list(secrets)
        self._spellings = spellings(self._secrets)
        self._lock = threading.Lock()

    def add(self, secret: Secret) -> Secret:
        with self._lock:
            self._secrets.append(secret)
            self._spellings = spellings(self._secrets)
        return secret

    def scrub(self, text: str) -> str:
        return scrub_spellings(text, self._spellings)


def display_url(url: str) -> str:
    """``url`` without user info, query or fragment: the parts that may carry credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
