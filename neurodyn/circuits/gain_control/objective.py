"""Adaptive efficient coding objective and its closed-form optimal gains.

With steady-state responses ``r(θ) = M G f(θ)`` (network.py, eq. 1) the gains minimise

    L(g) = Σ_θ q(θ) ‖f(θ) − r(θ)‖²  +  λ Σ_θ p(θ) ‖r(θ)‖²                     (3)

* the first term is the **representation error**: how far the population response is
  from the stimulus drive it must represent, judged over a reference ensemble ``q``
  (the orientation range the system must stay able to encode; uniform by default);
* the second term is the **activity**: the total squared population response the
  current stimulus ensemble ``p`` actually evokes (a metabolic cost);
* λ ≥ 0 is the trade-off weight.

Writing ``C_x = F diag(x) Fᵀ`` (the ensemble second moment of the drive) and using
``Σ_θ x(θ) (g∘f)ᵀ A (g∘f) = gᵀ (A ∘ C_x) g`` (∘: Hadamard product),

    L(g) = gᵀ [(MᵀM) ∘ (C_q + λ C_p)] g − 2 gᵀ diag(Mᵀ C_q) + tr C_q,

a convex quadratic.  Its stationarity condition is the linear system

    [(MᵀM) ∘ (C_q + λ C_p)] g* = diag(Mᵀ C_q)                                  (4)

whose matrix is positive definite by the Schur product theorem (MᵀM ≻ 0 and
C_q + λ C_p ⪰ 0 with positive diagonal), so g* is unique.  The derivation and the reasons
for this form are in docs/gain_control.md (after Duong, Bredenberg, Heeger & Simoncelli
2023, arXiv 2305.19869, whose own objective trades stimulus fidelity against total
network activity and whose optimum is a Hadamard-product system of the same kind).

``accuracy_weighting`` β mixes the reference ensemble: ``q = (1 − β)·uniform + β·p``.
β = 0 (default) judges accuracy over all orientations; β = 1 judges it under the current
ensemble (with W = 0 every gain then equals 1/(1 + λ): no adaptation at all).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neurodyn.backend import get_namespace, to_numpy
from neurodyn.circuits.gain_control.network import steady_state
from neurodyn.errors import InvalidInputError


class ObjectiveTerms(NamedTuple):
    """The two terms of objective (3) and their weighted sum."""

    error: float      # Σ q ‖f − r‖²
    activity: float   # Σ p ‖r‖²
    total: float      # error + λ · activity


def _check_tradeoff(tradeoff: float) -> None:
    if not tradeoff >= 0:
        raise InvalidInputError(f"trade-off weight must be >= 0, got {tradeoff!r}", field="tradeoff")


def accuracy_ensemble(probabilities, accuracy_weighting: float = 0.0):
    """Reference ensemble ``q = (1 − β)·uniform + β·p`` of the error term; shape (S,)."""
    if not 0.0 <= accuracy_weighting <= 1.0:
        raise InvalidInputError(f"accuracy_weighting must lie in [0, 1], got {accuracy_weighting!r}",
                                field="accuracy_weighting")
    return (1.0 - accuracy_weighting) / probabilities.shape[0] + accuracy_weighting * probabilities


def second_moment(drive, probabilities):
    """``C = F diag(p) Fᵀ``, the ensemble second moment of the drive; shape (N, N)."""
    xp = get_namespace(drive, probabilities)
    return (drive * xp.reshape(probabilities, (1, -1))) @ drive.T


def _check_probabilities(probabilities, n_stimuli: int, field: str) -> None:
    p = to_numpy(probabilities)
    if p.shape != (n_stimuli,):
        raise InvalidInputError(f"expected {n_stimuli} stimulus probabilities, got shape {p.shape}", field=field)
    if np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise InvalidInputError("stimulus probabilities must be non-negative and sum to 1", field=field)


def objective_terms(gains, operator, drive, probabilities, tradeoff: float, reference=None) -> ObjectiveTerms:
    """Objective (3) evaluated from the responses themselves (no Hadamard identity).

    Parameters
    ----------
    gains : array, shape (N,)
    operator : array, shape (N, N)
        ``M = (I − W)⁻¹``.
    drive : array, shape (N, S)
    probabilities : array, shape (S,)
        Current ensemble p (activity term).
    tradeoff : float
        λ.
    reference : array, shape (S,), optional
        Reference ensemble q of the error term; uniform when omitted.
    """
    _check_tradeoff(tradeoff)
    xp = get_namespace(drive)
    q = reference if reference is not None else accuracy_ensemble(probabilities)
    responses = steady_state(operator, gains, drive)
    error = xp.sum(xp.sum((drive - responses) ** 2, axis=0) * q)
    activity = xp.sum(xp.sum(responses ** 2, axis=0) * probabilities)
    return ObjectiveTerms(float(error), float(activity), float(error + tradeoff * activity))


def objective_gradient(gains, operator, drive, probabilities, tradeoff: float, reference=None):
    """Gradient of (3) in g, from the responses: ``2 Σ_θ f(θ) ∘ Mᵀ[q (r − f) + λ p r]``; shape (N,)."""
    xp = get_namespace(drive)
    q = reference if reference is not None else accuracy_ensemble(probabilities)
    responses = steady_state(operator, gains, drive)
    residual = (responses - drive) * xp.reshape(q, (1, -1)) + tradeoff * responses * xp.reshape(probabilities, (1, -1))
    return 2.0 * xp.sum(drive * (operator.T @ residual), axis=1)


def optimal_gains(operator, drive, probabilities, tradeoff: float, reference=None):
    """Closed-form minimiser (4) of objective (3).

    Parameters
    ----------
    operator : array, shape (N, N)
        ``M = (I − W)⁻¹`` (W = 0 gives M = I and ``g_i = C_q,ii / (C_q,ii + λ C_p,ii)``).
    drive : array, shape (N, S)
    probabilities : array, shape (S,)
        Current ensemble p.
    tradeoff : float
        λ ≥ 0.
    reference : array, shape (S,), optional
        Reference ensemble q; uniform when omitted.

    Returns
    -------
    array, shape (N,)
        g*, on the backend of the inputs.
    """
    _check_tradeoff(tradeoff)
    _check_probabilities(probabilities, drive.shape[1], "probabilities")
    xp = get_namespace(operator, drive, probabilities)
    q = reference if reference is not None else accuracy_ensemble(probabilities)
    c_ref = second_moment(drive, q)
    c_cur = second_moment(drive, probabilities)
    system = (operator.T @ operator) * (c_ref + tradeoff * c_cur)
    rhs = xp.sum(operator * c_ref, axis=0)   # diag(Mᵀ C_q)_j = Σ_i M_ij C_q,ij
    return xp.linalg.solve(system, rhs)


def objective_hessian_product(vector, operator, drive, probabilities, tradeoff: float, reference=None):
    """Hessian of (3) times ``v``, from responses: ``2 Σ_θ f ∘ Mᵀ[(q + λ p) M (v ∘ f)]``; shape (N,)."""
    xp = get_namespace(drive)
    q = reference if reference is not None else accuracy_ensemble(probabilities)
    weight = xp.reshape(q + tradeoff * probabilities, (1, -1))
    return 2.0 * xp.sum(drive * (operator.T @ (steady_state(operator, vector, drive) * weight)), axis=1)


def optimal_gains_numerical(operator, drive, probabilities, tradeoff: float, reference=None, initial=None,
                            tol: float = 1e-13, max_iter: int = 200) -> np.ndarray:
    """Minimise (3) numerically: Newton-CG on the response-based objective, gradient, Hessian.

    Independent of the Hadamard algebra of :func:`optimal_gains` (every quantity is
    computed from the responses ``r(θ)``); used to check it.  Works on numpy copies of the
    inputs and returns a numpy array, shape (N,).
    """
    from scipy.optimize import minimize

    _check_tradeoff(tradeoff)
    m, f, p = (np.asarray(to_numpy(a), dtype=float) for a in (operator, drive, probabilities))
    q = accuracy_ensemble(p) if reference is None else np.asarray(to_numpy(reference), dtype=float)
    x0 = np.ones(f.shape[0]) if initial is None else np.asarray(to_numpy(initial), dtype=float)
    result = minimize(
        lambda g: objective_terms(g, m, f, p, tradeoff, q).total, x0, method="Newton-CG",
        jac=lambda g: objective_gradient(g, m, f, p, tradeoff, q),
        hessp=lambda g, v: objective_hessian_product(v, m, f, p, tradeoff, q),
        options={"xtol": tol, "maxiter": max_iter})
    return result.x
