"""The liquid-cooling stage: cold plates, technology loops and their pumps, CDUs, facility water, dry
coolers and the heat-recovery exchanger.

- ``loops``: the technology loops as ladder networks (one per CDU, racks tapped off two headers);
- ``stage``: what is solved (loop hydraulics, chips and leakage, thermal network, CDUs, facility water);
- ``results``: per-rack, per-loop and per-pipe variables, the facility figures and the heat ledger.

Imports: :mod:`gigawatt.solver.numerics`, ``gigawatt.models``, ``gigawatt.cases``, ``gigawatt.errors``.
"""
