"""Schema defaults of ``gain_control`` equal the library's (GainControlParams and MODELS)."""

from defaults_sync import assert_defaults_match, schema_defaults
from neurodyn.circuits.gain_control import MODELS, GainControlParams

SECTION = "gain_control"


def test_network_defaults_equal_gain_control_params():
    compared = assert_defaults_match(f"{SECTION}.network", GainControlParams)
    assert compared == len(schema_defaults(f"{SECTION}.network")) > 0


def test_models_default_to_every_library_model():
    assert schema_defaults(SECTION)["models"] == list(MODELS)


def test_tradeoff_sweep_default_object_matches_its_keys():
    defaults = schema_defaults(SECTION)["tradeoff_sweep"]
    assert defaults == schema_defaults(f"{SECTION}.tradeoff_sweep") and len(defaults) == 3
