"""The HMMGLM estimator and fit_hmmglm function take the same settings, with the same
defaults, so they cannot drift apart."""

from defaults_sync import assert_signatures_match

from neurodyn.states.model import HMMGLM, fit_hmmglm


def test_estimator_and_function_share_settings_and_defaults():
    assert_signatures_match(fit_hmmglm, HMMGLM, ignore=("n_states",))
    import inspect

    fn = set(inspect.signature(fit_hmmglm).parameters) - {"sequences"}
    assert fn == set(HMMGLM().get_params())
