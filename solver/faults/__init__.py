"""DC fault currents and protection: short-circuit currents at every bus in the form of IEC 61660-1, and the
breaking duty and selectivity of the protective devices. An analysis that spans the DC network.

- ``network``: the fault network of a case from the DC assembly: conductors as R and L (one layer for a
  monopolar network, three for a bipolar one), the sources of each contribution kind (current-limited
  converters, capacitors, batteries) at their terminals, and the driving-point resistance and inductance of
  every fault from one factorisation per kind (selected inversion, :mod:`gigawatt.solver.numerics.
  selected_inversion`);
- ``currents``: each contribution's characteristic quantities (i_p, t_p, I_k, tau1, tau2) and their sum at
  every bus and fault type (:mod:`gigawatt.models.fault_currents`);
- ``devices``: the current each protective device must interrupt, its breaking capacity, and selectivity
  with the device upstream by their time–current curves;
- ``results``: the ``xarray.Dataset`` (dimensions ``bus``, ``fault_type``, ``contribution``,
  ``protection``) and its findings; ``analysis``: ``fault_currents(case, buses=None)``, the entry point.

Imports: :mod:`gigawatt.solver.dc` (the assembly and its conductor data), :mod:`gigawatt.solver.numerics`,
``gigawatt.models``, ``gigawatt.cases``, ``gigawatt.errors``; at the chain's level, it imports no other
network and nothing above it.
"""
