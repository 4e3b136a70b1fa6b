"""Judging, pure: an exchange in, verdicts out (the checks, the judge, the verdict book)."""
