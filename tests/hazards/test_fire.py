"""FireField: the hazard contract, barriers, ignitions, calendar, suppression bookkeeping, determinism."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import ndimage

from sim.geo import project_lonlat, to_wgs84
from sim.hazards.base import ROAD_CLOSED, ROAD_OPEN, HazardComponent
from sim.hazards.fire import (
    BURNED,
    BURNING,
    EXTINGUISHED,
    FIRELINE,
    NONFUEL,
    UNBURNED,
    FireField,
    FireLandscape,
    FireParams,
    calendar_multiplier,
    fuel_table,
    moisture_damping,
    rasterise_polylines,
    road_barrier_mask,
    spring_festival,
)
from sim.kernels.fire import T_RESIDENCE_S, T_ROS_M_S
from sim.scenario import Firebreak, FireHazard, Ignition, load_component


def synthetic_fire(n=41, fuel_class=1, seed=0, wind=0.0, hours=0.0, **hazard) -> FireField:
    land = FireLandscape.synthetic(np.full((n, n), fuel_class, np.uint8))
    x, y = land.grid.xy(n // 2, n // 2)
    lon, lat = to_wgs84().transform(float(x), float(y))
    hazard.setdefault("ignitions", [Ignition(lon=lon, lat=lat, time_h=0.0)])
    ff = FireField.from_landscape(land, FireHazard(wind_speed_m_s=wind, **hazard), np.random.default_rng(seed))
    ff.advance(hours * 3600.0)
    return ff


# ---------------------------------------------------------------------------------------------- contract
def test_fire_field_implements_the_hazard_contract(district100):
    hz = load_component("scenarios/hazards/fire_2022_beishanping.yaml")
    ff = FireField(district100, hz.fire, np.random.default_rng(1), start_time=hz.start_time)
    assert isinstance(ff, HazardComponent) and ff.name == "fire"
    assert set(ff.FIELDS) == set(ff.fields)
    for name, spec in ff.FIELDS.items():
        assert ff.fields[name].dtype == np.dtype(spec.dtype), name
        assert ff.fields[name].shape == district100.grid.shape
        assert spec.units
    ff.advance(3 * 3600.0)
    assert ff.time_s == 3 * 3600.0 and ff.burning_cells > 0
    eff = ff.road_effect()
    assert eff.dtype == np.uint8 and eff.shape == district100.grid.shape
    burning = ff.fields["fire__state"] == BURNING
    assert (eff[burning] == ROAD_CLOSED).all()
    extra = (eff == ROAD_CLOSED) & ~burning  # only road cells next to the fire
    assert ff.land.roads[extra].all()
    assert set(np.unique(eff)) <= {ROAD_OPEN, ROAD_CLOSED}
    tab = ff.ignitions
    assert list(tab.columns[:6]) == ["fire_id", "cause", "x_m", "y_m", "lon", "lat"]
    assert tab.status[0] == "burning" and np.isnan(tab.time_out_s[0])
    assert tab.burned_area_ha[0] == pytest.approx(ff.burned_area_ha)
    fires = ff.active_fires()
    assert len(fires) == 1 and fires[0].perimeter_m > 0 and fires[0].edge_cells > 0
    assert abs(fires[0].centroid_x_m - tab.x_m[0]) < 3000


def test_major_roads_and_water_are_barriers(district100):
    hz = load_component("scenarios/hazards/fire_2022_beishanping.yaml")
    ff = FireField(district100, hz.fire, np.random.default_rng(1))
    state = ff.fields["fire__state"]
    major = road_barrier_mask(district100, ("expressway", "trunk"))
    assert major.sum() > 1000
    assert (state[major] == NONFUEL).all()
    assert (state[district100.land.land_cover == 1] == NONFUEL).all()
    assert (state[~district100.mask] == NONFUEL).all()
    assert ((state == UNBURNED) == ((district100.land.fuel_class > 0) & district100.mask & ~major)).all()


def test_plan_firebreaks_are_rasterised_at_their_width(district100):
    x0, y0 = 728_000.0, 3_295_000.0
    pts = [to_wgs84().transform(x0 + dx, y0 + dy) for dx, dy in ((0, 0), (3000, 2000), (6000, 2500))]
    narrow = Firebreak(points=pts, kind="biological", width_m=30.0)
    wide = Firebreak(points=pts, kind="combined", width_m=300.0)
    hz = FireHazard(random_ignitions_per_day=1.0)
    cells = []
    for fb in (narrow, wide):
        ff = FireField(district100, hz, np.random.default_rng(0), [fb])
        cells.append(ff.land.barrier & ~road_barrier_mask(district100, ("expressway", "trunk")))
    assert cells[0].sum() >= 60  # ≥ 7.1 km at 100 m, 4-connected
    assert cells[1].sum() > 2.0 * cells[0].sum()
    assert (cells[1] | ~cells[0]).all()


def test_polylines_are_four_connected():
    """Any rasterised line is one 4-connected component, so an 8-neighbour fire cannot cross it diagonally."""
    land = FireLandscape.synthetic(np.ones((80, 80), np.uint8))
    rng = np.random.default_rng(3)
    for _ in range(20):
        xy = np.column_stack([land.grid.x0_m + rng.uniform(0, 8000, 4), land.grid.y0_m - rng.uniform(0, 8000, 4)])
        mask = rasterise_polylines(land.grid, [xy])
        _, n = ndimage.label(mask)  # default structure = 4-connectivity
        assert n == 1


# ---------------------------------------------------------------------------------------------- physics tables
def test_moisture_damping_and_fuel_table():
    assert moisture_damping(0.0, 25.0) == 1.0 and moisture_damping(25.0, 25.0) == 0.0
    r = np.linspace(0, 1, 11)
    eta = moisture_damping(r * 30.0, 30.0)
    assert np.all(np.diff(eta) <= 0)
    p = FireParams()
    t8 = fuel_table(p, p.moisture_ref_pct, 100.0)
    np.testing.assert_allclose(t8[1:, T_ROS_M_S] * 60 * p.front_speed_factor, p.ros_ref_m_min[1:])
    dry, wet = fuel_table(p, 4.0, 100.0), fuel_table(p, 28.0, 100.0)
    assert (dry[1:, T_ROS_M_S] > t8[1:, T_ROS_M_S]).all()
    assert wet[1, T_ROS_M_S] == 0.0 and wet[5, T_ROS_M_S] > 0  # grass (Mx 25 %) cannot burn at 28 %
    assert (t8[3:, T_RESIDENCE_S] > t8[1, T_RESIDENCE_S]).all()  # forest burns for hours


def test_too_wet_fuel_does_not_burn():
    ff = synthetic_fire(fuel_class=1, fuel_moisture_pct=30.0, hours=1.0)
    assert ff.burned_area_ha == 0.0
    assert ff.ignitions.status[0] == "failed"


# ---------------------------------------------------------------------------------------------- ignitions
def test_ignition_on_water_moves_to_nearest_fuel_or_fails():
    n = 41
    fuel = np.ones((n, n), np.uint8)
    fuel[:, :20] = 0  # west half is water
    land = FireLandscape.synthetic(fuel)
    hz = FireHazard(random_ignitions_per_day=0.0 + 1e-9)
    ff = FireField.from_landscape(land, hz, np.random.default_rng(0))
    xs, y = land.grid.xy(np.array([20, 20]), np.array([18, 5]))  # 200 m and 1500 m from fuel
    near = ff.ignite_xy(float(xs[0]), float(y[0]), 0.0)
    far = ff.ignite_xy(float(xs[1]), float(y[1]), 0.0)
    ff.advance(60.0)
    tab = ff.ignitions.set_index("fire_id")
    assert tab.loc[near, "status"] == "burning" and tab.loc[near, "snapped_m"] == pytest.approx(200.0)
    assert tab.loc[near, "cell"] == 20 * n + 20
    assert tab.loc[far, "status"] == "failed" and np.isnan(tab.loc[far, "started_s"])


def test_given_ignitions_start_at_their_time():
    lon, lat = 107.383, 29.745
    hz = FireHazard(ignitions=[Ignition(lon=lon, lat=lat, time_h=2.0)])
    land = FireLandscape.synthetic(np.ones((40, 40), np.uint8), x0_m=project_lonlat(lon, lat)[0] - 2000,
                                   y0_m=project_lonlat(lon, lat)[1] + 2000)
    ff = FireField.from_landscape(land, hz, np.random.default_rng(0))
    ff.advance(7140.0)
    assert ff.burning_cells == 0 and ff.ignitions.status[0] == "scheduled"
    ff.advance(7200.0)
    assert ff.burning_cells == 1 and ff.ignitions.started_s[0] == 7200.0
    x, y = project_lonlat(lon, lat)
    assert ff.ignitions.x_m[0] == pytest.approx(float(x))


def test_calendar_multipliers():
    assert spring_festival(2023) == dt.date(2023, 1, 22)
    assert calendar_multiplier(dt.date(2023, 4, 5)) == 4.0
    assert calendar_multiplier(dt.date(2023, 1, 21)) == 2.0  # New Year's eve
    assert calendar_multiplier(dt.date(2023, 2, 5)) == 2.0  # Lantern Festival
    assert calendar_multiplier(dt.date(2023, 5, 3)) == 1.5
    assert calendar_multiplier(dt.date(2023, 10, 7)) == 1.5
    assert calendar_multiplier(dt.date(2023, 8, 17)) == 1.0
    with pytest.raises(ValueError):
        spring_festival(1999)


def test_random_ignitions_follow_calendar_dryness_and_risk(district100):
    """Poisson counts over 2 days × 20 seeds (synthetic grid): Qingming carries 2.5–6× the fires of an ordinary
    June day (multiplier 4); fuel at 20 % moisture fewer than half those at 10 % (factor e^-2). On the district:
    drawn cells are burnable and nearer to roads than burnable cells are on average."""
    land = FireLandscape.synthetic(np.ones((30, 30), np.uint8))

    def count(start: str, moisture: float) -> float:
        n = 0
        for s in range(20):
            hz = FireHazard(random_ignitions_per_day=3.0, fuel_moisture_pct=moisture)
            ff = FireField.from_landscape(land, hz, np.random.default_rng(s), start_time=start)
            ff._draw_days(2 * 86400.0 - 1.0)
            n += len(ff.ignitions)
        return n / 20

    qingming, ordinary, wet = count("2023-04-04T00:00", 10.0), count("2023-06-14T00:00", 10.0), count(
        "2023-06-14T00:00", 20.0)
    assert 2.5 * ordinary < qingming < 6 * ordinary, (qingming, ordinary)
    assert wet < 0.5 * ordinary, (wet, ordinary)
    ff = FireField(district100, FireHazard(random_ignitions_per_day=50.0), np.random.default_rng(0),
                   start_time="2023-06-14T08:30")
    ff._draw_days(86400.0)
    tab = ff.ignitions
    assert len(tab) > 30 and set(tab.cause) == {"random"} and (tab.time_s >= 0).all()
    rows, cols = ff.grid.rowcol(tab.x_m.to_numpy(), tab.y_m.to_numpy())
    assert ff._burnable[rows, cols].all()
    d_road = ndimage.distance_transform_edt(~ff.land.roads) * 100.0
    assert d_road[rows, cols].mean() < 0.8 * d_road[ff._burnable].mean()


def test_high_risk_day_file_runs(district100):
    hz = load_component("scenarios/hazards/fire_high_risk_day.yaml")
    ff = FireField(district100, hz.fire, np.random.default_rng(7), start_time=hz.start_time)
    ff.advance(36 * 3600.0)
    s = ff.summary()
    assert s["fires_started"] >= 1 and s["burned_area_ha"] > 0
    assert 0 <= s["forest_damage_rate_permille"] < 1000


# ---------------------------------------------------------------------------------------------- clock
def test_results_do_not_depend_on_how_the_run_is_split():
    a = synthetic_fire(seed=4, wind=3.0, hours=2.0)
    b = synthetic_fire(seed=4, wind=3.0)
    for k in range(1, 121):
        b.advance(k * 60.0)
    for name in ("fire__state", "fire__id", "fire__ignition_time"):
        np.testing.assert_array_equal(a.fields[name], b.fields[name])
    c = synthetic_fire(seed=5, wind=3.0, hours=2.0)
    assert not np.array_equal(a.fields["fire__state"], c.fields["fire__state"])


def test_cells_burn_out_and_the_fire_ends():
    ff = synthetic_fire(n=15, fuel_class=1, hours=48.0)
    state = ff.fields["fire__state"]
    assert ff.burning_cells == 0 and (state == BURNED).sum() > 0 and not (state == BURNING).any()
    tab = ff.ignitions
    assert tab.status[0] == "out" and tab.time_out_s[0] > 0 and tab.contained_s[0] <= tab.time_out_s[0]
    assert tab.burned_area_ha[0] == pytest.approx((state == BURNED).sum() * 1.0)


# ---------------------------------------------------------------------------------------------- suppression
def test_suppress_holds_lines_and_mops_up():
    ff = synthetic_fire(n=41, fuel_class=3, hours=3.0)
    before = ff.burning_cells
    x, y = ff.ignitions.x_m[0], ff.ignitions.y_m[0]
    w = ff.suppress(x, y, 100, 1.0, 3600.0, reach_m=1000.0)  # 100 person-hours: hold and line, no mop-up
    assert w.held_cells > 0 and w.extinguished_cells == 0 and ff.burning_cells == before
    assert ff.held.size == w.held_cells and ff.front.size == before - w.held_cells
    w2 = ff.suppress(x, y, 10_000, 1.0, 3600.0, reach_m=1000.0)
    state = ff.fields["fire__state"]
    assert w2.extinguished_cells > 0 and (state == EXTINGUISHED).sum() == w2.extinguished_cells
    assert ff.burning_cells == before - w2.extinguished_cells
    tab = ff.ignitions
    assert tab.extinguished_by_crews[0] == w2.extinguished_cells
    ff2 = synthetic_fire(n=41, fuel_class=3, hours=3.0)
    w2 = ff2.suppress(x, y, 10_000, 1.0, 3600.0, reach_m=1000.0, tactic="indirect")
    assert w2.fireline_cells > 0 and (ff2.fields["fire__state"] == FIRELINE).sum() == w2.fireline_cells
    # a fire whose whole edge is held is contained and no longer spreads (flat grass: 100/18.1 ph per cell)
    ff3 = synthetic_fire(n=41, fuel_class=1, hours=1.0)
    n_edge = ff3.edge_cells()[0].size
    w3 = ff3.suppress(x, y, n_edge * 100.0 / 18.1 * 60.0 * 1.001, 1.0, 60.0, reach_m=5000.0)
    assert w3.held_cells == n_edge and ff3.edge_cells()[0].size == 0
    reached = (ff3.fields["fire__id"] >= 0).sum()
    ff3.advance(ff3.time_s + 3 * 3600.0)
    assert (ff3.fields["fire__id"] >= 0).sum() == reached
    assert ff3.ignitions.contained_s[0] <= 3600.0 + 60.0


def test_big_crew_puts_a_small_fire_out():
    ff = synthetic_fire(n=41, fuel_class=1, hours=0.5)
    x, y = ff.ignitions.x_m[0], ff.ignitions.y_m[0]
    ff.suppress(x, y, 5000, 1.0, 3600.0, reach_m=2000.0)
    ff.advance(ff.time_s + 60.0)
    tab = ff.ignitions
    assert tab.status[0] == "out" and tab.time_out_s[0] <= ff.time_s
    assert ff.active_fires() == []


def test_a_given_ignition_outside_the_district_is_refused(district100):
    from sim.yamlio import InputError

    hz = FireHazard(ignitions=[Ignition(lon=107.0, lat=30.0, time_h=0.0)])  # in the schema's box, not the district
    with pytest.raises(InputError, match=r"fire.ignitions.0: \(107.0, 30.0\) lies outside Fuling District. Fix"):
        FireField(district100, hz, np.random.default_rng(1))
