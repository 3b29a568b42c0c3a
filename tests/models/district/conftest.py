"""Scenario builders for the district-model tests (the shipped district at 100 m, short runs)."""

from __future__ import annotations

import pytest

from sim.paths import scenarios_dir
from sim.scenario import DistrictSpec, RunSettings, Scenario, load_component


def scenario(hazard: str = "yangtze_2020_chain", plan: str = "baseline", hours: float = 3.0, seed: int = 7,
             **hazard_updates) -> Scenario:
    """A run of a shipped hazard file with a shipped plan on the default district."""
    hz = load_component(scenarios_dir() / "hazards" / f"{hazard}.yaml")
    if hazard_updates:
        hz = hz.model_copy(update=hazard_updates)
    pl = load_component(scenarios_dir() / "plans" / f"{plan}.yaml")
    return Scenario(district=DistrictSpec(), hazard=hz, plan=pl, run=RunSettings(duration_h=hours, seed=seed))


def busy_hazard():
    """The default chain moved earlier so that fire, landslides and flood all act within a few hours."""
    from sim.scenario import Ignition

    hz = load_component(scenarios_dir() / "hazards" / "yangtze_2020_chain.yaml")
    fire = hz.fire.model_copy(update={"ignitions": [Ignition(lon=107.383, lat=29.745, time_h=0.25)]})
    rain = hz.landslide.rain.model_copy(update={"time_h": [0, 0.5, 1.5, 3, 6],
                                                "intensity_mm_per_h": [0, 60, 90, 40, 0]})
    slide = hz.landslide.model_copy(update={"rain": rain, "susceptibility_scale": 2.0})
    return hz.model_copy(update={"fire": fire, "landslide": slide})


@pytest.fixture(scope="session")
def busy_scenario() -> Scenario:
    pl = load_component(scenarios_dir() / "plans" / "baseline.yaml")
    return Scenario(district=DistrictSpec(), hazard=busy_hazard(), plan=pl, run=RunSettings(duration_h=4, seed=3))
