"""Recovery of planted connectome components by affinity: instantaneous vs windowed, with and without chance levels.

Affinities and chance levels: ``differential`` (the per-time-point affinity, window mean)
with ``chance`` ``none`` (the default), ``independent`` (per pair: minus what independent
neurons with the same derivatives would score) and ``median`` (per window: minus the
median over pairs); ``windowed_cosine`` with ``none`` and ``median`` (the earlier
default); ``correlation`` (baseline); and ``differential`` saturated at ``c = 1``.

For each cohort, affinity tensor (:func:`neurodyn.connectome.tensor.affinity_tensor`) and
rank (the planted number of components ``K``, and ``K + 1``), the best of ``--restarts``
masked HALS fits is matched to the planted components (Hungarian on the congruence, the
product over modes of factor cosines, :func:`neurodyn.connectome.synthetic.planted_recovery`)
and its communities (Louvain on each matched component's folded pair factor) are scored
by NMI against the planted ones.

Cohorts:

``planted``
    the project's generator, :func:`neurodyn.connectome.synthetic.planted_community_cohort`
    (3 animals, 24 neurons, 1800 frames at 2 Hz, 3 components of 2 communities of 8).
``ou``
    a generator written here, apart from the project's: fluorescence-like traces (no
    spikes) from signed, smooth shared drives; temporal profiles are sums of Gaussian
    bumps, not epochs; every neuron keeps a private drive; 4 animals, 30 neurons, 1200
    frames at 2 Hz, 3 components of 2 communities of 6; one neuron absent and two
    30-s tracking gaps in every animal but the first.
``ou_global``
    the same plus a brain-wide component: 27 of the 30 neurons (81 % of the pairs) share
    one drive during reversal-like bouts.

Writes one row per (cohort, seed, affinity, chance, rank) to
``benchmarks/results/connectome_affinity_recovery.csv`` and the means over seeds, with
the command and settings, to ``…/connectome_affinity_recovery.json``.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 \\
        python benchmarks/connectome_affinity_recovery.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import gaussian_filter1d

from neurodyn.connectome.communities import component_communities
from neurodyn.connectome.ntf import fit_affinity, ntf_to_dataset
from neurodyn.connectome.synthetic import planted_community_cohort, planted_recovery
from neurodyn.connectome.tensor import affinity_tensor
from neurodyn.data.cohort import build_cohort
from neurodyn.io import write_csv, write_json

OUT = Path(__file__).resolve().parent / "results" / "connectome_affinity_recovery"
# (affinity, chance, saturation)
CONDITIONS = [("differential", "none", None), ("differential", "independent", None), ("differential", "median", None),
              ("differential", "none", 1.0), ("windowed_cosine", "none", None), ("windowed_cosine", "median", None),
              ("correlation", "none", None)]


def _bumps(n_time: int, fs: float, n_bumps: int, width_s: float, rng: np.random.Generator) -> np.ndarray:
    """A profile in [0, 1]: a sum of Gaussian bumps at random times, scaled to peak 1."""
    t = np.arange(n_time) / fs
    centres = rng.uniform(0.05, 0.95, size=n_bumps) * t[-1]
    p = np.exp(-0.5 * ((t[:, None] - centres[None]) / width_s) ** 2).sum(axis=1)
    return p / p.max()


def _signed_drive(n_time: int, fs: float, timescale_s: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth signed noise, unit SD."""
    z = gaussian_filter1d(rng.normal(size=n_time), sigma=timescale_s * fs, mode="wrap")
    return (z - z.mean()) / z.std()


def ou_cohort(seed: int, *, global_component: bool = False, n_animals: int = 4, n_neurons: int = 30,
              n_time: int = 1200, fs: float = 2.0, n_components: int = 3, n_communities: int = 2,
              community_size: int = 6, private_gain: float = 0.7, noise_sd: float = 0.2,
              global_fraction: float = 0.9):
    """A planted cohort from this benchmark's own generator (module doc); returns (cohort, truth)."""
    rng = np.random.default_rng(seed)
    names = [f"n{i:03d}" for i in range(n_neurons)]
    animals = [f"ou{a:02d}" for a in range(n_animals)]
    time_s = np.arange(n_time) / fs
    # Local components: bumps placed in separate thirds of the recording plus one random bump.
    profiles = []
    for k in range(n_components):
        p = _bumps(n_time, fs, 1, 40.0, rng)
        third = np.exp(-0.5 * ((time_s - (k + 0.5) * time_s[-1] / n_components) / 50.0) ** 2)
        profiles.append(np.clip(0.5 * p + third, 0, None) / np.clip(0.5 * p + third, 0, None).max())
    community = np.zeros((n_components, n_neurons), dtype=np.int64)
    for k in range(n_components):
        members = rng.permutation(n_neurons)[: n_communities * community_size]
        for c in range(n_communities):
            community[k, members[c * community_size:(c + 1) * community_size]] = c + 1
    if global_component:
        # Reversal-like bouts: 20-s boxes every ~60 s with 4-s ramps.
        bouts = np.zeros(n_time)
        start = rng.uniform(10, 40)
        while start < time_s[-1] - 20:
            bouts[(time_s >= start) & (time_s < start + 20)] = 1.0
            start += rng.uniform(50, 80)
        profiles.append(np.convolve(np.pad(bouts, 4, mode="edge"), np.ones(8) / 8, mode="same")[4:-4])
        glob = np.zeros(n_neurons, dtype=np.int64)
        glob[rng.permutation(n_neurons)[: int(round(global_fraction * n_neurons))]] = 1
        community = np.vstack([community, glob])
    profile = np.stack(profiles)
    n_k = profile.shape[0]
    loading = rng.uniform(0.4, 1.0, size=(n_animals, n_k))
    in_any = (community > 0).any(axis=0)
    traces = np.full((n_animals, n_time, n_neurons), np.nan)
    present = np.ones((n_animals, n_neurons), dtype=bool)
    for a in range(n_animals):
        x = private_gain * np.stack([_signed_drive(n_time, fs, 3.0, rng) for _ in range(n_neurons)], axis=1)
        for k in range(n_k):
            for c in range(1, community[k].max() + 1):
                idx = np.flatnonzero(community[k] == c)
                x[:, idx] += (loading[a, k] * profile[k] * _signed_drive(n_time, fs, 3.0, rng))[:, None]
        x += noise_sd * rng.normal(size=x.shape)
        if a > 0:
            out = rng.choice(np.flatnonzero(~in_any) if (~in_any).any() else np.arange(n_neurons), 1)
            present[a, out] = False
            x[:, out] = np.nan
            for j in rng.choice(np.flatnonzero(present[a]), 2, replace=False):
                s = int(rng.integers(0, n_time - 60))
                x[s:s + 60, j] = np.nan  # 30 s untracked
        traces[a] = x
    cohort = xr.Dataset(
        {"traces": (("animal", "time", "neuron"), traces.astype(np.float32)),
         "present": (("animal", "neuron"), present)},
        coords={"animal": animals, "time": time_s, "neuron": names}, attrs={"sampling_rate_hz": fs})
    same = (community[:, :, None] == community[:, None, :]) & (community[:, :, None] > 0)
    pair_weight = same & ~np.eye(n_neurons, dtype=bool)[None]
    truth = xr.Dataset(
        {"temporal_profile": (("component", "time"), profile),
         "animal_loading": (("animal", "component"), loading),
         "community": (("component", "neuron"), community),
         "pair_weight": (("component", "neuron", "neuron_b"), pair_weight.astype(np.float64))},
        coords={"component": np.arange(n_k), "time": time_s, "animal": animals, "neuron": names,
                "neuron_b": names})
    return cohort, truth


def planted_cohort(seed: int):
    recs, truth = planted_community_cohort(3, 24, 1800, 2.0, random_state=seed)
    return build_cohort(recs, min_animals=1), truth


def best_fit(aff, rank: int, restarts: int, max_iter: int, tol: float):
    fits = [fit_affinity(aff, rank, max_iter=max_iter, tol=tol, random_state=r) for r in range(restarts)]
    return min(fits, key=lambda f: f.rel_error)


def score(truth, aff, rank, args, global_k=None):
    res = best_fit(aff, rank, args.restarts, args.max_iter, args.tol)
    ds = ntf_to_dataset(res, aff)
    comm = component_communities(ds, method="louvain", random_state=0)
    rec = planted_recovery(truth, ds, comm)
    local = rec[rec["planted"] != global_k] if global_k is not None else rec
    row = {"rel_error": res.rel_error, "n_iter": res.n_iter,
           "congruence_mean": local["congruence"].mean(), "congruence_min": local["congruence"].min(),
           "congruence_time": local["congruence_time"].mean(), "congruence_animal": local["congruence_animal"].mean(),
           "congruence_pair": local["congruence_pair"].mean(), "nmi_mean": local["nmi"].mean(),
           "nmi_min": local["nmi"].min()}
    if global_k is not None:
        g = rec[rec["planted"] == global_k].iloc[0]
        row.update(global_congruence=g["congruence"], global_congruence_time=g["congruence_time"],
                   global_congruence_pair=g["congruence_pair"])
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--restarts", type=int, default=4)
    parser.add_argument("--max-iter", type=int, default=500)
    parser.add_argument("--tol", type=float, default=1e-7)
    parser.add_argument("--window-s", type=float, default=40.0)
    parser.add_argument("--stride-s", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    cohorts = {"planted": lambda s: (*planted_cohort(s), None),
               "ou": lambda s: (*ou_cohort(100 + s), None),
               "ou_global": lambda s: (*ou_cohort(200 + s, global_component=True), 3)}
    rows = []
    t0 = time.time()
    for name, make in cohorts.items():
        for seed in range(args.seeds):
            cohort, truth, global_k = make(seed)
            k = truth.sizes["component"]
            for method, chance, saturation in CONDITIONS:
                aff = affinity_tensor(cohort, method=method, chance=chance, window_s=args.window_s,
                                      stride_s=args.stride_s, saturation=saturation)
                for rank in (k, k + 1):
                    row = {"cohort": name, "seed": seed, "affinity": method, "chance": chance,
                           "saturation": "none" if saturation is None else saturation, "rank": rank,
                           "planted_rank": k, "masked_fraction": float(1 - aff["mask"].values.mean())}
                    row.update(score(truth, aff, rank, args, global_k))
                    rows.append(row)
                    print({key: (round(v, 3) if isinstance(v, float) else v) for key, v in row.items()}, flush=True)
    df = pd.DataFrame(rows)
    write_csv(df, args.out.with_suffix(".csv"), index=False)
    metrics = [c for c in df.columns if c.startswith(("congruence", "nmi", "global", "rel_error"))]
    summary = df.groupby(["cohort", "affinity", "chance", "saturation", "rank"], sort=False)[metrics].mean().round(4)
    write_json({"command": "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 "
                           "python benchmarks/connectome_affinity_recovery.py " + " ".join(sys.argv[1:]),
                "settings": vars(args) | {"out": str(args.out.name)},
                "wall_s": round(time.time() - t0, 1),
                "mean_over_seeds": [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                                    for r in summary.reset_index().to_dict(orient="records")]},
               args.out.with_suffix(".json"))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary)


if __name__ == "__main__":
    main()
