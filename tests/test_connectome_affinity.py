"""Affinities and the window × animal × pair tensor."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurodyn.connectome.affinity import robust_derivative, window_bounds, windowed_affinity
from neurodyn.connectome.tensor import affinity_tensor, fold_pairs, pair_index, tensor_memory_bytes
from neurodyn.errors import InvalidInputError, MemoryBudgetError

FS = 4.0


def three_neurons(seed=0, n=800):
    """Neuron 0 and 1 rise together; neuron 2 is the mirror image of neuron 0."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    drive = np.sin(2 * np.pi * 0.05 * t) + 0.5 * np.sin(2 * np.pi * 0.13 * t + 1)
    x = np.stack([drive, 0.7 * drive + 0.3, -drive], axis=1) + 0.05 * rng.normal(size=(n, 3))
    return x


@pytest.mark.parametrize("method", ["differential", "correlation"])
def test_affinity_symmetric_nonnegative_and_ordered(method):
    x = three_neurons()
    windows = window_bounds(len(x), FS, 20.0, 10.0)
    a = windowed_affinity(x, FS, windows, method)
    assert a.shape == (len(windows), 3, 3)
    np.testing.assert_allclose(a, np.swapaxes(a, 1, 2), atol=1e-12)
    assert (a >= 0).all()
    # A co-rising pair scores far above an anti-correlated one, in every window.
    assert (a[:, 0, 1] > 0.8).all()
    assert (a[:, 0, 2] < 0.05).all()
    assert (a[:, 0, 1] > a[:, 0, 2] + 0.7).all()


def test_differential_sees_derivatives_not_levels():
    # Two neurons with the same slow level but opposite fast wiggles: level correlation is
    # high, co-movement of derivatives is low.
    t = np.arange(1200) / FS
    slow = 0.3 * t
    fast = 0.5 * np.sin(2 * np.pi * 0.5 * t)
    x = np.stack([slow + fast, slow - fast], axis=1)
    w = window_bounds(t.size, FS, 30.0, 30.0)
    diff = windowed_affinity(x, FS, w, "differential", smooth_s=0.25)[:, 0, 1]
    corr = windowed_affinity(x, FS, w, "correlation")[:, 0, 1]
    assert diff.mean() < 0.3 < 0.9 < corr.mean()


def test_saturation_and_unnormalised_variants():
    x = three_neurons()
    w = window_bounds(len(x), FS, 20.0, 10.0)
    sat = windowed_affinity(x, FS, w, "differential", saturation=1.0, normalize="none")
    raw = windowed_affinity(x, FS, w, "differential", normalize="none")
    assert (sat <= 1.0 + 1e-12).all() and (sat >= 0).all()
    assert raw.max() > sat.max()
    assert (raw[:, 0, 1] > raw[:, 0, 2]).all()


def test_robust_derivative_scale():
    x = three_neurons()
    g = robust_derivative(x, FS)
    mad = 1.4826 * np.median(np.abs(g - np.median(g, axis=0)), axis=0)
    np.testing.assert_allclose(mad, 1.0, rtol=1e-6)


def test_bad_window_and_method():
    with pytest.raises(InvalidInputError, match="window_s"):
        window_bounds(100, FS, 0.1, 1.0)
    with pytest.raises(InvalidInputError, match="window_s"):
        window_bounds(10, FS, 100.0, 1.0)
    with pytest.raises(InvalidInputError, match="affinity"):
        windowed_affinity(three_neurons(), FS, window_bounds(800, FS, 10, 5), "granger")


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
    ds = affinity_tensor(cohort, window_s=20, stride_s=10, chance="none")
    n_pairs = 6 * 5 // 2
    assert ds["affinity"].shape == (len(window_bounds(600, FS, 20, 10)), 3, n_pairs)
    assert ds["affinity"].dtype == np.float32
    i, j = pair_index(6)
    missing_pairs = (i == 2) | (j == 2)
    np.testing.assert_array_equal(ds["mask"].values[1], ~missing_pairs)
    assert ds["mask"].values[[0, 2]].all()
    assert (ds["affinity"].values[:, 1, missing_pairs] == 0).all()
    assert list(ds["pair_i"].values[:2]) == ["n000", "n000"] and ds["pair_j"].values[0] == "n001"
    # Each animal's slice equals the affinity of that animal alone (upper triangle).
    w = window_bounds(600, FS, 20, 10)
    direct = windowed_affinity(cohort["traces"].values[0], FS, w)
    np.testing.assert_allclose(ds["affinity"].values[:, 0, :], direct[:, i, j], rtol=1e-5)
    # The median chance level is removed per window and animal, leaving ≥ 0.
    centred = affinity_tensor(cohort, window_s=20, stride_s=10)
    obs = centred["affinity"].values[:, 0, :]
    assert (obs >= 0).all() and np.allclose(np.median(obs, axis=1), 0, atol=1e-6)


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


def test_bad_cohort():
    with pytest.raises(InvalidInputError, match="traces"):
        affinity_tensor(make_cohort().transpose("time", "animal", "neuron"))
