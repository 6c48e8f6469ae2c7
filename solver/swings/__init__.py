"""AI training power swings at a fine time step (10 ms), the energy stores that smooth them, and what the grid
and the plant see (issue 19's storage part).

- ``load``: the IT-load fraction along the series, from the ``[swing]`` parameters
  (:func:`gigawatt.models.training_load.training_swing`) or a measured trace (checked series reader);
- ``dc_coupling``: the one place where the stores meet the DC network (rack stores in the racks' draw,
  bus stores at the stations), the network solved by a checked Chebyshev surrogate or the series kernel;
- ``run``: ``run_swings(case)``, the series and its results (``xarray.Dataset`` along ``time``: grid power
  at the point of connection, ramps, spectrum and band energies, the stores' power, state of charge,
  losses and cycling, the findings);
- ``sizing``: ``size_storage(case, ramp_limit)``, the smallest store per placement that holds a ramp limit.

Imports: :mod:`gigawatt.solver.dc`, ``gigawatt.models``, ``gigawatt.cases``, ``gigawatt.errors``; at the
chain's level, it imports no other network and nothing above it.
"""
