"""Time-resolved pairwise affinities between neurons, averaged in sliding windows.

Two named affinities (Dyballa et al., ICLR 2024, §3):

``differential`` (default)
    Smooth each trace and differentiate it, ``g_i(t) = d/dt (G_σ * x_i)(t)``, scale each
    neuron robustly, ``ĝ_i = g_i / (1.4826 · MAD(g_i))``, and take the positive part of the
    product, ``a_ij(t) = max(ĝ_i(t) ĝ_j(t), 0)``: high when two neurons rise *or* fall
    together, zero when they move in opposite directions.  Optionally saturated,
    ``a ← c · tanh(a / c)``, so single large transients do not dominate a window.
    Because ``max(uv, 0) = u⁺v⁺ + u⁻v⁻`` (``u⁺ = max(u, 0)``, ``u⁻ = max(−u, 0)``), the
    unsaturated window mean is two matrix products per window.

``correlation`` (baseline)
    Pearson correlation of the raw traces within each window, clipped at 0.

Both return, per animal, an array ``(n_windows, N, N)``, symmetric and non-negative.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.ndimage import gaussian_filter1d

from neurodyn.errors import InvalidInputError

MAD_TO_SD = 1.4826


def window_bounds(n_time: int, sampling_rate_hz: float, window_s: float, stride_s: float) -> np.ndarray:
    """Frame bounds ``(n_windows, 2)`` (start inclusive, stop exclusive) of sliding windows.

    Windows of ``round(window_s · fs)`` frames every ``round(stride_s · fs)`` frames; the last
    window ends at or before ``n_time``.
    """
    width = int(round(window_s * sampling_rate_hz))
    step = int(round(stride_s * sampling_rate_hz))
    if width < 2:
        raise InvalidInputError(f"{window_s!r} s is fewer than 2 frames at {sampling_rate_hz} Hz",
                                field="window_s")
    if step < 1:
        raise InvalidInputError(f"{stride_s!r} s is under one frame at {sampling_rate_hz} Hz", field="stride_s")
    if width > n_time:
        raise InvalidInputError(f"window of {width} frames is longer than the recording ({n_time} frames)",
                                field="window_s")
    starts = np.arange(0, n_time - width + 1, step)
    return np.stack([starts, starts + width], axis=1)


def _fill_gaps(traces: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN frames of each column (columns all-NaN become 0)."""
    out = np.array(traces, dtype=np.float64)
    t = np.arange(out.shape[0])
    for j in range(out.shape[1]):
        bad = np.isnan(out[:, j])
        if bad.all():
            out[:, j] = 0.0
        elif bad.any():
            out[bad, j] = np.interp(t[bad], t[~bad], out[~bad, j])
    return out


def robust_derivative(traces: np.ndarray, sampling_rate_hz: float, smooth_s: float = 1.0) -> np.ndarray:
    """Smoothed time derivative scaled by its MAD: ``ĝ`` of the module doc, shape (T, N).

    The derivative of a Gaussian of width ``smooth_s`` (seconds) smooths and differentiates
    in one step; units are 1/s before scaling.  Constant neurons get ĝ = 0.
    """
    x = _fill_gaps(traces)
    sigma = max(smooth_s * sampling_rate_hz, 0.5)
    g = gaussian_filter1d(x, sigma=sigma, axis=0, order=1, mode="nearest") * sampling_rate_hz
    mad = MAD_TO_SD * np.median(np.abs(g - np.median(g, axis=0)), axis=0)
    # MAD is 0 for neurons that are flat most of the time; fall back to the SD there.
    sd = g.std(axis=0)
    scale = np.where(mad > 1e-12 * (sd + 1e-300), mad, sd)
    return np.divide(g, scale, out=np.zeros_like(g), where=scale > 0)


def differential_affinity(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray, *,
                          smooth_s: float = 1.0, saturation: float | None = None,
                          normalize: str = "window") -> np.ndarray:
    """Window-mean differential affinity ``(n_windows, N, N)`` (see module doc).

    ``normalize='window'`` divides the window sum by ``sqrt(Σ_t ĝ_i² · Σ_t ĝ_j²)``, so the
    affinity measures *whether* two neurons move together in the window, in [0, 1] (1 when
    their derivatives are positively proportional, 0 when opposite), not how much each
    moves; without it (``'none'``) a neuron that is merely more active in a window raises
    its affinity to every other neuron.
    """
    if normalize not in ("window", "none"):
        raise InvalidInputError(f"{normalize!r}, expected 'window' or 'none'", field="normalize")
    if saturation is not None and not saturation > 0:
        raise InvalidInputError(f"{saturation!r}, expected a positive number or null", field="saturation")
    g = robust_derivative(traces, sampling_rate_hz, smooth_s)
    if saturation is not None:
        # Saturate the scaled derivative so single large transients do not dominate.
        g = saturation * np.tanh(g / saturation)
    n = g.shape[1]
    out = np.empty((len(windows), n, n))
    gp, gm = np.maximum(g, 0.0), np.maximum(-g, 0.0)
    for w, (a, b) in enumerate(windows):
        prod = gp[a:b].T @ gp[a:b] + gm[a:b].T @ gm[a:b]
        if normalize == "window":
            energy = np.sqrt((g[a:b] ** 2).sum(axis=0))
            denom = np.outer(energy, energy)
            out[w] = np.divide(prod, denom, out=np.zeros_like(prod), where=denom > 0)
        else:
            out[w] = prod / (b - a)
    return out


def correlation_affinity(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray) -> np.ndarray:
    """Window Pearson correlation of the traces clipped at 0, ``(n_windows, N, N)``.

    Constant neurons within a window have correlation 0.
    """
    x = _fill_gaps(traces)
    n = x.shape[1]
    out = np.empty((len(windows), n, n))
    for w, (a, b) in enumerate(windows):
        seg = x[a:b] - x[a:b].mean(axis=0)
        norm = np.sqrt((seg**2).sum(axis=0))
        z = np.divide(seg, norm, out=np.zeros_like(seg), where=norm > 0)
        out[w] = np.maximum(z.T @ z, 0.0)
    return out


AFFINITIES: dict[str, Callable[..., np.ndarray]] = {
    "differential": differential_affinity,
    "correlation": correlation_affinity,
}


def windowed_affinity(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray,
                      method: str = "differential", **params) -> np.ndarray:
    """Dispatch to the affinity named ``method`` (a key of :data:`AFFINITIES`)."""
    if method not in AFFINITIES:
        raise InvalidInputError(f"unknown affinity {method!r}; expected one of {sorted(AFFINITIES)}",
                                field="affinity")
    traces = np.asarray(traces, dtype=np.float64)
    if traces.ndim != 2:
        raise InvalidInputError(f"expected (time, neuron) traces, got shape {traces.shape}", field="traces")
    return AFFINITIES[method](traces, sampling_rate_hz, windows, **params)
