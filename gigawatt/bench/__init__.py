"""The benchmarks behind ``gigawatt bench``: one module per benchmark family, each timing gigawatt's whole call
and its kernel against the peer tool's on the same network, in the same process.

- :mod:`~gigawatt.bench.common`: timing, cold processes, peak memory and table output, shared by all;
- :mod:`~gigawatt.bench.suite`: the default run (the four families below, one after another);
- :mod:`~gigawatt.bench.dc_loadflow`, :mod:`~gigawatt.bench.bipolar_loadflow`: the DC networks;
- :mod:`~gigawatt.bench.coolant_networks`, :mod:`~gigawatt.bench.heating_networks`: the liquid networks;
- :mod:`~gigawatt.bench.campus_5gw`: the whole chain with the grid side on the 5 GW campus;
- :mod:`~gigawatt.bench.dc_year`, :mod:`~gigawatt.bench.heating_series`, :mod:`~gigawatt.bench.coupled_year`:
  the time-series benchmarks; :mod:`~gigawatt.bench.sweep_workers`: sweeps on 1 and 2 workers.

Imports: the library (``gigawatt.solver``, ``gigawatt.cases``, ``gigawatt.validation``) and this package's
``common``; a family imports another only for its network builder. Nothing in the library imports this
package. To add a benchmark, see ``docs/architecture.md``.
"""
