"""Bundled anatomical connectivity: loaders agree with the published files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurodyn.data import anatomy
from neurodyn.errors import InputFileError, InvalidInputError


def test_bundled_connectome_matches_published_json(shared_data):
    src = json.loads((shared_data / "flavell2023/connectome/witvliet_2020_8.json").read_text())
    df = anatomy.load_connectome("witvliet_2020_8")
    assert len(df) == len(src)
    assert df["count"].sum() == sum(len(e["syn"]) for e in src)
    want = sum(len(e["syn"]) for e in src if e["pre"] == "AVAL" and e["post"] == "AVAR" and e["typ"] == 0)
    got = df.query("pre == 'AVAL' and post == 'AVAR' and type == 'chemical'")["count"].sum()
    assert got == want


def test_connectome_matrix_counts_and_gap_junction_symmetry():
    df = anatomy.load_connectome("white_1986_whole")
    names = ["AVAL", "AVAR", "AVBL", "AVBR", "RIML", "NOTANEURON"]
    m = anatomy.connectome_matrix(names, "white_1986_whole", kind="any")
    chem = anatomy.connectome_matrix(names, "white_1986_whole", kind="chemical")
    elec = anatomy.connectome_matrix(names, "white_1986_whole", kind="electrical")
    np.testing.assert_array_equal(m, chem + elec)
    np.testing.assert_array_equal(elec, elec.T)
    assert not m[-1].any() and not m[:, -1].any()
    row = df[(df.pre == "AVAL") & (df.post == "AVBL") & (df.type == "chemical")]["count"].sum()
    assert chem[0, 2] == row
    sym = anatomy.connectome_matrix(names, "white_1986_whole", kind="chemical", symmetric=True)
    np.testing.assert_array_equal(sym, chem + chem.T)
    assert len(anatomy.connectome_neurons("white_1986_whole")) > 250


def test_v1_pmax_table():
    df = anatomy.load_v1_pmax()
    assert df.shape == (19, 19)
    assert df.loc["L2/3_PV", "L2/3_Exc"] == pytest.approx(0.6757614715862276)
    signs = [anatomy.v1_cell_type_sign(c) for c in df.index]
    assert [c for c, s in zip(df.index, signs) if s > 0] == ["L2/3_Exc", "L4_Exc", "L5_ET", "L5_IT", "L5_NP", "L6_Exc"]


def test_bad_names_and_missing_files(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown connectome"):
        anatomy.load_connectome("cook_2019")
    with pytest.raises(InputFileError, match="connectome/witvliet_2020_7.csv"):
        anatomy.load_connectome("witvliet_2020_7", data_dir=tmp_path)
    (tmp_path / "connectome").mkdir()
    (tmp_path / "connectome/witvliet_2020_7.csv").write_text("pre,post,type,count\nA,B,hormonal,1\n")
    with pytest.raises(InvalidInputError, match="field 'type'"):
        anatomy.load_connectome("witvliet_2020_7", data_dir=tmp_path)
