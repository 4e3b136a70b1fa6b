"""The run's conclusion in Allure's ``environment.properties``: the verdict and its scope on
the report's overview page, beside the test results the Allure bridge labels.

The file is Allure's (a Java properties file in the results directory); lines a user or
another tool put there are kept, and only the harness's own ``smm.*`` keys are replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["FILE_NAME", "PREFIX", "write_environment"]

FILE_NAME = "environment.properties"
PREFIX = "smm."


def _escape(text: str, *, key: bool = False) -> str:
    """Java properties escaping: backslash, line breaks, key separators, and every character
    outside printable ASCII as ``\\uXXXX`` (the format is Latin-1)."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif key and char in " =:#!":
            out.append("\\" + char)
        elif not " " <= char <= "~":
            out.extend(f"\\u{unit:04x}" for unit in _utf16(char))
        else:
            out.append(char)
    return "".join(out)


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def write_environment(directory: Path, values: Mapping[str, str]) -> Path:
    """Write ``values`` (keys without the ``smm.`` prefix) into ``directory``'s
    ``environment.properties``, keeping every line that is not the harness's."""
    path = directory / FILE_NAME
    kept: list[str] = []
    if path.exists():
        kept = [line for line in path.read_text(encoding="latin-1").splitlines()
                if not line.lstrip().startswith(PREFIX)]
    ours = [f"{_escape(PREFIX + key, key=True)}={_escape(value)}" for key, value in values.items()]
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*kept, *ours]) + "\n", encoding="latin-1")
    return path
