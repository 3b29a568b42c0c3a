"""FloodField on the real district grid, hazard rating, damage curve, the chain's closure log."""

from __future__ import annotations

import numpy as np
import pytest

from sim.hazards import flood as F
from sim.hazards.base import ROAD_CLOSED, HazardComponent
from sim.scenario import Embankment, load_component, scenarios_dir


def test_hazard_rating_and_damage_curve_values():
    # DEFRA FD2321: d = 0.5 m, v = 1 m/s -> 0.5 * 1.5 + DF 0.5 = 1.25 (moderate/significant boundary)
    assert F.hazard_rating(np.array([0.5]), np.array([1.0]))[0] == pytest.approx(1.25)
    assert F.hazard_rating(np.array([0.2]), np.array([0.0]))[0] == pytest.approx(0.1)
    assert list(F.hazard_class(np.array([0.5, 1.0, 1.5, 3.0]))) == [0, 1, 2, 3]
    # JRC Asia residential: 1 m -> 0.49, 2 m -> 0.72, interpolated between points, capped at 1
    assert F.damage_fraction(np.array([0.0, 1.0, 2.0, 2.5, 9.0])) == pytest.approx([0, 0.49, 0.72, 0.795, 1.0])


@pytest.fixture(scope="module")
def yangtze(district100):
    hz = load_component(scenarios_dir() / "hazards" / "yangtze_flood_2020.yaml", "hazard")
    return F.FloodField(district100, hz.flood, spinup_h=0.0, use_cache=False), hz


def test_flood_field_runs_on_the_district_with_a_closed_balance(yangtze, district100):
    ff, _ = yangtze
    assert isinstance(ff, HazardComponent)
    b0 = ff.bounds
    assert len(b0.sources) > 0 and any(k == 1 for *_, k, _v in b0.faces)
    for k in range(30):
        ff.advance((k + 1) * 60.0)
    bal = ff.balance()
    assert bal["inflow_m3"] == pytest.approx((48000 + 2500) * 1800, rel=0.01)  # hydrograph integral
    assert abs(bal["relative_error"]) < 1e-12
    assert ff.depth_m.min() >= 0 and np.isfinite(ff.depth_m).all()
    assert (ff.depth_m[~district100.mask] == 0).all()
    assert set(ff.stages()) == set(F.GAUGES_LONLAT)
    eff = ff.road_effect()
    assert eff.dtype == np.uint8 and eff.shape == district100.grid.shape
    assert ((ff.time_of_first_wetting_s == 0) == (ff.initial_depth_m >= 0.01)).all()


def test_embankment_raises_the_bed(district100):
    hz = load_component(scenarios_dir() / "hazards" / "yangtze_flood_2020.yaml", "hazard")
    e = Embankment(points=[(107.19, 29.66), (107.21, 29.665)], crest_m=185.0)
    z, raised = F.embankment_cells(district100, [e])
    assert raised.sum() >= 10 and (z[raised] >= 185.0).all()
    assert hz.flood is not None


def test_shipped_flood_files_load():
    for name in ("yangtze_flood_2020", "wu_flood", "longtan_flash_flood"):
        hz = load_component(scenarios_dir() / "hazards" / f"{name}.yaml", "hazard")
        assert hz.flood is not None


def test_chain_logs_closures_and_reopenings(district100):
    """A synthetic hazard closing a band of cells: links crossing it close, then reopen, all logged."""
    from sim.hazards.chain import HazardChain

    class Band:
        name = "test"
        FIELDS: dict = {}

        def __init__(self):
            self.time_s = 0.0

        def advance(self, until_s):
            self.time_s = until_s

        def road_effect(self):
            out = np.zeros(district100.grid.shape, np.uint8)
            if 3600 <= self.time_s < 7200:
                out[300:310, :] = ROAD_CLOSED
            return out

    chain = HazardChain(district100, None, None, None, 0.0, components=[Band()])
    for t in (1800, 3600, 5400, 7200):
        chain.advance(t)
    log = chain.closure_log()
    closed = log[log.state.str.startswith("closed")]
    reopened = log[log.state.str.startswith("open")]
    assert len(closed) > 0 and set(closed.time_s) == {3600}
    assert set(reopened.time_s) == {7200} and len(reopened) == len(closed)
    assert (chain.speed_factor() == 1).all()


def test_chain_runs_fire_and_landslides_on_one_clock(district100):
    """The default chain without its flood: both hazards advance together and close roads, logged with cause."""
    from sim.hazards.chain import HazardChain
    from sim.scenario import Plan

    hz = load_component(scenarios_dir() / "hazards" / "yangtze_2020_chain.yaml", "hazard")
    # a wetter slope (scale 3) so that some debris surely reaches a road in the draw
    hz = hz.model_copy(update={"flood": None, "landslide": hz.landslide.model_copy(
        update={"susceptibility_scale": 3.0})})
    chain = HazardChain(district100, hz, Plan(name="t"), np.random.default_rng(5), 48 * 3600.0)
    assert {c.name for c in chain.components} == {"fire", "landslide"}
    for k in range(48):
        chain.advance((k + 1) * 3600.0)
    assert all(c.time_s == 48 * 3600.0 for c in chain.components)
    log = chain.closure_log()
    assert {"landslide"} <= set(log.cause)
    assert (log.time_s.diff().dropna() >= 0).all()
