"""Weighted LFR benchmark graphs (Lancichinetti & Fortunato 2009) and their no-structure control."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurodyn.errors import InvalidInputError

_LFR_SEED_TRIES = 50  # networkx seeds tried before the parameters are declared infeasible


@dataclass(frozen=True)
class LFRGraph:
    """A weighted LFR benchmark graph with its planted partition and realised mixing.

    Attributes
    ----------
    weights : ndarray (N, N)
        Symmetric, zero diagonal, 0 where there is no edge; node ``i``'s strength is
        ≈ ``k_i ** strength_exponent``.
    labels : ndarray (N,)
        Planted community of each node (0 … C−1).
    mu_topology : float
        Realised topological mixing: the mean over nodes of ``k_out / k``, the fraction
        of a node's edges that leave its community (the μ_t of Lancichinetti et al. 2008).
    mu_weight : float
        Realised weight mixing: the mean over nodes of ``s_out / s``, the fraction of a
        node's strength on edges that leave its community (the μ_w of Lancichinetti &
        Fortunato 2009).
    mean_degree : float
        Realised mean degree.
    seed : int
        The networkx seed whose community assignment was used (the first of the seeds
        drawn from ``random_state`` on which networkx converged).
    """

    weights: np.ndarray
    labels: np.ndarray
    mu_topology: float
    mu_weight: float
    mean_degree: float
    seed: int

    @property
    def n_communities(self) -> int:
        return int(np.unique(self.labels).size)


def _power_law_mean(k_min: int, k_max: int, exponent: float) -> float:
    """Mean of the discrete power law P(k) ∝ k^(−exponent) on [k_min, k_max]."""
    k = np.arange(k_min, k_max + 1, dtype=float)
    return float((k ** (1 - exponent)).sum() / (k ** -exponent).sum())


def lfr_min_degree(avg_degree: float, max_degree: int, degree_exponent: float) -> int:
    """The smallest degree whose truncated discrete power law has the mean closest to ``avg_degree``.

    networkx's own search (``average_degree=``) normalises by the untruncated zeta function
    and rarely meets its tolerance, so the minimum degree is chosen here and passed as
    ``min_degree=``.  The means reachable with an integer minimum are spaced by ≈ 1–1.5
    at the usual parameters, so the expected mean degree is within half that spacing of
    the one asked for.
    """
    means = np.array([_power_law_mean(k, max_degree, degree_exponent) for k in range(1, max_degree + 1)])
    return int(np.argmin(np.abs(means - avg_degree))) + 1


def _lfr_partition(n_nodes, mu, k_min, max_degree, degree_exponent, min_community, max_community,
                   community_exponent, rng):
    """Degree sequence and communities from ``networkx.LFR_benchmark_graph``, retrying seeds.

    networkx draws the power-law degree sequence and community sizes and assigns every node
    to a community larger than its internal degree (steps 1–3 of Lancichinetti et al.
    2008); the degree sequence is read back by replaying its first draw with the same seed.
    networkx's edge placement is not used: it wires nodes one after another, so edges
    placed by earlier nodes count towards a later node's internal quota, which inflates
    both the mixing (0.15 / 0.46 / 0.72 realised at μ = 0.1 / 0.3 / 0.5 for N = 1000) and
    the mean degree (23.7–25.2 for 19.5 drawn), and it makes self-loops
    (``benchmarks/results/lfr_networkx_wiring.csv``).
    """
    import random

    import networkx as nx
    from networkx.generators.community import _powerlaw_sequence

    last = None
    for _ in range(_LFR_SEED_TRIES):
        seed = int(rng.integers(2**31 - 1))
        try:
            graph = nx.LFR_benchmark_graph(n_nodes, degree_exponent, community_exponent, mu, min_degree=k_min,
                                           max_degree=max_degree, min_community=min_community,
                                           max_community=max_community, seed=seed)
        except nx.ExceededMaxIterations as err:
            last = err
            continue
        # networkx's first draw from random.Random(seed) is the degree sequence.
        degree = np.asarray(_powerlaw_sequence(degree_exponent, k_min, max_degree, lambda s: sum(s) % 2 == 0,
                                               lambda s: len(s) >= n_nodes, 500, random.Random(seed)), dtype=np.int64)
        communities = sorted({frozenset(graph.nodes[u]["community"]) for u in graph}, key=lambda c: (-len(c), min(c)))
        labels = np.empty(n_nodes, dtype=np.int64)
        for c, members in enumerate(communities):
            labels[list(members)] = c
        realised = np.array([graph.degree(u) for u in range(n_nodes)])
        if degree.size != n_nodes or (realised < degree).any():
            raise RuntimeError("the networkx LFR generator no longer draws its degree sequence first; "
                               "weighted_lfr_graph needs updating for this networkx version")
        return degree, labels, seed
    raise InvalidInputError(
        f"networkx's LFR generator did not converge in {_LFR_SEED_TRIES} seeds for n_nodes={n_nodes}, mu={mu}, "
        f"degrees {k_min}…{max_degree}, communities {min_community}…{max_community} ({last}); "
        "expected community sizes that can hold every node's internal degree (widen min_community…max_community)",
        field="max_community")


def _simple_edges(stubs: np.ndarray, rng: np.random.Generator, labels: np.ndarray | None = None) -> np.ndarray:
    """Pair ``stubs`` at random into a simple graph (configuration model with rewiring).

    Self-loops, repeated edges and — when ``labels`` is given — edges inside a community
    are removed by double-edge swaps with randomly chosen valid edges, which keep every
    node's degree; an edge no swap can fix after 200 tries is dropped.
    Returns an (m, 2) array of node pairs.
    """
    stubs = rng.permutation(stubs)
    edges = stubs[: stubs.size // 2 * 2].reshape(-1, 2).copy()
    if edges.size == 0:
        return edges

    def ok(u, v):
        return u != v and (labels is None or labels[u] != labels[v])

    count: dict[tuple[int, int], int] = {}
    for u, v in edges.tolist():
        key = (min(u, v), max(u, v))
        count[key] = count.get(key, 0) + 1
    bad = [e for e, (u, v) in enumerate(edges.tolist()) if not ok(u, v) or count[(min(u, v), max(u, v))] > 1]
    bad_set = set(bad)
    keep = np.ones(len(edges), dtype=bool)
    for b in bad:
        u, v = edges[b]
        key_b = (min(u, v), max(u, v))
        if ok(u, v) and count[key_b] == 1:  # an earlier swap already made it unique
            bad_set.discard(b)
            continue
        for _ in range(200):
            g = int(rng.integers(len(edges)))
            if g in bad_set or not keep[g]:
                continue
            x, y = edges[g]
            if rng.uniform() < 0.5:
                x, y = y, x
            new1, new2 = (min(u, x), max(u, x)), (min(v, y), max(v, y))
            if not (ok(u, x) and ok(v, y)) or new1 == new2 or new1 in count or new2 in count:
                continue
            for key in (key_b, (min(x, y), max(x, y))):
                count[key] -= 1
                if count[key] == 0:
                    del count[key]
            count[new1] = count[new2] = 1
            edges[b], edges[g] = (u, x), (v, y)
            break
        else:
            count[key_b] -= 1
            if count[key_b] == 0:
                del count[key_b]
            keep[b] = False
        bad_set.discard(b)
    return edges[keep]


def _lfr_weights(edges: np.ndarray, internal: np.ndarray, n_nodes: int, mu_weight: float,
                 strength_exponent: float, max_iter: int, tol: float) -> tuple[np.ndarray, bool]:
    """Edge weights with node strengths ``k^β`` of which a fraction ``mu_weight`` leaves the community.

    Lancichinetti & Fortunato (2009): the weights minimise, over nodes, the squared misfit
    of the internal strength to ``(1 − μ_w) k^β`` and of the external one to ``μ_w k^β``.
    Solved by projected Richardson iteration: each node's misfit is spread evenly over its
    internal (external) edges, each edge taking the mean of its two ends' corrections (a
    step of 1/2, which converges since the normalised signless Laplacian has eigenvalues
    in [0, 2]), weights kept positive.  Starts from each end's target spread evenly; stops
    when the relative misfit is below ``tol`` or improves by less than ``tol`` of itself.
    Positive weights cannot in general meet every target exactly (a node whose one external
    edge leads to a hub shares that edge's weight with the hub's target), so a residual of
    ≈ 1–2 % RMS of the strengths remains, as in the paper's variance minimisation.
    """
    i, j = edges[:, 0], edges[:, 1]
    deg = np.bincount(i, minlength=n_nodes) + np.bincount(j, minlength=n_nodes)
    strength = deg.astype(float) ** strength_exponent
    side = internal.astype(np.int64)  # 1 internal, 0 external
    target = np.stack([mu_weight * strength, (1 - mu_weight) * strength])  # [external, internal] × node
    k_side = np.zeros((2, n_nodes))
    np.add.at(k_side, (side, i), 1)
    np.add.at(k_side, (side, j), 1)
    per_edge = target / np.maximum(k_side, 1)
    w = 0.5 * (per_edge[side, i] + per_edge[side, j])
    floor = 1e-3 * float(np.median(w)) if w.size else 0.0
    w = np.maximum(w, floor)
    scale = float(np.sqrt((target ** 2).sum())) or 1.0
    reachable = k_side > 0
    converged, previous = False, np.inf
    for _ in range(max_iter):
        current = np.zeros((2, n_nodes))
        np.add.at(current, (side, i), w)
        np.add.at(current, (side, j), w)
        misfit = np.where(reachable, target - current, 0.0)
        norm = float(np.sqrt((misfit ** 2).sum())) / scale
        if norm <= tol or previous - norm <= tol * norm:  # exact, or the least-squares fit is stationary
            converged = True
            break
        previous = norm
        delta = misfit / np.maximum(k_side, 1)
        w = np.maximum(w + 0.5 * (delta[side, i] + delta[side, j]), floor)
    return w, converged


def weighted_lfr_graph(n_nodes: int = 100, *, mu: float = 0.3, mu_weight: float | None = None,
                       avg_degree: float = 15.0, max_degree: int = 30, degree_exponent: float = 2.0,
                       min_community: int = 10, max_community: int = 40, community_exponent: float = 1.5,
                       strength_exponent: float = 1.5, max_iter: int = 2000, tol: float = 1e-4,
                       random_state: int | np.random.Generator | None = 0) -> LFRGraph:
    """A weighted LFR benchmark graph (Lancichinetti & Fortunato, Phys. Rev. E 80, 016118, 2009).

    Topology as in Lancichinetti, Fortunato & Radicchi (Phys. Rev. E 78, 046110, 2008):
    ``networkx.LFR_benchmark_graph`` draws power-law degrees (exponent ``degree_exponent``
    on [k_min, ``max_degree``], k_min from :func:`lfr_min_degree` so that the mean is
    ≈ ``avg_degree``) and power-law community sizes (``community_exponent`` on
    [``min_community``, ``max_community``]) and places every node in a community larger than
    its internal degree; seeds drawn from ``random_state`` are retried until it converges.
    Every node ``i`` then gets ``round(μ k_i)`` (halves at random) external and ``k_i − round(μ k_i)`` internal
    edges, wired by configuration models inside each community and across communities, with
    self-loops, repeated edges and internal "external" edges rewired by double-edge swaps
    (networkx's own wiring over-shoots μ and the degrees, see :func:`_lfr_partition`).

    Weights as in the weighted benchmark: node strengths ``s_i = k_i ** strength_exponent``,
    a fraction ``mu_weight`` of which lies on external edges, fitted by least squares
    (:func:`_lfr_weights`).  With ``mu_weight < mu`` an internal edge is on average heavier
    than an external one, so the weights carry community signal; with ``mu_weight == mu``
    they carry none beyond the topology.

    Parameters
    ----------
    n_nodes : int
    mu : float in [0, 1)
        Topological mixing μ_t asked for.
    mu_weight : float in [0, 1] or None
        Weight mixing μ_w asked for; None means ``mu / 2``.
    avg_degree : float
        Mean degree asked for (reached up to the spacing of integer minimum degrees, see
        :func:`lfr_min_degree`, and sampling noise).
    max_degree : int
    degree_exponent, community_exponent : float > 1
        τ1 and τ2 of the LFR benchmark (networkx needs τ2 > 1).
    min_community, max_community : int
        Community size range; must hold the largest internal degree,
        ``max_community > round((1 − mu) · max_degree)``.
    strength_exponent : float
        β: strengths grow as ``k^β``.
    max_iter, tol : int, float
        Iteration cap of the weight fit; it stops when the relative strength misfit is
        below ``tol`` or improves by less than ``tol`` of itself in one iteration.
    random_state : int, numpy Generator or None
        Seeds networkx (through the drawn seeds) and the wiring; the graph is a
        deterministic function of it.

    Returns
    -------
    LFRGraph
        ``weights``, ``labels`` and the realised ``mu_topology``, ``mu_weight`` and
        ``mean_degree``.

    Raises
    ------
    InvalidInputError
        On parameters no graph can satisfy (named in the message), or when networkx does
        not converge on any of the seeds tried.
    """
    mu_weight = mu / 2 if mu_weight is None else mu_weight
    n_nodes, max_degree = int(n_nodes), int(max_degree)
    min_community, max_community = int(min_community), int(max_community)
    if n_nodes < 4:
        raise InvalidInputError(f"{n_nodes}, expected at least 4 nodes", field="n_nodes")
    if not 0 <= mu < 1:
        raise InvalidInputError(f"{mu!r}, expected 0 <= mu < 1", field="mu")
    if not 0 <= mu_weight <= 1:
        raise InvalidInputError(f"{mu_weight!r}, expected 0 <= mu_weight <= 1", field="mu_weight")
    if mu == 0 and mu_weight > 0:
        raise InvalidInputError(f"{mu_weight!r} with mu=0: no edge leaves a community to carry that weight; "
                                "expected mu_weight=0 or mu > 0", field="mu_weight")
    for name, value in (("degree_exponent", degree_exponent), ("community_exponent", community_exponent)):
        if not value > 1:
            raise InvalidInputError(f"{value!r}, expected an exponent > 1", field=name)
    if not 2 <= max_degree < n_nodes:
        raise InvalidInputError(f"{max_degree}, expected 2 <= max_degree < n_nodes={n_nodes}", field="max_degree")
    lowest = _power_law_mean(1, max_degree, degree_exponent)
    if not lowest <= avg_degree <= max_degree:
        raise InvalidInputError(f"{avg_degree!r}, expected a mean degree in [{lowest:.2f}, {max_degree}] "
                                f"(degree_exponent={degree_exponent}, max_degree={max_degree})", field="avg_degree")
    if not 2 <= min_community <= max_community <= n_nodes:
        raise InvalidInputError(f"{min_community}…{max_community}, expected 2 <= min_community <= max_community "
                                f"<= n_nodes={n_nodes}", field="min_community")
    if -(-n_nodes // max_community) > n_nodes // min_community:
        raise InvalidInputError(f"{min_community}…{max_community}: no number of communities of these sizes adds up "
                                f"to n_nodes={n_nodes}", field="min_community")
    k_min = lfr_min_degree(avg_degree, max_degree, degree_exponent)
    largest_internal = round((1 - mu) * max_degree)
    if largest_internal >= max_community:
        raise InvalidInputError(f"{max_community}: a node of degree {max_degree} has {largest_internal} internal "
                                f"edges at mu={mu}, expected max_community > {largest_internal}",
                                field="max_community")
    if round((1 - mu) * k_min) >= max_community:
        raise InvalidInputError(f"{max_community} cannot hold the internal degree of the smallest degree {k_min}",
                                field="max_community")

    rng = np.random.default_rng(random_state)
    degree, labels, seed = _lfr_partition(n_nodes, mu, k_min, max_degree, degree_exponent, min_community,
                                          max_community, community_exponent, rng)
    sizes = np.bincount(labels)
    # round(μ k) to the nearest integer, exact halves up or down at random (no bias at μ = 0.5).
    k_out = np.floor(mu * degree + 0.5).astype(np.int64)
    tie = np.isclose(mu * degree % 1, 0.5)
    k_out[tie] -= rng.integers(0, 2, size=int(tie.sum()))
    k_in = np.minimum(degree - k_out, sizes[labels] - 1)
    k_out = degree - k_in
    edges = []
    for c in range(sizes.size):
        nodes = np.flatnonzero(labels == c)
        stubs = np.repeat(nodes, k_in[nodes])
        if stubs.size % 2:  # odd internal stub count: one stub goes outside instead
            moved = stubs[int(rng.integers(stubs.size))]
            k_in[moved] -= 1
            k_out[moved] += 1
            stubs = np.repeat(nodes, k_in[nodes])
        edges.append(_simple_edges(stubs, rng))
    n_internal = sum(len(e) for e in edges)
    edges.append(_simple_edges(np.repeat(np.arange(n_nodes), k_out), rng, labels))
    edges = np.concatenate(edges).astype(np.int64)
    internal = np.arange(len(edges)) < n_internal
    w_edges, _ = _lfr_weights(edges, internal, n_nodes, mu_weight, strength_exponent, max_iter, tol)
    weights = np.zeros((n_nodes, n_nodes))
    weights[edges[:, 0], edges[:, 1]] = w_edges
    weights[edges[:, 1], edges[:, 0]] = w_edges
    mu_t, mu_w, mean_k = lfr_mixing(weights, labels)
    return LFRGraph(weights, labels, mu_t, mu_w, mean_k, seed)


def lfr_mixing(weights, labels) -> tuple[float, float, float]:
    """Realised topological mixing, weight mixing and mean degree of a weighted graph.

    ``mu_topology`` is the mean over nodes with edges of ``k_out / k``, ``mu_weight`` the
    mean of ``s_out / s`` (out = to another community of ``labels``).
    """
    w = np.asarray(weights, dtype=float)
    labels = np.asarray(labels)
    adj = w > 0
    np.fill_diagonal(adj, False)
    across = labels[:, None] != labels[None, :]
    k = adj.sum(axis=1)
    s = np.where(adj, w, 0.0).sum(axis=1)
    has = k > 0
    mu_t = float(((adj & across).sum(axis=1)[has] / k[has]).mean())
    mu_w = float((np.where(adj & across, w, 0.0).sum(axis=1)[has] / s[has]).mean())
    return mu_t, mu_w, float(k.mean())


def lfr_null_graph(graph: LFRGraph, random_state: int | np.random.Generator | None = 0) -> np.ndarray:
    """A control without communities: the same degrees, i.i.d. weights.

    A configuration-model simple graph on ``graph``'s degree sequence (self-loops and
    repeated edges rewired away) whose weights are drawn independently, with
    replacement, from ``graph``'s edge weights.  The right partition is one group.
    """
    rng = np.random.default_rng(random_state)
    adj = graph.weights > 0
    degree = adj.sum(axis=1)
    edges = _simple_edges(np.repeat(np.arange(degree.size), degree), rng)
    pool = graph.weights[np.triu(adj, 1)]
    w = rng.choice(pool, size=len(edges), replace=True)
    out = np.zeros_like(graph.weights)
    out[edges[:, 0], edges[:, 1]] = w
    out[edges[:, 1], edges[:, 0]] = w
    return out
