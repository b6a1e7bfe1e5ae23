"""Shared fixtures.

Tests that read the real recordings look for them in ``$NEURODYN_SHARED/data`` or, by
default, ``../shared/data`` beside the repository; they skip cleanly when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEURODYN_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"


def torch_or_skip():
    """Import torch or skip the calling test."""
    return pytest.importorskip("torch")


@pytest.fixture
def shared_data() -> Path:
    """Path to the shared real data folder; skips the test when it is not there."""
    if not (SHARED_DATA / "flavell2023").is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set NEURODYN_SHARED)")
    return SHARED_DATA


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
