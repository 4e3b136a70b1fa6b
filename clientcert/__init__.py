"""Client conformance: certify an SMM panel API v2 client library against the mock panel.

An SDK author writes one adapter (:class:`ClientAdapter`, built by a factory from
:class:`AdapterSettings`) and runs ``pytest --client-adapter=module:factory``; the suite
starts the mock in every built-in profile (or ``--client-profiles``), arms faults through the
mock's control API, calls the adapter and judges the clauses of
``schemas/client_clauses.yaml`` from what the library returned and what the mock's journal
shows it sent. Verdicts and reports are the harness's (:class:`harness.VerdictBook`,
``--client-report``). ``harness`` and ``mockpanel`` never import each other; this package is
the one place, besides the tests, that uses both.
"""

from __future__ import annotations

from clientcert.protocol import (
    OPERATIONS,
    AdapterFactory,
    AdapterSettings,
    ClientAdapter,
    OrderRequest,
)

__all__ = ["OPERATIONS", "AdapterFactory", "AdapterSettings", "ClientAdapter", "OrderRequest"]
