"""Shared fixtures: an isolated build cache and the shipped district at 100 m (built once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    os.environ["FULING_SIM_CACHE"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def district100():
    from sim.district import load_district
    from sim.scenario import DistrictSpec

    return load_district(DistrictSpec())


@pytest.fixture(autouse=True)
def _release_mesa_models():
    """After each test, drop Mesa's class-level references to the test's models (see
    ``models.district.run.release``), so a long session does not keep every model it built."""
    yield
    import sys

    mesa = sys.modules.get("mesa")
    if mesa is not None and isinstance(getattr(mesa.Agent, "_ids", None), dict):
        mesa.Agent._ids.clear()
