"""Figures of a training-swing result (``gigawatt swings``, :func:`gigawatt.run_swings`) for ``gigawatt
report``: what the grid sees, the spectrum with the named bands, the stores' state of charge.

=====================  ==========================================================================
``swing_grid.png``     power at the point of connection with and without the stores, and its ramp
                       against ``ramp_limit_w_per_s`` (a window around the largest ramp, and the whole
                       series as each cooling step's range)
``swing_spectrum.png`` amplitude spectrum of that power, with and without the stores, the named bands
                       shaded
``swing_stores.png``   each store's state of charge and power; the steps it fell short of its law
=====================  ==========================================================================

Each is drawn when the results have its variables (``p_poc_w``, ``p_poc_unsmoothed_w``, ``ramp_w_per_s``
along ``time`` [s]; ``poc_amplitude_w`` along ``frequency``; ``store_soc``, ``store_p_w``,
``store_shortfall_w`` along (``store``, ``time``)); registered in :data:`SWING_FIGURES`.
"""
from __future__ import annotations

import numpy as np

from gigawatt.report.figures import Skip, _figure, _need

WINDOW_S = 20.0
"""Length of the zoomed window around the largest ramp [s]."""
MAX_POINTS = 20000
"""Points drawn of a long series (every n-th; the extremes of each block kept in the range band)."""


def _swing(ds):
    if ds.attrs.get("analysis") != "swings":
        raise Skip("not a training-swing result (gigawatt swings)")


def _blocks(t, x, n):
    """(block start, min, max, mean) of ``x`` in blocks of ``n`` steps."""
    m = x.size // n
    b = x[:m * n].reshape(m, n)
    return t[:m * n:n], b.min(axis=1), b.max(axis=1), b.mean(axis=1)


def grid_power(ds):
    """Power at the point of connection and its ramp."""
    _swing(ds)
    _need(ds, "p_poc_w", "p_poc_unsmoothed_w", "ramp_w_per_s")
    t = ds["time"].values
    p, p0, ramp = (ds[v].values / 1e6 for v in ("p_poc_w", "p_poc_unsmoothed_w", "ramp_w_per_s"))
    fig, (ax1, ax2, ax3) = _figure(ncols=3, size=(15.0, 4.8))
    n = max(1, t.size // 2000)
    for x, color, label in ((p0, "0.6", "without stores"), (p, "C0", "with stores")):
        tb, lo, hi, mean = _blocks(t, x, n)
        ax1.fill_between(tb, lo, hi, color=color, alpha=0.35, lw=0)
        ax1.plot(tb, mean, color=color, lw=0.8, label=f"{label} (range and mean per {n * ds.attrs['step_s']:g} s)")
    ax1.set(xlabel="time [s]", ylabel="power at the point of connection [MW]", title="whole series")
    ax1.legend(fontsize=7)
    k = int(np.argmax(np.abs(ramp)))
    sel = np.abs(t - t[k]) <= WINDOW_S / 2
    ax2.plot(t[sel], p0[sel], color="0.6", lw=0.8, label="without stores")
    ax2.plot(t[sel], p[sel], color="C0", lw=1.0, label="with stores")
    ax2.set(xlabel="time [s]", ylabel="[MW]", title=f"around the largest ramp ({t[k]:g} s)")
    ax2.legend(fontsize=7)
    tb, lo, hi, _ = _blocks(t, np.abs(ramp), n)
    ax3.semilogy(tb, np.maximum(hi, 1e-9), color="C0", lw=0.8, label="largest |ramp| per block, with stores")
    tb, _, hi0, _ = _blocks(t, np.abs(ds["ramp_unsmoothed_w_per_s"].values / 1e6), n)
    ax3.semilogy(tb, np.maximum(hi0, 1e-9), color="0.6", lw=0.8, label="without stores")
    if "ramp_limit_w_per_s" in ds.attrs:
        ax3.axhline(ds.attrs["ramp_limit_w_per_s"] / 1e6, color="C3", ls="--", lw=1, label="ramp limit")
    ax3.set(xlabel="time [s]", ylabel="|ramp| [MW/s]", title="ramp at the point of connection")
    ax3.legend(fontsize=7)
    fig.suptitle(f"'{ds.attrs.get('case_name', '')}': peak {ds.attrs['p_poc_peak_w'] / 1e6:.1f} MW "
                 f"({ds.attrs['peak_reduction']:.1%} below {ds.attrs['p_poc_unsmoothed_peak_w'] / 1e6:.1f} MW "
                 "without stores)")
    fig.tight_layout()
    return fig


def spectrum(ds):
    """Amplitude spectrum at the point of connection, the named bands shaded."""
    _swing(ds)
    _need(ds, "poc_amplitude_w", "poc_unsmoothed_amplitude_w")
    f = ds["frequency"].values
    fig, ax = _figure(size=(10.0, 5.0))
    keep = f > 0
    for name, color, label in (("poc_unsmoothed_amplitude_w", "0.6", "without stores"),
                               ("poc_amplitude_w", "C0", "with stores")):
        ax.loglog(f[keep], np.maximum(ds[name].values[keep] / 1e6, 1e-12), color=color, lw=0.6, label=label)
    if "band" in ds.dims:
        for i, b in enumerate(ds["band"].values):
            lo, hi = float(ds["band_low_hz"].values[i]), float(ds["band_high_hz"].values[i])
            ax.axvspan(max(lo, f[keep][0]), hi, color=f"C{i + 1}", alpha=0.2,
                       label=f"{b}: RMS {float(ds['band_rms_w'].values[i]) / 1e6:.3g} MW "
                             f"(without {float(ds['band_rms_unsmoothed_w'].values[i]) / 1e6:.3g} MW)")
    ax.set(xlabel="frequency [Hz]", ylabel="amplitude [MW]", title="spectrum of the power at the point of connection")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def stores(ds):
    """Each store's state of charge and power."""
    _swing(ds)
    _need(ds, "store_soc", "store_p_w")
    if not ds.sizes.get("store"):
        raise Skip("the run has no stores")
    t = ds["time"].values
    n = max(1, t.size // 2000)
    fig, (ax1, ax2) = _figure(ncols=2, size=(14.0, 4.8))
    for i, s in enumerate(ds["store"].values):
        soc = ds["store_soc"].values[i]
        tb, lo, hi, mean = _blocks(t, soc, n)
        ax1.fill_between(tb, lo, hi, color=f"C{i}", alpha=0.3, lw=0)
        short = int(ds["store_short_steps"].values[i]) if "store_short_steps" in ds else 0
        ax1.plot(tb, mean, color=f"C{i}", lw=0.8, label=f"{s}" + (f" (short at {short:,} steps)" if short else ""))
        tb, lo, hi, _ = _blocks(t, ds["store_p_w"].values[i] / 1e6, n)
        ax2.fill_between(tb, lo, hi, color=f"C{i}", alpha=0.5, lw=0, label=f"{s} (range per block)")
    ax1.set(xlabel="time [s]", ylabel="state of charge [1]", ylim=(-0.02, 1.02), title="state of charge")
    ax1.legend(fontsize=7)
    ax2.set(xlabel="time [s]", ylabel="power, + discharging [MW]", title="store power")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


SWING_FIGURES = {
    "swing_grid": ("swing_grid.png", "Training swings: power and ramp at the point of connection", grid_power),
    "swing_spectrum": ("swing_spectrum.png", "Training swings: spectrum and named bands", spectrum),
    "swing_stores": ("swing_stores.png", "Training swings: state of charge and power of the stores", stores),
}
"""Figures of a training-swing result: name → (file, caption, function)."""
