"""Recurrent gain control: adaptive efficient coding in a fixed recurrent network.

Duong, Bredenberg, Heeger & Simoncelli (2023, arXiv 2305.19869): single-neuron gains of a
fixed recurrent ring network are set to optimise a trade-off between representation
accuracy and total activity; propagated through the recurrence, the gain changes alone
reproduce the adaptation effects measured by Benucci, Saleem & Carandini (2013).

Modules: ``network`` (ring, drive, W, steady state, stability), ``ensembles`` (uniform and
adapter-biased stimulus ensembles), ``objective`` (objective, closed-form and numerical
optimal gains), ``effects`` (measurements), ``synaptic`` (comparison model after
Westrick, Heeger & Landy 2016), ``model`` (experiments, estimator).
"""

from neurodyn.circuits.gain_control.ensembles import benucci_grid, fine_grid, stimulus_ensemble
from neurodyn.circuits.gain_control.model import (
    CONDITIONS,
    MODELS,
    GainControlAdaptation,
    GainControlParams,
    build_network,
    effects_table,
    simulate_adaptation,
    summarise_effects,
    tradeoff_curve,
    tradeoff_curves,
)
from neurodyn.circuits.gain_control.network import (
    check_stability,
    preferred_orientations,
    ring_kernel,
    steady_state,
    steady_state_operator,
    von_mises_drive,
)
from neurodyn.circuits.gain_control.objective import (
    objective_terms,
    optimal_gains,
    optimal_gains_numerical,
)
from neurodyn.circuits.gain_control.synaptic import homeostatic_weights

__all__ = [
    "CONDITIONS", "MODELS", "GainControlAdaptation", "GainControlParams", "benucci_grid", "build_network", "effects_table",
    "check_stability", "fine_grid", "homeostatic_weights", "objective_terms", "optimal_gains",
    "optimal_gains_numerical", "preferred_orientations", "ring_kernel", "simulate_adaptation", "steady_state",
    "steady_state_operator", "stimulus_ensemble", "summarise_effects", "tradeoff_curve", "tradeoff_curves",
    "von_mises_drive",
]
