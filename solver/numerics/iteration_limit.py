"""Telling an iteration cap that was too small from a load flow that has no solution.

A Newton load flow that stops at ``solver.max_iterations`` has either met a load beyond the nose of its P–V
curve (no solution: the nose bisection then finds the largest load it carries) or simply needed more
iterations. The two are told apart by solving the same problem again under :func:`nose_iteration_cap`
iterations: if it converges, the cap was the cause, and :func:`iteration_limit_error` says so (with the
mismatch left and the iterations it needed); if not, the nose bisection runs under that same cap, never
under the user's, so that a small ``max_iterations`` cannot shrink the reported maximum transferable power.
"""
from __future__ import annotations

from gigawatt.errors import ConvergenceError

NOSE_MAX_ITERATIONS = 100
"""Newton iterations allowed to each trial of the nose bisection and to the retry that tells an iteration cap
from a collapse, whatever ``solver.max_iterations`` (which only raises it). Damped Newton from the flat start
converges in at most 18 iterations on the one-line feeder at every load up to within 1e-7 of its nose
(measured), and a bisection trial starts from the last converged, nearby, solution."""


def nose_iteration_cap(settings: dict) -> int:
    """Iterations for the nose bisection and the retry: :data:`NOSE_MAX_ITERATIONS`, or the user's cap if
    larger."""
    return max(int(settings["max_iterations"]), NOSE_MAX_ITERATIONS)


def iteration_limit_error(what: str, max_iterations: int, mismatch_a: float, where: str, needed: int,
                          details: dict | None = None, unit: str = "A") -> ConvergenceError:
    """The error of a load flow that stopped at its iteration cap but converges with more iterations.

    ``what``: the network (``"DC load flow of the 800 V network fed by 'st'"``); ``mismatch_a``: the largest
    mismatch left [``unit``], ``where`` a phrase that follows it (``" at bus 'b7'"``); ``needed``: the iterations
    the same solve took to converge.
    """
    msg = (f"{what}: the iteration limit was reached ({max_iterations} iterations, solver.max_iterations) with a "
           f"largest mismatch of {mismatch_a:.3g} {unit}{where}; the same load flow converges in {needed} "
           f"iterations: raise solver.max_iterations to at least {needed}.")
    return ConvergenceError(msg, details={**(details or {}), "reason": "iteration_limit",
                                          "max_iterations": int(max_iterations), "iterations_needed": int(needed),
                                          f"mismatch_{unit.lower()}": float(mismatch_a)})
