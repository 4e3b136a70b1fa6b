"""Reading the key files the signing commands are given, with one-line errors: a private key
to sign with, public keys to trust. A key that cannot be used is bad input (exit 2), never a
traceback; what is wrong with it is said (missing, unreadable, not PEM, not Ed25519, a private
key given where a public one is trusted)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from harness.reporting.signing import SigningError, load_private_key, load_public_key

__all__ = ["KeyFileError", "read_private_key", "read_public_key"]

_LARGEST = 64 * 1024  # a PEM key is a few hundred bytes; anything this big is not one


class KeyFileError(ValueError):
    """A key file that cannot be used; the message is one line."""


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > _LARGEST:
            raise KeyFileError(f"{path}: too large to be a {what}")
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise KeyFileError(f"{path}: is a directory, not a {what} file") from None
    except OSError as error:
        raise KeyFileError(f"{path}: cannot read: {error.strerror or error}") from None


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        return load_private_key(_read(path, "private key"), str(path))
    except SigningError as error:
        raise KeyFileError(str(error)) from None


def read_public_key(path: Path) -> Ed25519PublicKey:
    try:
        return load_public_key(_read(path, "public key"), str(path))
    except SigningError as error:
        raise KeyFileError(str(error)) from None
