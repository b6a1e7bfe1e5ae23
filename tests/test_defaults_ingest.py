"""Schema defaults of ``ingest`` and of each dataset equal the library calls they feed."""

from defaults_sync import SCHEMA, assert_defaults_match, library_defaults, schema_defaults
from neurodyn.connectome.synthetic import planted_community_cohort
from neurodyn.data.cohort import build_cohort
from neurodyn.data.synthetic import synthetic_cohort
from neurodyn.plots.qc import plot_recording_qc

SECTION = "ingest"


def test_ingest_defaults_equal_library_defaults():
    compared = assert_defaults_match(SECTION, plot_recording_qc, rename={"qc_max_neurons": "max_neurons"})
    assert compared == len(schema_defaults(SECTION)) > 0


def _dataset_node():
    return SCHEMA["properties"]["datasets"]["additionalProperties"]


def test_dataset_defaults_equal_library_defaults():
    node = _dataset_node()
    compared = 0
    # min_animals -> build_cohort; the synthetic generator settings -> both generators.
    pairs = [({"min_animals": node["properties"]["min_animals"]["default"]}, build_cohort)]
    synthetic = node["properties"]["synthetic"]["properties"]
    generated = {k: v["default"] for k, v in synthetic.items() if "default" in v}
    assert set(generated) == {"n_neurons", "n_time", "sampling_rate_hz"}
    pairs += [(generated, synthetic_cohort), (generated, planted_community_cohort)]
    wrong = []
    for defaults, func in pairs:
        lib = library_defaults(func)
        for key, value in defaults.items():
            compared += 1
            if lib.get(key) != value:
                wrong.append(f"{key}: schema {value!r} != {func.__qualname__}({key}={lib.get(key)!r})")
    assert not wrong, wrong
    assert compared == 7
