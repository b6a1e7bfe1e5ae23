"""Rich vs. lazy learning experiments: rank sweeps and biological inits (Liu et al., ICLR 2024).

One run = one initial ``W_h`` trained on one task from one seed, measured with the regime
metrics of :mod:`neurodyn.circuits.regime` on a probe set drawn before training; results
are ``xarray.Dataset`` objects that :func:`collect_runs` stacks and :func:`summary_table`
turns into mean ± s.d. tables.

Seeds: a run with master ``random_state`` s and ``replicate`` k draws, from independent streams of
``SeedSequence([s, k])``, (0) the Gaussian ``W0`` shared by all ranks, (1) ``W_x`` and
``W_y``, (2) the training batches, (3) the probe set and (4) the batches of the pilot run of the
task-aligned init, (5) the Gaussian reference of the ``spectral``/``stable`` normalisations of
the init comparison — so the ranks of one replicate
differ only in the rank of ``W_h(0)``, and every task sees the same ``W0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict

import numpy as np

from neurodyn.backend import Backend, seed_attrs, to_numpy
from neurodyn.circuits import inits, rnn
from neurodyn.circuits.regime import regime_metrics
from neurodyn.circuits.tasks import get_task, sample_trials
from neurodyn.circuits.training import ExplodingGradientError, TrainConfig, train
from neurodyn.errors import InvalidInputError

METRICS = ("weight_change", "weight_change_abs", "representation_alignment", "kernel_alignment",
           "delta_effective_rank", "delta_participation_ratio", "final_loss", "final_accuracy",
           "init_effective_rank", "init_participation_ratio", "init_sigma1", "init_spectral_radius",
           "init_leading_eigenvalue", "init_frobenius_norm", "diverged")
FAMILY_CONTROLS = ("gaussian", "shuffled", "rotated", "outlier")
INIT_KINDS = ("gaussian", "rank_1", "aligned",
              *(f"{family}{suffix}" for family in ("celegans", "v1")
                for suffix in ("", *(f"_{c}" for c in FAMILY_CONTROLS))))
NORMALISATIONS = inits.NORMALISATIONS
# ``aligned`` (rank 1 of the update learned by a pilot run, at norm g√N) has spectral radius
# ≈ g√N because learned updates are nearly symmetric, so its ReLU activity explodes: it is
# available but not in the default comparison.
DEFAULT_INIT_KINDS = tuple(k for k in INIT_KINDS if k != "aligned")


def _master_seed(random_state) -> int:
    """The int master seed: ``random_state`` itself, or one drawn from a Generator (or fresh entropy)."""
    if isinstance(random_state, np.random.Generator) or random_state is None:
        return int(np.random.default_rng(random_state).integers(2**63))
    return int(random_state)


def _streams(random_state: int, replicate: int) -> list[np.random.Generator]:
    seed = _master_seed(random_state)
    return [np.random.default_rng(s) for s in np.random.SeedSequence([seed, int(replicate)]).spawn(6)]


def _final(curve: np.ndarray, window: int = 100) -> float:
    return float(np.mean(curve[-min(window, curve.size):])) if curve.size else float("nan")


def train_and_measure(W_h, task: str, train_config: TrainConfig, streams: list[np.random.Generator],
                      backend: Backend | None = None, dtype: str = "float64", probe_batch: int = 320,
                      kernel_probe_batch: int = 32):
    """Train from ``W_h(0)`` and measure the regime metrics on a fixed probe set.

    Parameters
    ----------
    W_h : (N, N) initial recurrent weights (numpy).
    task : task name.
    train_config : :class:`~neurodyn.circuits.training.TrainConfig`.
    streams : generators for (1) W_x/W_y, (2) batches, (3) probe set.
    probe_batch : trials of the probe set (RA is measured on all of them; the paper uses 320).
    kernel_probe_batch : the first trials of the probe set on which KA is measured (the
        tangent kernel has 8 · 3 rows per trial, so 32 trials give a 768 × 768 kernel).

    Returns
    -------
    metrics : dict of floats (:data:`METRICS`); when training diverges
        (:class:`~neurodyn.circuits.training.ExplodingGradientError`) ``diverged`` is 1 and the
        learning metrics are NaN (the ``init_*`` ones are still measured).
    curves : dict ``loss``, ``accuracy`` (n_iter,).
    W_h0 : the (N, N) initial recurrent weights used.
    """
    spec = get_task(task)
    backend = backend or Backend()
    W_h = np.asarray(W_h, dtype=float)
    n = W_h.shape[0]
    params0 = rnn.init_params(n, spec.n_in, spec.n_out, W_h, streams[1], dtype=np.dtype(dtype))
    if int(kernel_probe_batch) < 1 or int(probe_batch) < 1:
        raise InvalidInputError(f"probe_batch and kernel_probe_batch must be >= 1, got {probe_batch}, "
                                f"{kernel_probe_batch}", field="probe_batch")
    probe = sample_trials(task, probe_batch, streams[3], train_config.noise_sd)
    W0 = params0["W_h"]
    init_metrics = dict(init_effective_rank=inits.effective_rank(W0),
                        init_participation_ratio=inits.participation_ratio(W0),
                        init_sigma1=float(inits.singular_values(W0)[0]),
                        init_spectral_radius=inits.spectral_radius(W0),
                        init_leading_eigenvalue=inits.leading_eigenvalue(W0),
                        init_frobenius_norm=float(np.linalg.norm(W0)))
    try:
        result = train(params0, task, train_config, streams[2], backend)
    except ExplodingGradientError:
        # A diverging init is a result (recorded as diverged = 1, its learning metrics NaN),
        # not a failed pipeline: e.g. an init with a large positive leading eigenvalue.
        nan = float("nan")
        metrics = {m: nan for m in METRICS}
        metrics.update(init_metrics, diverged=1.0)
        blank = np.full(int(train_config.max_iter), np.nan)
        return metrics, {"loss": blank, "accuracy": blank.copy()}, W0
    p0 = {k: backend.asarray(v) for k, v in params0.items()}
    probe_x = backend.asarray(probe.inputs, dtype=np.dtype(dtype))
    kernel_x = backend.asarray(probe.inputs[:, : int(kernel_probe_batch)], dtype=np.dtype(dtype))
    metrics = regime_metrics(p0, result.params, probe_x, train_config.alpha, spec.decision_step, kernel_x)
    metrics.update(final_loss=_final(result.loss), final_accuracy=_final(result.accuracy), diverged=0.0,
                   **init_metrics)
    return metrics, {"loss": result.loss, "accuracy": result.accuracy}, params0["W_h"]


def _run_dataset(metrics: dict, curves: dict, W_h0: np.ndarray, coords: dict, attrs: dict):
    import xarray as xr

    sv = inits.singular_values(W_h0)
    data = {k: ((), float(v)) for k, v in metrics.items()}
    data.update(loss=("iteration", curves["loss"]), accuracy=("iteration", curves["accuracy"]),
                init_singular_values=("sv_index", sv))
    ds = xr.Dataset(data, coords={"iteration": np.arange(curves["loss"].size), "sv_index": np.arange(sv.size)},
                    attrs=attrs)
    ds["n_hidden"] = ((), W_h0.shape[0])
    return ds.expand_dims({k: [v] for k, v in coords.items()})


def rank_sweep_run(task: str, rank: int, replicate: int = 0, *, random_state: int | None = 0, n_hidden: int = 300,
                   gain: float = inits.DEFAULT_GAIN, train_kwargs: dict | None = None, backend: str = "numpy",
                   device: str = "cpu", dtype: str = "float64", probe_batch: int = 320, kernel_probe_batch: int = 32,
                   normalisation: str = "frobenius", stable_norm: float = inits.STABLE_NORM):
    """One cell of the rank sweep: rank-r ``W_h(0)`` (norm-matched) trained on ``task``.

    Parameters
    ----------
    task : ``2AF`` | ``DMS`` | ``CXT``.
    rank : rank r of ``W_h(0)`` (1 ≤ r ≤ N), truncated from a Gaussian draw shared by all
        ranks of this (random_state, replicate).
    replicate : index of the seed replicate.
    random_state : master seed (int; a numpy Generator or None draws one).
    n_hidden, gain : N and g of ``W0 = g · randn(N, N)/√N``.
    train_kwargs : fields of :class:`~neurodyn.circuits.training.TrainConfig`.
    backend, device, dtype : where and in which precision to compute.
    probe_batch, kernel_probe_batch : trials of the probe set for RA, and its first trials for KA.
    normalisation : ``frobenius`` (paper: ``‖W_r‖_F = ‖W0‖_F``), ``spectral`` (``σ_1(W_r) = σ_1(W0)``)
        or ``stable`` (``σ_1 = stable_norm`` < 1), see :func:`neurodyn.circuits.inits.normalise`.

    Returns
    -------
    xarray.Dataset with dims ``(task, normalisation, rank, replicate)`` (length 1 each) holding every
    metric of :data:`METRICS`, the ``loss`` and ``accuracy`` curves (``iteration``) and the
    singular values of ``W_h(0)`` (``sv_index``).
    """
    streams = _streams(random_state, replicate)
    W0 = inits.gaussian_init(n_hidden, gain, streams[0])
    W_h = inits.truncate_rank(W0, rank)
    if normalisation != "frobenius":
        W_h = inits.normalise(W_h, normalisation, W0, stable_norm)
    cfg = TrainConfig(**(train_kwargs or {}))
    metrics, curves, W_h0 = train_and_measure(W_h, task, cfg, streams, Backend(backend, device), dtype,
                                              probe_batch, kernel_probe_batch)
    attrs = {"gain": gain, **seed_attrs(random_state), "backend": backend, "device": device, "dtype": dtype,
             "probe_batch": int(probe_batch), "kernel_probe_batch": int(kernel_probe_batch),
             "stable_norm": float(stable_norm), **{f"train_{k}": str(v) for k, v in asdict(cfg).items()}}
    return _run_dataset(metrics, curves, W_h0, {"task": task, "normalisation": normalisation, "rank": int(rank),
                                                "replicate": int(replicate)}, attrs)


def biological_init(kind: str, *, n_hidden: int = 300, gain: float = inits.DEFAULT_GAIN, random_state=None,
                    connectome: str = "witvliet_2020_8", lognormal_sigma: float = 1.0):
    """The initial ``W_h`` of one kind of :data:`INIT_KINDS` (``aligned`` returns ``None``: it
    needs a pilot training run, :func:`task_aligned_init`).

    ``celegans*`` have N = the connectome's neuron count; the others ``n_hidden``.
    Controls are drawn from ``random_state`` around the matrix they control (``v1`` itself
    is drawn from ``random_state`` too): ``*_gaussian`` Gaussian of the same Frobenius norm
    (destroys the spectrum), ``*_shuffled`` off-diagonal entries permuted (keeps the heavy-tailed
    entries), ``*_rotated`` same singular values with random singular vectors (keeps the
    spectrum), ``*_outlier`` Gaussian bulk with the same leading eigenvalue (spectral radius).
    """
    rng = np.random.default_rng(random_state)
    if kind not in INIT_KINDS:
        raise InvalidInputError(f"unknown init {kind!r}; expected one of {INIT_KINDS}", field="inits")
    if kind == "gaussian":
        return inits.gaussian_init(n_hidden, gain, rng)
    if kind == "rank_1":
        return inits.truncate_rank(inits.gaussian_init(n_hidden, gain, rng), 1)
    if kind == "aligned":
        return None
    family, _, control = kind.partition("_")
    if family == "celegans":
        W = inits.celegans_init(connectome, gain)[0]
    else:
        W = inits.v1_init(n_hidden, gain, rng, lognormal_sigma)[0]
    if control == "gaussian":
        return inits.gaussian_control(W, rng)
    if control == "shuffled":
        return inits.shuffled_control(W, rng)
    if control == "rotated":
        return inits.rotated_control(W, rng)
    if control == "outlier":
        return inits.outlier_control(W, rng)
    return W


def task_aligned_init(task: str, n_hidden: int, gain: float, train_config: TrainConfig, random_state: int | None = 0,
                      replicate: int = 0, backend: Backend | None = None, dtype: str = "float64") -> np.ndarray:
    """Rank-1 ``W_h(0)`` aligned with ``task``: the top direction of the update learned by a
    pilot run from the Gaussian init of the same (random_state, replicate)
    (:func:`neurodyn.circuits.inits.aligned_low_rank_init`), at norm ``g √N``."""
    streams = _streams(random_state, replicate)
    spec = get_task(task)
    W0 = inits.gaussian_init(n_hidden, gain, streams[0])
    params0 = rnn.init_params(n_hidden, spec.n_in, spec.n_out, W0, streams[1], dtype=np.dtype(dtype))
    result = train(params0, task, train_config, streams[4], backend or Backend())
    return inits.aligned_low_rank_init(to_numpy(result.params["W_h"]) - W0, 1, gain=gain)


def init_comparison_run(kind: str, task: str = "2AF", replicate: int = 0, *, random_state: int | None = 0,
                        n_hidden: int = 300, gain: float = inits.DEFAULT_GAIN, connectome: str = "witvliet_2020_8",
                        lognormal_sigma: float = 1.0, train_kwargs: dict | None = None, backend: str = "numpy",
                        device: str = "cpu", dtype: str = "float64", probe_batch: int = 320,
                        kernel_probe_batch: int = 32, normalisation: str = "frobenius",
                        stable_norm: float = inits.STABLE_NORM):
    """One run of the init comparison (biological inits, their controls, rank 1, aligned).

    ``normalisation`` rescales the init after it is built (:func:`neurodyn.circuits.inits.normalise`;
    the reference is a Gaussian draw ``g · randn(N, N)/√N`` of the same N from stream 5).

    Returns
    -------
    xarray.Dataset with dims ``(init, task, normalisation, replicate)`` and the variables of
    :func:`rank_sweep_run`.
    """
    random_state = _master_seed(random_state)
    streams = _streams(random_state, replicate)
    W_h = biological_init(kind, n_hidden=n_hidden, gain=gain, random_state=streams[0], connectome=connectome,
                          lognormal_sigma=lognormal_sigma)
    cfg = TrainConfig(**(train_kwargs or {}))
    be = Backend(backend, device)
    if W_h is None:
        W_h = task_aligned_init(task, n_hidden, gain, cfg, random_state, replicate, be, dtype)
    if normalisation != "frobenius":
        reference = inits.gaussian_init(W_h.shape[0], gain, streams[5])
        W_h = inits.normalise(W_h, normalisation, reference, stable_norm)
    metrics, curves, W_h0 = train_and_measure(W_h, task, cfg, streams, be, dtype, probe_batch, kernel_probe_batch)
    attrs = {"gain": gain, **seed_attrs(random_state), "backend": backend, "device": device, "dtype": dtype,
             "connectome": connectome, "lognormal_sigma": lognormal_sigma, "probe_batch": int(probe_batch),
             "kernel_probe_batch": int(kernel_probe_batch), "stable_norm": float(stable_norm),
             **{f"train_{k}": str(v) for k, v in asdict(cfg).items()}}
    return _run_dataset(metrics, curves, W_h0, {"init": kind, "task": task, "normalisation": normalisation,
                                                "replicate": int(replicate)}, attrs)


def collect_runs(datasets: Iterable):
    """Stack single-run datasets into one (missing combinations become NaN)."""
    import xarray as xr

    # Encodings read from files (e.g. fixed-width string coords) must not carry over, or a
    # longer name from a later run would be truncated when the stack is written.
    datasets = [ds.drop_encoding() for ds in datasets]
    if not datasets:
        raise InvalidInputError("no runs to collect", field="inputs")
    # Pad the within-run axes to a common length first, so that runs of different N (or
    # curve length) are stacked only along the run dims (task, rank/init, replicate).
    for axis in ("iteration", "sv_index"):
        longest = max((ds.sizes.get(axis, 0) for ds in datasets), default=0)
        datasets = [ds.reindex({axis: np.arange(longest)}) if axis in ds.dims else ds for ds in datasets]
    combined = xr.combine_by_coords(datasets, data_vars="all", combine_attrs="drop_conflicts", join="outer")
    return combined


def summary_table(ds, by: Sequence[str], over: str = "replicate"):
    """Mean, s.d. and count of every scalar metric over ``over``, one row per ``by`` cell."""
    import pandas as pd

    names = [m for m in METRICS if m in ds]
    frame = ds[names].to_dataframe().reset_index()
    frame = frame[[*by, over, *names]].drop_duplicates()
    grouped = frame.groupby(list(by), sort=True)[names]
    out = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_sd"))
    out["n_seeds"] = grouped.size()
    ordered = [c for m in names for c in (f"{m}_mean", f"{m}_sd")] + ["n_seeds"]
    return pd.DataFrame(out[ordered]).reset_index()


def init_spectra(n_hidden: int = 300, ranks: Sequence[int] = (1, 30, 100, 300), gain: float = inits.DEFAULT_GAIN,
                 random_state: int | None = 0, connectome: str | None = "witvliet_2020_8",
                 lognormal_sigma: float = 1.0,
                 include_biological: bool = True):
    """Singular values, effective ranks and spectral radii of the initial connectivities.

    Every rank-r init and, with ``include_biological``, every biological init and each of its
    controls (:data:`FAMILY_CONTROLS`), at the paper's Frobenius normalisation (the rank
    measures do not depend on the scale; σ_1 and the spectral radius do, and are reported
    at ``‖W‖_F = g√N``).

    Returns
    -------
    xarray.Dataset over ``init`` with ``singular_values`` (init, sv_index; NaN-padded,
    descending), ``n_hidden``, ``effective_rank`` (Σσ/(σ_1 N)), ``participation_ratio``,
    ``frobenius_norm``, ``sigma1``, ``spectral_radius``, ``leading_eigenvalue`` and
    ``column_concentration`` (share of ‖W‖²_F in the 6 largest columns).
    """
    import xarray as xr

    random_state = _master_seed(random_state)
    streams = _streams(random_state, 0)
    mats = {f"rank_{r}": W for r, W in inits.low_rank_inits(n_hidden, ranks, gain, streams[0]).items()}
    if include_biological:
        for kind in INIT_KINDS:
            if kind.startswith(("celegans", "v1")):
                mats[kind] = biological_init(kind, n_hidden=n_hidden, gain=gain,
                                             random_state=_streams(random_state, 0)[0], connectome=connectome,
                                             lognormal_sigma=lognormal_sigma)
    width = max(W.shape[0] for W in mats.values())
    sv = np.full((len(mats), width), np.nan)
    for i, W in enumerate(mats.values()):
        s = inits.singular_values(W)
        sv[i, : s.size] = s
    per_init = {
        "n_hidden": lambda W: W.shape[0], "effective_rank": inits.effective_rank,
        "participation_ratio": inits.participation_ratio, "frobenius_norm": lambda W: float(np.linalg.norm(W)),
        "sigma1": lambda W: float(inits.singular_values(W)[0]), "spectral_radius": inits.spectral_radius,
        "leading_eigenvalue": inits.leading_eigenvalue, "column_concentration": inits.column_concentration,
    }
    data = {"singular_values": (("init", "sv_index"), sv)}
    data.update({name: ("init", [f(W) for W in mats.values()]) for name, f in per_init.items()})
    return xr.Dataset(data, coords={"init": list(mats), "sv_index": np.arange(width)},
                      attrs={"gain": gain, **seed_attrs(random_state)})


SPECTRA_COLUMNS = ("n_hidden", "effective_rank", "participation_ratio", "frobenius_norm", "sigma1",
                   "spectral_radius", "leading_eigenvalue", "column_concentration")


def spectra_table(ds):
    """One row per init: N, effective rank Σσ/(σ_1 N), participation ratio, norms, radius, concentration."""
    return ds[[c for c in SPECTRA_COLUMNS if c in ds]].to_dataframe().reset_index()


def run_experiment(run: dict):
    """Dispatch one configured run: :func:`init_comparison_run` when ``run`` has ``kind``,
    else :func:`rank_sweep_run` (the keyword arguments of either)."""
    run = dict(run)
    if "kind" in run:
        return init_comparison_run(run.pop("kind"), **run)
    return rank_sweep_run(run.pop("task"), run.pop("rank"), **run)
