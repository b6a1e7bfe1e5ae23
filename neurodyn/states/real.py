"""Brain states of whole-brain calcium recordings, checked against behaviour and anatomy.

Input: a cohort (``neurodyn.data`` cohort format: ``traces`` (animal, time, neuron),
``present``, ``behavior_reversal``, ``behavior_velocity``, ``sampling_rate_hz``).

Emission choice. The C. elegans recordings are z-scored GCaMP traces at ~1.7 Hz. We use
**Gaussian autoregressive GLM emissions on lightly smoothed, z-scored traces** with one
bias per state and neuron (``representation="zscore"``):

- the behavioural states of the worm (forward crawling, reversals, turns) are
  expressed as sustained *levels* of the command-interneuron and motor-neuron
  activity (AVA/AVE/RIM high in reversal, AVB/RIB high in forward), which a per-state
  bias on the trace captures and an event representation discards;
- event counts derived from the derivative (``representation="events"``, Poisson) are
  sparse at this frame rate and throw away the slow component; the derivative
  (``"derivative"``, Gaussian) is available for comparison;
- the autoregressive history term absorbs the indicator's decay, so states are not
  just "calcium is decaying"; its off-diagonal part is the functional coupling whose
  prior (the one-hot ``A0``) we compare with the anatomical connectome.

Held-out log-likelihood is measured on the last ``test_fraction`` of every animal's
recording (a contiguous block, so the test bins are not interleaved with training bins
whose history they share).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xarray as xr

from neurodyn.data import preprocess
from neurodyn.errors import InvalidInputError
from neurodyn.states import metrics
from neurodyn.states.model import HMMGLM
from neurodyn.states.selection import best_n_states, select_n_states

__all__ = [
    "select_state_neurons",
    "calcium_sequences",
    "fit_brain_states",
    "behaviour_agreement",
    "prior_anatomy_auroc",
]

log = logging.getLogger("neurodyn.states")


def select_state_neurons(cohort: xr.Dataset, n_neurons: int, candidates=None) -> list[str]:
    """The ``n_neurons`` most active identified neurons recorded in every animal.

    Activity is the standard deviation of the trace after Gaussian smoothing with
    σ = 2 s, averaged over animals: the traces are z-scored (unit variance), so this is
    the fraction of a neuron's variance in slow, structured fluctuations rather than
    frame-to-frame noise. ``candidates`` restricts the choice (e.g. to neurons in the
    anatomical connectome).
    """
    present = cohort["present"].values.all(axis=0)
    names = [str(n) for n in cohort["neuron"].values]
    keep = [i for i, n in enumerate(names) if present[i] and (candidates is None or n in set(candidates))]
    if not keep:
        raise InvalidInputError("cohort.present: no neuron is recorded in every animal (and in candidates)")
    tr = cohort["traces"].values[:, :, keep].astype(float)
    fs = float(cohort.attrs["sampling_rate_hz"])
    smooth = np.stack([preprocess.gaussian_smooth(preprocess.zscore(x), 2.0, fs) for x in tr])
    with np.errstate(invalid="ignore"):
        activity = np.nanmean(np.nanstd(smooth, axis=1), axis=0)
    order = np.argsort(-np.nan_to_num(activity, nan=-1.0), kind="stable")[:n_neurons]
    return [names[keep[i]] for i in sorted(order)]


def calcium_sequences(cohort: xr.Dataset, neurons, representation: str = "zscore", smooth_s: float = 1.0):
    """One (T, N) array per animal in the chosen representation.

    ``zscore``: Gaussian-smoothed (σ = ``smooth_s`` s) traces, z-scored per animal and
    neuron; ``derivative``: Savitzky–Golay derivative (window 3 s), z-scored;
    ``events``: :func:`neurodyn.data.preprocess.calcium_to_events` counts. Missing frames
    are filled with 0 (the mean) so that the history features stay defined.
    """
    fs = float(cohort.attrs["sampling_rate_hz"])
    out = []
    for a in range(cohort.sizes["animal"]):
        x = cohort["traces"].isel(animal=a).sel(neuron=list(neurons)).values.astype(float)
        if representation == "zscore":
            x = preprocess.zscore(preprocess.gaussian_smooth(x, smooth_s, fs) if smooth_s else x)
        elif representation == "derivative":
            x = preprocess.zscore(preprocess.savgol_derivative(x, 3.0, fs))
        elif representation == "events":
            x = preprocess.calcium_to_events(x, fs, smooth_s=smooth_s or None).astype(float)
        else:
            raise InvalidInputError(
                f"representation: expected 'zscore', 'derivative' or 'events', got {representation!r}"
            )
        out.append(np.nan_to_num(x, nan=0.0))
    return out


def fit_brain_states(
    cohort: xr.Dataset,
    *,
    n_neurons: int = 20,
    n_states_range=(1, 2, 3, 4),
    n_states: int | None = None,
    representation: str = "zscore",
    smooth_s: float = 1.0,
    prior: str = "onehot",
    prior_kwargs: dict | None = None,
    test_fraction: float = 0.25,
    neurons=None,
    fit: dict | None = None,
    seed: int = 0,
):
    """Model selection over ``S`` and the final fit on whole recordings.

    Parameters
    ----------
    cohort : xarray.Dataset
    n_neurons : int
        Neurons modelled (the most active identified ones, :func:`select_state_neurons`).
    n_states_range : iterable of int
        ``S`` values compared by held-out log-likelihood and BIC.
    n_states : int, optional
        ``S`` of the final fit; default: the best held-out log-likelihood among ``S ≥ 2``.
    representation, smooth_s : see :func:`calcium_sequences`.
    prior, prior_kwargs : see :class:`~neurodyn.states.model.HMMGLM`.
    test_fraction : float
        Last fraction of every recording held out for model selection.
    neurons : list of str, optional
        Candidate neurons (e.g. those in the connectome).
    fit : dict
        Further HMMGLM arguments (``max_iter``, ``m_step_iter``, ``n_init``, ...).
    seed : int

    Returns
    -------
    result : xarray.Dataset
        ``weights`` (state, post, pre), ``bias``/``noise`` (state, neuron),
        ``transmat`` (state, state_to), ``prior_weights``/``prior_connection`` (post, pre),
        ``posterior`` (animal, time, state), ``viterbi_state`` (animal, time), behaviour copied
        from the cohort; attrs ``n_states``, ``representation``, ``emission``.
    selection : pandas.DataFrame
        :func:`~neurodyn.states.selection.select_n_states` table.
    """
    if not 0 < test_fraction < 1:
        raise InvalidInputError(f"test_fraction: expected in (0, 1), got {test_fraction}")
    names = select_state_neurons(cohort, n_neurons, neurons)
    seqs = calcium_sequences(cohort, names, representation, smooth_s)
    emission = "poisson" if representation == "events" else "gaussian"
    if prior == "onehot":
        # Self-history terms model the indicator's decay, not connections: keep them
        # outside the type prior (see OneHotPrior.free_diagonal).
        prior_kwargs = {"free_diagonal": True, **(prior_kwargs or {})}
    kwargs = {
        "emission": emission,
        "prior": prior,
        "prior_kwargs": prior_kwargs,
        "state_bias": True,
        "warm_start": "gaussian" if prior == "onehot" else None,
        "random_state": seed,
        **(fit or {}),
    }
    cut = [int(round(len(x) * (1 - test_fraction))) for x in seqs]
    train = [x[:c] for x, c in zip(seqs, cut)]
    test = [x[c:] for x, c in zip(seqs, cut)]
    selection = select_n_states(train, test, n_states_range, **kwargs)
    if n_states is None:
        multi = selection[selection["n_states"] >= 2]
        n_states = best_n_states(multi if len(multi) else selection)
    log.info("model selection:\n%s\nfinal fit with S = %d", selection.to_string(), n_states)
    model = HMMGLM(n_states, **kwargs).fit(seqs)
    posterior = np.stack(model.predict_proba(seqs))
    states = np.stack(model.predict(seqs))
    # Order states by their time in reversal so that figures are comparable across runs.
    # without behaviour (e.g. a suite2p mouse recording) the states keep the model's order
    rev = cohort["behavior_reversal"].values.astype(float) if "behavior_reversal" in cohort else np.zeros(states.shape)
    frac = np.array([rev[states == s].mean() if np.any(states == s) else 0.0 for s in range(n_states)])
    order = np.argsort(frac)
    rank = np.empty_like(order)
    rank[order] = np.arange(n_states)
    states = rank[states]
    posterior = posterior[..., order]
    pr_conn = (
        1.0 - _softmax(model.params_.prior["A0"])[..., 1]
        if prior == "onehot"
        else np.abs(model.prior_weights_)
    )
    ds = xr.Dataset(
        {
            "weights": (("state", "post", "pre"), model.weights_[order]),
            "bias": (("state", "neuron"), model.bias_[order]),
            "transmat": (("state", "state_to"), model.transmat_[np.ix_(order, order)]),
            "prior_weights": (("post", "pre"), model.prior_weights_),
            "prior_connection": (("post", "pre"), pr_conn),
            "prior_adjacency": (("post", "pre"), model.prior_adjacency_),
            "posterior": (("animal", "time", "state"), posterior),
            "viterbi_state": (("animal", "time"), states),
            **{v: (("animal", "time"), cohort[v].values) for v in ("behavior_reversal", "behavior_velocity") if v in cohort},
        },
        coords={
            "animal": cohort["animal"].values,
            "time": cohort["time"].values,
            "neuron": names,
            "post": names,
            "pre": names,
            "state": np.arange(n_states),
            "state_to": np.arange(n_states),
        },
        attrs={
            "n_states": int(n_states),
            "representation": representation,
            "emission": emission,
            "prior": prior,
            "sampling_rate_hz": float(cohort.attrs["sampling_rate_hz"]),
            "history": np.asarray(model.history_, float),
        },
    )
    if model.noise_ is not None:
        ds["noise"] = (("state", "neuron"), model.noise_[order])
    return ds, selection


def _softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def behaviour_agreement(result: xr.Dataset) -> pd.DataFrame:
    """Adjusted mutual information of the Viterbi states with reversal/forward behaviour.

    Also the AMI with velocity binned into terciles, per animal and pooled, and the
    fraction of reversal bins in the state that is most often reversing.
    """
    rows = []
    z_all = result["viterbi_state"].values
    rev_all = result["behavior_reversal"].values.astype(int)
    vel_all = result["behavior_velocity"].values.astype(float)
    animals = [str(a) for a in result["animal"].values]
    for label, idx in [(a, [i]) for i, a in enumerate(animals)] + [("pooled", list(range(len(animals))))]:
        z = z_all[idx].ravel()
        rev = rev_all[idx].ravel()
        vel = vel_all[idx].ravel()
        ok = np.isfinite(vel)
        terciles = np.digitize(vel, np.nanquantile(vel, [1 / 3, 2 / 3]))
        s_rev = np.bincount(z, weights=rev, minlength=z.max() + 1) / np.maximum(np.bincount(z), 1)
        rows.append(
            {
                "animal": label,
                "n_bins": int(z.size),
                "n_states": int(result.attrs["n_states"]),
                "ami_reversal": metrics.adjusted_mutual_information(rev, z),
                "ami_velocity_terciles": metrics.adjusted_mutual_information(terciles[ok], z[ok]),
                "reversal_fraction_of_most_reversing_state": float(s_rev.max()),
                "reversal_fraction_overall": float(rev.mean()),
            }
        )
    return pd.DataFrame(rows)


def prior_anatomy_auroc(result: xr.Dataset, connectomes=("witvliet_2020_8", "witvliet_2020_7", "white_1986_whole")):
    """AUROC of the learned prior for anatomical synapse presence among identified pairs.

    Scores: ``prior_connection`` (``1 − α_none`` for the one-hot prior: the prior
    probability of a connection of either sign) and the mean over states of ``|W_s|``.
    Pairs ``post ← pre`` with ``post ≠ pre``; a pair is positive when the connectome has
    at least one contact ``pre → post`` of the given kind (gap junctions count both
    ways). Neurons absent from a connectome are left out for that connectome.
    """
    from sklearn.metrics import roc_auc_score

    from neurodyn.data.anatomy import connectome_matrix, connectome_neurons

    names = [str(n) for n in result["pre"].values]
    rows = []
    scores = {
        "prior_connection": result["prior_connection"].values,
        "mean_abs_state_weight": np.abs(result["weights"].values).mean(0),
    }
    for name in connectomes:
        known = set(connectome_neurons(name))
        keep = np.array([n in known for n in names])
        for kind in ("chemical", "electrical", "any"):
            C = connectome_matrix(names, name=name, kind=kind)  # [pre, post]
            present = (C.T > 0)[np.ix_(keep, keep)]  # -> [post, pre]
            off = ~np.eye(keep.sum(), dtype=bool)
            y = present[off]
            for score_name, S in scores.items():
                s = S[np.ix_(keep, keep)][off]
                auc = roc_auc_score(y, s) if 0 < y.sum() < y.size else np.nan
                rows.append(
                    {
                        "connectome": name,
                        "kind": kind,
                        "score": score_name,
                        "n_neurons": int(keep.sum()),
                        "n_pairs": int(y.size),
                        "n_connected": int(y.sum()),
                        "auroc": float(auc),
                    }
                )
    return pd.DataFrame(rows)
