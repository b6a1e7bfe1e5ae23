"""Planted-truth cohorts for the dynamic functional connectome.

Neurons form *communities* that co-activate: every community ``c`` of component ``k`` has
a shared latent burst train ``d_kc(t)``, and its members' firing rates follow it while the
component is switched on:

    r_ai(t) = b + Σ_k Σ_c [i ∈ C_kc] · α · w_ak · p_k(t) · d_kc(t) + private bursts_ai(t)

- ``p_k(t)`` ∈ [0, 1]: the temporal profile of component ``k``: on during some epochs,
  off during others, with smooth ramps (the planted *time* factor);
- ``w_ak`` ∈ [w_min, 1]: how strongly animal ``a`` expresses component ``k`` (the planted
  *animal* factor, different across animals);
- ``C_kc``: the neurons of community ``c`` in component ``k`` (the planted *pair* factor is
  the union of within-community blocks).

Rates become Poisson spikes and GCaMP-like calcium with
:func:`neurodyn.data.synthetic.synthetic_recording`.  All animals share neuron names
(``n000`` …) so the cohort aligns them; a few neurons are dropped from some animals so the
masked path of the factorization is exercised.  Neurons in communities are always kept,
since a planted neuron missing everywhere could not be recovered.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from neurodyn.data.synthetic import synthetic_recording
from neurodyn.errors import InvalidInputError


def _epoch_schedule(n_epochs: int, n_components: int, overlap: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Which components are on in each epoch: (n_epochs, n_components) bool.

    Epoch ``e`` always switches on component ``e mod K`` (so every component is seen and
    the profiles are linearly independent); with probability ``overlap`` a second one too.
    """
    active = np.zeros((n_epochs, n_components), dtype=bool)
    for e in range(n_epochs):
        active[e, e % n_components] = True
        if n_components > 1 and rng.uniform() < overlap:
            others = [k for k in range(n_components) if k != e % n_components]
            active[e, rng.choice(others)] = True
    return active


def _smooth_box(on: np.ndarray, ramp_frames: int) -> np.ndarray:
    """Turn a 0/1 frame sequence into a profile with linear ramps of ``ramp_frames``."""
    if ramp_frames <= 1:
        return on.astype(np.float64)
    kernel = np.ones(ramp_frames) / ramp_frames
    padded = np.pad(on.astype(np.float64), (ramp_frames, ramp_frames), mode="edge")
    return np.convolve(padded, kernel, mode="same")[ramp_frames:-ramp_frames]


def _burst_train(n_time: int, sampling_rate_hz: float, event_rate_hz: float,
                 duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """A 0/1 train of bursts: Poisson onsets at ``event_rate_hz``, each ``duration_s`` long."""
    onsets = rng.uniform(size=n_time) < event_rate_hz / sampling_rate_hz
    width = max(1, int(round(duration_s * sampling_rate_hz)))
    return (np.convolve(onsets.astype(np.float64), np.ones(width))[:n_time] > 0).astype(np.float64)


def planted_community_cohort(
    n_animals: int = 3,
    n_neurons: int = 24,
    n_time: int = 900,
    sampling_rate_hz: float = 2.0,
    seed: int = 0,
    *,
    n_components: int = 3,
    n_communities: int = 2,
    community_size: int = 5,
    n_epochs: int = 6,
    overlap: float = 0.25,
    ramp_s: float = 10.0,
    loading_min: float = 0.4,
    baseline_rate_hz: float = 0.2,
    drive_rate_hz: float = 12.0,
    event_rate_hz: float = 0.25,
    event_duration_s: float = 1.5,
    private_event_rate_hz: float = 0.05,
    n_missing: int = 2,
    noise_sd: float = 0.15,
    dataset: str = "synthetic",
) -> tuple[list[xr.Dataset], xr.Dataset]:
    """Recordings of ``n_animals`` animals with planted time-varying communities.

    Parameters
    ----------
    n_animals, n_neurons, n_time : int
        Cohort size; every animal has ``n_time`` frames.
    sampling_rate_hz : float
    seed : int
        Everything (schedule, memberships, loadings, spikes, noise) derives from it.
    n_components : int
        Planted components ``K`` (time profiles).
    n_communities, community_size : int
        Communities per component and neurons per community (drawn without replacement
        within a component; a neuron may belong to communities of several components).
    n_epochs : int
        Equal-length epochs; each switches components on or off (see ``overlap``).
    overlap : float
        Probability that an epoch switches on a second component.
    ramp_s : float
        Length of the on/off ramps of the temporal profiles, in seconds.
    loading_min : float
        Animal loadings ``w_ak`` are uniform on ``[loading_min, 1]``.
    baseline_rate_hz, drive_rate_hz, event_rate_hz, event_duration_s, private_event_rate_hz : float
        Rate model (see module doc): baseline rate, rate added by a shared burst at full
        loading, shared-burst onset rate and length, and each neuron's private burst rate
        (private bursts have the same amplitude, so that neurons are active when off).
    n_missing : int
        Neurons dropped from every animal but the first (never community members).
    noise_sd : float
        Additive fluorescence noise (one spike's calcium transient peaks at 1).
    dataset : str
        Prefix of the animal ids (``synthetic00`` …).

    Returns
    -------
    recordings : list of Recording, one per animal
    truth : xarray.Dataset
        ``temporal_profile`` (component, time), ``animal_loading`` (animal, component),
        ``community`` (component, neuron) int — 0 for neurons outside the component's
        communities, 1…C otherwise —, ``pair_weight`` (component, neuron, neuron_b)
        the planted within-community indicator, ``present`` (animal, neuron),
        ``epoch_start_s``/``epoch_end_s`` (epoch), ``epoch_active`` (epoch, component).
    """
    for name, value, low in (("n_animals", n_animals, 1), ("n_neurons", n_neurons, 2),
                             ("n_time", n_time, 10), ("n_components", n_components, 1),
                             ("n_communities", n_communities, 1), ("community_size", community_size, 2),
                             ("n_epochs", n_epochs, 1)):
        if int(value) < low:
            raise InvalidInputError(f"{value!r}, expected an integer >= {low}", field=name)
    if n_communities * community_size > n_neurons:
        raise InvalidInputError(f"{n_communities} communities of {community_size} neurons do not fit in "
                                f"{n_neurons} neurons", field="community_size")
    if not sampling_rate_hz > 0:
        raise InvalidInputError(f"{sampling_rate_hz!r}, expected a positive rate", field="sampling_rate_hz")
    rng = np.random.default_rng(seed)
    names = [f"n{i:03d}" for i in range(n_neurons)]
    animals = [f"{dataset}{a:02d}" for a in range(n_animals)]
    time = np.arange(n_time) / sampling_rate_hz

    # Epochs and temporal profiles.
    active = _epoch_schedule(n_epochs, n_components, overlap, rng)
    edges = np.linspace(0, n_time, n_epochs + 1).round().astype(int)
    epoch_of_frame = np.searchsorted(edges[1:], np.arange(n_time), side="right")
    ramp = int(round(ramp_s * sampling_rate_hz))
    profile = np.stack([_smooth_box(active[epoch_of_frame, k], ramp) for k in range(n_components)])

    # Communities: disjoint within a component, independent across components.
    community = np.zeros((n_components, n_neurons), dtype=np.int64)
    for k in range(n_components):
        members = rng.permutation(n_neurons)[: n_communities * community_size]
        for c in range(n_communities):
            community[k, members[c * community_size:(c + 1) * community_size]] = c + 1
    same = (community[:, :, None] == community[:, None, :]) & (community[:, :, None] > 0)
    pair_weight = same & ~np.eye(n_neurons, dtype=bool)[None]

    loading = rng.uniform(loading_min, 1.0, size=(n_animals, n_components))
    in_any = (community > 0).any(axis=0)
    droppable = np.flatnonzero(~in_any)
    present = np.ones((n_animals, n_neurons), dtype=bool)

    recordings = []
    for a in range(n_animals):
        arng = np.random.default_rng(rng.integers(2**63))
        rates = np.full((n_time, n_neurons), baseline_rate_hz)
        for k in range(n_components):
            for c in range(1, n_communities + 1):
                drive = _burst_train(n_time, sampling_rate_hz, event_rate_hz, event_duration_s, arng)
                idx = np.flatnonzero(community[k] == c)
                rates[:, idx] += (drive_rate_hz * loading[a, k] * profile[k] * drive)[:, None]
        for i in range(n_neurons):
            rates[:, i] += drive_rate_hz * _burst_train(n_time, sampling_rate_hz, private_event_rate_hz,
                                                        event_duration_s, arng)
        keep = np.ones(n_neurons, dtype=bool)
        if a > 0 and n_missing > 0 and droppable.size:
            keep[arng.choice(droppable, size=min(n_missing, droppable.size), replace=False)] = False
        present[a] = keep
        rec = synthetic_recording(rates[:, keep], sampling_rate_hz, animal=animals[a], seed=arng,
                                  neuron_names=[n for n, kp in zip(names, keep) if kp],
                                  behavior={"epoch": epoch_of_frame.astype(np.int64)}, noise_sd=noise_sd)
        rec.attrs["generator"] = "planted_communities"
        recordings.append(rec)

    truth = xr.Dataset(
        {
            "temporal_profile": (("component", "time"), profile),
            "animal_loading": (("animal", "component"), loading),
            "community": (("component", "neuron"), community),
            "pair_weight": (("component", "neuron", "neuron_b"), pair_weight.astype(np.float64)),
            "present": (("animal", "neuron"), present),
            "epoch_start_s": (("epoch",), edges[:-1] / sampling_rate_hz),
            "epoch_end_s": (("epoch",), edges[1:] / sampling_rate_hz),
            "epoch_active": (("epoch", "component"), active),
        },
        coords={"component": np.arange(n_components), "time": time, "animal": animals,
                "neuron": names, "neuron_b": names, "epoch": np.arange(n_epochs)},
        attrs={"generator": "planted_communities", "seed": int(seed), "sampling_rate_hz": float(sampling_rate_hz),
               "n_communities": int(n_communities), "community_size": int(community_size),
               "noise_sd": float(noise_sd), "drive_rate_hz": float(drive_rate_hz)},
    )
    truth["time"].attrs["units"] = "s"
    return recordings, truth
