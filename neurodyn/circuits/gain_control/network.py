"""The fixed recurrent ring network whose only adaptive parameters are single-neuron gains.

N orientation-tuned neurons sit on the orientation ring (period 180°).  Neuron ``i``
receives a feed-forward drive ``f_i(θ)`` (von Mises in 2θ), scaled by its gain ``g_i``,
and a fixed recurrent input ``Σ_j W_ij r_j``.  With linear dynamics

    τ dr/dt = −r + W r + G f(θ),        G = diag(g),

the steady state is

    r(θ) = (I − W)⁻¹ G f(θ) = M G f(θ)                                   (1)

(Duong, Bredenberg, Heeger & Simoncelli 2023, arXiv 2305.19869, the gain-modulated
recurrent circuit).  The gains multiply the feed-forward input only, so the fixed point
is stable for every gain vector exactly when every eigenvalue of W has real part < 1;
:func:`check_stability` enforces that before any steady state is computed.

Angles are in degrees throughout; arrays follow the backend of their input.
"""

from __future__ import annotations

import math

import numpy as np

from neurodyn.backend import device_of, get_namespace, to_numpy
from neurodyn.errors import InvalidInputError

PERIOD_DEG = 180.0


def wrap_orientation(delta_deg):
    """Orientation differences wrapped into [−90°, 90°) (any backend, or a float)."""
    return (delta_deg + PERIOD_DEG / 2) % PERIOD_DEG - PERIOD_DEG / 2


def ring_orientations(n: int, offset_deg: float = 0.0) -> np.ndarray:
    """``n`` orientations evenly spaced on the 180° ring, starting at ``offset_deg``.

    Returns
    -------
    ndarray, shape (n,)
        Orientations in degrees in [0, 180), sorted.
    """
    if int(n) != n or n < 2:
        raise InvalidInputError(f"need an integer number of orientations >= 2, got {n!r}", field="n")
    return np.sort((float(offset_deg) + np.arange(int(n)) * PERIOD_DEG / int(n)) % PERIOD_DEG)


def preferred_orientations(n_neurons: int, adapter_deg: float = 90.0) -> np.ndarray:
    """Preferred orientations of ``n_neurons`` channels, one of them at the adapter.

    Placing a channel on the adapter makes the population symmetric about it, so shifts
    on either side can be pooled by distance.
    """
    if int(n_neurons) != n_neurons or n_neurons < 3:
        raise InvalidInputError(f"need an integer n_neurons >= 3, got {n_neurons!r}", field="n_neurons")
    return ring_orientations(int(n_neurons), adapter_deg)


def von_mises_drive(stimuli_deg, preferred_deg, concentration: float, baseline: float = 0.0):
    """Feed-forward drive ``f_i(θ) = baseline + exp(κ (cos 2(θ − φ_i) − 1))``.

    Parameters
    ----------
    stimuli_deg : array, shape (S,)
        Stimulus orientations θ in degrees.
    preferred_deg : array, shape (N,)
        Preferred orientations φ_i in degrees (same backend as ``stimuli_deg``).
    concentration : float
        κ > 0; larger is narrower (half-width at half height ≈ ½·acos(1 − ln2/κ) rad).
    baseline : float
        Untuned drive added to every neuron (≥ 0), so responses to the orthogonal
        orientation are not exactly zero and response minima have a defined ratio.

    Returns
    -------
    array, shape (N, S)
        ``F[i, s] = f_i(θ_s)``, peak ``1 + baseline``.
    """
    if not concentration > 0:
        raise InvalidInputError(f"tuning concentration must be > 0, got {concentration!r}", field="concentration")
    if not baseline >= 0:
        raise InvalidInputError(f"baseline drive must be >= 0, got {baseline!r}", field="baseline")
    xp = get_namespace(stimuli_deg, preferred_deg)
    delta = xp.reshape(stimuli_deg, (1, -1)) - xp.reshape(preferred_deg, (-1, 1))
    phase = delta * (2.0 * math.pi / PERIOD_DEG)
    return baseline + xp.exp(concentration * (xp.cos(phase) - 1.0))


def ring_kernel(preferred_deg, strength: float, excitatory_concentration: float, inhibition: float = 0.0,
                inhibitory_concentration: float = 0.5):
    """Circulant recurrent matrix: local excitation minus (optionally) broad inhibition.

    ``W_ij ∝ exp(κ_E (cos 2Δ − 1)) − a · exp(κ_I (cos 2Δ − 1))`` with ``Δ = φ_i − φ_j``,
    scaled so that the largest eigenvalue of W equals ``strength``.  ``inhibition = 0``
    gives a purely excitatory bump; ``inhibition > 0`` with ``κ_I < κ_E`` a Mexican hat.

    Parameters
    ----------
    preferred_deg : array, shape (N,)
    strength : float
        Largest eigenvalue of W; must be < 1 for a stable network (0 gives W = 0).
    excitatory_concentration, inhibitory_concentration : float
        κ_E, κ_I > 0 (width of the excitatory and inhibitory profiles).
    inhibition : float
        a ≥ 0, peak of the inhibitory profile relative to the excitatory one.

    Returns
    -------
    array, shape (N, N)
        Symmetric W, same backend as ``preferred_deg``.
    """
    if not 0 <= strength < 1:
        raise InvalidInputError(f"recurrent strength (largest eigenvalue of W) must lie in [0, 1) for a stable "
                                f"network, got {strength!r}", field="strength")
    for name, value in (("excitatory_concentration", excitatory_concentration),
                        ("inhibitory_concentration", inhibitory_concentration)):
        if not value > 0:
            raise InvalidInputError(f"{name} must be > 0, got {value!r}", field=name)
    if not inhibition >= 0:
        raise InvalidInputError(f"inhibition must be >= 0, got {inhibition!r}", field="inhibition")
    xp = get_namespace(preferred_deg)
    n = preferred_deg.shape[0]
    if strength == 0:
        return xp.zeros((n, n), dtype=preferred_deg.dtype, device=device_of(preferred_deg))
    phase = (xp.reshape(preferred_deg, (-1, 1)) - xp.reshape(preferred_deg, (1, -1))) * (2.0 * math.pi / PERIOD_DEG)
    profile = xp.exp(excitatory_concentration * (xp.cos(phase) - 1.0))
    profile = profile - inhibition * xp.exp(inhibitory_concentration * (xp.cos(phase) - 1.0))
    # A symmetric circulant matrix: its top eigenvalue is exact from numpy's eigvalsh.
    top = float(np.max(np.linalg.eigvalsh(to_numpy(profile))))
    if not top > 0:
        raise InvalidInputError("the ring profile has no positive eigenvalue (inhibition dominates everywhere); "
                                "lower 'inhibition' or use strength 0", field="inhibition")
    return profile * (strength / top)


def check_stability(weights, margin: float = 1e-9) -> float:
    """Refuse a recurrent matrix whose steady state (1) is not a stable fixed point.

    The linear dynamics ``τ ṙ = −r + W r + G f`` converge to (1) iff every eigenvalue of
    W has real part < 1 (gains scale the input only, so they never enter the condition).

    Returns
    -------
    float
        The largest real part of W's eigenvalues.

    Raises
    ------
    InvalidInputError
        When that value is ≥ ``1 − margin`` or W is not square/finite.
    """
    w = to_numpy(weights)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise InvalidInputError(f"recurrent weights must be a square (N, N) matrix, got shape {w.shape}",
                                field="weights")
    if not np.all(np.isfinite(w)):
        raise InvalidInputError("recurrent weights contain NaN or inf", field="weights")
    top = float(np.max(np.linalg.eigvals(w).real))
    if top >= 1.0 - margin:
        raise InvalidInputError(f"unstable recurrent network: the largest real part of an eigenvalue of W is "
                                f"{top:.6g}, the steady state (I - W)^-1 G f needs it below 1; weaken the "
                                "recurrence (strength) or the synaptic update (rate)", field="weights")
    return top


def steady_state_operator(weights):
    """``M = (I − W)⁻¹`` after :func:`check_stability`; shape (N, N), backend of ``weights``."""
    check_stability(weights)
    xp = get_namespace(weights)
    n = weights.shape[0]
    eye = xp.eye(n, dtype=weights.dtype, device=device_of(weights))
    return xp.linalg.solve(eye - weights, eye)


def steady_state(operator, gains, drive):
    """Steady-state responses (1): ``R = M diag(g) F``.

    Parameters
    ----------
    operator : array, shape (N, N)
        ``M = (I − W)⁻¹`` from :func:`steady_state_operator`.
    gains : array, shape (N,)
    drive : array, shape (N, S)

    Returns
    -------
    array, shape (N, S)
        ``R[i, s] = r_i(θ_s)``.
    """
    xp = get_namespace(operator, gains, drive)
    return operator @ (xp.reshape(gains, (-1, 1)) * drive)
