"""The shipped conformance suite: pytest modules the plugin collects when ``--panel-url`` is set.

Every test cites the clauses it checks with ``@pytest.mark.clause``; the fixtures (``panel``,
``judge``, ``main_key``, ``catalog``) come from :mod:`harness.run.fixtures`. Modules are numbered in
run order: read-only checks first, spending ones next, the rate-limit tests (which exhaust a
key's budget on purpose) last.
"""
