"""The synthetic switching-GLM generator of Li et al. (ICLR 2024), section 5.1.

``S`` states with transition matrix ``Π = 0.005 + 0.975·I`` (S = 5 rows sum to 1),
per-pair type probabilities ``a0[n, n'] ~ Dirichlet(0.2, 1.6, 0.2)`` over
(inh, none, exc), each state's types drawn from ``a0``, strengths ``w̃ = ln(1 + 3U)``,
biases ``b = 0.1 (U − 0.5)``, bounded-sigmoid Poisson emissions with the exponential
history basis (K = 5).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neurodyn.errors import InvalidInputError
from neurodyn.states.emissions import PoissonGLM, exponential_basis
from neurodyn.states.messages import sample_states

__all__ = ["SyntheticHMMGLM", "paper_parameters", "sample_hmmglm", "paper_dataset"]


class SyntheticHMMGLM(NamedTuple):
    """Planted parameters (and, from :func:`paper_dataset`, data).

    Attributes
    ----------
    weights : (S, N, N)   types ⊙ strengths
    types : (S, N, N) in {−1, 0, 1}
    prior_probs : (N, N, 3)   ``a0`` over (inh, none, exc)
    bias : (N,)
    transmat : (S, S)
    initial : (S,)
    """

    weights: np.ndarray
    types: np.ndarray
    prior_probs: np.ndarray
    bias: np.ndarray
    transmat: np.ndarray
    initial: np.ndarray

    @property
    def prior_types(self) -> np.ndarray:
        """``argmax a0 − 1`` (N, N): the planted "connectome"."""
        return np.argmax(self.prior_probs, axis=-1) - 1


def paper_parameters(n_states: int = 5, n_neurons: int = 20, rng=None, *, concentration=(0.2, 1.6, 0.2),
                     stay: float = 0.975, leak: float = 0.005) -> SyntheticHMMGLM:
    """Draw planted parameters as in the paper's synthetic experiment."""
    rng = np.random.default_rng(rng)
    S, N = n_states, n_neurons
    if S < 1 or N < 1:
        raise InvalidInputError(f"n_states, n_neurons: expected >= 1, got {S}, {N}")
    a0 = rng.dirichlet(concentration, size=(N, N))
    cum = np.cumsum(a0, axis=-1)
    u = rng.random((S, N, N, 1))
    types = np.minimum((u > cum[None]).sum(-1), 2) - 1
    strength = np.log1p(3 * rng.random((S, N, N)))
    W = types * strength
    b = 0.1 * (rng.random(N) - 0.5)
    P = leak + stay * np.eye(S) if S > 1 else np.ones((1, 1))
    P = P / P.sum(1, keepdims=True)
    return SyntheticHMMGLM(W, types, a0, b, P, np.full(S, 1.0 / S))


def sample_hmmglm(params: SyntheticHMMGLM, n_time: int, rng=None, n_lags: int = 5, link: str = "sigmoid"):
    """One sequence of Poisson counts from a switching GLM.

    Returns
    -------
    x : ndarray, shape (n_time, N)
    z : ndarray of int, shape (n_time,)
    """
    rng = np.random.default_rng(rng)
    z = sample_states(params.initial, params.transmat, n_time, rng)
    basis = exponential_basis(n_lags)
    em = PoissonGLM(link)
    N = params.bias.shape[0]
    x = np.zeros((n_time, N))
    K = len(basis)
    for t in range(n_time):
        lo = max(0, t - K)
        past = x[lo:t][::-1]  # x_{t-1}, x_{t-2}, ...
        h = basis[: len(past)] @ past if len(past) else np.zeros(N)
        eta = params.bias + params.weights[z[t]] @ h
        x[t] = em.sample(eta, rng)
    return x, z


def paper_dataset(seed: int, n_train: int = 10, n_test: int = 10, n_time: int = 2000,
                  n_states: int = 5, n_neurons: int = 20, concentration=(0.2, 1.6, 0.2)):
    """Planted parameters and train/test sequences for one repeat of the benchmark.

    Returns
    -------
    truth : SyntheticHMMGLM
    train, test : list of (x, z) pairs
    """
    root = np.random.SeedSequence(seed)
    s_par, s_train, s_test = root.spawn(3)
    truth = paper_parameters(n_states, n_neurons, np.random.default_rng(s_par), concentration=concentration)
    train = [sample_hmmglm(truth, n_time, np.random.default_rng(s)) for s in s_train.spawn(n_train)]
    test = [sample_hmmglm(truth, n_time, np.random.default_rng(s)) for s in s_test.spawn(n_test)]
    return truth, train, test
