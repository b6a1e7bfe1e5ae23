"""Stimulus ensembles of the Benucci, Saleem & Carandini (2013) adaptation experiment.

Gratings were flashed in rapid random sequence from a set of orientations (the
"Benucci grid": 21 orientations on the 180° ring).  In the uniform ensemble every
orientation is equally likely; in the biased ensemble one orientation, the adapter, is
shown with extra probability π.  Following the analysis of those data (Duong et al. 2023),
the adapter mass π is split 0.5 / 0.25 / 0.25 over the adapter bin and its two
neighbouring bins, and the remaining mass 1 − π is spread uniformly:

    p = (1 − π) · uniform + π · (0.5 δ_adapter + 0.25 δ_left + 0.25 δ_right).        (2)

A fine grid subdivides every Benucci bin into equal sub-orientations; the bin's mass is
shared equally among them, so both grids describe the same ensemble.
"""

from __future__ import annotations

import numpy as np

from neurodyn.circuits.gain_control.network import PERIOD_DEG, ring_orientations
from neurodyn.errors import InvalidInputError

BENUCCI_N_ORIENTATIONS = 21
ADAPTER_SPLIT = (0.5, 0.25, 0.25)


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
                      n_orientations: int = BENUCCI_N_ORIENTATIONS, split=ADAPTER_SPLIT) -> np.ndarray:
    """Stimulus probabilities (2) on a Benucci or fine grid.

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
    bins = stimulus_bins(stimuli_deg, adapter_deg, n_orientations)
    n_bins = len(np.unique(bins))
    if n_bins != n_orientations:
        raise InvalidInputError(f"the grid covers {n_bins} Benucci bins, expected {n_orientations}; build it with "
                                "benucci_grid/fine_grid using the same n_orientations and adapter", field="stimuli_deg")
    bin_mass = np.full(n_orientations, (1.0 - adapter_probability) / n_orientations)
    half = n_orientations // 2
    index = {b: (b + half) for b in range(-half, n_orientations - half)}
    bin_mass[index[0]] += adapter_probability * split[0]
    bin_mass[index[-1]] += adapter_probability * split[1]
    bin_mass[index[1]] += adapter_probability * split[2]
    per_bin = np.bincount(bins + half, minlength=n_orientations)
    return bin_mass[bins + half] / per_bin[bins + half]
