"""Stimulus ensembles of the Benucci, Saleem & Carandini (2013) adaptation experiment.

Gratings were flashed in rapid random sequence from a set of orientations (the
"Benucci grid": 21 orientations on the 180° ring).  In the uniform ensemble every
orientation is equally likely; in the biased ensemble the adapter is shown with
probability π.  Two conventions (:data:`CONVENTIONS`):

``authors`` (default) — the convention of the authors' analysis code (Duong et al. 2023,
  their Benucci-figure script): the adapter bins hold exactly π, split π/2 on the adapter
  bin and π/4 on each neighbour, and each of the other 18 bins holds (1 − π)/18:

    p_b = π · split_b (b ∈ {−1, 0, 1}),   p_b = (1 − π)/(n − 3) otherwise.          (2)

``mixture`` — a mixture of the uniform ensemble with the adapter bins:

    p = (1 − π) · uniform + π · (0.5 δ_adapter + 0.25 δ_left + 0.25 δ_right),       (2')

  which gives the adapter bins π + 3(1 − π)/21 in all (π = 0.3: 0.40 instead of 0.30), so
  the same π is a stronger bias than in the authors' analysis.

A fine grid subdivides every Benucci bin into equal sub-orientations; the bin's mass is
shared equally among them, so both grids describe the same ensemble.
"""

from __future__ import annotations

import numpy as np

from neurodyn.circuits.gain_control.network import PERIOD_DEG, ring_orientations
from neurodyn.errors import InvalidInputError

BENUCCI_N_ORIENTATIONS = 21
ADAPTER_SPLIT = (0.5, 0.25, 0.25)
CONVENTIONS = ("authors", "mixture")


def benucci_grid(n_orientations: int = BENUCCI_N_ORIENTATIONS, adapter_deg: float = 90.0) -> np.ndarray:
    """The experiment's stimulus orientations, one of them the adapter; shape (n,), degrees."""
    return ring_orientations(n_orientations, adapter_deg)


def fine_grid(n_per_bin: int, n_orientations: int = BENUCCI_N_ORIENTATIONS, adapter_deg: float = 90.0) -> np.ndarray:
    """``n_per_bin`` sub-orientations centred in each Benucci bin; shape (n_orientations·n_per_bin,).

    ``n_per_bin`` must be odd so that the bin centres (the Benucci orientations, the
    adapter among them) are on the fine grid.
    """
    if int(n_per_bin) != n_per_bin or n_per_bin < 1 or n_per_bin % 2 == 0:
        raise InvalidInputError(f"n_per_bin must be an odd integer >= 1, got {n_per_bin!r}", field="n_per_bin")
    return ring_orientations(int(n_orientations) * int(n_per_bin), adapter_deg)


def stimulus_bins(stimuli_deg, adapter_deg: float, n_orientations: int = BENUCCI_N_ORIENTATIONS) -> np.ndarray:
    """Signed Benucci-bin index of each stimulus relative to the adapter (0 = adapter bin)."""
    width = PERIOD_DEG / n_orientations
    delta = (np.asarray(stimuli_deg, dtype=float) - adapter_deg + PERIOD_DEG / 2) % PERIOD_DEG - PERIOD_DEG / 2
    return np.rint(delta / width).astype(int)


def stimulus_ensemble(stimuli_deg, adapter_deg: float = 90.0, adapter_probability: float = 0.0,
                      n_orientations: int = BENUCCI_N_ORIENTATIONS, split=ADAPTER_SPLIT,
                      convention: str = "authors") -> np.ndarray:
    """Stimulus probabilities (2) or (2') on a Benucci or fine grid.

    Parameters
    ----------
    stimuli_deg : array, shape (S,)
        Grid from :func:`benucci_grid` or :func:`fine_grid` (same ``n_orientations``).
    adapter_deg : float
        Adapter orientation (must be a bin centre of the grid).
    adapter_probability : float
        π in [0, 1); 0 is the uniform ensemble.
    split : 3 floats
        Shares of π on the adapter bin, the bin below and the bin above (sum 1).
    convention : {'authors', 'mixture'}
        (2): the adapter bins hold exactly π, the other bins (1 − π)/(n − 3) each;
        (2'): (1 − π)/n on every bin plus π on the adapter bins.

    Returns
    -------
    ndarray, shape (S,)
        Probabilities summing to 1.
    """
    if not 0.0 <= adapter_probability < 1.0:
        raise InvalidInputError(f"adapter probability must lie in [0, 1), got {adapter_probability!r}",
                                field="adapter_probability")
    split = np.asarray(split, dtype=float)
    if split.shape != (3,) or np.any(split < 0) or not np.isclose(split.sum(), 1.0):
        raise InvalidInputError(f"split must be 3 non-negative shares summing to 1, got {split.tolist()}",
                                field="split")
    if convention not in CONVENTIONS:
        raise InvalidInputError(f"unknown ensemble convention {convention!r}; expected one of {CONVENTIONS}",
                                field="ensemble_convention")
    bins = stimulus_bins(stimuli_deg, adapter_deg, n_orientations)
    n_bins = len(np.unique(bins))
    if n_bins != n_orientations:
        raise InvalidInputError(f"the grid covers {n_bins} Benucci bins, expected {n_orientations}; build it with "
                                "benucci_grid/fine_grid using the same n_orientations and adapter", field="stimuli_deg")
    half = n_orientations // 2
    adapter_bins = [half, half - 1, half + 1]   # adapter, below, above
    if convention == "mixture" or adapter_probability == 0.0:
        bin_mass = np.full(n_orientations, (1.0 - adapter_probability) / n_orientations)
    else:
        bin_mass = np.full(n_orientations, (1.0 - adapter_probability) / (n_orientations - 3))
        bin_mass[adapter_bins] = 0.0
    bin_mass[adapter_bins] += adapter_probability * split
    per_bin = np.bincount(bins + half, minlength=n_orientations)
    return bin_mass[bins + half] / per_bin[bins + half]
