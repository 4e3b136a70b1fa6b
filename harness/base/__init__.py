"""Values and pure helpers every layer shares: lenient wire values, secrets and redaction, the
spend guard, progress; standard library only, no I/O.
"""
