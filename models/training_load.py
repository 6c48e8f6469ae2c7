r"""IT load of a synchronous AI training job at a fine time step (down to 10 ms): compute and communication
phases each iteration, checkpoint pauses, and the ramps at the job's start and stop.

The load is a fraction of the racks' IT power [1] at each step's start time t [s] (each step holds it to the
next; an edge inside a step falls on the next step's start):

* iterations of ``period_s``: the first ``duty``·period at ``high`` (compute), the rest at ``high − depth``
  (communication: all-reduce, the GPUs wait on the network);
* every ``checkpoint_every_s`` (0: never), the last ``checkpoint_s`` of that interval at ``checkpoint_level``
  (the job writes its state; GPUs near idle);
* before ``start_s`` at ``idle``, then a linear ramp to the pattern over ``ramp_s``; after ``stop_s`` a
  linear ramp from the pattern's level back to ``idle`` over ``ramp_s`` (NVIDIA's GB300 NVL72 smoothing
  ramps the GPUs' power at the job's start and end for the same reason).

This pattern is the one described, with production traces, by Choukse et al., "Power Stabilization for AI
Training Datacenters", arXiv:2508.14318 (2025) (synchronous compute/communication phases every iteration, the
swing's depth growing with the job, checkpoints) and NVIDIA, "How New GB300 NVL72 Features Provide Steady
Power for AI", NVIDIA Technical Blog (2025). The numbers a case gives are its own assumptions; the defaults of
``cases/schema.csv`` (table ``swing``) are illustrative, not measurements.
"""
from __future__ import annotations

import numpy as np


def training_swing(t_s, *, period_s: float, duty: float, high: float, depth: float, checkpoint_every_s: float = 0.0,
                   checkpoint_s: float = 0.0, checkpoint_level: float = 0.2, start_s: float = 0.0,
                   stop_s: float = np.inf, ramp_s: float = 0.0, idle: float = 0.1):
    """IT-load fraction [1] of a synchronous training job at times ``t_s`` [s] (see the module notes).

    Parameters
    ----------
    t_s : array
        Times from the series' start [s].
    period_s : float
        Iteration period [s] (> 0).
    duty : float
        Compute share of an iteration [1], in (0, 1].
    high, depth : float
        Compute level and the drop to the communication level [1] (0 ≤ depth ≤ high).
    checkpoint_every_s, checkpoint_s, checkpoint_level : float
        Checkpoint interval [s] (0: none), pause [s] (< interval) and its level [1].
    start_s, stop_s, ramp_s, idle : float
        Job start and stop [s], the ramp length [s] at each, and the level outside the job [1].

    Returns
    -------
    numpy.ndarray
        The fraction of the racks' IT power [1], same shape as ``t_s``.

    References
    ----------
    .. [1] E. Choukse et al., "Power Stabilization for AI Training Datacenters", arXiv:2508.14318, 2025.
    """
    t = np.asarray(t_s, dtype=float)
    # phase within the iteration, on a grid of the time stamps: a relative tolerance keeps t = n·period exact
    phase = np.mod(t, period_s)
    phase = np.where(np.isclose(phase, period_s, rtol=0, atol=1e-9 * max(period_s, 1.0)), 0.0, phase)
    job = np.where(phase < duty * period_s - 1e-9 * period_s, high, high - depth)
    if checkpoint_every_s > 0 and checkpoint_s > 0:
        c = np.mod(t, checkpoint_every_s)
        job = np.where(c >= checkpoint_every_s - checkpoint_s - 1e-9 * checkpoint_every_s, checkpoint_level, job)
    if ramp_s > 0:
        up = np.clip((t - start_s) / ramp_s, 0.0, 1.0)
        down = np.clip((t - stop_s) / ramp_s, 0.0, 1.0)
    else:
        up, down = (t >= start_s).astype(float), (t >= stop_s).astype(float)
    weight = up * (1.0 - down)
    return idle + (job - idle) * weight
