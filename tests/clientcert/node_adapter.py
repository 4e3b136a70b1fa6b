"""The Node example through the JSON-lines adapter: ``--client-adapter=
tests.clientcert.node_adapter:make`` (needs ``node`` on PATH)."""

from __future__ import annotations

from pathlib import Path

from clientcert.jsonlines import command_factory

SHIM = Path(__file__).resolve().parent / "node" / "shim.js"

make = command_factory(["node", str(SHIM)])
