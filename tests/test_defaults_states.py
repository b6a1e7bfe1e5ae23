"""The config schema's ``states.benchmark`` defaults equal the library defaults they feed."""

from defaults_sync import assert_defaults_match

from neurodyn.states.benchmark import run_synthetic_repeat
from neurodyn.states.model import HMMGLM

FIT_KEYS = ("max_iter", "m_step_iter", "tol", "n_init", "init_iter")


def test_states_benchmark_defaults_match_the_library():
    # Generator and protocol keys feed run_synthetic_repeat; `repeats` is the workflow's.
    n = assert_defaults_match("states.benchmark", run_synthetic_repeat, ignore=("repeats", *FIT_KEYS))
    assert n == 8
    # Fitting keys are passed on to every HMMGLM of the table.
    others = ("repeats", "n_train", "n_test", "n_time", "n_states", "n_neurons", "concentration", "models",
              "ohg_warm_start")
    assert assert_defaults_match("states.benchmark", HMMGLM, ignore=others) == len(FIT_KEYS)
