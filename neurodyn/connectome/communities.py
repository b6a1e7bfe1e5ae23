"""Weighted community detection: a weighted stochastic block model chosen by description length.

The generative model (Aicher, Jacobs & Clauset 2015 for weighted SBMs; Karrer & Newman
2011 for degree correction; Peixoto 2017 for the partition's description length).  For a
symmetric weight matrix ``W`` (``N × N``, zero diagonal) and a partition ``b`` into ``B``
blocks, every pair ``i < j`` has

    plain:              W_ij ~ N(ω_{b_i b_j},           σ²_{b_i b_j})
    degree-corrected:   W_ij ~ N(θ_i θ_j ω_{b_i b_j},   σ²_{b_i b_j})

(``θ`` is a per-neuron propensity, mean 1 within each block).  The description length is

    Σ = −log L̂(W | b, ω̂, σ̂, θ̂) + (k/2) log(N(N−1)/2) + L_partition(b)

with ``k = B(B+1)`` block parameters (+ ``N − B`` propensities when degree-corrected) and
``L_partition = log C(N−1, B−1) + log N! − Σ_r log n_r! + log N`` nats (Peixoto 2017,
eq. 28).  The number of blocks is *inferred* by minimising ``Σ`` over ``B = 1 … B_max``,
and the plain and degree-corrected variants are compared by the same ``Σ`` (the shorter
wins), as Dyballa et al. (ICLR 2024) do with graph-tool's nested SBM.

Fitting for fixed ``B``: spectral initialisation + k-means, then greedy single-node moves
that lower ``Σ`` (each move is evaluated with rank-one updates of the block sums in
``O(B²)``), alternated with the closed-form ``θ`` updates in the degree-corrected case.

Baselines: Louvain (networkx) and Leiden (``leidenalg``, optional).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from neurodyn.errors import InvalidInputError

VARIANTS = ("plain", "degree_corrected")


@dataclass
class SBMFit:
    """A fitted weighted SBM.

    labels : (N,) int, 0 … B−1, numbered by decreasing block mean strength.
    n_blocks : int; variant : 'plain' | 'degree_corrected'.
    description_length : float, nats; log_likelihood : float.
    omega, sigma2 : (B, B) block means and variances; theta : (N,) propensities.
    candidates : list of (variant, B, description_length) tried.
    """

    labels: np.ndarray
    n_blocks: int
    variant: str
    description_length: float
    log_likelihood: float
    omega: np.ndarray
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
    w = (w + w.T) / 2
    np.fill_diagonal(w, 0.0)
    return w


def partition_description_length(labels: np.ndarray, n_blocks: int) -> float:
    """``L_partition`` of the module doc, nats."""
    n = labels.size
    counts = np.bincount(labels, minlength=n_blocks)
    return float(gammaln(n) - gammaln(n_blocks) - gammaln(n - n_blocks + 1)
                 + gammaln(n + 1) - gammaln(counts + 1).sum() + np.log(n))


class _Objective:
    """Block sums and the description length for fixed θ, with O(B²) move evaluation."""

    def __init__(self, w: np.ndarray, theta: np.ndarray, n_blocks: int, var_floor: float, dc: bool):
        n = w.shape[0]
        self.n, self.B, self.floor, self.dc = n, n_blocks, var_floor, dc
        p = np.outer(theta, theta)
        off = 1.0 - np.eye(n)
        self.mats = [off, w * w, w * p * off, p * p * off]  # counts, Σw², Σwθθ, Σ(θθ)²
        self.n_pairs = n * (n - 1) / 2
        self.iu = np.triu_indices(n_blocks)

    def sums(self, z: np.ndarray) -> list[np.ndarray]:
        return [z.T @ m @ z for m in self.mats]

    def block_terms(self, sums):
        """Per block pair (r ≤ s): count, ω, σ², negative log-likelihood.

        ``sums`` may carry leading batch axes (one per candidate move).
        """
        halve = np.where(np.eye(self.B, dtype=bool), 0.5, 1.0)
        cnt, s0, s1, s2 = (x[..., self.iu[0], self.iu[1]] for x in (s * halve for s in sums))
        omega = np.divide(s1, s2, out=np.zeros_like(s1), where=s2 > 0)
        rss = np.maximum(s0 - omega * s1, 0.0)
        sigma2 = np.maximum(np.divide(rss, cnt, out=np.zeros_like(rss), where=cnt > 0), self.floor)
        nll = np.where(cnt > 0, 0.5 * cnt * np.log(2 * np.pi * sigma2) + rss / (2 * sigma2), 0.0)
        return cnt, omega, sigma2, nll

    def dl(self, sums, sizes: np.ndarray):
        """Description length (nats); batched over leading axes of ``sums``/``sizes``."""
        nll = self.block_terms(sums)[3].sum(axis=-1)
        k = self.B * (self.B + 1) + (self.n - self.B if self.dc else 0)
        n, b = self.n, self.B
        part = (gammaln(n) - gammaln(b) - gammaln(n - b + 1) + gammaln(n + 1)
                - gammaln(np.asarray(sizes) + 1).sum(axis=-1) + np.log(n))
        return nll + 0.5 * k * np.log(self.n_pairs) + part

    def refine(self, labels: np.ndarray, max_sweeps: int = 30, rng: np.random.Generator | None = None):
        """Greedy single-node moves lowering the description length (no block emptied).

        All ``B`` destinations of a node are scored at once: moving node ``i`` from ``r``
        to ``s`` changes the block sums by ``u dᵀ + d uᵀ`` with ``u = e_s − e_r`` and
        ``d = Zᵀ M[:, i]`` (the diagonal of every ``M`` is zero).
        """
        b = self.B
        z = np.eye(b)[labels]
        sums = self.sums(z)
        sizes = np.bincount(labels, minlength=b).astype(np.float64)
        cur = float(self.dl(sums, sizes))
        order = np.arange(self.n)
        eye = np.eye(b)
        for _ in range(max_sweeps):
            moved = False
            if rng is not None:
                order = rng.permutation(self.n)
            for i in order:
                r = labels[i]
                if sizes[r] == 1 or b == 1:
                    continue
                u = eye - eye[r]                       # (S, B): row s is e_s - e_r
                new = []
                for S, m in zip(sums, self.mats):
                    d = z.T @ m[:, i]
                    new.append(S[None] + u[:, :, None] * d[None, None, :] + d[None, :, None] * u[:, None, :])
                sz = sizes[None, :] + u
                vals = self.dl(new, sz)
                vals[r] = np.inf
                s_best = int(np.argmin(vals))
                if vals[s_best] < cur - 1e-9:
                    labels[i] = s_best
                    z[i] = eye[s_best]
                    sizes = sz[s_best].copy()
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


def _spectral_init(w: np.ndarray, n_blocks: int, seed: int) -> list[np.ndarray]:
    """k-means partitions of a spectral embedding and of the rows of ``W``."""
    if n_blocks == 1:
        return [np.zeros(w.shape[0], dtype=np.int64)]
    rng = np.random.default_rng(seed)
    vals, vecs = np.linalg.eigh(w)
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


def _update_theta(w: np.ndarray, labels: np.ndarray, theta: np.ndarray, omega_full: np.ndarray,
                  sigma2_full: np.ndarray, n_iter: int = 5) -> np.ndarray:
    """Closed-form coordinate updates of θ given the blocks, then block means set to 1."""
    om = omega_full[labels][:, labels]
    prec = 1.0 / sigma2_full[labels][:, labels]
    np.fill_diagonal(prec, 0.0)
    for _ in range(n_iter):
        num = (w * om * prec) @ theta
        den = (om * om * prec) @ (theta * theta)
        theta = np.where(den > 0, np.maximum(num, 0) / np.where(den > 0, den, 1), theta)
    for r in np.unique(labels):
        m = theta[labels == r].mean()
        if m > 0:
            theta[labels == r] /= m
    return np.maximum(theta, 1e-6)


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


def fit_sbm_fixed(w: np.ndarray, n_blocks: int, variant: str = "plain", *, seed: int = 0,
                  var_floor: float | None = None, n_dc_rounds: int = 2,
                  extra_inits: list[np.ndarray] | None = None) -> SBMFit:
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
    if var_floor is None:
        var_floor = default_var_floor(w)
    dc = variant == "degree_corrected"
    rng = np.random.default_rng(seed)
    best = None
    for init in _spectral_init(w, n_blocks, seed) + list(extra_inits or []):
        labels = init.copy()
        theta = np.ones(n)
        obj = _Objective(w, theta, n_blocks, var_floor, dc)
        labels, dl, sums = obj.refine(labels, rng=rng)
        if dc:
            for _ in range(n_dc_rounds):
                _, om, s2, _ = obj.block_terms(sums)
                theta = _update_theta(w, labels, theta, _full(om, n_blocks), _full(s2, n_blocks))
                obj = _Objective(w, theta, n_blocks, var_floor, dc)
                labels, dl, sums = obj.refine(labels, rng=rng)
        if best is None or dl < best[1]:
            best = (labels.copy(), dl, sums, theta.copy(), obj)
    labels, dl, sums, theta, obj = best
    _, om, s2, nll = obj.block_terms(sums)
    omega, sigma2 = _full(om, n_blocks), _full(s2, n_blocks)
    # Number blocks by decreasing within-block mean weight (stable, comparable labels).
    order = np.argsort(-np.diag(omega), kind="stable")
    relabel = np.empty(n_blocks, dtype=np.int64)
    relabel[order] = np.arange(n_blocks)
    return SBMFit(relabel[labels], n_blocks, variant, float(dl), float(-nll.sum()),
                  omega[order][:, order], sigma2[order][:, order], theta)


def default_var_floor(w: np.ndarray) -> float:
    """Variance floor: (1 % of the off-diagonal weights' SD)², so empty blocks stay finite."""
    off = w[np.triu_indices(w.shape[0], 1)]
    sd = float(off.std()) if off.size else 1.0
    return (0.01 * sd) ** 2 if sd > 0 else 1e-12


def weighted_sbm(weights, *, max_blocks: int | None = 10, variants: tuple[str, ...] = VARIANTS,
                 seed: int = 0, patience: int = 2) -> SBMFit:
    """Weighted SBM with the number of blocks and the variant chosen by description length.

    Parameters
    ----------
    weights : (N, N) symmetric non-negative (or real) weights; the diagonal is ignored.
    max_blocks : int
        Largest ``B`` tried (capped at ``N``).  The search stops early when the description
        length has not improved for ``patience`` consecutive ``B``.
    variants : which of ``plain`` and ``degree_corrected`` to try.
    seed : int — k-means initialisation and move order.

    Returns
    -------
    SBMFit — the fit with the shortest description length; ``candidates`` lists all.
    """
    w = _check_weights(weights)
    n = w.shape[0]
    if n < 2:
        raise InvalidInputError(f"{n} node(s); need at least 2", field="weights")
    b_max = min(int(max_blocks or n), n)
    floor = default_var_floor(w)
    best, candidates = None, []
    for variant in variants:
        since = 0
        best_v = np.inf
        prev = None
        split_rng = np.random.default_rng(seed)
        for b in range(1, b_max + 1):
            extra = _split_inits(w, prev.labels, split_rng) if prev is not None else None
            fit = fit_sbm_fixed(w, b, variant, seed=seed, var_floor=floor, extra_inits=extra)
            prev = fit
            candidates.append((variant, b, fit.description_length))
            if fit.description_length < best_v - 1e-9:
                best_v, since = fit.description_length, 0
            else:
                since += 1
            if best is None or fit.description_length < best.description_length:
                best = fit
            if since >= patience:
                break
    best.candidates = candidates
    return best


class WeightedSBM:
    """Estimator wrapper of :func:`weighted_sbm`: ``WeightedSBM().fit(W).labels_``."""

    def __init__(self, *, max_blocks: int = 10, variants: tuple[str, ...] = VARIANTS, seed: int = 0):
        self.max_blocks = max_blocks
        self.variants = tuple(variants)
        self.seed = seed

    def get_params(self, deep: bool = True) -> dict:
        return {"max_blocks": self.max_blocks, "variants": self.variants, "seed": self.seed}

    def fit(self, weights) -> WeightedSBM:
        fit = weighted_sbm(weights, **self.get_params())
        self.fit_ = fit
        self.labels_ = fit.labels
        self.n_blocks_ = fit.n_blocks
        self.variant_ = fit.variant
        self.description_length_ = fit.description_length
        return self


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


def louvain(weights, *, seed: int = 0, resolution: float = 1.0) -> np.ndarray:
    """Louvain modularity communities (networkx), labels (N,)."""
    import networkx as nx

    w = _check_weights(weights)
    sets = nx.community.louvain_communities(_graph(np.maximum(w, 0)), weight="weight", seed=seed,
                                            resolution=resolution)
    return _labels_from_sets(sets, w.shape[0])


def leiden_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("leidenalg") is not None and importlib.util.find_spec("igraph") is not None


def leiden(weights, *, seed: int = 0) -> np.ndarray:
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
    part = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, weights="weight", seed=seed)
    return _labels_from_sets([set(c) for c in part], w.shape[0])


METHODS = ("sbm", "louvain", "leiden")


def detect_communities(weights, method: str = "sbm", *, seed: int = 0, max_blocks: int = 10,
                       variants: tuple[str, ...] = VARIANTS) -> np.ndarray:
    """Community labels (N,) by ``method`` in :data:`METHODS`."""
    if method == "sbm":
        return weighted_sbm(weights, max_blocks=max_blocks, variants=variants, seed=seed).labels
    if method == "louvain":
        return louvain(weights, seed=seed)
    if method == "leiden":
        return leiden(weights, seed=seed)
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


def component_communities(ntf, *, method: str = "sbm", seed: int = 0, max_blocks: int = 10,
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
            fit = weighted_sbm(w, max_blocks=max_blocks, variants=variants, seed=seed)
            labels, variant, dl = fit.labels, fit.variant, fit.description_length
        else:
            labels = detect_communities(w, method, seed=seed)
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
