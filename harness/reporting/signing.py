"""Signed certificates: an Ed25519 signature over a ``report.json``, detached in a file of its
own (``report.json.sig``), checked fully offline against the public keys a reader trusts.

What is signed is the report's *value*, not its bytes: the canonical serialisation
(:func:`canonical`: UTF-8 JSON, keys sorted, no insignificant whitespace, non-ASCII written as
itself) of the parsed file, so re-indenting the file or reordering its keys changes nothing,
while any changed value, added or removed field, or reordered list does.

The signature file is JSON::

    {"format": "smm-conformance-signature/1", "algorithm": "ed25519",
     "signed": {...}, "signature": "<base64 of 64 bytes>"}

and the signature covers ``DOMAIN + canonical(signed)``, so everything a reader relies on is
signed with the report's digest: the signer's public key and fingerprint, the signing harness's
version, the report's format and contract hash, the signing and expiry dates (an expiry cannot
be pushed back), and digests per top-level field and per clause field with each clause's
verdict in clear. The whole-report digest alone decides validity; the finer digests only let
:func:`verify_report` say *what* changed ("ADD-003: verdict changed: signed PASS, now FAIL";
"clause GEN-001: evidence changed"; "field spend changed"), so they are truncated to 8 hex
digits to keep the file small.

Pure: no file access and no clock (the caller passes ``now``); the command-line tool
(``smm-conformance keygen|sign|verify``) and the certificate writer (``--panel-sign-key``) do the
I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from harness.base.dates import utc_iso

__all__ = [
    "ALGORITHM",
    "DOMAIN",
    "SIGNATURE_FORMAT",
    "SIGNATURE_SUFFIX",
    "Problem",
    "ProblemKind",
    "SigningError",
    "Verification",
    "canonical",
    "fingerprint",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_pem",
    "render_signature",
    "sign_report",
    "verify_report",
]

SIGNATURE_FORMAT = "smm-conformance-signature/1"
ALGORITHM = "ed25519"
SIGNATURE_SUFFIX = ".sig"
# Domain separation: these bytes are never a valid signature of anything else signed with the
# same key (a key may sign other things too).
DOMAIN = b"smm-conformance signed report v1\n"
_PART_DIGITS = 8
# A signature made a little in the future is a clock difference between two machines; more
# than this is a wrong clock or a forged date.
_CLOCK_SKEW = timedelta(minutes=5)


class SigningError(ValueError):
    """A key that cannot be used (not PEM, not Ed25519, encrypted); one line, ready to print."""


# ---------------------------------------------------------------------------------------------
# canonical form and keys


def canonical(value: object) -> bytes:
    """The one serialisation of a JSON value that is signed: sorted keys, no whitespace, UTF-8,
    finite numbers only (Python's shortest round-trip float text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _digest(value: object) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def _part(value: object) -> str:
    return _digest(value)[:_PART_DIGITS]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: Ed25519PublicKey) -> str:
    """``sha256:`` and the hex SHA-256 of the key's 32 raw bytes: the name a reader trusts."""
    return "sha256:" + hashlib.sha256(_raw(public)).hexdigest()


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file is written readable by its owner alone."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_key_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(data: bytes, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise SigningError(f"{source}: the private key is encrypted; give an unencrypted one "
                           "(smm-conformance keygen writes one readable by its owner only)"
                           ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError(f"{source}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{source}: not an Ed25519 private key "
                           "(smm-conformance keygen makes one)")
    return key


def load_public_key(data: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        hint = " (this is a private key: trust its .pub)" if b"PRIVATE KEY" in data else ""
        raise SigningError(f"{source}: not a PEM public key{hint}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{source}: not an Ed25519 public key")
    return key


# ---------------------------------------------------------------------------------------------
# signing


def sign_report(
    report: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    now: datetime,
    harness_version: str,
    valid_days: int | None = None,
) -> dict[str, Any]:
    """The signature document of ``report`` (its parsed JSON value), signed at ``now``."""
    if valid_days is not None and valid_days < 1:
        raise ValueError("valid_days must be at least 1")
    public = key.public_key()
    clauses = report.get("clauses")
    contract = report.get("contract")
    signed: dict[str, Any] = {
        "report_format": report.get("format"),
        "report_sha256": _digest(report),
        "contract_hash": contract.get("hash") if isinstance(contract, Mapping) else None,
        "harness_version": harness_version,
        "certified": report.get("certified"),
        "verdict": report.get("verdict"),
        "signer": {
            "fingerprint": fingerprint(public),
            "public_key": base64.b64encode(_raw(public)).decode("ascii"),
        },
        "signed_at": utc_iso(now),
        "expires_at": None if valid_days is None else utc_iso(now + timedelta(days=valid_days)),
        # Where a change is, not whether there is one (report_sha256 decides that).
        "fields": {name: _part(value) for name, value in report.items() if name != "clauses"},
        "clauses": _clause_parts(clauses) if isinstance(clauses, list) else None,
    }
    signature = key.sign(DOMAIN + canonical(signed))
    return {
        "format": SIGNATURE_FORMAT,
        "algorithm": ALGORITHM,
        "signed": signed,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def _clause_parts(clauses: Sequence[Any]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for position, clause in enumerate(clauses):
        if isinstance(clause, Mapping) and isinstance(clause.get("id"), str):
            parts[clause["id"]] = {
                "position": position,
                "verdict": clause.get("verdict"),
                "fields": {name: _part(value) for name, value in clause.items()},
            }
    return parts


def render_signature(document: Mapping[str, Any]) -> str:
    """The signature file's text: indented for a reader down to each clause, whose entry is one
    line (the file stays a fraction of the report's size). Any layout verifies the same."""
    return _layout(document, 0) + "\n"


_LAID_OUT = 3  # document > signed > clauses > one line per clause


def _layout(value: object, depth: int) -> str:
    if not isinstance(value, Mapping) or not value or depth >= _LAID_OUT:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    pad = "  " * (depth + 1)
    items = ",\n".join(f"{pad}{json.dumps(key, ensure_ascii=False)}: "
                       f"{_layout(item, depth + 1)}" for key, item in value.items())
    return "{\n" + items + "\n" + "  " * depth + "}"


# ---------------------------------------------------------------------------------------------
# verifying


class ProblemKind(Enum):
    """Why a signed report is refused; each has its own wording, and tests pin them."""

    MALFORMED = "malformed signature file"
    FORMAT = "another format version"
    UNKNOWN_KEY = "unknown key"
    BAD_SIGNATURE = "bad signature"
    CONTRACT_CHANGED = "contract hash changed"
    VERDICT_CHANGED = "verdict changed"
    CONTENT_CHANGED = "report changed"
    EXPIRED = "expired"
    NOT_YET_VALID = "signed in the future"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of :func:`verify_report`: valid when there is no problem."""

    problems: tuple[Problem, ...]
    signer: str | None = None
    signed_at: str | None = None
    expires_at: str | None = None

    @property
    def kinds(self) -> frozenset[ProblemKind]:
        return frozenset(p.kind for p in self.problems)

    @property
    def valid(self) -> bool:
        return not self.problems

    def reason(self) -> str:
        """Every problem in one line."""
        return "; ".join(p.message for p in self.problems)


def _refuse(kind: ProblemKind, message: str, **known: str | None) -> Verification:
    return Verification((Problem(kind, message),), **known)


def verify_report(
    report: Mapping[str, Any],
    document: object,
    trusted: Sequence[Ed25519PublicKey],
    *,
    now: datetime,
) -> Verification:
    """Check ``document`` (a parsed signature file) against ``report`` (a parsed report) and
    the ``trusted`` keys, at ``now``.

    In order: the signature file's shape; the signer is a trusted key; the signature is that
    key's over the signed data (until then nothing in the file is believed, so the check stops
    at the first of these); then, all reported together, what changed in the report since it was
    signed, and whether the signature had expired (or is dated in the future) at ``now``.
    """
    shape = _shape(document)
    if isinstance(shape, str):
        return _refuse(ProblemKind.MALFORMED, f"malformed signature file: {shape}")
    signed, signature, embedded = shape
    signer = str(signed["signer"]["fingerprint"])
    if fingerprint(embedded) != signer:
        return _refuse(ProblemKind.MALFORMED, "malformed signature file: its public key does "
                       f"not have the fingerprint it states ({signer})")
    known = {"signer": signer, "signed_at": signed["signed_at"],
             "expires_at": signed["expires_at"]}
    key = next((k for k in trusted if fingerprint(k) == signer), None)
    if key is None:
        names = ", ".join(fingerprint(k) for k in trusted) or "none"
        return _refuse(ProblemKind.UNKNOWN_KEY, f"signed by an unknown key {signer} (trusted: "
                       f"{names})", **known)
    try:
        key.verify(signature, DOMAIN + canonical(signed))
    except InvalidSignature:
        return _refuse(ProblemKind.BAD_SIGNATURE, "the signature does not match the signed "
                       "data: the signature file was altered after signing", **known)
    problems: list[Problem] = []
    if report.get("format") != signed["report_format"]:
        problems.append(Problem(ProblemKind.FORMAT, f"the report is of format "
                                f"{report.get('format')!r}, the signature is of a "
                                f"{signed['report_format']!r} report"))
    if _digest(report) != signed["report_sha256"]:
        problems += _changes(report, signed)
    problems += _dates(signed, now)
    return Verification(tuple(problems), **known)


def _shape(document: object) -> tuple[Mapping[str, Any], bytes, Ed25519PublicKey] | str:
    """The signed part, the signature and the embedded key, or what is wrong with the file."""
    if not isinstance(document, Mapping):
        return "not a JSON object"
    found = document.get("format")
    if found != SIGNATURE_FORMAT:
        return (f"format {found!r}, this harness reads {SIGNATURE_FORMAT!r}"
                if isinstance(found, str) else f"no \"format\": \"{SIGNATURE_FORMAT}\"")
    if document.get("algorithm") != ALGORITHM:
        return f"algorithm {document.get('algorithm')!r}, expected {ALGORITHM!r}"
    signed = document.get("signed")
    if not isinstance(signed, Mapping):
        return "no \"signed\" object"
    signature = _b64(document.get("signature"), 64)
    if signature is None:
        return "\"signature\" is not 64 bytes in base64"
    signer = signed.get("signer")
    if not isinstance(signer, Mapping) or not isinstance(signer.get("fingerprint"), str):
        return "no signer fingerprint"
    raw = _b64(signer.get("public_key"), 32)
    if raw is None:
        return "the signer's public key is not 32 bytes in base64"
    expected: dict[str, tuple[type, ...]] = {
        "report_sha256": (str,), "report_format": (str,), "contract_hash": (str, type(None)),
        "signed_at": (str,), "expires_at": (str, type(None)), "fields": (Mapping,),
        "clauses": (Mapping, type(None)), "harness_version": (str,),
    }
    for name, types in expected.items():
        if not isinstance(signed.get(name), types):
            return f"signed.{name} is missing or of the wrong type"
    for name in ("signed_at", "expires_at"):
        if signed[name] is not None and _when(signed[name]) is None:
            return f"signed.{name} is not a UTC date-time: {signed[name]!r}"
    return signed, signature, Ed25519PublicKey.from_public_bytes(raw)


def _b64(value: object, size: int) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return data if len(data) == size else None


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _changes(report: Mapping[str, Any], signed: Mapping[str, Any]) -> list[Problem]:
    """What differs from the signed report, as precisely as the signed digests tell."""
    problems: list[Problem] = []
    contract = report.get("contract")
    now_hash = contract.get("hash") if isinstance(contract, Mapping) else None
    if now_hash != signed["contract_hash"]:
        problems.append(Problem(ProblemKind.CONTRACT_CHANGED, f"contract hash changed: signed "
                                f"{signed['contract_hash']}, the report says {now_hash}"))
    fields: Mapping[str, Any] = signed["fields"]
    for name in sorted(set(fields) | (set(report) - {"clauses"})):
        if name == "contract" and problems:
            continue  # said above, more precisely
        if name not in report:
            problems.append(Problem(ProblemKind.CONTENT_CHANGED, f"field {name!r} removed"))
        elif name not in fields:
            problems.append(Problem(ProblemKind.CONTENT_CHANGED, f"field {name!r} added"))
        elif _part(report[name]) != fields[name]:
            problems.append(Problem(ProblemKind.CONTENT_CHANGED, _field_change(name, report,
                                                                                signed)))
    problems += _clause_changes(report.get("clauses"), signed["clauses"])
    if not problems:  # the digest differs, yet no part does: say so rather than nothing
        problems.append(Problem(ProblemKind.CONTENT_CHANGED,
                                "the report differs from the signed one"))
    return problems


def _field_change(name: str, report: Mapping[str, Any], signed: Mapping[str, Any]) -> str:
    if name in ("certified", "verdict"):  # signed in clear: say from what to what
        return (f"field {name!r} changed: signed {json.dumps(signed.get(name))}, now "
                f"{json.dumps(report[name])}")
    return f"field {name!r} changed"


def _clause_changes(clauses: object, signed: Mapping[str, Any] | None) -> list[Problem]:
    if signed is None:
        return []
    if not isinstance(clauses, list):
        return [Problem(ProblemKind.CONTENT_CHANGED, "field 'clauses' is no longer a list")]
    problems: list[Problem] = []
    seen: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for position, clause in enumerate(clauses):
        if isinstance(clause, Mapping) and isinstance(clause.get("id"), str):
            seen.setdefault(clause["id"], (position, clause))
    moved = False
    for cid, entry in signed.items():
        if cid not in seen:
            problems.append(Problem(ProblemKind.CONTENT_CHANGED, f"clause {cid} removed"))
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("fields"), Mapping):
            problems.append(Problem(ProblemKind.CONTENT_CHANGED, f"clause {cid} changed"))
            continue
        position, clause = seen[cid]
        moved = moved or position != entry.get("position")
        if clause.get("verdict") != entry.get("verdict"):
            problems.append(Problem(ProblemKind.VERDICT_CHANGED, f"clause {cid}: verdict "
                                    f"changed: signed {entry.get('verdict')}, now "
                                    f"{clause.get('verdict')}"))
        parts: Mapping[str, Any] = entry["fields"]
        changed = sorted(name for name in set(parts) | set(clause) if name != "verdict"
                         and (name not in clause or name not in parts
                              or _part(clause[name]) != parts[name]))
        if changed:
            problems.append(Problem(ProblemKind.CONTENT_CHANGED,
                                    f"clause {cid}: {', '.join(changed)} changed"))
    extra = [cid for cid in seen if cid not in signed]
    if extra:
        problems.append(Problem(ProblemKind.CONTENT_CHANGED,
                                f"clause(s) added: {', '.join(extra)}"))
    if len(seen) != len(clauses):
        problems.append(Problem(ProblemKind.CONTENT_CHANGED,
                                "field 'clauses' has entries that are not clauses, or twice"))
    elif moved and not extra:
        problems.append(Problem(ProblemKind.CONTENT_CHANGED, "clauses reordered"))
    return problems


def _dates(signed: Mapping[str, Any], now: datetime) -> list[Problem]:
    problems: list[Problem] = []
    signed_at = _when(signed["signed_at"])
    if signed_at is not None and signed_at > now + _CLOCK_SKEW:
        problems.append(Problem(ProblemKind.NOT_YET_VALID, f"signed at {signed['signed_at']}, "
                                f"after now ({utc_iso(now)}): a wrong clock or a forged date"))
    if signed["expires_at"] is not None:
        expires = _when(signed["expires_at"])
        if expires is not None and now >= expires:
            problems.append(Problem(ProblemKind.EXPIRED, f"the certificate expired on "
                                    f"{signed['expires_at']} (signed {signed['signed_at']})"))
    return problems
