"""The harness version: printed in reports, certificates and the User-Agent."""

__version__ = "0.1.0"
