"""One pytest session: the options, the composition root (``HarnessRun``), fixtures, scenario
items, pre-flight, the request plan and xdist.
"""
