"""The DC networks: 800 VDC (or any level) monopolar and ±V bipolar, from the stations to the racks.

- ``assembly``: validated element tables → typed arrays in breadth-first order, grouped by voltage level;
- ``kernel``: the Numba Newton kernel of one level (tree elimination, rings by Woodbury);
- ``loadflow``: ``solve_dc``, level by level (DC/DC converters' output zones first), feeds and the nose;
- ``results``: the results ``xarray.Dataset``, the energy ledger and the provenance;
- ``bipolar``, ``bipolar_results``: the three-wire ±V network with its neutral and earthing;
- ``series``, ``series_batch``, ``series_kernel``, ``series_newton``: the network prepared once and solved step
  after step (``series``), a whole period with bounded memory (``series_batch``), its many-step kernel and
  that kernel's Newton for zones without rings (the sweeps block by block);
- ``meshed``, ``meshed_case``: the DC grid load flow with set-power terminals (P–V switching), DC/DC
  converters under voltage, ratio or power control inside meshes and conductance loads
  (``gigawatt.solve_dc_grid``), a factorisation kept per pattern of held buses.

Imports: :mod:`gigawatt.solver.numerics`, ``gigawatt.models``, ``gigawatt.cases``, ``gigawatt.errors``.
"""
