"""Validation cases (``cases/*.toml``: inputs, expected values with units, tolerances with reasons, the
primary source) and the checks that compute them against closed forms, published figures and peer tools;
``harness`` runs them for ``gigawatt validate``.

Imports: the library (``gigawatt`` and everything below it), never the command line.
"""
