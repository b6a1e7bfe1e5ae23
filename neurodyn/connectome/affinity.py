"""Pairwise affinities between neurons, per time point, aggregated in sliding windows.

Three named affinities (Dyballa et al., ICLR 2024, §3).  All work on the frames where a
neuron was *tracked* (finite trace, in a run of at least :data:`MIN_RUN` consecutive
tracked frames); untracked frames are never interpolated, and nothing is computed across
them.

``differential`` (the paper's instantaneous affinity)
    Smooth each tracked run of a trace and differentiate it,
    ``g_i(t) = d/dt (G_σ * x_i)(t)`` (derivative of a Gaussian of width ``smooth_s``, run
    by run), scale each neuron robustly over its tracked frames,
    ``ĝ_i = g_i / (1.4826 · MAD(g_i))``, and take, **at every time point** where both
    neurons are tracked, the positive part of the product,

        a_ij(t) = max(ĝ_i(t) ĝ_j(t), 0),

    optionally saturated, ``a_ij(t) ← c · tanh(a_ij(t) / c)`` (``saturation = c``), so single
    large transients do not dominate.  High when two neurons rise *or* fall together at
    ``t``, zero when they move in opposite directions.  Only then is it aggregated to the
    tensor's time axis: the window value is the mean of ``a_ij(t)`` over the window's
    frames where both are tracked, ``A_ij(w) = Σ_{t∈w} v_i v_j a_ij(t) / Σ_{t∈w} v_i v_j``
    (``v`` = tracked).  Unsaturated, ``max(uv, 0) = u⁺v⁺ + u⁻v⁻`` makes each window two
    matrix products.

``windowed_cosine`` (the default of :func:`neurodyn.connectome.tensor.affinity_tensor`)
    The cosine of the positive-part products over a window,
    ``Σ_t (ĝ_i⁺ĝ_j⁺ + ĝ_i⁻ĝ_j⁻) / sqrt(Σ_t ĝ_i² · Σ_t ĝ_j²)`` (sums over the frames of
    the window where both are tracked; saturation, if any, applied to ``ĝ``): in [0, 1],
    whether two neurons move together in the window, not how much.

``correlation`` (baseline)
    Pearson correlation of the raw traces within each window over the frames where both
    are tracked, clipped at 0.

Each returns, per animal, an array ``(n_windows, N, N)``, symmetric and non-negative, with
0 where a pair has no jointly tracked frame in a window; :func:`pair_coverage` gives the
fraction of each window's frames where both neurons are tracked, from which
:func:`neurodyn.connectome.tensor.affinity_tensor` builds its per-window mask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy.ndimage import gaussian_filter1d

from neurodyn.errors import InvalidInputError

MAD_TO_SD = 1.4826
#: Shortest run of consecutive finite frames that counts as tracked (a derivative needs two).
MIN_RUN = 2


def window_bounds(n_time: int, sampling_rate_hz: float, window_s: float, stride_s: float) -> np.ndarray:
    """Frame bounds ``(n_windows, 2)`` (start inclusive, stop exclusive) of sliding windows.

    Windows of ``round(window_s · fs)`` frames (at least 1: a one-frame window is the
    per-time-point affinity itself) every ``round(stride_s · fs)`` frames; the last window
    ends at or before ``n_time``.
    """
    width = int(round(window_s * sampling_rate_hz))
    step = int(round(stride_s * sampling_rate_hz))
    if width < 1:
        raise InvalidInputError(f"{window_s!r} s is under one frame at {sampling_rate_hz} Hz", field="window_s")
    if step < 1:
        raise InvalidInputError(f"{stride_s!r} s is under one frame at {sampling_rate_hz} Hz", field="stride_s")
    if width > n_time:
        raise InvalidInputError(f"window of {width} frames is longer than the recording ({n_time} frames)",
                                field="window_s")
    starts = np.arange(0, n_time - width + 1, step)
    return np.stack([starts, starts + width], axis=1)


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of the runs of True in a 1-d bool array."""
    edges = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def tracked_frames(traces: np.ndarray, min_run: int = MIN_RUN) -> np.ndarray:
    """Bool ``(T, N)``: finite frames in runs of at least ``min_run`` consecutive finite frames."""
    finite = np.isfinite(np.asarray(traces, dtype=np.float64))
    out = finite.copy()
    for j in np.flatnonzero(~finite.all(axis=0)):
        for a, b in _runs(finite[:, j]):
            if b - a < min_run:
                out[a:b, j] = False
    return out


def robust_derivative(traces: np.ndarray, sampling_rate_hz: float, smooth_s: float = 1.0) -> np.ndarray:
    """Smoothed time derivative scaled by its MAD: ``ĝ`` of the module doc, shape (T, N).

    The derivative of a Gaussian of width ``smooth_s`` (seconds) smooths and differentiates
    in one step, on each tracked run separately (edges: nearest value), so no information
    crosses an untracked gap; units are 1/s before scaling.  Untracked frames
    (:func:`tracked_frames`) are NaN.  The MAD is taken over the tracked frames; neurons
    flat most of the time fall back to the SD, constant neurons get ĝ = 0.
    """
    x = np.asarray(traces, dtype=np.float64)
    valid = tracked_frames(x)
    sigma = max(smooth_s * sampling_rate_hz, 0.5)
    g = np.full(x.shape, np.nan)
    full = valid.all(axis=0)
    if full.any():
        g[:, full] = gaussian_filter1d(x[:, full], sigma=sigma, axis=0, order=1, mode="nearest")
    for j in np.flatnonzero(~full):
        for a, b in _runs(valid[:, j]):
            g[a:b, j] = gaussian_filter1d(x[a:b, j], sigma=sigma, order=1, mode="nearest")
    g *= sampling_rate_hz
    mad, sd = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        gj = g[valid[:, j], j]
        if gj.size:
            mad[j] = MAD_TO_SD * np.median(np.abs(gj - np.median(gj)))
            sd[j] = gj.std()
    scale = np.where(mad > 1e-12 * (sd + 1e-300), mad, sd)
    out = np.divide(g, scale, out=np.zeros_like(g), where=scale > 0)
    out[~valid] = np.nan
    return out


def _check_saturation(saturation) -> None:
    if saturation is not None and not saturation > 0:
        raise InvalidInputError(f"{saturation!r}, expected a positive number or null", field="saturation")


def _need_two_frames(windows: np.ndarray, method: str) -> None:
    if len(windows) and int((windows[:, 1] - windows[:, 0]).min()) < 2:
        raise InvalidInputError(f"the {method} affinity needs windows of at least 2 frames", field="window_s")


def window_coverage(traces: np.ndarray, windows: np.ndarray) -> Iterator[np.ndarray]:
    """:func:`pair_coverage` one window at a time: yields ``(N, N)`` float64 per window."""
    valid = tracked_frames(traces)
    v = valid.astype(np.float64)
    n = v.shape[1]

    def gen():
        for a, b in windows:
            if valid[a:b].all():
                # Every frame tracked: the fraction is exactly 1 (as v.T @ v / (b − a) gives).
                yield np.ones((n, n))
            else:
                yield v[a:b].T @ v[a:b] / (b - a)

    return gen()


def pair_coverage(traces: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Fraction ``(n_windows, N, N)`` of each window's frames where both neurons are tracked."""
    return _stack(window_coverage(traces, windows), len(windows), np.shape(traces)[1])


def _stack(per_window: Iterator[np.ndarray], n_windows: int, n: int) -> np.ndarray:
    out = np.empty((n_windows, n, n))
    for w, mat in enumerate(per_window):
        out[w] = mat
    return out


def _check_chance(chance: str, saturation) -> None:
    if chance not in ("none", "independent"):
        raise InvalidInputError(f"{chance!r}, expected 'none' or 'independent'", field="chance")
    if chance == "independent" and saturation is not None:
        raise InvalidInputError("the independence chance level has a closed form only without saturation; "
                                "set saturation to null or chance to 'none'", field="chance")


def _window_sums(x: np.ndarray, v: np.ndarray | None, full: bool) -> np.ndarray:
    """``x.T @ v`` for one window: ``[i, j] = Σ_t x_i(t)`` over the frames where ``j`` is
    tracked.  With every frame tracked (``full``) it is the column sums, broadcast: one
    pass instead of a GEMM (equal up to summation order)."""
    if full:
        return np.broadcast_to(x.sum(axis=0)[:, None], (x.shape[1], x.shape[1]))
    return x.T @ v


def differential_windows(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray, *,
                         smooth_s: float = 1.0, saturation: float | None = None,
                         chance: str = "none") -> Iterator[np.ndarray]:
    """:func:`differential_affinity` one window at a time: yields ``(N, N)`` float64 per
    window, so a caller keeps only what it needs of each (the tensor's pairs, in its dtype)."""
    _check_saturation(saturation)
    _check_chance(chance, saturation)
    g = robust_derivative(traces, sampling_rate_hz, smooth_s)
    valid = ~np.isnan(g)
    np.copyto(g, 0.0, where=~valid)
    n = g.shape[1]

    def gen():
        # The parts of ĝ are formed per window (as cheap as reading the window), so only ĝ
        # and its tracked mask are held for the whole recording.
        for a, b in windows:
            full = bool(valid[a:b].all())
            v = None if full else valid[a:b].astype(np.float64)
            gp, gm = np.maximum(g[a:b], 0.0), np.maximum(-g[a:b], 0.0)
            count = np.full((n, n), float(b - a)) if full else v.T @ v
            if saturation is None:
                total = gp.T @ gp + gm.T @ gm
            else:
                # Untracked frames hold ĝ = 0, so their products are 0 and add nothing.
                prod = np.maximum(g[a:b, :, None] * g[a:b, None, :], 0.0)
                total = (saturation * np.tanh(prod / saturation)).sum(axis=0)
            out = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
            if chance == "independent":
                inv = np.divide(1.0, count, out=np.zeros_like(count), where=count > 0)
                mp = _window_sums(gp, v, full) * inv  # [i, j]: mean of ĝ_i⁺ where j is tracked too
                mm = _window_sums(gm, v, full) * inv
                out -= mp * mp.T
                out -= mm * mm.T
            yield out

    return gen()


def differential_affinity(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray, *,
                          smooth_s: float = 1.0, saturation: float | None = None,
                          chance: str = "none") -> np.ndarray:
    """The paper's instantaneous differential affinity, window means ``(n_windows, N, N)``.

    ``a_ij(t) = max(ĝ_i(t) ĝ_j(t), 0)`` at every frame where both neurons are tracked
    (saturated to ``c · tanh(a / c)`` with ``saturation = c``), averaged over those frames of
    each window (module doc).  0 where a pair has no jointly tracked frame in a window.

    ``chance='independent'`` subtracts, per pair and window, what two *independent*
    neurons with the same derivatives in the window would score,
    ``m⁺_i m⁺_j + m⁻_i m⁻_j`` (``m±`` the window means of ``ĝ±`` over the jointly tracked
    frames): what remains is co-movement beyond the neurons' activity levels (a covariance
    of the positive and negative parts), signed, about 0 for independent neurons.  It uses no other pair, so
    co-activation shared by all pairs stays.
    """
    gen = differential_windows(traces, sampling_rate_hz, windows, smooth_s=smooth_s, saturation=saturation,
                               chance=chance)
    return _stack(gen, len(windows), np.shape(traces)[1])


def windowed_cosine_windows(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray, *,
                            smooth_s: float = 1.0, saturation: float | None = None,
                            chance: str = "none") -> Iterator[np.ndarray]:
    """:func:`windowed_cosine_affinity` one window at a time: yields ``(N, N)`` float64."""
    _check_saturation(saturation)
    _check_chance(chance, None)  # saturation acts on ĝ first, so the chance level stays exact
    _need_two_frames(windows, "windowed_cosine")
    g = robust_derivative(traces, sampling_rate_hz, smooth_s)
    valid = ~np.isnan(g)
    np.copyto(g, 0.0, where=~valid)
    if saturation is not None:
        g = saturation * np.tanh(g / saturation)

    def gen():
        # The parts of ĝ are formed per window (as cheap as reading the window), so only ĝ
        # and its tracked mask are held for the whole recording.
        for a, b in windows:
            full = bool(valid[a:b].all())
            v = None if full else valid[a:b].astype(np.float64)
            gp, gm = np.maximum(g[a:b], 0.0), np.maximum(-g[a:b], 0.0)
            prod = gp.T @ gp
            prod += gm.T @ gm
            energy = _window_sums(g[a:b] ** 2, v, full)  # [i, j]: Σ_t ĝ_i² where j is tracked too
            denom = np.sqrt(energy * energy.T)
            del energy
            if chance == "independent":
                count = np.full(prod.shape, float(b - a)) if full else v.T @ v
                sp = _window_sums(gp, v, full)  # [i, j]: Σ ĝ_i⁺ where j is tracked too
                sm = _window_sums(gm, v, full)
                expected = sp * sp.T
                expected += sm * sm.T
                np.divide(expected, count, out=expected, where=count > 0)
                expected[~(count > 0)] = 0.0
                prod -= expected
                del expected, count
            yield np.divide(prod, denom, out=np.zeros_like(prod), where=denom > 0)

    return gen()


def windowed_cosine_affinity(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray, *,
                             smooth_s: float = 1.0, saturation: float | None = None,
                             chance: str = "none") -> np.ndarray:
    """Window cosine of the positive-part derivative products ``(n_windows, N, N)``.

    ``Σ_t (ĝ_i⁺ĝ_j⁺ + ĝ_i⁻ĝ_j⁻) / sqrt(Σ_t ĝ_i² · Σ_t ĝ_j²)`` over the window's frames where
    both neurons are tracked: in [0, 1], 1 when their derivatives are positively
    proportional, 0 when opposite.  ``saturation = c`` replaces ``ĝ`` by ``c · tanh(ĝ / c)``.

    Two independent neurons do not score 0: for Gaussian derivatives the expected value
    is ``1/π``, and less for sparse (heavy-tailed) ones, so the floor differs by neuron and
    window.  ``chance='independent'`` subtracts, per pair and window, the numerator's mean
    over independent re-timings of the two neurons' frames,
    ``(Σ_t ĝ_i⁺ · Σ_t ĝ_j⁺ + Σ_t ĝ_i⁻ · Σ_t ĝ_j⁻) / n_ij`` (sums and count ``n_ij`` over the
    jointly tracked frames): what remains is co-movement beyond chance, in the cosine's
    units, signed (about 0 for independent neurons, so their noise averages out rather than
    leaving a positive floor a clip at 0 would).
    """
    gen = windowed_cosine_windows(traces, sampling_rate_hz, windows, smooth_s=smooth_s, saturation=saturation,
                                  chance=chance)
    return _stack(gen, len(windows), np.shape(traces)[1])


def correlation_windows(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray) -> Iterator[np.ndarray]:
    """:func:`correlation_affinity` one window at a time: yields ``(N, N)`` float64."""
    _need_two_frames(windows, "correlation")
    x = np.asarray(traces, dtype=np.float64)
    valid = tracked_frames(x)
    v = valid.astype(np.float64)
    n = x.shape[1]

    def gen():
        for a, b in windows:
            vw = v[a:b]
            cnt = vw.sum(axis=0)
            seg = np.where(valid[a:b], x[a:b], 0.0)
            mean = np.divide(seg.sum(axis=0), cnt, out=np.zeros(n), where=cnt > 0)
            seg = np.where(valid[a:b], seg - mean, 0.0)  # centred per neuron, so sums are small
            count = vw.T @ vw
            sx = seg.T @ vw                # [i, j]: Σ x_i over the frames where j is tracked too
            sxx = (seg**2).T @ vw
            sxy = seg.T @ seg
            inv = np.divide(1.0, count, out=np.zeros_like(count), where=count > 0)
            cov = sxy - sx * sx.T * inv
            var = np.maximum(sxx - sx**2 * inv, 0.0)
            denom = np.sqrt(var * var.T)
            ok = (denom > 1e-12 * (np.sqrt(sxx * sxx.T) + 1e-300)) & (count > 1)
            yield np.maximum(np.divide(cov, denom, out=np.zeros_like(cov), where=ok), 0.0)

    return gen()


def correlation_affinity(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray) -> np.ndarray:
    """Window Pearson correlation of the traces clipped at 0, ``(n_windows, N, N)``.

    Over the frames of the window where both neurons are tracked (pairwise complete);
    neurons constant there have correlation 0.
    """
    return _stack(correlation_windows(traces, sampling_rate_hz, windows), len(windows), np.shape(traces)[1])


AFFINITIES: dict[str, Callable[..., np.ndarray]] = {
    "differential": differential_affinity,
    "windowed_cosine": windowed_cosine_affinity,
    "correlation": correlation_affinity,
}


def _dispatch(table: dict, method: str) -> Callable:
    if method not in table:
        raise InvalidInputError(f"unknown affinity {method!r}; expected one of {sorted(table)}", field="affinity")
    return table[method]


def _as_traces(traces) -> np.ndarray:
    traces = np.asarray(traces, dtype=np.float64)
    if traces.ndim != 2:
        raise InvalidInputError(f"expected (time, neuron) traces, got shape {traces.shape}", field="traces")
    return traces


def windowed_affinity(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray,
                      method: str = "differential", **params) -> np.ndarray:
    """Dispatch to the affinity named ``method`` (a key of :data:`AFFINITIES`).

    ``traces`` is ``(time, neuron)``, NaN on untracked frames.
    """
    return _dispatch(AFFINITIES, method)(_as_traces(traces), sampling_rate_hz, windows, **params)


#: The per-window form of each affinity (same keywords as :data:`AFFINITIES`).
WINDOW_AFFINITIES: dict[str, Callable[..., Iterator[np.ndarray]]] = {
    "differential": differential_windows,
    "windowed_cosine": windowed_cosine_windows,
    "correlation": correlation_windows,
}


def window_affinities(traces: np.ndarray, sampling_rate_hz: float, windows: np.ndarray,
                      method: str = "differential", **params) -> Iterator[np.ndarray]:
    """:func:`windowed_affinity` one window at a time: an iterator of ``(N, N)`` float64
    matrices, one per row of ``windows``, equal to the slices of :func:`windowed_affinity`.

    Only one window's matrices are alive at once, so a caller that keeps the pairs it needs
    (in its own dtype) never holds the ``(n_windows, N, N)`` float64 stack.
    """
    return _dispatch(WINDOW_AFFINITIES, method)(_as_traces(traces), sampling_rate_hz, windows, **params)
