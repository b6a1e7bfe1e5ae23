"""Affinities, the window × animal × pair tensor and its per-window mask."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.ndimage import gaussian_filter1d

from neurodyn.connectome.affinity import (pair_coverage, robust_derivative, tracked_frames, window_bounds,
                                          windowed_affinity)
from neurodyn.connectome.ntf import fit_affinity
from neurodyn.connectome.tensor import affinity_tensor, fold_pairs, pair_index, tensor_memory_bytes
from neurodyn.errors import InvalidInputError, MemoryBudgetError

FS = 4.0
METHODS = ["differential", "windowed_cosine", "correlation"]


def three_neurons(seed=0, n=800):
    """Neuron 0 and 1 rise together; neuron 2 is the mirror image of neuron 0."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    drive = np.sin(2 * np.pi * 0.05 * t) + 0.5 * np.sin(2 * np.pi * 0.13 * t + 1)
    x = np.stack([drive, 0.7 * drive + 0.3, -drive], axis=1) + 0.05 * rng.normal(size=(n, 3))
    return x


def with_gaps(seed=1, n=400, n_neurons=5):
    """Smoothed random walks with untracked stretches, an isolated tracked frame and a lone NaN."""
    rng = np.random.default_rng(seed)
    x = gaussian_filter1d(np.cumsum(rng.normal(size=(n, n_neurons)), axis=0), 2.0, axis=0)
    x[50:90, 1] = np.nan
    x[200:230, 3] = np.nan
    x[231:260, 3] = np.nan      # frame 230 is tracked alone: too short a run to count
    x[300, 0] = np.nan
    return x


# --- the per-time-point affinity against the paper's formula, by brute force -------------

def brute_force_differential(g, windows, saturation=None, chance="none"):
    """Loop version of ``A_ij(w) = mean over jointly tracked t in w of max(ĝ_i ĝ_j, 0)``."""
    n = g.shape[1]
    out = np.zeros((len(windows), n, n))
    for w, (a, b) in enumerate(windows):
        for i in range(n):
            for j in range(n):
                vals, pi, pj, mi, mj = [], [], [], [], []
                for t in range(a, b):
                    gi, gj = g[t, i], g[t, j]
                    if np.isnan(gi) or np.isnan(gj):
                        continue
                    v = max(gi * gj, 0.0)
                    if saturation is not None:
                        v = saturation * np.tanh(v / saturation)
                    vals.append(v)
                    pi.append(max(gi, 0.0)), pj.append(max(gj, 0.0))
                    mi.append(max(-gi, 0.0)), mj.append(max(-gj, 0.0))
                if not vals:
                    continue
                out[w, i, j] = np.mean(vals)
                if chance == "independent":
                    level = np.mean(pi) * np.mean(pj) + np.mean(mi) * np.mean(mj)
                    out[w, i, j] = out[w, i, j] - level  # signed excess
    return out


@pytest.mark.parametrize("saturation, chance", [(None, "none"), (0.7, "none"), (None, "independent")])
def test_differential_equals_the_formula_by_brute_force(saturation, chance):
    x = with_gaps()
    windows = window_bounds(len(x), FS, 10.0, 7.5)
    g = robust_derivative(x, FS)
    got = windowed_affinity(x, FS, windows, "differential", saturation=saturation, chance=chance)
    np.testing.assert_allclose(got, brute_force_differential(g, windows, saturation, chance), atol=1e-12)


def test_one_frame_windows_are_the_instantaneous_affinity():
    x = three_neurons(n=200)
    g = robust_derivative(x, FS)
    a = windowed_affinity(x, FS, window_bounds(200, FS, 1 / FS, 1 / FS), "differential")
    np.testing.assert_allclose(a, np.maximum(g[:, :, None] * g[:, None, :], 0.0), atol=1e-12)
    with pytest.raises(InvalidInputError, match="window_s"):
        windowed_affinity(x, FS, window_bounds(200, FS, 1 / FS, 1 / FS), "windowed_cosine")


def test_derivative_is_smoothed_slope_within_runs_and_never_crosses_gaps():
    # A slow sine has derivative ω cos(ωt); the Gaussian derivative matches it away from run edges.
    t = np.arange(600) / FS
    w = 2 * np.pi * 0.02
    x = np.stack([np.sin(w * t), np.cos(w * t)], axis=1)
    x[280:320, 0] = np.nan
    g = robust_derivative(x, FS, smooth_s=1.0)
    assert np.isnan(g[280:320, 0]).all() and not np.isnan(g[:, 1]).any()
    # Scaled by the MAD over tracked frames.
    for j in range(2):
        gj = g[~np.isnan(g[:, j]), j]
        assert 1.4826 * np.median(np.abs(gj - np.median(gj))) == pytest.approx(1.0, rel=1e-9)
    # Up to that scale, the interior of each run is the analytical derivative (σ = 4 frames:
    # Gaussian smoothing of a sine scales it by exp(-ω²σ²/2) ≈ 0.9992).
    inner = np.r_[20:260, 340:580]
    slope = w * np.cos(w * t[inner])
    ratio = g[inner, 0] / slope
    assert np.ptp(ratio[np.abs(slope) > 0.3 * w]) < 1e-3 * np.abs(ratio).mean()
    # The run after the gap is processed alone: changing values before the gap changes the
    # derivative after it only through the neuron's MAD scale (one constant factor).
    y = x.copy()
    y[:280, 0] += 5 * np.sin(3 * t[:280])
    g2 = robust_derivative(y, FS, smooth_s=1.0)
    big = np.abs(g[320:, 0]) > 0.1
    ratio = g2[320:, 0][big] / g[320:, 0][big]
    assert np.ptp(ratio) < 1e-9 * np.abs(ratio).mean()


def test_tracked_frames_and_coverage():
    x = with_gaps()
    v = tracked_frames(x)
    assert not v[50:90, 1].any() and v[49, 1] and v[90, 1]
    assert not v[230, 3]          # a one-frame run does not count
    assert not v[300, 0] and v[299, 0]
    windows = window_bounds(len(x), FS, 10.0, 10.0)  # 40-frame windows
    cov = pair_coverage(x, windows)
    assert cov[1, 1, 2] == pytest.approx(10 / 40)       # frames 50..89 gone from window 40..79
    assert cov[2, 1, 2] == pytest.approx(30 / 40)       # and from window 80..119
    assert cov[0, 0, 2] == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_affinity_symmetric_nonnegative_and_ordered(method):
    x = three_neurons()
    windows = window_bounds(len(x), FS, 20.0, 10.0)
    a = windowed_affinity(x, FS, windows, method)
    assert a.shape == (len(windows), 3, 3)
    np.testing.assert_allclose(a, np.swapaxes(a, 1, 2), atol=1e-12)
    assert (a >= 0).all()
    # A co-rising pair scores far above an anti-correlated one, in every window.
    if method == "differential":
        # Unnormalised: the co-rising pair scores the mean of ĝ_0 ĝ_1 (≈ ĝ², ~1), the mirror pair ~0.
        assert (a[:, 0, 1] > 0.3).all() and (a[:, 0, 2] < 0.05 * a[:, 0, 1]).all()
    else:
        assert (a[:, 0, 1] > 0.8).all()
        assert (a[:, 0, 2] < 0.05).all()
        assert (a[:, 0, 1] > a[:, 0, 2] + 0.7).all()


def test_differential_sees_derivatives_not_levels():
    # Two neurons with the same slow level but opposite fast wiggles: level correlation is
    # high, co-movement of derivatives is low.
    t = np.arange(1200) / FS
    slow = 0.3 * t
    fast = 0.5 * np.sin(2 * np.pi * 0.5 * t)
    x = np.stack([slow + fast, slow - fast, slow + fast], axis=1)
    w = window_bounds(t.size, FS, 30.0, 30.0)
    cos = windowed_affinity(x, FS, w, "windowed_cosine", smooth_s=0.25)[:, 0, 1]
    corr = windowed_affinity(x, FS, w, "correlation")[:, 0, 1]
    assert cos.mean() < 0.3 < 0.9 < corr.mean()
    inst = windowed_affinity(x, FS, w, "differential", smooth_s=0.25)
    assert (inst[:, 0, 1] < 0.2 * inst[:, 0, 2]).all()


# --- the windowed cosine option is the earlier default -----------------------------------

def earlier_windowed_cosine(x, windows, smooth_s=1.0, saturation=None):
    """The earlier default (MAD-scaled Gaussian derivative, window cosine), gap-free data."""
    g = gaussian_filter1d(x, sigma=smooth_s * FS, axis=0, order=1, mode="nearest") * FS
    g = g / (1.4826 * np.median(np.abs(g - np.median(g, axis=0)), axis=0))
    if saturation is not None:
        g = saturation * np.tanh(g / saturation)
    out = np.zeros((len(windows), x.shape[1], x.shape[1]))
    for w, (a, b) in enumerate(windows):
        for i in range(x.shape[1]):
            for j in range(x.shape[1]):
                num = sum(max(g[t, i], 0) * max(g[t, j], 0) + max(-g[t, i], 0) * max(-g[t, j], 0)
                          for t in range(a, b))
                out[w, i, j] = num / np.sqrt((g[a:b, i] ** 2).sum() * (g[a:b, j] ** 2).sum())
    return out


@pytest.mark.parametrize("saturation", [None, 1.5])
def test_windowed_cosine_unchanged(saturation):
    x = three_neurons(n=240)
    w = window_bounds(len(x), FS, 15.0, 10.0)
    got = windowed_affinity(x, FS, w, "windowed_cosine", saturation=saturation)
    np.testing.assert_allclose(got, earlier_windowed_cosine(x, w, saturation=saturation), rtol=1e-10)


def test_correlation_on_gaps_is_pairwise_complete():
    x = with_gaps()
    w = window_bounds(len(x), FS, 10.0, 10.0)
    got = windowed_affinity(x, FS, w, "correlation")
    v = tracked_frames(x)
    for k, (a, b) in enumerate(w):
        for i, j in [(0, 1), (1, 3), (0, 3), (2, 4)]:
            both = v[a:b, i] & v[a:b, j]
            if both.sum() < 2:
                continue
            ref = max(np.corrcoef(x[a:b][both, i], x[a:b][both, j])[0, 1], 0.0)
            assert got[k, i, j] == pytest.approx(ref, abs=1e-9)


# --- the tensor and its per-window mask -----------------------------------------------------

def make_cohort(n_animals=3, n_time=600, n_neuron=6, missing=((1, 2),), seed=0):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(n_animals, n_time, n_neuron)), axis=1).astype(np.float32)
    present = np.ones((n_animals, n_neuron), bool)
    for a, i in missing:
        x[a, :, i] = np.nan
        present[a, i] = False
    return xr.Dataset(
        {"traces": (("animal", "time", "neuron"), x), "present": (("animal", "neuron"), present)},
        coords={"animal": [f"a{i}" for i in range(n_animals)], "time": np.arange(n_time) / FS,
                "neuron": [f"n{i:03d}" for i in range(n_neuron)]},
        attrs={"sampling_rate_hz": FS},
    )


def test_tensor_layout_mask_and_pairs():
    cohort = make_cohort()
    ds = affinity_tensor(cohort, window_s=20, stride_s=10)
    assert ds.attrs["chance"] == "independent" and ds.attrs["method"] == "windowed_cosine"
    n_pairs = 6 * 5 // 2
    n_win = len(window_bounds(600, FS, 20, 10))
    assert ds["affinity"].shape == ds["mask"].shape == (n_win, 3, n_pairs)
    assert ds["affinity"].dtype == np.float32
    i, j = pair_index(6)
    missing_pairs = (i == 2) | (j == 2)
    np.testing.assert_array_equal(ds["pair_present"].values[1], ~missing_pairs)
    np.testing.assert_array_equal(ds["mask"].values[:, 1], np.broadcast_to(~missing_pairs, (n_win, n_pairs)))
    assert ds["mask"].values[:, [0, 2]].all()
    assert (ds["affinity"].values[:, 1, missing_pairs] == 0).all()
    assert list(ds["pair_i"].values[:2]) == ["n000", "n000"] and ds["pair_j"].values[0] == "n001"
    # Each animal's slice equals the affinity of that animal alone (upper triangle).
    w = window_bounds(600, FS, 20, 10)
    for method in METHODS:
        direct = windowed_affinity(cohort["traces"].values[0], FS, w, method)
        got = affinity_tensor(cohort, window_s=20, stride_s=10, method=method, chance="none")["affinity"].values[:, 0, :]
        np.testing.assert_allclose(got, direct[:, i, j], rtol=1e-5)
    # The median chance level is removed per window and animal over the observed entries, leaving ≥ 0.
    centred = affinity_tensor(cohort, window_s=20, stride_s=10, chance="median")
    obs = centred["affinity"].values[:, 0, :]                # 15 pairs: the median is one of them
    assert (obs >= 0).all() and np.allclose(np.median(obs, axis=1), 0, atol=1e-6)
    obs = centred["affinity"].values[:, 1, ~missing_pairs]   # 10 observed pairs: at most 5 above it
    assert ((obs > 0).sum(axis=1) <= 5).all()


def untracked_window_cohort():
    """Neuron 0 rises steadily; neuron 1 is untracked on frames 60-259 (NaN there), at
    values before and after that a straight line through the gap would join by a steady rise."""
    n = 400
    rng = np.random.default_rng(4)
    t = np.arange(n) / FS
    ramp = 0.05 * t + 0.01 * np.sin(2 * np.pi * 0.3 * t)   # always rising (slope 0.05 > 0.019)
    other = gaussian_filter1d(rng.normal(size=n), 3.0) * 3
    x = np.stack([ramp, other, gaussian_filter1d(rng.normal(size=n), 3.0) * 3], axis=1)
    x[60:260, 1] = np.nan
    x[59, 1], x[260, 1] = 0.0, 10.0
    return xr.Dataset({"traces": (("animal", "time", "neuron"), x[None].astype(np.float32))},
                      coords={"animal": ["a0"], "time": t, "neuron": ["rise", "gap", "free"]},
                      attrs={"sampling_rate_hz": FS})


@pytest.mark.parametrize("method", METHODS)
def test_untracked_window_is_masked_not_interpolated(method):
    cohort = untracked_window_cohort()
    ds = affinity_tensor(cohort, method=method, window_s=20, stride_s=10)   # 80-frame windows every 40
    pair = 0                                              # (rise, gap)
    w = window_bounds(400, FS, 20, 10)
    inside = (w[:, 0] >= 60) & (w[:, 1] <= 260)           # windows wholly inside the gap
    assert inside.sum() >= 2
    cover = 1 - np.array([max(0, min(b, 260) - max(a, 60)) for a, b in w]) / 80
    np.testing.assert_array_equal(ds["mask"].values[:, 0, pair], cover >= 0.5)
    assert not ds["mask"].values[inside, 0, pair].any()
    assert (ds["affinity"].values[~ds["mask"].values[:, 0, pair], 0, pair] == 0).all()
    # Pairs without the gapped neuron stay observed everywhere.
    assert ds["mask"].values[:, 0, 1].all()
    # What the mask prevents: interpolating through the gap gives the gapped neuron a steady
    # rise there, hence a windowed-cosine affinity ≈ 1 with the rising neuron (away from the
    # gap's edges, 3 smoothing widths), against E[u⁺]/sqrt(E[u²]) = 1/√(2π)·√2 ≈ 0.4 for a
    # neuron moving on its own.
    filled = cohort["traces"].values[0].astype(np.float64).copy()
    bad = np.isnan(filled[:, 1])
    filled[bad, 1] = np.interp(np.flatnonzero(bad), np.flatnonzero(~bad), filled[~bad, 1])
    old = windowed_affinity(filled, FS, w, "windowed_cosine")[:, 0, 1]
    deep = (w[:, 0] >= 72) & (w[:, 1] <= 248)
    assert deep.any() and old[deep].min() > 0.95
    assert np.median(old[cover == 1]) < 0.6


def test_partly_tracked_window_averages_only_tracked_frames():
    cohort = untracked_window_cohort()
    ds = affinity_tensor(cohort, method="differential", chance="none", window_s=20, stride_s=10, min_coverage=0.25)
    x = cohort["traces"].values[0].astype(np.float64)
    g = robust_derivative(x, FS)
    for k, (a, b) in enumerate(window_bounds(400, FS, 20, 10)):
        ok = ~np.isnan(g[a:b, 0]) & ~np.isnan(g[a:b, 1])
        if ok.mean() >= 0.25:
            assert ds["mask"].values[k, 0, 0]
            ref = np.maximum(g[a:b, 0][ok] * g[a:b, 1][ok], 0).mean()
            assert float(ds["affinity"].values[k, 0, 0]) == pytest.approx(ref, rel=1e-5)
        else:
            assert not ds["mask"].values[k, 0, 0]


def test_masked_entries_do_not_reach_the_factorization():
    cohort = make_cohort(n_animals=2, n_time=400, n_neuron=5, missing=())
    tr = cohort["traces"].values.copy()
    tr[1, 100:220, 3] = np.nan
    cohort["traces"].values = tr
    ds = affinity_tensor(cohort, window_s=20, stride_s=10)
    mask = ds["mask"].values
    assert not mask.all() and mask.any(axis=(0, 1)).all()
    corrupted = ds.copy(deep=True)
    corrupted["affinity"].values[~mask] = 1e3
    a = fit_affinity(ds, 2, max_iter=30, random_state=0)
    b = fit_affinity(corrupted, 2, max_iter=30, random_state=0)
    for fa, fb in zip(a.factors, b.factors):
        np.testing.assert_allclose(fa, fb, rtol=1e-5, atol=1e-7)
    # A mask of the earlier (animal, pair) layout still broadcasts over windows.
    old = ds.assign(mask=ds["pair_present"])
    assert np.isfinite(fit_affinity(old, 2, max_iter=5, random_state=0).rel_error)


# --- brain-wide co-activation -----------------------------------------------------------

def shared_state_cohort(seed=3, n_neurons=20, n_time=960, shared=18):
    """Brain-wide state: ``shared`` of the neurons (81 % of pairs at 18/20) follow one
    common drive during 'state' windows (frames 320-639), each moves on its own otherwise."""
    rng = np.random.default_rng(seed)
    own = gaussian_filter1d(rng.normal(size=(n_time, n_neurons)), 4.0, axis=0) * 4
    common = gaussian_filter1d(rng.normal(size=n_time), 4.0) * 4
    on = np.zeros(n_time)
    on[320:640] = 1.0
    x = own.copy()
    x[:, :shared] = (1 - on[:, None]) * own[:, :shared] + on[:, None] * (common[:, None] + 0.3 * own[:, :shared])
    return xr.Dataset({"traces": (("animal", "time", "neuron"), x[None])},
                      coords={"animal": ["a0"], "time": np.arange(n_time) / FS,
                              "neuron": [f"n{i:02d}" for i in range(n_neurons)]},
                      attrs={"sampling_rate_hz": FS}), shared


def test_shared_coactivation_survives_the_default_and_median_erases_it():
    cohort, shared = shared_state_cohort()
    i, j = pair_index(cohort.sizes["neuron"])
    in_state = (i < shared) & (j < shared)
    assert in_state.mean() > 0.7
    default = affinity_tensor(cohort, window_s=20, stride_s=20)
    median = affinity_tensor(cohort, window_s=20, stride_s=20, chance="median")
    centers = default["window_center_s"].values * FS
    state = (centers > 320 + 40) & (centers < 640 - 40)
    quiet = (centers < 320 - 40) | (centers > 640 + 40)

    def contrast(ds):
        a = ds["affinity"].values[:, 0, :]
        return a[state][:, in_state].mean() / a[quiet][:, in_state].mean()

    # With a common drive, ĝ_i ĝ_j ≈ ĝ² ≥ 0 at every frame, against E max(uv, 0) = 1/π for
    # independent unit normals: the state raises the mean affinity of the shared pairs
    # (≈ 1 vs ≈ 0.32, times the MAD/SD scale factor) by well over 2×.
    assert contrast(default) > 2.0
    # The median over pairs is one of the shared pairs when they are > 50 % of pairs, so
    # subtracting it removes the state from the shared pairs themselves.
    a = median["affinity"].values[:, 0, :]
    assert a[state][:, in_state].mean() < 0.2 * default["affinity"].values[state][:, 0][:, in_state].mean()
    # Chance 'independent' (per pair) keeps the state, and takes the independent level to ~0.
    ind = affinity_tensor(cohort, window_s=20, stride_s=20, chance="independent")["affinity"].values[:, 0, :]
    assert ind[state][:, in_state].mean() > 5 * ind[quiet][:, in_state].mean()


# --- validation --------------------------------------------------------------------------

def test_fold_pairs_roundtrip():
    v = np.arange(10.0)
    m = fold_pairs(v, 5)
    np.testing.assert_array_equal(m, m.T)
    i, j = pair_index(5)
    np.testing.assert_array_equal(m[i, j], v)
    with pytest.raises(InvalidInputError):
        fold_pairs(np.arange(7.0), 5)


def test_memory_budget_fails_before_allocating():
    assert tensor_memory_bytes(240, 21, 109) > 240 * 21 * 5886 * 4  # the model: tests/test_connectome_memory.py
    with pytest.raises(MemoryBudgetError, match="max_memory_gb"):
        affinity_tensor(make_cohort(), window_s=20, stride_s=10, max_memory_gb=1e-6)
    with pytest.raises(MemoryError):
        affinity_tensor(make_cohort(), window_s=20, stride_s=10, max_memory_gb=1e-6)


def test_bad_settings():
    with pytest.raises(InvalidInputError, match="window_s"):
        window_bounds(100, FS, 0.1, 1.0)
    with pytest.raises(InvalidInputError, match="window_s"):
        window_bounds(10, FS, 100.0, 1.0)
    with pytest.raises(InvalidInputError, match="affinity"):
        windowed_affinity(three_neurons(), FS, window_bounds(800, FS, 10, 5), "granger")
    with pytest.raises(InvalidInputError, match="traces"):
        affinity_tensor(make_cohort().transpose("time", "animal", "neuron"))
    with pytest.raises(InvalidInputError, match="min_coverage"):
        affinity_tensor(make_cohort(), min_coverage=0)
    with pytest.raises(InvalidInputError, match="chance"):
        affinity_tensor(make_cohort(), chance="mean")
    # Independent traces have expected correlation 0: nothing to subtract.
    xr.testing.assert_equal(affinity_tensor(make_cohort(), method="correlation", chance="independent")["affinity"],
                            affinity_tensor(make_cohort(), method="correlation", chance="none")["affinity"])
    with pytest.raises(InvalidInputError, match="chance"):
        affinity_tensor(make_cohort(), method="differential", chance="independent", saturation=1.0)
