"""The HMMGLM estimator and fit_hmmglm function take the same settings (tensorly-style
function + estimator pair), with the same defaults, so they cannot drift apart."""

import inspect

from neurodyn.states.model import HMMGLM, fit_hmmglm


def test_estimator_and_function_share_settings_and_defaults():
    fn = inspect.signature(fit_hmmglm).parameters
    est = inspect.signature(HMMGLM.__init__).parameters
    fn_settings = {k: p.default for k, p in fn.items() if k not in ("sequences", "n_states")}
    est_settings = {k: p.default for k, p in est.items() if k not in ("self", "n_states")}
    assert fn_settings == est_settings
    assert "n_states" in fn and "n_states" in est
    assert set(HMMGLM().get_params()) == set(est_settings) | {"n_states"}
