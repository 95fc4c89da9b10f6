"""Shared pytest configuration: paths to the shared test data and the bench helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def testdata_dir() -> Path:
    return Path(os.environ.get("VERM_TESTDATA", ROOT.parent / "shared" / "testdata"))


@pytest.fixture(scope="session")
def testdata() -> Path:
    d = testdata_dir()
    if not d.is_dir():
        pytest.fail(f"test data folder {d} not found; set VERM_TESTDATA")
    return d
