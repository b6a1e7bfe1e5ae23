"""Priors over the per-state coupling matrices ``W_s`` (Li et al., ICLR 2024, section 3).

Each prior owns a parametrisation of the weights, maps it to ``W`` (shape ``(S, N, N)``),
pulls a gradient in ``W`` back to its own parameters, and scores its log-density:

- :class:`NoPrior` — plain HMM-GLM ("HG"); optionally an L1 penalty ("HG-L1"),
  smoothed as ``λ Σ sqrt(W² + ε²)`` so that the M-step stays a smooth problem.
- :class:`GaussianPrior` — "GHG": ``W_s ~ N(W0, σ²)`` independently per state, with the
  shared ``W0`` learned (paper: σ = 1/3).
- :class:`OneHotPrior` — "OHG": ``W_s = (a_s^{exc} − a_s^{inh}) ⊙ softplus(ρ_s)`` with
  the connection type ``a_s[n, n'] ∈ Δ²`` over ``(inh, none, exc)`` and a shared
  Gumbel-softmax (Concrete) prior with learned logits ``A0`` (N, N, 3) and
  temperature τ (paper: 0.2).

The one-hot prior is fitted here deterministically: the types are relaxed points
``a_s = softmax(L_s)`` with free logits ``L_s`` and the M-step maximises the likelihood
plus the **ExpConcrete** log-density of ``ln a_s`` (Maddison, Mnih & Teh 2017, eq. 26,
the Concrete density of eq. in the paper times the Jacobian of the log map), which —
unlike the Concrete density on the simplex — is bounded, so MAP is well posed and EM is
monotone. Its mode is ``a ∝ α^{1/τ}``: with τ = 0.2 the prior pushes every type toward
the one-hot vertex that ``A0`` favours. Evaluation (``hard_weights``) uses the one-hot
argmax of ``a_s``, as in the paper; adjacency is ``argmax − 1 ∈ {−1, 0, +1}``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln, log_softmax, logsumexp, softmax

from neurodyn.errors import InvalidInputError

__all__ = [
    "NoPrior",
    "GaussianPrior",
    "OneHotPrior",
    "make_prior",
    "concrete_log_density",
    "exp_concrete_log_density",
    "weights_to_types",
]

INH, NONE, EXC = 0, 1, 2


def _softplus(x):
    return np.logaddexp(0.0, x)


def _inv_softplus(y):
    y = np.maximum(y, 1e-8)
    return y + np.log(-np.expm1(-y))


def concrete_log_density(a, log_alpha, tau: float) -> np.ndarray:
    """Log-density of the Concrete / Gumbel-softmax distribution on the simplex.

    ``ln p(a) = ln Γ(k) + (k−1) ln τ − k ln Σ_i α_i a_i^{−τ} + Σ_i (ln α_i − (τ+1) ln a_i)``
    (Maddison et al. 2017, eq. 20; Jang et al. 2017), density with respect to the
    Lebesgue measure on the first ``k−1`` coordinates.

    Parameters
    ----------
    a : ndarray, shape (..., k)
        Points on the open simplex.
    log_alpha : ndarray, shape (..., k)
        Normalised log location ``ln α`` (log-softmax of the logits).
    tau : float
        Temperature.
    """
    a = np.asarray(a, float)
    k = a.shape[-1]
    la = np.log(a)
    return (
        gammaln(k)
        + (k - 1) * np.log(tau)
        - k * logsumexp(log_alpha - tau * la, axis=-1)
        + np.sum(log_alpha - (tau + 1) * la, axis=-1)
    )


def exp_concrete_log_density(log_a, log_alpha, tau: float, return_grad: bool = False):
    """Log-density of ``ln a`` when ``a`` is Concrete (the "ExpConcrete" distribution).

    ``ln q(y) = ln Γ(k) + (k−1) ln τ + Σ_i u_i − k LSE(u)``, ``u_i = ln α_i − τ y_i``,
    ``y = ln a`` (Maddison et al. 2017, eq. 26). Equal to the Concrete density times the
    Jacobian ``Π a_i`` of ``y ↦ a``.

    Returns the value (shape ``(...)``) and, with ``return_grad``, the gradients
    ``(∂/∂y, ∂/∂ln α)``; both sum to zero over the last axis.
    """
    k = log_a.shape[-1]
    u = log_alpha - tau * log_a
    lse = logsumexp(u, axis=-1, keepdims=True)
    value = gammaln(k) + (k - 1) * np.log(tau) + u.sum(-1) - k * lse[..., 0]
    if not return_grad:
        return value
    g = 1.0 - k * np.exp(u - lse)
    return value, -tau * g, g


def weights_to_types(W) -> np.ndarray:
    """Paper's conversion of weights to types: ``w ≥ max/2 → +1``, ``w ≤ min/2 → −1``, else 0.

    Parameters
    ----------
    W : ndarray, shape (..., N, N)
        Thresholds are taken per matrix (the last two axes).
    """
    W = np.asarray(W, float)
    hi = W.max(axis=(-2, -1), keepdims=True)
    lo = W.min(axis=(-2, -1), keepdims=True)
    out = np.zeros(W.shape, dtype=np.int64)
    out[(W >= hi / 2) & (hi > 0)] = 1
    out[(W <= lo / 2) & (lo < 0)] = -1
    return out


class NoPrior:
    """No prior ("HG"); ``l1 > 0`` adds ``−l1 Σ sqrt(W² + ε²)`` ("HG-L1")."""

    name = "none"

    def __init__(self, l1: float = 0.0, eps: float = 1e-3):
        self.l1 = float(l1)
        self.eps = float(eps)

    def init(self, W, rng):
        return {"W": np.array(W, float)}

    def weights(self, p):
        return p["W"]

    hard_weights = weights

    def pullback(self, p, dW):
        return {"W": dW}

    def log_prior(self, p):
        if self.l1 == 0:
            return 0.0, {"W": np.zeros_like(p["W"])}
        r = np.sqrt(p["W"] ** 2 + self.eps**2)
        return -self.l1 * float(r.sum()), {"W": -self.l1 * p["W"] / r}

    def types(self, p):
        return weights_to_types(p["W"])

    def prior_weights(self, p):
        return p["W"].mean(0)

    def prior_types(self, p):
        return weights_to_types(self.prior_weights(p))

    def permute(self, p, perm):
        return {"W": p["W"][perm]}


class GaussianPrior:
    """``W_s ~ N(W0, σ² I)`` per state with learned shared mean ``W0`` ("GHG")."""

    name = "gaussian"

    def __init__(self, sigma: float = 1.0 / 3.0):
        if sigma <= 0:
            raise InvalidInputError(f"prior sigma: expected > 0, got {sigma}")
        self.sigma = float(sigma)

    def init(self, W, rng):
        W = np.array(W, float)
        return {"W": W, "W0": W.mean(0)}

    def weights(self, p):
        return p["W"]

    hard_weights = weights

    def pullback(self, p, dW):
        return {"W": dW, "W0": np.zeros_like(p["W0"])}

    def log_prior(self, p):
        D = p["W"] - p["W0"][None]
        v = -0.5 * float((D**2).sum()) / self.sigma**2
        return v, {"W": -D / self.sigma**2, "W0": D.sum(0) / self.sigma**2}

    def types(self, p):
        return weights_to_types(p["W"])

    def prior_weights(self, p):
        return p["W0"]

    def prior_types(self, p):
        return weights_to_types(p["W0"])

    def permute(self, p, perm):
        return {"W": p["W"][perm], "W0": p["W0"]}


class OneHotPrior:
    """One-hot type prior ("OHG") with shared Concrete logits ``A0`` and temperature τ.

    Parameters
    ----------
    tau : float
        Concrete temperature (paper: 0.2).
    init_scale : float
        Logit given to the sign of an initial weight of one standard deviation.
    free_diagonal : bool
        Self-history weights ``W_s[n, n]`` are free real parameters outside the type
        prior (parameter ``diag``, shape (S, N)). Use it for autoregressive emissions,
        where the self term models the indicator's decay rather than a connection; the
        paper's synthetic protocol types the diagonal like any pair (False).
    frozen_types : bool
        Hold the type logits fixed (used after rounding the types to one-hot).
    """

    name = "onehot"

    def __init__(self, tau: float = 0.2, init_scale: float = 2.0, frozen_types: bool = False,
                 free_diagonal: bool = False):
        if tau <= 0:
            raise InvalidInputError(f"prior tau: expected > 0, got {tau}")
        self.tau = float(tau)
        self.init_scale = float(init_scale)
        self.free_diagonal = bool(free_diagonal)
        # Frozen types: the logits L are held fixed (used to refit strengths after the
        # types have been rounded to one-hot).
        self.frozen_types = bool(frozen_types)

    def harden(self, p, scale: float = 30.0):
        """Parameters with the types rounded to one-hot (logits ``scale`` apart)."""
        onehot = np.eye(3)[np.argmax(p["L"], axis=-1)]
        return {**p, "L": scale * onehot}

    def init(self, W, rng):
        W = np.array(W, float)
        z = W / (W.std() + 1e-12) * self.init_scale
        L = np.stack([-z, np.full_like(z, self.init_scale), z], axis=-1)
        rho = _inv_softplus(np.maximum(np.abs(W), 0.1 * np.abs(W).mean() + 1e-3))
        p = {"rho": rho, "L": L, "A0": np.zeros(W.shape[1:] + (3,))}
        if self.free_diagonal:
            p["diag"] = np.diagonal(W, axis1=1, axis2=2).copy()
            off = ~np.eye(W.shape[1], dtype=bool)
            L[:, ~off] = 0.0
            z = z[:, off]
            L[:, off] = np.stack([-z, np.full_like(z, self.init_scale), z], axis=-1)
            # Start the shared logits at the initial types, not at the uniform point,
            # whose Concrete mode would pull every type toward maximal uncertainty.
            p["A0"] = np.log(softmax(L, axis=-1).mean(0))
        return p

    def _with_diag(self, p, W):
        if not self.free_diagonal:
            return W
        W = W.copy()
        i = np.arange(W.shape[1])
        W[:, i, i] = p["diag"]
        return W

    def weights(self, p):
        a = softmax(p["L"], axis=-1)
        return self._with_diag(p, (a[..., EXC] - a[..., INH]) * _softplus(p["rho"]))

    def hard_weights(self, p):
        t = np.argmax(p["L"], axis=-1) - 1
        return self._with_diag(p, t * _softplus(p["rho"]))

    def pullback(self, p, dW):
        a = softmax(p["L"], axis=-1)
        sp = _softplus(p["rho"])
        drho = dW * (a[..., EXC] - a[..., INH]) * expit(p["rho"])
        da = np.zeros_like(a)
        da[..., EXC] = dW * sp
        da[..., INH] = -dW * sp
        dL = a * (da - (a * da).sum(-1, keepdims=True))
        if self.frozen_types:
            dL = np.zeros_like(dL)
        g = {"rho": drho, "L": dL, "A0": np.zeros_like(p["A0"])}
        if self.free_diagonal:
            i = np.arange(dW.shape[1])
            g["diag"] = dW[:, i, i].copy()
            g["rho"][:, i, i] = 0.0
            g["L"][:, i, i] = 0.0
        return g

    def log_prior(self, p):
        log_a = log_softmax(p["L"], axis=-1)
        log_alpha = log_softmax(p["A0"], axis=-1)
        v, dy, dla = exp_concrete_log_density(log_a, log_alpha[None], self.tau, return_grad=True)
        # dy and dla sum to zero over types, so the log-softmax Jacobians drop out.
        if self.frozen_types:
            dy = np.zeros_like(dy)
        g = {"rho": np.zeros_like(p["rho"]), "L": dy, "A0": dla.sum(0)}
        if self.free_diagonal:
            i = np.arange(v.shape[1])
            v = v.copy()
            v[:, i, i] = 0.0
            g["L"][:, i, i] = 0.0
            g["A0"][i, i] = 0.0
            g["diag"] = np.zeros_like(p["diag"])
        return float(v.sum()), g

    def types(self, p):
        t = np.argmax(p["L"], axis=-1) - 1
        if self.free_diagonal:
            i = np.arange(t.shape[1])
            t[:, i, i] = np.sign(p["diag"]).astype(t.dtype)
        return t

    def prior_weights(self, p):
        """Expected sign under the prior: ``α_exc − α_inh`` (shape (N, N))."""
        al = softmax(p["A0"], axis=-1)
        return al[..., EXC] - al[..., INH]

    def prior_types(self, p, balanced: bool = False):
        """``argmax A0 − 1``; with ``balanced``, ``argmax_k α_k / ᾱ_k`` where ``ᾱ`` is the
        mean of ``α`` over pairs — the Bayes decision for *balanced* accuracy, which
        weighs the rare exc/inh classes as much as "none"."""
        al = softmax(p["A0"], axis=-1)
        if not balanced:
            # Exact ties (e.g. two states exc, two none, one inh) go to "none".
            return np.argmax(al + 1e-12 * np.array([0.0, 1.0, 0.0]), axis=-1) - 1
        return np.argmax(al / al.reshape(-1, 3).mean(0), axis=-1) - 1

    def permute(self, p, perm):
        out = {"rho": p["rho"][perm], "L": p["L"][perm], "A0": p["A0"]}
        if "diag" in p:
            out["diag"] = p["diag"][perm]
        return out


def make_prior(name: str, **kwargs):
    """Prior by name: ``none`` (kw ``l1``), ``gaussian`` (kw ``sigma``), ``onehot`` (kw ``tau``)."""
    if name == "none":
        return NoPrior(**kwargs)
    if name == "gaussian":
        return GaussianPrior(**kwargs)
    if name == "onehot":
        return OneHotPrior(**kwargs)
    raise InvalidInputError(f"prior: expected 'none', 'gaussian' or 'onehot', got {name!r}")
