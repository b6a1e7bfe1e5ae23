"""What do the HMM-GLM states of the real worms track? A diagnostic, not a benchmark.

One HMM-GLM per setting is fitted on **all five worms** (library settings of
:func:`neurodyn.states.real.analyse_cohort`, except a smaller EM budget), the Viterbi
states are decoded, and for each setting the script reports, per state: occupancy per
worm (are states "which worm" states?), mean dwell time, time in reversal, mean of the
(published, z-scored) traces of reversal-circuit neurons (AVA, AVE, AIB, RIM, AVD) and
forward-circuit neurons (RIB, RID), mean behaviour (velocity, |head angle|, curvature),
the innovation variance relative to the floor; and per fit, AMI of the states with
reversals, with the sign of velocity, with the worm's identity and with the recording's
halves; and which neurons dominate the state-discriminating log-likelihood. The
Gaussian HMM is fitted alongside, at S = 2 also with a sticky transition prior
(``stickiness`` = 0.1 and 1 times the number of bins).

Then, for S = 2 and 3, it asks which partition of the bins the likelihood prefers
(:func:`partition_log_likelihood`): the reversal labels, the EM states of both models,
k-means on smoothed derivatives and a single state, each given the HMM-GLM's emission
family, in-sample and on the last quarter of every worm; and the sticky-prior strength
at which the reversal partition would catch up with the HMM-GLM's.

Usage::

    NEURODYN_SHARED=/work/shared OMP_NUM_THREADS=1 nice -n 5 python benchmarks/states_real_diagnose.py

Writes ``benchmarks/results/states_real_diagnose{.csv,_fits.json,_partitions.csv}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from states_real_worms import load_worms  # noqa: E402

from neurodyn.data import build_cohort  # noqa: E402
from neurodyn.states import metrics  # noqa: E402
from neurodyn.states.baselines import GaussianHMM, kmeans_states  # noqa: E402
from neurodyn.states.emissions import exponential_basis, history_features  # noqa: E402
from neurodyn.states.real import (  # noqa: E402
    CausalPreprocessor, _decode, _fit_glm, _kmeans_features, shared_neurons)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "states_real_diagnose"
REVERSAL = ("AVAL", "AVAR", "AVEL", "AVER", "AIBL", "AIBR", "RIML", "RIMR", "AVDL", "AVDR")
FORWARD = ("RIBL", "RID")
HEAD = ("SMDVL", "SMDVR", "RMDDL", "RMDDR", "RMDVL", "RMDVR", "RMEL", "RMER", "RMED")


def dwell_s(z, fs):
    """Mean run length (s) of each state value in a sequence."""
    runs = {}
    start = 0
    for t in range(1, len(z) + 1):
        if t == len(z) or z[t] != z[start]:
            runs.setdefault(int(z[start]), []).append(t - start)
            start = t
    return {s: float(np.mean(r)) / fs for s, r in runs.items()}


def partition_log_likelihood(values, masks, labels, n_lags=5, ridge=1e-3, test_fraction=0.25,
                             heldout_ridges=(1e-3, 0.1, 1.0, 10.0)):
    """Likelihood of a **hard partition** of the bins under the HMM-GLM's emission family.

    Given state labels (one int array per sequence), every state gets the Gaussian
    autoregressive emission of the HMM-GLM (``x_t = b_s + W_s h_t + ε``, ``h`` the same
    exponential-basis history, per-state per-neuron variance), fitted by weighted least
    squares on its bins (ridge ``ridge`` per bin, the intercept unpenalised), and the
    chain gets the labels' transition frequencies (one pseudo-count per entry). Returns
    the marginal log-likelihood ``ln p(x)`` (forward algorithm, observed entries only)
    and the complete-data log-likelihood's emission and transition parts, all in nats
    per observed neuron-bin. Every partition is estimated the same way, so they compare.
    ``heldout_ll_per_entry``: the emissions and chain fitted on the first
    ``1 − test_fraction`` of every sequence only, ``Σ ln p(x[cut:] | x[:cut])`` on the rest
    (forward filter), so partitions with more states gain nothing from their extra
    parameters; the best over ``heldout_ridges`` (ridge per bin of the state), so that a
    partition with a small state is not penalised for overfitting it. Missing entries
    (0 in ``values``, False in ``masks``) are left out of the likelihood and the
    variances but stay, at 0, in the least-squares targets and the history.
    """
    basis = exponential_basis(n_lags)
    X = np.concatenate(values)
    M = np.concatenate(masks).astype(float)
    Z = np.concatenate([np.column_stack([history_features(v, basis), np.ones(len(v))]) for v in values])
    lab = np.concatenate(labels).astype(int)
    lengths = [len(v) for v in values]
    cuts = [int(round(n * (1 - test_fraction))) for n in lengths]
    full = _partition_ll(X, M, Z, lab, labels, lengths, np.ones(len(X), bool), ridge)
    train = np.concatenate([np.arange(n) < c for n, c in zip(lengths, cuts)])
    held = {r: _partition_ll(X, M, Z, lab, [z[:c] for z, c in zip(labels, cuts)], lengths, train, r, cuts)
            for r in heldout_ridges}
    best = max(held, key=held.get)
    return {**full, "heldout_ll_per_entry": held[best], "heldout_ridge": best,
            **{f"heldout_ll_ridge_{r:g}": v for r, v in held.items()}}


def _partition_ll(X, M, Z, lab, labels, lengths, train, ridge, cuts=None):
    from neurodyn.states import messages
    S, N = int(lab.max()) + 1, X.shape[1]
    eta = np.zeros((len(X), S, N))
    var = np.ones((S, N))
    reg = ridge * np.eye(N + 1)
    reg[-1, -1] = 0.0
    for s in range(S):
        w = ((lab == s) & train).astype(float)
        if w.sum() < 2:
            continue
        Zw = Z * w[:, None]
        B = np.linalg.solve(Zw.T @ Z + reg * w.sum(), Zw.T @ X)
        eta[:, s] = Z @ B
        r2 = (X - eta[:, s]) ** 2 * M
        var[s] = np.maximum((w[:, None] * r2).sum(0) / np.maximum((w[:, None] * M).sum(0), 1.0), 1e-3)
    lp = (-0.5 * ((X[:, None] - eta) ** 2 / var[None] + np.log(2 * np.pi * var)[None]) * M[:, None]).sum(2)
    C = np.ones((S, S))
    first = np.ones(S)
    for z in labels:
        np.add.at(C, (z[:-1], z[1:]), 1.0)
        first[z[0]] += 1
    log_A = np.log(C / C.sum(1, keepdims=True))
    log_pi = np.log(first / first.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)])
    if cuts is not None:  # held-out: ln p(x[cut:] | x[:cut]), per observed held-out entry
        total, count = 0.0, 0.0
        for a, b, c in zip(starts[:-1], starts[1:], cuts):
            total += float(messages.forward_backward(log_pi, log_A, lp[a:b]).log_likelihood
                           - messages.forward_backward(log_pi, log_A, lp[a:a + c]).log_likelihood)
            count += M[a + c:b].sum()
        return total / count
    marginal = sum(float(messages.forward_backward(log_pi, log_A, lp[a:b]).log_likelihood)
                   for a, b in zip(starts[:-1], starts[1:]))
    emission = float(lp[np.arange(len(lab)), lab].sum())
    transition = float(sum(log_A[z[:-1], z[1:]].sum() + log_pi[z[0]] for z in labels))
    n = M.sum()
    return {"marginal_ll_per_entry": marginal / n, "emission_ll_per_entry": emission / n,
            "transition_ll_per_entry": transition / n, "n_states": S, "n_entries": int(n),
            "sum_log_self_transition": float(np.trace(log_A)),
            "self_transition": ";".join(f"{a:.3f}" for a in np.exp(np.diag(log_A)))}


def tercile(x):
    """0/1/2 by the pooled terciles of ``x`` (NaN -> middle)."""
    x = np.asarray(x, float)
    q = np.nanquantile(x, [1 / 3, 2 / 3])
    return np.where(np.isnan(x), 1, (x > q[0]).astype(int) + (x > q[1]).astype(int))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("NEURODYN_SHARED", REPO.parent / "shared")))
    ap.add_argument("--max-iter", type=int, default=20)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    recs, _, _ = load_worms(args.shared)
    cohort = build_cohort(recs, min_animals=1)
    names = shared_neurons(cohort)
    fs = float(cohort.attrs["sampling_rate_hz"])
    traces = [cohort["traces"].isel(animal=a).sel(neuron=names).values.astype(float)
              for a in range(cohort.sizes["animal"])]
    animals = [str(a) for a in cohort["animal"].values]
    n_worms = len(animals)
    rev = cohort["behavior_reversal"].values.astype(int)
    vel = cohort["behavior_velocity"].values.astype(float)
    head = np.abs(cohort["behavior_head_angle"].values.astype(float))
    curv = cohort["behavior_worm_curvature"].values.astype(float)
    T = rev.shape[1]
    # Behaviour and nuisance labels to compare the states with.
    raw = [np.asarray(x) for x in traces]
    fluct = np.stack([np.nanmean(np.diff(x, axis=0, prepend=x[:1]) ** 2, axis=1) for x in raw])
    fluct = np.stack([np.convolve(f, np.ones(5) / 5, mode="same") for f in fluct])
    targets = {"reversal": rev, "velocity_sign": (np.nan_to_num(vel) < 0).astype(int),
               "abs_head_angle_tercile": tercile(head.ravel()).reshape(head.shape),
               "population_fluctuation_tercile": tercile(fluct.ravel()).reshape(fluct.shape)}
    half = np.tile((np.arange(T) >= T // 2).astype(int), n_worms)
    worm = np.repeat(np.arange(n_worms), T)
    runs = [dwell_s(r, fs).get(1, 0.0) for r in rev]
    behaviour_stats = {"fraction_reversal_per_worm": rev.mean(1).tolist(), "mean_reversal_duration_s": runs,
                       "n_reversals_per_worm": [int(((r[1:] == 1) & (r[:-1] == 0)).sum() + r[0]) for r in rev]}
    print(behaviour_stats, flush=True)
    idx = {n: i for i, n in enumerate(names)}
    settings = [("derivative", 3, 0.01), ("derivative", 2, 0.01), ("derivative", 5, 0.01), ("trace", 2, 0.01),
                ("trace", 3, 0.01)]
    kw = dict(prior="none", prior_kwargs=None, n_lags=5, max_iter=args.max_iter, m_step_iter=30, tol=1e-6,
              n_init=3, init_iter=5)
    rows, fits, partitions = [], [], []
    for rep, S, l1 in settings:
        prep = CausalPreprocessor(rep, 0.0, fs).fit(traces)
        values, masks = prep.transform(traces)
        models = {}
        n_bins = sum(len(v) for v in values)
        # The sticky prior (κ pseudo-counts per state, here a tenth of and all the bins)
        # only on the Gaussian HMM: the HMM-GLM's transition M-step has no prior.
        stick = {"hmmglm": None, "gaussian_hmm": 0.0}
        if S == 2:
            stick.update({"gaussian_hmm_sticky_0.1": 0.1 * n_bins, "gaussian_hmm_sticky_1": 1.0 * n_bins})
        for mname, kappa in stick.items():
            t0 = time.perf_counter()
            models[mname] = (_fit_glm(values, S, random_state=0, l1=l1, masks=masks, **kw) if kappa is None else
                             GaussianHMM(S, max_iter=50, tol=1e-6, n_init=3, stickiness=kappa,
                                         random_state=0).fit(values, masks))
            models[mname].fit_s_ = time.perf_counter() - t0
        decoded = {}
        for mname, model in models.items():
            z = _decode(model, prep, traces)
            decoded[mname] = z
            Z = np.concatenate(z)
            fit = {"model": mname, "representation": rep, "n_states": S, "l1": l1 if mname == "hmmglm" else 0.0,
                   "stickiness": getattr(model, "stickiness", 0.0), "fit_s": round(model.fit_s_, 1),
                   "mean_dwell_s": float(np.mean([d for zz in z for d in dwell_s(zz, fs).values()]))}
            for tname, lab in targets.items():
                fit[f"ami_{tname}_per_worm"] = [metrics.adjusted_mutual_information(lab[a], z[a])
                                                for a in range(n_worms)]
                fit[f"ami_{tname}_mean"] = float(np.mean(fit[f"ami_{tname}_per_worm"]))
            fit["ami_worm_identity"] = metrics.adjusted_mutual_information(worm, Z)
            fit["ami_recording_half"] = metrics.adjusted_mutual_information(half, Z)
            if mname == "hmmglm":
                var = np.asarray(model.noise_, float)
                fit["variance_at_floor_fraction"] = float(np.mean(var <= 1.0001e-3))
                fit["variance_min"] = float(var.min())
                fit["converged"] = bool(getattr(model, "converged_", False))
                # Which neurons carry the state discrimination: per neuron, the sum over bins
                # and states of |ln p_s(x_tn) − mean over states|.
                W, b = np.asarray(model.weights_), np.asarray(model.bias_)
                basis = exponential_basis(5)
                contrib = np.zeros(len(names))
                for x, m in zip(values, masks):
                    H = history_features(x, basis)
                    eta = (H @ W.reshape(S * len(names), len(names)).T).reshape(-1, S, len(names)) + b[None]
                    lp = -0.5 * ((x[:, None, :] - eta) ** 2 / var[None] + np.log(var)[None]) * m[:, None, :]
                    contrib += np.abs(lp - lp.mean(1, keepdims=True)).sum((0, 1))
                share = contrib / contrib.sum()
                top = np.argsort(share)[::-1][:10]
                fit["top_discriminating_neurons"] = {names[i]: round(float(share[i]), 4) for i in top}
                fit["top10_share"] = float(share[top].sum())
                fit["reversal_neurons_share"] = float(sum(share[idx[n]] for n in REVERSAL if n in idx))
            fit["transmat_diag"] = np.diag(np.asarray(model.transmat_)).tolist()
            fits.append(fit)
            print(fit, flush=True)
            allraw = np.concatenate(raw)
            for s in range(S):
                sel = Z == s
                occ = [float(np.mean(z[a] == s)) for a in range(n_worms)]
                dw = [dwell_s(z[a], fs).get(s, 0.0) for a in range(n_worms)]
                r = {"model": mname, "representation": rep, "n_states": S, "state": s,
                     "occupancy_per_worm": ";".join(f"{o:.2f}" for o in occ),
                     "mean_dwell_s": float(np.mean([d for d in dw if d > 0])) if any(dw) else 0.0,
                     "frac_reversal": float(rev.ravel()[sel].mean()) if sel.any() else np.nan,
                     "velocity": float(np.nanmean(vel.ravel()[sel])) if sel.any() else np.nan,
                     "abs_head_angle": float(np.nanmean(head.ravel()[sel])) if sel.any() else np.nan,
                     "curvature": float(np.nanmean(curv.ravel()[sel])) if sel.any() else np.nan,
                     "population_fluctuation": float(np.nanmean(fluct.ravel()[sel])) if sel.any() else np.nan}
                for grp, ns in (("reversal_neurons", REVERSAL), ("forward_neurons", FORWARD), ("head_neurons", HEAD)):
                    cols = [idx[n] for n in ns if n in idx]
                    r[f"trace_{grp}"] = float(np.nanmean(allraw[sel][:, cols])) if sel.any() else np.nan
                if mname == "hmmglm":
                    r["median_variance"] = float(np.median(var[s]))
                rows.append(r)
                print(r, flush=True)
        if S in (2, 3):
            # Which partition of the bins does the likelihood prefer? Same emission family and
            # estimator for each partition.
            k_feat, _ = _kmeans_features(traces, 3.0, fs)
            cands = {f"hmmglm states (EM, S = {S})": decoded["hmmglm"],
                     f"gaussian_hmm states (EM, S = {S})": decoded["gaussian_hmm"],
                     f"kmeans (k = {S}, smoothed derivatives)": kmeans_states(k_feat, k_feat, S, random_state=0)}
            if S == 2:
                cands = {"reversal (behaviour labels)": [r.copy() for r in rev], **cands,
                         "one state": [np.zeros(T, int) for _ in range(n_worms)]}
            jac = sum(prep.log_det_jacobian(masks)) / float(sum(m.sum() for m in masks))
            for pname, labels in cands.items():
                out = partition_log_likelihood(values, masks, labels)
                out = {"representation": rep, "partition": pname, **out,
                       "marginal_ll_traces_per_entry": out["marginal_ll_per_entry"] + jac,
                       "ami_reversal_mean": float(np.mean([metrics.adjusted_mutual_information(rev[a], labels[a])
                                                           for a in range(n_worms)]))}
                partitions.append(out)
                print(out, flush=True)
            # A sticky Dirichlet prior (κ pseudo-counts on each self-transition) adds
            # κ Σ_s ln A_ss to a partition's objective: the κ at which the reversal partition
            # would catch up with the EM partition of the HMM-GLM.
            if S == 2:
                lab, em = partitions[-5], partitions[-4]
                gap = (em["marginal_ll_per_entry"] - lab["marginal_ll_per_entry"]) * lab["n_entries"]
                gain = lab["sum_log_self_transition"] - em["sum_log_self_transition"]
                lab["sticky_kappa_to_reach_hmmglm_partition"] = gap / gain if gain > 0 else np.inf
                lab["n_bins"] = int(n_worms * T)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(f"{args.out}.csv", index=False, float_format="%.4g")
    pd.DataFrame(partitions).to_csv(f"{args.out}_partitions.csv", index=False, float_format="%.5g")
    command = ("NEURODYN_SHARED=/work/shared OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 5 "
               ".venv/bin/python benchmarks/states_real_diagnose.py" + (" " + " ".join(argv if argv is not None
                                                                                    else sys.argv[1:])).rstrip())
    Path(f"{args.out}_fits.json").write_text(json.dumps(
        {"command": command, "worms": animals, "neurons": names, "behaviour": behaviour_stats, "fits": fits,
         "max_iter": args.max_iter, "wall_s": round(time.perf_counter() - t_start, 1)}, indent=1))


if __name__ == "__main__":
    main()
