"""Search for the partition hierarchy with the shortest description length.

Level 0 (the nodes) is searched with the flat description length of
:mod:`neurodyn.connectome.sbm.objective` (level-0 terms, the flat edge-count prior, the
pair sums as one group above), greedily at zero temperature:

1. agglomerative merges, as in Peixoto's heuristic (Phys. Rev. E 89, 012804, 2014): from
   one block per node, every block proposes its best merge and the best non-conflicting
   merges are applied until ``B`` has shrunk by ``σ = 1.3``; the path runs down to one
   block, so ``B`` is never capped by the search;
2. after every merge step (while ``B ≤ 300``), sweeps of single-node moves: every node's
   move to every block is scored at once against the current state, then the improving
   moves are re-scored and taken one by one;
3. every merge and move is scored exactly from the block sums, updating only the rows
   that change (``tests/test_connectome_sbm_search.py`` compares with recomputation);
4. the upper levels of the best points of the path are chosen by their own description
   length (cuts of an average-linkage tree of the block graph, each scored exactly), and
   the best points are refined by node moves until no move improves; the point whose
   whole hierarchy (:func:`~neurodyn.connectome.sbm.objective.nested_dl`) is shortest wins.

The planted-partition model has its own small search (:func:`search_planted`): starting
partitions scored, the best refined by node moves and merged down block by block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

from neurodyn.connectome.sbm import objective as ob

_SIGMA = 1.3
_MAX_CANDIDATES = 48
_MAX_CUTS = 8           # cuts of the linkage tree scored per upper level
_DESCENT_SWEEPS = 2     # node sweeps after each merge step (the best points are refined further)
_REFINE = 3             # best points of the path refined to convergence
_BATCH_MAX_BLOCKS = 300        # no node sweeps while the merge path has more blocks than this
_BATCH_MAX_BLOCKS_FRAC = 1.0   # … nor while it has more blocks than this fraction of the nodes
_NESTED_POINTS = 6             # path points (shortest flat descriptions) whose hierarchy is built


def _rows_matrix(rows: np.ndarray, n_rows: int):
    """Sparse ``(n_rows, len(rows))`` 0/1 matrix summing items into their rows."""
    from scipy.sparse import csr_matrix

    return csr_matrix((np.ones(rows.size), (rows, np.arange(rows.size))), shape=(n_rows, rows.size))


def zero_temperature_sweeps(state, rng, candidates, max_sweeps: int, tol: float) -> tuple[int, bool]:
    """Sweeps of single-node moves over the nodes in random order: each node goes to the
    candidate block (``candidates(v, r)``, its block ``r`` excluded) that lowers the
    description length most, if by more than ``tol``; nodes alone in their block stay.
    Returns (sweeps done, whether the last sweep moved nothing)."""
    for it in range(1, max_sweeps + 1):
        moved = 0
        for v in rng.permutation(state.graph.n):
            r = state.labels[v]
            if state.n[r] <= 1:
                continue
            cand = candidates(v, r)
            if cand.size == 0:
                continue
            dlt = state.move_deltas(v, cand)
            k = int(np.argmin(dlt))
            if dlt[k] < -tol:
                state.apply_move(v, int(cand[k]))
                moved += 1
        if moved == 0:
            return it, True
    return max_sweeps, False


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
        self._set_totals(ob.pair_terms(self.E[iu], self.X[iu], self.Q[iu], diag, self.wm))

    def _set_totals(self, terms: ob.PairTerms, add: bool = False):
        """The summed :class:`~neurodyn.connectome.sbm.objective.PairTerms` of all entries
        (``F``, ``K``, ``K2``, ``SR``, ``SX2``), set from entry terms or changed by a sum."""
        vals = [float(np.sum(t)) for t in terms]
        if add:
            vals = [old + v for old, v in zip((self.F, self.K, self.K2, self.SR, self.SX2), vals)]
        self.F, self.K, self.K2, self.SR, self.SX2 = vals

    def _pair_change(self, d: ob.PairTerms):
        """Change of the description length's pair terms for a change ``d`` of their sums."""
        return d.dl + self._global(self.K + d.occupied, self.K2 + d.multi, self.SR + d.resid,
                                   self.SX2 + d.x2) - self._global(self.K, self.K2, self.SR, self.SX2)

    def _global(self, K, K2, SR, SX2):
        """Terms that couple all pairs (:func:`~neurodyn.connectome.sbm.objective.above_dl`)."""
        return ob.above_dl(K, K2, SR, SX2, self.x_total, self.wm)

    def _block(self, n, e, hist_part):
        """Node/block terms of blocks with sizes ``n``, degree sums ``e`` (partition's
        ``−ln n_r!`` included); ``hist_part`` = ``−Σ_c ln η_rc!`` (degree-corrected)."""
        if self.dc:
            return gammaln(e + 1) + self.log_q(e.astype(np.int64), n.astype(np.int64)) + hist_part
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, e * np.log(np.maximum(n, 1)), 0.0) - gammaln(n + 1)

    def _const(self, B):
        g = self.graph
        val = (np.log(g.n) + ob.log_binom(g.n - 1, B - 1) + gammaln(g.n + 1)
               + ob.log_multiset(B * (B + 1) / 2, g.n_edges))
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

    def move_deltas(self, v, cand, rows=None):
        """Change of the description length when node ``v`` moves to each block in ``cand``.

        Only the entries of rows ``r`` and ``s`` in the columns of the node's neighbour
        blocks change (plus ``rr``, ``ss``, ``rs``), so the cost is O(|cand| × degree);
        all entries are scored in one vectorised call.
        """
        r = self.labels[v]
        d, dx, dq, lab = self._node_rows(v) if rows is None else rows
        E, X, Q, wm = self.E, self.X, self.Q, self.wm
        cand = np.asarray(cand)
        c = cand.size
        t = np.unique(lab)
        t = t[t != r]
        nt = t.size
        dt, dxt, dqt = d[t], dx[t], dq[t]
        ix = np.ix_(cand, t)
        Es, Xs, Qs = E[ix].ravel(), X[ix].ravel(), Q[ix].ravel()
        Er, Xr, Qr = E[r, t], X[r, t], Q[r, t]
        Ecc, Xcc, Qcc = E[cand, cand], X[cand, cand], Q[cand, cand]
        Erc, Xrc, Qrc = E[r, cand], X[r, cand], Q[r, cand]
        dtt, dxtt, dqtt = np.tile(dt, c), np.tile(dxt, c), np.tile(dqt, c)
        m = np.concatenate([Er, Er - dt, Es, Es + dtt, [E[r, r], E[r, r] - d[r]], Ecc, Ecc + d[cand],
                            Erc, Erc + d[r] - d[cand]])
        x = np.concatenate([Xr, Xr - dxt, Xs, Xs + dxtt, [X[r, r], X[r, r] - dx[r]], Xcc, Xcc + dx[cand],
                            Xrc, Xrc + dx[r] - dx[cand]])
        q = np.concatenate([Qr, Qr - dqt, Qs, Qs + dqtt, [Q[r, r], Q[r, r] - dq[r]], Qcc, Qcc + dq[cand],
                            Qrc, Qrc + dq[r] - dq[cand]])
        o = np.cumsum([0, nt, nt, c * nt, c * nt, 2, c, c, c, c])
        diag = np.zeros(m.size)
        diag[o[4]:o[7]] = 1.0
        terms = np.vstack(ob.pair_terms(m, x, q, diag, wm))  # (5, n_entries)
        row_r = terms[:, o[1]:o[2]] - terms[:, o[0]:o[1]]           # (5, nt)
        row_s = (terms[:, o[3]:o[4]] - terms[:, o[2]:o[3]]).reshape(5, c, nt)
        same = t[None, :] == cand[:, None]                          # (c, nt): t == s excluded
        delta = (row_r.sum(1)[:, None] - (row_r[:, None, :] * same[None]).sum(2)
                 + (row_s * ~same[None]).sum(2))
        delta += (terms[:, o[4] + 1] - terms[:, o[4]])[:, None]
        delta += terms[:, o[6]:o[7]] - terms[:, o[5]:o[6]] + terms[:, o[8]:o[9]] - terms[:, o[7]:o[8]]
        d = ob.PairTerms(*delta)
        k = float(self.graph.degree[v])
        n, e = self.n, self.e
        nn = np.concatenate([[n[r] - 1, n[r]], n[cand] + 1, n[cand]])
        ee = np.concatenate([[e[r] - k, e[r]], e[cand] + k, e[cand]])
        if self.dc:
            cl = self.classes[v]
            hh = np.concatenate([[self.H[r, cl], self.H[r, cl] + 1], self.H[cand, cl] + 2, self.H[cand, cl] + 1])
            hist = -gammaln(hh)
        else:
            hist = 0.0
        b = self._block(nn, ee, hist)
        blk = (b[0] - b[1]) + b[2:2 + c] - b[2 + c:]
        out = self._pair_change(d) + blk
        out[cand == r] = 0.0
        return out

    def _rows_total(self, rows):
        """Summed entry terms over the distinct pairs touching ``rows`` (upper triangle)."""
        B = self.B
        r0 = rows[0]
        ii = [np.full(B, r0)]
        jj = [np.arange(B)]
        for r in rows[1:]:
            t = np.arange(B)
            t = t[~np.isin(t, rows[:1])]
            ii.append(np.full(t.size, r))
            jj.append(t)
        i, j = np.concatenate(ii), np.concatenate(jj)
        terms = ob.pair_terms(self.E[i, j], self.X[i, j], self.Q[i, j], (i == j).astype(np.float64), self.wm)
        return ob.PairTerms(*(float(t.sum()) for t in terms))

    def apply_move(self, v, s):
        r = self.labels[v]
        if r == s:
            return
        d, dx, dq, _ = self._node_rows(v)
        before = self._rows_total([r, s])
        for M, dd in ((self.E, d), (self.X, dx), (self.Q, dq)):
            M[r, :] -= dd
            M[:, r] -= dd
            M[s, :] += dd
            M[:, s] += dd
            # the node's edges to r were inside r (counted once on the diagonal)
            M[r, r] += dd[r]
            M[s, s] -= dd[s]
        # pair (r, s): edges v–s were r–s (now inside s), v–r were inside r (now r–s)
        after = self._rows_total([r, s])
        self._set_totals(ob.PairTerms(*(a - b for a, b in zip(after, before))), add=True)
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

    def _refresh_totals(self):
        iu = np.triu_indices(self.B)
        diag = (iu[0] == iu[1]).astype(np.float64)
        self._set_totals(ob.pair_terms(self.E[iu], self.X[iu], self.Q[iu], diag, self.wm))

    def batch_deltas(self, nodes: np.ndarray) -> np.ndarray:
        """Change of the description length for moving each of ``nodes`` to every block,
        all scored against the current state at once: ``(len(nodes), B)``, ``inf`` where
        the move is void (own block, or a node alone in its block)."""
        g, B, wm = self.graph, self.B, self.wm
        E, X, Q = self.E, self.X, self.Q
        lab = self.labels
        nv = nodes.size
        pos = np.full(g.n, -1)
        pos[nodes] = np.arange(nv)
        # (node, neighbour block) triples with their edge counts and covariate sums
        src = np.repeat(np.arange(g.n), np.diff(self.indptr))
        keep = pos[src] >= 0
        key = pos[src[keep]] * B + lab[self.nbr[keep]]
        uk, inv = np.unique(key, return_inverse=True)
        xv = self.nx[keep]
        dd = np.bincount(inv, minlength=uk.size).astype(np.float64)
        ddx = np.bincount(inv, weights=xv, minlength=uk.size)
        ddq = np.bincount(inv, weights=xv * xv, minlength=uk.size)
        kv, kt = uk // B, uk % B
        D = np.zeros((nv, B))
        DX = np.zeros((nv, B))
        DQ = np.zeros((nv, B))
        D[kv, kt], DX[kv, kt], DQ[kv, kt] = dd, ddx, ddq
        r = lab[nodes]
        off = kt != r[kv]
        kv, kt, dd, ddx, ddq = kv[off], kt[off], dd[off], ddx[off], ddq[off]
        rk = r[kv]
        # row r: entries (r, t) lose the node's edges to t
        old = np.vstack(ob.pair_terms(E[rk, kt], X[rk, kt], Q[rk, kt], 0.0, wm))
        new = np.vstack(ob.pair_terms(E[rk, kt] - dd, X[rk, kt] - ddx, Q[rk, kt] - ddq, 0.0, wm))
        a = new - old                                            # (5, nnz)
        delta = np.zeros((5, nv, B))
        for k in range(5):
            delta[k] += np.bincount(kv, weights=a[k], minlength=nv)[:, None]
            delta[k][kv, kt] -= a[k]                             # t == s is the rs entry
        # rows s: entries (s, t) gain the node's edges to t (t ≠ r, s); chunked over triples
        chunk = max(1, 2_000_000 // max(B, 1))
        for start in range(0, kv.size, chunk):
            sl = slice(start, start + chunk)
            t_ = kt[sl]
            Es, Xs, Qs = E[:, t_].T, X[:, t_].T, Q[:, t_].T      # (m, B) over destinations s
            o = np.vstack([x[None] for x in ob.pair_terms(Es, Xs, Qs, 0.0, wm)])
            nw = np.vstack([x[None] for x in ob.pair_terms(Es + dd[sl, None], Xs + ddx[sl, None],
                                                            Qs + ddq[sl, None], 0.0, wm)])
            c = nw - o                                           # (5, m, B)
            c[:, np.arange(t_.size), t_] = 0.0                   # s == t: the ss entry
            agg = _rows_matrix(kv[sl], nv)
            for k in range(5):
                delta[k] += agg @ c[k]
        # special entries rr (per node), ss and rs (per node and destination)
        Err, Xrr, Qrr = E[r, r], X[r, r], Q[r, r]
        Dr, DXr, DQr = D[np.arange(nv), r], DX[np.arange(nv), r], DQ[np.arange(nv), r]
        rr = (np.vstack(ob.pair_terms(Err - Dr, Xrr - DXr, Qrr - DQr, 1.0, wm))
              - np.vstack(ob.pair_terms(Err, Xrr, Qrr, 1.0, wm)))
        dg = np.diag(E)[None, :], np.diag(X)[None, :], np.diag(Q)[None, :]
        ss_n = ob.pair_terms(dg[0] + D, dg[1] + DX, dg[2] + DQ, 1.0, wm)
        ss_o = ob.pair_terms(np.broadcast_to(dg[0], D.shape), np.broadcast_to(dg[1], D.shape),
                            np.broadcast_to(dg[2], D.shape), 1.0, wm)
        Er, Xr, Qr = E[r], X[r], Q[r]
        rs_n = ob.pair_terms(Er + Dr[:, None] - D, Xr + DXr[:, None] - DX, Qr + DQr[:, None] - DQ, 0.0, wm)
        rs_o = ob.pair_terms(Er, Xr, Qr, 0.0, wm)
        for k in range(5):
            delta[k] += rr[k][:, None] + ss_n[k] - ss_o[k] + rs_n[k] - rs_o[k]
        out = self._pair_change(ob.PairTerms(*delta))
        k = g.degree[nodes].astype(np.float64)
        n, e = self.n, self.e
        if self.dc:
            cl = self.classes[nodes]
            hr_new, hr_old = -gammaln(self.H[r, cl]), -gammaln(self.H[r, cl] + 1)
            hs_new, hs_old = -gammaln(self.H[:, cl].T + 2), -gammaln(self.H[:, cl].T + 1)
        else:
            hr_new = hr_old = np.zeros(nv)
            hs_new = hs_old = np.zeros((nv, B))
        out += (self._block(n[r] - 1, e[r] - k, hr_new) - self._block(n[r], e[r], hr_old))[:, None]
        ns = np.broadcast_to(n[None, :], (nv, B))
        es = np.broadcast_to(e[None, :], (nv, B))
        out += self._block(ns + 1, es + k[:, None], hs_new) - self._block(ns, es, hs_old)
        out[np.arange(nv), r] = np.inf
        out[n[r] <= 1] = np.inf
        return out

    def sweep_batch(self, rng, max_sweeps: int = 10, tol: float = 1e-7) -> tuple[int, bool]:
        """Sweeps in which every node's best move is scored at once against the current
        state; the improving ones are then taken one by one, each re-scored first.  Ends
        when no node has an improving move (the same criterion as :meth:`sweep`)."""
        nodes = np.arange(self.graph.n)
        for it in range(1, max_sweeps + 1):
            dlt = self.batch_deltas(nodes)
            best = np.argmin(dlt, axis=1)
            movers = np.flatnonzero(dlt[nodes, best] < -tol)
            if movers.size == 0:
                return it, True
            for v in rng.permutation(movers):
                s = int(best[v])
                if self.n[self.labels[v]] <= 1 or s == self.labels[v]:
                    continue
                if self.move_deltas(v, np.array([s]))[0] < -tol:
                    self.apply_move(v, s)
        return max_sweeps, False

    def sweep(self, rng, max_sweeps: int = 10, tol: float = 1e-7) -> tuple[int, bool]:
        """Zero-temperature single-node moves to the blocks of a node's neighbours;
        returns (sweeps done, converged)."""
        def candidates(v, r):
            a, b = self.indptr[v], self.indptr[v + 1]
            cand = np.unique(self.labels[self.nbr[a:b]])
            if cand.size > _MAX_CANDIDATES:
                cand = rng.choice(cand, _MAX_CANDIDATES, replace=False)
            return cand[cand != r]

        return zero_temperature_sweeps(self, rng, candidates, max_sweeps, tol)

    # -------------------------------------------------------------- merges

    def merge_deltas(self, r, cand):
        """Change of the description length when block ``r`` is merged into each of ``cand``
        (only the columns where block ``r`` has edges change in the rows of ``cand``)."""
        E, X, Q, B, wm = self.E, self.X, self.Q, self.B, self.wm
        cand = np.asarray(cand)
        t = np.flatnonzero(E[r] > 0)
        t = t[t != r]
        mask = t[None, :] != cand[:, None]
        ix = np.ix_(cand, t)
        Es, Xs, Qs = E[ix], X[ix], Q[ix]
        new = ob.pair_terms(Es + E[r, t], Xs + X[r, t], Qs + Q[r, t], 0.0, wm)
        old_s = ob.pair_terms(Es, Xs, Qs, 0.0, wm)
        old_r = ob.pair_terms(E[r, t], X[r, t], Q[r, t], 0.0, wm)
        delta = [((nw - os_ - orr[None, :]) * mask).sum(1) for nw, os_, orr in zip(new, old_s, old_r)]
        ss_n = ob.pair_terms(E[cand, cand] + E[r, r] + E[r, cand], X[cand, cand] + X[r, r] + X[r, cand],
                            Q[cand, cand] + Q[r, r] + Q[r, cand], 1.0, wm)
        ss_o = ob.pair_terms(E[cand, cand], X[cand, cand], Q[cand, cand], 1.0, wm)
        rr_o = ob.pair_terms(E[r, r], X[r, r], Q[r, r], 1.0, wm)
        rs_o = ob.pair_terms(E[r, cand], X[r, cand], Q[r, cand], 0.0, wm)
        for k in range(5):
            delta[k] = delta[k] + ss_n[k] - ss_o[k] - rr_o[k] - rs_o[k]
        g = self._pair_change(ob.PairTerms(*delta))
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
        return g + blk + (self._const(B - 1) - self._const(B))

    def batch_merge_deltas(self) -> np.ndarray:
        """Change of the description length for merging block ``r`` into ``s``, all pairs
        at once: ``(B, B)`` with ``inf`` on the diagonal."""
        E, X, Q, B, wm = self.E, self.X, self.Q, self.B, self.wm
        rr_, tt_ = np.nonzero(E > 0)
        off = rr_ != tt_
        rr_, tt_ = rr_[off], tt_[off]
        own = np.vstack(ob.pair_terms(E[rr_, tt_], X[rr_, tt_], Q[rr_, tt_], 0.0, wm))   # (5, nnz)
        delta = np.zeros((5, B, B))
        for k in range(5):
            delta[k] -= np.bincount(rr_, weights=own[k], minlength=B)[:, None]
        chunk = max(1, 2_000_000 // max(B, 1))
        for start in range(0, rr_.size, chunk):
            sl = slice(start, start + chunk)
            r_, t_ = rr_[sl], tt_[sl]
            Es, Xs, Qs = E[:, t_].T, X[:, t_].T, Q[:, t_].T                           # (m, B) over s
            nw = np.vstack([x[None] for x in ob.pair_terms(Es + E[r_, t_][:, None], Xs + X[r_, t_][:, None],
                                                            Qs + Q[r_, t_][:, None], 0.0, wm)])
            o = np.vstack([x[None] for x in ob.pair_terms(Es, Xs, Qs, 0.0, wm)])
            c = nw - o
            c[:, np.arange(t_.size), t_] = 0.0          # s == t: becomes the merged diagonal
            agg = _rows_matrix(r_, B)
            for k in range(5):
                delta[k] += agg @ c[k]
        dE, dX, dQ = np.diag(E), np.diag(X), np.diag(Q)
        ss_n = ob.pair_terms(dE[None, :] + dE[:, None] + E, dX[None, :] + dX[:, None] + X,
                            dQ[None, :] + dQ[:, None] + Q, 1.0, wm)
        ss_o = ob.pair_terms(dE, dX, dQ, 1.0, wm)
        for k in range(5):
            delta[k] += ss_n[k] - ss_o[k][None, :] - ss_o[k][:, None]
        # the (r, s) entry itself disappears into the diagonal: counted in ss_n, and its
        # old value was subtracted with row r (own), so nothing more to do.
        out = self._pair_change(ob.PairTerms(*delta))
        n, e = self.n, self.e
        if self.dc:
            hist = -gammaln(self.H + 1).sum(1)
            h_new = -gammaln(self.H[:, None, :] + self.H[None, :, :] + 1).sum(2)
        else:
            hist = np.zeros(B)
            h_new = np.zeros((B, B))
        blk = self._block(np.array(n), np.array(e), hist)
        out += (self._block(n[:, None] + n[None, :], e[:, None] + e[None, :], h_new) - blk[:, None] - blk[None, :])
        out += self._const(B - 1) - self._const(B)
        np.fill_diagonal(out, np.inf)
        return out

    def merge_step(self, target: int, rng) -> None:
        """Apply the best non-conflicting merges until ``B == target`` (or none is left)."""
        proposals = []
        if self.B <= _BATCH_MAX_BLOCKS:
            dlt = self.batch_merge_deltas()
            best = np.argmin(dlt, axis=1)
            proposals = [(float(dlt[r, best[r]]), r, int(best[r])) for r in range(self.B)]
        else:
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
                d = self.merge_deltas(r, cand)
                k = int(np.argmin(d))
                proposals.append((float(d[k]), r, int(cand[k])))
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
    from scipy.spatial.distance import pdist

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
            tree = linkage(pdist(prof), method="average")
            ks = np.unique(np.geomspace(2, b - 1, num=min(b - 2, _MAX_CUTS)).round().astype(int))
            cuts = cut_tree(tree, n_clusters=ks.tolist())
            options += [np.unique(cuts[:, k], return_inverse=True)[1].reshape(-1) for k in range(cuts.shape[1])]
        best = None
        for lab in options:
            dl, e_next, x_next = ob.upper_level_terms(edges, weight, lab, wm)
            # the level above, as one group, for comparing cuts (its own choice follows)
            nb = e_next.shape[0]
            top = ob.upper_level_terms(e_next, x_next, np.zeros(nb, dtype=np.int64), wm)[0] if nb > 1 else 0.0
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


@dataclass(eq=False)
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
    with np.errstate(all="ignore"):
        return _search(graph, variant, nested=nested, max_blocks=max_blocks, max_iter=max_iter, tol=tol, rng=rng,
                       log_q=log_q, start=start)


def _search(graph, variant, *, nested, max_blocks, max_iter, tol, rng, log_q, start):
    labels = np.arange(graph.n) if start is None else np.asarray(start)
    state = FlatState(graph, labels, variant, log_q)
    log_q = state.log_q
    path, n_sweeps = [], 0

    def point(st, with_hierarchy=True):
        lab = st.labels.copy()
        flat = st.dl()
        if nested and with_hierarchy:
            hier, _ = build_hierarchy(graph, lab)
            total = ob.nested_dl(graph, lab, hier, variant, log_q)
        else:
            hier, total = [], flat
        return PathPoint(lab, st.B, flat, float(total), hier)

    while True:
        if 1 < state.B <= min(_BATCH_MAX_BLOCKS, _BATCH_MAX_BLOCKS_FRAC * graph.n):
            n_sweeps += state.sweep_batch(rng, min(_DESCENT_SWEEPS, max_iter), tol)[0]
        path.append(point(state, with_hierarchy=False))
        if state.B == 1:
            break
        target = max(1, min(state.B - 1, int(state.B / _SIGMA)))
        state.merge_step(target, rng)
    if nested:
        # the hierarchy (nested description) of the points with the shortest flat ones
        order = sorted(range(len(path)), key=lambda k: path[k].flat_dl)
        for k in set(order[:_NESTED_POINTS]) | {len(path) - 1}:
            st = FlatState(graph, path[k].labels, variant, log_q)
            path[k] = point(st)
        path = [p for p in path if p.hierarchy]
    # Refine the best points of the path until no single-node move lowers the description.
    allowed = [p for p in path if max_blocks is None or p.n_blocks <= max_blocks]
    conv = True
    refined = []
    for p in sorted(allowed, key=lambda p: p.dl)[:_REFINE]:
        st = FlatState(graph, p.labels, variant, log_q)
        if st.B > 1:
            it, ok = st.sweep_batch(rng, max_iter, tol)
            n_sweeps += it
            conv &= ok
        refined.append(point(st))
    best = min(refined + allowed, key=lambda p: p.dl)
    return SearchResult(best, path, n_sweeps, conv)


# ------------------------------------------------------------------ planted partition


class PlantedState:
    """Block statistics of the planted-partition model (Zhang & Peixoto 2020) with the
    weights in two groups (within, between), with vectorised move and merge scoring."""

    def __init__(self, graph: ob.Graph, labels: np.ndarray, log_q: ob.LogQ | None = None):
        self.graph = graph
        self.classes = ob._degree_classes(graph)
        self.log_q = log_q if log_q is not None else ob.LogQ(int(graph.degree.sum()), graph.n)
        self.indptr, self.nbr, self.nx = graph.csr
        self.labels = np.unique(np.asarray(labels), return_inverse=True)[1].reshape(-1)
        self.rebuild()

    def rebuild(self):
        g, lab = self.graph, self.labels
        self.labels = np.unique(lab, return_inverse=True)[1].reshape(-1)
        lab = self.labels
        self.B = int(lab.max()) + 1
        same = lab[g.i] == lab[g.j]
        self.mrr = np.bincount(lab[g.i][same], minlength=self.B).astype(np.float64)
        self.n = np.bincount(lab, minlength=self.B).astype(np.float64)
        self.e = np.bincount(lab, weights=g.degree.astype(np.float64), minlength=self.B)
        n_cls = int(self.classes.max()) + 1
        self.H = np.bincount(lab * n_cls + self.classes, minlength=self.B * n_cls).reshape(self.B, n_cls).astype(float)
        self.win = np.array([same.sum(), g.x[same].sum(), (g.x[same] ** 2).sum()], dtype=np.float64)
        self.wall = np.array([g.n_edges, g.x.sum(), (g.x ** 2).sum()], dtype=np.float64)

    def _dl(self, B, e_in, sum_mrr_terms, block_terms, win):
        """Description length from the scalar totals (vectorised over candidates)."""
        g = self.graph
        E = g.n_edges
        e_out = E - e_in
        adj = -gammaln(e_out + 1) - sum_mrr_terms + ob.log_multiset(B, e_in)
        adj = adj + np.where(B > 1, e_out * np.log(np.maximum(B * (B - 1) / 2, 1)) + np.log(E + 1), 0.0)
        part = np.log(g.n) + ob.log_binom(g.n - 1, B - 1) + gammaln(g.n + 1)
        wout = self.wall[:, None] - win if np.ndim(win) > 1 else self.wall - win
        wts = ob.two_group_weight_dl(np.stack([win[0], wout[0]]), np.stack([win[1], wout[1]]),
                                     np.stack([win[2], wout[2]]), g.weight_model)
        return adj + block_terms + part + wts + g.jacobian - g.log_k_fact

    def _block_terms(self, n, e, hist_sum):
        return gammaln(e + 1) + self.log_q(e.astype(np.int64), n.astype(np.int64)) + hist_sum

    def dl(self) -> float:
        mrr_terms = float((gammaln(self.mrr + 1) + ob._LOG2 * self.mrr).sum())
        blocks = float(self._block_terms(self.n, self.e, -gammaln(self.H + 1).sum(1)).sum())
        return float(self._dl(self.B, self.mrr.sum(), mrr_terms, blocks, self.win))

    def move_deltas(self, v, cand):
        r = self.labels[v]
        a, b = self.indptr[v], self.indptr[v + 1]
        lab, xv = self.labels[self.nbr[a:b]], self.nx[a:b]
        d = np.bincount(lab, minlength=self.B).astype(float)
        dx = np.bincount(lab, weights=xv, minlength=self.B)
        dq = np.bincount(lab, weights=xv * xv, minlength=self.B)
        cand = np.asarray(cand)
        f = lambda m: gammaln(m + 1) + ob._LOG2 * m
        base_mrr = float(f(self.mrr).sum())
        mrr_terms = base_mrr - f(self.mrr[r]) + f(self.mrr[r] - d[r]) - f(self.mrr[cand]) + f(self.mrr[cand] + d[cand])
        e_in = self.mrr.sum() - d[r] + d[cand]
        k = float(self.graph.degree[v])
        cl = self.classes[v]
        hist = -gammaln(self.H + 1).sum(1)
        base_blocks = float(self._block_terms(self.n, self.e, hist).sum())
        h_r = hist[r] + gammaln(self.H[r, cl] + 1) - gammaln(self.H[r, cl])
        h_s = hist[cand] + gammaln(self.H[cand, cl] + 1) - gammaln(self.H[cand, cl] + 2)
        blocks = (base_blocks - self._block_terms(self.n[[r]], self.e[[r]], hist[[r]])
                  + self._block_terms(self.n[[r]] - 1, self.e[[r]] - k, np.atleast_1d(h_r))
                  - self._block_terms(self.n[cand], self.e[cand], hist[cand])
                  + self._block_terms(self.n[cand] + 1, self.e[cand] + k, h_s))
        win = self.win[:, None] + np.vstack([d[cand] - d[r], dx[cand] - dx[r], dq[cand] - dq[r]])
        new = self._dl(self.B, e_in, mrr_terms, blocks, win)
        out = new - self.dl()
        out[cand == r] = 0.0
        return out

    def apply_move(self, v, s):
        lab = self.labels.copy()
        lab[v] = s
        self.labels = lab
        self.rebuild()

    def sweep(self, rng, max_sweeps=10, tol=1e-7):
        """Zero-temperature single-node moves to any other block; (sweeps done, converged)."""
        return zero_temperature_sweeps(self, rng, lambda v, r: np.setdiff1d(np.arange(self.B), [r]),
                                       max_sweeps, tol)

    def merge_down(self):
        """Greedy merges of the pair of blocks that lowers (or least raises) the description
        length, down to one block; returns [(B, labels, dl)]."""
        out = [(self.B, self.labels.copy(), self.dl())]
        while self.B > 1:
            best = None
            for r in range(self.B):
                for s in range(r + 1, self.B):
                    lab = self.labels.copy()
                    lab[lab == r] = s
                    trial = PlantedState.__new__(PlantedState)
                    trial.__dict__.update(self.__dict__)
                    trial.labels = lab
                    trial.rebuild()
                    val = trial.dl()
                    if best is None or val < best[0]:
                        best = (val, trial)
            self.__dict__.update(best[1].__dict__)
            out.append((self.B, self.labels.copy(), self.dl()))
        return out


def search_planted(graph: ob.Graph, starts: list[np.ndarray], *, max_blocks=None, max_iter=10, tol=1e-7,
                   rng: np.random.Generator) -> tuple[PathPoint, int, bool]:
    """Planted-partition fit: the starting partitions scored, the best refined by node
    moves and merged down block by block; the shortest description is kept."""
    with np.errstate(all="ignore"):
        log_q = ob.LogQ(int(graph.degree.sum()), graph.n)
        scored = []
        for lab in starts:
            st = PlantedState(graph, lab, log_q)
            scored.append((st.dl(), st))
        scored.sort(key=lambda t: t[0])
        st = scored[0][1]
        n_sweeps, conv = 0, True
        if st.B > 1:
            it, conv = st.sweep(rng, max_iter, tol)
            n_sweeps += it
        path = st.merge_down()
        allowed = [p for p in path if max_blocks is None or p[0] <= max_blocks]
        b, lab, dl = min(allowed, key=lambda p: p[2])
        return PathPoint(lab, b, dl, dl, []), n_sweeps, conv
