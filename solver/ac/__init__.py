"""The AC grid side: supplies, HV lines, transformers and MV cables to the AC/DC stations, solved by
pandapower; each station draws its DC output plus its own losses.

- ``grid``: the pandapower network built from the case and its load flow;
- ``results``: AC variables and the ledger extended from the plant to the chips.

Imports: :mod:`gigawatt.solver.numerics`, ``gigawatt.models``, ``gigawatt.cases``, ``gigawatt.errors``.
"""
