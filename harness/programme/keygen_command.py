"""``smm-conformance keygen KEYFILE [--public FILE] [--force]``: a new Ed25519 key pair to sign
certificates with.

The private key (PKCS#8 PEM, unencrypted) is created readable and writable by its owner alone
(mode 0600, whatever the umask), the public key (``KEYFILE.pub`` unless ``--public`` says
otherwise) readable by all: it is what a reader of the certificates is given to trust. The
fingerprint printed is the one ``verify`` names the signer by. Existing files are never
replaced without ``--force``, and neither file is written when either one would be refused.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from harness.programme.output import fail, os_error_text, write_text_atomically
from harness.reporting.signing import fingerprint, generate_key, private_key_pem, public_key_pem

__all__ = ["register", "run"]

_COMMAND = "keygen"
_PRIVATE_MODE = 0o600


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        _COMMAND,
        help="make an Ed25519 key pair to sign certificates with",
        description="Write a new Ed25519 private key (PEM, mode 0600) and its public key, "
                    "and print the public key's fingerprint.",
    )
    parser.add_argument("key", type=Path, metavar="KEYFILE",
                        help="the private key file to create")
    parser.add_argument("--public", type=Path, metavar="FILE",
                        help="the public key file to create (default: KEYFILE.pub)")
    parser.add_argument("--force", action="store_true",
                        help="replace existing files (default: refuse)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    private_path: Path = args.key
    public_path: Path = args.public or private_path.with_name(private_path.name + ".pub")
    if private_path.resolve() == public_path.resolve():
        return fail(_COMMAND, f"{public_path}: the public key cannot be written over the "
                    "private key")
    for path in (private_path, public_path):
        if path.is_dir():
            return fail(_COMMAND, f"{path}: is a directory")
        if path.exists() and not args.force:
            return fail(_COMMAND, f"{path}: exists; pass --force to replace it (a certificate "
                        "signed with the old key no longer verifies against the new one)")
    key = generate_key()
    try:
        _write_private(private_path, private_key_pem(key), replace=args.force)
        try:
            write_text_atomically(public_path, public_key_pem(key.public_key()).decode("ascii"))
        except OSError:
            if not args.force:  # a pair or nothing: a private key without its public one helps
                private_path.unlink(missing_ok=True)  # no one and blocks the next attempt
            raise
    except FileExistsError:
        return fail(_COMMAND, f"{private_path}: appeared meanwhile; not replaced")
    except OSError as error:
        return fail(_COMMAND, os_error_text(error))
    print(f"private key: {private_path} (mode 0600: keep it secret; it signs certificates)")
    print(f"public key:  {public_path} (give it to whoever verifies your certificates)")
    print(f"fingerprint: {fingerprint(key.public_key())}")
    return 0


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Create ``path`` with mode 0600 from its first byte (never readable by others, not even
    for a moment); replaced through a 0600 temporary file when ``replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if replace:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        target = Path(temporary)
    else:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
        target = path
    try:
        os.fchmod(handle, _PRIVATE_MODE)  # the umask may only have narrowed it; be exact
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        if replace:
            os.replace(target, path)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
