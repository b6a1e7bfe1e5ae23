"""Planted-truth cohorts for the dynamic functional connectome.

Neurons form *communities* that co-activate: every community ``c`` of component ``k`` has
a shared smooth latent drive ``d_akc(t)`` (drawn anew in every animal), and its members'
firing rates follow it while the component is switched on; ``q_ai`` is each neuron's
private drive of relative size ``γ``, which the shared drives take over (``s_ai(t)`` is the
summed ``w_ak p_k(t)`` of the neuron's communities), so that switching a community on
changes *who moves together* rather than how much each neuron moves:

    r_ai(t) = b + α · (Σ_k Σ_c [i ∈ C_kc] · w_ak · p_k(t) · d_akc(t) + γ · (1 − s_ai(t))⁺ · q_ai(t))

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

from neurodyn.backend import seed_attrs
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


def latent_drive(n_time: int, sampling_rate_hz: float, timescale_s: float,
                 random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """A smooth non-negative drive: white noise low-passed at ``timescale_s``, z-scored, rectified.

    Half of the time it is 0; when on it rises and falls smoothly over ~``timescale_s``,
    like the slow co-fluctuations of whole-brain worm recordings.
    """
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(random_state)
    z = gaussian_filter1d(rng.normal(size=n_time), sigma=max(timescale_s * sampling_rate_hz, 0.5), mode="wrap")
    z = (z - z.mean()) / (z.std() + 1e-12)
    return np.maximum(z, 0.0)


def planted_community_cohort(
    n_animals: int = 3,
    n_neurons: int = 24,
    n_time: int = 900,
    sampling_rate_hz: float = 2.0,
    random_state: int | np.random.Generator | None = 0,
    *,
    n_components: int = 3,
    n_communities: int = 2,
    community_size: int = 8,
    n_epochs: int = 6,
    overlap: float = 0.0,
    ramp_s: float = 2.0,
    loading_min: float = 0.4,
    baseline_rate_hz: float = 0.5,
    drive_rate_hz: float = 8.0,
    timescale_s: float = 2.0,
    private_gain: float = 1.0,
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
    random_state : int, numpy Generator or None
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
    baseline_rate_hz, drive_rate_hz : float
        Rate model (see module doc): baseline rate and rate per unit of drive at full loading.
    timescale_s : float
        Time scale of the shared and private drives (:func:`latent_drive`).
    private_gain : float
        Amplitude of each neuron's private drive relative to the shared one (neurons stay
        active while their components are off).
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
    rng = np.random.default_rng(random_state)
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
        # Share of each neuron's activity taken over by its communities at each time.
        coupled = np.zeros((n_time, n_neurons))
        for k in range(n_components):
            for c in range(1, n_communities + 1):
                drive = latent_drive(n_time, sampling_rate_hz, timescale_s, arng)
                idx = np.flatnonzero(community[k] == c)
                gain = loading[a, k] * profile[k]
                rates[:, idx] += (drive_rate_hz * gain * drive)[:, None]
                coupled[:, idx] += gain[:, None]
        private = np.stack([latent_drive(n_time, sampling_rate_hz, timescale_s, arng) for _ in range(n_neurons)], 1)
        rates += drive_rate_hz * private_gain * np.clip(1.0 - coupled, 0.0, 1.0) * private
        keep = np.ones(n_neurons, dtype=bool)
        if a > 0 and n_missing > 0 and droppable.size:
            keep[arng.choice(droppable, size=min(n_missing, droppable.size), replace=False)] = False
        present[a] = keep
        rec = synthetic_recording(rates[:, keep], sampling_rate_hz, animal=animals[a], random_state=arng,
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
        attrs={"generator": "planted_communities", **seed_attrs(random_state), "sampling_rate_hz": float(sampling_rate_hz),
               "n_communities": int(n_communities), "community_size": int(community_size),
               "noise_sd": float(noise_sd), "drive_rate_hz": float(drive_rate_hz)},
    )
    truth["time"].attrs["units"] = "s"
    return recordings, truth
