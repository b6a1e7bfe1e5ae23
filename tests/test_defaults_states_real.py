"""``states.real`` schema defaults equal the defaults of the library function it feeds."""

from defaults_sync import assert_defaults_match, schema_defaults

from neurodyn.states.real import analyse_cohort


def test_states_real_defaults_match_analyse_cohort():
    # datasets and connectome are workflow-only (which cohorts; which connectome to draw).
    n = assert_defaults_match("states.real", analyse_cohort, ignore=("datasets", "connectome"))
    assert n == len(schema_defaults("states.real")) - 2 >= 14
