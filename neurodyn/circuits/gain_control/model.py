"""Adaptation experiments: unadapted vs adapted network under each model, and the effects.

``simulate_adaptation`` runs one experiment (one model, one adapter probability) and
returns everything as an ``xarray.Dataset``; :class:`GainControlAdaptation` is the thin
object-style wrapper around it (a simulation, so its verb is ``simulate``, not ``fit``).  Models:

``recurrent``    fixed ring W, gains re-optimised for the ensemble (Duong et al. 2023);
``feedforward``  the same with W = 0 (pure single-neuron gain scaling);
``synaptic``     fixed gains, W re-weighted by the homeostatic rule (Westrick et al. 2016).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from neurodyn.backend import Backend, to_numpy
from neurodyn.circuits.gain_control import effects as fx
from neurodyn.circuits.gain_control.ensembles import benucci_grid, fine_grid, stimulus_ensemble
from neurodyn.circuits.gain_control.network import (
    check_stability,
    preferred_orientations,
    ring_kernel,
    steady_state,
    steady_state_operator,
    von_mises_drive,
)
from neurodyn.circuits.gain_control.objective import accuracy_ensemble, objective_terms, optimal_gains
from neurodyn.circuits.gain_control.synaptic import homeostatic_weights
from neurodyn.errors import InvalidInputError
from neurodyn.progress import STEP_EVERY_S, Progress

MODELS = ("recurrent", "feedforward", "synaptic")
CONDITIONS = ("uniform", "biased_unadapted", "biased_adapted")


@dataclass(frozen=True)
class GainControlParams:
    """Every setting of the network, the ensembles and the adaptation.

    Defaults reproduce all five effects with the recurrent-gain model (docs/gain_control.md
    lists the exploration and the settings that fail).
    """

    n_neurons: int = 20                      # orientation channels, 9° apart
    concentration: float = 2.0               # κ of the von Mises drive
    baseline: float = 0.4                    # untuned drive (keeps every response positive)
    strength: float = 0.7                    # largest eigenvalue of W
    excitatory_concentration: float = 3.0    # κ_E of the ring kernel
    inhibition: float = 0.1                  # a, relative peak of the broad inhibition
    inhibitory_concentration: float = 0.3    # κ_I of the ring kernel
    tradeoff: float = 1.0                    # λ
    accuracy_weighting: float = 0.0          # β: 0 uniform reference ensemble, 1 the current one
    adapter_deg: float = 90.0
    n_orientations: int = 21                 # Benucci grid
    n_per_bin: int = 9                       # fine measurement grid: sub-orientations per bin
    ensemble_grid: str = "benucci"           # grid on which the ensembles live: benucci | fine
    ensemble_convention: str = "authors"     # authors: (1 − π)/18 off the adapter bins | mixture
    synaptic_rate: float = 0.2
    synaptic_max_iter: int = 5000
    synaptic_tol: float = 1e-3

    def __post_init__(self):
        if self.ensemble_grid not in ("benucci", "fine"):
            raise InvalidInputError(f"ensemble_grid must be 'benucci' or 'fine', got {self.ensemble_grid!r}",
                                    field="ensemble_grid")
        if self.ensemble_convention not in ("authors", "mixture"):
            raise InvalidInputError(f"ensemble_convention must be 'authors' or 'mixture', got "
                                    f"{self.ensemble_convention!r}", field="ensemble_convention")

    @classmethod
    def from_mapping(cls, mapping) -> GainControlParams:
        """From a config mapping; unknown keys are refused with their names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise InvalidInputError(f"unknown gain-control settings {unknown}; expected some of {sorted(known)}",
                                    field="gain_control")
        return cls(**dict(mapping))


@dataclass
class Network:
    """Arrays of one network on one backend (all shapes in the field docs)."""

    preferred: object        # (N,) degrees
    stimuli: object          # (S,) ensemble grid, degrees
    orientations: object     # (T,) fine measurement grid, degrees
    drive: object            # (N, S) drive on the ensemble grid
    drive_fine: object       # (N, T) drive on the measurement grid
    weights: object          # (N, N)


def build_network(params: GainControlParams, model: str = "recurrent", backend: Backend | None = None) -> Network:
    """The arrays of ``params`` on ``backend`` (numpy by default); W = 0 for ``feedforward``."""
    if model not in MODELS:
        raise InvalidInputError(f"unknown model {model!r}; expected one of {MODELS}", field="model")
    be = backend or Backend()
    preferred = be.asarray(preferred_orientations(params.n_neurons, params.adapter_deg), dtype=np.float64)
    fine = fine_grid(params.n_per_bin, params.n_orientations, params.adapter_deg)
    grid = benucci_grid(params.n_orientations, params.adapter_deg) if params.ensemble_grid == "benucci" else fine
    stimuli, orientations = be.asarray(grid, dtype=np.float64), be.asarray(fine, dtype=np.float64)
    strength = 0.0 if model == "feedforward" else params.strength
    weights = ring_kernel(preferred, strength, params.excitatory_concentration, params.inhibition,
                          params.inhibitory_concentration)
    check_stability(weights)
    return Network(preferred, stimuli, orientations,
                   von_mises_drive(stimuli, preferred, params.concentration, params.baseline),
                   von_mises_drive(orientations, preferred, params.concentration, params.baseline), weights)


def ensemble(params: GainControlParams, net: Network, adapter_probability: float):
    """Ensemble (2) on the network's stimulus grid, on its backend; shape (S,)."""
    p = stimulus_ensemble(to_numpy(net.stimuli), params.adapter_deg, adapter_probability, params.n_orientations,
                          convention=params.ensemble_convention)
    return Backend.from_config({"backend": _backend_name(net.drive), "device": _device(net.drive)}).asarray(p)


def _backend_name(x) -> str:
    from neurodyn.backend import backend_name

    return backend_name(x)


def _device(x) -> str:
    dev = str(getattr(x, "device", "cpu"))
    return "cuda" if dev.startswith("cuda") else "cpu"


def adapt(params: GainControlParams, net: Network, p_uniform, p_biased, model: str):
    """Unadapted and adapted (gains, weights) of ``model``; plus synaptic diagnostics."""
    operator = steady_state_operator(net.weights)
    ref_u = accuracy_ensemble(p_uniform, params.accuracy_weighting)
    gains_u = optimal_gains(operator, net.drive, p_uniform, params.tradeoff, ref_u)
    info = {"synaptic_steps": 0, "synaptic_converged": True, "synaptic_residual": 0.0}
    if model == "synaptic":
        result = homeostatic_weights(net.weights, gains_u, net.drive, p_biased, p_uniform, params.synaptic_rate,
                                     params.synaptic_max_iter, params.synaptic_tol)
        info = {"synaptic_steps": result.n_iter, "synaptic_converged": bool(result.converged),
                "synaptic_residual": float(result.residuals[-1])}
        return (gains_u, net.weights), (gains_u, result.weights), info
    ref_b = accuracy_ensemble(p_biased, params.accuracy_weighting)
    gains_b = optimal_gains(operator, net.drive, p_biased, params.tradeoff, ref_b)
    return (gains_u, net.weights), (gains_b, net.weights), info


def simulate_adaptation(adapter_probability: float, model: str = "recurrent", params: GainControlParams | None = None,
                        backend: Backend | None = None):
    """Run one adaptation experiment and measure every effect.

    Parameters
    ----------
    adapter_probability : float
        π of the biased ensemble (2), in (0, 1).
    model : {'recurrent', 'feedforward', 'synaptic'}
    params : GainControlParams, optional
    backend : Backend, optional
        numpy (default) or torch; results come back as numpy in the Dataset.

    Returns
    -------
    xarray.Dataset
        dims ``neuron`` (N), ``presynaptic`` (N), ``stimulus`` (S), ``orientation`` (T),
        ``condition`` (uniform / biased_unadapted / biased_adapted); per-neuron effects
        as variables and the scalar effects as attrs (see :func:`summarise_effects`).
    """
    import xarray as xr

    params = params or GainControlParams()
    if not 0.0 < adapter_probability < 1.0:
        raise InvalidInputError(f"adapter probability must lie in (0, 1), got {adapter_probability!r}",
                                field="adapter_probability")
    net = build_network(params, model, backend)
    p_u, p_b = ensemble(params, net, 0.0), ensemble(params, net, adapter_probability)
    (g_u, w_u), (g_b, w_b), info = adapt(params, net, p_u, p_b, model)
    m_u, m_b = steady_state_operator(w_u), steady_state_operator(w_b)
    tuning_u, tuning_b = steady_state(m_u, g_u, net.drive_fine), steady_state(m_b, g_b, net.drive_fine)
    resp_u, resp_b = steady_state(m_u, g_u, net.drive), steady_state(m_b, g_b, net.drive)

    pref_u = fx.preferred_orientation(tuning_u, net.orientations)
    pref_b = fx.preferred_orientation(tuning_b, net.orientations)
    distance = fx.signed_distance(net.preferred, params.adapter_deg)
    shift = fx.orientation_shift(pref_u, pref_b)
    max_ratio, min_ratio = fx.response_ratios(tuning_u, tuning_b)
    at_adapter = fx.response_at(tuning_b, net.orientations, params.adapter_deg) / fx.response_at(
        tuning_u, net.orientations, params.adapter_deg)
    pop_ratio = fx.population_ratio(resp_u, resp_b)
    try:
        separable = fx.separable_fit(resp_u, resp_b)
    except InvalidInputError:   # negative "rates" (e.g. a strong Mexican hat): no log-ratio fit
        separable = None
    covariance = [fx.population_covariance(resp_u, p_u), fx.population_covariance(resp_u, p_b),
                  fx.population_covariance(resp_b, p_b)]
    means = [fx.mean_responses(resp_u, p_u), fx.mean_responses(resp_u, p_b), fx.mean_responses(resp_b, p_b)]
    terms_u = objective_terms(g_u, m_u, net.drive, p_b, params.tradeoff,
                              accuracy_ensemble(p_b, params.accuracy_weighting))
    terms_b = objective_terms(g_b, m_b, net.drive, p_b, params.tradeoff,
                              accuracy_ensemble(p_b, params.accuracy_weighting))

    n = to_numpy
    neuron, pre = ("neuron",), ("neuron", "presynaptic")
    ds = xr.Dataset(
        {
            "gain_unadapted": (neuron, n(g_u)), "gain_adapted": (neuron, n(g_b)),
            "gain_ratio": (neuron, n(g_b) / n(g_u)),
            "weights_unadapted": (pre, n(w_u)), "weights_adapted": (pre, n(w_b)),
            "tuning_unadapted": (("neuron", "orientation"), n(tuning_u)),
            "tuning_adapted": (("neuron", "orientation"), n(tuning_b)),
            "probability_uniform": (("stimulus",), n(p_u)), "probability_biased": (("stimulus",), n(p_b)),
            "distance": (neuron, n(distance)),
            "preferred_unadapted": (neuron, n(pref_u)), "preferred_adapted": (neuron, n(pref_b)),
            "shift": (neuron, n(shift)), "repulsion": (neuron, n(fx.repulsion(shift, distance))),
            "max_ratio": (neuron, n(max_ratio)), "min_ratio": (neuron, n(min_ratio)),
            "adapter_response_ratio": (neuron, n(at_adapter)),
            "population_ratio": (("stimulus",), n(pop_ratio)),
            "covariance": (("condition", "neuron", "presynaptic"), np.stack([n(c) for c in covariance])),
            "correlation": (("condition", "neuron", "presynaptic"),
                            np.stack([n(fx.correlation_from_covariance(c)) for c in covariance])),
            "mean_response": (("condition", "neuron"), np.stack([n(m) for m in means])),
        },
        coords={"neuron": [f"ch{float(v):05.1f}" for v in n(net.preferred)],
                "preferred": (neuron, n(net.preferred)),
                "presynaptic": [f"ch{float(v):05.1f}" for v in n(net.preferred)],
                "stimulus": n(net.stimuli), "orientation": n(net.orientations), "condition": list(CONDITIONS)},
        attrs={"model": model, "adapter_probability": float(adapter_probability),
               "ensemble_convention": params.ensemble_convention, "adapter_deg": float(params.adapter_deg),
               "separable_variance_explained": separable[2] if separable else float("nan"),
               "error_unadapted": terms_u.error, "activity_unadapted": terms_u.activity,
               "error_adapted": terms_b.error, "activity_adapted": terms_b.activity, **info},
    )
    if separable:   # only where every response is positive (the fit is on log ratios)
        ds["responsivity"] = (neuron, separable[0])
        ds["stimulus_factor"] = (("stimulus",), separable[1])
    ds["stimulus"].attrs["units"] = ds["orientation"].attrs["units"] = "degree"
    ds.attrs.update(summarise_effects(ds))
    return ds


def summarise_effects(ds) -> dict:
    """One number per effect from a :func:`simulate_adaptation` Dataset.

    Returns
    -------
    dict
        ``peak_suppression`` 1 − min over neurons of the max ratio;
        ``suppression_centre_deg`` |distance| of that neuron from the adapter;
        ``max_min_ratio_difference`` max over neurons of |max ratio − min ratio|;
        ``max_repulsion_deg`` largest shift away from the adapter (negative: attraction)
        and ``repulsion_distance_deg`` where it occurs (NaN without repulsion); ``max_attraction_deg`` the largest
        shift toward it (≥ 0);
        ``covariance_distance_unadapted`` / ``_adapted`` relative Frobenius distance of the
        biased-ensemble covariance to the uniform one, ``decorrelation`` = 1 − adapted /
        unadapted (> 0: moved toward the uniform covariance), and the same for correlation
        matrices (``correlation_decorrelation``);
        ``cv_unadapted`` / ``cv_adapted`` coefficient of variation of the mean responses
        under the biased ensemble, ``equalisation`` = 1 − adapted / unadapted;
        far from the adapter (|distance| ≥ 45°): ``far_max_ratio`` (largest max ratio; > 1 is
        facilitation), ``far_gain_ratio`` (largest gain ratio), ``facilitated_fraction``
        (share of all channels whose maximum rose);
        stimulus-specific suppression: ``population_ratio_adapter`` / ``_orthogonal``
        (summed population response to the adapter / the orthogonal stimulus, after /
        before), ``adapter_specificity`` = population ratio at the adapter / its mean over
        stimuli (< 1: the adapter is suppressed more than the average stimulus);
        separable fit ``r_after/r_before ≈ a(φ) b(θ)``: ``separable_variance_explained``,
        ``stimulus_factor_adapter`` (b at the adapter, geometric mean of b = 1) and
        ``stimulus_factor_range`` (max b / min b; 1 for pure gain scaling).
    """
    max_ratio = ds["max_ratio"].values
    distance = ds["distance"].values
    rep = ds["repulsion"].values
    i_sup, i_rep = int(np.argmin(max_ratio)), int(np.argmax(rep))
    cov, cor = ds["covariance"].values, ds["correlation"].values
    d_cov = [fx.relative_frobenius_distance(cov[k], cov[0]) for k in (1, 2)]
    d_cor = [fx.relative_frobenius_distance(cor[k], cor[0]) for k in (1, 2)]
    means = ds["mean_response"].values
    cv = [fx.coefficient_of_variation(means[k]) for k in (1, 2)]
    # Round-off (≈1e-14) must not masquerade as an effect, e.g. "repulsion" of the W = 0 model.
    def clean(x: float) -> float:
        return 0.0 if abs(x) < 1e-9 else float(x)

    max_rep = clean(rep[i_rep])
    far = np.abs(distance) >= 45.0 - 1e-9
    offset = (ds["stimulus"].values - float(ds.attrs["adapter_deg"]) + 90.0) % 180.0 - 90.0
    pop = ds["population_ratio"].values
    b = ds["stimulus_factor"].values if "stimulus_factor" in ds else np.full(offset.shape, np.nan)
    i_adapter = int(np.argmin(np.abs(offset)))
    i_orth = int(np.argmin(np.abs(np.abs(offset) - 90.0)))
    out_extra = {
        "far_max_ratio": float(np.max(max_ratio[far])), "far_gain_ratio": float(np.max(ds["gain_ratio"].values[far])),
        "facilitated_fraction": float(np.mean(max_ratio > 1.0 + 1e-12)),
        "population_ratio_adapter": float(pop[i_adapter]), "population_ratio_orthogonal": float(pop[i_orth]),
        "adapter_specificity": float(pop[i_adapter] / np.mean(pop)),
        "separable_variance_explained": float(ds.attrs["separable_variance_explained"]),
        "stimulus_factor_adapter": float(b[i_adapter]), "stimulus_factor_range": float(np.max(b) / np.min(b)),
    }
    return out_extra | {
        "peak_suppression": float(1.0 - max_ratio[i_sup]),
        "suppression_centre_deg": float(abs(distance[i_sup])),
        "max_min_ratio_difference": clean(np.max(np.abs(max_ratio - ds["min_ratio"].values))),
        "max_repulsion_deg": max_rep,
        "repulsion_distance_deg": float(abs(distance[i_rep])) if max_rep > 0 else float("nan"),
        "max_attraction_deg": clean(max(0.0, -np.min(rep))),
        "covariance_distance_unadapted": d_cov[0], "covariance_distance_adapted": d_cov[1],
        "decorrelation": float(1.0 - d_cov[1] / d_cov[0]),
        "correlation_distance_unadapted": d_cor[0], "correlation_distance_adapted": d_cor[1],
        "correlation_decorrelation": clean(1.0 - d_cor[1] / d_cor[0]),
        "cv_unadapted": cv[0], "cv_adapted": cv[1], "equalisation": float(1.0 - cv[1] / cv[0]),
    }


def tradeoff_curve(tradeoffs, adapter_probability: float, model: str = "recurrent",
                   params: GainControlParams | None = None, backend: Backend | None = None):
    """Representation error and activity of the optimal gains over the trade-off weight λ.

    Returns
    -------
    xarray.Dataset
        dims ``tradeoff`` (L) and ``ensemble`` (uniform, biased): ``error`` and ``activity``
        (the two terms of objective (3), each under its own ensemble) and ``mean_gain``.
    """
    import xarray as xr

    params = params or GainControlParams()
    if model == "synaptic":
        model = "recurrent"   # the synaptic model has no trade-off weight; its gains are the recurrent ones
    net = build_network(params, model, backend)
    operator = steady_state_operator(net.weights)
    tradeoffs = np.asarray(tradeoffs, dtype=float)
    out = {k: np.zeros((len(tradeoffs), 2)) for k in ("error", "activity", "mean_gain")}
    for e, pi in enumerate((0.0, adapter_probability)):
        p = ensemble(params, net, pi)
        ref = accuracy_ensemble(p, params.accuracy_weighting)
        for k, lam in enumerate(tradeoffs):
            g = optimal_gains(operator, net.drive, p, float(lam), ref)
            terms = objective_terms(g, operator, net.drive, p, float(lam), ref)
            out["error"][k, e], out["activity"][k, e] = terms.error, terms.activity
            out["mean_gain"][k, e] = float(np.mean(to_numpy(g)))
    return xr.Dataset({k: (("tradeoff", "ensemble"), v) for k, v in out.items()},
                      coords={"tradeoff": tradeoffs, "ensemble": ["uniform", "biased"]},
                      attrs={"model": model, "adapter_probability": float(adapter_probability)})


class GainControlAdaptation:
    """Object-style wrapper: ``GainControlAdaptation(model='recurrent').simulate(0.5)``.

    A simulation of a model network, not a fit to data: the verb is :meth:`simulate`.
    Attributes set by :meth:`simulate`: ``result_`` (the Dataset of
    :func:`simulate_adaptation`), ``gains_unadapted_``, ``gains_adapted_``,
    ``weights_adapted_``, ``effects_`` (dict), ``n_iter_`` and ``converged_`` (the
    homeostatic weight iteration of the ``synaptic`` model; 0 and True for the others,
    whose gains are found in closed form).
    """

    def __init__(self, model: str = "recurrent", backend: str = "numpy", device: str = "cpu", **settings):
        self.model = model
        self.backend = backend
        self.device = device
        self.params = GainControlParams.from_mapping(settings)

    def get_params(self, deep: bool = True) -> dict:
        return {"model": self.model, "backend": self.backend, "device": self.device, **asdict(self.params)}

    def simulate(self, adapter_probability: float) -> GainControlAdaptation:
        """Run one adaptation experiment (:func:`simulate_adaptation`) and keep its results.

        Parameters
        ----------
        adapter_probability : float
            π of the biased ensemble, in (0, 1).

        Returns
        -------
        GainControlAdaptation
            ``self``, with the attributes listed in the class docstring.
        """
        be = Backend(self.backend, self.device)
        self.result_ = simulate_adaptation(adapter_probability, self.model, self.params, be)
        self.gains_unadapted_ = self.result_["gain_unadapted"].values
        self.gains_adapted_ = self.result_["gain_adapted"].values
        self.weights_adapted_ = self.result_["weights_adapted"].values
        self.effects_ = summarise_effects(self.result_)
        self.n_iter_ = int(self.result_.attrs["synaptic_steps"])
        self.converged_ = bool(self.result_.attrs["synaptic_converged"])
        return self


def tradeoff_curves(tradeoffs, adapter_probabilities, models=("recurrent", "feedforward"),
                    params: GainControlParams | None = None, backend: Backend | None = None):
    """:func:`tradeoff_curve` for every model and adapter probability, stacked.

    Returns
    -------
    xarray.Dataset
        dims ``model``, ``adapter_probability``, ``tradeoff``, ``ensemble``.
    """
    import xarray as xr

    models = [m for m in models if m != "synaptic"]   # no trade-off weight in the synaptic model
    per_model = []
    with Progress(len(models) * len(adapter_probabilities), "trade-off curves", every_s=STEP_EVERY_S,
                  heartbeat=True) as bar:
        for m in models:
            curves = []
            for pi in adapter_probabilities:
                bar.update(0, model=m, adapter_probability=float(pi))
                curves.append(tradeoff_curve(tradeoffs, pi, m, params, backend))
                bar.update(1)
            per_model.append(xr.concat(curves, dim="adapter_probability"))
    out = xr.concat(per_model, dim="model").drop_attrs()
    return out.assign_coords(model=list(models), adapter_probability=[float(p) for p in adapter_probabilities])


TABLE_COLUMNS = ("model", "ensemble_convention", "adapter_probability", "peak_suppression", "suppression_centre_deg",
                 "max_min_ratio_difference", "max_repulsion_deg", "repulsion_distance_deg", "max_attraction_deg",
                 "covariance_distance_unadapted", "covariance_distance_adapted", "decorrelation",
                 "correlation_distance_unadapted", "correlation_distance_adapted", "correlation_decorrelation",
                 "cv_unadapted", "cv_adapted", "equalisation", "far_max_ratio", "far_gain_ratio",
                 "facilitated_fraction", "population_ratio_adapter", "population_ratio_orthogonal",
                 "adapter_specificity", "separable_variance_explained", "stimulus_factor_adapter",
                 "stimulus_factor_range", "synaptic_steps")


def effects_table(datasets):
    """One row per experiment (model × adapter probability), one column per effect.

    Parameters
    ----------
    datasets : iterable of xarray.Dataset
        Results of :func:`simulate_adaptation`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS` (definitions in :func:`summarise_effects`), sorted by
        model (recurrent, feedforward, synaptic) and adapter probability.
    """
    import pandas as pd

    rows = []
    for ds in datasets:
        effects = summarise_effects(ds)
        rows.append({"model": ds.attrs["model"], "ensemble_convention": ds.attrs.get("ensemble_convention", "authors"),
                     "adapter_probability": float(ds.attrs["adapter_probability"]),
                     **effects, "synaptic_steps": int(ds.attrs.get("synaptic_steps", 0))})
    if not rows:
        raise InvalidInputError("no simulation results to tabulate", field="datasets")
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    table["model"] = pd.Categorical(table["model"], categories=[m for m in MODELS if m in set(table["model"])],
                                    ordered=True)
    return table.sort_values(["ensemble_convention", "model", "adapter_probability"]).reset_index(
        drop=True).astype({"model": str})
