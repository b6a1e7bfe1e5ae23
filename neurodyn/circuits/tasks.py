"""Cognitive tasks as small seeded trial generators (neurogym-style, 8 steps per trial).

The three tasks of Liu et al. (ICLR 2024, App. B), built as in neurogym (Molano-Mazón et
al. 2022) with dt = τ so that one trial has 8 steps.  Every task has a fixation input
channel (1 until the decision step, 0 there), label 0 ("fixate") on every step except
the decision step, and Gaussian input noise N(0, σ²), σ = 0.1, while a stimulus is shown:
on the stimulus channels for 2AF and DMS, on every input channel for CXT (neurogym's
``add_randn(0, sigma, 'stimulus')`` without a channel selection, as in the neurogym version
the paper used).  Timing follows the paper's neurogym settings with no fixation-only
epoch: the 2AF stimulus starts at step 0.

=====  ====================================================================================
task   epochs (steps) and channels
=====  ====================================================================================
2AF    perceptual decision making: stimulus 0–6, decision 7.  Inputs
       ``[fixation, stim_1, stim_2]``, ``stim_c = 0.5 ± coh/200`` (+ for the correct side),
       coh ∈ {0, 6.4, 12.8, 25.6, 51.2}; label at 7 is the correct side (1 or 2).
DMS    delayed match-to-sample: sample 0, delay 1–5, test 6, decision 7.  Inputs
       ``[fixation, stim_1, stim_2]`` (one-hot direction of the sample / test stimulus);
       label at 7 is 1 for match, 2 for non-match.
CXT    context-dependent decision making: stimulus 0–1, delay 2–6, decision 7.  Inputs
       ``[fixation, mod1_1, mod1_2, mod2_1, mod2_2, ctx_1, ctx_2]``; each modality has its
       own side and coherence (coh ∈ {5, 15, 50}, ``0.5 ± coh/200``); the context one-hot
       stays on for the whole trial and says which modality to report; label at 7 is the
       side of the attended modality (1 or 2).  Noise on all 7 channels during 0–1.
=====  ====================================================================================

At coherence 0 the correct side is random, so 2AF accuracy is bounded below 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from neurodyn.errors import InvalidInputError

N_STEPS = 8
DECISION_STEP = 7
INPUT_NOISE_SD = 0.1


@dataclass(frozen=True)
class TaskSpec:
    """Static description of a task: channels, outputs and epochs (step ranges)."""

    name: str
    long_name: str
    input_names: tuple[str, ...]
    n_out: int
    epochs: dict[str, tuple[int, int]] = field(default_factory=dict)  # [start, stop) steps
    coherences: tuple[float, ...] = ()
    n_steps: int = N_STEPS
    decision_step: int = DECISION_STEP

    @property
    def n_in(self) -> int:
        return len(self.input_names)


class Trials(NamedTuple):
    """A batch of trials.

    Attributes
    ----------
    inputs : (T, B, n_in) float inputs.
    labels : (T, B) int labels (0 fixate, 1/2 choices).
    conditions : dict of (B,) arrays describing each trial (coherence, side, …).
    """

    inputs: np.ndarray
    labels: np.ndarray
    conditions: dict


TASKS: dict[str, TaskSpec] = {
    "2AF": TaskSpec(
        "2AF", "perceptual decision making", ("fixation", "stim_1", "stim_2"), 3,
        {"stimulus": (0, 7), "decision": (7, 8)}, (0.0, 6.4, 12.8, 25.6, 51.2)),
    "DMS": TaskSpec(
        "DMS", "delayed match-to-sample", ("fixation", "stim_1", "stim_2"), 3,
        {"sample": (0, 1), "delay": (1, 6), "test": (6, 7), "decision": (7, 8)}),
    "CXT": TaskSpec(
        "CXT", "context-dependent decision making",
        ("fixation", "mod1_1", "mod1_2", "mod2_1", "mod2_2", "ctx_1", "ctx_2"), 3,
        {"stimulus": (0, 2), "delay": (2, 7), "decision": (7, 8)}, (5.0, 15.0, 50.0)),
}


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` called ``name`` (``2AF``, ``DMS`` or ``CXT``)."""
    if name not in TASKS:
        raise InvalidInputError(f"unknown task {name!r}; expected one of {sorted(TASKS)}", field="task")
    return TASKS[name]


def _empty(spec: TaskSpec, batch: int):
    x = np.zeros((spec.n_steps, batch, spec.n_in))
    x[: spec.decision_step, :, 0] = 1.0  # fixation cue until the go signal
    labels = np.zeros((spec.n_steps, batch), dtype=np.int64)
    return x, labels


def _two_choice(side: np.ndarray, coh: np.ndarray) -> np.ndarray:
    """(B, 2) stimulus values ``0.5 ± coh/200`` favouring ``side`` (0 or 1)."""
    sign = np.where(side == 0, 1.0, -1.0)
    first = 0.5 + sign * coh / 200.0
    second = 0.5 - sign * coh / 200.0
    return np.stack([first, second], axis=1)


def perceptual_decision(batch: int, random_state: int | np.random.Generator | None = None,
                        noise_sd: float = INPUT_NOISE_SD) -> Trials:
    """2AF perceptual decision making (see the module table)."""
    rng = np.random.default_rng(random_state)
    spec = TASKS["2AF"]
    x, labels = _empty(spec, batch)
    side = rng.integers(0, 2, batch)
    coh = rng.choice(np.asarray(spec.coherences), batch)
    start, stop = spec.epochs["stimulus"]
    x[start:stop, :, 1:3] = _two_choice(side, coh)[None]
    x[start:stop, :, 1:3] += rng.normal(0.0, noise_sd, (stop - start, batch, 2))
    labels[spec.decision_step] = side + 1
    return Trials(x, labels, {"side": side, "coherence": coh})


def delayed_match_to_sample(batch: int, random_state: int | np.random.Generator | None = None,
                            noise_sd: float = INPUT_NOISE_SD) -> Trials:
    """Delayed match-to-sample (see the module table)."""
    rng = np.random.default_rng(random_state)
    spec = TASKS["DMS"]
    x, labels = _empty(spec, batch)
    sample = rng.integers(0, 2, batch)
    match = rng.integers(0, 2, batch).astype(bool)
    test = np.where(match, sample, 1 - sample)
    for epoch, direction in (("sample", sample), ("test", test)):
        start, stop = spec.epochs[epoch]
        x[start:stop, np.arange(batch), 1 + direction] = 1.0
        x[start:stop, :, 1:3] += rng.normal(0.0, noise_sd, (stop - start, batch, 2))
    labels[spec.decision_step] = np.where(match, 1, 2)
    return Trials(x, labels, {"sample": sample, "test": test, "match": match})


def context_decision(batch: int, random_state: int | np.random.Generator | None = None,
                     noise_sd: float = INPUT_NOISE_SD) -> Trials:
    """Context-dependent decision making (see the module table)."""
    rng = np.random.default_rng(random_state)
    spec = TASKS["CXT"]
    x, labels = _empty(spec, batch)
    side = rng.integers(0, 2, (2, batch))
    coh = rng.choice(np.asarray(spec.coherences), (2, batch))
    context = rng.integers(0, 2, batch)
    start, stop = spec.epochs["stimulus"]
    for m in range(2):
        channels = slice(1 + 2 * m, 3 + 2 * m)
        x[start:stop, :, channels] = _two_choice(side[m], coh[m])[None]
    x[:, np.arange(batch), 5 + context] = 1.0
    # neurogym adds the stimulus-period noise to every input channel of this task
    x[start:stop] += rng.normal(0.0, noise_sd, (stop - start, batch, spec.n_in))
    labels[spec.decision_step] = side[context, np.arange(batch)] + 1
    return Trials(x, labels, {"context": context, "side_mod1": side[0], "side_mod2": side[1],
                              "coherence_mod1": coh[0], "coherence_mod2": coh[1]})


GENERATORS = {"2AF": perceptual_decision, "DMS": delayed_match_to_sample, "CXT": context_decision}


def sample_trials(task: str, batch: int, random_state: np.random.Generator | int | None = None,
                  noise_sd: float = INPUT_NOISE_SD) -> Trials:
    """Draw ``batch`` trials of ``task`` with a seeded generator (or seed).

    Returns
    -------
    :class:`Trials` with ``inputs`` (8, batch, n_in) and ``labels`` (8, batch).
    """
    get_task(task)
    if int(batch) < 1:
        raise InvalidInputError(f"batch must be a positive integer, got {batch}", field="batch")
    if noise_sd < 0:
        raise InvalidInputError(f"noise_sd must be >= 0, got {noise_sd}", field="noise_sd")
    rng = np.random.default_rng(random_state)
    return GENERATORS[task](int(batch), rng, float(noise_sd))
