"""Measurements of the adaptation effects, the same for every model.

Each function takes response matrices ``R`` of shape (N, S) (neurons × stimuli), as
produced by any of the models, so the recurrent-gain model and the comparison models
are judged by identical code.  The five effects (Benucci, Saleem & Carandini 2013;
Duong et al. 2023):

1. gain/response suppression strongest for neurons tuned near the adapter;
2. tuning-dependent changes of response maxima and minima (:func:`response_ratios`);
3. repulsion of preferred orientations from the adapter (:func:`preferred_orientation`,
   :func:`repulsion`);
4. decorrelation: the biased-ensemble covariance moves toward the uniform-ensemble one
   (:func:`population_covariance`, :func:`relative_frobenius_distance`);
5. equalisation of time-averaged responses (:func:`coefficient_of_variation`).
"""

from __future__ import annotations

from neurodyn.backend import get_namespace
from neurodyn.circuits.gain_control.network import PERIOD_DEG, wrap_orientation
from neurodyn.errors import InvalidInputError


def preferred_orientation(responses, stimuli_deg):
    """Peak of each tuning curve, refined by a parabola through the peak and its neighbours.

    Parameters
    ----------
    responses : array, shape (N, S)
        Tuning curves sampled on an evenly spaced ring grid ``stimuli_deg`` (S ≥ 3).
    stimuli_deg : array, shape (S,)
        Sorted, evenly spaced orientations in degrees.

    Returns
    -------
    array, shape (N,)
        Preferred orientations in degrees, in [0, 180).
    """
    xp = get_namespace(responses)
    n, s = responses.shape
    if s < 3:
        raise InvalidInputError(f"need >= 3 stimuli to locate a peak, got {s}", field="stimuli_deg")
    rows = xp.arange(n)
    peak = xp.argmax(responses, axis=1)
    left = responses[rows, (peak - 1) % s]
    centre = responses[rows, peak]
    right = responses[rows, (peak + 1) % s]
    curvature = left - 2.0 * centre + right
    safe = xp.where(curvature < 0, curvature, xp.ones_like(curvature) * -1.0)
    # The vertex of the parabola; a flat peak (zero curvature) keeps the grid maximum.
    offset = xp.where(curvature < 0, 0.5 * (left - right) / safe, xp.zeros_like(curvature))
    step = PERIOD_DEG / s
    return (stimuli_deg[peak] + offset * step) % PERIOD_DEG


def signed_distance(preferred_deg, adapter_deg: float):
    """Preferred orientation minus adapter, wrapped into [−90°, 90°)."""
    return wrap_orientation(preferred_deg - adapter_deg)


def orientation_shift(before_deg, after_deg):
    """Change of preferred orientation after − before, wrapped into [−90°, 90°)."""
    return wrap_orientation(after_deg - before_deg)


def repulsion(shift_deg, distance_deg):
    """Shift signed so that positive is away from the adapter (0 for the adapter channel
    and the orthogonal one, whose direction of 'away' is undefined)."""
    xp = get_namespace(shift_deg)
    direction = xp.sign(distance_deg)
    direction = xp.where(xp.abs(distance_deg) >= PERIOD_DEG / 2 - 1e-9, xp.zeros_like(direction), direction)
    return shift_deg * direction


def response_ratios(before, after):
    """Per-neuron ratios of tuning-curve maxima and minima, after / before; each shape (N,).

    Pure gain scaling (W = 0) gives identical maximum and minimum ratios; recurrence
    makes them differ, depending on the neuron's preference.
    """
    xp = get_namespace(before, after)
    return xp.max(after, axis=1) / xp.max(before, axis=1), xp.min(after, axis=1) / xp.min(before, axis=1)


def response_at(responses, stimuli_deg, orientation_deg: float):
    """Responses to the grid stimulus closest to ``orientation_deg``; shape (N,)."""
    xp = get_namespace(responses)
    index = int(xp.argmin(xp.abs(wrap_orientation(stimuli_deg - orientation_deg))))
    return responses[:, index]


def mean_responses(responses, probabilities):
    """Time-averaged responses ``Σ_θ p(θ) r(θ)`` under an ensemble; shape (N,)."""
    return responses @ probabilities


def population_covariance(responses, probabilities):
    """Stimulus-driven covariance ``Σ_θ p (r − r̄)(r − r̄)ᵀ``; shape (N, N)."""
    xp = get_namespace(responses, probabilities)
    centred = responses - xp.reshape(mean_responses(responses, probabilities), (-1, 1))
    return (centred * xp.reshape(probabilities, (1, -1))) @ centred.T


def correlation_from_covariance(covariance):
    """Pearson correlation matrix of a covariance; shape (N, N)."""
    xp = get_namespace(covariance)
    scale = xp.sqrt(xp.linalg.diagonal(covariance))
    return covariance / (xp.reshape(scale, (-1, 1)) * xp.reshape(scale, (1, -1)))


def relative_frobenius_distance(matrix, reference):
    """``‖A − B‖_F / ‖B‖_F``."""
    xp = get_namespace(matrix, reference)
    return float(xp.sqrt(xp.sum((matrix - reference) ** 2)) / xp.sqrt(xp.sum(reference ** 2)))


def coefficient_of_variation(values):
    """Standard deviation over mean across neurons (population spread of mean responses)."""
    xp = get_namespace(values)
    mean = xp.mean(values)
    return float(xp.sqrt(xp.mean((values - mean) ** 2)) / mean)


def suppression_centre(suppression, distance_deg) -> float:
    """|distance| from the adapter of the most suppressed neuron, degrees."""
    xp = get_namespace(suppression)
    return float(xp.abs(distance_deg[int(xp.argmax(suppression))]))



def population_ratio(before, after):
    """Population response to each stimulus after / before: ``Σ_i r_i^after(θ) / Σ_i r_i^before(θ)``; shape (S,).

    Benucci et al. (2013) found adaptation to suppress the population response to the
    adapter more than the response to other stimuli (stimulus-specific suppression).
    """
    xp = get_namespace(before, after)
    return xp.sum(after, axis=0) / xp.sum(before, axis=0)


def separable_fit(before, after):
    """Fit the response change as responsivity × stimulus factor, ``r_after/r_before ≈ a(φ_i) b(θ)``.

    Benucci et al. (2013) describe adaptation as such a product: a factor per neuron (its
    responsivity, set by its preference φ) times a factor per stimulus (stimulus-specific
    suppression).  Taking logs, ``log(r_after/r_before) = α_i + β_θ`` is a two-way additive
    model whose least-squares fit is the row and column means of the log-ratio matrix;
    ``b`` is normalised to geometric mean 1 over stimuli (``a`` carries the overall level).

    Parameters
    ----------
    before, after : array, shape (N, S)
        Strictly positive responses.

    Returns
    -------
    a : ndarray, shape (N,)
    b : ndarray, shape (S,)
    variance_explained : float
        ``1 − SS_residual / SS_total`` of the log ratios around their grand mean (1 when
        the change is exactly separable; 1 with ``b ≡ 1`` for pure gain scaling).
    """
    import numpy as np

    from neurodyn.backend import to_numpy

    b0, a1 = np.asarray(to_numpy(before), dtype=float), np.asarray(to_numpy(after), dtype=float)
    if np.any(b0 <= 0) or np.any(a1 <= 0):
        raise InvalidInputError("the separable fit needs strictly positive responses before and after adaptation",
                                field="responses")
    log_ratio = np.log(a1 / b0)
    grand = log_ratio.mean()
    alpha = log_ratio.mean(axis=1) - grand
    beta = log_ratio.mean(axis=0) - grand
    fitted = grand + alpha[:, None] + beta[None, :]
    total = float(np.sum((log_ratio - grand) ** 2))
    resid = float(np.sum((log_ratio - fitted) ** 2))
    explained = 1.0 - resid / total if total > 0 else 1.0
    return np.exp(grand + alpha), np.exp(beta), explained
