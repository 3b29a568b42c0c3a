"""The landslide component on the real district at 100 m: layers, schedule, warnings, roads, scenario.

Exact comparisons unless stated: same seed ⇒ identical schedule (``DataFrame.equals``); warnings are issued
exactly ``lead_time_s`` before failure (float equality of ``t_fail − lead``, clipped at 0); plausibility of the
shipped scenario is a range check (20–600 slides) around the figure in the module docstring.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from sim.hazards.base import ROAD_CLOSED, ROAD_OPEN, HazardComponent
from sim.hazards.landslide import (
    GEOLOGY,
    LIMESTONE,
    MONITORING_POINTS,
    LandslideField,
    closed_links,
    exceedance_series,
    geology_classes,
    susceptibility,
)
from sim.landcover import WATER
from sim.paths import scenarios_dir
from sim.scenario import LandslideHazard, Rainfall, load_component, validate_files

SCENARIO = scenarios_dir() / "hazards" / "landslide_rainstorm.yaml"
DAY = 86_400.0


def _hazard(scale_rain: float = 1.0, township: str | None = "白涛街道", sus: float = 1.0) -> LandslideHazard:
    base = load_component(SCENARIO).landslide
    rain = Rainfall(time_h=base.rain.time_h, intensity_mm_per_h=[v * scale_rain for v in base.rain.intensity_mm_per_h],
                    township=township, radius_km=base.rain.radius_km)
    return LandslideHazard(rain=rain, susceptibility_scale=sus)


@pytest.fixture(scope="module")
def field(district100):
    return LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(20200820), 2 * DAY)


def test_is_a_hazard_component_with_declared_fields(field, district100):
    assert isinstance(field, HazardComponent)
    assert field.name == "landslide"
    for name, spec in field.FIELDS.items():
        arr = field.fields[name]
        assert arr.shape == district100.grid.shape and arr.dtype == spec.dtype, name
        assert spec.units
    assert "generated" in field.source["geology__class"] and "generated" in field.source["monitors"]


def test_susceptibility_zero_on_flat_ground_water_and_outside(field, district100):
    s = field.fields["landslide__susceptibility"]
    slope = district100.terrain.slope_deg
    assert (s[~district100.mask] == 0).all()
    assert (s[district100.mask & (slope < 10.0)] == 0).all()
    assert (s[district100.land.land_cover == WATER] == 0).all()
    assert (s >= 0).all() and s.max() <= 1.0 and (s > 0).sum() > 1000
    # synthetic check of the factors: steeper (up to 35°) never less susceptible; scale multiplies
    slope_syn = np.linspace(0, 60, 61)[None, :]
    ones = np.ones_like(slope_syn, dtype=bool)
    lc = np.full(slope_syn.shape, 3, np.uint8)
    geo = np.full(slope_syn.shape, 2, np.uint8)
    s1 = susceptibility(slope_syn, lc, geo, ones)
    assert (s1[0, :11] == 0).all() and np.all(np.diff(s1[0, :36]) >= 0)
    np.testing.assert_allclose(susceptibility(slope_syn, lc, geo, ones, 2.0), 2 * s1, rtol=1e-6)
    assert (susceptibility(slope_syn, np.full(slope_syn.shape, WATER, np.uint8), geo, ones) == 0).all()
    assert (susceptibility(slope_syn, lc, geo, ~ones) == 0).all()


def test_geology_is_generated_reproducibly_and_plausibly(district100):
    g1 = geology_classes(district100)
    np.testing.assert_array_equal(g1, geology_classes(district100))
    m = district100.mask
    share = np.bincount(g1[m], minlength=4)[1:] / m.sum()
    assert set(np.unique(g1[m])) <= set(GEOLOGY) - {0}
    assert share[1] > 0.4 and 0.05 < share[2] < 0.45  # red beds dominate; limestone on ridges/upland
    high = m & (district100.terrain.elevation_m > 1200)
    assert (g1[high] == LIMESTONE).mean() > 0.9


def test_same_seed_same_schedule_different_seed_differs(field, district100):
    again = LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(20200820), 2 * DAY)
    assert field.schedule.equals(again.schedule)
    other = LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(1), 2 * DAY)
    assert not field.schedule.equals(other.schedule)
    assert set(other.schedule["cell"]) != set(field.schedule["cell"])


def test_more_rain_more_failures_and_zero_rain_none(district100):
    """Same seed (same draws over the same susceptible cells): failed cells only grow with rain."""
    sets = []
    for k in (0.0, 0.5, 1.0, 1.5):
        f = LandslideField(district100, _hazard(k), np.random.default_rng(5), 2 * DAY)
        sets.append(set(f.schedule["cell"].tolist()))
    assert sets[0] == set()
    assert sets[1] <= sets[2] <= sets[3] and len(sets[3]) > len(sets[1])


def test_exceedance_windows_end_with_the_rain_and_decay():
    rain = Rainfall(time_h=[0, 2, 4], intensity_mm_per_h=[0, 40, 0])
    t = np.array([1.0, 3.9, 4.0, 10.0, 100.0]) * 3600
    e = exceedance_series(rain, t)
    assert e[1] > 1 and e[2] > e[3] > e[4] >= 0
    np.testing.assert_allclose(e[3], e[2] * np.exp(-1.0), rtol=1e-12)  # 6 h after the rain: one e-folding
    assert (exceedance_series(Rainfall(time_h=[0, 5], intensity_mm_per_h=[0, 0]), t) == 0).all()


@pytest.mark.parametrize("lead", [7200.0, 24 * 3600.0])
def test_monitored_failures_warned_exactly_lead_time_before(district100, lead):
    f = LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(11), 2 * DAY,
                       lead_time_s=lead)
    s = f.schedule
    assert s["monitored"].any() and (~s["monitored"]).any()
    mon = s[s["monitored"]]
    np.testing.assert_array_equal(mon["warning_time_s"].to_numpy(), np.maximum(mon["time_s"].to_numpy() - lead, 0))
    assert s.loc[~s["monitored"], "warning_time_s"].isna().all()
    if lead > 12 * 3600:  # early failures: the warning cannot precede the scenario start
        assert mon["time_s"].min() < lead and (mon["warning_time_s"] == 0).any()
    # the clock issues warnings only once their time has come, failures only at theirs
    t_mid = float(mon["time_s"].median())
    f.advance(t_mid)
    w = f.warnings
    assert set(w["slide_id"]) == set(mon.loc[mon["warning_time_s"] <= t_mid, "slide_id"])
    assert (w["failure_time_s"] - w["warning_time_s"] <= lead).all()
    assert (f.events["time_s"] <= t_mid).all() and len(f.events) == int((s["time_s"] <= t_mid).sum())
    assert len(w) > (f.events["monitored"]).sum()  # some warned slopes have not failed yet


def test_given_monitors_and_coverage(district100, field):
    assert field.monitors_xy_m.shape == (MONITORING_POINTS, 2)
    d = np.hypot(*(field.monitors_xy_m[:, None, :] - field.monitors_xy_m[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= field.monitor_radius_m - 1e-6  # a new point only where no point covers the cell yet
    r, c = district100.grid.rowcol(field.monitors_xy_m[:, 0], field.monitors_xy_m[:, 1])
    assert district100.mask[r, c].all()
    cov = field.coverage()
    assert all(0 <= cov[k] <= 1 for k in ("prone_cells", "susceptible_cells", "failures"))
    assert cov["target"] == 0.9
    # monitors everywhere a slide happens ⇒ all monitored; no monitors ⇒ none
    xy = field.schedule[["x_m", "y_m"]].to_numpy()
    everywhere = LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(20200820),
                                2 * DAY, monitored_xy_m=xy)
    assert everywhere.schedule["monitored"].all() and everywhere.coverage()["failures"] == 1.0
    none = LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(20200820),
                          2 * DAY, monitored_xy_m=np.zeros((0, 2)))
    assert not none.schedule["monitored"].any()
    assert everywhere.schedule["time_s"].equals(field.schedule["time_s"])  # monitoring does not change slides


def test_road_effect_closes_debris_and_reopens_after_clearance(district100):
    clear_s = 6 * 3600.0
    f = LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(3), 2 * DAY,
                       clearance_s=clear_s)
    s = f.schedule
    first = s.iloc[0]
    cells = f.runout_cells(int(first["slide_id"]))
    f.advance(first["time_s"] - 1.0)
    assert (f.road_effect().ravel()[cells] == ROAD_OPEN).all()
    f.advance(first["time_s"])
    eff = f.road_effect()
    assert eff.dtype == np.uint8 and (eff.ravel()[cells] == ROAD_CLOSED).all()
    assert f.fields["landslide__failure_time"].ravel()[cells[0]] == first["time_s"]
    assert (f.fields["debris__depth"].ravel()[cells] > 0).all()
    assert (eff[~district100.mask] == ROAD_OPEN).all()
    f.advance(first["time_s"] + clear_s - 1.0)
    still = f.fields["debris__road_closed_until"].ravel()[cells] == first["time_s"] + clear_s
    assert (f.road_effect().ravel()[cells[still]] == ROAD_CLOSED).all()
    f.advance(first["time_s"] + clear_s)
    later = s[s["time_s"] <= first["time_s"] + clear_s]
    reclosed = set(np.concatenate([f.runout_cells(i) for i in later["slide_id"][1:]])) if len(later) > 1 else set()
    reopened = [c for c in cells if c not in reclosed]
    assert (f.road_effect().ravel()[reopened] == ROAD_OPEN).all()
    # responders clear by hand: clear() reopens immediately; without automatic clearance debris stays
    g = LandslideField(district100, load_component(SCENARIO).landslide, np.random.default_rng(3), 2 * DAY,
                       clearance_s=None)
    g.advance(2 * DAY)
    closed = g.road_effect() == ROAD_CLOSED
    assert closed.sum() == np.unique(np.concatenate([g.runout_cells(i) for i in g.events["slide_id"]])).size
    n = g.clear(closed)
    assert n == closed.sum() and (g.road_effect() == ROAD_OPEN).all()


def test_runout_respects_rivers_and_homes_are_counted(field, district100):
    big = np.isin(district100.terrain.river_id.ravel(), (1, 2))
    hh = district100.households.ravel()
    pop = district100.population.ravel()
    assert (field.schedule["width_m"] <= district100.grid.cell_size_m).all()
    assert np.all(np.diff(field.schedule.sort_values("volume_m3")["width_m"].to_numpy()) >= 0)  # bigger, wider
    for row in field.schedule.itertuples():
        cells = field.runout_cells(row.slide_id)
        assert cells[0] == row.cell and not big[cells].any()
        assert row.homes_struck == pytest.approx(hh[cells].sum() * row.width_m / district100.grid.cell_size_m)
        assert row.people_exposed == pop[cells].sum()


def test_shipped_scenario_loads_and_gives_a_plausible_event(district100):
    assert validate_files([SCENARIO]) == [(SCENARIO, None)]
    hz = load_component(SCENARIO)
    assert hz.landslide is not None and hz.flood is None and hz.fire is None
    t0 = time.perf_counter()
    f = LandslideField(district100, hz.landslide, np.random.default_rng(20200820), 3 * DAY)
    for h in range(1, 73):
        f.advance(h * 3600.0)
    elapsed = time.perf_counter() - t0
    summ = f.summary()
    # module docstring / report: ~150 slides, mostly in 白涛街道, ~half monitored, a few dozen links closed
    assert 20 <= summ["slides"] <= 600, summ
    assert f.events["township"].value_counts().index[0] == "白涛街道"
    assert 0 < summ["slides_monitored"] < summ["slides"]
    assert summ["homes_struck"] > 0 and summ["people_exposed"] > 0
    ever = np.zeros(district100.grid.shape, np.uint8)
    for i in f.events["slide_id"]:
        ever.ravel()[f.runout_cells(i)] = ROAD_CLOSED
    assert closed_links(district100, ever).sum() > 0
    assert elapsed < 10.0


def test_enough_generated_points_cover_every_prone_cell(district100):
    """Points go on uncovered cells only, so coverage grows with the points to 100 % (at 2 R spacing the cells
    between two points could never be covered: 72 % with 3,000 points)."""
    hz = load_component(SCENARIO).landslide
    rng = np.random.default_rng(1)
    cov = [LandslideField(district100, hz, rng, DAY, n_monitors=n).coverage()["prone_cells"]
           for n in (100, MONITORING_POINTS, 100_000)]
    assert cov[0] < cov[1] < cov[2] == 1.0
