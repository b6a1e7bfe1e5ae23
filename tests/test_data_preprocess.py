"""Preprocessing against scipy and known answers; calcium → events against planted spikes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal, stats

from neurodyn.data import detrend, savgol_derivative, spikes_to_calcium, synthetic_cohort, zscore
from neurodyn.data.preprocess import apply_to_traces, calcium_to_events, gaussian_smooth
from neurodyn.errors import InvalidInputError


def test_linear_detrend_matches_scipy(rng):
    x = rng.normal(size=(200, 4)) + np.linspace(0, 5, 200)[:, None] * np.arange(1, 5)
    np.testing.assert_allclose(detrend(x), signal.detrend(x, axis=0), atol=1e-10)
    np.testing.assert_allclose(detrend(x.T, axis=1), signal.detrend(x.T, axis=1), atol=1e-10)


def test_polynomial_detrend_removes_a_planted_polynomial(rng):
    t = np.linspace(0, 1, 300)
    noise = rng.normal(size=(300, 2)) * 0.01
    x = (3 - 2 * t + 5 * t**2 - 4 * t**3)[:, None] + noise
    out = detrend(x, "polynomial", order=3)
    np.testing.assert_allclose(out, noise - np.polynomial.polynomial.Polynomial.fit(t, noise[:, 0], 3)(t)[:, None]
                               * [1, 0] - np.polynomial.polynomial.Polynomial.fit(t, noise[:, 1], 3)(t)[:, None]
                               * [0, 1], atol=1e-8)


def test_detrend_ignores_nan(rng):
    x = np.linspace(0, 10, 100)[:, None] + rng.normal(size=(100, 1)) * 0.1
    x[10:20] = np.nan
    out = detrend(x)
    assert np.isnan(out[10:20]).all() and np.isfinite(out[20:]).all()
    assert abs(np.nanmean(out)) < 1e-10 and np.nanstd(out) < 0.2


def test_highpass_keeps_fast_removes_slow():
    fs = 10.0
    t = np.arange(3000) / fs
    slow, fast = np.sin(2 * np.pi * 0.005 * t), np.sin(2 * np.pi * 1.0 * t)
    out = detrend((slow + fast)[:, None], "highpass", cutoff_hz=0.1, sampling_rate_hz=fs)[:, 0]
    core = slice(500, -500)
    np.testing.assert_allclose(out[core], fast[core], atol=0.03)
    with pytest.raises(InvalidInputError, match="field 'cutoff_hz'"):
        detrend(slow, "highpass", cutoff_hz=6.0, sampling_rate_hz=fs)
    with pytest.raises(InvalidInputError, match="field 'method'"):
        detrend(slow, "spline")


def test_zscore_matches_scipy_and_ignores_nan(rng):
    x = rng.normal(3, 2, size=(100, 3))
    np.testing.assert_allclose(zscore(x), stats.zscore(x, axis=0), atol=1e-12)
    x[5, 1] = np.nan
    np.testing.assert_allclose(zscore(x)[:, 1], stats.zscore(x[:, 1], nan_policy="omit"), atol=1e-12)
    flat = zscore(np.ones((10, 1)))
    np.testing.assert_array_equal(flat, 0.0)


def test_gaussian_smooth_matches_scipy_with_sigma_in_seconds(rng):
    x = rng.normal(size=(300, 2))
    np.testing.assert_allclose(gaussian_smooth(x, sigma_s=1.5, sampling_rate_hz=4.0),
                               ndimage.gaussian_filter1d(x, 6.0, axis=0, mode="reflect"), atol=1e-12)
    x[100:105, 0] = np.nan
    out = gaussian_smooth(x, 1.5, 4.0)
    assert np.isnan(out[100:105, 0]).all() and np.isfinite(out[:100]).all() and np.isfinite(out[105:]).all()
    const = np.full((50, 1), 2.0)
    const[20] = np.nan
    np.testing.assert_allclose(np.delete(gaussian_smooth(const, 1.0, 2.0), 20), 2.0)  # normalised convolution


def test_savgol_derivative_of_a_sine_is_the_cosine_per_second():
    fs, f = 20.0, 0.2
    t = np.arange(2000) / fs
    x = np.sin(2 * np.pi * f * t)[:, None]
    d = savgol_derivative(x, window_s=0.5, sampling_rate_hz=fs)
    # the window in seconds becomes 11 samples; units are per second (delta = 1/fs)
    np.testing.assert_allclose(d, signal.savgol_filter(x, 11, 2, deriv=1, delta=1 / fs, axis=0), atol=1e-12)
    exact = 2 * np.pi * f * np.cos(2 * np.pi * f * t)
    d3 = savgol_derivative(x, window_s=0.5, sampling_rate_hz=fs, polyorder=3)[:, 0]
    np.testing.assert_allclose(d3[20:-20], exact[20:-20], rtol=0, atol=1e-4)
    np.testing.assert_allclose(savgol_derivative(3.0 * t, 1.0, fs), 3.0, atol=1e-9)  # a line: slope, per second
    with pytest.raises(InvalidInputError, match="field 'window_s'"):
        savgol_derivative(t[:5], 10.0, fs)


@pytest.mark.parametrize("fs", [1.66, 4.0])
def test_events_recover_planted_spikes(fs):
    rng = np.random.default_rng(7)
    spikes = rng.poisson(0.05, size=(2000, 8))
    traces = spikes_to_calcium(spikes, fs, random_state=rng, noise_sd=0.1, drift_sd=0.02)
    counts = calcium_to_events(traces, fs)
    assert counts.dtype == np.int64 and counts.shape == spikes.shape and counts.min() >= 0
    r = [np.corrcoef(counts[:, j], spikes[:, j])[0, 1] for j in range(8)]
    assert min(r) > 0.9, r
    # binned counts: still high, and binning sums frames exactly
    binned = calcium_to_events(traces, fs, bin_s=3 / fs)
    np.testing.assert_array_equal(binned, counts[: 2000 // 3 * 3].reshape(-1, 3, 8).sum(axis=1))
    sb = spikes[: 2000 // 3 * 3].reshape(-1, 3, 8).sum(axis=1)
    assert min(np.corrcoef(binned[:, j], sb[:, j])[0, 1] for j in range(8)) > 0.9
    # a quiet neuron gives (almost) no events: false positives are rare
    quiet = calcium_to_events(rng.normal(0, 0.1, size=(2000, 1)), fs, threshold=3.0)
    assert quiet.sum() < 20


def test_events_track_the_planted_command_neurons():
    recs, truth = synthetic_cohort(1, 12, 1200, 2.0, random_state=4, noise_sd=0.05, drift_sd=0.0)
    counts = calcium_to_events(recs[0]["traces"].values, 2.0, bin_s=5.0)
    spikes = truth["spikes"].values[0][: counts.shape[0] * 10].reshape(counts.shape[0], 10, 12).sum(axis=1)
    r = [np.corrcoef(counts[:, j], spikes[:, j])[0, 1] for j in range(12)]
    assert np.mean(r) > 0.8, r


def test_apply_to_traces_on_recording_and_cohort():
    recs, _ = synthetic_cohort(2, 4, 100, 2.0, random_state=0)
    smoothed = apply_to_traces(recs[0], gaussian_smooth, sigma_s=1.0)
    np.testing.assert_allclose(smoothed["traces"].values, gaussian_smooth(recs[0]["traces"].values, 1.0, 2.0))
    from neurodyn.data import build_cohort

    cohort = build_cohort(recs)
    z = apply_to_traces(cohort, zscore)
    np.testing.assert_allclose(z["traces"].values.mean(axis=1), 0.0, atol=1e-5)
    with pytest.raises(InvalidInputError):
        apply_to_traces(recs[0], calcium_to_events, bin_s=5.0)
