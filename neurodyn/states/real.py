"""Brain states of whole-brain calcium recordings, checked against behaviour and anatomy.

Input: a cohort (``neurodyn.data`` cohort format: ``traces`` (animal, time, neuron) with
NaN where an animal lacks a neuron, ``present``, ``behavior_reversal``,
``sampling_rate_hz``). One HMM-GLM is fitted across animals (shared states, transitions
and couplings) and evaluated leave-one-worm-out against baselines
(:mod:`neurodyn.states.baselines`).

Preprocessing is causal (:class:`CausalPreprocessor`): an exponential moving average
(no future samples) and optionally a backward difference, then per-neuron centring and
scaling with statistics of the training data only. Every step is an invertible,
lower-triangular map of the trace with a known Jacobian, so models fitted to different
representations are compared by the held-out log-likelihood **of the same traces**
(:func:`heldout_log_likelihood` adds ``ln |∂y/∂x|``). The representation, smoothing and
number of states are chosen that way on the training animals of each fold
(:func:`select_model`), never on the held-out animal.

Missing neurons. A neuron enters when it is identified in at least ``neuron_fraction``
of the animals (:func:`shared_neurons`). Where an animal lacks it, the HMM-GLM fit sees
independent N(0, 1) draws (the training mean and variance after scaling) in its place
(:func:`fill_missing`; the estimator has no missing-data mask, and a constant would let a
state lock onto that animal); scoring and decoding (:func:`glm_log_likelihood_bins`)
leave the entries out of the likelihood and feed the mean, 0, to the history term. The
Gaussian HMM baseline leaves them out of its likelihood exactly.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator

from neurodyn.data import preprocess
from neurodyn.data.cohort import is_identified
from neurodyn.errors import InvalidInputError
from neurodyn.progress import STEP_EVERY_S, Progress
from neurodyn.states import messages, metrics
from neurodyn.states.baselines import (
    GaussianHMM,
    difference_correlation,
    kmeans_states,
    permutation_auroc,
)
from neurodyn.states.emissions import exponential_basis, history_features
from neurodyn.states.model import HMMGLM

__all__ = [
    "shared_neurons",
    "causal_filter",
    "CausalPreprocessor",
    "fill_missing",
    "glm_log_likelihood_bins",
    "heldout_log_likelihood",
    "select_model",
    "analyse_cohort",
    "analyse_single_animal",
    "single_animal_cohort",
    "skip_reasons",
    "coupling_scores",
    "anatomy_auroc",
    "summary_markdown",
]

log = logging.getLogger("neurodyn.states")

REPRESENTATIONS = ("trace", "derivative")
GLM_KEYS = ("prior", "prior_kwargs", "n_lags", "max_iter", "m_step_iter", "tol", "n_init", "init_iter")
CONNECTOMES = ("witvliet_2020_8", "witvliet_2020_7", "white_1986_whole")
_LOG_2PI = math.log(2 * math.pi)


def shared_neurons(cohort: xr.Dataset, neuron_fraction: float = 0.75, candidates=None) -> list[str]:
    """Identified neurons recorded in at least ``ceil(neuron_fraction · n_animals)`` animals.

    Unidentified ROIs (names with ``/roi_``) never enter: they are not the same cell in
    two animals. ``candidates`` restricts the choice further.
    """
    if not 0 < neuron_fraction <= 1:
        raise InvalidInputError(f"neuron_fraction: expected in (0, 1], got {neuron_fraction}")
    n_animals = cohort.sizes["animal"]
    need = max(1, math.ceil(neuron_fraction * n_animals - 1e-9))
    count = cohort["present"].values.sum(axis=0)
    names = [str(n) for n in cohort["neuron"].values]
    keep = [n for n, c in zip(names, count) if c >= need and is_identified(n)
            and (candidates is None or n in set(candidates))]
    if len(keep) < 2:
        raise InvalidInputError(f"cohort.present: fewer than 2 identified neurons are recorded in {need} of "
                                f"{n_animals} animals; expected at least 2")
    return keep


def causal_filter(x, representation: str = "trace", smooth_s: float = 0.0, sampling_rate_hz: float = 1.0):
    """Causal exponential smoothing, then (``derivative``) a backward difference.

    ``y_0 = x_0``, ``y_t = y_{t−1} + α (x_t − y_{t−1})`` with ``α = 1 − exp(−Δt/τ)``,
    ``τ = smooth_s`` (``smooth_s = 0``: ``y = x``); ``derivative``: ``d_0 = y_0``,
    ``d_t = y_t − y_{t−1}``. Output bin ``t`` depends on input bins ``≤ t`` only. A NaN
    input holds the previous value (its output is marked missing by the caller).

    Parameters
    ----------
    x : ndarray, shape (T, N)
    representation : {"trace", "derivative"}
    smooth_s : float
    sampling_rate_hz : float

    Returns
    -------
    y : ndarray, shape (T, N)
    alpha : float
        The smoothing weight (the Jacobian's diagonal after the first bin).
    """
    if representation not in REPRESENTATIONS:
        raise InvalidInputError(f"representation: expected one of {REPRESENTATIONS}, got {representation!r}")
    if smooth_s < 0 or sampling_rate_hz <= 0:
        raise InvalidInputError(f"smooth_s, sampling_rate_hz: expected >= 0 and > 0, got {smooth_s}, "
                                f"{sampling_rate_hz}")
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise InvalidInputError(f"x: expected shape (T, N), got {x.shape}")
    alpha = 1.0 if smooth_s == 0 else 1.0 - math.exp(-1.0 / (smooth_s * sampling_rate_hz))
    y = np.empty_like(x)
    prev = np.where(np.isfinite(x[0]), x[0], np.nan)
    y[0] = prev
    for t in range(1, len(x)):
        cur = np.where(np.isfinite(x[t]), prev + alpha * (x[t] - prev), prev)
        cur = np.where(np.isfinite(prev), cur, x[t])  # a neuron that starts missing starts at its first value
        y[t] = cur
        prev = cur
    if representation == "derivative":
        d = y.copy()
        d[1:] = y[1:] - y[:-1]
        y = d
    return y, alpha


class CausalPreprocessor(BaseEstimator):
    """Causal filter (:func:`causal_filter`) and per-neuron scaling fitted on training data.

    Parameters
    ----------
    representation : {"trace", "derivative"}
    smooth_s : float
        Time constant of the causal exponential smoothing (s); 0 = none.
    sampling_rate_hz : float
    """

    def __init__(self, representation: str = "trace", smooth_s: float = 0.0, sampling_rate_hz: float = 1.0):
        self.representation = representation
        self.smooth_s = smooth_s
        self.sampling_rate_hz = sampling_rate_hz

    def _filter(self, sequences):
        out = []
        for i, x in enumerate(sequences):
            x = np.asarray(x, float)
            if x.ndim != 2:
                raise InvalidInputError(f"sequences[{i}]: expected shape (T, N), got {x.shape}")
            out.append(causal_filter(x, self.representation, self.smooth_s, self.sampling_rate_hz))
        return out

    def fit(self, sequences):
        """Fit the per-neuron mean and scale on the filtered training sequences.

        Parameters
        ----------
        sequences : list of ndarray (T_i, N)
            Traces; NaN where a neuron is missing.

        Returns
        -------
        self : CausalPreprocessor
        """
        filt = self._filter(sequences)
        Y = np.concatenate([y for y, _ in filt])
        ok = np.concatenate([np.isfinite(np.asarray(x, float)) for x in sequences])
        Y = np.where(ok, Y, np.nan)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(Y, axis=0)
            scale = np.nanstd(Y, axis=0)
        bad = ~np.isfinite(scale) | (scale <= 0)
        if bad.all():
            raise InvalidInputError("sequences: no neuron has a finite, non-constant training signal")
        self.mean_ = np.where(bad, 0.0, mean)
        self.scale_ = np.where(bad, 1.0, scale)
        self.alpha_ = filt[0][1]
        self.n_features_in_ = Y.shape[1]
        return self

    def transform(self, sequences):
        """Filtered, scaled sequences with missing entries set to 0, and their masks.

        Returns
        -------
        values : list of ndarray (T_i, N)
        masks : list of bool ndarray (T_i, N)
            True where the input was finite.
        """
        if not hasattr(self, "mean_"):
            raise InvalidInputError("CausalPreprocessor: call fit before transform")
        values, masks = [], []
        for x, (y, _) in zip(sequences, self._filter(sequences)):
            m = np.isfinite(np.asarray(x, float))
            z = (y - self.mean_) / self.scale_
            values.append(np.where(m, z, 0.0))
            masks.append(m)
        return values, masks

    def log_det_jacobian(self, masks) -> list[float]:
        """``ln |∂y/∂x|`` per sequence over the observed entries (the map is triangular).

        ``Σ_{t,n} m_{t,n} (ln α_t − ln scale_n)`` with ``α_0 = 1``; the backward difference
        has a unit diagonal.
        """
        out = []
        la = math.log(self.alpha_)
        for m in masks:
            m = np.asarray(m, bool)
            val = -float((m * np.log(self.scale_)).sum()) + la * float(m[1:].sum())
            out.append(val)
        return out


def _model_arrays(model):
    """Weights, biases, variances, chain of a fitted HMMGLM (Gaussian emissions)."""
    if getattr(model, "emission", "gaussian") != "gaussian":
        raise InvalidInputError(f"model.emission: expected 'gaussian', got {model.emission!r}")
    return (np.asarray(model.weights_, float), np.asarray(model.bias_, float), np.asarray(model.noise_, float),
            np.asarray(model.params_.log_initial, float), np.asarray(model.params_.log_transmat, float))


def glm_log_likelihood_bins(model, sequences, masks=None):
    """Per-bin, per-state emission log-likelihood of a Gaussian HMMGLM, masked.

    ``ln p(x_t | z_t = s) = Σ_n m_{t,n} ln N(x_{t,n}; b_{s,n} + Σ_j W_s[n, j] h_{t,j}, σ²_{s,n})``
    with the model's history features ``h``; entries with ``m = 0`` are left out (their
    value, the training mean 0, still enters ``h``). Without masks this equals the
    model's own emission log-likelihood (tested against ``HMMGLM.score``).

    Returns
    -------
    list of ndarray (T_i, S)
    """
    W, b, var, _, _ = _model_arrays(model)
    basis = exponential_basis(model.n_lags)
    S, N, _ = W.shape
    out = []
    for i, x in enumerate(sequences):
        x = np.asarray(x, float)
        m = np.ones(x.shape, bool) if masks is None else np.asarray(masks[i], bool)
        H = history_features(x, basis)
        eta = (H @ W.reshape(S * N, N).T).reshape(-1, S, N) + b[None]
        lp = -0.5 * ((x[:, None, :] - eta) ** 2 / var[None] + np.log(var)[None] + _LOG_2PI)
        out.append(np.einsum("tsn,tn->ts", lp, m.astype(float)))
    return out


def _forward_ll(log_initial, log_transmat, ll) -> float:
    return float(messages.forward_backward(log_initial, log_transmat, ll).log_likelihood)


def _chain(model):
    if isinstance(model, GaussianHMM):
        return np.log(model.initial_), np.log(model.transmat_)
    return np.asarray(model.params_.log_initial, float), np.asarray(model.params_.log_transmat, float)


def _bins(model, values, masks):
    if isinstance(model, GaussianHMM):
        return model.log_likelihood_bins(values, masks)
    return glm_log_likelihood_bins(model, values, masks)


def heldout_log_likelihood(model, prep: CausalPreprocessor, sequences, cuts) -> tuple[float, int]:
    """``Σ_i ln p(x_i[cut_i:] | x_i[:cut_i])`` of the **traces** (Jacobian included).

    The preprocessing is causal, so features of the held-out block are computed on the
    whole sequence without using later samples; the chain's state at the cut is the
    forward filter's. Returns the log-likelihood (nats) and the number of observed
    held-out entries (neuron-bins).
    """
    values, masks = prep.transform(sequences)
    log_pi, log_A = _chain(model)
    total, count = 0.0, 0
    for x, m, c in zip(values, masks, cuts):
        ll = _bins(model, [x], [m])[0]
        full = _forward_ll(log_pi, log_A, ll)
        head = _forward_ll(log_pi, log_A, ll[:c])
        jac_full, jac_head = prep.log_det_jacobian([m])[0], prep.log_det_jacobian([m[:c]])[0]
        total += (full + jac_full) - (head + jac_head)
        count += int(m[c:].sum())
    return total, count


def _decode(model, prep, sequences):
    values, masks = prep.transform(sequences)
    log_pi, log_A = _chain(model)
    return [messages.viterbi(log_pi, log_A, ll) for ll in _bins(model, values, masks)]


def _posterior(model, prep, sequences):
    values, masks = prep.transform(sequences)
    log_pi, log_A = _chain(model)
    return [messages.forward_backward(log_pi, log_A, ll).posterior for ll in _bins(model, values, masks)]


def fill_missing(values, masks, random_state=0):
    """Training input of the HMM-GLM: missing entries replaced by independent N(0, 1) draws.

    The estimator has no missing-data mask. A constant in place of an absent neuron would
    let a state with that neuron's variance at its floor claim every bin of that animal
    (a state that means "this worm", not a brain state); draws at the neuron's training
    mean and variance carry no such signal and no information the model could fit.
    """
    rng = np.random.default_rng(random_state)
    return [np.where(m, v, rng.standard_normal(v.shape)) for v, m in zip(values, masks)]


def _fit_glm(values, n_states, prior, prior_kwargs, n_lags, max_iter, m_step_iter, tol, n_init, init_iter, random_state,
             l1=0.0, masks=None):
    """Gaussian HMM-GLM with a bias per state; ``l1`` (per bin) scales the "none" prior's L1 penalty;
    entries outside ``masks`` are filled by :func:`fill_missing`."""
    if masks is not None:
        values = fill_missing(values, masks, random_state)
    if prior == "none":
        n_bins = sum(len(v) for v in values)
        prior_kwargs = {**(prior_kwargs or {}), "l1": float(l1) * n_bins}
    return HMMGLM(n_states, emission="gaussian", prior=prior, prior_kwargs=prior_kwargs, state_bias=True,
                  n_lags=n_lags, max_iter=max_iter, m_step_iter=m_step_iter, tol=tol, n_init=n_init,
                  init_iter=init_iter, random_state=random_state,
                  log_every=0).fit(values)


def _fit_hmm(values, masks, n_states, max_iter, tol, n_init, random_state):
    return GaussianHMM(n_states, max_iter=max_iter, tol=tol, n_init=n_init, random_state=random_state).fit(values,
                                                                                                           masks)


def select_model(sequences, sampling_rate_hz: float, *, kind: str, representations, smooth_s, n_states_range,
                 test_fraction: float, fit_kwargs: dict, l1=(0.0,), random_state=0) -> pd.DataFrame:
    """Held-out log-likelihood of every candidate on the last ``test_fraction`` of each sequence.

    Candidates: every (representation, smooth_s, n_states, l1); ``l1`` only for the
    HMM-GLM with ``prior="none"`` (else it is ignored). Each is fitted (preprocessing
    statistics included) on the first part of every sequence and scored by
    :func:`heldout_log_likelihood`, in nats per observed neuron-bin of the traces, so
    representations compare.

    Parameters
    ----------
    sequences : list of ndarray (T_i, N)
        Training animals' traces (NaN = missing neuron).
    kind : {"hmmglm", "gaussian_hmm"}
    fit_kwargs : dict
        ``prior, prior_kwargs, n_lags, max_iter, m_step_iter, tol`` (HMM-GLM) or
        ``max_iter, tol`` (Gaussian HMM).

    Returns
    -------
    DataFrame
        One row per candidate: ``model, representation, smooth_s, n_states,
        l1, heldout_ll_per_entry, n_heldout, n_iter, converged``.
    """
    cuts = [int(round(len(x) * (1 - test_fraction))) for x in sequences]
    if any(c < 2 or c >= len(x) for c, x in zip(cuts, sequences)):
        raise InvalidInputError(f"test_fraction: {test_fraction} leaves an empty training or test block")
    rows = []
    penalties = l1 if kind == "hmmglm" and fit_kwargs.get("prior") == "none" else [0.0]
    n_candidates = len(representations) * len(smooth_s) * len(n_states_range) * len(penalties)
    with Progress(n_candidates, f"model selection ({kind})", every_s=STEP_EVERY_S, heartbeat=True) as bar:
        for rep in representations:
            for sm in smooth_s:
                train = [x[:c] for x, c in zip(sequences, cuts)]
                prep = CausalPreprocessor(rep, float(sm), sampling_rate_hz).fit(train)
                values, masks = prep.transform(train)
                for S in n_states_range:
                    for lam in penalties:
                        bar.update(0, representation=rep, n_states=int(S), l1=float(lam))
                        if kind == "hmmglm":
                            model = _fit_glm(values, int(S), random_state=random_state, l1=lam, masks=masks,
                                             **fit_kwargs)
                        else:
                            model = _fit_hmm(values, masks, int(S), random_state=random_state, **fit_kwargs)
                        ll, n = heldout_log_likelihood(model, prep, sequences, cuts)
                        rows.append({"model": kind, "representation": rep, "smooth_s": float(sm),
                                     "n_states": int(S), "l1": float(lam), "heldout_ll_per_entry": ll / n,
                                     "n_heldout": n, "n_iter": _n_iter(model), "converged": _converged(model)})
                        log.info("%s", rows[-1])
                        bar.update(1)
    return pd.DataFrame(rows)


def _n_iter(model) -> int:
    if hasattr(model, "n_iter_"):
        return int(model.n_iter_)
    return max(len(getattr(model, "history_", [])) - 1, 0)


def _converged(model) -> bool:
    """``converged_`` where the estimator sets it; else whether EM stopped before ``max_iter``
    (it stops early only when the objective's gain falls below ``tol``)."""
    if hasattr(model, "converged_"):
        return bool(model.converged_)
    return _n_iter(model) < int(model.max_iter)


def _best(table: pd.DataFrame) -> dict:
    r = table.loc[table["heldout_ll_per_entry"].idxmax()]
    return {"representation": str(r["representation"]), "smooth_s": float(r["smooth_s"]),
            "n_states": int(r["n_states"]), "l1": float(r["l1"])}


def _kmeans_features(sequences, window_s, fs, stats=None):
    """Savitzky–Golay derivative (window ``window_s``), scaled; NaN → 0."""
    d = [preprocess.savgol_derivative(np.asarray(x, float), window_s, fs) for x in sequences]
    if stats is None:
        D = np.concatenate(d)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mu, sd = np.nanmean(D, 0), np.nanstd(D, 0)
        stats = (np.nan_to_num(mu), np.where(np.isfinite(sd) & (sd > 0), sd, 1.0))
    return [np.nan_to_num((x - stats[0]) / stats[1]) for x in d], stats


def _fold(train, test, fs, p, rng_seed):
    """Fit the HMM-GLM and the baselines on ``train`` animals; decode ``test`` animals."""
    fit_kwargs = {k: p[k] for k in GLM_KEYS}
    grid = {"representations": p["representations"], "smooth_s": p["smooth_s"],
            "test_fraction": p["test_fraction"]}
    sel = select_model(train, fs, kind="hmmglm", n_states_range=p["n_states_range"], fit_kwargs=fit_kwargs,
                       l1=p["l1"], random_state=rng_seed, **grid)
    best = _best(sel)
    S = best["n_states"]
    prep = CausalPreprocessor(best["representation"], best["smooth_s"], fs).fit(train)
    values, masks = prep.transform(train)
    glm = _fit_glm(values, S, random_state=rng_seed, l1=best["l1"], masks=masks, **fit_kwargs)
    sel_h = select_model(train, fs, kind="gaussian_hmm", n_states_range=[S],
                         fit_kwargs={"max_iter": p["max_iter"], "tol": p["tol"], "n_init": p["n_init"]},
                         random_state=rng_seed, **grid)
    best_h = _best(sel_h)
    prep_h = CausalPreprocessor(best_h["representation"], best_h["smooth_s"], fs).fit(train)
    hmm = _fit_hmm(*prep_h.transform(train), S, p["max_iter"], p["tol"], p["n_init"], rng_seed)
    k_train, stats = _kmeans_features(train, p["kmeans_window_s"], fs)
    k_test, _ = _kmeans_features(test, p["kmeans_window_s"], fs, stats)
    states = {
        "hmmglm": _decode(glm, prep, test),
        "gaussian_hmm": _decode(hmm, prep_h, test),
        "kmeans": kmeans_states(k_train, k_test, S, random_state=rng_seed),
    }
    chosen = {"hmmglm": best, "gaussian_hmm": best_h,
              "kmeans": {"representation": "savgol_derivative", "smooth_s": p["kmeans_window_s"], "n_states": S,
                         "l1": 0.0}}
    return states, chosen, pd.concat([sel, sel_h], ignore_index=True), glm, prep


def coupling_scores(weights) -> np.ndarray:
    """Mean over states of ``|W_s[post, pre]|``, zero diagonal (self terms are decay)."""
    C = np.abs(np.asarray(weights, float)).mean(0)
    np.fill_diagonal(C, 0.0)
    return C


def anatomy_auroc(scores: dict, names, *, connectomes=CONNECTOMES, n_permutations: int = 10000,
                  random_state=0) -> pd.DataFrame:
    """AUROC of pair scores for anatomical contacts, with neuron-label permutation p-values.

    Parameters
    ----------
    scores : dict of name -> ndarray (N, N)
        Pair scores indexed ``[post, pre]``.
    names : list of str
        Neuron names of the score matrices.
    connectomes : names for :func:`neurodyn.data.anatomy.connectome_matrix`.
    n_permutations : int
    random_state : int or None

    Returns
    -------
    DataFrame
        ``connectome, kind, score, n_neurons, n_pairs, n_connected, auroc, p_value``.
        ``chemical``: ordered pairs ``post ← pre`` (positive: a chemical synapse
        ``pre → post``). ``electrical`` and ``any``: unordered pairs (positive: a contact
        in either direction), scores symmetrised as ``(S + Sᵀ)/2``. Neurons absent from a
        connectome are left out for it.
    """
    from neurodyn.data.anatomy import connectome_matrix, connectome_neurons

    names = [str(n) for n in names]
    rng = np.random.default_rng(random_state)
    rows = []
    for cname in connectomes:
        known = set(connectome_neurons(cname))
        keep = np.array([n in known for n in names])
        sub = [n for n, k in zip(names, keep) if k]
        for kind in ("chemical", "electrical", "any"):
            C = connectome_matrix(sub, name=cname, kind=kind)  # [pre, post]
            sym = kind != "chemical"
            adj = (C + C.T > 0) if sym else (C.T > 0)  # -> [post, pre]
            for sname, S in scores.items():
                M = np.asarray(S, float)[np.ix_(keep, keep)]
                if sym:
                    M = 0.5 * (M + M.T)
                auc, pval = permutation_auroc(M, adj, symmetric=sym, n_permutations=n_permutations,
                                              random_state=rng)
                n = len(sub)
                n_pairs = n * (n - 1) // 2 if sym else n * (n - 1)
                iu = np.triu_indices(n, 1) if sym else np.nonzero(~np.eye(n, dtype=bool))
                rows.append({"connectome": cname, "kind": kind, "score": sname, "n_neurons": n, "n_pairs": n_pairs,
                             "n_connected": int(adj[iu].sum()), "auroc": auc, "p_value": pval})
    return pd.DataFrame(rows)


def _settings(representations, smooth_s, n_states_range, l1, prior, prior_kwargs, n_lags, max_iter,
              m_step_iter, tol, n_init, init_iter, test_fraction, kmeans_window_s) -> dict:
    """Validated settings of a states analysis, as :func:`_fold` takes them."""
    if not 0 < test_fraction < 1:
        raise InvalidInputError(f"test_fraction: expected in (0, 1), got {test_fraction}")
    if not set(representations) <= set(REPRESENTATIONS) or not len(representations):
        raise InvalidInputError(f"representations: expected a non-empty subset of {REPRESENTATIONS}, "
                                f"got {representations}")
    if min(n_states_range) < 2:
        raise InvalidInputError(f"n_states_range: expected numbers of states >= 2, got {list(n_states_range)}")
    return {"representations": list(representations), "smooth_s": [float(s) for s in smooth_s],
            "n_states_range": [int(s) for s in n_states_range], "l1": [float(v) for v in l1], "prior": prior,
            "prior_kwargs": prior_kwargs, "n_lags": n_lags, "max_iter": max_iter, "m_step_iter": m_step_iter,
            "tol": tol, "n_init": n_init, "init_iter": init_iter, "test_fraction": test_fraction,
            "kmeans_window_s": kmeans_window_s}


def analyse_cohort(
    cohort: xr.Dataset,
    *,
    neuron_fraction: float = 0.75,
    representations=("trace", "derivative"),
    smooth_s=(0.0,),
    n_states_range=(2, 3),
    prior: str = "none",
    l1=(0.01, 0.03, 0.1, 0.3),
    prior_kwargs: dict | None = None,
    n_lags: int = 5,
    max_iter: int = 50,
    m_step_iter: int = 30,
    tol: float = 1e-6,
    n_init: int = 3,
    init_iter: int | None = 5,
    test_fraction: float = 0.25,
    kmeans_window_s: float = 3.0,
    n_permutations: int = 10000,
    random_state: int | None = 0,
):
    """Leave-one-worm-out states with baselines, a final fit on every worm, anatomy AUROCs.

    A cohort of one animal, or without neuron identities, goes to
    :func:`analyse_single_animal` (validation in time, skipped steps stated).

    For each animal in turn: choose (representation, smoothing, S) of the HMM-GLM by
    held-out log-likelihood on the other animals (:func:`select_model`), fit one model
    across them (shared states, transitions, couplings), decode the held-out animal, and
    compare with a Gaussian HMM without couplings (same S, its own representation chosen
    the same way) and k-means (k = S) on Savitzky–Golay derivatives. Then the same
    selection and fit on every animal gives the couplings compared with the connectomes,
    next to ``|corr|`` of the differenced traces.

    Parameters
    ----------
    cohort : xarray.Dataset
        At least 2 animals with identities and ``behavior_reversal``; otherwise one animal
        (:func:`analyse_single_animal`).
    neuron_fraction : float
        Neurons identified in at least this fraction of the animals (:func:`shared_neurons`).
    representations : sequence of {"trace", "derivative"}
    smooth_s : sequence of float
        Causal smoothing time constants (s) tried (0 = none).
    n_states_range : sequence of int
        Numbers of states tried (by held-out likelihood on the training animals).
    prior : {"none", "gaussian", "onehot"}
        Coupling prior of the HMM-GLM.
    l1 : sequence of float
        With ``prior="none"``: L1 penalties tried, per training bin (the prior's ``l1``
        is this times the number of training bins), chosen by held-out likelihood.
    prior_kwargs, n_lags, max_iter, m_step_iter, tol, n_init, init_iter
        Passed to :class:`~neurodyn.states.model.HMMGLM` (Gaussian emissions, a bias per
        state); ``max_iter``, ``tol`` and ``n_init`` also to the Gaussian HMM. Restarts
        matter: EM from one start can settle with the states unseparated.
    test_fraction : float
        Last fraction of every training animal used to score the candidates.
    kmeans_window_s : float
        Savitzky–Golay window of the k-means baseline's derivative.
    n_permutations : int
        Neuron-label permutations per AUROC.
    random_state : int or None

    Returns
    -------
    dict
        ``behaviour`` (held-out animal × model: AMI with reversals, chosen settings),
        ``selection`` (every candidate's held-out LL, per fold), ``anatomy``
        (:func:`anatomy_auroc`), ``fit`` (xarray.Dataset of the final model on every
        animal: ``weights``, ``bias``, ``noise``, ``transmat``, ``prior_weights``,
        ``prior_connection``, ``correlation``, ``posterior``, ``viterbi_state``, behaviour).
    """
    if single_animal_cohort(cohort):
        return analyse_single_animal(
            cohort, neuron_fraction=neuron_fraction, representations=representations, smooth_s=smooth_s,
            n_states_range=n_states_range, prior=prior, l1=l1, prior_kwargs=prior_kwargs, n_lags=n_lags,
            max_iter=max_iter, m_step_iter=m_step_iter, tol=tol, n_init=n_init, init_iter=init_iter,
            test_fraction=test_fraction, kmeans_window_s=kmeans_window_s, n_permutations=n_permutations,
            random_state=random_state)
    if "behavior_reversal" not in cohort:
        raise InvalidInputError("cohort: expected a behavior_reversal variable (animal, time) for the "
                                "leave-one-worm-out comparison with behaviour")
    n_animals = cohort.sizes["animal"]
    p = _settings(representations, smooth_s, n_states_range, l1, prior, prior_kwargs, n_lags, max_iter,
                  m_step_iter, tol, n_init, init_iter, test_fraction, kmeans_window_s)
    names = shared_neurons(cohort, neuron_fraction)
    fs = float(cohort.attrs["sampling_rate_hz"])
    traces = [cohort["traces"].isel(animal=a).sel(neuron=names).values.astype(float) for a in range(n_animals)]
    animals = [str(a) for a in cohort["animal"].values]
    rev = cohort["behavior_reversal"].values.astype(int)
    seed = np.random.SeedSequence(random_state)
    fold_seeds = [int(s.generate_state(1)[0]) for s in seed.spawn(n_animals + 1)]
    behaviour, selections = [], []
    # One step per held-out animal and one for the final model on every animal.
    with Progress(n_animals + 1, "brain states: folds and final fit", every_s=STEP_EVERY_S,
                  heartbeat=True) as steps:
        for a in range(n_animals):
            train = [traces[i] for i in range(n_animals) if i != a]
            log.info("fold %d/%d: held-out animal %s", a + 1, n_animals, animals[a])
            steps.update(0, heldout_animal=animals[a])
            states, chosen, sel, _, _ = _fold(train, [traces[a]], fs, p, fold_seeds[a])
            steps.update(1)
            sel.insert(0, "heldout_animal", animals[a])
            selections.append(sel)
            for model, z in states.items():
                behaviour.append({"heldout_animal": animals[a], "model": model, **chosen[model],
                                  "n_neurons_present": int(np.isfinite(traces[a][0]).sum()), "n_neurons": len(names),
                                  "n_bins": int(len(z[0])),
                                  "ami_reversal": metrics.adjusted_mutual_information(rev[a], z[0])})
        behaviour = pd.DataFrame(behaviour)
        pooled = behaviour.groupby("model", sort=False)["ami_reversal"].agg(["mean", "min", "max"]).reset_index()
        log.info("held-out AMI with reversals:\n%s", pooled.to_string())

        # Final model on every animal (settings chosen on every animal the same way).
        fit_kwargs = {k: p[k] for k in GLM_KEYS}
        sel = select_model(traces, fs, kind="hmmglm", representations=p["representations"], smooth_s=p["smooth_s"],
                           n_states_range=p["n_states_range"], test_fraction=test_fraction, fit_kwargs=fit_kwargs,
                           l1=p["l1"], random_state=fold_seeds[-1])
        sel.insert(0, "heldout_animal", "none (all animals)")
        selections.append(sel)
        best = _best(sel)
        prep = CausalPreprocessor(best["representation"], best["smooth_s"], fs).fit(traces)
        values, masks = prep.transform(traces)
        glm = _fit_glm(values, best["n_states"], random_state=fold_seeds[-1], l1=best["l1"], masks=masks, **fit_kwargs)
        corr = difference_correlation(traces)
        scores = {"couplings": coupling_scores(glm.weights_), "prior_connection": _prior_connection(glm),
                  "correlation": corr}
        anatomy = anatomy_auroc(scores, names, n_permutations=n_permutations, random_state=fold_seeds[-1])
        fit = _fit_dataset(cohort, names, glm, prep, traces, corr, best, fs)
        steps.update(1, heldout_animal="none (final fit)")
        return {"behaviour": behaviour, "selection": pd.concat(selections, ignore_index=True), "anatomy": anatomy,
                "fit": fit}


def _prior_connection(model) -> np.ndarray:
    """The learned prior's connection score ``[post, pre]``: ``1 − α_none`` for the one-hot
    prior (prior probability of a connection of either sign), ``|W0|`` otherwise; zero diagonal."""
    pr = getattr(model.params_, "prior", {}) or {}
    if "A0" in pr:
        a0 = np.asarray(pr["A0"], float)
        e = np.exp(a0 - a0.max(-1, keepdims=True))
        P = 1.0 - (e / e.sum(-1, keepdims=True))[..., 1]
    else:
        P = np.abs(np.asarray(model.prior_weights_, float))
    P = P.copy()
    np.fill_diagonal(P, 0.0)
    return P


def _fit_dataset(cohort, names, glm, prep, traces, corr, best, fs):
    S = best["n_states"]
    states = np.stack(_decode(glm, prep, traces))
    posterior = np.stack(_posterior(glm, prep, traces))
    # Order states by their time in reversal so that figures compare across runs.
    if "behavior_reversal" in cohort:
        rev = cohort["behavior_reversal"].values.astype(float)
        frac = np.array([rev[states == s].mean() if np.any(states == s) else 0.0 for s in range(S)])
        order = np.argsort(frac, kind="stable")
    else:  # no behaviour: keep the fitted order
        order = np.arange(S)
    rank = np.empty_like(order)
    rank[order] = np.arange(S)
    history = np.asarray(getattr(glm, "history_", []), float)
    ds = xr.Dataset(
        {
            "weights": (("state", "post", "pre"), np.asarray(glm.weights_)[order]),
            "bias": (("state", "neuron"), np.asarray(glm.bias_)[order]),
            "noise": (("state", "neuron"), np.asarray(glm.noise_)[order]),
            "transmat": (("state", "state_to"), np.asarray(glm.transmat_)[np.ix_(order, order)]),
            "prior_weights": (("post", "pre"), np.asarray(glm.prior_weights_)),
            "prior_connection": (("post", "pre"), _prior_connection(glm)),
            "correlation": (("post", "pre"), corr),
            "posterior": (("animal", "time", "state"), posterior[..., order]),
            "viterbi_state": (("animal", "time"), rank[states]),
            "present": (("animal", "neuron"), np.stack([np.isfinite(x[0]) for x in traces])),
        },
        coords={"animal": cohort["animal"].values, "time": cohort["time"].values, "neuron": names, "post": names,
                "pre": names, "state": np.arange(S), "state_to": np.arange(S)},
        attrs={"n_states": int(S), "representation": best["representation"], "smooth_s": float(best["smooth_s"]),
               "l1": float(best["l1"]), "emission": "gaussian", "prior": str(glm.prior), "sampling_rate_hz": fs,
               "history": history,
               "converged": int(_converged(glm)), "n_iter": _n_iter(glm)},
    )
    if "behavior_reversal" in cohort:
        ds["behavior_reversal"] = (("animal", "time"), cohort["behavior_reversal"].values)
    if "behavior_velocity" in cohort:
        ds["behavior_velocity"] = (("animal", "time"), cohort["behavior_velocity"].values)
    return ds


def summary_markdown(behaviour: pd.DataFrame, anatomy: pd.DataFrame, command: str) -> str:
    """Markdown tables: held-out AMI per worm and model, anatomy AUROCs with p-values.

    The one-animal tables (:func:`analyse_single_animal`, with a ``note`` column) give the
    held-out log-likelihood in time and say which steps were skipped and why.
    """
    if "note" in behaviour.columns:
        return _single_animal_markdown(behaviour, anatomy, command)
    lines = ["## Brain states of real worms, leave-one-worm-out", "", f"Command: `{command}`", "",
             "**AMI of the states with reversals, held-out worms**", ""]
    models = list(dict.fromkeys(behaviour["model"]))
    worms = list(dict.fromkeys(behaviour["heldout_animal"]))
    lines.append("| held-out worm | " + " | ".join(models) + " |")
    lines.append("|---" * (len(models) + 1) + "|")
    for w in worms:
        sub = behaviour[behaviour.heldout_animal == w].set_index("model")
        lines.append(f"| {w} | " + " | ".join(f"{sub.loc[m, 'ami_reversal']:.3f}" for m in models) + " |")
    mean = behaviour.groupby("model")["ami_reversal"].mean()
    lines.append("| **mean** | " + " | ".join(f"**{mean[m]:.3f}**" for m in models) + " |")
    glm = behaviour[behaviour.model == "hmmglm"]
    lines += ["", "HMM-GLM settings chosen per fold (held-out LL on the training worms): "
              + "; ".join(f"{r.heldout_animal}: {r.representation}, S = {r.n_states}, l1 = {r.l1:g}"
                          for r in glm.itertuples()), ""]
    lines += ["**AUROC for anatomical contacts (neuron-label permutation p-value)**", ""]
    scores = list(dict.fromkeys(anatomy["score"]))
    lines.append("| connectome | kind | pairs (connected) | " + " | ".join(scores) + " |")
    lines.append("|---" * (len(scores) + 3) + "|")
    for (c, k), sub in anatomy.groupby(["connectome", "kind"], sort=False):
        sub = sub.set_index("score")
        first = sub.iloc[0]
        cells = [f"{sub.loc[s, 'auroc']:.3f} (p = {sub.loc[s, 'p_value']:.4f})" for s in scores]
        lines.append(f"| {c} | {k} | {first.n_pairs} ({first.n_connected}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def skip_reasons(cohort: xr.Dataset) -> dict:
    """Why the cross-animal, behaviour and anatomy steps of the states analysis cannot run.

    Returns
    -------
    dict with keys ``leave_one_worm_out``, ``behaviour``, ``anatomy``: a reason
    (``"skipped: ..."``) or None when the step can run.
    """
    from neurodyn.data.cohort import has_identities

    n_animals = cohort.sizes["animal"]
    ident = has_identities(cohort)
    return {
        "leave_one_worm_out": (f"skipped: {n_animals} animal{'s' if n_animals != 1 else ''}"
                               + ("" if ident else ", no neuron identities")
                               + "; states are validated in time on one animal instead")
        if n_animals < 2 or not ident else None,
        "behaviour": None if "behavior_reversal" in cohort else "skipped: no behavior_reversal in the recording",
        "anatomy": None if ident else "skipped: no neuron identities, so no anatomical contacts to compare with",
    }


def single_animal_cohort(cohort: xr.Dataset) -> bool:
    """Whether :func:`analyse_cohort` takes the one-animal path (one animal, or no identities)."""
    from neurodyn.data.cohort import has_identities

    return cohort.sizes["animal"] < 2 or not has_identities(cohort)


def analyse_single_animal(
    cohort: xr.Dataset,
    *,
    neuron_fraction: float = 0.75,
    representations=("trace", "derivative"),
    smooth_s=(0.0,),
    n_states_range=(2, 3),
    prior: str = "none",
    l1=(0.01, 0.03, 0.1, 0.3),
    prior_kwargs: dict | None = None,
    n_lags: int = 5,
    max_iter: int = 50,
    m_step_iter: int = 30,
    tol: float = 1e-6,
    n_init: int = 3,
    init_iter: int | None = 5,
    test_fraction: float = 0.25,
    kmeans_window_s: float = 3.0,
    n_permutations: int = 10000,
    random_state: int | None = 0,
):
    """States of one animal, validated in time: fit on the first part, score on the last ``test_fraction``.

    The same causal preprocessing and model selection as :func:`analyse_cohort`: the
    HMM-GLM's (representation, smoothing, S, l1) are chosen by held-out likelihood on
    the last ``test_fraction`` **of the training part** (:func:`select_model`), the
    model is refitted on the whole training part and scored on the test part by
    :func:`heldout_log_likelihood` (nats per neuron-bin of the traces), next to the
    Gaussian HMM (same S, its own representation) and k-means. Every neuron (ROI) of
    the animal enters; identities are not needed. AMI with reversals is computed only
    when ``behavior_reversal`` exists, anatomy AUROCs only when identities exist; else
    their rows say ``skipped: <reason>``. Parameters as :func:`analyse_cohort`
    (``neuron_fraction`` has no effect on one animal: every neuron with a finite,
    non-constant trace enters; ``n_permutations`` feeds the anatomy step when it runs).

    Returns
    -------
    dict with the same keys as :func:`analyse_cohort`; ``behaviour`` has one row per
    model with ``heldout_ll_per_entry`` and a ``note`` column; ``anatomy`` has a
    ``note`` column.
    """
    n_animals = cohort.sizes["animal"]
    if n_animals != 1:
        raise InvalidInputError(f"cohort: {n_animals} animals without neuron identities; the states analysis of "
                                f"recordings without identities takes one animal per dataset (list each animal "
                                f"as its own dataset)")
    p = _settings(representations, smooth_s, n_states_range, l1, prior, prior_kwargs, n_lags, max_iter,
                  m_step_iter, tol, n_init, init_iter, test_fraction, kmeans_window_s)
    reasons = skip_reasons(cohort)
    x_all = cohort["traces"].isel(animal=0).values.astype(float)
    keep = np.isfinite(x_all).any(0) & (np.nanstd(x_all, 0) > 0)
    names = [str(n) for n, k in zip(cohort["neuron"].values, keep) if k]
    if len(names) < 2:
        raise InvalidInputError(f"cohort.traces: fewer than 2 neurons with a finite, non-constant trace in "
                                f"animal {cohort['animal'].values[0]}; expected at least 2")
    x = x_all[:, keep]
    fs = float(cohort.attrs["sampling_rate_hz"])
    animal = str(cohort["animal"].values[0])
    cut = int(round(len(x) * (1 - test_fraction)))
    if cut < 4 or cut >= len(x):
        raise InvalidInputError(f"test_fraction: {test_fraction} leaves an empty training or test block "
                                f"of {len(x)} frames")
    seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
    train = [x[:cut]]
    states, chosen, sel, glm, prep = _fold(train, [x[cut:]], fs, p, seed)
    sel.insert(0, "heldout_animal", f"{animal} (first {1 - test_fraction:.0%})")
    # Held-out LL of the last part given the first, for the two likelihood models.
    hmm_best = chosen["gaussian_hmm"]
    prep_h = CausalPreprocessor(hmm_best["representation"], hmm_best["smooth_s"], fs).fit(train)
    hmm = _fit_hmm(*prep_h.transform(train), chosen["hmmglm"]["n_states"], max_iter, tol, n_init, seed)
    ll = {"hmmglm": heldout_log_likelihood(glm, prep, [x], [cut]),
          "gaussian_hmm": heldout_log_likelihood(hmm, prep_h, [x], [cut])}
    rev = cohort["behavior_reversal"].values[0].astype(int)[cut:] if reasons["behaviour"] is None else None
    behaviour = []
    for model, z in states.items():
        lln = ll[model][0] / ll[model][1] if model in ll else np.nan
        behaviour.append({"heldout_animal": f"{animal} (last {test_fraction:.0%})", "model": model, **chosen[model],
                          "n_neurons_present": len(names), "n_neurons": len(names), "n_bins": int(len(z[0])),
                          "heldout_ll_per_entry": lln,
                          "ami_reversal": (metrics.adjusted_mutual_information(rev, z[0]) if rev is not None
                                           else np.nan),
                          "note": "; ".join(r for r in (reasons["leave_one_worm_out"], reasons["behaviour"]) if r)})
    behaviour = pd.DataFrame(behaviour)
    log.info("one animal, held-out in time:\n%s", behaviour.to_string())
    corr = difference_correlation([x])
    if reasons["anatomy"] is None:
        ident = [i for i, n in enumerate(names) if is_identified(n)]
        sub = np.ix_(ident, ident)
        scores = {"couplings": coupling_scores(glm.weights_)[sub], "prior_connection": _prior_connection(glm)[sub],
                  "correlation": corr[sub]}
        anatomy = anatomy_auroc(scores, [names[i] for i in ident], n_permutations=n_permutations,
                                random_state=seed)
        anatomy["note"] = "one animal: couplings of this animal only"
    else:
        anatomy = pd.DataFrame([{"connectome": c, "kind": "any", "score": s, "n_neurons": 0, "n_pairs": 0,
                                 "n_connected": 0, "auroc": np.nan, "p_value": np.nan, "note": reasons["anatomy"]}
                                for c in CONNECTOMES for s in ("couplings", "prior_connection", "correlation")])
    fit = _fit_dataset(cohort, names, glm, prep, [x], corr, chosen["hmmglm"], fs)
    fit.attrs.update({"validation": f"in time: fit on the first {1 - test_fraction:.0%}, scored on the rest",
                      "train_frames": int(cut), "skipped": "; ".join(r for r in reasons.values() if r)})
    return {"behaviour": behaviour, "selection": sel, "anatomy": anatomy, "fit": fit}


def _fmt(v, spec=".3f", skipped="skipped"):
    return skipped if not np.isfinite(v) else format(v, spec)


def _single_animal_markdown(behaviour, anatomy, command):
    b = behaviour.iloc[0]
    lines = ["## Brain states of one animal, validated in time", "", f"Command: `{command}`", "",
             f"Held-out block: {b.heldout_animal} ({b.n_bins} bins, {b.n_neurons} neurons); every model was "
             "fitted, with its settings chosen, on the earlier part of the recording only.", "",
             "| model | settings | held-out LL (nats / neuron-bin) | AMI with reversals |", "|---|---|---|---|"]
    for r in behaviour.itertuples():
        lines.append(f"| {r.model} | {r.representation}, S = {r.n_states}, l1 = {r.l1:g} | "
                     f"{_fmt(r.heldout_ll_per_entry, '.4f', 'not a likelihood model')} | "
                     f"{_fmt(r.ami_reversal)} |")
    notes = [n for n in dict.fromkeys(str(n) for n in behaviour["note"]) if n and n != "nan"]
    lines += ["", "Not run: " + "; ".join(notes) + "." if notes else "", "",
              "**AUROC for anatomical contacts**", ""]
    if anatomy["auroc"].isna().all():
        lines.append("Not run: " + "; ".join(dict.fromkeys(str(n) for n in anatomy["note"])) + ".")
    else:
        for r in anatomy.itertuples():
            lines.append(f"- {r.connectome} {r.kind} {r.score}: {r.auroc:.3f} (p = {r.p_value:.4f}, "
                         f"{r.n_pairs} pairs); {r.note}")
    return "\n".join(lines) + "\n"
