"""Schemathesis interoperability: the refusal check, the panel-aware strategies and the wire hooks
that ``harness.schemathesis_hooks`` registers.
"""
