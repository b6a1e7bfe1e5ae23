"""Description length of the nested weighted stochastic block model.

Everything here is a function of a partition (or a hierarchy of partitions) and the
graph; nothing searches.  Notation: ``N`` nodes, ``E`` edges, edge ``ij`` with covariate
``x_ij`` (the weight ``w_ij``, or ``log w_ij`` for the log-normal model), partition ``b``
into ``B`` blocks of sizes ``n_r``; per block pair ``rs`` (``r ≤ s``) the edge count
``m_rs``, the covariate sum ``X_rs = Σ x`` and the square sum ``Q_rs = Σ x²`` — kept in
:class:`BlockSums`, never indexed by position.  ``e_r = Σ_s m_rs + m_rr`` is the sum of
the degrees in ``r``.  All lengths are in nats.

Level 0 (the graph), the microcanonical SBM (Peixoto, Phys. Rev. E 95, 012317, 2017):

- plain: ``−Σ_{r<s} ln m_rs! − Σ_r ln (2m_rr)!! + Σ_r e_r ln n_r``;
- degree-corrected: ``−Σ_{r<s} ln m_rs! − Σ_r ln (2m_rr)!! + Σ_r ln e_r! − Σ_i ln k_i!``,
  plus the degrees given the blocks ("distributed" prior)
  ``Σ_r [ln n_r! − Σ_k ln η_rk! + ln q(e_r, n_r)]`` (``η_rk`` nodes of degree ``k`` in
  ``r``; ``q(m, n)`` partitions of ``m`` into at most ``n`` parts);
- partition: ``ln C(N−1, B−1) + ln N! − Σ_r ln n_r!`` at every level.

Upper levels (Peixoto, Phys. Rev. X 4, 011047, 2014): level ``l ≥ 1`` partitions the
``B_{l−1}`` blocks of level ``l−1`` into ``B_l`` groups and describes the block
multigraph of level ``l−1`` (edge multiplicities ``m_rs``) by a plain SBM with the
multigraph ("dense") likelihood ``Σ_{t<u} ln ((n_t n_u, E_tu)) + Σ_t ln ((n_t(n_t+1)/2, E_tt))``,
``((n, k)) = C(n+k−1, k)``; the hierarchy ends with one group.  The flat (one-level)
model instead pays ``ln ((B(B+1)/2, E))`` for the edge counts.

Edge weights (Peixoto, Phys. Rev. E 97, 012306, 2018, microcanonical form): given the
block pair's sums the covariates are uniform on the set that has those sums, and the
sums are the covariates of the level above (the level above with one group at the top):

- real-exponential (``x > 0``): pair ``rs`` costs ``(m−1) ln X − ln Γ(m)`` (uniform on
  the simplex ``Σ x = X``); a group of ``K`` sums ``X_k`` at the next level costs the
  same with ``m → K``, ``X → Σ X_k``;
- real-normal: pair ``rs`` with ``m ≥ 2`` costs
  ``(m−1)/2 ln π + (m−3)/2 ln R − ½ ln m − ln Γ((m−1)/2)`` with ``R = Q − X²/m``
  (uniform on the ``(m−2)``-sphere fixed by ``X`` and ``Q``, per unit of ``X`` and ``Q``),
  plus ``(K'−1) ln Σ R − ln Γ(K')`` over the ``K'`` pairs with ``m ≥ 2`` (the residual
  sums, exponential); the sums ``X`` at the next level are normal covariates again;
- log-normal: the real-normal model for ``log w`` plus the Jacobian ``Σ_ij ln w_ij``.

These are the conventions of graph-tool's ``BlockState``/``NestedBlockState`` entropy with
``rec_types`` ``real-exponential``/``real-normal`` and the default microcanonical
``rec_params`` (checked term by term on fixed partitions in the tests, where graph-tool is
installed), with two differences in the nested model: graph-tool's level 0 describes its
pair sums once more as one flat group although level 1 describes them (counted once
here), and for real-normal weights its total adds a term for the precision of the
residual variances (not here).  The degree prior uses the exact count of integer
partitions ``q(m, n)`` (Szekeres' asymptotic form beyond a table of 4·10⁶ entries).

The planted-partition model (Zhang & Peixoto, Phys. Rev. Research 2, 043271, 2020)
replaces the edge counts by ``e_in`` and ``e_out``:
``−ln e_out! − Σ_r ln (2m_rr)!! + e_out ln C(B,2) + ln ((B, e_in)) + [B>1] ln(E+1)
+ Σ_r ln e_r! − Σ_i ln k_i!`` plus the degree and partition terms; weights are then
described with two groups, within and between blocks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln

WEIGHT_MODELS = ("exponential", "normal", "lognormal")
# ``none``: edges only (weights ignored) — the unweighted SBM.
VARIANTS = ("plain", "degree_corrected")
_LOG2 = float(np.log(2.0))
_LOGPI = float(np.log(np.pi))
#: Floor of a residual square sum ``Q − X²/m`` (normal weight models).  A residual of 0 (a
#: block pair of equal covariates) has no normal density: its ``ln`` is −∞.  Every term
#: below and every move delta of the search take the residual from :func:`_normal_resid`.
RESIDUAL_FLOOR = 0.0


# ------------------------------------------------------------------ the graph


@dataclass
class Graph:
    """An undirected simple graph with one covariate per edge (``i < j``)."""

    n: int
    i: np.ndarray
    j: np.ndarray
    x: np.ndarray          # covariate per edge (weight, or log weight)
    degree: np.ndarray     # (N,) int
    jacobian: float        # Σ ln w for the log-normal model, else 0
    weight_model: str

    @property
    def n_edges(self) -> int:
        return int(self.i.size)

    @functools.cached_property
    def log_k_fact(self) -> float:
        return float(gammaln(self.degree + 1.0).sum())

    @functools.cached_property
    def csr(self):
        """Neighbours of every node: ``(indptr, nbr, xv)`` with each edge both ways."""
        src = np.concatenate([self.i, self.j])
        dst = np.concatenate([self.j, self.i])
        xv = np.concatenate([self.x, self.x])
        order = np.argsort(src, kind="stable")
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=self.n), out=indptr[1:])
        return indptr, dst[order], xv[order]


def make_graph(w: np.ndarray, weight_model: str) -> Graph:
    """The graph of a symmetric non-negative weight matrix (edge where ``w_ij > 0``)."""
    iu, ju = np.nonzero(np.triu(w, 1) > 0)
    vals = w[iu, ju]
    if weight_model == "lognormal":
        x, jac = np.log(vals), float(np.log(vals).sum())
    else:
        x, jac = vals.astype(np.float64), 0.0
    deg = np.bincount(iu, minlength=w.shape[0]) + np.bincount(ju, minlength=w.shape[0])
    return Graph(w.shape[0], iu.astype(np.int64), ju.astype(np.int64), x, deg.astype(np.int64), jac, weight_model)


# ------------------------------------------------------------------ block sums


@dataclass
class BlockSums:
    """Sufficient statistics of a partition, named (symmetric ``(B, B)`` matrices).

    ``edges[r, s]`` edges between ``r`` and ``s`` (``r = s``: edges inside ``r``, once);
    ``weight`` and ``weight_sq`` the sums of ``x`` and ``x²`` over them; ``sizes`` the
    block sizes; ``degree`` the degree sums ``e_r``; ``degree_hist[r, c]`` the number of
    nodes of degree class ``c`` in ``r`` (degree-corrected prior only, else None).
    """

    edges: np.ndarray
    weight: np.ndarray
    weight_sq: np.ndarray
    sizes: np.ndarray
    degree: np.ndarray
    degree_hist: np.ndarray | None = None

    @property
    def n_blocks(self) -> int:
        return int(self.sizes.size)


def _pair_sum(r: np.ndarray, s: np.ndarray, vals: np.ndarray, b: int) -> np.ndarray:
    out = np.bincount(r * b + s, weights=vals, minlength=b * b).reshape(b, b).astype(np.float64)
    out = out + out.T
    out[np.diag_indices(b)] /= 2
    return out


def block_sums(graph: Graph, labels: np.ndarray, n_blocks: int | None = None,
               degree_classes: np.ndarray | None = None) -> BlockSums:
    """:class:`BlockSums` of ``labels`` (``0 … B−1``)."""
    b = int(labels.max()) + 1 if n_blocks is None else n_blocks
    r, s = labels[graph.i], labels[graph.j]
    ones = np.ones(r.size)
    hist = None
    if degree_classes is not None:
        n_cls = int(degree_classes.max()) + 1
        hist = np.bincount(labels * n_cls + degree_classes, minlength=b * n_cls).reshape(b, n_cls).astype(np.float64)
    return BlockSums(edges=_pair_sum(r, s, ones, b), weight=_pair_sum(r, s, graph.x, b),
                     weight_sq=_pair_sum(r, s, graph.x ** 2, b),
                     sizes=np.bincount(labels, minlength=b).astype(np.float64),
                     degree=np.bincount(labels, weights=graph.degree.astype(np.float64), minlength=b),
                     degree_hist=hist)


# ------------------------------------------------------------------ counting helpers


def log_multiset(n, k):
    """``ln ((n, k)) = ln C(n+k−1, k)`` (0 when ``k = 0``)."""
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = gammaln(n + k) - gammaln(k + 1) - gammaln(n)
    return np.where(k > 0, out, 0.0)


def log_binom(n, k):
    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def partition_dl(sizes: np.ndarray, n: int | None = None) -> float:
    """``ln N + ln C(N−1, B−1) + ln N! − Σ_r ln n_r!`` (empty blocks ignored; ``ln N``: B uniform in 1…N)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    sizes = sizes[sizes > 0]
    n = int(sizes.sum()) if n is None else n
    b = sizes.size
    return float(np.log(n) + log_binom(n - 1, b - 1) + gammaln(n + 1) - gammaln(sizes + 1).sum())


_Q_EXACT_CELLS = 4_000_000


@functools.lru_cache(maxsize=4)
def _log_q_table(m_max: int, n_max: int) -> np.ndarray:
    """``ln q(m, n)`` for ``m ≤ m_max``, ``n ≤ n_max``: ``q(m, n) = q(m, n−1) + q(m−n, n)``."""
    logq = np.full((m_max + 1, n_max + 1), -np.inf)
    logq[0, :] = 0.0
    for n in range(1, n_max + 1):
        col = logq[:, n - 1].copy()
        for start in range(n, m_max + 1, n):
            stop = min(start + n, m_max + 1)
            col[start:stop] = np.logaddexp(col[start:stop], col[start - n:stop - n])
        logq[:, n] = col
    return logq


@functools.lru_cache(maxsize=1)
def _szekeres_grid():
    """``v(u)`` of Szekeres' asymptotic for ``q(m, n)``, ``u = n/√m``, on a log grid."""
    from scipy.optimize import brentq
    from scipy.special import spence

    us = np.geomspace(1e-3, 1e2, 600)
    vs = []
    for u in us:
        # v = u sqrt(−v²/2 − Li2(1 − e^v)), Li2(1 − z) = spence(z)
        f = lambda v: v - u * np.sqrt(max(-v * v / 2 - spence(np.exp(v)), 0.0))
        vs.append(brentq(f, 1e-12, 3 * u + 50.0))
    return np.log(us), np.asarray(vs)


def _log_q_approx(m: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Szekeres' asymptotic ``ln q(m, n)`` (Peixoto 2017, appendix), for large ``m``."""
    lu, lv = _szekeres_grid()
    u = n / np.sqrt(m)
    v = np.interp(np.log(u), lu, lv)
    f = v / (2 ** 1.5 * np.pi * u) * (1 - (1 + u * u / 2) * np.exp(-v)) ** -0.5
    g = 2 * v / u - u * np.log1p(-np.exp(-v))
    return np.log(f) - np.log(m) + np.sqrt(m) * g


class LogQ:
    """``ln q(m, n)``: exact table where it fits, Szekeres' asymptotic beyond."""

    def __init__(self, m_max: int, n_max: int):
        n_max = max(1, min(n_max, m_max))
        if (m_max + 1) * (n_max + 1) <= _Q_EXACT_CELLS:
            self.m_exact, self.n_exact = m_max, n_max
        else:
            self.m_exact = max(1, min(m_max, _Q_EXACT_CELLS // (n_max + 1) - 1))
            self.n_exact = n_max
        self.table = _log_q_table(self.m_exact, self.n_exact)

    def __call__(self, m, n) -> np.ndarray:
        m = np.asarray(m, dtype=np.int64)
        n = np.minimum(np.asarray(n, dtype=np.int64), m)
        m, n = np.broadcast_arrays(m, n)
        out = np.zeros(m.shape)
        exact = (m <= self.m_exact) & (n <= self.n_exact)
        out[exact] = self.table[m[exact], n[exact]]
        rest = ~exact & (m > 0) & (n > 0)
        if rest.any():
            out[rest] = _log_q_approx(m[rest].astype(np.float64), n[rest].astype(np.float64))
        return out


# ------------------------------------------------------------------ level-0 terms


def _upper(mat: np.ndarray) -> np.ndarray:
    """Entries ``r ≤ s`` of the last two axes, flattened."""
    b = mat.shape[-1]
    iu = np.triu_indices(b)
    return mat[..., iu[0], iu[1]]


def adjacency_dl(sums: BlockSums, degree_corrected: bool, log_k_fact: float = 0.0) -> float:
    """``−ln P(A | m, b[, k])`` of the sparse microcanonical SBM (simple graph)."""
    m = sums.edges
    diag = np.diag(m)
    off = (gammaln(m + 1).sum() - gammaln(diag + 1).sum()) / 2
    val = -(off + gammaln(diag + 1).sum() + _LOG2 * diag.sum())
    if degree_corrected:
        return float(val + gammaln(sums.degree + 1).sum() - log_k_fact)
    occupied = sums.sizes > 0
    return float(val + (sums.degree[occupied] * np.log(sums.sizes[occupied])).sum())


def degree_dl(sums: BlockSums, log_q: LogQ | None, prior: str = "distributed") -> float:
    """Distributed degree prior ``Σ_r [ln n_r! − Σ_k ln η_rk! + ln q(e_r, n_r)]``
    (``prior="uniform"``: ``Σ_r ln ((n_r, e_r))``, for comparison only)."""
    if prior == "uniform":
        return float(log_multiset(sums.sizes, sums.degree).sum())
    return float(gammaln(sums.sizes + 1).sum() - gammaln(sums.degree_hist + 1).sum()
                 + log_q(sums.degree.astype(np.int64), sums.sizes.astype(np.int64)).sum())


def edges_dl_flat(n_blocks: int, n_edges: int) -> float:
    """``ln ((B(B+1)/2, E))``: the edge counts of a flat (one-level) model."""
    return float(log_multiset(n_blocks * (n_blocks + 1) / 2, n_edges))


def _expo(count, total):
    """``(m−1) ln X − ln Γ(m)`` per entry with ``m ≥ 2`` (0 elsewhere): ``m`` exponential
    covariates given their sum ``X``."""
    count = np.asarray(count, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = (count - 1) * np.log(total) - gammaln(count)
    return np.where(count > 1, val, 0.0)


def _normal_shell(count, resid):
    """The ``(m−2)``-sphere term per entry with ``m ≥ 2`` (0 elsewhere): ``m`` normal
    covariates given their sum and residual square sum."""
    count = np.asarray(count, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = ((count - 1) / 2 * _LOGPI + (count - 3) / 2 * np.log(resid) - 0.5 * np.log(count)
               - gammaln((count - 1) / 2))
    return np.where(count > 1, val, 0.0)


def _normal_resid(count, total, total_sq):
    """Residual square sum ``Q − X²/m`` per entry with ``m ≥ 2`` (0 elsewhere), floored at
    :data:`RESIDUAL_FLOOR`."""
    count = np.asarray(count, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = total_sq - np.where(count > 0, total * total / np.maximum(count, 1), 0.0)
    return np.where(count > 1, np.maximum(r, RESIDUAL_FLOOR), 0.0)


def _entries_dl(count, total, resid, weight_model):
    """Weight term of each entry given its sums (exponential, or the normal shell)."""
    if weight_model == "none":
        return np.zeros(np.shape(count))
    if weight_model == "exponential":
        return _expo(count, total)
    return _normal_shell(count, resid)


def _pooled_resid_dl(k2, resid_sum):
    """Normal models: the ``k2`` residual square sums (entries with ``m ≥ 2``) described by
    their total, ``(k2−1) ln R − ln Γ(k2)`` where ``k2 ≥ 2``."""
    k2 = np.asarray(k2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = (k2 - 1) * np.log(resid_sum) - gammaln(k2)
    return np.where(k2 > 1, val, 0.0)


def _group_above_dl(k, total, total_sq, weight_model):
    """``k`` pair sums (of total ``total`` and square sum ``total_sq``) described as one
    group at the level above; 0 for fewer than two."""
    if weight_model == "none":
        return np.zeros(np.shape(k))
    return _entries_dl(k, total, _normal_resid(k, total, total_sq), weight_model)


def covariate_dl(count: np.ndarray, total: np.ndarray, total_sq: np.ndarray, weight_model: str) -> float:
    """Weights given the block-pair sums, over the pairs given as flat arrays."""
    count = np.asarray(count, dtype=np.float64)
    if weight_model == "none":
        return 0.0
    resid = _normal_resid(count, total, total_sq)
    val = float(_entries_dl(count, total, resid, weight_model).sum())
    if weight_model != "exponential":
        val += float(_pooled_resid_dl((count > 1).sum(), resid.sum()))
    return val


def sums_dl(values: np.ndarray, weight_model: str) -> float:
    """The pair sums ``X_rs`` described as one group at the level above."""
    values = np.asarray(values, dtype=np.float64)
    return float(_group_above_dl(values.size, values.sum(), (values ** 2).sum(), weight_model))


class PairTerms(NamedTuple):
    """The additive parts of the level-0 description length carried by block-pair entries:
    per entry (from :func:`pair_terms`), summed over entries, or the change of those sums
    under a move or merge (arrays of any matching shape).

    dl : ``−ln m_rs! − [r = s] m_rs ln 2`` plus the entry's weight term
        (:func:`_entries_dl`);
    occupied : 1 where ``m_rs > 0`` (the number of pair sums described at the level above);
    multi : 1 where ``m_rs > 1`` (entries with a residual, normal models);
    resid : the residual square sum :func:`_normal_resid` (normal models; 0 otherwise);
    x2 : ``X_rs²`` where occupied (the square sum of the pair sums above).
    """

    dl: np.ndarray
    occupied: np.ndarray
    multi: np.ndarray
    resid: np.ndarray
    x2: np.ndarray


def pair_terms(m, x, q, diag, weight_model: str) -> PairTerms:
    """:class:`PairTerms` of block-pair entries with edge counts ``m``, covariate sums ``x``
    and square sums ``q``; ``diag`` is 1 on diagonal entries (``r = s``), else 0."""
    m = np.asarray(m, dtype=np.float64)
    occ = (m > 0).astype(np.float64)
    resid = (_normal_resid(m, x, q) if weight_model not in ("exponential", "none")
             else np.zeros(m.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        dl = -gammaln(m + 1) - diag * _LOG2 * m + _entries_dl(m, x, resid, weight_model)
        return PairTerms(dl, occ, (m > 1).astype(np.float64), resid, np.where(occ > 0, x * x, 0.0))


def above_dl(occupied, multi, resid_sum, x2_sum, x_total: float, weight_model: str):
    """The terms that couple all entries of level 0 (vectorised over candidate states):
    the pooled residuals (normal models) and the pair sums as one group above, from the
    summed :class:`PairTerms` and the total covariate ``x_total``."""
    out = _group_above_dl(occupied, x_total, x2_sum, weight_model)
    if weight_model not in ("exponential", "none"):
        out = out + _pooled_resid_dl(multi, resid_sum)
    return out


def two_group_weight_dl(count, total, total_sq, weight_model: str):
    """Weights of the planted-partition model: the covariates in two groups (within and
    between blocks; axis 0 of the arrays, vectorised over the others), the two sums as
    one group above."""
    count = np.asarray(count, dtype=np.float64)
    total = np.asarray(total, dtype=np.float64)
    total_sq = np.asarray(total_sq, dtype=np.float64)
    if weight_model == "none":
        return np.zeros(count.shape[1:])
    resid = _normal_resid(count, total, total_sq)
    out = _entries_dl(count, total, resid, weight_model).sum(axis=0)
    if weight_model != "exponential":
        out = out + _pooled_resid_dl((count > 1).sum(axis=0), resid.sum(axis=0))
    occ = count > 0
    return out + _group_above_dl(occ.sum(axis=0), np.where(occ, total, 0.0).sum(axis=0),
                                 np.where(occ, total ** 2, 0.0).sum(axis=0), weight_model)


# ------------------------------------------------------------------ whole models


@dataclass
class Level:
    """One upper level: the groups of the level below and its description length."""

    labels: np.ndarray
    dl: float


def upper_level_terms(edges: np.ndarray, weight: np.ndarray, labels: np.ndarray, weight_model: str):
    """Description of a block multigraph (``edges``, ``weight`` of the level below) by
    a plain dense multigraph SBM with partition ``labels``; returns
    ``(dl, the next level's edges, the next level's pair sums, the K values of each pair)``.

    The covariates of this level are the pair sums of the level below, one value per
    occupied pair ``rs`` (``r ≤ s``).
    """
    b_prev = edges.shape[0]
    b = int(labels.max()) + 1
    iu, ju = np.triu_indices(b_prev)
    occ = edges[iu, ju] > 0
    iu, ju = iu[occ], ju[occ]
    mult, vals = edges[iu, ju], weight[iu, ju]
    t, u = labels[iu], labels[ju]
    lo, hi = np.minimum(t, u), np.maximum(t, u)
    e_next = _pair_sum(lo, hi, mult, b)
    x_next = _pair_sum(lo, hi, vals, b)
    k_next = _pair_sum(lo, hi, np.ones(vals.size), b)
    q_next = _pair_sum(lo, hi, vals ** 2, b)
    n_t = np.bincount(labels, minlength=b).astype(np.float64)
    nn = np.outer(n_t, n_t)
    np.fill_diagonal(nn, n_t * (n_t + 1) / 2)
    dense = float(_upper(log_multiset(nn, e_next)).sum())
    cov = covariate_dl(_upper(k_next), _upper(x_next), _upper(q_next), weight_model)
    return dense + partition_dl(n_t) + cov, e_next, x_next


def level0_dl(graph: Graph, sums: BlockSums, variant: str, log_q: LogQ | None = None) -> dict:
    """Level-0 terms of a partition: adjacency, degrees, partition, weights given the sums."""
    dc = variant == "degree_corrected"
    if dc and log_q is None:
        log_q = LogQ(int(graph.degree.sum()), graph.n)
    terms = {"adjacency": adjacency_dl(sums, dc, graph.log_k_fact),
             "degrees": degree_dl(sums, log_q) if dc else 0.0,
             "partition": partition_dl(sums.sizes, graph.n),
             "weights": covariate_dl(_upper(sums.edges), _upper(sums.weight), _upper(sums.weight_sq),
                                     graph.weight_model) + graph.jacobian}
    return terms


def flat_dl(graph: Graph, sums: BlockSums, variant: str, log_q: LogQ | None = None) -> float:
    """Flat (one-level) description length: level 0, the flat edge-count prior, and the
    pair sums as one group above."""
    t = level0_dl(graph, sums, variant, log_q)
    occ = _upper(sums.edges) > 0
    return float(sum(t.values()) + edges_dl_flat(sums.n_blocks, graph.n_edges)
                 + sums_dl(_upper(sums.weight)[occ], graph.weight_model))


def nested_dl(graph: Graph, labels: np.ndarray, hierarchy: list[np.ndarray], variant: str,
              log_q: LogQ | None = None, terms: bool = False):
    """Description length of a hierarchy: ``labels`` at level 0, then ``hierarchy[l]`` the
    groups of the blocks of level ``l`` (the last one must have a single group).

    Returns the total, or ``(total, {term: value})`` with ``terms=True``.
    """
    b0 = int(labels.max()) + 1
    sums = block_sums(graph, labels, b0, _degree_classes(graph) if variant == "degree_corrected" else None)
    if variant == "degree_corrected" and log_q is None:
        log_q = LogQ(int(graph.degree.sum()), graph.n)
    out = level0_dl(graph, sums, variant, log_q)
    # The pair sums of level 0 are described once, by level 1 (graph-tool's level-0
    # entropy also adds them as one flat group, its ``recs_dl``: not done here).
    edges, weight = sums.edges, sums.weight
    upper = 0.0
    for lab in hierarchy:
        dl, edges, weight = upper_level_terms(edges, weight, np.asarray(lab), graph.weight_model)
        upper += dl
    out["hierarchy"] = upper
    total = float(sum(out.values()))
    return (total, out) if terms else total


def _degree_classes(graph: Graph) -> np.ndarray:
    return np.unique(graph.degree, return_inverse=True)[1].reshape(-1)


# ------------------------------------------------------------------ planted partition


def planted_partition_dl(graph: Graph, labels: np.ndarray, log_q: LogQ | None = None, terms: bool = False):
    """Description length of the (degree-corrected, non-uniform) planted-partition model
    with weights in two groups (within blocks, between blocks)."""
    b = int(labels.max()) + 1
    sums = block_sums(graph, labels, b, _degree_classes(graph))
    if log_q is None:
        log_q = LogQ(int(graph.degree.sum()), graph.n)
    diag = np.diag(sums.edges)
    e_in = float(diag.sum())
    e_out = float(graph.n_edges - e_in)
    adj = -(gammaln(e_out + 1) + (gammaln(diag + 1) + _LOG2 * diag).sum())
    if b > 1:
        adj += e_out * np.log(b * (b - 1) / 2) + np.log(graph.n_edges + 1)
    adj += float(log_multiset(b, e_in)) + gammaln(sums.degree + 1).sum() - graph.log_k_fact
    same = labels[graph.i] == labels[graph.j]
    cnt = np.array([same.sum(), (~same).sum()], dtype=np.float64)
    tot = np.array([graph.x[same].sum(), graph.x[~same].sum()])
    tsq = np.array([(graph.x[same] ** 2).sum(), (graph.x[~same] ** 2).sum()])
    out = {"adjacency": float(adj), "degrees": degree_dl(sums, log_q), "partition": partition_dl(sums.sizes, graph.n),
           "weights": float(two_group_weight_dl(cnt, tot, tsq, graph.weight_model)) + graph.jacobian}
    total = float(sum(out.values()))
    return (total, out) if terms else total
