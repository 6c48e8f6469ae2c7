"""The solvers: one sub-package per network, the shared numerics below them, and the chain that couples them.

- :mod:`gigawatt.solver.dc`: the DC networks (assembly, the monopolar Newton kernel, bipolar ±V, the
  many-step series) and their results;
- :mod:`gigawatt.solver.ac`: the AC grid side (pandapower) and its results;
- :mod:`gigawatt.solver.cooling`: technology loops, CDUs, facility water, dry coolers, heat recovery;
- :mod:`gigawatt.solver.district_heating`: the heating network (steady), its dynamics and its series;
- :mod:`gigawatt.solver.numerics`: sparse LDLᵀ, the envelope solver, and the hydraulic-network and
  thermal-sweep kernels that cooling and district heating share;
- at this level, the chain: :mod:`gigawatt.solver.solve` (``gw.solve``, one steady solve of every stage)
  and :mod:`gigawatt.solver.chain_stepper` (the chain prepared once and stepped along a time axis).

Imports point one way (a test enforces it): the chain imports the networks; a network imports the
numerics, ``gigawatt.models``, ``gigawatt.cases`` and ``gigawatt.errors``, never another network; the
numerics import only ``gigawatt.models`` and ``gigawatt.errors``. Nothing here imports the chain back,
the command line, or the application modules of ``gigawatt`` (only ``gigawatt.__version__``).
"""
