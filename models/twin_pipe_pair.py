r"""A twin pipe carrying water: the supply and the return in one casing, the exact steady temperatures along it.

With the conductances per metre of :func:`gigawatt.models.pipe_heat.twin_pipe_conductances` (each pipe to the
ground :math:`U'_g`, between the pipes :math:`U'_x`), and :math:`\theta_i = T_i - T_g` the excess over the
undisturbed ground, the first law of a slice dx of each pipe, its water moving along +x (pipe 1) and along
:math:`s\,x` (pipe 2; s = +1 parallel flow, s = -1 counter-flow, the usual supply/return pair), is

.. math::
    C_1\, \frac{d\theta_1}{dx} = -U'_g \theta_1 - U'_x (\theta_1 - \theta_2),\qquad
    s\, C_2\, \frac{d\theta_2}{dx} = -U'_g \theta_2 - U'_x (\theta_2 - \theta_1)

with :math:`C_i = |\dot m_i| c_{p,i}` [W/K]: a linear system :math:`\theta' = M \theta`, whose solution is a sum
of two exponentials :math:`\theta(x) = \sum_k c_k v_k e^{\lambda_k (x - x_k)}` over the eigenpairs
:math:`(\lambda_k, v_k)` of M. The eigenvalues are real and distinct: the discriminant
:math:`(M_{11} - M_{22})^2 + 4 M_{12} M_{21}` is a sum of squares for parallel flow, and for counter-flow
:math:`(U'_g + U'_x)^2 (1/C_1 + 1/C_2)^2 - 4 U'^2_x/(C_1 C_2) \ge 4 U'_g (U'_g + 2 U'_x)/(C_1 C_2) > 0`. Each
exponential is referred to the end where it is largest (:math:`x_k = 0` for :math:`\lambda_k \le 0`, L
otherwise), so no term overflows however long the pipe; the two coefficients :math:`c_k` follow from the two
inlet temperatures (pipe 1's at x = 0, pipe 2's at x = 0 or L), a 2 × 2 system. The heat flows are the
integrals of the exponentials in closed form (``expm1``):

.. math:: Q_{g,i} = U'_g \int_0^L \theta_i\,dx,\qquad Q_x = U'_x \int_0^L (\theta_1 - \theta_2)\,dx

and the first law of each pipe, :math:`C_1 (\theta_{1,in} - \theta_{1,out}) = Q_{g,1} + Q_x`,
:math:`C_2 (\theta_{2,in} - \theta_{2,out}) = Q_{g,2} - Q_x`, holds to round-off.

Special cases, exact too: no exchange (:math:`U'_x = 0`: two single pipes, Incropera eq. 8.46a); one pipe
without flow (its water, in steady state, at :math:`\theta = U'_x \theta_{other} / (U'_g + U'_x)` beside the
other, which then loses to the ground through :math:`U'_g + U'_g U'_x / (U'_g + U'_x)`); no ground loss with
counter-flow (:math:`U'_g = 0`, one eigenvalue 0: the counter-flow heat exchanger of Incropera Table 11.3; the
balanced case :math:`C_1 = C_2` is its linear-profile limit).

A scalar ``numba.njit(cache=True)`` function, written once: the district-heating network calls it per twin
pair (:mod:`gigawatt.solver.district_heating.twin`); with ``NUMBA_DISABLE_JIT=1`` the same source runs as
Python.

References
----------
.. [1] P. Wallentén, "Steady-state heat loss from insulated pipes", Lund Institute of Technology, Report
   TVBH-3017 (1991) (the twin pipe's symmetric and antisymmetric heat-loss factors).
.. [2] F. P. Incropera, D. P. DeWitt, T. L. Bergman, A. S. Lavine, Fundamentals of Heat and Mass Transfer,
   7th ed., Wiley 2011: eq. 8.46a (one pipe at a constant surrounding temperature); section 11.4 and Table
   11.3, eq. 11.29a (effectiveness of a counter-flow heat exchanger).
"""
from __future__ import annotations

import math

from numba import njit


@njit(cache=True)
def _mean_exp(z):
    """(e^z − 1)/z, the mean of e^(z t) over t in [0, 1]; 1 at z = 0."""
    if abs(z) < 1e-8:
        return 1.0 + 0.5 * z
    return math.expm1(z) / z


@njit(cache=True)
def _stagnant_partner(theta_in, c, u_g, u_x, length):
    """One pipe with flow (capacity c [W/K]) beside a partner whose water stands: (outlet excess [K], ground loss
    of the flowing pipe [W], exchange to the partner [W], mean excess of the flowing pipe [K])."""
    u_sum = u_g + u_x
    if u_sum == 0.0:
        return theta_in, 0.0, 0.0, theta_in
    u_eff = u_g + u_g * u_x / u_sum
    z = -u_eff * length / c
    theta_out = theta_in * math.exp(z)
    mean = theta_in * _mean_exp(z)
    return theta_out, u_g * mean * length, u_g * u_x / u_sum * mean * length, mean


@njit(cache=True)
def twin_pipe_pair(theta1_in_k, theta2_in_k, c1_w_per_k, c2_w_per_k, counter_flow, u_ground_w_per_m_k,
                   u_exchange_w_per_m_k, length_m):
    r"""Outlet temperatures and heat flows of a twin pipe in steady state, exact (module notes).

    Parameters
    ----------
    theta1_in_k, theta2_in_k : float
        Inlet temperature of each pipe less the undisturbed ground's [K] (pipe 1's water enters at x = 0, pipe
        2's at x = 0 with parallel flow, at x = L with counter-flow).
    c1_w_per_k, c2_w_per_k : float
        Capacity rate of each pipe's water, :math:`|\dot m| c_p` [W/K], >= 0 (0: the water stands).
    counter_flow : bool
        Whether pipe 2's water runs against pipe 1's.
    u_ground_w_per_m_k : float
        Conductance per metre from each pipe to the ground surface, :math:`U'_g = 2\pi\lambda_i h_s` [W/(m K)],
        >= 0 (:func:`gigawatt.models.pipe_heat.twin_pipe_conductances`).
    u_exchange_w_per_m_k : float
        Conductance per metre between the two pipes, :math:`U'_x = \pi\lambda_i (h_a - h_s)` [W/(m K)], >= 0.
    length_m : float
        Length of the casing [m], >= 0.

    Returns
    -------
    tuple of float
        ``(theta1_out [K], theta2_out [K], q_ground1 [W], q_ground2 [W], q_exchange [W])``: outlet excess
        temperatures (0, the ground's, for a pipe whose water stands), the heat each pipe gives the ground, and
        the heat pipe 1 gives pipe 2 (< 0 when pipe 2 is the warmer).

    Notes
    -----
    Validity: steady state; constant conductances, heat capacities and ground temperature along the casing;
    no axial conduction. The balanced counter-flow pipe with no ground loss (:math:`U'_g = 0`,
    :math:`C_1 = C_2`, a double eigenvalue 0) is its linear-profile limit. Sources: the conductances from
    Wallentén [1]_; the solution of the linear system as in Incropera [2]_ (8.46a, 11.29a are its limits).

    Examples
    --------
    A counter-flow heat exchanger (no ground loss), C_2/C_1 = 0.5, NTU = U'_x L / C_min = 1: effectiveness
    (1 − e^{−0.5})/(1 − 0.5 e^{−0.5}) = 0.5647 (Incropera [2]_ eq. 11.29a), so the colder water warms by
    0.5647 × 60 K:

    >>> round(twin_pipe_pair(60.0, 0.0, 2000.0, 1000.0, True, 0.0, 10.0, 100.0)[1], 4)
    33.8843
    """
    u_g, u_x, L = u_ground_w_per_m_k, u_exchange_w_per_m_k, length_m
    if c1_w_per_k <= 0.0 and c2_w_per_k <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    if c2_w_per_k <= 0.0:
        out, qg, qx, _ = _stagnant_partner(theta1_in_k, c1_w_per_k, u_g, u_x, L)
        return out, 0.0, qg, qx, qx
    if c1_w_per_k <= 0.0:
        out, qg, qx, _ = _stagnant_partner(theta2_in_k, c2_w_per_k, u_g, u_x, L)
        return 0.0, out, qx, qg, -qx
    if u_x == 0.0 or L == 0.0:
        z1, z2 = -u_g * L / c1_w_per_k, -u_g * L / c2_w_per_k
        return (theta1_in_k * math.exp(z1), theta2_in_k * math.exp(z2), u_g * theta1_in_k * _mean_exp(z1) * L,
                u_g * theta2_in_k * _mean_exp(z2) * L, 0.0)
    s = -1.0 if counter_flow else 1.0
    a = -(u_g + u_x) / c1_w_per_k
    b = u_x / c1_w_per_k
    c = s * u_x / c2_w_per_k
    d = -s * (u_g + u_x) / c2_w_per_k
    half_tr = 0.5 * (a + d)
    root = math.sqrt(max(0.25 * (a - d) * (a - d) + b * c, 0.0))
    if root <= 1e-12 * (abs(a) + abs(d)):
        # balanced counter-flow without ground loss: theta' = M theta with M nilpotent, linear profiles
        ntu = u_x * L / c1_w_per_k
        t1 = (theta1_in_k + ntu * theta2_in_k) / (1.0 + ntu)
        t2_out = (theta2_in_k + ntu * theta1_in_k) / (1.0 + ntu)
        q = c1_w_per_k * (theta1_in_k - t1)
        return t1, t2_out, 0.0, 0.0, q
    # the eigenvalue of larger magnitude directly, the other from the determinant (no cancellation when the
    # two pipes' flows differ by orders of magnitude); det = ad - bc written out
    big = half_tr + math.copysign(root, half_tr)
    small = s * u_g * (u_g + 2.0 * u_x) / (c1_w_per_k * c2_w_per_k) / big
    lam = (min(small, big), max(small, big))
    # eigenvectors (b, lambda - a), with lambda - a = bc / (lambda - d) where that is the better conditioned;
    # each exponential referred to the end where it is largest
    w = [0.0, 0.0]
    for k in range(2):
        w[k] = lam[k] - a
        if abs(w[k]) < abs(lam[k] - d):
            w[k] = b * c / (lam[k] - d)
    v1 = (w[0], w[1])
    x_ref = (0.0 if lam[0] <= 0.0 else L, 0.0 if lam[1] <= 0.0 else L)
    x2_in, x2_out = (L, 0.0) if counter_flow else (0.0, L)

    def e(k, x):
        return math.exp(lam[k] * (x - x_ref[k]))

    # A c = (theta1_in, theta2_in): rows pipe 1 at x = 0, pipe 2 at its inlet
    a11, a12 = b * e(0, 0.0), b * e(1, 0.0)
    a21, a22 = v1[0] * e(0, x2_in), v1[1] * e(1, x2_in)
    det = a11 * a22 - a12 * a21
    k0 = (theta1_in_k * a22 - a12 * theta2_in_k) / det
    k1 = (a11 * theta2_in_k - a21 * theta1_in_k) / det
    theta1_out = k0 * b * e(0, L) + k1 * b * e(1, L)
    theta2_out = k0 * v1[0] * e(0, x2_out) + k1 * v1[1] * e(1, x2_out)
    i0 = L * _mean_exp(-abs(lam[0]) * L)
    i1 = L * _mean_exp(-abs(lam[1]) * L)
    int1 = k0 * b * i0 + k1 * b * i1
    int2 = k0 * v1[0] * i0 + k1 * v1[1] * i1
    return theta1_out, theta2_out, u_g * int1, u_g * int2, u_x * (int1 - int2)
