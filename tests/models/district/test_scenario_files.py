"""Every shipped hazard file runs through the district model with the baseline plan (first hour)."""

from __future__ import annotations

import numpy as np
import pytest

from models.district import DistrictModel
from sim.paths import scenarios_dir

from .conftest import scenario

HAZARDS = sorted(p.stem for p in (scenarios_dir() / "hazards").glob("*.yaml"))


@pytest.mark.parametrize("hazard", HAZARDS)
def test_shipped_hazard_runs(hazard, district100):
    m = DistrictModel(scenario(hazard, hours=1.0), district=district100)
    m.run()
    assert m.time_s == pytest.approx(3600.0)
    assert m.households.persons_by_state().sum() == 1_115_016
    assert len(m.records) >= 2 and np.isfinite(m.records[-1]["road_open_km"])


def test_every_plan_file_runs():
    for plan in sorted((scenarios_dir() / "plans").glob("*.yaml")):
        sc = scenario("fire_high_risk_day", plan=plan.stem, hours=0.5)
        m = DistrictModel(sc)
        m.run()
        assert m.households.persons_by_state().sum() == 1_115_016
