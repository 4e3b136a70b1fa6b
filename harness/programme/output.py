"""Writing what the programme's commands produce (a matrix page, a badge) and saying why not.

Files are written through a temporary file renamed into place, so a page or a badge served
from that path is never seen half written; bad input is one line on stderr, never a
traceback.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["BAD_INPUT", "fail", "os_error_text", "write_text_atomically"]

BAD_INPUT = 2  # the exit status of a command refusing its input (as argparse's usage errors)


def fail(command: str, message: str) -> int:
    """Print ``smm-conformance COMMAND: message`` on stderr; returns :data:`BAD_INPUT`."""
    print(f"smm-conformance {command}: {message}", file=sys.stderr)
    return BAD_INPUT


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, creating its directory; raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # a published file: readable by all
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def os_error_text(error: OSError) -> str:
    """``cannot write PATH: reason``, for an OSError raised while writing an output."""
    reason = error.strerror or type(error).__name__
    return f"cannot write {error.filename or 'the output'}: {reason}"
