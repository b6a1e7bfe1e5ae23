"""The config schema's ``states.benchmark`` defaults equal the library defaults they feed."""

from defaults_sync import assert_defaults_match, schema_defaults

from neurodyn.states.benchmark import run_synthetic_repeat
from neurodyn.states.model import HMMGLM


def test_states_benchmark_defaults_match_the_library():
    # Every key of states.benchmark is a keyword of run_synthetic_repeat (passed with **);
    # fit is its dict of HMMGLM settings.
    keys = set(schema_defaults("states.benchmark"))
    assert assert_defaults_match("states.benchmark", run_synthetic_repeat, ignore=("fit",)) == len(keys) - 1 == 8
    # The fitting keys are passed on to every HMMGLM of the table.
    fit = schema_defaults("states.benchmark.fit")
    assert assert_defaults_match("states.benchmark.fit", HMMGLM) == len(fit) == 5
