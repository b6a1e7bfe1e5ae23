"""Weighted community detection: a weighted stochastic block model chosen by description length.

The generative model is a weighted SBM in the sense of Peixoto (Phys. Rev. E 97, 012306,
2018, "nonparametric weighted stochastic block models"; Aicher, Jacobs & Clauset 2015):
the *placement* of edges follows an SBM, and the *weights* of the edges that exist
follow a distribution per block pair.  For a symmetric weight matrix ``W`` (``N × N``,
diagonal ignored; an edge exists where ``W_ij > 0``) and a partition ``b`` into ``B``
blocks, the description length (nats) is

    Σ = −log P(A | e, b) [− log P(k | e, b)] − log P(e) − Σ_{r≤s} log P(W_rs) − log P(b)

- edges: the microcanonical SBM of Peixoto (Phys. Rev. E 95, 012317, 2017), plain
  ``P(A|e,b) = Π_{r<s} e_rs! Π_r e_rr!! / Π_r n_r^{e_r}`` or degree-corrected
  ``Π_{r<s} e_rs! Π_r e_rr!! Π_i k_i! / Π_r e_r!`` with the uniform degree prior
  ``P(k|e,b) = Π_r multiset(n_r, e_r)⁻¹``; ``P(e) = multiset(B(B+1)/2, E)⁻¹``;
- weights: normal (or log-normal) per block pair — in the degree-corrected variant after
  dividing each node's weights by its weight propensity (Jacobian included) — with a conjugate normal–inverse-gamma prior (empirical
  Bayes: centred on the mean and scaled by the variance of all edge weights), integrated
  out — so a block pair with a handful of edges earns no spurious precision;
- partition: ``−log P(b) = log C(N−1, B−1) + log N! − Σ_r log n_r! + log N`` (Peixoto 2017,
  eq. 28).

The number of blocks is *inferred* by minimising ``Σ`` over ``B = 1 … B_max``, and the
plain and degree-corrected variants are compared by the same ``Σ`` (the shorter wins),
as Dyballa et al. (ICLR 2024) do with graph-tool's nested SBM (here not nested).  Dense
graphs (every pair weighted, as the NTF pair factors are) carry their information in the
weights; sparse ones (the LFR benchmark) mostly in the edge placement.

Edge weights are first divided by node weight propensities ``g_i g_j`` (hubs carry
heavier edges): ``g_i = k_i^γ`` with one fitted exponent γ, or (degree-corrected variant)
one propensity per node, whichever describes the weights shorter; Jacobian and parameter
cost are part of ``Σ``.

Fitting: several starting partitions — Louvain at resolutions 1, 2, 3 and Leiden (when
installed), each merged down block by block (the pair whose merge raises ``Σ`` least,
scored exactly from the block sums, as in Peixoto's agglomerative heuristic, Phys. Rev.
E 89, 012804, 2014), spectral k-means for every ``B``, and every block of the best
``B − 1`` partition split in two — each followed by greedy single-node moves that lower
``Σ`` (zero-temperature sweeps; every move is scored for all destinations at once with
rank-one updates of the block sums).  The shortest description over all starts, ``B``
and variants is kept.

Baselines: Louvain (networkx) and Leiden (``leidenalg``, optional).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln, xlogy
from sklearn.base import BaseEstimator

from neurodyn.errors import InvalidInputError

VARIANTS = ("plain", "degree_corrected")
WEIGHT_MODELS = ("normal", "lognormal")


@dataclass
class SBMFit:
    """A fitted weighted SBM.

    labels : (N,) int, 0 … B−1, numbered by decreasing within-block mean weight.
    n_blocks : int; variant : 'plain' | 'degree_corrected'.
    description_length : float, nats; log_likelihood : float.
    density : (B, B) edge rate ω; mean, sigma2 : (B, B) weight mean and variance of edges.
    theta : (N,) degree propensities ``k_i / κ_{b_i}`` (degree-corrected) or 1/n_{b_i}.
    candidates : list of (variant, B, description_length) tried.
    """

    labels: np.ndarray
    n_blocks: int
    variant: str
    description_length: float
    log_likelihood: float
    density: np.ndarray
    mean: np.ndarray
    sigma2: np.ndarray
    theta: np.ndarray
    candidates: list = field(default_factory=list)


def _check_weights(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise InvalidInputError(f"expected a square weight matrix, got shape {w.shape}", field="weights")
    if not np.all(np.isfinite(w)):
        raise InvalidInputError("NaN or inf weights", field="weights")
    if not np.allclose(w, w.T, atol=1e-10 * (np.abs(w).max() + 1)):
        raise InvalidInputError("weight matrix is not symmetric", field="weights")
    if (w < 0).any():
        raise InvalidInputError("negative weights; expected non-negative affinities", field="weights")
    w = (w + w.T) / 2
    np.fill_diagonal(w, 0.0)
    return w


def partition_description_length(labels: np.ndarray, n_blocks: int) -> float:
    """``L_partition`` of the module doc, nats."""
    n = labels.size
    counts = np.bincount(labels, minlength=n_blocks)
    return float(gammaln(n) - gammaln(n_blocks) - gammaln(n - n_blocks + 1)
                 + gammaln(n + 1) - gammaln(counts + 1).sum() + np.log(n))


@functools.lru_cache(maxsize=8)
def _log_partitions(m_max: int, n_max: int) -> np.ndarray:
    """``log q(m, n)`` for ``0 ≤ m ≤ m_max``, ``0 ≤ n ≤ n_max``: partitions of m into at most n parts.

    Recurrence ``q(m, n) = q(m, n − 1) + q(m − n, n)``, ``q(0, n) = 1``, in log space.
    """
    logq = np.full((m_max + 1, n_max + 1), -np.inf)
    logq[0, :] = 0.0
    for n in range(1, n_max + 1):
        col = logq[:, n - 1].copy()
        # Entries m in [j·n, (j+1)·n) need q(m − n, n) from the previous stretch only.
        for start in range(n, m_max + 1, n):
            stop = min(start + n, m_max + 1)
            col[start:stop] = np.logaddexp(col[start:stop], col[start - n:stop - n])
        logq[:, n] = col
    return logq


def _log_multiset(n, k):
    """log of the number of multisets of size ``k`` from ``n`` kinds, C(n + k − 1, k)."""
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return np.where(n > 0, gammaln(n + k) - gammaln(k + 1) - gammaln(np.maximum(n, 1e-300)), 0.0)


def _one_block_weight_nll(vals: np.ndarray) -> float:
    """−log marginal likelihood of edge weights as one normal group (prior as in ``_Objective``)."""
    m = vals.size
    if m < 2:
        return 0.0
    mu0, beta0 = float(vals.mean()), max(float(vals.var()), 1e-300)
    ss = float(((vals - vals.mean()) ** 2).sum())
    a_m, k_m = 1.0 + m / 2, 1.0 + m
    b_m = beta0 + ss / 2
    return float(m / 2 * np.log(2 * np.pi) - 0.5 * np.log(1.0 / k_m) - np.log(beta0) + a_m * np.log(b_m)
                 - gammaln(a_m))


def _weight_propensity(w: np.ndarray, adj: np.ndarray, degree: np.ndarray, dc: bool,
                       weight_model: str) -> tuple[np.ndarray | None, float, str]:
    """Node weight propensities ``g``, their cost (nats, Jacobian included) and their kind.

    Hubs often carry heavier edges (strengths growing faster than degrees, as in weighted
    LFR graphs); left in the weights, blocks are spent on describing strong and weak
    nodes instead of communities.  Two corrections, both conditional on the edges:

    - ``degree``: ``g_i = (k_i / k̄)^γ``, γ the least-squares slope of ``log w_ij`` on
      ``log k_i k_j`` — one parameter (½ log E); none when the degrees do not vary;
    - ``node`` (degree-corrected variant only): ``g_i`` = node i's mean edge weight over
      the overall mean — N parameters (½ log k_i each).  For ``w_ij = a_i a_j c_rs`` the
      mean edge weight of i is ∝ a_i, so dividing by ``g_i g_j`` removes the node factors.

    The degree-corrected variant keeps the one with the shorter one-block description.
    """
    i, j = np.nonzero(np.triu(adj, 1))
    options = [(None, 0.0, "none")]
    if i.size >= 3:
        logk = np.log(np.maximum(degree, 1.0))
        x = logk[i] + logk[j]
        if np.var(x) > 1e-12:
            gamma = float(np.cov(x, np.log(w[i, j]), bias=True)[0, 1] / np.var(x))
            g = np.exp(gamma * (logk - logk[degree > 0].mean()))
            options = [(g, 0.5 * np.log(i.size), "degree")]
    if dc and i.size:
        mean_w = w.sum(axis=1) / np.maximum(degree, 1)
        g = np.maximum(np.where(degree > 0, mean_w / w[i, j].mean(), 1.0), 1e-12)
        options.append((g, 0.5 * float(np.log(np.maximum(degree, 1.0)).sum()), "node"))
    best = None
    for g, cost, kind in options:
        if g is not None and weight_model == "normal":
            cost += float((degree * np.log(g)).sum())
            vals = w[i, j] / (g[i] * g[j])
        elif weight_model == "lognormal":
            vals = np.log(w[i, j]) - (0.0 if g is None else np.log(g[i] * g[j]))
        else:
            vals = w[i, j]
        total = cost + _one_block_weight_nll(vals)
        if best is None or total < best[0]:
            best = (total, g, cost, kind)
    return best[1], best[2], best[3]


class _Objective:
    """Block sums and the description length, with all-destination move scoring."""

    def __init__(self, w: np.ndarray, n_blocks: int, dc: bool, weight_model: str = "normal"):
        n = w.shape[0]
        adj = (w > 0).astype(np.float64)
        degree = adj.sum(axis=1)
        # Weight propensities (see ``_weight_propensity``): the node factors are divided
        # out of the weights, w_ij / (g_i g_j), and the change of variables adds its
        # Jacobian, Σ_{edges} log(g_i g_j) = Σ_i k_i log g_i, to −log P(W) (normal model;
        # for log-weights the shift has unit Jacobian), plus the parameters' cost.
        g, self.weight_offset, self.weight_correction = _weight_propensity(w, adj, degree, dc, weight_model)
        if g is not None and weight_model == "normal":
            w = w / np.outer(g, g)
        if weight_model == "lognormal":
            w = np.where(adj > 0, np.log(np.where(adj > 0, w, 1.0)), 0.0)
            if g is not None:
                w = np.where(adj > 0, w - np.log(g)[:, None] - np.log(g)[None, :], 0.0)
        self.n, self.B, self.dc = n, n_blocks, dc
        self.mats = [adj, w, w * w]  # edges, Σw, Σw² per block pair
        self.degree = adj.sum(axis=1)
        self.n_edges = adj.sum() / 2
        self.iu = np.triu_indices(n_blocks)
        self.diag = self.iu[0] == self.iu[1]
        self.log_k_fact = float(gammaln(self.degree + 1).sum())
        # Degree classes (one-hot) for the degree-histogram hyperprior, and the table of
        # log q(m, n), the number of partitions of m into at most n parts.
        deg_int = self.degree.astype(np.int64)
        classes, inv = np.unique(deg_int, return_inverse=True)
        self.deg_onehot = np.eye(classes.size)[inv]
        self.log_q = _log_partitions(int(deg_int.sum()), n) if dc else None
        # Empirical-Bayes normal–inverse-gamma prior of the edge weights (weakly informative:
        # one pseudo-observation at the overall mean, variance scale the overall variance).
        iu = np.triu_indices(n, 1)
        vals = w[iu][adj[iu] > 0]
        self.mu0 = float(vals.mean()) if vals.size else 0.0
        var = float(vals.var()) if vals.size > 1 else 0.0
        self.kappa0, self.alpha0 = 1.0, 1.0
        self.beta0 = max(var, 1e-12 * max(self.mu0**2, 1e-300), 1e-300)

    def sums(self, z: np.ndarray) -> list[np.ndarray]:
        return [z.T @ m @ z for m in self.mats] + [z.T @ self.degree, z.sum(axis=0), z.T @ self.deg_onehot]

    def terms(self, sums):
        """Per block pair (r ≤ s): edges, weight mean, weight variance; and −log P(A, W | b).

        ``sums`` (edges, Σw, Σw², block degrees κ, block sizes) may carry leading batch
        axes (one per candidate move).
        """
        halve = np.where(np.eye(self.B, dtype=bool), 0.5, 1.0)
        m, s1, s2 = (x[..., self.iu[0], self.iu[1]] for x in (s * halve for s in sums[:3]))
        kappa, sizes = sums[3], sums[4]
        # Edges: microcanonical SBM of Peixoto (2017), eqs. 16 and 24, with e_rr = 2 m_rr.
        log_e = (np.where(self.diag, m * np.log(2.0) + gammaln(m + 1), gammaln(m + 1))).sum(axis=-1)
        log_prior_e = -_log_multiset(self.B * (self.B + 1) / 2, self.n_edges)
        if self.dc:
            # Degrees: the "distributed" hyperprior of Peixoto (2017, eq. 31): a degree
            # histogram per block, uniform among those with the block's total degree.
            hist = sums[5]
            ki = np.rint(kappa).astype(np.int64)
            ni = np.rint(sizes).astype(np.int64)
            log_k = (gammaln(hist + 1).sum(axis=(-2, -1)) - gammaln(sizes + 1).sum(axis=-1)
                     - self.log_q[ki, ni].sum(axis=-1))
            log_a = log_e + self.log_k_fact - gammaln(kappa + 1).sum(axis=-1) + log_k
        else:
            log_a = log_e - xlogy(kappa, sizes).sum(axis=-1)
        # Weights of the edges: normal with conjugate prior, marginal likelihood per block pair.
        mean = np.divide(s1, m, out=np.zeros_like(s1), where=m > 0)
        ss = np.maximum(s2 - mean * s1, 0.0)
        k_m = self.kappa0 + m
        a_m = self.alpha0 + m / 2
        b_m = self.beta0 + ss / 2 + self.kappa0 * m * (mean - self.mu0) ** 2 / (2 * k_m)
        log_w = (-m / 2 * np.log(2 * np.pi) + 0.5 * np.log(self.kappa0 / k_m) + self.alpha0 * np.log(self.beta0)
                 - a_m * np.log(b_m) + gammaln(a_m) - gammaln(self.alpha0)).sum(axis=-1)
        sigma2 = np.divide(ss, m, out=np.zeros_like(ss), where=m > 0)
        return m, mean, sigma2, -(log_a + log_prior_e + log_w) + self.weight_offset

    def dl(self, sums, sizes: np.ndarray | None = None):
        """Description length (nats); batched over leading axes of ``sums``."""
        sizes = sums[4]
        n, b = self.n, self.B
        part = (gammaln(n) - gammaln(b) - gammaln(n - b + 1) + gammaln(n + 1)
                - gammaln(np.asarray(sizes) + 1).sum(axis=-1) + np.log(n))
        return self.terms(sums)[3] + part

    def refine(self, labels: np.ndarray, max_sweeps: int = 30, rng: np.random.Generator | None = None):
        """Greedy single-node moves lowering the description length (no block emptied).

        Moving node ``i`` from ``r`` to ``s`` changes every block-sum matrix by
        ``u dᵀ + d uᵀ`` with ``u = e_s − e_r`` and ``d = Zᵀ M[:, i]`` (each ``M`` has a zero
        diagonal), the block degrees by ``k_i u`` and the sizes by ``u``: all ``B``
        destinations are scored at once.
        """
        b = self.B
        z = np.eye(b)[labels]
        sums = self.sums(z)
        cur = float(self.dl(sums))
        order = np.arange(self.n)
        eye = np.eye(b)
        for _ in range(max_sweeps):
            moved = False
            if rng is not None:
                order = rng.permutation(self.n)
            for i in order:
                r = labels[i]
                if sums[4][r] == 1 or b == 1:
                    continue
                u = eye - eye[r]                       # (S, B): row s is e_s - e_r
                new = []
                for S, m in zip(sums[:3], self.mats):
                    d = z.T @ m[:, i]
                    new.append(S[None] + u[:, :, None] * d[None, None, :] + d[None, :, None] * u[:, None, :])
                new.append(sums[3][None] + self.degree[i] * u)
                new.append(sums[4][None] + u)
                new.append(sums[5][None] + u[:, :, None] * self.deg_onehot[i][None, None, :])
                vals = self.dl(new)
                vals[r] = np.inf
                s_best = int(np.argmin(vals))
                if vals[s_best] < cur - 1e-9:
                    labels[i] = s_best
                    z[i] = eye[s_best]
                    sums = [x[s_best] for x in new]
                    cur, moved = float(vals[s_best]), True
            if not moved:
                break
        return labels, cur, sums


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 4, n_iter: int = 50) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding, best of ``n_init`` (small N: plain numpy)."""
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        centers = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d2 = np.min(((x[:, None, :] - np.asarray(centers)[None]) ** 2).sum(-1), axis=1)
            p = d2 / d2.sum() if d2.sum() > 0 else np.full(len(x), 1.0 / len(x))
            centers.append(x[rng.choice(len(x), p=p)])
        centers = np.asarray(centers)
        for _ in range(n_iter):
            lab = np.argmin(((x[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
            new = np.array([x[lab == c].mean(0) if np.any(lab == c) else centers[c] for c in range(k)])
            if np.allclose(new, centers):
                break
            centers = new
        inertia = ((x - centers[lab]) ** 2).sum()
        if inertia < best_inertia and np.unique(lab).size == k:
            best, best_inertia = lab, inertia
    return best


def _spectral_init(w: np.ndarray, n_blocks: int, random_state: int, eig=None) -> list[np.ndarray]:
    """k-means partitions of a spectral embedding and of the rows of ``W``.

    ``eig`` is ``np.linalg.eigh(w)`` when the caller already has it (one per graph).
    """
    if n_blocks == 1:
        return [np.zeros(w.shape[0], dtype=np.int64)]
    rng = np.random.default_rng(random_state)
    vals, vecs = np.linalg.eigh(w) if eig is None else eig
    top = np.argsort(-np.abs(vals))[:n_blocks]
    emb = vecs[:, top] * np.abs(vals[top])
    inits = []
    for x in (emb, w):
        lab = _kmeans(x, n_blocks, rng)
        if lab is not None:
            inits.append(lab.astype(np.int64))
    if not inits:
        inits.append(np.arange(w.shape[0]) % n_blocks)
    return inits


def _full(vals: np.ndarray, n_blocks: int) -> np.ndarray:
    out = np.zeros((n_blocks, n_blocks))
    iu = np.triu_indices(n_blocks)
    out[iu] = vals
    out.T[iu] = vals
    return out


def _split_inits(w: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Partitions with one more block: each block split by 2-means on its rows."""
    out = []
    b = int(labels.max()) + 1
    for r in range(b):
        idx = np.flatnonzero(labels == r)
        if idx.size < 2:
            continue
        lab = _kmeans(w[idx], 2, rng, n_init=2)
        if lab is None:
            continue
        new = labels.copy()
        new[idx[lab == 1]] = b
        out.append(new)
    return out


def description_length(weights, labels, variant: str = "plain", weight_model: str = "normal") -> float:
    """Description length (nats) of a given partition under the weighted SBM of the module doc.

    ``labels`` (N,) any integer labels (renumbered ``0 … B−1``); for comparing a planted
    partition with a fitted one (``SBMFit.description_length`` is the same quantity).
    """
    if variant not in VARIANTS:
        raise InvalidInputError(f"unknown variant {variant!r}; expected one of {VARIANTS}", field="variant")
    w = _check_weights(weights)
    labels = np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)
    if labels.size != w.shape[0]:
        raise InvalidInputError(f"{labels.size} labels for {w.shape[0]} nodes", field="labels")
    b = int(labels.max()) + 1
    obj = _Objective(w, b, variant == "degree_corrected", weight_model)
    return float(obj.dl(obj.sums(np.eye(b)[labels])))


def _merge_maps(n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Every merge of two of ``n_blocks`` blocks as a label map and a one-hot matrix.

    Returns ``maps`` (pairs, B) — merging ``r < s`` sends ``s`` to ``r`` and renumbers the
    blocks above ``s`` down by one — and ``proj`` (pairs, B, B − 1), its one-hot form.
    """
    r, s = np.triu_indices(n_blocks, 1)
    base = np.arange(n_blocks)
    maps = np.where(base[None] > s[:, None], base[None] - 1, base[None])
    maps[np.arange(r.size), s] = r
    proj = np.eye(n_blocks - 1)[maps]
    return maps, proj


def _merge_path(objective, labels: np.ndarray, b_max: int, rng: np.random.Generator) -> dict:
    """Agglomerative descent from a fine partition, refining at every number of blocks.

    At each step the pair of blocks whose merge raises the description length least
    (scored exactly from the block sums, all pairs at once) is merged; every partition
    with at most ``b_max`` blocks is then refined by greedy node moves, so each ``B`` on
    the way down gets a candidate (in the spirit of Peixoto's agglomerative heuristic,
    Phys. Rev. E 89, 012804, 2014).

    ``objective(B)`` returns the :class:`_Objective` for ``B`` blocks.  Returns
    ``{B: (labels, description_length)}``.
    """
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    b = int(labels.max()) + 1
    out = {}
    while True:
        obj = objective(b)
        if b <= b_max:
            labels, dl, sums = obj.refine(labels.copy(), rng=rng)
            out[b] = (labels.copy(), float(dl))
        else:
            sums = obj.sums(np.eye(b)[labels])
        if b == 1:
            return out
        maps, proj = _merge_maps(b)
        pt = np.swapaxes(proj, 1, 2)
        merged = [pt @ x[None] @ proj for x in sums[:3]]
        merged += [sums[3] @ proj, sums[4] @ proj, pt @ sums[5][None]]
        vals = objective(b - 1).dl(merged)
        labels = maps[int(np.argmin(vals))][labels]
        b -= 1


def _modularity_starts(w: np.ndarray, random_state: int, max_blocks: int,
                       resolutions=(1.0, 2.0, 3.0)) -> list[np.ndarray]:
    """Louvain partitions at several resolutions (and Leiden's, when installed), distinct,
    with at most ``max_blocks`` blocks (the exact all-pairs merge costs ``O(B⁴)`` per step)."""
    out = [louvain(w, random_state=random_state, resolution=r) for r in resolutions]
    if leiden_available():
        out.append(leiden(w, random_state=random_state))
    uniq = {}
    for lab in out:
        if int(lab.max()) + 1 > max_blocks:
            continue
        uniq.setdefault(tuple(np.unique(lab, return_inverse=True)[1]), lab)
    return list(uniq.values())


def fit_sbm_fixed(w: np.ndarray, n_blocks: int, variant: str = "plain", *, random_state: int = 0,
                  weight_model: str = "normal", extra_inits: list[np.ndarray] | None = None,
                  eig=None) -> SBMFit:
    """Best weighted SBM with exactly ``n_blocks`` blocks (see module doc).

    Starts from spectral k-means partitions and from ``extra_inits`` (e.g. the best
    ``B − 1`` partition with one block split), keeping the shortest description length.
    """
    if variant not in VARIANTS:
        raise InvalidInputError(f"unknown variant {variant!r}; expected one of {VARIANTS}", field="variant")
    w = _check_weights(w)
    n = w.shape[0]
    if not 1 <= n_blocks <= n:
        raise InvalidInputError(f"{n_blocks} blocks for {n} nodes", field="n_blocks")
    if weight_model not in WEIGHT_MODELS:
        raise InvalidInputError(f"unknown weight model {weight_model!r}; expected one of {WEIGHT_MODELS}",
                                field="weight_model")
    obj = _Objective(w, n_blocks, variant == "degree_corrected", weight_model)
    rng = np.random.default_rng(random_state)
    best = None
    for init in _spectral_init(w, n_blocks, random_state, eig) + list(extra_inits or []):
        labels, dl, sums = obj.refine(init.copy(), rng=rng)
        if best is None or dl < best[1]:
            best = (labels.copy(), dl, sums)
    labels, dl, sums = best
    m, mean, s2, nll = obj.terms(sums)
    sizes = sums[4]
    pairs = np.outer(sizes, sizes) - np.diag(sizes * (sizes + 1) / 2)
    density = _full(m, n_blocks) / np.maximum(pairs, 1)
    mean, sigma2 = _full(mean, n_blocks), _full(s2, n_blocks)
    kappa = sums[3]
    if variant == "degree_corrected":
        theta = np.divide(obj.degree, kappa[labels], out=np.zeros(n), where=kappa[labels] > 0)
    else:
        theta = 1.0 / np.bincount(labels, minlength=n_blocks)[labels]
    # Number blocks by decreasing within-block mean weight × density (stable labels).
    order = np.argsort(-np.diag(mean * density), kind="stable")
    relabel = np.empty(n_blocks, dtype=np.int64)
    relabel[order] = np.arange(n_blocks)
    ix = np.ix_(order, order)
    return SBMFit(relabel[labels], n_blocks, variant, float(dl), float(-nll), density[ix], mean[ix],
                  sigma2[ix], theta)


def weighted_sbm(weights, *, max_blocks: int | None = 8, variants: tuple[str, ...] = VARIANTS,
                 weight_model: str = "normal", random_state: int | np.random.Generator | None = 0,
                 patience: int = 2) -> SBMFit:
    """Weighted SBM with the number of blocks and the variant chosen by description length.

    Parameters
    ----------
    weights : (N, N) symmetric non-negative weights; the diagonal is ignored, 0 = no edge.
    max_blocks : int
        Largest ``B`` tried (capped at ``N``).  The search stops early when the description
        length has not improved for ``patience`` consecutive ``B``.
    variants : which of ``plain`` and ``degree_corrected`` to try.
    weight_model : ``normal`` (weights) or ``lognormal`` (log-weights normal; for heavy-tailed
        weights such as strengths that grow with degree).
    random_state : int, numpy Generator or None — k-means initialisation and move order.
    patience : int
        Consecutive ``B`` without a shorter description after which the search stops.

    Returns
    -------
    SBMFit — the fit with the shortest description length; ``candidates`` lists all.
    """
    w = _check_weights(weights)
    n = w.shape[0]
    if n < 2:
        raise InvalidInputError(f"{n} node(s); need at least 2", field="weights")
    for v in variants:
        if v not in VARIANTS:
            raise InvalidInputError(f"unknown variant {v!r}; expected one of {VARIANTS}", field="variant")
    b_max = min(int(max_blocks or n), n)
    # Starting points besides the spectral ones (k-means on spectral embeddings is poor on
    # sparse graphs, whose leading eigenvectors localise on hubs): modularity partitions
    # at several resolutions, each merged down block by block (``_merge_path``).
    starts = _modularity_starts(w, random_state, 3 * b_max) if (w > 0).any() else []
    eig = np.linalg.eigh(w)
    best, candidates = None, []
    for variant in variants:
        objectives: dict[int, _Objective] = {}

        def objective(b, variant=variant, objectives=objectives):
            if b not in objectives:
                objectives[b] = _Objective(w, b, variant == "degree_corrected", weight_model)
            return objectives[b]

        merged: dict[int, tuple[np.ndarray, float]] = {}
        merge_rng = np.random.default_rng(random_state)
        for start in starts:
            for b, (lab, dl) in _merge_path(objective, start, b_max, merge_rng).items():
                if b not in merged or dl < merged[b][1]:
                    merged[b] = (lab, dl)
        since, best_v, prev = 0, np.inf, None
        split_rng = np.random.default_rng(random_state)
        for b in range(1, b_max + 1):
            extra = _split_inits(w, prev.labels, split_rng) if prev is not None else []
            if b in merged:
                extra.append(merged[b][0])
            fit = fit_sbm_fixed(w, b, variant, random_state=random_state, weight_model=weight_model,
                                extra_inits=extra, eig=eig)
            prev = fit
            candidates.append((variant, b, fit.description_length))
            if fit.description_length < best_v - 1e-9:
                best_v, since = fit.description_length, 0
            else:
                since += 1
            if best is None or fit.description_length < best.description_length:
                best = fit
            if since >= patience and all(c <= b for c in merged):
                break
    best.candidates = candidates
    return best


class WeightedSBM(BaseEstimator):
    """Weighted SBM as a scikit-learn estimator: ``WeightedSBM().fit(W).labels_``.

    Wraps :func:`weighted_sbm` (same parameters and defaults).

    Parameters
    ----------
    max_blocks, variants, weight_model, random_state, patience
        As in :func:`weighted_sbm`.

    Attributes
    ----------
    labels_ : array (N,)
        Block of each node, numbered by decreasing within-block mean weight × density.
    n_blocks_ : int
    variant_ : str
        ``plain`` or ``degree_corrected``, whichever describes the graph shorter.
    description_length_ : float
        Nats.
    candidates_ : list of (variant, B, description_length)
        Every fit tried.
    n_iter_ : int
        Number of (variant, B) fits tried (``len(candidates_)``).
    converged_ : bool
        Whether, for every variant, the description length stopped improving for
        ``patience`` consecutive ``B`` before ``max_blocks``; False means the best ``B`` may
        lie above ``max_blocks`` (raise it).
    result_ : SBMFit
    """

    def __init__(self, *, max_blocks: int | None = 8, variants: tuple[str, ...] = VARIANTS,
                 weight_model: str = "normal", random_state: int | np.random.Generator | None = 0, patience: int = 2):
        self.max_blocks = max_blocks
        self.variants = variants
        self.weight_model = weight_model
        self.random_state = random_state
        self.patience = patience

    def fit(self, weights, y=None) -> WeightedSBM:
        """Fit the weighted SBM, choosing ``B`` and the variant by description length.

        Parameters
        ----------
        weights : array, shape (N, N)
            Symmetric non-negative weights; the diagonal is ignored, 0 = no edge.
        y : None
            Ignored (scikit-learn convention).

        Returns
        -------
        WeightedSBM
            ``self``, fitted.

        Raises
        ------
        InvalidInputError
            On a non-square, asymmetric, negative or non-finite matrix, fewer than 2
            nodes, or an unknown variant or weight model.
        """
        fit = weighted_sbm(weights, **{**self.get_params(), "variants": tuple(self.variants)})
        self.result_ = fit
        self.labels_ = fit.labels
        self.n_blocks_ = fit.n_blocks
        self.variant_ = fit.variant
        self.description_length_ = fit.description_length
        self.candidates_ = list(fit.candidates)
        self.n_iter_ = len(fit.candidates)
        self.converged_ = _search_converged(fit.candidates, self.patience)
        return self


def _search_converged(candidates, patience: int) -> bool:
    """Whether each variant's best ``B`` was followed by ``patience`` tried, non-improving ``B``."""
    for variant in {v for v, _, _ in candidates}:
        tried = [(b, dl) for v, b, dl in candidates if v == variant]
        best_b = min(tried, key=lambda t: t[1])[0]
        if max(b for b, _ in tried) < best_b + patience:
            return False
    return True


def _int_seed(random_state) -> int | None:
    """An integer seed for libraries that take no numpy Generator (networkx, leidenalg)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return None if random_state is None else int(random_state)


def _graph(w: np.ndarray):
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(w.shape[0]))
    i, j = np.nonzero(np.triu(w, 1) > 0)
    g.add_weighted_edges_from(zip(i.tolist(), j.tolist(), w[i, j].tolist()))
    return g


def _labels_from_sets(sets, n: int) -> np.ndarray:
    labels = np.zeros(n, dtype=np.int64)
    for c, members in enumerate(sorted(sets, key=lambda s: (-len(s), min(s)))):
        labels[list(members)] = c
    return labels


def louvain(weights, *, random_state: int = 0, resolution: float = 1.0) -> np.ndarray:
    """Louvain modularity communities (networkx), labels (N,)."""
    import networkx as nx

    w = _check_weights(weights)
    sets = nx.community.louvain_communities(_graph(np.maximum(w, 0)), weight="weight", seed=_int_seed(random_state),
                                            resolution=resolution)
    return _labels_from_sets(sets, w.shape[0])


def leiden_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("leidenalg") is not None and importlib.util.find_spec("igraph") is not None


def leiden(weights, *, random_state: int = 0) -> np.ndarray:
    """Leiden modularity communities (``leidenalg``), labels (N,)."""
    if not leiden_available():
        raise InvalidInputError("leidenalg/igraph are not installed (pip install 'neurodyn[community]')",
                                field="method")
    import igraph as ig
    import leidenalg

    w = np.maximum(_check_weights(weights), 0)
    i, j = np.nonzero(np.triu(w, 1) > 0)
    g = ig.Graph(n=w.shape[0], edges=list(zip(i.tolist(), j.tolist())))
    g.es["weight"] = w[i, j].tolist()
    part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, weights="weight",
                                    seed=_int_seed(random_state))
    return _labels_from_sets([set(c) for c in part], w.shape[0])


METHODS = ("sbm", "louvain", "leiden")


def detect_communities(weights, method: str = "sbm", *, random_state: int = 0, max_blocks: int = 8,
                       variants: tuple[str, ...] = VARIANTS) -> np.ndarray:
    """Community labels (N,) by ``method`` in :data:`METHODS`."""
    if method == "sbm":
        return weighted_sbm(weights, max_blocks=max_blocks, variants=variants, random_state=random_state).labels
    if method == "louvain":
        return louvain(weights, random_state=random_state)
    if method == "leiden":
        return leiden(weights, random_state=random_state)
    raise InvalidInputError(f"unknown community method {method!r}; expected one of {METHODS}", field="method")


def community_strength(weights, labels: np.ndarray) -> np.ndarray:
    """Each node's summed weight to the other members of its community, (N,)."""
    w = _check_weights(weights)
    same = labels[:, None] == labels[None, :]
    return (w * same).sum(axis=1)


def component_graph(ntf, component: int) -> np.ndarray:
    """The ``(N, N)`` weighted graph of one component: its pair factor folded back."""
    from neurodyn.connectome.tensor import fold_pairs

    return fold_pairs(np.asarray(ntf["pair_factor"].sel(component=component).values), ntf.sizes["neuron"])


def component_communities(ntf, *, method: str = "sbm", random_state: int = 0, max_blocks: int = 8,
                          variants: tuple[str, ...] = VARIANTS):
    """Communities of every component of a fitted NTF Dataset, as a table.

    Parameters
    ----------
    ntf : xarray.Dataset from :func:`neurodyn.connectome.ntf.ntf_to_dataset`.
    method : ``sbm`` (default), ``louvain`` or ``leiden``.

    Returns
    -------
    pandas.DataFrame with columns ``component, neuron, community, strength, method,
    n_communities, variant, description_length``; ``strength`` is the neuron's summed
    weight to the other members of its community, divided by the component's largest.
    """
    import pandas as pd

    neurons = [str(n) for n in ntf["neuron"].values]
    rows = []
    for k in ntf["component"].values.tolist():
        w = component_graph(ntf, k)
        w = w / w.max() if w.max() > 0 else w
        variant, dl = "", float("nan")
        if method == "sbm":
            fit = weighted_sbm(w, max_blocks=max_blocks, variants=variants, random_state=random_state)
            labels, variant, dl = fit.labels, fit.variant, fit.description_length
        else:
            labels = detect_communities(w, method, random_state=random_state)
        strength = community_strength(w, labels)
        strength = strength / strength.max() if strength.max() > 0 else strength
        n_comm = int(np.unique(labels).size)
        for name, lab, s in zip(neurons, labels, strength):
            rows.append({"component": int(k), "neuron": name, "community": int(lab), "strength": float(s),
                         "method": method, "n_communities": n_comm, "variant": variant,
                         "description_length": dl})
    return pd.DataFrame(rows)


def compare_methods(tables) -> "pd.DataFrame":
    """Per component: number of communities of each method and NMI between methods.

    ``tables`` maps a method name to its :func:`component_communities` table.
    """
    import pandas as pd
    from sklearn.metrics import normalized_mutual_info_score

    names = list(tables)
    rows = []
    for k in sorted(set(tables[names[0]]["component"])):
        row = {"component": int(k)}
        labs = {m: tables[m][tables[m]["component"] == k].sort_values("neuron")["community"].to_numpy()
                for m in names}
        for m in names:
            row[f"n_communities_{m}"] = int(np.unique(labs[m]).size)
        for i, m1 in enumerate(names):
            for m2 in names[i + 1:]:
                row[f"nmi_{m1}_vs_{m2}"] = float(normalized_mutual_info_score(labs[m1], labs[m2]))
        rows.append(row)
    return pd.DataFrame(rows)
