"""Comparison model: adaptation by synaptic change instead of gain change.

After Westrick, Heeger & Landy (2016, J. Neurosci. 36:9805), adaptation re-weights the
connections between neurons so that the time-averaged product of every pair of
responses stays at its homeostatic set point.  Here the rule acts on the recurrent
weights of the same linear network (eq. 1), with the gains frozen at their unadapted
values, so the two models differ only in what adapts:

    W ← W − η · (⟨r rᵀ⟩_p − ⟨r rᵀ⟩_ref) / λ_max(⟨r rᵀ⟩_ref)                    (5)

an anti-Hebbian update (pairs that fire together more than their set point lose
excitation), iterated until the products match (relative Frobenius residual below
``tol``).  The set point ``⟨r rᵀ⟩_ref`` is the product matrix of the unadapted network
under the reference (uniform) ensemble.  Adapting N² weights takes many steps where the
gain model solves one N-dimensional linear system; the number of steps is returned.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neurodyn.backend import get_namespace, to_numpy
from neurodyn.circuits.gain_control.network import check_stability, steady_state, steady_state_operator
from neurodyn.errors import InvalidInputError


class SynapticAdaptation(NamedTuple):
    """Result of :func:`homeostatic_weights`."""

    weights: object          # (N, N) adapted W, backend of the input
    residuals: np.ndarray     # (n_iter + 1,) relative Frobenius residual of the products
    n_iter: int               # updates taken
    converged: bool


def response_products(weights, gains, drive, probabilities):
    """``⟨r rᵀ⟩_p = Σ_θ p(θ) r(θ) r(θ)ᵀ`` of the network (1); shape (N, N)."""
    xp = get_namespace(drive, probabilities)
    responses = steady_state(steady_state_operator(weights), gains, drive)
    return (responses * xp.reshape(probabilities, (1, -1))) @ responses.T


def homeostatic_weights(weights, gains, drive, probabilities, reference_probabilities, rate: float = 0.5,
                        max_iter: int = 2000, tol: float = 1e-3) -> SynapticAdaptation:
    """Iterate the homeostatic anti-Hebbian rule (5) from ``weights``.

    Parameters
    ----------
    weights : array, shape (N, N)
        Unadapted recurrent matrix (must be stable).
    gains : array, shape (N,)
        Frozen gains.
    drive : array, shape (N, S)
    probabilities, reference_probabilities : array, shape (S,)
        Adapting ensemble p and the ensemble that defines the set points.
    rate : float
        η > 0 (dimensionless: the update is scaled by the largest eigenvalue of the set-point products).
    max_iter : int
        Most updates.
    tol : float
        Stop when ``‖⟨rrᵀ⟩_p − ⟨rrᵀ⟩_ref‖_F / ‖⟨rrᵀ⟩_ref‖_F < tol``.

    Raises
    ------
    InvalidInputError
        If a step would make the network unstable even after shrinking it tenfold.
    """
    if not rate > 0:
        raise InvalidInputError(f"synaptic learning rate must be > 0, got {rate!r}", field="rate")
    if int(max_iter) != max_iter or max_iter < 0:
        raise InvalidInputError(f"max_iter must be a non-negative integer, got {max_iter!r}", field="max_iter")
    xp = get_namespace(weights, drive)
    check_stability(weights)
    target = response_products(weights, gains, drive, reference_probabilities)
    target_norm = float(xp.sqrt(xp.sum(target ** 2)))
    # The response products react to a weight change through the whole population, so the
    # step is scaled by the largest eigenvalue of the set-point matrix (not its diagonal):
    # the same η then works for any number of neurons.
    scale = float(np.max(np.linalg.eigvalsh(to_numpy(target))))
    current = weights
    residuals = []
    for step in range(int(max_iter) + 1):
        mismatch = response_products(current, gains, drive, probabilities) - target
        residuals.append(float(xp.sqrt(xp.sum(mismatch ** 2))) / target_norm)
        if residuals[-1] < tol or step == max_iter:
            break
        eta = rate
        for _ in range(4):
            candidate = current - (eta / scale) * mismatch
            try:
                check_stability(candidate)
                break
            except InvalidInputError:
                eta /= 2.0
        else:
            raise InvalidInputError("the homeostatic weight update drives the network unstable; lower the synaptic "
                                    "rate", field="rate")
        current = candidate
    n_iter = len(residuals) - 1
    return SynapticAdaptation(current, np.asarray(residuals), n_iter, residuals[-1] < tol)
