"""Benchmarks of the mock panel, measured against a bare aiohttp handler in the same run.

A folder of scripts that people (and the optimiser) run with ``bench/run.sh`` or
``python -m bench``; it is not part of the installed distribution. See ``bench/README.md``.
"""
