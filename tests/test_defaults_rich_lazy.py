"""Schema defaults of ``rich_lazy`` equal the defaults of the library calls they feed."""

import dataclasses

from defaults_sync import assert_defaults_match, schema_defaults
from neurodyn.circuits.linear_theory import linear_theory_experiment
from neurodyn.circuits.rich_lazy import (DEFAULT_INIT_KINDS, NORMALISATIONS, init_comparison_run, init_spectra,
                                         rank_sweep_run)
from neurodyn.circuits.tasks import TASKS
from neurodyn.circuits.training import TrainConfig

SECTION = "rich_lazy"
SUBSECTIONS = {"train", "inits", "theory"}
WORKFLOW_ONLY = {"run_name", "tasks", "n_seeds", "normalisations"}
# Top-level keys and the calls of workflow/rules/rich_lazy.smk that receive them.
FEEDS = [
    (rank_sweep_run, {"n_hidden", "gain", "dtype", "probe_batch", "kernel_probe_batch", "stable_norm"}),
    (init_spectra, {"n_hidden", "ranks", "gain"}),
]


def test_top_level_defaults_equal_library_defaults():
    keys = set(schema_defaults(SECTION)) - SUBSECTIONS
    assert keys == set().union(*(fed for _, fed in FEEDS)) | WORKFLOW_ONLY
    compared = sum(assert_defaults_match(SECTION, func, ignore=tuple(keys - fed) + tuple(SUBSECTIONS))
                   for func, fed in FEEDS)
    assert compared == sum(len(fed) for _, fed in FEEDS) > 0
    assert schema_defaults(SECTION)["tasks"] == list(TASKS)
    assert schema_defaults(SECTION)["normalisations"] == list(NORMALISATIONS)


def test_train_defaults_equal_train_config():
    compared = assert_defaults_match(f"{SECTION}.train", TrainConfig)
    assert compared == len(schema_defaults(f"{SECTION}.train")) > 0
    # Every TrainConfig field the pipeline may set is in the schema, except those with no
    # workflow use (Adam's betas/eps, check cadence, trained matrices).
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert fields - set(schema_defaults(f"{SECTION}.train")) == {"betas", "eps", "check_every", "trained"}


def test_inits_defaults_equal_init_comparison_run():
    ignored = ("kinds", "n_seeds", "normalisations")
    compared = assert_defaults_match(f"{SECTION}.inits", init_comparison_run, ignore=ignored)
    assert compared == len(schema_defaults(f"{SECTION}.inits")) - len(ignored) > 0
    assert schema_defaults(f"{SECTION}.inits")["kinds"] == list(DEFAULT_INIT_KINDS)
    assert schema_defaults(f"{SECTION}.inits")["normalisations"] == list(NORMALISATIONS)
    # the same settings reach the init comparison as the rank sweep
    for key in ("probe_batch", "kernel_probe_batch", "stable_norm"):
        assert assert_defaults_match(SECTION, init_comparison_run, ignore=tuple(
            set(schema_defaults(SECTION)) - {key})) == 1


def test_theory_defaults_equal_linear_theory_experiment():
    compared = assert_defaults_match(f"{SECTION}.theory", linear_theory_experiment)
    assert compared == len(schema_defaults(f"{SECTION}.theory")) > 0
