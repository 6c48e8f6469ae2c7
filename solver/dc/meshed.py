"""DC grid load flow with set-power terminals, DC/DC converters inside meshes and constant-conductance loads.

What it solves (SI; one monopolar equivalent: voltages pole to pole, loop resistances): a network of lines
with

- *feeds* that hold a voltage (a stiff slack station, ``k = 0``) or follow a V–P droop
  ``P = k (v_set − V)`` [W] (the same law as :mod:`gigawatt.solver.dc.kernel`'s sources);
- *terminals* that inject a set power ``P_set`` [W] (negative: draw it) — a battery's converter, an HVDC
  station in power control, the far end of a link — between voltage limits ``v_min ≤ V ≤ v_max``; at a limit
  the terminal switches to voltage control and holds it, delivering whatever the network then asks, as long
  as that stays on the limit's side of ``P_set`` (at ``v_max``: ``P ≤ P_set``; at ``v_min``: ``P ≥ P_set``);
  otherwise it returns to its set power (a vertical line clipped by two horizontal ones in the P–V plane);
- *constant-power loads* ``P`` [W] and *constant-conductance loads* ``G`` [S] (``P = G V²``);
- *DC/DC converters* between any two buses, also inside a mesh, with one of the controls in
  :data:`DCDC_CONTROLS`: ``voltage`` (holds its output bus at ``set``), ``ratio`` (``V_to = set · V_from``,
  an ideal DC transformer), ``power`` (delivers ``set`` watts at its output). Each loses
  ``a + b |I| + c I²`` with ``I = P_out / V_to`` (:class:`gigawatt.models.converter_losses.QuadraticLoss`),
  drawn at its input.

How: the buses a feed, a voltage-controlled converter or a terminal at its limit holds are fixed; a
ratio-controlled converter's output is tied to its input by ``V_to = n V_from``, which is the congruence
``V = T x + v_c`` (an ideal transformer: ``Tᵀ`` carries the currents back). The remaining equations are
``Tᵀ A T x = Tᵀ (r(V) − A v_c)`` with ``A`` the line and conductance matrix plus the droops linearised at
their set-points (``k / v_set``), and ``r(V)`` the constant-power currents ``P / V``, the droops' second-order
remainder and the converters' currents. ``Tᵀ A T`` depends only on the topology and on which buses are held, so
it is factorised once per pattern of held buses (SuperLU, kept in the solver) and every iteration, every step
and every later call only substitutes: the fixed point ``x ← (TᵀAT)⁻¹ Tᵀ (r(V) − A v_c)`` converges linearly
at the rate ``|P| / (G V²)`` of the network's loading (a few iterations at normal loading). Steps are
solved together as the columns of one right-hand side (:meth:`DCGridSolver.solve` with 2-D set powers); small
grids keep ``T (TᵀAT)⁻¹ Tᵀ`` dense (LAPACK) instead of SuperLU's factors.

The ledger: everything the feeds, terminals and converters deliver equals the loads, the conductances, the
line losses and the converters' losses; the residual is reported (round-off at convergence).

References
----------
.. [1] J. Beerten, R. Belmans, "Development of an open source power flow software for high voltage direct
   current grids and hybrid AC/DC systems: MATACDC", IET Generation, Transmission & Distribution 9(10),
   966–974, 2015, doi:10.1049/iet-gtd.2015.0040 (DC grid power flow with constant-power, slack and droop
   converters).
.. [2] T. K. Vrana, Y. Yang, D. Jovcic, S. Dennetière, J. Jardini, H. Saad, "The CIGRE B4 DC Grid Test
   System", Electra 270, 10–19, 2013 (DC/DC converters in a meshed DC grid, fixed-power terminals).
.. [3] J. W. Demmel, S. C. Eisenstat, J. R. Gilbert, X. S. Li, J. W. H. Liu, "A supernodal approach to sparse
   partial pivoting", SIAM J. Matrix Anal. Appl. 20(3), 720–755, 1999 (SuperLU, through scipy).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gigawatt.errors import CaseError, ConvergenceError
from gigawatt.models.dc_elements import AT_V_MAX, AT_V_MIN, P_MODE, conductance_load_w

VOLTAGE, RATIO, POWER = 0, 1, 2
DENSE_MAX_BUSES = 1500
STEP_BLOCK_VALUES = 1 << 17
"""Steps are solved in blocks of about this many bus voltages (1 MiB per working array)."""
"""Grids of up to this many buses keep T (TᵀAT)⁻¹ Tᵀ as a dense matrix (one product per iteration for all
steps); larger ones keep SuperLU's sparse factors."""
DCDC_CONTROLS = {"voltage": VOLTAGE, "ratio": RATIO, "power": POWER}
"""Controls of a DC/DC converter, by name: what its ``set`` holds (output voltage [V], ratio V_to/V_from [-],
output power [W])."""


def element_name(names: dict, kind: str, i: int) -> str:
    """How messages name element ``i`` of ``kind``: by its id and the label the caller gives the kind
    (``names["labels"]``, e.g. a case's table names), else by kind and index."""
    label = names.get("labels", {}).get(kind, kind)
    ids = names.get(kind)
    return f"{label} '{ids[i]}'" if ids is not None else f"{label} {i}"


def _arr(x, dtype=float):
    return np.atleast_1d(np.asarray(x, dtype=dtype))


@dataclass(frozen=True)
class DCGrid:
    """A DC grid's elements, SI, buses numbered 0 … n_bus−1. Build with :func:`dc_grid` (which checks it)."""

    v_nominal_v: np.ndarray
    line_from: np.ndarray
    line_to: np.ndarray
    line_r_ohm: np.ndarray
    feed_bus: np.ndarray
    feed_v_set_v: np.ndarray
    feed_k_w_per_v: np.ndarray  # 0: stiff
    terminal_bus: np.ndarray
    terminal_p_w: np.ndarray  # default set powers (positive into the DC bus)
    terminal_v_min_v: np.ndarray
    terminal_v_max_v: np.ndarray
    load_bus: np.ndarray
    load_p_w: np.ndarray  # default constant-power loads (positive drawn)
    conductance_bus: np.ndarray
    conductance_g_s: np.ndarray
    dcdc_from: np.ndarray
    dcdc_to: np.ndarray
    dcdc_control: np.ndarray  # codes of DCDC_CONTROLS
    dcdc_set: np.ndarray
    dcdc_a_w: np.ndarray
    dcdc_b_v: np.ndarray
    dcdc_c_ohm: np.ndarray
    names: dict = field(default_factory=dict)  # {"bus": ids, "terminal": ids, …} for messages

    @property
    def n_bus(self) -> int:
        return int(self.v_nominal_v.size)


def dc_grid(v_nominal_v, lines=(), feeds=(), terminals=(), loads=(), conductances=(), dcdc=(), names=None
            ) -> DCGrid:
    """Build and check a :class:`DCGrid` from plain rows (SI units, bus indices).

    ``lines``: (from, to, r_ohm); ``feeds``: (bus, v_set_v, k_w_per_v) with k = 0 for a stiff feed;
    ``terminals``: (bus, p_w, v_min_v, v_max_v) (±inf: no limit); ``loads``: (bus, p_w);
    ``conductances``: (bus, g_s); ``dcdc``: (from, to, control name, set, a_w, b_v, c_ohm). ``names``: the
    elements' ids by kind ("bus", "line", "feed", "terminal", "load", "conductance", "dcdc") and, under
    "labels", what messages call each kind (a case's table names).
    Bad input raises one :class:`~gigawatt.errors.CaseError` line naming the element and field.
    """
    names = dict(names or {})
    v_nom = _arr(v_nominal_v)
    n = v_nom.size

    def cols(rows, k):
        rows = list(rows)
        return [np.array([r[i] for r in rows]) for i in range(k)] if rows else [np.zeros(0)] * k

    lf, lt, lr = cols(lines, 3)
    fb, fv, fk = cols(feeds, 3)
    tb, tp, tmin, tmax = cols(terminals, 4)
    ldb, ldp = cols(loads, 2)
    gb, gg = cols(conductances, 2)
    df, dt, dc_name, dset, da, db, dcc = cols(dcdc, 7)
    code = np.array([DCDC_CONTROLS.get(str(c), -1) for c in dc_name], dtype=np.int64)

    def name(kind, i):
        return element_name(names, kind, i)

    def need(ok, kind, fld, values, allowed):
        bad = np.flatnonzero(~np.asarray(ok, dtype=bool))
        if bad.size:
            i = int(bad[0])
            raise CaseError("out of range", element=name(kind, i), field=fld, value=values[i], allowed=allowed)

    need(np.isfinite(v_nom) & (v_nom > 0), "bus", "v_nominal_v", v_nom, "(0, 1e6]")
    for kind, buses, fld in (("line", lf, "from_bus"), ("line", lt, "to_bus"), ("feed", fb, "bus"),
                             ("terminal", tb, "bus"), ("load", ldb, "bus"), ("conductance", gb, "bus"),
                             ("dcdc", df, "from_bus"), ("dcdc", dt, "to_bus")):
        need((buses >= 0) & (buses < n) & (buses == np.round(buses)), kind, fld, buses, f"a bus index 0…{n - 1}")
    need(np.isfinite(lr) & (lr > 0), "line", "r_ohm", lr, "(0, inf)")
    need(lf != lt, "line", "to_bus", lt, "a bus other than from_bus")
    need(np.isfinite(fv) & (fv > 0), "feed", "v_set_v", fv, "(0, inf)")
    need(np.isfinite(fk) & (fk >= 0), "feed", "k_w_per_v", fk, "[0, inf)")
    need(np.isfinite(tp), "terminal", "p_set_w", tp, "a finite power")
    need((tmin >= 0) & ~np.isnan(tmin), "terminal", "v_min_v", tmin, "[0, v_max_v)")
    need((tmax > tmin) & ~np.isnan(tmax), "terminal", "v_max_v", tmax, "(v_min_v, inf]")
    need(np.isfinite(ldp), "load", "p_w", ldp, "a finite power")
    need(np.isfinite(gg) & (gg >= 0), "conductance", "g_s", gg, "[0, inf)")
    need(code >= 0, "dcdc", "control", dc_name, "one of " + ", ".join(DCDC_CONTROLS))
    need(df != dt, "dcdc", "to_bus", dt, "a bus other than from_bus")
    need(np.isfinite(dset) & ((code == POWER) | (dset > 0)), "dcdc", "set", dset,
         "> 0 (an output voltage [V] or a ratio), or a finite power [W] under power control")
    for fld, vals in (("a_w", da), ("b_v", db), ("c_ohm", dcc)):
        need(np.isfinite(vals) & (vals >= 0), "dcdc", fld, vals, "[0, inf)")
    limited = np.isfinite(tmin) & (tmin > 0) | np.isfinite(tmax)
    lim_bus = tb[limited]
    if np.unique(lim_bus).size < lim_bus.size:
        i = int(np.flatnonzero(limited)[np.flatnonzero(np.bincount(lim_bus.astype(int))[lim_bus.astype(int)] > 1)[0]])
        raise CaseError("two terminals with voltage limits on one bus: only one of them can hold its voltage",
                        element=name("terminal", i), field="bus", value=tb[i], allowed="one limited terminal per bus")
    i64 = (lambda a: np.asarray(a, dtype=np.int64))
    return DCGrid(v_nom, i64(lf), i64(lt), lr.astype(float), i64(fb), fv.astype(float), fk.astype(float), i64(tb),
                  tp.astype(float), tmin.astype(float), tmax.astype(float), i64(ldb), ldp.astype(float), i64(gb),
                  gg.astype(float), i64(df), i64(dt), code, dset.astype(float), da.astype(float), db.astype(float),
                  dcc.astype(float), names)


@dataclass(frozen=True)
class DCGridResult:
    """One load flow (1-D arrays) or many steps (2-D, steps first). Powers [W], voltages [V], currents [A].

    Sign conventions: ``feed_p_w``, ``terminal_p_w``, ``dcdc_p_out_w`` delivered into the DC network at the
    element's (output) bus; ``dcdc_p_in_w`` drawn at the input (output plus loss); ``line_i_a`` from ``from``
    to ``to``; loads and losses positive.
    """

    v_v: np.ndarray
    line_i_a: np.ndarray
    line_loss_w: np.ndarray
    feed_p_w: np.ndarray
    terminal_p_w: np.ndarray
    terminal_mode: np.ndarray  # P_MODE, AT_V_MIN, AT_V_MAX (models.dc_elements)
    load_p_w: np.ndarray
    conductance_p_w: np.ndarray
    dcdc_p_out_w: np.ndarray
    dcdc_loss_w: np.ndarray
    dcdc_p_in_w: np.ndarray
    ledger_residual_w: np.ndarray  # delivered − (loads + conductances + line and converter losses)
    iterations: int


class DCGridSolver:
    """A :class:`DCGrid` prepared once: the matrix of each pattern of held buses is factorised on first use and
    kept, so repeated solves with new set powers and loads (a time series) only substitute.

    The grid is immutable and the cache is keyed by the pattern of held buses, so nothing here can go stale.
    """

    def __init__(self, grid: DCGrid, *, tolerance: float = 1e-12, max_iterations: int = 500):
        self.grid = grid
        self.tolerance = tolerance  # on the voltage update, relative to nominal
        self.max_iterations = max_iterations
        g = grid
        n = g.n_bus
        gl = 1.0 / g.line_r_ohm
        self._lines = sp.csr_matrix((np.r_[gl, gl, -gl, -gl], (np.r_[g.line_from, g.line_to, g.line_from, g.line_to],
                                    np.r_[g.line_from, g.line_to, g.line_to, g.line_from])), shape=(n, n))
        self._g_cond = np.bincount(g.conductance_bus, weights=g.conductance_g_s, minlength=n)
        droop = g.feed_k_w_per_v > 0
        self._g_droop = np.bincount(g.feed_bus[droop], weights=(g.feed_k_w_per_v / g.feed_v_set_v)[droop],
                                    minlength=n)
        self._k_bus = np.bincount(g.feed_bus, weights=g.feed_k_w_per_v, minlength=n)
        self._kv_bus = np.bincount(g.feed_bus, weights=g.feed_k_w_per_v * g.feed_v_set_v, minlength=n)
        self._a_iter = (self._lines + sp.diags(self._g_cond + self._g_droop)).tocsr()
        # Bus incidence of terminals and loads: their currents are summed per bus by one sparse product.
        self._s_term = sp.csr_matrix((np.ones(g.terminal_bus.size), (g.terminal_bus, np.arange(g.terminal_bus.size))),
                                     shape=(n, g.terminal_bus.size))
        self._s_load = sp.csr_matrix((np.ones(g.load_bus.size), (g.load_bus, np.arange(g.load_bus.size))),
                                     shape=(n, g.load_bus.size))
        self._held_base, self._v_base = self._held_by_feeds_and_converters()
        self._order = self._converter_order()
        self._ratio_from = [np.flatnonzero((g.dcdc_control == RATIO) & (g.dcdc_from == b)) for b in range(n)]
        rat = np.flatnonzero(g.dcdc_control == RATIO)
        self._s_ratio = sp.csr_matrix((g.dcdc_set[rat], (g.dcdc_from[rat], rat)), shape=(n, g.dcdc_from.size))
        self._check_grounded()
        self._patterns: dict = {}
        self.factorisations = 0  # how many patterns were factorised (tests and benchmarks read it)

    # --- topology ------------------------------------------------------------------------------------
    def _name(self, kind, i):
        return element_name(self.grid.names, kind, i)

    def _held_by_feeds_and_converters(self):
        """Buses the stiff feeds and the voltage-controlled converters hold, and their voltages [V]."""
        g = self.grid
        held = np.zeros(g.n_bus, dtype=bool)
        v = np.full(g.n_bus, np.nan)
        for j in np.flatnonzero(g.feed_k_w_per_v == 0):
            b, vs = g.feed_bus[j], g.feed_v_set_v[j]
            if held[b] and abs(v[b] - vs) > 1e-12 * vs:
                raise CaseError("two stiff feeds hold the same bus at different voltages",
                                element=self._name("feed", j),
                                field="v_set_v", value=vs, allowed=f"{v[b]} V (the other feed's set-point)")
            held[b], v[b] = True, vs
        for j in np.flatnonzero(g.dcdc_control != POWER):
            b = g.dcdc_to[j]
            if held[b]:
                raise CaseError("the output of a voltage- or ratio-controlled converter is also held by another "
                                "element",
                                element=self._name("dcdc", j), field="to_bus", value=b,
                                allowed="an output bus no feed or other voltage- or ratio-controlled converter holds")
            held[b] = True
            v[b] = g.dcdc_set[j] if g.dcdc_control[j] == VOLTAGE else np.nan
        ratio_out = g.dcdc_to[g.dcdc_control == RATIO]
        held[ratio_out] = False  # tied to their inputs, not held
        return held, v

    def _converter_order(self):
        """Voltage- and ratio-controlled converters, each after those fed from its output bus (their draws
        enter its output's balance); a loop of them is a CaseError."""
        g = self.grid
        todo = [int(j) for j in np.flatnonzero(g.dcdc_control != POWER)]
        order: list = []
        while todo:
            ready = [j for j in todo if not any(g.dcdc_from[k] == g.dcdc_to[j] for k in todo if k != j)]
            if not ready:
                raise CaseError("voltage- or ratio-controlled converters form a loop (each feeds the next back to the "
                                "first)", element=self._name("dcdc", todo[0]), field="to_bus")
            order += ready
            todo = [j for j in todo if j not in ready]
        return order

    def _check_grounded(self):
        """Every connected part (lines and converters) needs a feed, a voltage-controlled converter output or
        a conductance; else its voltage is undefined."""
        from scipy.sparse.csgraph import connected_components
        g = self.grid
        rat = g.dcdc_control == RATIO
        a = np.r_[g.line_from, g.dcdc_from[rat]]
        b = np.r_[g.line_to, g.dcdc_to[rat]]
        graph = sp.csr_matrix((np.ones(a.size), (a, b)), shape=(g.n_bus, g.n_bus))
        n_c, lab = connected_components(graph, directed=False)
        ok = np.zeros(n_c, dtype=bool)
        anchored = self._held_base | (self._g_droop > 0) | (self._g_cond > 0)
        ok[lab[anchored]] = True
        if not ok.all():
            bus = int(np.flatnonzero(~ok[lab])[0])
            raise CaseError("a part of the DC grid has nothing that sets its voltage (no feed, voltage-controlled "
                            "converter output or conductance)", element=self._name("bus", bus),
                            allowed="every connected part with a feed or a voltage-controlled converter output")

    def _pattern(self, key: bytes):
        """``T``, ``v_c``, the held mask and the factorised ``Tᵀ A T`` of one pattern of terminal modes (``key``:
        the modes as int8 bytes), cached."""
        hit = self._patterns.get(key)
        if hit is not None:
            return hit
        g = self.grid
        n = g.n_bus
        modes = np.frombuffer(key, dtype=np.int8)
        held, const = self._held_base.copy(), np.where(self._held_base, self._v_base, 0.0)
        lim = np.flatnonzero(modes != P_MODE)
        held[g.terminal_bus[lim]] = True
        const[g.terminal_bus[lim]] = np.where(modes[lim] == AT_V_MAX, g.terminal_v_max_v[lim], g.terminal_v_min_v[lim])
        # Each bus is held (a constant), a column of x, or n × the bus feeding it through a ratio converter.
        parent = np.full(n, -1, dtype=np.int64)
        ratio = np.ones(n)
        rat = g.dcdc_control == RATIO
        parent[g.dcdc_to[rat]] = g.dcdc_from[rat]
        ratio[g.dcdc_to[rat]] = g.dcdc_set[rat]
        free = ~held & (parent < 0)
        master = np.where(free, np.cumsum(free) - 1, -1)
        scale = free.astype(float)
        resolved = held | free
        while not resolved.all():
            t = np.flatnonzero(~resolved)
            t = t[resolved[parent[t]]]
            u = parent[t]
            master[t], scale[t], const[t] = master[u], ratio[t] * scale[u], ratio[t] * const[u]
            resolved[t] = True
        m = int(free.sum())
        rows = np.flatnonzero(master >= 0)
        T = sp.csr_matrix((scale[rows], (rows, master[rows])), shape=(n, m))
        M = (T.T @ self._a_iter @ T).tocsc()
        if m and n <= DENSE_MAX_BUSES:
            # Small grids: V = W (r − A v_c) + v_c, W = T (TᵀAT)⁻¹ Tᵀ dense: one matrix product an iteration
            # for all steps (the factorisation is LAPACK's, once per pattern).
            lu = ("dense", T @ np.linalg.solve(M.toarray(), T.T.toarray()))
        else:
            lu = ("sparse", spla.splu(M)) if m else None
        self.factorisations += 1
        hit = (T, const, lu, ~(master >= 0))
        self._patterns[key] = hit
        return hit

    # --- the balance of every element at V ------------------------------------------------------------
    def _currents(self, v, p_term, p_load, modes):
        """Injection currents r(V) [A] (buses × steps) of the constant-power elements, the droops' remainder
        and the converters, with the converters' output powers [W], losses [W] and output currents [A]."""
        g = self.grid
        r = np.zeros_like(v)
        if g.terminal_bus.size:
            r += self._s_term @ (np.where(modes == P_MODE, p_term, 0.0) / v[g.terminal_bus])
        if g.load_bus.size:
            r -= self._s_load @ (p_load / v[g.load_bus])
        # Droop: P/V = k v_set/V − k exactly; the iteration matrix carries (k/v_set)·V, added back here.
        d = np.flatnonzero(self._k_bus)
        if d.size:
            r[d] += self._kv_bus[d, None] / v[d] - self._k_bus[d, None] + self._g_droop[d, None] * v[d]
        nd = g.dcdc_from.size
        p_out = np.zeros((nd, v.shape[1]))
        loss = np.zeros_like(p_out)
        i_out = np.zeros_like(p_out)

        def draw(j):
            i_out[j] = p_out[j] / v[g.dcdc_to[j]]
            loss[j] = g.dcdc_a_w[j] + g.dcdc_b_v[j] * np.abs(i_out[j]) + g.dcdc_c_ohm[j] * i_out[j] ** 2
            # A ratio converter's ideal part is carried by Tᵀ; only its loss is drawn at the input here.
            r[g.dcdc_from[j]] -= (loss[j] if g.dcdc_control[j] == RATIO else p_out[j] + loss[j]) / v[g.dcdc_from[j]]

        for j in np.flatnonzero(g.dcdc_control == POWER):
            p_out[j] = g.dcdc_set[j]
            r[g.dcdc_to[j]] += p_out[j] / v[g.dcdc_to[j]]
            draw(j)
        lines_v = self._lines @ v + (self._g_cond + self._g_droop)[:, None] * v
        for j in self._order:  # fed-from-its-output converters first
            b = g.dcdc_to[j]
            p_out[j] = (lines_v[b] - r[b] + self._ratio_draw(b, i_out)) * v[b]
            draw(j)
        return r, p_out, loss, i_out, lines_v

    def _held_need(self, r, i_out, lines_v, buses):
        """Current [A] the element holding each of ``buses`` must inject: into the lines and conductances,
        beyond the bus's other injections, plus the ideal inputs of the ratio converters fed from it."""
        need = lines_v[buses] - r[buses]
        if self._s_ratio.nnz:
            need += (self._s_ratio @ i_out)[buses]
        return need

    def _ratio_draw(self, b, i_out):
        """Ideal input current [A] the ratio converters fed from bus b draw there: Σ n_k · I_out,k."""
        k = self._ratio_from[b]
        return (self.grid.dcdc_set[k, None] * i_out[k]).sum(axis=0) if k.size else 0.0

    def _iterate(self, key, p_term, p_load, v):
        T, const, lu, tied = self._pattern(key)
        g = self.grid
        modes = np.frombuffer(key, dtype=np.int8).reshape(-1, 1)
        held = np.flatnonzero(tied & (const > 0))
        v = v.copy()
        v[held] = const[held, None]
        cst = (self._a_iter @ const)[:, None]
        tol = self.tolerance * g.v_nominal_v[:, None]
        if lu is None:
            return v, 1, True
        last, growing = np.inf, 0
        for it in range(1, self.max_iterations + 1):
            r = self._currents(v, p_term, p_load, modes)[0]
            r -= cst
            if lu[0] == "dense":
                new = lu[1] @ r
            else:
                new = T @ lu[1].solve(np.asarray(T.T @ r))
            new += const[:, None]
            if not np.all(np.isfinite(new) & (new > 0)):
                return v, it, False
            step = float(np.max(np.abs(new - v) / tol))
            v = new
            # Linear convergence at the rate rho = step/last: what is left is about step·rho/(1 − rho).
            rho = min(step / last, 0.999) if last > 0 else 0.0
            if step * (1.0 + rho / (1.0 - rho)) <= 1.0:
                return v, it, True
            growing = growing + 1 if step > last else 0
            if growing >= 8:  # diverging: beyond the nose of some bus's P–V curve
                return v, it, False
            last = step
        return v, self.max_iterations, False

    def _no_solution(self, v):
        g = self.grid
        worst = int(np.argmax(np.nanmax(np.abs(v - g.v_nominal_v[:, None]) / g.v_nominal_v[:, None], axis=1)))
        return ConvergenceError(
            f"DC grid load flow: no solution in {self.max_iterations} substitutions; {self._name('bus', worst)} "
            f"strays furthest from nominal: the loads or set powers there are near or beyond what its lines can "
            f"carry (the nose of the P–V curve)", partial={"v_v": v}, details={"bus": worst})

    # --- public --------------------------------------------------------------------------------------
    def solve(self, terminal_p_w=None, load_p_w=None, *, start: DCGridResult | None = None) -> DCGridResult:
        """Solve with set powers ``terminal_p_w`` [W] (per terminal, or steps × terminals) and constant-power
        loads ``load_p_w`` [W] (per load, or steps × loads); defaults: the grid's own. 2-D input returns 2-D
        results (steps first); all steps are solved together, grouped by which terminals sit at a limit.

        ``start``: a one-step result of this solver (the previous step of a step-by-step study) whose voltages
        and terminal modes start a one-step solve (fewer substitutions and mode passes; same answer)."""
        g = self.grid
        one = np.ndim(terminal_p_w) < 2 and np.ndim(load_p_w) < 2
        pt = np.atleast_2d(g.terminal_p_w if terminal_p_w is None else np.asarray(terminal_p_w, float)).T
        pl = np.atleast_2d(g.load_p_w if load_p_w is None else np.asarray(load_p_w, float)).T
        n_steps = max(pt.shape[1], pl.shape[1])
        pt = np.broadcast_to(pt, (g.terminal_bus.size, n_steps))
        pl = np.broadcast_to(pl, (g.load_bus.size, n_steps))
        if one:
            return self._block(pt, pl, True, start)
        # Blocks of steps small enough for the working arrays to stay in cache. BLAS runs on one thread here:
        # its threads buy at most the core count on these small products and, on a machine shared with other
        # work, spin-wait for each other (measured 30× slower on a loaded 2-core machine); threadpoolctl is the
        # maintained way to say so for whichever BLAS numpy loaded.
        from threadpoolctl import threadpool_limits

        block = max(1, STEP_BLOCK_VALUES // max(g.n_bus, 1))
        with threadpool_limits(limits=1, user_api="blas"):
            parts = [self._block(pt[:, a:a + block], pl[:, a:a + block], False) for a in range(0, n_steps, block)]
        return DCGridResult(*[np.concatenate([getattr(r, f) for r in parts]) if f != "iterations"
                              else max(r.iterations for r in parts) for f in DCGridResult.__dataclass_fields__])

    def _block(self, pt, pl, one, start=None):
        """Solve the steps (columns) of ``pt``, ``pl`` together (``start``: see :meth:`solve`)."""
        g = self.grid
        n_steps = pt.shape[1]
        if start is not None and np.ndim(start.v_v) == 1 and start.v_v.size == g.n_bus:
            v = np.array(start.v_v, dtype=float)[:, None]
            modes = np.array(start.terminal_mode, dtype=np.int8)[:, None]
        else:
            v = np.where(np.isfinite(self._v_base), self._v_base, g.v_nominal_v)[:, None] * np.ones(n_steps)
            modes = np.zeros((g.terminal_bus.size, n_steps), dtype=np.int8)
        # A terminal on a held bus, or on a ratio converter's output (tied to its input), never reaches its limits.
        tied = np.zeros(g.n_bus, dtype=bool)
        tied[g.dcdc_to[g.dcdc_control == RATIO]] = True
        switchable = ~(self._held_base | tied)[g.terminal_bus]
        iterations = 0
        todo = np.arange(n_steps)  # steps whose terminal modes changed since they were last solved
        for _ in range(2 * g.terminal_bus.size + 2):
            sub_modes = modes[:, todo]
            if sub_modes.any():
                patterns, which = np.unique(sub_modes.T, axis=0, return_inverse=True)
                which = which.ravel()
            else:  # every terminal at its set power (the common case): one pattern, no sorting
                patterns, which = sub_modes[:, :1].T, np.zeros(todo.size, np.int64)
            failed = []
            for k, pattern in enumerate(patterns):
                key = np.ascontiguousarray(pattern, dtype=np.int8).tobytes()
                cols = todo[which == k] if len(patterns) > 1 else todo
                vc, its, ok = self._iterate(key, pt[:, cols], pl[:, cols], v[:, cols])
                iterations = max(iterations, its)
                if ok:
                    v[:, cols] = vc
                else:  # no solution holding these set powers: the terminals past a limit move to it
                    failed.append((cols, vc))
            if failed:
                for cols, vc in failed:
                    vb = vc[g.terminal_bus]
                    sub = modes[:, cols]
                    lo = (sub == P_MODE) & switchable[:, None] & (vb < g.terminal_v_min_v[:, None])
                    hi = (sub == P_MODE) & switchable[:, None] & (vb > g.terminal_v_max_v[:, None])
                    if not (lo | hi).any():
                        raise self._no_solution(vc)
                    sub[lo], sub[hi] = AT_V_MIN, AT_V_MAX
                    modes[:, cols] = sub
                todo = np.unique(np.concatenate([c for c, _ in failed]))
                continue
            new = self._next_modes(v[:, todo], pt[:, todo], pl[:, todo], modes[:, todo], switchable)
            if new is None:
                return self._result(v, pt, pl, modes, iterations, one)
            changed = np.any(new != modes[:, todo], axis=0)
            modes[:, todo] = new
            todo = todo[changed]
        raise ConvergenceError("DC grid load flow: the terminals keep switching between their set power and their "
                               "voltage limits (no consistent set of held buses)")

    def _terminal_powers(self, v, pt, pl, modes):
        """Power [W] each terminal delivers: its set power, or at a limit what its held bus needs; and the
        element balances behind it."""
        g = self.grid
        r, p_out, loss, i_out, lines_v = self._currents(v, pt, pl, modes)
        b = g.terminal_bus
        need = self._held_need(r, i_out, lines_v, b)
        return np.where(modes == P_MODE, pt, need * v[b]), (r, p_out, loss, i_out, lines_v)

    def _next_modes(self, v, pt, pl, modes, switchable):
        """Terminal modes after one active-set pass, or None if every terminal is consistent."""
        g = self.grid
        if not g.terminal_bus.size:
            return None
        vb = v[g.terminal_bus]
        p, _ = self._terminal_powers(v, pt, pl, modes)
        tol = 1e-9 * g.v_nominal_v[g.terminal_bus][:, None]
        ptol = 1e-9 * np.maximum(np.abs(pt), 1.0)
        new = modes.copy()
        setp = modes == P_MODE
        new[setp & (vb > g.terminal_v_max_v[:, None] + tol)] = AT_V_MAX
        new[setp & (vb < g.terminal_v_min_v[:, None] - tol)] = AT_V_MIN
        new[(modes == AT_V_MAX) & (p > pt + ptol)] = P_MODE
        new[(modes == AT_V_MIN) & (p < pt - ptol)] = P_MODE
        new[~switchable] = P_MODE
        return None if np.array_equal(new, modes) else new

    def _result(self, v, pt, pl, modes, iterations, one):
        g = self.grid
        p_term, (r, p_out, loss, i_out, lines_v) = self._terminal_powers(v, pt, pl, modes)
        # Droop feeds by their law; the first stiff feed on a bus delivers what the bus needs beyond the rest.
        p_feed = g.feed_k_w_per_v[:, None] * (g.feed_v_set_v[:, None] - v[g.feed_bus])
        seen = set()
        for j in np.flatnonzero(g.feed_k_w_per_v == 0):
            b = int(g.feed_bus[j])
            if b not in seen:
                seen.add(b)
                p_feed[j] = (lines_v[b] - r[b] + self._ratio_draw(b, i_out)) * v[b]
        i_line = (v[g.line_from] - v[g.line_to]) / g.line_r_ohm[:, None]
        line_loss = i_line * (v[g.line_from] - v[g.line_to])
        p_cond = conductance_load_w(g.conductance_g_s[:, None], v[g.conductance_bus])
        delivered = p_feed.sum(0) + p_term.sum(0)
        consumed = pl.sum(0) + p_cond.sum(0) + line_loss.sum(0) + loss.sum(0)
        out = (lambda a: a[..., 0]) if one else (lambda a: np.ascontiguousarray(np.asarray(a).T))
        return DCGridResult(out(v), out(i_line), out(line_loss), out(p_feed), out(p_term), out(modes),
                            out(np.asarray(pl, float)), out(p_cond), out(p_out), out(loss), out(p_out + loss),
                            out(delivered - consumed), iterations)
