"""Physical component models: conductors, converter losses, racks, chips, coolants, flow correlations,
heat exchangers, pipe heat loss, consumers, heat pumps, storage. Pure functions and small frozen classes
in SI units; no solver, no case loading.

Imports: ``gigawatt.errors`` only (and each other).
"""
