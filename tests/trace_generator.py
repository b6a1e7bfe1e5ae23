"""A planted cohort for tests only: a latent Gaussian-process factor model with block loadings.

Kept apart from the library's generators (``neurodyn.connectome.synthetic``), which the
benchmarks use, so that the tests do not score the chain on the data it was tuned on:

    y_ai(t) = Σ_k p_k(t) · λ_ai · f_akc(i)(t) + σ_private · e_ai(t) + σ_noise · ε_ai(t)

- ``f_akc``: one latent per community, animal and component, a Gaussian process with a
  squared-exponential kernel (length scale ``length_s``), drawn exactly on a coarse grid
  by a Cholesky factor and linearly interpolated to the frames; ``e_ai``: each neuron's
  private latent, drawn the same way; ``ε``: white noise;
- ``p_k(t)``: sums of logistic on/off windows at random, non-overlapping times (no epochs);
- ``λ_ai``: positive loadings, uniform on [0.7, 1.3] (block loadings: a neuron loads on its
  community's latent only).

The signals are fluorescence-like directly (no spikes, no calcium kernel).  Returns a
cohort Dataset (dims animal, time, neuron) and a truth Dataset with the variables that
``neurodyn.connectome.synthetic.planted_recovery`` reads.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def _gp(n_time: int, fs: float, length_s: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` independent unit-variance GP draws (n_time, n), squared-exponential kernel."""
    step_s = length_s / 3.0
    grid = np.arange(0.0, n_time / fs + step_s, step_s)
    cov = np.exp(-0.5 * ((grid[:, None] - grid[None, :]) / length_s) ** 2)
    chol = np.linalg.cholesky(cov + 1e-6 * np.eye(grid.size))
    coarse = chol @ rng.standard_normal((grid.size, n))
    t = np.arange(n_time) / fs
    return np.stack([np.interp(t, grid, coarse[:, j]) for j in range(n)], axis=1)


def _windows_profile(n_time: int, fs: float, n_components: int, n_windows: int, rng) -> np.ndarray:
    """Profiles (K, T) in [0, 1]: logistic-edged windows, one component per slot, slots shuffled."""
    t = np.arange(n_time) / fs
    slots = np.linspace(0.0, t[-1], n_components * n_windows + 1)
    order = rng.permutation(np.repeat(np.arange(n_components), n_windows))
    profile = np.zeros((n_components, n_time))
    for s, k in enumerate(order):
        a, b = slots[s], slots[s + 1]
        profile[k] += 1 / (1 + np.exp(-(t - a) / 2.0)) - 1 / (1 + np.exp(-(t - b) / 2.0))
    return np.clip(profile, 0.0, 1.0)


def gp_block_cohort(seed: int = 0, *, n_animals: int = 2, n_neurons: int = 24, n_time: int = 960,
                    fs: float = 2.0, n_components: int = 2, n_communities: int = 2, community_size: int = 6,
                    n_windows: int = 3, length_s: float = 1.5, private_sd: float = 0.5, noise_sd: float = 0.2,
                    missing: int = 1):
    rng = np.random.default_rng(seed)
    names = [f"g{i:02d}" for i in range(n_neurons)]
    animals = [f"gp{a}" for a in range(n_animals)]
    profile = _windows_profile(n_time, fs, n_components, n_windows, rng)
    community = np.zeros((n_components, n_neurons), dtype=np.int64)
    for k in range(n_components):
        members = rng.permutation(n_neurons)[: n_communities * community_size]
        community[k, members] = np.repeat(np.arange(1, n_communities + 1), community_size)
    traces = np.empty((n_animals, n_time, n_neurons))
    present = np.ones((n_animals, n_neurons), dtype=bool)
    loading = np.ones((n_animals, n_components))
    for a in range(n_animals):
        lam = rng.uniform(0.7, 1.3, size=n_neurons)
        y = private_sd * _gp(n_time, fs, length_s, n_neurons, rng) + noise_sd * rng.standard_normal((n_time, n_neurons))
        for k in range(n_components):
            latents = _gp(n_time, fs, length_s, n_communities, rng)
            for c in range(1, n_communities + 1):
                idx = community[k] == c
                y[:, idx] += (profile[k] * latents[:, c - 1])[:, None] * lam[idx]
        if a > 0 and missing:
            outside = np.flatnonzero((community == 0).all(axis=0))
            gone = rng.choice(outside, size=min(missing, outside.size), replace=False)
            y[:, gone] = np.nan
            present[a, gone] = False
        traces[a] = y
    t = np.arange(n_time) / fs
    cohort = xr.Dataset({"traces": (("animal", "time", "neuron"), traces.astype(np.float32)),
                         "present": (("animal", "neuron"), present)},
                        coords={"animal": animals, "time": t, "neuron": names},
                        attrs={"sampling_rate_hz": fs})
    same = (community[:, :, None] == community[:, None, :]) & (community[:, :, None] > 0)
    same &= ~np.eye(n_neurons, dtype=bool)[None]
    truth = xr.Dataset({"temporal_profile": (("component", "time"), profile),
                        "animal_loading": (("animal", "component"), loading),
                        "community": (("component", "neuron"), community),
                        "pair_weight": (("component", "neuron", "neuron_b"), same.astype(float)),
                        "background": (("component",), np.zeros(n_components, dtype=bool))},
                       coords={"component": np.arange(n_components), "time": t, "animal": animals,
                               "neuron": names, "neuron_b": names})
    return cohort, truth
