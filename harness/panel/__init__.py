"""The panel under test as the suite sees it: catalogue arithmetic, the driver, the fingerprint,
the hypothesis strategies and the model ledger.
"""
