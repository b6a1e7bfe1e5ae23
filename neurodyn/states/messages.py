"""Message passing for hidden Markov chains: forward–backward, Viterbi, sampling.

Pure functions on arrays. ``S`` hidden states, ``T`` time bins, optionally ``B``
sequences of equal length processed together (the loop over time is shared, which is
what makes many short sequences cheap in numpy).

The forward–backward pass is the *scaled* recursion (Rabiner 1989, eq. 91–93) run on
per-bin emission likelihoods that are first divided by their per-bin maximum, so that no
quantity leaves the floating-point range however long the sequence is: every
normaliser lies in (0, 1] up to the factor removed, and the log-likelihood is
accumulated as a sum of logs. Viterbi runs in log space.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neurodyn.errors import InvalidInputError

__all__ = [
    "Posterior",
    "forward_backward",
    "viterbi",
    "sample_states",
    "log_normalize",
]


class Posterior(NamedTuple):
    """Result of :func:`forward_backward`.

    Attributes
    ----------
    log_likelihood : float or ndarray, shape () or (B,)
        Marginal log-likelihood ``ln p(x_{1:T})`` of each sequence.
    posterior : ndarray, shape (T, S) or (B, T, S)
        Smoothed state marginals ``γ_t(s) = p(z_t = s | x_{1:T})``.
    expected_transitions : ndarray, shape (S, S) or (B, S, S)
        ``Σ_t p(z_{t-1} = s, z_t = s' | x_{1:T})``, summed over time.
    """

    log_likelihood: np.ndarray
    posterior: np.ndarray
    expected_transitions: np.ndarray


def log_normalize(log_p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Subtract the log-sum-exp along ``axis`` (log-probabilities that sum to 1)."""
    m = np.max(log_p, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return log_p - (m + np.log(np.sum(np.exp(log_p - m), axis=axis, keepdims=True)))


def _check(log_initial, log_transmat, log_lik):
    log_lik = np.asarray(log_lik, dtype=float)
    if log_lik.ndim not in (2, 3):
        raise InvalidInputError(f"log_lik: expected shape (T, S) or (B, T, S), got {log_lik.shape}")
    S = log_lik.shape[-1]
    log_initial = np.asarray(log_initial, dtype=float)
    log_transmat = np.asarray(log_transmat, dtype=float)
    if log_initial.shape != (S,):
        raise InvalidInputError(f"log_initial: expected shape ({S},), got {log_initial.shape}")
    if log_transmat.shape != (S, S):
        raise InvalidInputError(f"log_transmat: expected shape ({S}, {S}), got {log_transmat.shape}")
    if np.isnan(log_lik).any():
        raise InvalidInputError("log_lik: contains NaN; expected finite log-likelihoods or -inf")
    if np.isposinf(log_lik).any():
        raise InvalidInputError("log_lik: contains +inf; expected finite log-likelihoods or -inf", field="log_lik")
    return log_initial, log_transmat, log_lik


def _check_possible(ok: np.ndarray) -> None:
    """Refuse observations that no state path can explain (else NaN posteriors follow).

    ``ok`` is (B, T') bool, False where the forward normaliser is zero: every state is
    impossible in that bin, or none of the possible ones is reachable from the previous bin.
    """
    if ok.all():
        return
    b, t = (int(i[0]) for i in np.nonzero(~ok))
    where = f"sequence {b}, bin {t}" if ok.shape[1] > 1 else f"sequence {b}"
    raise InvalidInputError(f"log_lik: zero probability under the model ({where}): every state has log-likelihood "
                            "-inf there or cannot be reached from the previous bin's states; expected at least one "
                            "possible, reachable state per bin", field="log_lik")


def forward_backward(log_initial, log_transmat, log_lik) -> Posterior:
    """Exact posterior over a hidden Markov chain (scaled forward–backward).

    Parameters
    ----------
    log_initial : ndarray, shape (S,)
        ``ln π0``.
    log_transmat : ndarray, shape (S, S)
        ``ln Π`` with ``Π[s, s'] = p(z_t = s' | z_{t-1} = s)``.
    log_lik : ndarray, shape (T, S) or (B, T, S)
        Emission log-likelihoods ``ln p(x_t | z_t = s)``.

    Returns
    -------
    Posterior
        Log-likelihood, state marginals and summed expected transitions.
    """
    log_initial, log_transmat, log_lik = _check(log_initial, log_transmat, log_lik)
    single = log_lik.ndim == 2
    if single:
        log_lik = log_lik[None]
    B, T, S = log_lik.shape
    if T == 0:
        raise InvalidInputError("log_lik: expected at least one time bin")
    shift = np.max(log_lik, axis=2, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    lik = np.exp(log_lik - shift)  # (B, T, S), max 1 per bin
    A = np.exp(log_transmat)
    pi0 = np.exp(log_initial)

    alpha = np.empty((B, T, S))
    scale = np.empty((B, T))
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero normaliser is reported below
        a = pi0[None] * lik[:, 0]
        c = a.sum(1)
        alpha[:, 0] = a / c[:, None]
        scale[:, 0] = c
        for t in range(1, T):
            a = (alpha[:, t - 1] @ A) * lik[:, t]
            c = a.sum(1)
            alpha[:, t] = a / c[:, None]
            scale[:, t] = c
    _check_possible(scale > 0)
    with np.errstate(divide="ignore"):
        loglik = np.log(scale).sum(1) + shift[:, :, 0].sum(1)

    beta = np.empty((B, T, S))
    beta[:, T - 1] = 1.0
    for t in range(T - 2, -1, -1):
        beta[:, t] = ((lik[:, t + 1] * beta[:, t + 1]) @ A.T) / scale[:, t + 1, None]
    gamma = alpha * beta
    gamma /= gamma.sum(2, keepdims=True)
    if T > 1:
        right = lik[:, 1:] * beta[:, 1:] / scale[:, 1:, None]  # (B, T-1, S)
        xi = np.einsum("bti,btj->bij", alpha[:, :-1], right) * A[None]
    else:
        xi = np.zeros((B, S, S))
    if single:
        return Posterior(loglik[0], gamma[0], xi[0])
    return Posterior(loglik, gamma, xi)


def viterbi(log_initial, log_transmat, log_lik) -> np.ndarray:
    """Most probable state path ``argmax_z p(z_{1:T} | x_{1:T})`` (log-space max-product).

    Parameters
    ----------
    log_initial : ndarray, shape (S,)
    log_transmat : ndarray, shape (S, S)
    log_lik : ndarray, shape (T, S) or (B, T, S)

    Returns
    -------
    ndarray of int, shape (T,) or (B, T)
    """
    log_initial, log_transmat, log_lik = _check(log_initial, log_transmat, log_lik)
    single = log_lik.ndim == 2
    if single:
        log_lik = log_lik[None]
    B, T, S = log_lik.shape
    back = np.empty((B, T, S), dtype=np.int64)
    delta = log_initial[None] + log_lik[:, 0]
    for t in range(1, T):
        cand = delta[:, :, None] + log_transmat[None]  # (B, from, to)
        back[:, t] = np.argmax(cand, axis=1)
        delta = np.take_along_axis(cand, back[:, t][:, None, :], axis=1)[:, 0] + log_lik[:, t]
    _check_possible(np.isfinite(delta.max(axis=1))[:, None])
    path = np.empty((B, T), dtype=np.int64)
    path[:, T - 1] = np.argmax(delta, axis=1)
    for t in range(T - 1, 0, -1):
        path[:, t - 1] = back[np.arange(B), t, path[:, t]]
    return path[0] if single else path


def sample_states(initial, transmat, n_time: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one state path of a Markov chain.

    Parameters
    ----------
    initial : ndarray, shape (S,)
        Initial distribution ``π0``.
    transmat : ndarray, shape (S, S)
        Row-stochastic transition matrix ``Π``.
    n_time : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int, shape (n_time,)
    """
    initial = np.asarray(initial, float)
    transmat = np.asarray(transmat, float)
    cum = np.cumsum(transmat, axis=1)
    u = rng.random(n_time)
    z = np.empty(n_time, dtype=np.int64)
    z[0] = min(np.searchsorted(np.cumsum(initial), u[0] * initial.sum(), side="right"), len(initial) - 1)
    for t in range(1, n_time):
        row = cum[z[t - 1]]
        z[t] = min(np.searchsorted(row, u[t] * row[-1], side="right"), len(initial) - 1)
    return z
