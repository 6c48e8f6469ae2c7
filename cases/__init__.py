"""Cases: the schema table (``schema.csv``) and its checks, loading TOML and CSV cases with unit conversion,
the builders (campus, town, architectures), time-series files, bundled IT-load profiles and weather, and
the bundled cases.

Imports: ``gigawatt.models`` and ``gigawatt.errors`` only.
"""
