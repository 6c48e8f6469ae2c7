"""The numerics the networks share, with no knowledge of any network kind.

- ``sparse_ldl``, ``envelope``: sparse symmetric LDLᵀ in minimum-degree order, and envelope (profile)
  factorisation in reverse Cuthill–McKee order; ``spd_solvers`` chooses between them behind one interface;
- ``hydraulic_kernel``, ``hydraulic_iteration``, ``hydraulic_network``: steady incompressible flow in pipe
  networks with loops (Global Gradient Algorithm): the Numba kernels, the Newton iteration as one kernel, and
  their Python driver;
- ``thermal_kernel``: steady temperatures and heat losses of a network with known flows;
- ``vector_math``: elementary functions written so Numba loops vectorise; ``work_arrays``: scratch arrays
  kept between solves of one prepared network.

Imports: ``gigawatt.models`` and ``gigawatt.errors`` only.
"""
