"""``states.real`` schema defaults equal the defaults of the library function it feeds."""

from defaults_sync import assert_defaults_match, schema_defaults

from neurodyn.states.real import analyse_cohort


def test_states_real_defaults_match_analyse_cohort():
    # states.real holds the keyword arguments of analyse_cohort only (passed with **); which
    # cohorts and which connectome to draw are states.datasets and states.figure_connectome.
    n = assert_defaults_match("states.real", analyse_cohort)
    assert n == len(schema_defaults("states.real")) >= 14
