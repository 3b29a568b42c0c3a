"""Wildfire: stochastic cellular spread, barriers, ignitions and suppression by crews.

The model (parameters in :class:`FireParams`; every number is an explicit assumption unless a source is named):

1. **Fuel and barriers.** Fuel classes come from the district (:mod:`sim.landcover`: 1 grass/crop, 2 shrub,
   3 broadleaf, 4 mixed, 5 conifer; 0 non-fuel — water, urban, outside). Road edges of the district graph of
   the classes in ``road_barrier_classes`` (default expressway and trunk; straight segments between node
   coordinates) and the plan's firebreaks are rasterised as non-fuel cells, drawn 4-connected so that the
   8-neighbour fire cannot slip diagonally between two barrier cells, and widened to ``width_m`` where that
   exceeds a cell. A barrier narrower than a cell blocks a whole cell (a 30 m firebreak is 100 m wide on the
   100 m grid). Village roads are not barriers by default.
2. **Rate of spread.** ``R0(fuel, M) = R0_ref(fuel) · η(M / Mx) / η(M_ref / Mx)`` with Rothermel's (1972,
   USDA INT-115) moisture damping ``η(r) = 1 − 2.59 r + 5.11 r² − 3.52 r³`` (0 at the moisture of extinction
   ``Mx``). ``R0_ref`` at ``M_ref = 8 %`` for calm, flat conditions (m/min): grass/crop 2.0, shrub 2.0,
   broadleaf 0.6, mixed 0.8, conifer 1.0 — *assumptions* of the right order: Anderson (1982, USDA INT-122)
   gives at 8 % moisture and 5 mi/h midflame wind 26 m/min for short grass (FM1), 6 m/min for brush (FM5),
   2.5 m/min for hardwood litter (FM9) and 2.6 m/min for timber with understory (FM10); calm spread is several
   times slower, and Fuling's crop land is a mosaic of irrigated and harvested terraces. ``Mx`` (%): grass/crop
   25 (Anderson FM3), shrub 30, broadleaf 30 (FM8), mixed 30, conifer 35 (assumptions in the 25–35 % of
   Anderson's litter and slash models).
3. **Direction.** ``R = R0 · W(k) · exp(a θ_s)`` with the wind factor ``W = exp(c1 V) exp(c2 V (cos θ − 1))``
   (θ between the spread direction and the direction the wind blows to; V the 10 m open wind, m/s) and the
   slope angle ``θ_s`` (degrees, positive uphill) — the form of Alexandridis et al. (2008), with their
   ``c2 = 0.131 s/m`` and ``a = 0.078 /°``. Their ``c1 = 0.045 s/m`` scales ignition probabilities in their
   CA; used as a rate factor here it leaves the head fire no faster in wind than in calm (measured on uniform
   grass: head × 1.2 at 5 m/s, × 1.0 at 10 m/s, because the stochastic front loses its flank paths), so
   ``c1 = 0.1814 s/m`` is taken from the head-fire wind function ``exp(0.05039 W)`` (W in km/h) of the
   Canadian FBP system's Initial Spread Index (Van Wagner 1987; Forestry Canada 1992). Measured (uniform grass,
   100 m, 3 h): head × 2.1 at 5 m/s and × 4.1 at 10 m/s (FBP: 2.5, 6.1), backing × 0.9 and × 0.7, length to
   breadth 0.9–1.15 — rounder than observed wind-driven ellipses (FBP 2.3–4.6), a limit of the cosine form on
   the Moore neighbourhood (raising ``c2`` elongates the fire but stops the backing fire).
4. **Stochastic spread** (:mod:`sim.kernels.fire`): per step ``dt`` a burning cell ignites an unburned Moore
   neighbour at centre distance ``d`` with probability ``1 − exp(−(R / κ) dt / d)``. With exponential waiting
   times the front of a fire in uniform fuel runs ahead of the per-link rate (first-passage percolation: the
   earliest of many paths wins); measured, it moves at ≈ 4 × the link rate at any cell size, so the kernel
   rate is ``R / κ`` with ``κ = front_speed_factor = 4`` and a calm fire's equivalent radius grows at ``R0``
   (``tests/validation``: within ± 25 % at 100 m and 30 m). Updates are synchronous. The front moves at most
   one cell per step: spread faster than ``Δx / dt`` (100 m/min at 100 m, 30 m/min at 30 m with 60 s steps) is
   capped.
5. **Residence.** A cell burns for ``t_fuel + κ Δx / R0(fuel, M)`` (the flaming and smouldering time of the fuel
   plus the cell-crossing time at the kernel rate, so that each link gets about one mean waiting time),
   capped at ``max_residence_h``; ``t_fuel`` (min): grass 10, shrub 30, broadleaf 480, mixed 540, conifer 600
   (assumptions: minutes for fine fuels, hours for the duff, roots and logs of forest in drought). A 100 m
   forest cell thus burns 15–20 h unless mopped up; then it is burned out.
6. **Spotting** (``FireHazard.spotting``): a burning forest cell (broadleaf, mixed, conifer) lofts an ember
   with rate ``spot_rate_per_ha_h · cell area (ha) · V / 5 m/s``; it lands downwind (bearing
   ± ``spot_spread_deg``) at an exponentially distributed distance of mean
   ``spot_mean_m + spot_mean_m_per_m_s · V`` and ignites the cell there if it holds unburned fuel — across
   barriers (assumed values; spotting distances of hundreds of metres for torching trees in moderate wind,
   Albini 1979, USDA INT-56).
7. **Ignitions.** Given ones (lon/lat, time) start at the first clock step at or after their time in the
   nearest cell holding unburned fuel within ``snap_m`` of the point; if there is none the ignition is
   recorded as *failed*. Random ones: a Poisson count per calendar day with mean
   ``random_ignitions_per_day × festival(date) × exp(−(M − 10) / 5)``, a time of day from
   :data:`DIURNAL_WEIGHTS` and a cell drawn among burnable cells with weight
   ``fuel weight × (1 + road_gain e^(−d_road / road_scale_m)) × (1 + pop_gain · population share)``
   (human-caused fires concentrate near roads and settlements — Guo et al. 2016, Int. J. Wildland Fire 25,
   505–519, for Fujian; the weights are assumptions). Festival multipliers: Qingming (Apr 4–5) × 4,
   Spring Festival (eve to 6th day, and the Lantern Festival) × 2, May Day (May 1–5) and National Day
   (Oct 1–7) × 1.5 — the peak periods of PLAN_FACTS §3; the multipliers are assumptions.
8. **Suppression** (:meth:`FireField.suppress`): a crew works the cells within ``reach_m`` of its position:
   it *holds* burning cells on the active edge (they burn on but no longer spread; direct attack), builds
   *fireline* in unburned fuel next to spreading cells (it becomes non-fuel; ``tactic="indirect"`` does this
   first) and *mops up* burning cells (they are put out). Holding or lining a cell costs ``Δx`` metres of line,
   mopping one up ``mopup_factor · Δx``. Production per person-hour by fuel class (m): grass/crop 18.1,
   shrub 4.0, broadleaf 24.1, mixed 16.1, conifer 5.0 — the sustained rates of 20-person Type II crews
   (construction, burnout and holding) of the NWCG Incident Response Pocket Guide (PMS 461): FM1 grass
   18 ch/h, FM5 brush 4, FM9 hardwood litter (hardwoods) 24, FM9 (conifers) 16, FM8 closed timber litter
   (conifers) 5 ch/h per crew, 1 chain = 20.1168 m. Slope reduces it by ``max(0.25, 1 − slope/60°)`` and
   ``equipment_factor`` multiplies it (both assumptions); ``mopup_factor = 50`` (assumption: mopping up a
   burning hectare takes ~200 person-hours in broadleaf, ~1,000 in conifer). A fire is *contained* when none
   of its burning cells has unburned fuel next to it and *out* when none burns.

Calibration: ``scenarios/hazards/fire_2022_beishanping.yaml`` on the 100 m district with the reference crews
of :func:`direct_attack` (the professional forest-fire team of 江北, 60 persons ×1.5, from 1 h; the two
district forest-fire teams of 40 from 2 h) burns a median of ~24 ha (16 seeds: 3–144 ha; reported ~33 ha) and
is out after a median of ~8 h (4–23 h; reported ~30 h of burning). The generated land cover at the site is
70 % farmland, which burns out within hours; the real 北山坪 is forested.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from shapely.geometry import LineString

from sim.geo import project_lonlat, to_wgs84
from sim.grid import Grid
from sim.hazards.base import ROAD_CLOSED, ROAD_OPEN, FieldSpec
from sim.kernels.fire import (
    BURNED,
    BURNING,
    DC,
    DR,
    EXTINGUISHED,
    FIRELINE,
    N_PARAMS,
    N_TABLE,
    NONFUEL,
    P_CELL_M,
    P_DT_S,
    P_SLOPE_A,
    P_SPOT_MEAN_M,
    P_SPOT_P,
    P_SPOT_SPREAD_RAD,
    P_T_NEW_S,
    P_WIND_TO_RAD,
    STATE_NAMES,
    T_RESIDENCE_S,
    T_ROS_M_S,
    T_SPOT,
    UNBURNED,
    front_edges,
    spread_step,
    wind_factors,
)
from sim.landcover import FOREST
from sim.yamlio import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sim.district import District
    from sim.scenario import Firebreak, FireHazard

__all__ = [
    "BURNED",
    "BURNING",
    "DIURNAL_WEIGHTS",
    "EXTINGUISHED",
    "FIRELINE",
    "NONFUEL",
    "STATE_NAMES",
    "UNBURNED",
    "ActiveFire",
    "Crew",
    "FireField",
    "FireLandscape",
    "FireParams",
    "SuppressionWork",
    "calendar_multiplier",
    "direct_attack",
    "fuel_table",
    "moisture_damping",
    "rasterise_polylines",
    "road_barrier_mask",
    "run_with_crews",
    "spring_festival",
]

# Lunar New Year's day (春节) by year; the table covers the years a scenario is likely to use.
SPRING_FESTIVAL = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25), 2021: (2, 12),
    2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6), 2028: (1, 26),
    2029: (2, 13), 2030: (2, 3), 2031: (1, 23), 2032: (2, 11), 2033: (1, 31), 2034: (2, 19), 2035: (2, 8),
}

# Relative ignition rate by hour of day 0..23 (assumption: human-caused fires peak 10–17 h).
DIURNAL_WEIGHTS = np.array([0.2] * 7 + [0.4, 0.7, 1.0] + [1.5] * 8 + [0.9, 0.6, 0.4, 0.3, 0.2, 0.2])


@dataclass(frozen=True)
class FireParams:
    """Parameters of the fire model; tuples are indexed by fuel class 0..5 (see the module docstring).

    Attributes
    ----------
    ros_ref_m_min : calm, flat rate of spread at ``moisture_ref_pct``, m/min.
    moisture_ref_pct : fuel moisture at which ``ros_ref_m_min`` holds, %.
    moisture_extinction_pct : moisture of extinction, %.
    residence_min : flaming/smouldering time of the fuel, min (the cell-crossing time is added).
    max_residence_h : cap on a cell's burning time, h.
    front_speed_factor : κ, ratio of the front speed of the stochastic kernel to its per-link rate (measured).
    wind_c1_s_m, wind_c2_s_m : wind coefficients c1 (FBP head-fire wind function) and c2 (Alexandridis), s/m.
    slope_a_per_deg : Alexandridis slope coefficient, 1/degree.
    spot_fuels : fuel classes whose burning cells loft embers.
    spot_rate_per_ha_h : rate of igniting embers lofted per burning hectare of spot-capable fuel at 5 m/s wind,
        1/(ha h).
    spot_mean_m, spot_mean_m_per_m_s : mean ember distance = ``spot_mean_m + spot_mean_m_per_m_s × V``, m.
    spot_spread_deg : half-width of the ember bearing fan, degrees.
    road_barrier_classes : road classes rasterised as non-fuel.
    snap_m : an ignition starts in the nearest unburned fuel cell within this distance, m.
    production_m_per_person_h : fireline production per person-hour, m.
    mopup_factor : cost of mopping up an interior burning cell relative to lining one, dimensionless.
    reach_m : default radius a crew works in around its position, m (at least 1.5 cells is used).
    ignition_fuel_weight : relative ignition weight of each fuel class.
    road_gain, road_scale_m : ignition weight ``× (1 + road_gain exp(−d_road / road_scale_m))``.
    pop_gain, pop_smooth_m : ignition weight ``× (1 + pop_gain × smoothed population share)``; smoothing
        radius (Gaussian sigma), m.
    """

    ros_ref_m_min: tuple[float, ...] = (0.0, 2.0, 2.0, 0.6, 0.8, 1.0)
    moisture_ref_pct: float = 8.0
    moisture_extinction_pct: tuple[float, ...] = (1.0, 25.0, 30.0, 30.0, 30.0, 35.0)
    residence_min: tuple[float, ...] = (0.0, 10.0, 30.0, 480.0, 540.0, 600.0)
    max_residence_h: float = 48.0
    front_speed_factor: float = 4.0
    wind_c1_s_m: float = 0.1814
    wind_c2_s_m: float = 0.131
    slope_a_per_deg: float = 0.078
    spot_fuels: tuple[int, ...] = (3, 4, 5)
    spot_rate_per_ha_h: float = 0.05
    spot_mean_m: float = 50.0
    spot_mean_m_per_m_s: float = 30.0
    spot_spread_deg: float = 20.0
    road_barrier_classes: tuple[str, ...] = ("expressway", "trunk")
    snap_m: float = 300.0
    production_m_per_person_h: tuple[float, ...] = (0.0, 18.1, 4.0, 24.1, 16.1, 5.0)
    mopup_factor: float = 50.0
    reach_m: float = 150.0
    ignition_fuel_weight: tuple[float, ...] = (0.0, 1.0, 1.0, 0.8, 0.8, 0.8)
    road_gain: float = 4.0
    road_scale_m: float = 300.0
    pop_gain: float = 4.0
    pop_smooth_m: float = 500.0

    def __post_init__(self) -> None:
        n = len(self.ros_ref_m_min)
        for name in ("moisture_extinction_pct", "residence_min", "production_m_per_person_h",
                     "ignition_fuel_weight"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"FireParams.{name} needs one value per fuel class ({n}), "
                                 f"got {len(getattr(self, name))}")
        if min(self.ros_ref_m_min) < 0 or min(self.residence_min) < 0 or min(self.moisture_extinction_pct) <= 0:
            raise ValueError("rates, residence times and moistures of extinction must be ≥ 0 (Mx > 0)")


# ---------------------------------------------------------------------------------------------- physics
def moisture_damping(moisture_pct: float | np.ndarray, extinction_pct: float | np.ndarray) -> np.ndarray:
    """Return Rothermel's (1972) moisture damping ``η = 1 − 2.59 r + 5.11 r² − 3.52 r³``, ``r = min(M/Mx, 1)``.

    Parameters
    ----------
    moisture_pct : fuel moisture M, % of dry weight.
    extinction_pct : moisture of extinction Mx, %.

    Returns
    -------
    η, dimensionless in [0, 1] (1 for dry fuel, 0 at and above extinction).

    Examples
    --------
    >>> float(moisture_damping(0.0, 30.0)), float(moisture_damping(30.0, 30.0))
    (1.0, 0.0)
    """
    r = np.minimum(np.asarray(moisture_pct, dtype=float) / np.asarray(extinction_pct, dtype=float), 1.0)
    return np.where(r >= 1.0, 0.0, np.clip(1.0 - 2.59 * r + 5.11 * r**2 - 3.52 * r**3, 0.0, 1.0))


def fuel_table(params: FireParams, moisture_pct: float, cell_size_m: float) -> np.ndarray:
    """Return the kernel's per-fuel table: R0 (m/s), residence (s) and spot flag at a fuel moisture.

    Parameters
    ----------
    params : the model parameters.
    moisture_pct : fuel moisture, %.
    cell_size_m : cell edge, m (enters the residence time through the cell-crossing time).

    Returns
    -------
    (n_fuel, 3) float64 table (columns ``T_ROS_M_S``, ``T_RESIDENCE_S``, ``T_SPOT`` of :mod:`sim.kernels.fire`).
    """
    mx = np.asarray(params.moisture_extinction_pct, dtype=float)
    ratio = moisture_damping(moisture_pct, mx) / np.maximum(moisture_damping(params.moisture_ref_pct, mx), 1e-12)
    ros = np.asarray(params.ros_ref_m_min, dtype=float) / 60.0 * ratio / params.front_speed_factor
    table = np.zeros((ros.size, N_TABLE))
    table[:, T_ROS_M_S] = ros
    with np.errstate(divide="ignore"):
        cross = np.where(ros > 0, cell_size_m / np.where(ros > 0, ros, 1.0), 0.0)
    res = np.asarray(params.residence_min, dtype=float) * 60.0 + cross
    table[:, T_RESIDENCE_S] = np.where(ros > 0, np.minimum(res, params.max_residence_h * 3600.0), 0.0)
    for f in params.spot_fuels:
        if 0 <= f < ros.size:
            table[f, T_SPOT] = 1.0
    return table


# ---------------------------------------------------------------------------------------------- rasters
def rasterise_polylines(grid: Grid, lines: Iterable[np.ndarray], width_m: float | Sequence[float] = 0.0) -> np.ndarray:
    """Return the cells under polylines, 4-connected along each line and widened to ``width_m``.

    Parameters
    ----------
    grid : the raster.
    lines : iterable of (k, 2) arrays of vertices ``x_m, y_m`` (UTM 48N metres), k ≥ 2.
    width_m : line width(s), m: one value or one per line. Cells whose centre lies within ``width_m / 2`` of
        the line are added to the 4-connected centre line (so a line never has diagonal gaps).

    Returns
    -------
    (nrows, ncols) bool mask.
    """
    out = np.zeros(grid.shape, dtype=bool)
    lines = [np.asarray(xy, dtype=float).reshape(-1, 2) for xy in lines]
    widths = np.broadcast_to(np.asarray(width_m, dtype=float), (len(lines),))
    s = grid.cell_size_m
    for xy, w in zip(lines, widths, strict=True):
        if xy.shape[0] < 2:
            continue
        seg = np.diff(xy, axis=0)
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        pts = [xy[:1]]
        for j in range(seg.shape[0]):
            k = max(1, int(math.ceil(seg_len[j] / (0.25 * s))))
            f = np.arange(1, k + 1)[:, None] / k
            pts.append(xy[j] + f * seg[j])
        p = np.concatenate(pts)
        r, c = grid.rowcol(p[:, 0], p[:, 1])
        # corner cells where consecutive samples step diagonally keep the line 4-connected
        diag = (np.diff(r) != 0) & (np.diff(c) != 0)
        r = np.concatenate([r, r[:-1][diag]])
        c = np.concatenate([c, c[1:][diag]])
        ok = grid.inside(r, c)
        out[r[ok], c[ok]] = True
        if w > s:
            half = 0.5 * w
            line = LineString(xy)
            minx, miny, maxx, maxy = line.bounds
            r0, c0 = grid.rowcol(minx - half, maxy + half)
            r1, c1 = grid.rowcol(maxx + half, miny - half)
            r0, c0 = max(int(r0), 0), max(int(c0), 0)
            r1, c1 = min(int(r1), grid.nrows - 1), min(int(c1), grid.ncols - 1)
            if r1 < r0 or c1 < c0:
                continue
            rr, cc = np.mgrid[r0:r1 + 1, c0:c1 + 1]
            xs, ys = grid.xy(rr.ravel(), cc.ravel())
            near = shapely.dwithin(line, shapely.points(xs, ys), half)
            out[rr.ravel()[near], cc.ravel()[near]] = True
    return out


def road_barrier_mask(district: District, classes: Sequence[str]) -> np.ndarray:
    """Return the cells crossed by road edges of the given classes (straight segments between node coordinates).

    Parameters
    ----------
    district : the district (its ``roads`` graph, node ``x``/``y`` in metres).
    classes : road classes to include, e.g. ``("expressway", "trunk")``.

    Returns
    -------
    (nrows, ncols) bool mask, 4-connected along each edge.
    """
    wanted = set(classes)
    seen: set[tuple[int, int]] = set()
    lines = []
    nodes = district.roads.nodes
    for u, v, d in district.roads.edges(data=True):
        key = (min(u, v), max(u, v))
        if d.get("road_class") not in wanted or key in seen:
            continue
        seen.add(key)
        lines.append(np.array([[nodes[u]["x"], nodes[u]["y"]], [nodes[v]["x"], nodes[v]["y"]]]))
    return rasterise_polylines(district.grid, lines, 0.0)


def firebreak_mask(grid: Grid, firebreaks: Sequence[Firebreak]) -> np.ndarray:
    """Return the cells of the plan's firebreaks (WGS84 vertices projected, drawn at their width)."""
    lines, widths = [], []
    for fb in firebreaks:
        lon, lat = np.asarray(fb.points, dtype=float).T
        x, y = project_lonlat(lon, lat)
        lines.append(np.column_stack([x, y]))
        widths.append(fb.width_m)
    if not lines:
        return np.zeros(grid.shape, dtype=bool)
    return rasterise_polylines(grid, lines, widths)


# ---------------------------------------------------------------------------------------------- calendar
def spring_festival(year: int) -> dt.date:
    """Return the date of Lunar New Year (春节) in ``year`` (table 2015–2035)."""
    if year not in SPRING_FESTIVAL:
        raise ValueError(f"no Spring Festival date for {year}; the table covers 2015–2035")
    return dt.date(year, *SPRING_FESTIVAL[year])


def calendar_multiplier(day: dt.date) -> float:
    """Return the ignition-rate multiplier of a calendar day (festivals of PLAN_FACTS §3; values assumed).

    Examples
    --------
    >>> calendar_multiplier(dt.date(2022, 4, 5)), calendar_multiplier(dt.date(2022, 8, 17))
    (4.0, 1.0)
    """
    if day.month == 4 and day.day in (4, 5):
        return 4.0  # Qingming 清明: tomb sweeping, paper offerings
    if day.year in SPRING_FESTIVAL:
        sf = spring_festival(day.year)
        off = (day - sf).days
        if -1 <= off <= 6 or off == 14:
            return 2.0  # Spring Festival 春节 (eve to 6th day) and Lantern Festival 元宵: fireworks
    if day.month == 5 and 1 <= day.day <= 5:
        return 1.5  # May Day 劳动节
    if day.month == 10 and 1 <= day.day <= 7:
        return 1.5  # National Day 国庆节
    return 1.0


# ---------------------------------------------------------------------------------------------- landscape
@dataclass
class FireLandscape:
    """What the fire reads about the land: fuel, terrain, barriers, forest and ignition weights.

    Attributes
    ----------
    grid : the raster (UTM 48N metres, row 0 north).
    fuel_class : (nrows, ncols) uint8 fuel classes (0 non-fuel).
    elevation_m : (nrows, ncols) float64 elevation, m (finite).
    slope_deg : (nrows, ncols) float64 slope, degrees.
    barrier : (nrows, ncols) bool, roads and firebreaks (non-fuel).
    forest : (nrows, ncols) bool, forest land (for burned forest area).
    population : (nrows, ncols) float64 residents per cell (ignition weights), or None.
    roads : (nrows, ncols) bool, cells on any road (ignition weights), or None.
    """

    grid: Grid
    fuel_class: np.ndarray
    elevation_m: np.ndarray
    slope_deg: np.ndarray
    barrier: np.ndarray
    forest: np.ndarray
    population: np.ndarray | None = None
    roads: np.ndarray | None = None

    @classmethod
    def from_district(cls, district: District, firebreaks: Sequence[Firebreak] = (),
                      params: FireParams | None = None) -> FireLandscape:
        """Build the landscape of a district with its road barriers and the plan's firebreaks."""
        params = params or FireParams()
        g = district.grid
        fuel = np.where(district.mask, district.land.fuel_class, 0).astype(np.uint8)
        z = np.nan_to_num(district.terrain.elevation_m.astype(np.float64), nan=0.0)
        slope = np.nan_to_num(district.terrain.slope_deg.astype(np.float64), nan=0.0)
        barrier = road_barrier_mask(district, params.road_barrier_classes) | firebreak_mask(g, firebreaks)
        all_roads = road_barrier_mask(district, ("expressway", "trunk", "village"))
        return cls(g, fuel, z, slope, barrier, district.land.land_cover == FOREST,
                   district.population.astype(np.float64), all_roads)

    @classmethod
    def synthetic(cls, fuel_class: np.ndarray, elevation_m: np.ndarray | None = None, cell_size_m: float = 100.0,
                  x0_m: float = 700_000.0, y0_m: float = 3_300_000.0, barrier: np.ndarray | None = None,
                  forest: np.ndarray | None = None) -> FireLandscape:
        """Build a landscape from arrays (tests, benchmarks); default origin lies inside Fuling.

        ``forest`` defaults to fuel classes 3–5; slope is derived from the elevation.
        """
        fuel = np.ascontiguousarray(fuel_class, dtype=np.uint8)
        z = np.zeros(fuel.shape) if elevation_m is None else np.asarray(elevation_m, dtype=np.float64)
        gy, gx = np.gradient(z, cell_size_m)
        slope = np.degrees(np.arctan(np.hypot(gx, gy)))
        grid = Grid(float(x0_m), float(y0_m), float(cell_size_m), fuel.shape[0], fuel.shape[1])
        return cls(grid, fuel, np.ascontiguousarray(z), slope,
                   np.zeros(fuel.shape, bool) if barrier is None else np.asarray(barrier, bool),
                   (fuel >= 3) if forest is None else np.asarray(forest, bool))

    def ignition_weights(self, params: FireParams, burnable: np.ndarray) -> np.ndarray:
        """Return the relative random-ignition weight of every cell (0 where not burnable)."""
        s = self.grid.cell_size_m
        w = np.asarray(params.ignition_fuel_weight, dtype=float)[np.minimum(self.fuel_class, len(
            params.ignition_fuel_weight) - 1)]
        w = np.where(burnable, w, 0.0)
        if self.roads is not None and self.roads.any():
            d_road = ndimage.distance_transform_edt(~self.roads) * s
            w *= 1.0 + params.road_gain * np.exp(-d_road / params.road_scale_m)
        if self.population is not None and self.population.any():
            sm = ndimage.gaussian_filter(self.population, params.pop_smooth_m / s)
            top = np.percentile(sm[sm > 0], 95) if (sm > 0).any() else 1.0
            w *= 1.0 + params.pop_gain * np.clip(sm / top, 0.0, 1.0)
        return w


# ---------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class ActiveFire:
    """A fire that is burning now, as responders see it.

    Attributes
    ----------
    fire_id : the fire.
    burning_cells : cells burning now.
    edge_cells : burning cells with unburned fuel next to them (Moore neighbourhood).
    burned_area_ha : area reached so far (burning, burned out or extinguished), ha.
    centroid_x_m, centroid_y_m : centre of the burning cells, UTM 48N m.
    perimeter_m : active perimeter: cell faces between burning cells and unburned fuel, m.
    head_x_m, head_y_m : edge cell farthest downwind (the head), UTM 48N m.
    ignition_time_s : scheduled time of the ignition, s.
    """

    fire_id: int
    burning_cells: int
    edge_cells: int
    burned_area_ha: float
    centroid_x_m: float
    centroid_y_m: float
    perimeter_m: float
    head_x_m: float
    head_y_m: float
    ignition_time_s: float


@dataclass(frozen=True)
class SuppressionWork:
    """What one crew did in one call of :meth:`FireField.suppress` (cells held, lined, put out; person-hours)."""

    held_cells: int
    fireline_cells: int
    extinguished_cells: int
    person_hours: float


@dataclass
class Crew:
    """A suppression crew for :func:`direct_attack` (the reference dispatch policy; the agent model has its own).

    Attributes
    ----------
    name : label.
    size_persons : crew members.
    x_m, y_m : position, UTM 48N m (updated as the crew moves along the fire).
    equipment_factor : production multiplier (1 = hand tools).
    available_s : time the crew reaches the fire and starts work, s.
    fire_id : fire the crew is assigned to (None = nearest).
    walk_m_s : speed moving along the fire, m/s.
    """

    name: str
    size_persons: int
    x_m: float
    y_m: float
    equipment_factor: float = 1.0
    available_s: float = 0.0
    fire_id: int | None = None
    walk_m_s: float = 0.5
    work: list[SuppressionWork] = field(default_factory=list, repr=False)


def _member(cells: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Return True where ``cells`` occur in the increasing array ``sorted_set``."""
    if sorted_set.size == 0:
        return np.zeros(cells.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, cells), sorted_set.size - 1)
    return sorted_set[pos] == cells


# ---------------------------------------------------------------------------------------------- the field
class FireField:
    """Wildfire on the district grid (implements ``HazardComponent``).

    Parameters
    ----------
    district : the district.
    fire : the hazard file's ``fire`` section (ignitions, weather, spotting).
    rng : the run's Generator. Per clock step it draws ``random((n_burning, 8))`` for spread and, with spotting,
        ``random((n_burning, 3))``; per calendar day with random ignitions a Poisson count, hours, minutes
        and cells; :meth:`suppress` draws one uniform for a partly finished cell.
    firebreaks : the plan's firebreaks (non-fuel lines).
    step_s : clock step of the kernel, s.
    start_time : scenario clock origin ``"YYYY-MM-DDTHH:MM"`` (``HazardSpec.start_time``); sets the calendar of
        random ignitions (festivals). None: days start at t = 0 and no festival applies.
    params : model parameters.
    landscape : a ready landscape (then ``district`` may be None; see :meth:`from_landscape`).

    Attributes
    ----------
    fields : dict of the arrays declared in :attr:`FIELDS`.
    front : (n,) int64 flat indices of the spreading burning cells, increasing.
    front_end_s : (n,) float64 their burn-out times, s.
    held : (h,) int64 burning cells that crews have lined (they burn on but no longer spread), increasing.
    held_end_s : (h,) float64 their burn-out times, s.
    """

    name = "fire"
    FIELDS = {
        "fire__state": FieldSpec(np.uint8, "inout", "cell", "1",
                                 "cell state 火场状态: 0 non-fuel, 1 unburned, 2 burning, 3 burned out, "
                                 "4 extinguished, 5 fireline"),
        "fire__id": FieldSpec(np.int32, "out", "cell", "1", "fire (ignition) that reached the cell 火点编号 (-1 none)"),
        "fire__ignition_time": FieldSpec(np.float64, "out", "cell", "s",
                                         "time the cell ignited 起火时间 (NaN = never)"),
        "vegetation__fuel_class": FieldSpec(np.uint8, "in", "cell", "1", "fuel class 可燃物类型 (FUEL_CLASSES)"),
        "topographic__elevation": FieldSpec(np.float64, "in", "cell", "m", "elevation 高程"),
        "topographic__slope": FieldSpec(np.float64, "in", "cell", "deg", "slope 坡度 (suppression production)"),
    }

    def __init__(self, district: District | None, fire: FireHazard, rng: np.random.Generator,
                 firebreaks: Sequence[Firebreak] = (), step_s: float = 60.0, *, start_time: str | None = None,
                 params: FireParams | None = None, landscape: FireLandscape | None = None) -> None:
        params = params or FireParams()
        if landscape is None:
            if district is None:
                raise ValueError("FireField needs a district or a landscape")
            landscape = FireLandscape.from_district(district, firebreaks, params)
        elif firebreaks:
            landscape = dataclasses.replace(landscape,
                                            barrier=landscape.barrier | firebreak_mask(landscape.grid, firebreaks))
        if not step_s > 0:
            raise ValueError(f"step_s must be > 0, got {step_s}")
        if len(params.ros_ref_m_min) <= int(landscape.fuel_class.max(initial=0)):
            raise ValueError("the landscape has fuel classes beyond FireParams.ros_ref_m_min")
        self.district = district
        self.hazard = fire
        self.rng = rng
        self.params = params
        self.land = landscape
        self.grid = g = landscape.grid
        self.step_s = float(step_s)
        self.time_s = 0.0
        self.start = None if start_time is None else dt.datetime.strptime(start_time, "%Y-%m-%dT%H:%M")

        self.table = fuel_table(params, fire.fuel_moisture_pct, g.cell_size_m)
        self.wind = wind_factors(fire.wind_speed_m_s, fire.wind_from_deg, params.wind_c1_s_m, params.wind_c2_s_m)
        self.wind_to_rad = math.radians((fire.wind_from_deg + 180.0) % 360.0)
        v = fire.wind_speed_m_s
        self._spot_rate_per_s = (params.spot_rate_per_ha_h * g.cell_area_m2 / 1e4 / 3600.0 * v / 5.0
                                 if fire.spotting else 0.0)
        self.params_vec = np.zeros(N_PARAMS)
        self.params_vec[P_CELL_M] = g.cell_size_m
        self.params_vec[P_SLOPE_A] = params.slope_a_per_deg
        self.params_vec[P_SPOT_MEAN_M] = params.spot_mean_m + params.spot_mean_m_per_m_s * v
        self.params_vec[P_SPOT_SPREAD_RAD] = math.radians(params.spot_spread_deg)
        self.params_vec[P_WIND_TO_RAD] = self.wind_to_rad

        burnable = (landscape.fuel_class > 0) & (self.table[landscape.fuel_class, T_ROS_M_S] > 0) & ~landscape.barrier
        state = np.where(burnable, UNBURNED, NONFUEL).astype(np.uint8)
        self.fields: dict[str, np.ndarray] = {
            "fire__state": state,
            "fire__id": np.full(g.shape, -1, dtype=np.int32),
            "fire__ignition_time": np.full(g.shape, np.nan),
            "vegetation__fuel_class": landscape.fuel_class,
            "topographic__elevation": np.ascontiguousarray(landscape.elevation_m, dtype=np.float64),
            "topographic__slope": landscape.slope_deg,
        }
        self._road = np.zeros(g.shape, dtype=np.uint8)
        self._road_view = self._road.view()
        self._road_view.flags.writeable = False
        self._closed = np.empty(0, np.int64)
        self.front = np.empty(0, np.int64)
        self.front_end_s = np.empty(0, np.float64)
        self.held = np.empty(0, np.int64)
        self.held_end_s = np.empty(0, np.float64)
        self._buf = (np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.int64))
        self._forest_flat = landscape.forest.ravel()
        self.burnable_cells = int(burnable.sum())
        self.forest_cells = int((landscape.forest & (landscape.fuel_class > 0)).sum())

        # per-fire records (arrays grow with the number of fires)
        self._rec: dict[str, list] = {k: [] for k in ("cause", "x_m", "y_m", "lon", "lat", "time_s")}
        self._n_fires = 0
        self._cap = 0
        self._alloc_fires(max(16, len(fire.ignitions)))
        self._pending: list[tuple[float, int]] = []  # (time_s, fire_id), kept sorted
        for k, ig in enumerate(fire.ignitions):
            x, y = project_lonlat(ig.lon, ig.lat)
            if district is not None and district.mask.shape == g.shape:
                r, c = g.rowcol(np.array([x]), np.array([y]))
                if not (g.inside(r, c)[0] and district.mask[r[0], c[0]]):
                    raise InputError(f"hazard fire.ignitions.{k}: ({ig.lon}, {ig.lat}) lies outside Fuling "
                                     "District. Fix: give a point inside the district outline, e.g. "
                                     "{lon: 107.39, lat: 29.70}")
            self._schedule("given", float(x), float(y), ig.lon, ig.lat, ig.time_h * 3600.0)
        self._days_drawn = -1
        self._cdf: np.ndarray | None = None
        self._cells: np.ndarray | None = None
        self._burnable = burnable

    @classmethod
    def from_landscape(cls, landscape: FireLandscape, fire: FireHazard, rng: np.random.Generator,
                       step_s: float = 60.0, *, start_time: str | None = None,
                       params: FireParams | None = None) -> FireField:
        """Build a fire on a ready landscape (synthetic grids in tests and benchmarks)."""
        return cls(None, fire, rng, (), step_s, start_time=start_time, params=params, landscape=landscape)

    # ------------------------------------------------------------------ fire records
    def _alloc_fires(self, cap: int) -> None:
        def grow(a: np.ndarray | None, fill, dtype) -> np.ndarray:
            out = np.full(cap, fill, dtype=dtype)
            if a is not None:
                out[:a.size] = a
            return out

        g = getattr(self, "_f", None) or {}
        self._f = {
            "cells": grow(g.get("cells"), 0, np.int64),
            "forest_cells": grow(g.get("forest_cells"), 0, np.int64),
            "burning": grow(g.get("burning"), 0, np.int64),
            "extinguished": grow(g.get("extinguished"), 0, np.int64),
            "held": grow(g.get("held"), 0, np.int64),
            "fireline": grow(g.get("fireline"), 0, np.int64),
            "status": grow(g.get("status"), 0, np.int8),  # 0 scheduled, 1 burning, 2 out, 3 failed
            "started_s": grow(g.get("started_s"), np.nan, np.float64),
            "time_out_s": grow(g.get("time_out_s"), np.nan, np.float64),
            "contained_s": grow(g.get("contained_s"), np.nan, np.float64),
            "cell": grow(g.get("cell"), -1, np.int64),
            "snapped_m": grow(g.get("snapped_m"), np.nan, np.float64),
        }
        self._cap = cap

    def _schedule(self, cause: str, x: float, y: float, lon: float, lat: float, time_s: float) -> int:
        fid = self._n_fires
        if fid >= self._cap:
            self._alloc_fires(2 * self._cap)
        self._n_fires += 1
        for k, v in zip(("cause", "x_m", "y_m", "lon", "lat", "time_s"), (cause, x, y, lon, lat, time_s),
                        strict=True):
            self._rec[k].append(v)
        self._pending.append((float(time_s), fid))
        self._pending.sort()
        return fid

    def ignite_xy(self, x_m: float, y_m: float, time_s: float | None = None, cause: str = "given") -> int:
        """Schedule an ignition at a point (UTM 48N m) and time (s; default now); return its fire id."""
        lon, lat = to_wgs84().transform(float(x_m), float(y_m))
        return self._schedule(cause, float(x_m), float(y_m), float(lon), float(lat),
                              self.time_s if time_s is None else float(time_s))

    # ------------------------------------------------------------------ random ignitions
    def _day_start_s(self, k: int) -> float:
        if self.start is None:
            return 86400.0 * k
        midnight = self.start.replace(hour=0, minute=0)
        return 86400.0 * k - (self.start - midnight).total_seconds()

    def _draw_days(self, until_s: float) -> None:
        rate = self.hazard.random_ignitions_per_day
        if rate <= 0:
            return
        while self._day_start_s(self._days_drawn + 1) <= until_s:
            k = self._days_drawn + 1
            self._days_drawn = k
            mult = 1.0
            if self.start is not None:
                mult = calendar_multiplier((self.start + dt.timedelta(days=k)).date())
            dry = float(np.clip(math.exp(-(self.hazard.fuel_moisture_pct - 10.0) / 5.0), 0.05, 20.0))
            n = int(self.rng.poisson(rate * mult * dry))
            if n == 0:
                continue
            hours = self.rng.choice(24, size=n, p=DIURNAL_WEIGHTS / DIURNAL_WEIGHTS.sum())
            t = self._day_start_s(k) + hours * 3600.0 + self.rng.random(n) * 3600.0
            if self._cdf is None:
                w = self.land.ignition_weights(self.params, self._burnable).ravel()
                self._cells = np.flatnonzero(w > 0)
                self._cdf = np.cumsum(w[self._cells])
            if self._cells.size == 0:
                continue
            pick = np.searchsorted(self._cdf, self.rng.random(n) * self._cdf[-1], side="right")
            cells = self._cells[np.minimum(pick, self._cells.size - 1)]
            order = np.lexsort((cells, t))
            rows, cols = np.divmod(cells[order], self.grid.ncols)
            xs, ys = self.grid.xy(rows, cols)
            lon, lat = to_wgs84().transform(xs, ys)
            for j in range(n):
                if t[order][j] >= 0.0:
                    self._schedule("random", float(xs[j]), float(ys[j]), float(lon[j]), float(lat[j]),
                                   float(t[order][j]))

    # ------------------------------------------------------------------ ignition
    def _start_cell(self, x: float, y: float) -> tuple[int, float]:
        """Nearest cell with unburned fuel within ``snap_m`` of (x, y): (flat index, distance m) or (-1, nan)."""
        g = self.grid
        state = self.fields["fire__state"]
        r, c = g.rowcol(x, y)
        rad = int(math.ceil(self.params.snap_m / g.cell_size_m))
        r0, r1 = max(int(r) - rad, 0), min(int(r) + rad, g.nrows - 1)
        c0, c1 = max(int(c) - rad, 0), min(int(c) + rad, g.ncols - 1)
        if r1 < r0 or c1 < c0:
            return -1, math.nan
        rr, cc = np.mgrid[r0:r1 + 1, c0:c1 + 1]
        xs, ys = g.xy(rr, cc)
        d = np.hypot(xs - x, ys - y)
        ok = (state[r0:r1 + 1, c0:c1 + 1] == UNBURNED) & (d <= max(self.params.snap_m, 0.75 * g.cell_size_m))
        if not ok.any():
            return -1, math.nan
        flat = (rr * g.ncols + cc)[ok]
        j = np.lexsort((flat, d[ok]))[0]
        return int(flat[j]), float(d[ok][j])

    def _apply_due(self, now_s: float) -> None:
        if not self._pending or self._pending[0][0] > now_s:
            return
        state = self.fields["fire__state"].ravel()
        fid_grid = self.fields["fire__id"].ravel()
        tig = self.fields["fire__ignition_time"].ravel()
        started = []
        while self._pending and self._pending[0][0] <= now_s:
            _, fid = self._pending.pop(0)
            cell, dist = self._start_cell(self._rec["x_m"][fid], self._rec["y_m"][fid])
            if cell < 0:
                self._f["status"][fid] = 3
                self._f["time_out_s"][fid] = now_s
                continue
            state[cell] = BURNING
            fid_grid[cell] = fid
            tig[cell] = now_s
            f = self._f
            f["status"][fid] = 1
            f["started_s"][fid] = now_s
            f["cell"][fid] = cell
            f["snapped_m"][fid] = dist
            f["cells"][fid] += 1
            f["forest_cells"][fid] += int(self._forest_flat[cell])
            f["burning"][fid] += 1
            started.append(cell)
        if started:
            cells = np.array(started, dtype=np.int64)
            fuel = self.fields["vegetation__fuel_class"].ravel()[cells]
            ends = now_s + self.table[fuel, T_RESIDENCE_S]
            front = np.concatenate([self.front, cells])
            end = np.concatenate([self.front_end_s, ends])
            order = np.argsort(front, kind="stable")
            self.front, self.front_end_s = front[order], end[order]

    # ------------------------------------------------------------------ clock
    def advance(self, until_s: float) -> None:
        """Advance the fire to ``until_s`` s in steps of ``step_s`` (a shorter last step if needed).

        Ignitions due by a step's start begin at that step (and at ``until_s`` if due then). Results do not
        depend on how a run is split into calls as long as every ``until_s`` is a multiple of ``step_s``.
        """
        until_s = float(until_s)
        eps = 1e-9 * max(1.0, abs(until_s))
        while self.time_s < until_s - eps:
            dt_s = min(self.step_s, until_s - self.time_s)
            self._draw_days(self.time_s)
            self._apply_due(self.time_s)
            self._step(dt_s)
        self._draw_days(self.time_s)
        self._apply_due(self.time_s)

    def _step(self, dt_s: float) -> None:
        t_new = self.time_s + dt_s
        self._burn_out_held(t_new)
        n = self.front.size
        if n == 0:
            self.time_s = t_new
            self._update_burning()
            return
        rand = self.rng.random((n, 8))
        spot = None
        p_spot = -math.expm1(-self._spot_rate_per_s * dt_s) if self._spot_rate_per_s > 0 else 0.0
        if p_spot > 0:
            spot = self.rng.random((n, 3))
        pv = self.params_vec
        pv[P_DT_S] = dt_s
        pv[P_T_NEW_S] = t_new
        pv[P_SPOT_P] = p_spot
        if self._buf[0].size < 9 * n:
            cap = max(9 * n, 2 * self._buf[0].size)
            self._buf = (np.empty(cap, np.int64), np.empty(cap, np.float64), np.empty(cap, np.int64))
        old = self.front
        fl = self.fields
        front, end, new = spread_step(fl["fire__state"], fl["fire__id"], fl["fire__ignition_time"],
                                      fl["vegetation__fuel_class"], fl["topographic__elevation"], self.table,
                                      self.wind, pv, old, self.front_end_s, rand, spot, out=self._buf,
                                      check_front=False)
        self.front, self.front_end_s = front.copy(), end.copy()
        nf = self._n_fires
        if new.size:
            ids = fl["fire__id"].ravel()[new]
            self._f["cells"][:nf] += np.bincount(ids, minlength=nf)
            self._f["forest_cells"][:nf] += np.bincount(ids, weights=self._forest_flat[new], minlength=nf).astype(
                np.int64)
        self.time_s = t_new
        self._update_burning()

    def _burn_out_held(self, t_new: float) -> None:
        if self.held.size == 0:
            return
        out = self.held_end_s <= t_new
        if out.any():
            cells = self.held[out]
            self.fields["fire__state"].ravel()[cells] = BURNED
            self.held, self.held_end_s = self.held[~out], self.held_end_s[~out]

    def _update_burning(self) -> None:
        nf = self._n_fires
        f = self._f
        fid = self.fields["fire__id"].ravel()
        ids = np.concatenate([fid[self.front], fid[self.held]])
        f["burning"][:nf] = np.bincount(ids, minlength=nf)[:nf] if ids.size else 0
        if self.front.size:
            edge = self._edge_flags(self.front)[0]
            spreading = np.bincount(fid[self.front[edge]], minlength=nf)[:nf]
        else:
            spreading = np.zeros(nf, dtype=np.int64)
        contained = (f["status"][:nf] == 1) & (spreading == 0) & np.isnan(f["contained_s"][:nf])
        f["contained_s"][:nf][contained] = self.time_s
        done = (f["status"][:nf] == 1) & (f["burning"][:nf] == 0)
        f["status"][:nf][done] = 2
        f["time_out_s"][:nf][done] = self.time_s

    # ------------------------------------------------------------------ hazard contract
    def road_effect(self) -> np.ndarray:
        """Return per-cell uint8 road effect now: ``ROAD_CLOSED`` where burning, else ``ROAD_OPEN``.

        Road cells (any class) next to a burning cell are closed too: heat and smoke close a road the fire
        reaches, and the expressway and trunk cells that act as firebreaks never burn themselves. Cost
        O(burning cells). The array is a read-only view updated by the next call (copy it to keep it).
        """
        road = self._road.ravel()
        road[self._closed] = ROAD_OPEN
        burning = np.concatenate([self.front, self.held])
        closed = [burning]
        if self.land.roads is not None and burning.size:
            g = self.grid
            rows, cols = np.divmod(burning, g.ncols)
            on_road = self.land.roads
            for k in range(8):
                r, c = rows + DR[k], cols + DC[k]
                ok = g.inside(r, c)
                r, c = r[ok], c[ok]
                closed.append((r * g.ncols + c)[on_road[r, c]])
        self._closed = np.unique(np.concatenate(closed))
        road[self._closed] = ROAD_CLOSED
        return self._road_view

    # ------------------------------------------------------------------ suppression
    def suppress(self, x_m: float, y_m: float, crew_size: float, equipment_factor: float = 1.0,
                 dt_s: float | None = None, *, tactic: Literal["direct", "indirect"] = "direct",
                 reach_m: float | None = None) -> SuppressionWork:
        """Let a crew work for ``dt_s`` around a point: hold the burning edge, build line, mop up.

        Parameters
        ----------
        x_m, y_m : crew position, UTM 48N m.
        crew_size : persons working.
        equipment_factor : production multiplier (1 = hand tools; e.g. 1.5 with pumps and water).
        dt_s : working time, s (default ``step_s``).
        tactic : ``"direct"`` holds the burning edge first, ``"indirect"`` builds line in unburned fuel first.
        reach_m : radius worked around the point, m (default ``params.reach_m``, at least 1.5 cells).

        Returns
        -------
        SuppressionWork : the cells held (burning edge cells lined: they burn on but stop spreading), lined
        (unburned fuel next to the fire turned into fireline, non-fuel), extinguished (burning cells mopped
        up: put out; a cell held and mopped up in the same call counts as extinguished only) and the
        person-hours spent. Priorities: edge, line, mop-up of any burning cell (direct) or line, edge, mop-up
        (indirect); then distance; then cell index. Holding or lining a cell costs ``Δx`` metres of
        line, mopping one up ``mopup_factor × Δx``, at ``production × slope factor`` per person-hour. The last
        cell the remaining time only partly pays for is finished with probability ``remaining / cost``.
        """
        dt_s = self.step_s if dt_s is None else float(dt_s)
        if crew_size < 0 or equipment_factor < 0 or dt_s < 0:
            raise ValueError("crew_size, equipment_factor and dt_s must be ≥ 0")
        g = self.grid
        s = g.cell_size_m
        reach = max(self.params.reach_m if reach_m is None else float(reach_m), 1.5 * s)
        budget = crew_size * equipment_factor * dt_s / 3600.0
        none = SuppressionWork(0, 0, 0, 0.0)
        if budget <= 0 or (self.front.size == 0 and self.held.size == 0):
            return none
        r, c = (int(v) for v in g.rowcol(x_m, y_m))
        rad = int(math.ceil(reach / s))
        r0, r1, c0, c1 = r - rad - 1, r + rad + 1, c - rad - 1, c + rad + 1
        if r1 < 0 or c1 < 0 or r0 >= g.nrows or c0 >= g.ncols:
            return none
        state = self.fields["fire__state"]
        win = np.full((r1 - r0 + 1, c1 - c0 + 1), NONFUEL, dtype=np.uint8)
        rs, re_, cs, ce = max(r0, 0), min(r1, g.nrows - 1), max(c0, 0), min(c1, g.ncols - 1)
        win[rs - r0:re_ - r0 + 1, cs - c0:ce - c0 + 1] = state[rs:re_ + 1, cs:ce + 1]
        rr, cc = np.mgrid[r0:r1 + 1, c0:c1 + 1]
        flat_all = rr * g.ncols + cc
        burning = win == BURNING
        held = np.zeros_like(burning)
        if self.held.size:
            held[burning] = _member(flat_all[burning], self.held)
        spreading = burning & ~held
        unburned = win == UNBURNED
        pad_s = np.pad(spreading, 1)
        pad_u = np.pad(unburned, 1)
        h, w = win.shape
        nb_s = np.zeros_like(burning)
        nb_u = np.zeros_like(burning)
        for k in range(8):
            nb_s |= pad_s[1 + DR[k]:1 + DR[k] + h, 1 + DC[k]:1 + DC[k] + w]
            nb_u |= pad_u[1 + DR[k]:1 + DR[k] + h, 1 + DC[k]:1 + DC[k] + w]
        xs, ys = g.xy(rr, cc)
        dist = np.hypot(xs - x_m, ys - y_m)
        inside = (rr >= 0) & (cc >= 0) & (rr < g.nrows) & (cc < g.ncols) & (dist <= reach)
        edge = spreading & nb_u & inside
        line = unburned & nb_s & inside
        mop = burning & inside
        first = edge if tactic == "direct" else line
        # candidate actions: (cell, kind 0 hold / 1 line / 2 mop up, priority, distance)
        flat_w = flat_all.ravel()
        dist_w = dist.ravel()
        kinds, prios, cand = [], [], []
        for kind_code, mask in ((0, edge), (1, line), (2, mop)):
            idx = np.flatnonzero(mask.ravel())
            cand.append(idx)
            kinds.append(np.full(idx.size, kind_code, np.int8))
            prio = 2 if kind_code == 2 else (0 if mask is first else 1)
            prios.append(np.full(idx.size, prio, np.int8))
        idx = np.concatenate(cand)
        if idx.size == 0:
            return none
        kind = np.concatenate(kinds)
        prio = np.concatenate(prios)
        flat = flat_w[idx]
        order = np.lexsort((kind, flat, dist_w[idx], prio))
        flat, kind = flat[order], kind[order]
        fuel = self.fields["vegetation__fuel_class"].ravel()[flat]
        slope = self.fields["topographic__slope"].ravel()[flat]
        prod = np.asarray(self.params.production_m_per_person_h)[fuel] * np.maximum(0.25, 1.0 - slope / 60.0)
        factor = np.where(kind == 2, self.params.mopup_factor, 1.0)
        cost = np.where(prod > 0, s * factor / np.where(prod > 0, prod, 1.0), np.inf)  # person-hours
        done = np.zeros(flat.size, dtype=bool)
        spent = 0.0
        left = budget
        for j in range(flat.size):
            if cost[j] <= left:
                done[j] = True
                left -= cost[j]
                spent += cost[j]
                continue
            if np.isfinite(cost[j]) and self.rng.random() < left / cost[j]:
                done[j] = True
            spent += left
            break
        put_out = np.sort(flat[done & (kind == 2)])
        held_now = np.sort(np.setdiff1d(flat[done & (kind == 0)], put_out))
        lined = flat[done & (kind == 1)]
        self._apply_suppression(held_now, lined, put_out)
        return SuppressionWork(int(held_now.size), int(lined.size), int(put_out.size), float(spent))

    def _apply_suppression(self, held_now: np.ndarray, lined: np.ndarray, put_out: np.ndarray) -> None:
        st = self.fields["fire__state"].ravel()
        fid = self.fields["fire__id"].ravel()
        nf = self._n_fires
        f = self._f
        if lined.size:
            st[lined] = FIRELINE
            near = self._nearest_fire_of(lined)
            f["fireline"][:nf] += np.bincount(near[near >= 0], minlength=nf)[:nf]
        if held_now.size:
            f["held"][:nf] += np.bincount(fid[held_now], minlength=nf)[:nf]
            pos = np.searchsorted(self.front, held_now)
            keep = np.ones(self.front.size, dtype=bool)
            keep[pos] = False
            cells = np.concatenate([self.held, held_now])
            ends = np.concatenate([self.held_end_s, self.front_end_s[pos]])
            o = np.argsort(cells, kind="stable")
            self.held, self.held_end_s = cells[o], ends[o]
            self.front, self.front_end_s = self.front[keep], self.front_end_s[keep]
        if put_out.size:
            st[put_out] = EXTINGUISHED
            f["extinguished"][:nf] += np.bincount(fid[put_out], minlength=nf)[:nf]
            in_held = _member(put_out, self.held)
            for cells_attr, end_attr, gone in (("held", "held_end_s", put_out[in_held]),
                                               ("front", "front_end_s", put_out[~in_held])):
                if gone.size:
                    cur = getattr(self, cells_attr)
                    keep = np.ones(cur.size, dtype=bool)
                    keep[np.searchsorted(cur, gone)] = False
                    setattr(self, cells_attr, cur[keep])
                    setattr(self, end_attr, getattr(self, end_attr)[keep])
        if held_now.size or put_out.size:
            self._update_burning()

    def _nearest_fire_of(self, cells: np.ndarray) -> np.ndarray:
        """Fire id of a burning Moore neighbour of each cell (smallest id; -1 if none)."""
        g = self.grid
        st = self.fields["fire__state"]
        fid = self.fields["fire__id"]
        rows, cols = np.divmod(cells, g.ncols)
        best = np.full(cells.size, np.iinfo(np.int32).max, dtype=np.int64)
        for k in range(8):
            r, c = rows + DR[k], cols + DC[k]
            ok = g.inside(r, c)
            rr, cc = np.where(ok, r, 0), np.where(ok, c, 0)
            hit = ok & (st[rr, cc] == BURNING)
            best = np.where(hit, np.minimum(best, fid[rr, cc]), best)
        return np.where(best == np.iinfo(np.int32).max, -1, best)

    # ------------------------------------------------------------------ views for responders
    def edge_cells(self, fire_id: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(x_m, y_m, cell)`` of the burning cells with unburned fuel next to them (optionally of one fire)."""
        front = self.front
        if fire_id is not None and front.size:
            front = front[self.fields["fire__id"].ravel()[front] == fire_id]
        if front.size == 0:
            e = np.empty(0)
            return e, e, np.empty(0, np.int64)
        edge = self._edge_flags(front)[0]
        cells = front[edge]
        x, y = self.grid.xy(*np.divmod(cells, self.grid.ncols))
        return x, y, cells

    def _edge_flags(self, front: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per front cell: has an unburned Moore neighbour; number of unburned orthogonal neighbours."""
        return front_edges(self.fields["fire__state"], np.ascontiguousarray(front, dtype=np.int64))

    def active_fires(self) -> list[ActiveFire]:
        """Return the fires burning now with their size, centre, active perimeter and head (cost O(front))."""
        front = self.front
        if front.size == 0:
            return []
        g = self.grid
        ids = self.fields["fire__id"].ravel()[front]
        x, y = g.xy(*np.divmod(front, g.ncols))
        edge, faces = self._edge_flags(front)
        nf = self._n_fires
        cnt = np.bincount(ids, minlength=nf)
        sx = np.bincount(ids, weights=x, minlength=nf)
        sy = np.bincount(ids, weights=y, minlength=nf)
        ne = np.bincount(ids, weights=edge, minlength=nf)
        nfaces = np.bincount(ids, weights=faces, minlength=nf)
        to = self.wind_to_rad
        proj = x * math.sin(to) + y * math.cos(to)
        out = []
        cell_ha = g.cell_area_m2 / 1e4
        for fid in np.flatnonzero(cnt):
            mine = ids == fid
            cand = mine & edge if (mine & edge).any() else mine
            j = np.flatnonzero(cand)[np.argmax(proj[cand])]
            out.append(ActiveFire(int(fid), int(cnt[fid]), int(ne[fid]), float(self._f["cells"][fid] * cell_ha),
                                  float(sx[fid] / cnt[fid]), float(sy[fid] / cnt[fid]),
                                  float(nfaces[fid] * g.cell_size_m), float(x[j]), float(y[j]),
                                  float(self._rec["time_s"][fid])))
        return out

    # ------------------------------------------------------------------ results
    @property
    def burning_cells(self) -> int:
        """Number of cells burning now (spreading front and cells held by crews)."""
        return int(self.front.size + self.held.size)

    @property
    def burned_area_ha(self) -> float:
        """Area reached by fire so far (burning, burned out or extinguished), ha."""
        return float(self._f["cells"][:self._n_fires].sum() * self.grid.cell_area_m2 / 1e4)

    @property
    def burned_forest_area_ha(self) -> float:
        """Forest area reached by fire so far, ha."""
        return float(self._f["forest_cells"][:self._n_fires].sum() * self.grid.cell_area_m2 / 1e4)

    @property
    def ignitions(self) -> pd.DataFrame:
        """Per-ignition statistics (one row per fire id, scheduled ones included).

        Columns: ``fire_id``, ``cause`` (given/random), ``x_m``, ``y_m``, ``lon``, ``lat`` (the ignition point),
        ``time_s`` (scheduled), ``started_s`` (clock step it began; NaN if not yet or failed), ``status``
        (scheduled/burning/out/failed), ``contained_s`` (first time none of its burning cells had unburned fuel
        next to it — held or burned in; NaN before), ``time_out_s`` (no cell burning; NaN while burning),
        ``duration_s`` (out − started), ``cell`` (start
        cell), ``snapped_m`` (distance moved to fuel), ``burned_area_ha``, ``burned_forest_area_ha``,
        ``burning_cells``, ``held_by_crews`` (burning cells lined, no longer spreading), ``extinguished_by_crews``
        (cells put out by mop-up), ``fireline_cells`` (unburned cells turned into line).
        """
        n = self._n_fires
        f = self._f
        cell_ha = self.grid.cell_area_m2 / 1e4
        status = np.array(["scheduled", "burning", "out", "failed"])[f["status"][:n]]
        return pd.DataFrame({
            "fire_id": np.arange(n, dtype=np.int64), "cause": self._rec["cause"],
            "x_m": np.asarray(self._rec["x_m"], float), "y_m": np.asarray(self._rec["y_m"], float),
            "lon": np.asarray(self._rec["lon"], float), "lat": np.asarray(self._rec["lat"], float),
            "time_s": np.asarray(self._rec["time_s"], float), "started_s": f["started_s"][:n].copy(),
            "status": status, "contained_s": f["contained_s"][:n].copy(), "time_out_s": f["time_out_s"][:n].copy(),
            "duration_s": f["time_out_s"][:n] - f["started_s"][:n],
            "cell": f["cell"][:n].copy(), "snapped_m": f["snapped_m"][:n].copy(),
            "burned_area_ha": f["cells"][:n] * cell_ha, "burned_forest_area_ha": f["forest_cells"][:n] * cell_ha,
            "burning_cells": f["burning"][:n].copy(), "held_by_crews": f["held"][:n].copy(),
            "extinguished_by_crews": f["extinguished"][:n].copy(), "fireline_cells": f["fireline"][:n].copy(),
        })

    def summary(self) -> dict:
        """Return run totals: fires, areas, the 24-hour suppression share (T1) and forest damage rate (T2).

        T1 (PLAN_FACTS §1, 24-hour forest-fire suppression rate ≥ 95 %) is given two ways: out (no cell
        burning) and contained (no spreading edge) within 24 h of the start. A fire still burning (or not
        contained) less than 24 h after it started cannot be judged yet and is left out (censored), as in
        :func:`sim.metrics.fire_out_24h_share`; ``fires_judged_24h`` counts the fires judged.
        """
        tab = self.ignitions
        started = tab[tab["status"].isin(["burning", "out"])]
        young = (self.time_s - started["started_s"]) < 86400.0  # cannot be judged yet: censored
        judged = started[~((started["status"] == "burning") & young)]
        within = (judged["duration_s"] <= 86400.0).sum()
        judged_c = started[~(started["contained_s"].isna() & young)]
        held = ((judged_c["contained_s"] - judged_c["started_s"]) <= 86400.0).sum()
        return {
            "fires_started": int(len(started)), "fires_failed": int((tab["status"] == "failed").sum()),
            "fires_burning": int((tab["status"] == "burning").sum()), "burning_cells": self.burning_cells,
            "burned_area_ha": round(self.burned_area_ha, 2),
            "burned_forest_area_ha": round(self.burned_forest_area_ha, 2),
            "fires_judged_24h": int(len(judged)),
            "out_within_24h_share": float(within / len(judged)) if len(judged) else float("nan"),
            "contained_within_24h_share": float(held / len(judged_c)) if len(judged_c) else float("nan"),
            "forest_damage_rate_permille": (1000.0 * self.burned_forest_area_ha
                                            / max(self.forest_cells * self.grid.cell_area_m2 / 1e4, 1e-9)),
        }


# ---------------------------------------------------------------------------------------------- crews
def direct_attack(fire: FireField, crews: Sequence[Crew], dt_s: float | None = None) -> None:
    """Let each available crew walk to the nearest burning edge cell and work there (reference dispatch).

    Crews act in list order. A crew walks at ``walk_m_s`` towards the nearest edge cell of its fire (any
    fire if unassigned; the nearest burning cell for mop-up once no edge is left) and works where it stands
    if that cell is within reach. This is the policy of the tests and the calibration; the agent model
    dispatches teams by its own rules and calls :meth:`FireField.suppress` directly.
    """
    dt_s = fire.step_s if dt_s is None else float(dt_s)
    for crew in crews:
        if fire.time_s < crew.available_s or fire.burning_cells == 0:
            continue
        x, y, _ = fire.edge_cells(crew.fire_id)
        if x.size == 0:
            cells = np.concatenate([fire.front, fire.held])
            if crew.fire_id is not None:
                cells = cells[fire.fields["fire__id"].ravel()[cells] == crew.fire_id]
            if cells.size == 0:
                continue
            x, y = fire.grid.xy(*np.divmod(cells, fire.grid.ncols))
        d = np.hypot(x - crew.x_m, y - crew.y_m)
        j = int(np.argmin(d))
        step = crew.walk_m_s * dt_s
        if d[j] > step:
            crew.x_m += (x[j] - crew.x_m) * step / d[j]
            crew.y_m += (y[j] - crew.y_m) * step / d[j]
        else:
            crew.x_m, crew.y_m = float(x[j]), float(y[j])
        crew.work.append(fire.suppress(crew.x_m, crew.y_m, crew.size_persons, crew.equipment_factor, dt_s))


def run_with_crews(fire: FireField, until_s: float, crews: Sequence[Crew] = ()) -> FireField:
    """Advance ``fire`` to ``until_s`` step by step, letting ``crews`` attack after every step (reference loop)."""
    while fire.time_s < until_s - 1e-9:
        t = min(fire.time_s + fire.step_s, until_s)
        dt_s = t - fire.time_s
        fire.advance(t)
        if crews:
            direct_attack(fire, crews, dt_s)
    return fire
