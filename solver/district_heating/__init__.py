"""The district-heating network that the campus's reusable heat feeds, and the plant at its head.

- ``stage``: the steady network (hydraulics and temperatures to a fixed point), consumers and the plant;
- ``results``: per node, pipe and consumer variables and the plant's figures;
- ``dynamics``: plug-flow temperature propagation with transport delay (node method);
- ``series``: the network step by step (transport delay, storage tank, dispatch).

Imports: :mod:`gigawatt.solver.numerics`, ``gigawatt.models``, ``gigawatt.cases``, ``gigawatt.errors``.
"""
