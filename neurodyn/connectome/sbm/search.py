"""Search for the partition hierarchy with the shortest description length.

Level 0 (the nodes) is searched with the flat description length of
:mod:`neurodyn.connectome.sbm.objective` (level-0 terms, the flat edge-count prior, the
pair sums as one group above): agglomerative merges of blocks, as in Peixoto's
heuristic (Phys. Rev. E 89, 012804, 2014) — every block proposes merges with the blocks
it is connected to, the best non-conflicting merges are applied until ``B`` has shrunk by
a factor ``σ = 1.3`` — each step followed by zero-temperature sweeps of single-node
moves (a node goes to the block that lowers the description length most, among its
neighbours' blocks).  Every merge and move is scored exactly from the block sums, with
rank-one row updates (no recomputation over all block pairs).  The path runs from one
block per node down to one block, so ``B`` is never capped by the search.

The upper levels of each partition on the path are then chosen by their own description
length: the block multigraph is clustered (average linkage on its rows of edge
densities) and every cut is scored exactly; the best level-0 partition is the one whose
whole hierarchy (:func:`~neurodyn.connectome.sbm.objective.nested_dl`) is shortest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from neurodyn.connectome.sbm import objective as ob

_SIGMA = 1.3
_MAX_CANDIDATES = 48


def _entry_terms(m, x, q, diag, weight_model):
    """Per block-pair entry: (description-length part, occupied, m>1, residual, x² if occupied)."""
    f = -gammaln(m + 1) - diag * ob._LOG2 * m
    occ = (m > 0).astype(np.float64)
    occ2 = (m > 1).astype(np.float64)
    if weight_model == "exponential":
        f = f + ob._expo(m, x)
        resid = np.zeros_like(f)
    elif weight_model == "none":
        resid = np.zeros_like(f)
    else:
        resid = ob._normal_resid(m, x, q)
        f = f + ob._normal_shell(m, resid)
    return f, occ, occ2, resid, x * x * occ


@dataclass
class FlatState:
    """Block sums of a level-0 partition and its flat description length, with move and
    merge scoring.  ``labels`` are ``0 … B−1`` with no empty block."""

    graph: ob.Graph
    labels: np.ndarray
    variant: str
    log_q: ob.LogQ | None = None
    sums: ob.BlockSums = field(init=False)

    def __post_init__(self):
        g = self.graph
        self.dc = self.variant == "degree_corrected"
        self.wm = g.weight_model
        self.classes = ob._degree_classes(g) if self.dc else None
        if self.dc and self.log_q is None:
            self.log_q = ob.LogQ(int(g.degree.sum()), g.n)
        self.x_total = float(g.x.sum())
        self.indptr, self.nbr, self.nx = g.csr
        self.labels = np.asarray(self.labels, dtype=np.int64).copy()
        self.rebuild()

    # -------------------------------------------------------------- bookkeeping

    def rebuild(self):
        self.labels = np.unique(self.labels, return_inverse=True)[1].reshape(-1)
        self.B = int(self.labels.max()) + 1
        self.sums = ob.block_sums(self.graph, self.labels, self.B, self.classes)
        s = self.sums
        self.E, self.X, self.Q = s.edges, s.weight, s.weight_sq
        self.n, self.e, self.H = s.sizes, s.degree, s.degree_hist
        iu = np.triu_indices(self.B)
        diag = (iu[0] == iu[1]).astype(np.float64)
        f, occ, occ2, resid, x2 = _entry_terms(self.E[iu], self.X[iu], self.Q[iu], diag, self.wm)
        self.F = float(f.sum())
        self.K, self.K2, self.SR, self.SX2 = float(occ.sum()), float(occ2.sum()), float(resid.sum()), float(x2.sum())

    def _global(self, K, K2, SR, SX2):
        """Terms that couple all pairs: residual sums (normal) and the pair sums above."""
        K, K2, SR, SX2 = (np.asarray(v, dtype=np.float64) for v in (K, K2, SR, SX2))
        if self.wm == "none":
            return np.zeros(np.broadcast(K, K2).shape)
        if self.wm == "exponential":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(K > 1, (K - 1) * np.log(self.x_total) - gammaln(K), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(K2 > 1, (K2 - 1) * np.log(SR) - gammaln(K2), 0.0)
            resid = np.maximum(SX2 - self.x_total ** 2 / np.maximum(K, 1), 0.0)
            out = out + np.where(K > 1, (K - 1) / 2 * ob._LOGPI + (K - 3) / 2 * np.log(resid) - 0.5 * np.log(K)
                                 - gammaln((K - 1) / 2), 0.0)
        return out

    def _block(self, n, e, hist_part):
        """Node/block terms of blocks with sizes ``n``, degree sums ``e`` (partition's
        ``−ln n_r!`` included); ``hist_part`` = ``−Σ_c ln η_rc!`` (degree-corrected)."""
        if self.dc:
            return gammaln(e + 1) + self.log_q(e.astype(np.int64), n.astype(np.int64)) + hist_part
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, e * np.log(np.maximum(n, 1)), 0.0) - gammaln(n + 1)

    def _const(self, B):
        g = self.graph
        val = np.log(g.n) + ob.log_binom(g.n - 1, B - 1) + gammaln(g.n + 1) + ob.log_multiset(B * (B + 1) / 2, g.n_edges)
        return val + g.jacobian - (g.log_k_fact if self.dc else 0.0)

    def dl(self) -> float:
        hist = -gammaln(self.H + 1).sum(axis=1) if self.dc else 0.0
        return float(self.F + self._block(self.n, self.e, hist).sum() + self._global(self.K, self.K2, self.SR, self.SX2)
                     + self._const(self.B))

    # -------------------------------------------------------------- node moves

    def _node_rows(self, v):
        a, b = self.indptr[v], self.indptr[v + 1]
        nb, xv = self.nbr[a:b], self.nx[a:b]
        lab = self.labels[nb]
        d = np.bincount(lab, minlength=self.B).astype(np.float64)
        dx = np.bincount(lab, weights=xv, minlength=self.B)
        dq = np.bincount(lab, weights=xv * xv, minlength=self.B)
        return d, dx, dq, lab

    def move_deltas(self, v, cand):
        """Change of the description length when node ``v`` moves to each block in ``cand``."""
        r = self.labels[v]
        d, dx, dq, _ = self._node_rows(v)
        E, X, Q, B, wm = self.E, self.X, self.Q, self.B, self.wm
        cand = np.asarray(cand)
        c = cand.size
        t = np.arange(B)
        mask = (t[None, :] != r) & (t[None, :] != cand[:, None])
        # rows r (same for every destination) and s, old and new
        old_r = _entry_terms(E[r], X[r], Q[r], 0.0, wm)
        new_r = _entry_terms(E[r] - d, X[r] - dx, Q[r] - dq, 0.0, wm)
        Es, Xs, Qs = E[cand], X[cand], Q[cand]
        old_s = _entry_terms(Es, Xs, Qs, 0.0, wm)
        new_s = _entry_terms(Es + d, Xs + dx, Qs + dq, 0.0, wm)
        delta = [((nr - orr)[None, :] * mask).sum(1) + ((ns - os_) * mask).sum(1)
                 for nr, orr, ns, os_ in zip(new_r, old_r, new_s, old_s)]
        # special entries rr, ss, rs
        rr_o = _entry_terms(E[r, r], X[r, r], Q[r, r], 1.0, wm)
        rr_n = _entry_terms(E[r, r] - d[r], X[r, r] - dx[r], Q[r, r] - dq[r], 1.0, wm)
        ss_o = _entry_terms(E[cand, cand], X[cand, cand], Q[cand, cand], 1.0, wm)
        ss_n = _entry_terms(E[cand, cand] + d[cand], X[cand, cand] + dx[cand], Q[cand, cand] + dq[cand], 1.0, wm)
        rs_o = _entry_terms(E[r, cand], X[r, cand], Q[r, cand], 0.0, wm)
        rs_n = _entry_terms(E[r, cand] + d[r] - d[cand], X[r, cand] + dx[r] - dx[cand],
                            Q[r, cand] + dq[r] - dq[cand], 0.0, wm)
        for k in range(5):
            delta[k] = delta[k] + (rr_n[k] - rr_o[k]) + (ss_n[k] - ss_o[k]) + (rs_n[k] - rs_o[k])
        dF, dK, dK2, dSR, dSX2 = delta
        g_new = self._global(self.K + dK, self.K2 + dK2, self.SR + dSR, self.SX2 + dSX2)
        g_old = self._global(self.K, self.K2, self.SR, self.SX2)
        k = float(self.graph.degree[v])
        n, e = self.n, self.e
        if self.dc:
            cl = self.classes[v]
            h_r_old = -gammaln(self.H[r, cl] + 1)
            h_r_new = -gammaln(self.H[r, cl])
            h_s_old = -gammaln(self.H[cand, cl] + 1)
            h_s_new = -gammaln(self.H[cand, cl] + 2)
        else:
            h_r_old = h_r_new = 0.0
            h_s_old = h_s_new = np.zeros(c)
        blk = (self._block(np.array([n[r] - 1]), np.array([e[r] - k]), np.atleast_1d(h_r_new))
               - self._block(np.array([n[r]]), np.array([e[r]]), np.atleast_1d(h_r_old)))
        blk = blk + self._block(n[cand] + 1, e[cand] + k, h_s_new) - self._block(n[cand], e[cand], h_s_old)
        out = dF + (g_new - g_old) + blk
        out[cand == r] = 0.0
        return out

    def apply_move(self, v, s):
        r = self.labels[v]
        if r == s:
            return
        d, dx, dq, _ = self._node_rows(v)
        for M, dd in ((self.E, d), (self.X, dx), (self.Q, dq)):
            M[r, :] -= dd
            M[:, r] -= dd
            M[s, :] += dd
            M[:, s] += dd
            # the node's edges to r were inside r (counted once on the diagonal)
            M[r, r] += dd[r]
            M[s, s] -= dd[s]
        # pair (r, s): edges v–s were r–s (now inside s), v–r were inside r (now r–s)
        k = float(self.graph.degree[v])
        self.n[r] -= 1
        self.n[s] += 1
        self.e[r] -= k
        self.e[s] += k
        if self.dc:
            cl = self.classes[v]
            self.H[r, cl] -= 1
            self.H[s, cl] += 1
        self.labels[v] = s
        self._refresh_totals()

    def _refresh_totals(self):
        iu = np.triu_indices(self.B)
        diag = (iu[0] == iu[1]).astype(np.float64)
        f, occ, occ2, resid, x2 = _entry_terms(self.E[iu], self.X[iu], self.Q[iu], diag, self.wm)
        self.F = float(f.sum())
        self.K, self.K2, self.SR, self.SX2 = float(occ.sum()), float(occ2.sum()), float(resid.sum()), float(x2.sum())

    def sweep(self, rng, max_sweeps: int = 10, tol: float = 1e-7) -> tuple[int, bool]:
        """Zero-temperature single-node moves; returns (sweeps done, converged)."""
        for it in range(1, max_sweeps + 1):
            moved = 0
            for v in rng.permutation(self.graph.n):
                r = self.labels[v]
                if self.n[r] <= 1:
                    continue
                a, b = self.indptr[v], self.indptr[v + 1]
                cand = np.unique(self.labels[self.nbr[a:b]])
                if cand.size > _MAX_CANDIDATES:
                    cand = rng.choice(cand, _MAX_CANDIDATES, replace=False)
                cand = cand[cand != r]
                if cand.size == 0:
                    continue
                dlt = self.move_deltas(v, cand)
                k = int(np.argmin(dlt))
                if dlt[k] < -tol:
                    self.apply_move(v, int(cand[k]))
                    moved += 1
            if moved == 0:
                return it, True
        return max_sweeps, False

    # -------------------------------------------------------------- merges

    def merge_deltas(self, r, cand):
        """Change of the description length when block ``r`` is merged into each of ``cand``."""
        E, X, Q, B, wm = self.E, self.X, self.Q, self.B, self.wm
        cand = np.asarray(cand)
        t = np.arange(B)
        mask = (t[None, :] != r) & (t[None, :] != cand[:, None])
        Es, Xs, Qs = E[cand], X[cand], Q[cand]
        new = _entry_terms(Es + E[r], Xs + X[r], Qs + Q[r], 0.0, wm)
        old_s = _entry_terms(Es, Xs, Qs, 0.0, wm)
        old_r = _entry_terms(E[r], X[r], Q[r], 0.0, wm)
        delta = [((nw - os_ - orr[None, :]) * mask).sum(1) for nw, os_, orr in zip(new, old_s, old_r)]
        ss_n = _entry_terms(E[cand, cand] + E[r, r] + E[r, cand], X[cand, cand] + X[r, r] + X[r, cand],
                            Q[cand, cand] + Q[r, r] + Q[r, cand], 1.0, wm)
        ss_o = _entry_terms(E[cand, cand], X[cand, cand], Q[cand, cand], 1.0, wm)
        rr_o = _entry_terms(E[r, r], X[r, r], Q[r, r], 1.0, wm)
        rs_o = _entry_terms(E[r, cand], X[r, cand], Q[r, cand], 0.0, wm)
        for k in range(5):
            delta[k] = delta[k] + ss_n[k] - ss_o[k] - rr_o[k] - rs_o[k]
        dF, dK, dK2, dSR, dSX2 = delta
        g = self._global(self.K + dK, self.K2 + dK2, self.SR + dSR, self.SX2 + dSX2) - \
            self._global(self.K, self.K2, self.SR, self.SX2)
        n, e = self.n, self.e
        if self.dc:
            h_new = -gammaln(self.H[cand] + self.H[r] + 1).sum(1)
            h_s = -gammaln(self.H[cand] + 1).sum(1)
            h_r = -gammaln(self.H[r] + 1).sum()
        else:
            h_new = h_s = np.zeros(cand.size)
            h_r = 0.0
        blk = (self._block(n[cand] + n[r], e[cand] + e[r], h_new) - self._block(n[cand], e[cand], h_s)
               - self._block(np.array([n[r]]), np.array([e[r]]), np.atleast_1d(h_r)))
        return dF + g + blk + (self._const(B - 1) - self._const(B))

    def merge_step(self, target: int, rng) -> None:
        """Apply the best non-conflicting merges until ``B == target`` (or none is left)."""
        proposals = []
        for r in range(self.B):
            row = self.E[r].copy()
            row[r] = 0
            cand = np.flatnonzero(row > 0)
            if cand.size == 0:
                cand = np.setdiff1d(np.arange(self.B), [r])
            if cand.size > _MAX_CANDIDATES:
                cand = rng.choice(cand, _MAX_CANDIDATES, replace=False)
            if cand.size == 0:
                continue
            dlt = self.merge_deltas(r, cand)
            k = int(np.argmin(dlt))
            proposals.append((float(dlt[k]), r, int(cand[k])))
        proposals.sort()
        parent = np.arange(self.B)

        def find(a):
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        n_merge = self.B - target
        done = 0
        for _, r, s in proposals:
            if done >= n_merge:
                break
            a, b = find(r), find(s)
            if a == b:
                continue
            parent[a] = b
            done += 1
        roots = np.array([find(a) for a in range(self.B)])
        self.labels = roots[self.labels]
        self.rebuild()


# ------------------------------------------------------------------ upper levels


def build_hierarchy(graph: ob.Graph, labels: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Upper levels for a level-0 partition, each chosen by description length among the
    cuts of an average-linkage tree of the block graph; returns (hierarchy, its upper DL)."""
    from scipy.cluster.hierarchy import cut_tree, linkage

    b0 = int(labels.max()) + 1
    sums = ob.block_sums(graph, labels, b0)
    edges, weight = sums.edges, sums.weight
    hierarchy, total = [], 0.0
    wm = graph.weight_model
    while True:
        b = edges.shape[0]
        if b == 1:
            hierarchy.append(np.zeros(1, dtype=np.int64))
            dl, _, _ = ob.upper_level_terms(edges, weight, hierarchy[-1], wm)
            return hierarchy, total + dl
        options = [np.zeros(b, dtype=np.int64)]
        if b > 2:
            n_r = np.bincount(labels, minlength=b0) if len(hierarchy) == 0 else None
            dens = edges / np.maximum(np.outer(n_r, n_r), 1) if n_r is not None else edges
            prof = dens / np.maximum(dens.sum(1, keepdims=True), 1e-300)
            tree = linkage(prof, method="average", metric="euclidean")
            cuts = cut_tree(tree, n_clusters=list(range(2, b)))
            options += [np.unique(cuts[:, k], return_inverse=True)[1].reshape(-1) for k in range(cuts.shape[1])]
        best = None
        for lab in options:
            dl, e_next, x_next = ob.upper_level_terms(edges, weight, lab, wm)
            # the level above, as one group, for comparing cuts (its own choice follows)
            nb = e_next.shape[0]
            top, _, _ = ob.upper_level_terms(e_next, x_next, np.zeros(nb, dtype=np.int64), wm) if nb > 1 else (0.0, 0, 0)
            score = dl + top
            if best is None or score < best[0] - 1e-9:
                best = (score, lab, dl, e_next, x_next)
        _, lab, dl, edges, weight = best
        hierarchy.append(lab)
        total += dl
        if lab.max() == 0:
            hierarchy.append(np.zeros(1, dtype=np.int64))
            dl_top, _, _ = ob.upper_level_terms(edges, weight, hierarchy[-1], wm)
            return hierarchy, total + dl_top


# ------------------------------------------------------------------ the path


@dataclass
class PathPoint:
    labels: np.ndarray
    n_blocks: int
    flat_dl: float
    dl: float
    hierarchy: list


@dataclass
class SearchResult:
    best: PathPoint
    path: list
    n_sweeps: int
    sweeps_converged: bool


def search(graph: ob.Graph, variant: str, *, nested: bool = True, max_blocks: int | None = None,
           max_iter: int = 10, tol: float = 1e-7, rng: np.random.Generator, log_q=None,
           start: np.ndarray | None = None) -> SearchResult:
    """Agglomerative merge path from ``start`` (default: one block per node) to one block,
    node moves after every merge step, each point scored by its nested (or flat) DL."""
    labels = np.arange(graph.n) if start is None else np.asarray(start)
    state = FlatState(graph, labels, variant, log_q)
    path, n_sweeps, conv = [], 0, True
    while True:
        if state.B > 1:
            it, ok = state.sweep(rng, max_iter, tol)
            n_sweeps += it
            conv &= ok
        if max_blocks is None or state.B <= max_blocks + 1:
            lab = state.labels.copy()
            flat = state.dl()
            if nested:
                hier, upper = build_hierarchy(graph, lab)
                total = ob.nested_dl(graph, lab, hier, variant, state.log_q)
            else:
                hier, total = [], flat
            path.append(PathPoint(lab, state.B, flat, float(total), hier))
        if state.B == 1:
            break
        target = max(1, min(state.B - 1, int(state.B / _SIGMA)))
        state.merge_step(target, rng)
    allowed = [p for p in path if max_blocks is None or p.n_blocks <= max_blocks]
    best = min(allowed, key=lambda p: p.dl)
    return SearchResult(best, path, n_sweeps, conv)
