"""Metrics of the paper's synthetic benchmark (Li et al., ICLR 2024, Table 1).

- States are matched to the truth by the Hungarian algorithm on the confusion matrix.
- Weight error: ``Σ_s ‖Ŵ_{π(s)} − W_s‖_F`` over matched states (the paper does not state
  its norm; compare only between models scored here).
- Adjacency accuracy: balanced accuracy (mean per-class recall over inh/none/exc) of the
  per-state types, pooled over states and neuron pairs, and of the prior ("connectome")
  types. Models without explicit types convert weights with the paper's half-extreme
  rule (:func:`neurodyn.states.priors.weights_to_types`).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from neurodyn.errors import InvalidInputError

__all__ = [
    "match_states",
    "state_accuracy",
    "weight_error",
    "balanced_accuracy",
    "adjusted_mutual_information",
]


def match_states(true_states, inferred_states, n_states: int | None = None) -> np.ndarray:
    """Permutation ``perm`` with ``perm[true] = inferred`` maximising agreement.

    Parameters
    ----------
    true_states, inferred_states : array of int, shape (T,)
    n_states : int, optional
        Number of states (default: largest label + 1 of either input).

    Returns
    -------
    ndarray of int, shape (S,)
    """
    t = np.asarray(true_states).ravel()
    z = np.asarray(inferred_states).ravel()
    if t.shape != z.shape:
        raise InvalidInputError(f"states: expected equal shapes, got {t.shape} and {z.shape}")
    S = n_states or int(max(t.max(), z.max())) + 1
    conf = np.zeros((S, S))
    np.add.at(conf, (t, z), 1)
    rows, cols = linear_sum_assignment(-conf)
    perm = np.empty(S, dtype=np.int64)
    perm[rows] = cols
    return perm


def state_accuracy(true_states, inferred_states, n_states: int | None = None) -> float:
    """Fraction of bins whose inferred state equals the truth after Hungarian matching."""
    t = np.asarray(true_states).ravel()
    z = np.asarray(inferred_states).ravel()
    perm = match_states(t, z, n_states)
    return float(np.mean(perm[t] == z))


def weight_error(true_weights, weights, perm=None) -> float:
    """``Σ_s ‖Ŵ_{perm[s]} − W_s‖_F``; ``weights`` may hold one (1, N, N) matrix for a GLM."""
    Wt = np.asarray(true_weights, float)
    W = np.asarray(weights, float)
    if W.shape[0] == 1:
        W = np.repeat(W, Wt.shape[0], axis=0)
    elif perm is not None:
        W = W[np.asarray(perm)]
    return float(np.sqrt(((W - Wt) ** 2).sum(axis=(1, 2))).sum())


def balanced_accuracy(true_labels, labels) -> float:
    """Mean recall over the classes present in ``true_labels``."""
    t = np.asarray(true_labels).ravel()
    y = np.asarray(labels).ravel()
    recalls = [np.mean(y[t == c] == c) for c in np.unique(t)]
    return float(np.mean(recalls))


def adjusted_mutual_information(a, b) -> float:
    """Adjusted mutual information of two labelings (scikit-learn, arithmetic mean)."""
    from sklearn.metrics import adjusted_mutual_info_score

    return float(adjusted_mutual_info_score(np.asarray(a).ravel(), np.asarray(b).ravel()))
