"""Contingency analysis across power and cooling: what one (N-1) or two (N-2) failed elements do to the
chips, the conductors and stations, and to the heat the town gets.

Each outage takes elements out of service in a copy of the case (:mod:`~gigawatt.solver.contingency.outages`:
stations, lines, DC/DC converters, CDUs, CDU pumps, heat-pump units), lets the case's redundancy act
(standby elements flagged ``spare``, ``[cooling] cdu_failover`` and ``pumps_per_cdu``), finds the racks an
outage islands (unsupplied: a finding, not an error), solves the rest through the coupled chain
(:func:`gigawatt.solver.solve.solve`) and measures it against the base case
(:mod:`~gigawatt.solver.contingency.analysis`): lowest voltage, overloaded conductors and stations, hottest chip
and racks over their limit, unmet heat and the boiler's share, the change in grid-to-chip efficiency and PUE.
An outage the network cannot carry (a :class:`~gigawatt.errors.ConvergenceError`, a pump that cannot deliver)
is a finding too. The results are one ``xarray.Dataset`` along an ``outage`` dimension, ranked, with the
single points of failure flagged.

Imports: ``gigawatt.errors``, ``gigawatt.cases``, ``gigawatt.models`` and the chain
(``gigawatt.solver.solve``); never the application layer (``gigawatt.sweep``, the command line). It sits at
the chain's level (``gigawatt.solver``) in tests/test_layout.py.
"""
from gigawatt.solver.contingency.analysis import format_contingency, outage_figures, run_contingency
from gigawatt.solver.contingency.outages import ELEMENT_KINDS, apply_outage, list_outages

__all__ = ["run_contingency", "format_contingency", "outage_figures", "list_outages", "apply_outage",
           "ELEMENT_KINDS"]
