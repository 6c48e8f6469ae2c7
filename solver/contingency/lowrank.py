"""A line outage from the base case's factorisation: a rank-1 downdate by the Sherman–Morrison formula.

The DC load flow (:mod:`gigawatt.solver.dc.kernel`) solves, at every bus no stiff source holds,

    F_i(V) = Σ_j g_ij (V_i − V_j) + (P_i − KV_i)/V_i + K_i = 0,

with the Jacobian J(V) = G + diag(−(P_i − KV_i)/V_i²) (G the conductance Laplacian of the free buses). Taking
one line of conductance g between buses a and b out removes g·u·uᵀ from G, u = e_a − e_b (an end held by a
stiff source drops out of u). So the outage's Jacobian at the base solution V⁰ is J₀ − g·u·uᵀ, J₀ = J(V⁰), and
by the Sherman–Morrison formula [1]_

    (J₀ − g u uᵀ)⁻¹ r = J₀⁻¹ r + w · g (uᵀ J₀⁻¹ r)/(1 − g uᵀ w),   w = J₀⁻¹ u,

each solve costs two triangular sweeps with the base factor L·D·Lᵀ of J₀ (factored once for all the outages,
:mod:`gigawatt.solver.numerics.sparse_ldl`) and one with ``w`` kept per outage. The outage's voltages follow by
chord steps V ← V − (J₀ − g u uᵀ)⁻¹ F_out(V) from V⁰: no factorisation per outage or per step. The steps
converge linearly, at the rate by which the load term −(P − KV)/V² moves with the voltages (a few per cent
for a line outage), so a handful of steps reach round-off. The chain's own solver then starts from these
voltages (a warm start) and verifies them: its first residual is within tolerance, or one Newton step ends it.

Where it applies: a network of one voltage level (no DC/DC converters, whose input power couples the levels),
at fixed conductor temperatures, monopolar, and a line whose removal leaves every bus fed (a line in a ring:
1 − g uᵀw > 0 stays away from zero; a line that islands buses is handled by the islanding step instead).
It does not apply to a station's outage: that changes which buses a stiff source holds and the droop terms
K_i on the diagonal (the structure of the equations, not a rank-1 term of G), so those outages are solved by
the chain's Newton method from the base case's voltages (:func:`applies` says why, for the results' notes).

References
----------
.. [1] W. W. Hager, "Updating the inverse of a matrix", SIAM Review 31(2), 221-239 (1989).
   doi:10.1137/1031049
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gigawatt.solver.numerics.sparse_ldl import ldl_layout, ldl_numeric, ldl_solve

CHORD_MAX_STEPS = 60
"""Chord steps allowed before the low-rank update gives up (the chain's Newton method then finishes)."""
CHORD_RTOL = 1e-15
"""The chord steps stop once no voltage moves by more than this, relative (round-off)."""


@dataclass(frozen=True)
class BaseFactor:
    """The base case's Jacobian at its solution, factored: everything a line outage's update needs."""

    net: object              # the base case's assembled DC network (gigawatt.solver.dc.assembly.Network)
    v0: np.ndarray           # [V] base solution, solver positions
    free: np.ndarray         # solver positions of the free buses (not held by a stiff source)
    index: np.ndarray        # position -> row of the factored system (-1: held)
    layout: object           # LDLLayout of J₀ (minimum-degree order)
    l_index: np.ndarray
    l_values: np.ndarray
    d: np.ndarray
    line_g: np.ndarray       # [S] conductance per line-table row (0 out of service)


def applies(case, kind: str) -> str:
    """Why the low-rank update does not apply to an outage of this kind in this case ('' when it may)."""
    if kind == "stations":
        return ("a station's outage changes which buses a stiff source holds and the droop terms on the "
                "Jacobian's diagonal, not a rank-1 term of the conductances")
    if kind != "lines":
        return f"{kind} outages are not changes of the DC conductances"
    if len(case.tables["converter"]):
        return "DC/DC converters couple the voltage levels (their input power depends on the level below)"
    if (case.settings.get("dc") or {}).get("system") == "bipolar":
        return "the bipolar network is solved by its own solver"
    if case.settings["solver"]["conductor_temperature"] == "from_load":
        return "the conductor resistances follow the load (conductor_temperature = from_load)"
    return ""


def factor_base(net, v0: np.ndarray) -> BaseFactor:
    """J₀ = J(V⁰) of the base network ``net`` at its solution ``v0`` [V] (solver positions), factored once."""
    n = net.n_bus
    free = np.flatnonzero(~net.fixed)
    index = np.full(n, -1, dtype=np.int64)
    index[free] = np.arange(free.size)
    g = np.zeros(net.line_from.size)
    live = np.isfinite(net.line_r) & (net.line_from >= 0)
    g[live] = 1.0 / net.line_r[live]
    a, b = net.line_from[live], net.line_to[live]
    diag = -(net.rack_load - net.kv_droop) / v0 ** 2
    np.add.at(diag, a, g[live])
    np.add.at(diag, b, g[live])
    both = (index[a] >= 0) & (index[b] >= 0)
    rows, cols, vals = index[a][both], index[b][both], -g[live][both]
    m = free.size
    layout, entry, diagonal = ldl_layout(m, rows, cols)
    values = np.zeros(int(layout.col_ptr[-1]))
    np.add.at(values, entry, vals)
    values[diagonal] += diag[free]
    n_l = int(layout.l_ptr[-1])
    l_index, l_values, d = np.empty(n_l, np.int64), np.empty(n_l), np.empty(m)
    bad = ldl_numeric(m, layout.col_ptr, layout.row_index, values, layout.l_ptr, layout.parent,
                      np.empty(m, np.int64), l_index, l_values, d, np.empty(m), np.empty(m, np.int64),
                      np.empty(m, np.int64))
    if bad >= 0:
        raise ValueError("the base case's Jacobian is not positive definite at its solution")
    return BaseFactor(net, v0, free, index, layout, l_index, l_values, d, g)


def _solve(bf: BaseFactor, r: np.ndarray) -> np.ndarray:
    """J₀⁻¹ r for r over the free buses (in their order)."""
    x = np.empty(r.size)
    x[bf.layout.position] = r
    ldl_solve(r.size, bf.layout.l_ptr, bf.l_index, bf.l_values, bf.d, x)
    return x[bf.layout.position]


def _mismatch(bf: BaseFactor, v: np.ndarray, out_row: int) -> np.ndarray:
    """F_out(V) [A] at every bus position: the base network's currents without line ``out_row``."""
    net = bf.net
    f = (net.rack_load - net.kv_droop) / v + net.k_droop
    live = bf.line_g > 0
    live[out_row] = False
    a, b, g = net.line_from[live], net.line_to[live], bf.line_g[live]
    flow = g * (v[a] - v[b])
    np.add.at(f, a, flow)
    np.subtract.at(f, b, flow)
    return f


def line_outage_voltages(bf: BaseFactor, line_row: int) -> tuple[np.ndarray | None, int, str]:
    """Bus voltages [V] (solver positions of the base network) with line-table row ``line_row`` out, by chord
    steps on the base factor downdated by that line (see the module notes). Returns ``(v, steps, why)``:
    ``v`` None, with ``why`` said, where the update does not converge or the line carries no current path."""
    g = float(bf.line_g[line_row])
    if g <= 0:
        return None, 0, "the line is out of service in the base case"
    ends = bf.index[[bf.net.line_from[line_row], bf.net.line_to[line_row]]]
    u = np.zeros(bf.free.size)
    if ends[0] >= 0:
        u[ends[0]] += 1.0
    if ends[1] >= 0:
        u[ends[1]] -= 1.0
    w = _solve(bf, u) if u.any() else u
    s = 1.0 - g * float(u @ w)
    if not s > 1e-12:
        return None, 0, "the line is a bridge (its outage islands buses)"
    v = bf.v0.copy()
    for step in range(1, CHORD_MAX_STEPS + 1):
        r = _mismatch(bf, v, line_row)[bf.free]
        y = _solve(bf, r)
        dx = y + w * (g * float(u @ y) / s)
        v[bf.free] -= dx
        if np.max(np.abs(dx) / v[bf.free], initial=0.0) <= CHORD_RTOL:
            return v, step, ""
    return None, CHORD_MAX_STEPS, f"the chord steps did not settle in {CHORD_MAX_STEPS}"
