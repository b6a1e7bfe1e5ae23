"""Baselines and scores for brain states of real recordings.

- :class:`GaussianHMM` — hidden Markov model with a diagonal Gaussian per state and no
  couplings between neurons (or within a neuron over time), fitted by EM with this
  package's forward–backward (:mod:`neurodyn.states.messages`). Entries marked missing
  are left out of the likelihood (marginalised), so animals lacking a neuron are scored
  on the neurons they have.
- :func:`kmeans_states` — k-means on per-bin feature vectors, centroids fitted on
  training bins and applied to new bins.
- :func:`difference_correlation` — ``|corr|`` of first-differenced traces, pooled over
  animals: the functional-connectivity baseline for anatomy.
- :func:`auroc` and :func:`permutation_auroc` — area under the ROC curve of a pair score
  for anatomical contacts, with a neuron-label permutation p-value.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator

from neurodyn.errors import InvalidInputError
from neurodyn.states import messages

__all__ = [
    "GaussianHMM",
    "kmeans_states",
    "sticky_transitions",
    "difference_correlation",
    "auroc",
    "permutation_auroc",
    "pair_labels",
]

_LOG_2PI = np.log(2 * np.pi)


def _as_list(sequences, masks=None):
    if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
        sequences = [sequences]
        masks = None if masks is None else [masks]
    seqs = [np.asarray(s, float) for s in sequences]
    if not seqs:
        raise InvalidInputError("sequences: expected at least one (T, N) array")
    N = seqs[0].shape[1] if seqs[0].ndim == 2 else -1
    for i, s in enumerate(seqs):
        if s.ndim != 2 or s.shape[1] != N or s.shape[0] < 1:
            raise InvalidInputError(f"sequences[{i}]: expected shape (T, {N}), got {s.shape}")
        if not np.all(np.isfinite(s)):
            raise InvalidInputError(f"sequences[{i}]: contains NaN or inf; expected finite values (mark gaps in masks)")
    if masks is None:
        masks = [np.ones(s.shape, bool) for s in seqs]
    masks = [np.asarray(m, bool) for m in masks]
    if len(masks) != len(seqs) or any(m.shape != s.shape for m, s in zip(masks, seqs)):
        raise InvalidInputError("masks: expected one boolean array per sequence, of the sequence's shape")
    return seqs, masks


class GaussianHMM(BaseEstimator):
    """HMM with diagonal Gaussian emissions ``x_t | z_t = s ~ N(μ_s, diag σ²_s)``.

    No coupling between neurons and no autoregressive term: the baseline the HMM-GLM's
    couplings must beat.

    Parameters
    ----------
    n_states : int
    max_iter : int
        EM iterations.
    tol : float
        Stop when the log-likelihood per bin rises by less than ``tol``.
    sticky : float
        Initial self-transition probability.
    stickiness : float
        κ ≥ 0 of a sticky Dirichlet prior on each row of the transition matrix (Fox et
        al., Ann. Appl. Stat. 2011): ``π_i ~ Dir(1 + κ e_i)``, i.e. κ pseudo-counts of
        self-transitions per state. The M-step is the MAP
        ``A_ij = (ξ_ij + κ δ_ij) / (Σ_j ξ_ij + κ)`` (:func:`sticky_transitions`) and
        ``history_`` includes ``κ Σ_i ln A_ii``. 0 (default): maximum likelihood.
    min_variance : float
        Floor on every variance.
    n_init : int
        Restarts (k-means++ seeds); the highest final log-likelihood wins.
    random_state : int, numpy.random.Generator or None
        Seeds the k-means++ choice of the initial means.
    """

    def __init__(self, n_states: int = 2, *, max_iter: int = 100, tol: float = 1e-6, sticky: float = 0.98,
                 stickiness: float = 0.0, min_variance: float = 1e-3, n_init: int = 1, random_state=0):
        self.n_states = n_states
        self.max_iter = max_iter
        self.tol = tol
        self.sticky = sticky
        self.stickiness = stickiness
        self.min_variance = min_variance
        self.n_init = n_init
        self.random_state = random_state

    def _log_lik(self, X, M):
        """(T, S) log-likelihood of the observed entries."""
        var = self.var_  # (S, N)
        # Σ_n m [ −½ ln 2πσ² − (x − μ)²/(2σ²) ] as three matrix products.
        Mf = M.astype(float)
        q = -0.5 * ((X**2 * Mf) @ (1 / var).T - 2 * (X * Mf) @ (self.means_ / var).T + Mf @ (self.means_**2 / var).T)
        return q - 0.5 * Mf @ (np.log(var) + _LOG_2PI).T

    def fit(self, sequences, masks=None):
        """Fit by EM.

        Parameters
        ----------
        sequences : ndarray (T, N) or list of ndarray (T_i, N)
            Finite values; entries with ``masks`` False are ignored.
        masks : list of bool ndarray, optional
            True where the entry is observed (default: all).

        Returns
        -------
        self : GaussianHMM
        """
        seqs, masks = _as_list(sequences, masks)
        S = int(self.n_states)
        if S < 1:
            raise InvalidInputError(f"n_states: expected >= 1, got {self.n_states}")
        if not 0 < self.sticky < 1 and S > 1:
            raise InvalidInputError(f"sticky: expected in (0, 1), got {self.sticky}")
        if int(self.n_init) < 1:
            raise InvalidInputError(f"n_init: expected >= 1, got {self.n_init}")
        if not self.stickiness >= 0:
            raise InvalidInputError(f"stickiness: expected >= 0, got {self.stickiness}")
        X = np.concatenate(seqs)
        M = np.concatenate(masks)
        lengths = [len(s) for s in seqs]
        rng = np.random.default_rng(self.random_state)
        best = None
        for _ in range(int(self.n_init)):
            self._em(X, M, lengths, S, rng)
            if best is None or self.history_[-1] > best["history_"][-1]:
                best = {k: getattr(self, k) for k in ("means_", "var_", "transmat_", "initial_", "history_",
                                                      "converged_", "n_iter_")}
        for k, v in best.items():
            setattr(self, k, v)
        self.n_features_in_ = X.shape[1]
        return self

    def _em(self, X, M, lengths, S, rng):
        Mf = M.astype(float)
        count = np.maximum(Mf.sum(0), 1.0)
        mean = (X * Mf).sum(0) / count
        var = np.maximum(((X - mean) ** 2 * Mf).sum(0) / count, self.min_variance)
        # k-means++ seeding on the observed bins.
        centers = [X[rng.integers(len(X))]]
        for _ in range(1, S):
            d = np.min([((X - c) ** 2 * Mf).sum(1) for c in centers], axis=0)
            centers.append(X[rng.choice(len(X), p=d / d.sum())] if d.sum() > 0 else X[rng.integers(len(X))])
        self.means_ = np.array(centers)
        self.var_ = np.tile(var, (S, 1))
        A = np.full((S, S), (1 - self.sticky) / max(S - 1, 1)) if S > 1 else np.ones((1, 1))
        np.fill_diagonal(A, self.sticky if S > 1 else 1.0)
        self.transmat_ = A
        self.initial_ = np.full(S, 1.0 / S)
        history = []
        self.converged_ = False
        starts = np.concatenate([[0], np.cumsum(lengths)])
        for it in range(int(self.max_iter) + 1):
            ll = self._log_lik(X, M)
            gamma = np.empty_like(ll)
            xi = np.zeros((S, S))
            first = np.zeros(S)
            total = 0.0
            for i in range(len(lengths)):
                post = messages.forward_backward(np.log(self.initial_), np.log(self.transmat_),
                                                 ll[starts[i]:starts[i + 1]])
                gamma[starts[i]:starts[i + 1]] = post.posterior
                xi += post.expected_transitions
                first += post.posterior[0]
                total += float(post.log_likelihood)
            if S > 1:
                total += float(self.stickiness) * float(np.log(np.diag(self.transmat_)).sum())
            history.append(total)
            if it > 0 and (history[-1] - history[-2]) / len(X) < self.tol:
                self.converged_ = True
                break
            if it == self.max_iter:
                break
            # M-step (exact): chain, then per-state weighted means and variances of observed entries.
            if S > 1:
                self.transmat_ = sticky_transitions(xi, float(self.stickiness))
                self.initial_ = np.maximum(first / first.sum(), 1e-300)
            w = gamma.T @ Mf  # (S, N)
            self.means_ = np.where(w > 0, (gamma.T @ (X * Mf)) / np.maximum(w, 1e-300), mean)
            sq = gamma.T @ (X**2 * Mf) - 2 * self.means_ * (gamma.T @ (X * Mf)) + self.means_**2 * w
            self.var_ = np.maximum(np.where(w > 0, sq / np.maximum(w, 1e-300), var), self.min_variance)
        self.n_iter_ = it
        self.history_ = np.array(history)

    def _check(self, sequences, masks):
        if not hasattr(self, "means_"):
            raise InvalidInputError("GaussianHMM: call fit before score/predict")
        seqs, masks = _as_list(sequences, masks)
        if seqs[0].shape[1] != self.n_features_in_:
            raise InvalidInputError(f"sequences: expected {self.n_features_in_} neurons, got {seqs[0].shape[1]}")
        return seqs, masks

    def log_likelihood_bins(self, sequences, masks=None):
        """Per-sequence (T, S) emission log-likelihoods."""
        seqs, masks = self._check(sequences, masks)
        return [self._log_lik(x, m) for x, m in zip(seqs, masks)]

    def score(self, sequences, masks=None) -> float:
        """Marginal log-likelihood ``Σ_i ln p(x^{(i)})`` of the observed entries (nats)."""
        return float(sum(messages.forward_backward(np.log(self.initial_), np.log(self.transmat_), ll).log_likelihood
                         for ll in self.log_likelihood_bins(sequences, masks)))

    def predict(self, sequences, masks=None):
        """Viterbi paths, one int array per sequence."""
        return [messages.viterbi(np.log(self.initial_), np.log(self.transmat_), ll)
                for ll in self.log_likelihood_bins(sequences, masks)]


def sticky_transitions(expected_transitions, stickiness: float = 0.0) -> np.ndarray:
    """MAP transition matrix under a sticky Dirichlet prior ``π_i ~ Dir(1 + κ e_i)``.

    Maximises ``Σ_ij ξ_ij ln A_ij + κ Σ_i ln A_ii`` over row-stochastic ``A``:
    ``A_ij = (ξ_ij + κ δ_ij) / (Σ_j ξ_ij + κ)``; κ = 0 gives the maximum-likelihood
    M-step.

    Parameters
    ----------
    expected_transitions : ndarray (S, S)
        Expected transition counts ``ξ`` from the E-step.
    stickiness : float
        κ ≥ 0, pseudo-counts of self-transitions per state.

    Returns
    -------
    ndarray (S, S)
    """
    xi = np.asarray(expected_transitions, float)
    if xi.ndim != 2 or xi.shape[0] != xi.shape[1] or np.any(xi < 0):
        raise InvalidInputError(f"expected_transitions: expected a non-negative (S, S) array, got shape {xi.shape}")
    if not stickiness >= 0:
        raise InvalidInputError(f"stickiness: expected >= 0, got {stickiness}")
    C = np.maximum(xi + stickiness * np.eye(len(xi)), 1e-300)
    return C / C.sum(1, keepdims=True)


def kmeans_states(train, test, n_states: int, *, random_state=0, n_init: int = 10):
    """k-means with ``k = n_states`` fitted on the training bins, applied to every test bin.

    Parameters
    ----------
    train : list of ndarray (T_i, N)
    test : list of ndarray (T_j, N)
    n_states : int
    random_state : int or None
    n_init : int
        k-means restarts.

    Returns
    -------
    list of int ndarray
        Nearest-centroid labels of each test sequence.
    """
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=int(n_states), n_init=n_init, random_state=random_state).fit(np.concatenate(train))
    return [km.predict(np.asarray(x, float)) for x in test]


def difference_correlation(sequences) -> np.ndarray:
    """``|corr|`` between neurons of the first differences, pooled over sequences.

    Each sequence is differenced on its own (no difference across a boundary); NaN
    entries (a neuron an animal lacks) are left out pairwise.

    Returns
    -------
    ndarray, shape (N, N), symmetric, zero diagonal.
    """
    D = np.concatenate([np.diff(np.asarray(s, float), axis=0) for s in sequences])
    N = D.shape[1]
    ok = np.isfinite(D)
    out = np.zeros((N, N))
    for i in range(N):
        for j in range(i + 1, N):
            m = ok[:, i] & ok[:, j]
            if m.sum() > 2:
                a, b = D[m, i], D[m, j]
                sa, sb = a.std(), b.std()
                if sa > 0 and sb > 0:
                    out[i, j] = out[j, i] = abs(float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb)))
    return out


def auroc(labels, scores) -> float:
    """Area under the ROC curve (Mann–Whitney U / (n₊ n₋), ties counted one half).

    Parameters
    ----------
    labels : array of bool
    scores : array of float

    Returns
    -------
    float
        NaN when one class is empty.
    """
    y = np.asarray(labels, bool).ravel()
    s = np.asarray(scores, float).ravel()
    if y.shape != s.shape:
        raise InvalidInputError(f"labels, scores: expected equal shapes, got {y.shape} and {s.shape}")
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def pair_labels(n: int, symmetric: bool):
    """Index of the pairs scored: ordered ``i ≠ j`` pairs, or unordered ``i < j`` ones."""
    if symmetric:
        return np.triu_indices(n, 1)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    return i, j


def permutation_auroc(score, adjacency, *, symmetric: bool = False, n_permutations: int = 10000, random_state=0):
    """AUROC of a pair score for a binary adjacency, and its neuron-label permutation p-value.

    The null hypothesis: the score carries no information about *which* neuron is which.
    Each permutation relabels the neurons of the adjacency (rows and columns together),
    which keeps its degree distribution and reciprocity and the score's structure intact;
    ``p = (1 + #{AUROC_perm ≥ AUROC}) / (1 + n_permutations)`` (one-sided).

    Parameters
    ----------
    score : ndarray, shape (N, N)
        Pair score ``[post, pre]`` (any orientation, the same as ``adjacency``).
    adjacency : ndarray of bool, shape (N, N)
    symmetric : bool
        Score unordered pairs ``i < j`` (the inputs should then be symmetric).
    n_permutations : int
    random_state : int, numpy.random.Generator or None

    Returns
    -------
    auroc : float
    p_value : float
    """
    score = np.asarray(score, float)
    adj = np.asarray(adjacency, bool)
    n = score.shape[0]
    if score.shape != (n, n) or adj.shape != (n, n):
        raise InvalidInputError(f"score, adjacency: expected equal square shapes, got {score.shape}, {adj.shape}")
    if n_permutations < 1:
        raise InvalidInputError(f"n_permutations: expected >= 1, got {n_permutations}")
    i, j = pair_labels(n, symmetric)
    y = adj[i, j]
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan"), float("nan")
    ranks = np.zeros((n, n))
    ranks[i, j] = rankdata(score[i, j])
    obs = (ranks[i, j][y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
    rng = np.random.default_rng(random_state)
    # Relabel the adjacency: pair (i, j) is positive under permutation π when adj[π i, π j].
    # Rank sums of the positives, in batches of permutations.
    exceed = 0
    done = 0
    batch = max(1, min(n_permutations, 2_000_000 // max(y.size, 1)))
    while done < n_permutations:
        b = min(batch, n_permutations - done)
        perms = np.argsort(rng.random((b, n)), axis=1)
        yp = adj[perms[:, i], perms[:, j]]  # (b, pairs)
        u = (yp * ranks[i, j]).sum(1) - n1 * (n1 + 1) / 2
        exceed += int(np.sum(u / (n1 * n0) >= obs - 1e-12))
        done += b
    return float(obs), (1 + exceed) / (1 + n_permutations)
