"""Planted-truth cohorts for the dynamic functional connectome, planted in the dynamics.

Four generators, each returning ``(recordings, truth)``:

- :func:`planted_community_cohort` — the pipeline's small planted dataset (model below);
- :func:`switching_cohort` — the same model at worm size, with configurations of
  communities taking turns, heterogeneous neurons, a weakly coupled animal, missing
  neurons and untracked gaps;
- :func:`rate_network_cohort` — a rectified rate network whose block-structured
  recurrent coupling switches on and off, read out as spikes and calcium;
- :func:`global_drive_cohort` — switching communities under a brain-wide slow drive
  shared by most neurons, planted as a ``background`` component.

The last three have two noise levels (:data:`NOISE_LEVELS`, ``noise="low"`` / ``"high"``).

The model of :func:`planted_community_cohort`:

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


# ---------------------------------------------------------------------------------------
# Worm-sized trace-level generators with two noise levels
# ---------------------------------------------------------------------------------------

#: Observation noise of the trace-level generators: ``noise_sd`` is the additive
#: fluorescence noise (one spike's transient peaks at 1), ``private_gain`` the size of each
#: neuron's own drive relative to the shared ones, ``fast_noise`` the white part of the
#: rate network's input relative to its smooth part.  Chosen so that the default affinity
#: tensor of a default-sized cohort has a relative error of 0.45–0.65 at rank 5, as the
#: bundled worms' tensors do (``benchmarks/connectome_from_traces.py --calibrate``).
NOISE_LEVELS = {
    "switching": {"low": dict(noise_sd=0.1, private_gain=0.5), "high": dict(noise_sd=0.4, private_gain=1.5)},
    "rate_network": {"low": dict(noise_sd=0.1, fast_noise=0.5), "high": dict(noise_sd=0.4, fast_noise=1.0)},
    "global_drive": {"low": dict(noise_sd=0.1, private_gain=0.5), "high": dict(noise_sd=0.4, private_gain=1.5)},
}


def _noise_level(generator: str, noise: str) -> dict:
    levels = NOISE_LEVELS[generator]
    if noise not in levels:
        raise InvalidInputError(f"{noise!r}, expected one of {sorted(levels)}", field="noise")
    return dict(levels[noise])


def _check_sizes(n_animals, n_neurons, n_time, n_components, n_communities, community_size, n_epochs,
                 sampling_rate_hz) -> None:
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


def _schedule(n_time, n_components, n_epochs, overlap, ramp_s, sampling_rate_hz, rng):
    """Epoch schedule, frame → epoch, epoch edges and the smooth on/off profiles (K, T)."""
    active = _epoch_schedule(n_epochs, n_components, overlap, rng)
    edges = np.linspace(0, n_time, n_epochs + 1).round().astype(int)
    epoch_of_frame = np.searchsorted(edges[1:], np.arange(n_time), side="right")
    ramp = int(round(ramp_s * sampling_rate_hz))
    profile = np.stack([_smooth_box(active[epoch_of_frame, k], ramp) for k in range(n_components)])
    return active, edges, epoch_of_frame, profile


def _memberships(n_components, n_communities, community_size, n_neurons, rng) -> np.ndarray:
    """(K, N) community labels: 0 outside, 1…C inside; disjoint within a component."""
    community = np.zeros((n_components, n_neurons), dtype=np.int64)
    for k in range(n_components):
        members = rng.permutation(n_neurons)[: n_communities * community_size]
        for c in range(n_communities):
            community[k, members[c * community_size:(c + 1) * community_size]] = c + 1
    return community


def _missing_and_gaps(n_animals, n_neurons, n_time, sampling_rate_hz, n_missing, n_gap_neurons, gap_s, rng):
    """Which neurons each animal records, and its untracked frames.

    Animal 0 records every neuron; every other animal misses ``n_missing`` neurons (a
    neuron is missing from one animal at most, so every pair is seen somewhere) and loses
    ``n_gap_neurons`` of the rest for one stretch of ``gap_s`` seconds each.
    """
    present = np.ones((n_animals, n_neurons), dtype=bool)
    tracked = np.ones((n_animals, n_time, n_neurons), dtype=bool)
    pool = list(rng.permutation(n_neurons))
    gap = min(int(round(gap_s * sampling_rate_hz)), n_time // 4)
    for a in range(1, n_animals):
        take = [pool.pop() for _ in range(min(n_missing, max(len(pool) - 2, 0)))]
        present[a, take] = False
        if gap > 0 and n_gap_neurons > 0:
            kept = np.flatnonzero(present[a])
            for i in rng.choice(kept, size=min(n_gap_neurons, kept.size), replace=False):
                start = int(rng.integers(0, n_time - gap))
                tracked[a, start:start + gap, i] = False
    return present, tracked


def _render(rates, present_a, tracked_a, sampling_rate_hz, animal, names, rng, *, behavior, noise_sd,
            amplitude, generator):
    """Rates (T, N) → Poisson spikes → calcium; absent neurons dropped, untracked frames NaN."""
    keep = np.flatnonzero(present_a)
    rec = synthetic_recording(rates[:, keep], sampling_rate_hz, animal=animal, random_state=rng,
                              neuron_names=[names[i] for i in keep], behavior=behavior, noise_sd=noise_sd,
                              amplitude=amplitude)
    untracked = ~tracked_a[:, keep]
    if untracked.any():
        traces = rec["traces"].values.copy()
        traces[untracked] = np.nan
        rec["traces"].values = traces
    rec.attrs["generator"] = generator
    return rec


def _truth(generator, *, profile, loading, community, pair_weight, background, present, tracked, edges, active,
           sampling_rate_hz, animals, names, random_state, attrs) -> xr.Dataset:
    n_components, n_time = profile.shape
    truth = xr.Dataset(
        {
            "temporal_profile": (("component", "time"), profile),
            "animal_loading": (("animal", "component"), loading),
            "community": (("component", "neuron"), community),
            "pair_weight": (("component", "neuron", "neuron_b"), pair_weight.astype(np.float64)),
            "background": (("component",), background),
            "present": (("animal", "neuron"), present),
            "tracked_fraction": (("animal", "neuron"), np.where(present, tracked.mean(axis=1), 0.0)),
            "epoch_start_s": (("epoch",), edges[:-1] / sampling_rate_hz),
            "epoch_end_s": (("epoch",), edges[1:] / sampling_rate_hz),
            "epoch_active": (("epoch", "component"), active),
        },
        coords={"component": np.arange(n_components), "time": np.arange(n_time) / sampling_rate_hz,
                "animal": animals, "neuron": names, "neuron_b": names, "epoch": np.arange(len(edges) - 1)},
        attrs={"generator": generator, **seed_attrs(random_state), "sampling_rate_hz": float(sampling_rate_hz),
               "n_planted": int((~background).sum()), **attrs},
    )
    truth["time"].attrs["units"] = "s"
    return truth


def _within_blocks(community: np.ndarray) -> np.ndarray:
    same = (community[:, :, None] == community[:, None, :]) & (community[:, :, None] > 0)
    return same & ~np.eye(community.shape[1], dtype=bool)[None]


def _driven_cohort(generator, n_animals, n_neurons, n_time, sampling_rate_hz, random_state, *, n_components,
                   n_communities, community_size, n_epochs, overlap, ramp_s, loading_min, weak_animal,
                   baseline_rate_hz, drive_rate_hz, timescale_s, private_gain, rate_spread, n_missing,
                   n_gap_neurons, gap_s, noise_sd, dataset, global_fraction=0.0, global_gain=0.0,
                   global_timescale_s=8.0, global_bouts=3, global_bout_s=120.0):
    """Shared-drive communities (the model of :func:`planted_community_cohort`), optionally
    under a brain-wide drive; see :func:`switching_cohort` and :func:`global_drive_cohort`."""
    _check_sizes(n_animals, n_neurons, n_time, n_components, n_communities, community_size, n_epochs,
                 sampling_rate_hz)
    rng = np.random.default_rng(random_state)
    names = [f"n{i:03d}" for i in range(n_neurons)]
    animals = [f"{dataset}{a:02d}" for a in range(n_animals)]
    active, edges, epoch_of_frame, profile = _schedule(n_time, n_components, n_epochs, overlap, ramp_s,
                                                       sampling_rate_hz, rng)
    community = _memberships(n_components, n_communities, community_size, n_neurons, rng)
    loading = rng.uniform(loading_min, 1.0, size=(n_animals, n_components))
    if weak_animal is not None and n_animals > 1:
        loading[n_animals - 1] *= weak_animal
    # Neuron-level activity: each neuron's rates scaled by its own lognormal gain.
    neuron_gain = np.exp(rate_spread * rng.normal(size=n_neurons) - rate_spread ** 2 / 2)
    present, tracked = _missing_and_gaps(n_animals, n_neurons, n_time, sampling_rate_hz, n_missing,
                                         n_gap_neurons, gap_s, rng)
    with_global = global_fraction > 0 and global_gain > 0
    if with_global:
        on = np.zeros(n_time, dtype=bool)
        bout = int(round(global_bout_s * sampling_rate_hz))
        if n_time - bout < global_bouts:  # a recording too short for the bouts: shorter ones
            bout = max(n_time // (2 * global_bouts), 1)
        for start in np.sort(rng.choice(n_time - bout, size=global_bouts, replace=False)):
            on[start:start + bout] = True
        g_profile = 0.25 + 0.75 * _smooth_box(on, int(round(10 * sampling_rate_hz)))
        n_global = int(round(global_fraction * n_neurons))
        g_members = np.zeros(n_neurons, dtype=bool)
        g_members[rng.permutation(n_neurons)[:n_global]] = True
        g_weight = np.where(g_members, rng.uniform(0.6, 1.0, size=n_neurons), 0.0)
        g_loading = rng.uniform(loading_min, 1.0, size=n_animals)
    amplitude = rng.uniform(0.7, 1.3, size=n_animals)
    recordings = []
    for a in range(n_animals):
        arng = np.random.default_rng(rng.integers(2**63))
        rates = np.zeros((n_time, n_neurons))
        coupled = np.zeros((n_time, n_neurons))
        for k in range(n_components):
            for c in range(1, n_communities + 1):
                drive = latent_drive(n_time, sampling_rate_hz, timescale_s, arng)
                idx = np.flatnonzero(community[k] == c)
                gain = loading[a, k] * profile[k]
                rates[:, idx] += (gain * drive)[:, None]
                coupled[:, idx] += gain[:, None]
        private = np.stack([latent_drive(n_time, sampling_rate_hz, timescale_s, arng) for _ in range(n_neurons)], 1)
        rates += private_gain * np.clip(1.0 - coupled, 0.0, 1.0) * private
        if with_global:
            g_drive = latent_drive(n_time, sampling_rate_hz, global_timescale_s, arng)
            rates += global_gain * g_loading[a] * (g_profile * g_drive)[:, None] * g_weight[None]
        rates = baseline_rate_hz + drive_rate_hz * neuron_gain[None] * rates
        recordings.append(_render(rates, present[a], tracked[a], sampling_rate_hz, animals[a], names, arng,
                                  behavior={"epoch": epoch_of_frame.astype(np.int64)}, noise_sd=noise_sd,
                                  amplitude=float(amplitude[a]), generator=generator))
    pair_weight = _within_blocks(community).astype(np.float64)
    background = np.zeros(n_components, dtype=bool)
    if with_global:
        profile = np.vstack([profile, g_profile[None]])
        loading = np.hstack([loading, g_loading[:, None]])
        community = np.vstack([community, g_members[None].astype(np.int64)])
        gw = np.outer(g_weight, g_weight)
        np.fill_diagonal(gw, 0.0)
        pair_weight = np.concatenate([pair_weight, gw[None]])
        background = np.append(background, True)
        active = np.hstack([active, np.zeros((n_epochs, 1), dtype=bool)])
    truth = _truth(generator, profile=profile, loading=loading, community=community, pair_weight=pair_weight,
                   background=background, present=present, tracked=tracked, edges=edges, active=active,
                   sampling_rate_hz=sampling_rate_hz, animals=animals, names=names, random_state=random_state,
                   attrs={"noise_sd": float(noise_sd), "private_gain": float(private_gain),
                          "n_communities": int(n_communities), "community_size": int(community_size),
                          "rate_spread": float(rate_spread), "global_fraction": float(global_fraction),
                          "global_gain": float(global_gain)})
    truth["neuron_gain"] = (("neuron",), neuron_gain)
    truth["animal_amplitude"] = (("animal",), amplitude)
    return recordings, truth


def switching_cohort(n_animals: int = 3, n_neurons: int = 60, n_time: int = 1800, sampling_rate_hz: float = 2.0,
                     random_state: int | np.random.Generator | None = 0, *, noise: str = "low",
                     n_components: int = 2, n_communities: int = 3, community_size: int = 8, n_epochs: int = 8,
                     overlap: float = 0.0, ramp_s: float = 5.0, loading_min: float = 0.6,
                     weak_animal: float | None = 0.6, baseline_rate_hz: float = 0.5, drive_rate_hz: float = 8.0,
                     timescale_s: float = 2.0, rate_spread: float = 0.4, n_missing: int = 4,
                     n_gap_neurons: int = 6, gap_s: float = 30.0, dataset: str = "switching",
                     **noise_overrides) -> tuple[list[xr.Dataset], xr.Dataset]:
    """Configurations of communities that alternate over time, in a worm-sized cohort.

    The shared-drive model of :func:`planted_community_cohort` (module doc): each of the
    ``n_components`` configurations groups ``n_communities × community_size`` neurons into
    communities whose members follow one smooth shared drive while the configuration is
    on; the ``n_epochs`` epochs switch the configurations on in turn (``e mod K``), so the
    same neurons regroup from one epoch to the next.  On top of that model:

    - neurons differ in activity: each neuron's rate per unit drive is scaled by a
      lognormal gain (log-SD ``rate_spread``), so a busy neuron is not a community;
    - animals differ: loadings uniform on ``[loading_min, 1]``, the last animal's scaled
      by ``weak_animal`` (weakly coupled), and a fluorescence amplitude per animal;
    - every animal but the first misses ``n_missing`` neurons (each missing in one animal
      at most) and loses ``n_gap_neurons`` neurons for ``gap_s`` seconds (NaN frames).

    Default size: 3 animals, 60 neurons, 15 min at 2 Hz.  ``noise`` (``"low"`` or
    ``"high"``) picks ``noise_sd`` and ``private_gain`` from :data:`NOISE_LEVELS`; either can
    be given as a keyword instead.

    Returns
    -------
    recordings : list of Recording
    truth : xarray.Dataset
        As :func:`planted_community_cohort`'s, plus ``background (component)`` (all False
        here), ``tracked_fraction (animal, neuron)``, ``neuron_gain (neuron)`` and
        ``animal_amplitude (animal)``; attr ``n_planted`` (community components).
    """
    level = {**_noise_level("switching", noise), **noise_overrides}
    return _driven_cohort("switching", n_animals, n_neurons, n_time, sampling_rate_hz, random_state,
                          n_components=n_components, n_communities=n_communities, community_size=community_size,
                          n_epochs=n_epochs, overlap=overlap, ramp_s=ramp_s, loading_min=loading_min,
                          weak_animal=weak_animal, baseline_rate_hz=baseline_rate_hz, drive_rate_hz=drive_rate_hz,
                          timescale_s=timescale_s, rate_spread=rate_spread, n_missing=n_missing,
                          n_gap_neurons=n_gap_neurons, gap_s=gap_s, dataset=dataset, **level)


def global_drive_cohort(n_animals: int = 3, n_neurons: int = 60, n_time: int = 1800, sampling_rate_hz: float = 2.0,
                        random_state: int | np.random.Generator | None = 0, *, noise: str = "low",
                        n_components: int = 2, n_communities: int = 3, community_size: int = 8,
                        n_epochs: int = 8, overlap: float = 0.0, ramp_s: float = 5.0, loading_min: float = 0.6,
                        weak_animal: float | None = None, baseline_rate_hz: float = 0.5,
                        drive_rate_hz: float = 8.0, timescale_s: float = 2.0, rate_spread: float = 0.4,
                        global_fraction: float = 0.85, global_gain: float = 1.0, global_timescale_s: float = 8.0,
                        global_bouts: int = 3, global_bout_s: float = 120.0, n_missing: int = 4,
                        n_gap_neurons: int = 6, gap_s: float = 30.0, dataset: str = "global",
                        **noise_overrides) -> tuple[list[xr.Dataset], xr.Dataset]:
    """Switching communities under a brain-wide co-activation shared by most neurons.

    :func:`switching_cohort`'s model plus one slow drive (time scale
    ``global_timescale_s``, arousal-like) that a random ``global_fraction`` of the neurons
    follow with weights uniform on [0.6, 1], at ``global_gain`` times a community drive's
    size and an animal loading of its own.  Its strength varies slowly: 1 during
    ``global_bouts`` bouts of ``global_bout_s`` seconds (smooth 10-s edges), 0.25 between
    them, independently of the community epochs.

    The truth holds it as one more component, the last, with ``background`` True: its
    temporal profile is that envelope, its pair weight ``β_i β_j`` over the participating
    neurons, its "community" 1 on them and 0 elsewhere.  ``attrs["n_planted"]`` counts the
    community components only.
    """
    level = {**_noise_level("global_drive", noise), **noise_overrides}
    return _driven_cohort("global_drive", n_animals, n_neurons, n_time, sampling_rate_hz, random_state,
                          n_components=n_components, n_communities=n_communities, community_size=community_size,
                          n_epochs=n_epochs, overlap=overlap, ramp_s=ramp_s, loading_min=loading_min,
                          weak_animal=weak_animal, baseline_rate_hz=baseline_rate_hz, drive_rate_hz=drive_rate_hz,
                          timescale_s=timescale_s, rate_spread=rate_spread, n_missing=n_missing,
                          n_gap_neurons=n_gap_neurons, gap_s=gap_s, dataset=dataset,
                          global_fraction=global_fraction, global_gain=global_gain,
                          global_timescale_s=global_timescale_s, global_bouts=global_bouts,
                          global_bout_s=global_bout_s, **level)


def rate_network_cohort(n_animals: int = 3, n_neurons: int = 60, n_time: int = 1800,
                        sampling_rate_hz: float = 2.0, random_state: int | np.random.Generator | None = 0, *,
                        noise: str = "low", n_components: int = 2, n_communities: int = 3,
                        community_size: int = 8, n_epochs: int = 8, overlap: float = 0.0, ramp_s: float = 5.0,
                        coupling: float = 0.9, tau_s: float = 0.5, input_timescale_s: float = 2.0,
                        loading_min: float = 0.7, baseline_rate_hz: float = 0.5, drive_rate_hz: float = 6.0,
                        rate_spread: float = 0.4, gain_min: float = 0.6, n_missing: int = 4,
                        n_gap_neurons: int = 6, gap_s: float = 30.0, substeps: int = 4, dataset: str = "ratenet",
                        **noise_overrides) -> tuple[list[xr.Dataset], xr.Dataset]:
    """A rectified rate network whose block-structured recurrent coupling switches on and off.

    Every animal runs the linear network

        τ dx/dt = −x + W_a(t) x + u(t),   W_a(t) = Σ_k w_ak p_k(t) W_k,

    read out through a rectifying nonlinearity, ``r_i = b + g_a ρ_i [x_i]₊`` (Hz), then
    Poisson spikes and calcium (:func:`neurodyn.data.synthetic.synthetic_recording`).

    - ``W_k`` couples the members of each community of configuration ``k`` to one another,
      ``coupling / community_size`` per connection, so a community's summed activity is
      amplified by ``1 / (1 − coupling (m − 1)/m)`` while ``p_k(t)`` switches it on: the
      members, driven only by independent inputs, co-fluctuate because of the coupling;
    - ``p_k(t)`` are the epoch profiles of :func:`switching_cohort` (configurations taking
      turns, ramps of ``ramp_s``); ``w_ak`` on ``[loading_min, 1]`` is how strongly animal
      ``a`` couples configuration ``k`` (the planted animal factor);
    - ``u_i(t)``: each neuron's own input, smooth (unit-SD noise low-passed at
      ``input_timescale_s``) plus white noise of relative size ``fast_noise``;
    - per-animal gain ``g_a`` uniform on ``[gain_min, 1]`` (rates) and per-neuron gain ``ρ_i``
      lognormal with log-SD ``rate_spread``;
    - missing neurons and untracked gaps as in :func:`switching_cohort`.

    Integrated by forward Euler with ``substeps`` steps per frame (``τ = tau_s``).
    ``noise`` picks ``noise_sd`` and ``fast_noise`` from :data:`NOISE_LEVELS`.

    Returns
    -------
    recordings, truth — as :func:`switching_cohort`; ``truth["animal_gain"]`` holds ``g_a``.
    """
    from scipy.ndimage import gaussian_filter1d

    level = {**_noise_level("rate_network", noise), **noise_overrides}
    noise_sd, fast_noise = float(level["noise_sd"]), float(level["fast_noise"])
    _check_sizes(n_animals, n_neurons, n_time, n_components, n_communities, community_size, n_epochs,
                 sampling_rate_hz)
    if not 0 <= coupling < 1:
        raise InvalidInputError(f"{coupling!r}, expected 0 <= coupling < 1 (a stable network)", field="coupling")
    if int(substeps) < 1 or not tau_s > 0:
        raise InvalidInputError(f"substeps={substeps!r}, tau_s={tau_s!r}; expected >= 1 and > 0", field="substeps")
    rng = np.random.default_rng(random_state)
    names = [f"n{i:03d}" for i in range(n_neurons)]
    animals = [f"{dataset}{a:02d}" for a in range(n_animals)]
    active, edges, epoch_of_frame, profile = _schedule(n_time, n_components, n_epochs, overlap, ramp_s,
                                                       sampling_rate_hz, rng)
    community = _memberships(n_components, n_communities, community_size, n_neurons, rng)
    blocks = _within_blocks(community).astype(np.float64) * (coupling / community_size)
    loading = rng.uniform(loading_min, 1.0, size=(n_animals, n_components))
    animal_gain = rng.uniform(gain_min, 1.0, size=n_animals)
    neuron_gain = np.exp(rate_spread * rng.normal(size=n_neurons) - rate_spread ** 2 / 2)
    present, tracked = _missing_and_gaps(n_animals, n_neurons, n_time, sampling_rate_hz, n_missing,
                                         n_gap_neurons, gap_s, rng)
    steps = int(substeps)
    dt = 1.0 / (sampling_rate_hz * steps)
    alpha = dt / tau_s
    n_steps = n_time * steps
    recordings = []
    for a in range(n_animals):
        arng = np.random.default_rng(rng.integers(2**63))
        smooth = gaussian_filter1d(arng.normal(size=(n_steps, n_neurons)), sigma=input_timescale_s / dt,
                                   axis=0, mode="wrap")
        smooth /= smooth.std(axis=0, keepdims=True) + 1e-12
        # White input scaled so its low-passed effect on x has SD ≈ fast_noise.
        u = smooth + fast_noise * np.sqrt(2.0 / alpha) * arng.normal(size=(n_steps, n_neurons))
        coef = loading[a][None, :] * np.repeat(profile.T, steps, axis=0)  # (n_steps, K)
        x = np.zeros(n_neurons)
        out = np.empty((n_time, n_neurons))
        for s in range(n_steps):
            x = x + alpha * (-x + np.einsum("k,kij,j->i", coef[s], blocks, x) + u[s])
            if s % steps == steps - 1:
                out[s // steps] = x
        rates = baseline_rate_hz + drive_rate_hz * animal_gain[a] * neuron_gain[None] * np.maximum(out, 0.0)
        recordings.append(_render(rates, present[a], tracked[a], sampling_rate_hz, animals[a], names, arng,
                                  behavior={"epoch": epoch_of_frame.astype(np.int64)}, noise_sd=noise_sd,
                                  amplitude=1.0, generator="rate_network"))
    truth = _truth("rate_network", profile=profile, loading=loading, community=community,
                   pair_weight=_within_blocks(community).astype(np.float64),
                   background=np.zeros(n_components, dtype=bool), present=present, tracked=tracked, edges=edges,
                   active=active, sampling_rate_hz=sampling_rate_hz, animals=animals, names=names,
                   random_state=random_state,
                   attrs={"noise_sd": noise_sd, "fast_noise": fast_noise, "coupling": float(coupling),
                          "n_communities": int(n_communities), "community_size": int(community_size),
                          "rate_spread": float(rate_spread)})
    truth["neuron_gain"] = (("neuron",), neuron_gain)
    truth["animal_gain"] = (("animal",), animal_gain)
    return recordings, truth


GENERATORS = {"switching": switching_cohort, "rate_network": rate_network_cohort,
              "global_drive": global_drive_cohort}
