"""Rainfall-triggered landslides: susceptibility, intensity–duration thresholds, run-out, monitoring.

The model, step by step (parameters in :class:`LandslideParams`, every number an explicit assumption unless
a source is named):

1. **Geology class** (*generated*, reproducible from ``DistrictSpec.terrain_seed``; see
   :func:`geology_classes`). Fuling lies in the East Sichuan fold belt: Jurassic red beds
   (sandstone–mudstone interbeds of the Shaximiao/Suining formations, landslide-prone) in the broad
   synclines, Triassic limestone in the narrow anticline ridges and the south-east (Wulingshan) upland
   (karst, rockfalls), Quaternary deposits on the valley floors and the reservoir banks. No geological map
   is available offline, so the classes are derived from the terrain: high ground or ridge crests →
   limestone, low ground near channels → Quaternary, the rest red beds. A user geology map should replace
   this layer.
2. **Susceptibility** ``S = f_slope(slope) × f_land(land cover) × f_geo(geology) × susceptibility_scale``
   (dimensionless; 1 = the most susceptible combination at scale 1): ``f_slope`` is 0 below 10°, rises
   linearly to 1 at 35°, stays 1 to 45° and falls to 0.6 at 60° (steep faces hold little soil);
   ``f_land``: water 0, urban 1.0 (cut slopes, loading), farmland 0.9 (terraces, irrigation), forest 0.6
   (root cohesion); ``f_geo``: Quaternary 1.0, red beds 0.9, limestone 0.45. Cells with ``S = 0`` are
   never evaluated.
3. **Thresholds.** Caine (1980) global intensity–duration threshold ``I = 14.82 D^−0.39`` (I in mm/h, D in
   h; Caine, N., Geografiska Annaler A 62, 23–27). No published Fuling/Chongqing I–D threshold could be
   checked offline, so the global one is used, scaled per cell by ``q_i = m_geo × exp(σ z_i)`` with
   ``z_i ~ N(0, 1)`` drawn from the run's Generator (threshold scatter; ``m_geo``: Quaternary 0.8, red
   beds 1.0, limestone 1.25).
4. **Exceedance and failure.** At the middle of each clock step (``step_s``) the storm-centre rain over the
   preceding D = 1, 3, 6, 12, 24, 48 h gives ``E0 = max_D Ī_D / (α D^−β)`` (windows end when the rain
   stops; afterwards E0 decays with a drainage time of 6 h, see :func:`exceedance_series`); a cell sees
   ``E_i = rain_factor_i / q_i × E0``. Failure hazard rate ``λ_i = r S_i (min(E_i, E_cap) − 1)`` for
   ``E_i > 1`` (else 0); the cell fails when its cumulative hazard reaches ``x_i ~ Exp(1)`` (drawn once per
   cell). ``r`` is calibrated so that an extreme storm yields tens to a few hundred slides district-wide,
   the order of magnitude of Chongqing events (e.g. 487 slides over 583 km² in the 8 June 2017 storm in
   the parallel ridge-valley area of western Chongqing, Liu & Xu 2024, Front. Earth Sci. 12:1420425).
   Because the rain series is known, the whole schedule is drawn at construction; the clock releases it.
5. **Volume and run-out.** Volume per slide from a truncated power law ``p(V) ∝ V^−2`` on
   ``[V_min, V_max]`` (exponent from the −2.4 area tail of Malamud et al. 2004, ESPL 29, with
   V ≈ 0.074 A^1.45 of Guzzetti et al. 2009, EPSL 279), reach angle ``tan α = 10^0.047 V^−0.085``
   (Corominas 1996, Can. Geotech. J. 33, 260–271, all-landslide regression as recalled — check before
   quoting), clipped to [0.2, 0.9]; run-out along D8 receivers by :func:`sim.kernels.landslide.runout`, the
   drop H measured from the crown, half a cell upslope of the source centre (crown height ½ Δx tan(slope)).
   At 100 m cells on the generated terrain most run-outs stay in the source cell (slopes rarely exceed the
   reach angle); large slides on steep faces run a few cells. Deposit width from the volume: area
   ``A = (V / 0.074)^(1/1.45)`` (Guzzetti et al. 2009) and length/width = 2 (assumption), so
   ``w = √(A / 2)`` (≈ 15 m at 500 m³, 33 m at 5,000 m³, 72 m at 50,000 m³), clipped to [5 m, Δx]; debris
   thickness = V / (run-out cells × Δx × w).
6. **Roads and homes.** Run-out cells are ``ROAD_CLOSED`` from the failure until ``clearance_s`` later or
   until :meth:`LandslideField.clear`. Homes struck = households in run-out cells × w / Δx
   (the deposit covers a strip of the cell; an expected count); people exposed = all residents of run-out
   cells (an upper bound).
7. **Monitoring.** The plan's 387 smart monitoring points (PLAN_FACTS §3) have unknown locations; they are
   *generated* at the most susceptible cells near residents (:func:`generated_monitors`) unless a list is
   passed. A failure whose source lies within ``monitor_radius_m`` of a point is warned ``lead_time_s``
   before it fails (not before t = 0). Coverage is reported against the T8 target (90 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from sim.hazards.base import ROAD_CLOSED, ROAD_OPEN, FieldSpec
from sim.hazards.rainfall import accumulated_mm, rain_factor
from sim.kernels.landslide import failure_times, runout
from sim.landcover import FARMLAND, FOREST, URBAN, WATER

if TYPE_CHECKING:
    from sim.district import District
    from sim.scenario import LandslideHazard, Rainfall

__all__ = [
    "GEOLOGY",
    "LIMESTONE",
    "MONITORING_POINTS",
    "QUATERNARY",
    "RED_BEDS",
    "T8_TARGET",
    "LandslideField",
    "LandslideParams",
    "closed_links",
    "exceedance_series",
    "generated_monitors",
    "geology_classes",
    "susceptibility",
]

QUATERNARY, RED_BEDS, LIMESTONE = 1, 2, 3
GEOLOGY = {
    0: "outside",
    QUATERNARY: "Quaternary deposits 第四系松散堆积",
    RED_BEDS: "Jurassic red beds 侏罗系红层 (Shaximiao/Suining sandstone–mudstone)",
    LIMESTONE: "Triassic limestone 三叠系灰岩 (karst, rockfalls)",
}
GEOLOGY_SOURCE = ("generated (assumption: limestone on high ground and ridge crests, Quaternary on valley floors "
                  "and reservoir banks, Jurassic red beds elsewhere; seeded from terrain_seed)")
MONITORING_POINTS = 387  # PLAN_FACTS §3: 387 smart geohazard monitoring points
T8_TARGET = 0.90  # PLAN_FACTS T8: geohazard monitoring coverage

SLOPE_KNOTS_DEG = (10.0, 35.0, 45.0, 60.0, 90.0)
SLOPE_FACTOR = (0.0, 1.0, 1.0, 0.6, 0.6)
LAND_FACTOR = {WATER: 0.0, URBAN: 1.0, FARMLAND: 0.9, FOREST: 0.6}
GEOLOGY_FACTOR = {QUATERNARY: 1.0, RED_BEDS: 0.9, LIMESTONE: 0.45}
GEOLOGY_THRESHOLD = {QUATERNARY: 0.8, RED_BEDS: 1.0, LIMESTONE: 1.25}


@dataclass(frozen=True)
class LandslideParams:
    """Model parameters (units in the names; defaults are the assumptions named in the module docstring)."""

    alpha_mm_per_h: float = 14.82  # Caine (1980): I = alpha D^-beta
    beta: float = 0.39
    durations_h: tuple[float, ...] = (1.0, 3.0, 6.0, 12.0, 24.0, 48.0)
    drainage_h: float = 6.0  # exceedance decay time after the rain stops, h
    threshold_sigma: float = 0.3  # lognormal scatter of the per-cell threshold multiplier
    rate_per_h: float = 0.004  # hazard rate at S = 1, E = 2 (calibrated; see module docstring)
    exceed_cap: float = 5.0  # exceedance above which the rate stops growing
    step_s: float = 3600.0  # evaluation step of the threshold, s
    volume_min_m3: float = 500.0  # 义和镇机房村 2021 slope failure ~600 m³ (facts file)
    volume_max_m3: float = 500_000.0
    reach_log10_a: float = 0.047  # tan(alpha) = 10^a V^-b (Corominas 1996)
    reach_b: float = 0.085
    tan_reach_min: float = 0.2
    tan_reach_max: float = 0.9
    area_coef: float = 0.074  # V = area_coef A^area_exp (Guzzetti et al. 2009), m³ and m²
    area_exp: float = 1.45
    length_to_width: float = 2.0  # deposit length / width (assumption)
    width_min_m: float = 5.0
    max_runout_cells: int = 200
    prone_susceptibility: float = 0.3  # S at and above which a cell counts as landslide-prone (coverage)

    def __post_init__(self) -> None:
        if self.step_s <= 0 or self.rate_per_h < 0 or self.exceed_cap <= 1 or self.length_to_width <= 0:
            raise ValueError("step_s > 0, rate_per_h ≥ 0, exceed_cap > 1 and length_to_width > 0 are required")
        if not 0 < self.volume_min_m3 < self.volume_max_m3:
            raise ValueError("need 0 < volume_min_m3 < volume_max_m3")


# ---------------------------------------------------------------------------------------------- layers
def _fill_outside(z: np.ndarray) -> np.ndarray:
    nan = ~np.isfinite(z)
    if not nan.any():
        return z
    _, (ir, ic) = ndimage.distance_transform_edt(nan, return_indices=True)
    return z[ir, ic]


def _smooth_noise(district: District, seed_words: list[int], lattice_m: float = 1000.0) -> np.ndarray:
    """Return zero-mean unit-std smooth noise on the grid, drawn on a lattice anchored to the outline."""
    rng = np.random.default_rng(np.random.SeedSequence(seed_words))
    minx, miny, maxx, maxy = district.outline.bounds
    x0, y1 = minx - 5000.0, maxy + 5000.0
    nx_ = int(np.ceil((maxx - minx + 10_000.0) / lattice_m)) + 2
    ny_ = int(np.ceil((maxy - miny + 10_000.0) / lattice_m)) + 2
    lat = ndimage.gaussian_filter(rng.standard_normal((ny_, nx_)), 2.0)
    lat = (lat - lat.mean()) / lat.std()
    xs, ys = district.grid.centres()
    rr, cc = np.meshgrid((y1 - ys) / lattice_m, (xs - x0) / lattice_m, indexing="ij")
    return ndimage.map_coordinates(lat, [rr, cc], order=1, mode="nearest")


def geology_classes(district: District) -> np.ndarray:
    """Return the *generated* geology class per cell (uint8 codes of :data:`GEOLOGY`, 0 outside the mask).

    Rules (assumptions, no geological map offline), with thresholds jittered by smooth seeded noise so
    contacts are irregular (seed ``[terrain_seed, 11]``, lattice 1 km anchored to the outline, so the layer
    does not depend on the cell size):

    * limestone (Triassic, karst): elevation ≥ 900 m (the south-east upland) or local relief (elevation
      minus its 3 km Gaussian mean) ≥ 120 m (anticline ridge crests);
    * Quaternary deposits: valley floors (height above the nearest channel cell ≤ 10 m and slope < 8°) and
      the Three Gorges reservoir banks (within 1.5 km of the Yangtze or Wu channel and ≤ 60 m above it,
      where colluvium and old landslide deposits line the banks);
    * Jurassic red beds: everything else.
    """
    g = district.grid
    t = district.terrain
    z = _fill_outside(np.where(district.mask, t.elevation_m, np.nan).astype(np.float64))
    noise = _smooth_noise(district, [int(district.spec.terrain_seed), 11])
    relief = z - ndimage.gaussian_filter(z, 3000.0 / g.cell_size_m, mode="nearest")
    limestone = (z >= 900.0 + 80.0 * noise) | (relief >= 120.0 + 30.0 * noise)
    channel = t.river_id > 0
    if channel.any():
        _, (ir, ic) = ndimage.distance_transform_edt(~channel, return_indices=True)
        hand = z - z[ir, ic]
    else:
        hand = np.full(z.shape, np.inf)
    big = (t.river_id == 1) | (t.river_id == 2)
    if big.any():
        d_big = ndimage.distance_transform_edt(~big) * g.cell_size_m
    else:
        d_big = np.full(z.shape, np.inf)
    valley_floor = (hand <= 10.0 + 3.0 * noise) & (np.nan_to_num(t.slope_deg, nan=90.0) < 8.0)
    reservoir_bank = (d_big <= 1500.0 + 300.0 * noise) & (hand <= 60.0 + 10.0 * noise)
    quaternary = valley_floor | reservoir_bank
    out = np.full(g.shape, RED_BEDS, dtype=np.uint8)
    out[quaternary] = QUATERNARY
    out[limestone & ~quaternary] = LIMESTONE
    out[~district.mask] = 0
    return out


def susceptibility(slope_deg: np.ndarray, land_cover: np.ndarray, geology: np.ndarray, mask: np.ndarray,
                   scale: float = 1.0) -> np.ndarray:
    """Return the relative failure susceptibility per cell.

    Parameters
    ----------
    slope_deg : (nrows, ncols) slope, degrees (NaN outside).
    land_cover : (nrows, ncols) uint8 ``sim.landcover`` codes.
    geology : (nrows, ncols) uint8 :data:`GEOLOGY` codes.
    mask : (nrows, ncols) bool, True inside the district.
    scale : ``LandslideHazard.susceptibility_scale``.

    Returns
    -------
    numpy.ndarray
        float32 (nrows, ncols), dimensionless, ≥ 0: ``f_slope × f_land × f_geo × scale`` (module docstring);
        0 outside the mask, on water and below 10°.
    """
    s = np.nan_to_num(np.asarray(slope_deg, dtype=np.float64), nan=0.0)
    f_slope = np.interp(s, SLOPE_KNOTS_DEG, SLOPE_FACTOR, left=0.0)
    f_land = np.zeros(s.shape)
    for code, f in LAND_FACTOR.items():
        f_land[land_cover == code] = f
    f_geo = np.zeros(s.shape)
    for code, f in GEOLOGY_FACTOR.items():
        f_geo[geology == code] = f
    out = f_slope * f_land * f_geo * float(scale)
    out[~mask] = 0.0
    return out.astype(np.float32)


def exceedance_series(rain: Rainfall, t_s: np.ndarray, alpha_mm_per_h: float = 14.82, beta: float = 0.39,
                      durations_h: tuple[float, ...] = (1.0, 3.0, 6.0, 12.0, 24.0, 48.0),
                      drainage_h: float | None = 6.0) -> np.ndarray:
    """Return the storm-centre threshold exceedance ``E0(t) = max_D Ī_D(t_e) / (α D^−β) × exp(−(t − t_e)/τ)``.

    ``t_e`` is the last instant ≤ t at which rain fell (``t`` while it rains): the duration windows end
    when the rain stops, and the exceedance then decays with the drainage time ``τ`` (delayed failures
    after a storm; an assumption, τ = 6 h by default). Without this, a 48-h window would keep a finished
    storm "above threshold" for two days.

    Parameters
    ----------
    rain : scenario rainfall (intensity at the storm centre).
    t_s : (n,) evaluation times, seconds; ``Ī_D(t)`` is the mean intensity over ``[t − D, t]`` (mm/h), rain
        before 0 counted as none.
    alpha_mm_per_h, beta : intensity–duration threshold ``I = α D^−β`` (Caine 1980 by default).
    durations_h : durations D, hours.
    drainage_h : decay time τ after the rain stops, hours; None = no decay (windows still end at ``t_e``).

    Returns
    -------
    numpy.ndarray
        (n,) float64, dimensionless, ≥ 0.
    """
    t = np.asarray(t_s, dtype=np.float64)
    t_end = _last_rain_s(rain, t)
    d = np.asarray(durations_h, dtype=np.float64)[:, None]
    mean_i = accumulated_mm(rain, t_end[None, :] - d * 3600.0, t_end[None, :]) / d
    e0 = np.max(mean_i / (alpha_mm_per_h * d ** (-beta)), axis=0)
    if drainage_h is not None:
        e0 = e0 * np.exp(-(t - t_end) / (drainage_h * 3600.0))
    return e0


def _last_rain_s(rain: Rainfall, t: np.ndarray) -> np.ndarray:
    """Return, per time, the latest instant ≤ t at which rain was falling (t itself while it rains).

    Before any rain the time itself is returned (the windows then hold no rain and ``E0`` is 0).
    """
    tk = np.asarray(rain.time_h, dtype=np.float64) * 3600.0
    ik = np.asarray(rain.intensity_mm_per_h, dtype=np.float64)
    out = t.copy()
    if tk.size < 2:
        return out
    wet = (ik[1:] > 0) | (ik[:-1] > 0)  # segments with rain inside
    a, b = tk[:-1][wet], tk[1:][wet]
    if a.size == 0:
        return out
    # end of rain of each wet segment: b, unless the segment ramps down to 0 (then still b: I → 0 at b)
    k = np.searchsorted(b, t, side="left")  # first wet segment ending at or after t
    inside = (k < a.size) & (a[np.minimum(k, a.size - 1)] < t)
    before = np.where(k > 0, b[np.maximum(k - 1, 0)], -np.inf)
    out = np.where(inside, t, np.where(np.isfinite(before), before, t))
    return out


def generated_monitors(district: District, susc: np.ndarray, n: int = MONITORING_POINTS,
                       spacing_m: float = 600.0, near_m: float = 1000.0) -> np.ndarray:
    """Place *generated* monitoring points at the most susceptible cells near residents.

    Score = ``S × P / (P + 50)`` with ``P`` the residents within a ``near_m`` square window (saturates once
    a slope threatens a hamlet). Points are picked greedily by score (ties by cell index),
    more than ``spacing_m`` apart (the field passes its coverage radius: a point goes only on a cell no
    point covers yet). Deterministic; no randomness.

    Parameters
    ----------
    district : the district.
    susc : (nrows, ncols) susceptibility.
    n : number of points (387 in the plan).
    spacing_m : points are more than this apart, metres.
    near_m : half-width of the window counting residents, metres.

    Returns
    -------
    numpy.ndarray
        (k, 2) float64 x, y (UTM 48N metres), ``k ≤ n``.
    """
    g = district.grid
    w = 2 * int(round(near_m / g.cell_size_m)) + 1
    pop_near = ndimage.uniform_filter(district.population.astype(np.float64), w, mode="constant") * w * w
    score = np.asarray(susc, dtype=np.float64) * pop_near / (pop_near + 50.0)
    cand = np.flatnonzero((score.ravel() > 0) & district.mask.ravel())
    cand = cand[np.argsort(-score.ravel()[cand], kind="stable")]
    rows, cols = np.divmod(cand, g.ncols)
    xs, ys = g.xy(rows, cols)
    chosen: list[int] = []
    tree_pts: list[tuple[float, float]] = []
    blocked = np.zeros(g.shape, dtype=bool)
    rad = int(np.ceil(spacing_m / g.cell_size_m))
    dr, dc = np.mgrid[-rad:rad + 1, -rad:rad + 1]
    disk = np.hypot(dr, dc) * g.cell_size_m <= spacing_m  # ≤ as in coverage: a covered cell gets no point
    dr, dc = dr[disk], dc[disk]
    for k in range(cand.size):
        if len(chosen) >= n:
            break
        r, c = rows[k], cols[k]
        if blocked[r, c]:
            continue
        chosen.append(k)
        tree_pts.append((float(xs[k]), float(ys[k])))
        rr, cc = r + dr, c + dc
        ok = (rr >= 0) & (cc >= 0) & (rr < g.nrows) & (cc < g.ncols)
        blocked[rr[ok], cc[ok]] = True
    return np.array(tree_pts, dtype=np.float64).reshape(-1, 2)


def closed_links(district: District, effect: np.ndarray, step_frac: float = 0.5) -> np.ndarray:
    """Return, per directed edge of ``district.road_csr``, whether its straight segment crosses a closed cell.

    A reporting helper (the network module owns link effects): each edge is sampled every
    ``step_frac`` cells between its end nodes.

    Parameters
    ----------
    district : the district.
    effect : (nrows, ncols) uint8 road-effect codes.
    step_frac : sampling step, cells.

    Returns
    -------
    numpy.ndarray
        (n_edges,) bool.
    """
    csr = district.road_csr
    g = district.grid
    tail = np.repeat(np.arange(csr.indptr.size - 1), np.diff(csr.indptr))
    x0, y0 = csr.node_x_m[tail], csr.node_y_m[tail]
    x1, y1 = csr.node_x_m[csr.head], csr.node_y_m[csr.head]
    seg = np.hypot(x1 - x0, y1 - y0)
    ns = np.maximum(2, np.ceil(seg / (g.cell_size_m * step_frac)).astype(np.int64) + 1)
    edge = np.repeat(np.arange(tail.size), ns)
    start = np.repeat(np.cumsum(ns) - ns, ns)
    frac = (np.arange(edge.size) - start) / (ns[edge] - 1)
    r, c = g.rowcol(x0[edge] + frac * (x1 - x0)[edge], y0[edge] + frac * (y1 - y0)[edge])
    ok = g.inside(r, c)
    hit = np.zeros(edge.size, dtype=bool)
    hit[ok] = effect[r[ok], c[ok]] == ROAD_CLOSED
    out = np.zeros(tail.size, dtype=bool)
    np.logical_or.at(out, edge, hit)
    return out


# ---------------------------------------------------------------------------------------------- component
class LandslideField:
    """Rainfall-triggered landslides on the district grid (implements ``HazardComponent``).

    Parameters
    ----------
    district : the district.
    landslide : the hazard file's ``landslide`` section (rain and ``susceptibility_scale``).
    rng : the run's Generator. Draws, in this order, one array each over the susceptible cells (flat
        order): threshold scatter ``z ~ N(0,1)``, failure draws ``u`` (``x = −log(1 − u)``), volume draws ``u``.
    duration_s : run length, seconds; failures are scheduled in ``[0, duration_s]``.
    monitored_xy_m : optional (k, 2) monitoring-point coordinates (UTM 48N m); default: 387 *generated* points.
    lead_time_s : warning lead of a monitored slope, seconds.
    n_monitors : how many points to generate when ``monitored_xy_m`` is None (the plan's lever).
    clearance_s : time after a failure until its debris is cleared from roads, seconds; None = only
        :meth:`clear` reopens.
    monitor_radius_m : a failure within this distance of a monitoring point is monitored, metres.
    params : model parameters.

    Attributes
    ----------
    fields : dict of the arrays declared in :attr:`FIELDS`.
    schedule : DataFrame of every failure drawn for the run (the future included; for analysis, not for
        agents). :attr:`events` and :attr:`warnings` show only what has happened by :attr:`time_s`.
    monitors_xy_m : (k, 2) monitoring points; ``source["monitors"]`` says whether they are generated.
    source : provenance of the generated layers (geology, monitors, thresholds).
    exceedance_s, exceedance : clock-step edges (s) and the storm-centre exceedance ``E0`` per step.
    """

    name = "landslide"
    FIELDS = {
        "landslide__susceptibility": FieldSpec(np.float32, "in", "cell", "1",
                                               "relative failure susceptibility 滑坡易发性 (× scale)"),
        "geology__class": FieldSpec(np.uint8, "in", "cell", "1", "generated geology class 岩性 (GEOLOGY codes)"),
        "landslide__rain_factor": FieldSpec(np.float32, "in", "cell", "1",
                                            "storm rain factor 降雨空间系数 (× centre intensity)"),
        "landslide__failure_time": FieldSpec(np.float64, "out", "cell", "s",
                                             "time the cell failed 失稳时间 (NaN = not failed yet)"),
        "debris__depth": FieldSpec(np.float32, "out", "cell", "m", "debris thickness 堆积厚度 on the footprint"),
        "debris__road_closed_until": FieldSpec(np.float64, "out", "cell", "s",
                                               "time debris is cleared from roads 清障时间 (NaN = no debris)"),
    }

    def __init__(self, district: District, landslide: LandslideHazard, rng: np.random.Generator,
                 duration_s: float, monitored_xy_m: np.ndarray | None = None, lead_time_s: float = 7200.0,
                 n_monitors: int = MONITORING_POINTS,
                 clearance_s: float | None = 43_200.0, monitor_radius_m: float = 300.0,
                 params: LandslideParams | None = None) -> None:
        if not duration_s > 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        if lead_time_s < 0 or monitor_radius_m < 0 or (clearance_s is not None and clearance_s < 0):
            raise ValueError("lead_time_s, clearance_s and monitor_radius_m must be ≥ 0")
        self.district = district
        self.hazard = landslide
        self.params = p = params or LandslideParams()
        self.duration_s = float(duration_s)
        self.lead_time_s = float(lead_time_s)
        self.clearance_s = None if clearance_s is None else float(clearance_s)
        self.monitor_radius_m = float(monitor_radius_m)
        self.time_s = 0.0
        g = district.grid
        t = district.terrain
        self.source = {"geology__class": GEOLOGY_SOURCE,
                       "monitors": "generated (most susceptible cells near residents)" if monitored_xy_m is None
                       else "given", "thresholds": "Caine (1980) global I–D threshold with per-cell scatter"}

        geology = geology_classes(district)
        susc = susceptibility(t.slope_deg, district.land.land_cover, geology, district.mask,
                              landslide.susceptibility_scale)
        factor = rain_factor(district, landslide.rain)
        self.fields: dict[str, np.ndarray] = {
            "landslide__susceptibility": susc,
            "geology__class": geology,
            "landslide__rain_factor": factor,
            "landslide__failure_time": np.full(g.shape, np.nan),
            "debris__depth": np.zeros(g.shape, dtype=np.float32),
            "debris__road_closed_until": np.full(g.shape, np.nan),
        }

        # ---- draws over the susceptible cells (fixed order, independent of the rain)
        cells = np.flatnonzero(susc.ravel() > 0)
        self.susceptible_cells = cells
        n = cells.size
        z_thr = rng.standard_normal(n)
        expo = -np.log1p(-rng.random(n))
        u_vol = rng.random(n)

        geo = geology.ravel()[cells]
        q = np.zeros(n)
        for code, m in GEOLOGY_THRESHOLD.items():
            q[geo == code] = m
        q *= np.exp(p.threshold_sigma * z_thr)
        gain = factor.ravel()[cells].astype(np.float64) / q
        t_edges = np.append(np.arange(0.0, self.duration_s, p.step_s), self.duration_s)
        e0 = exceedance_series(landslide.rain, 0.5 * (t_edges[1:] + t_edges[:-1]), p.alpha_mm_per_h, p.beta,
                               p.durations_h, p.drainage_h)
        self.exceedance_s = t_edges
        self.exceedance = e0
        live = gain > 0  # cost: only cells the storm reaches
        t_fail = np.full(n, np.inf)
        t_fail[live] = failure_times(e0, t_edges, gain[live], susc.ravel()[cells][live].astype(np.float64),
                                     p.rate_per_h, p.exceed_cap, expo[live])
        hit = np.isfinite(t_fail)
        order = np.lexsort((cells[hit], t_fail[hit]))
        src = cells[hit][order]
        tf = t_fail[hit][order]
        inv_min, inv_max = 1.0 / p.volume_min_m3, 1.0 / p.volume_max_m3
        vol = 1.0 / (inv_min - u_vol[hit][order] * (inv_min - inv_max))
        tan_reach = np.clip(10.0 ** p.reach_log10_a * vol ** (-p.reach_b), p.tan_reach_min, p.tan_reach_max)
        crown = 0.5 * g.cell_size_m * np.tan(np.deg2rad(np.nan_to_num(t.slope_deg.ravel()[src])))
        path, count, hit_river = runout(src, tan_reach, crown, t.elevation_m, t.flow_receiver, t.river_id,
                                        g.cell_size_m, p.max_runout_cells)
        self._path = path
        self._count = count

        # ---- monitoring
        if monitored_xy_m is None:
            mon = generated_monitors(district, susc, n_monitors, spacing_m=self.monitor_radius_m)
        else:
            mon = np.asarray(monitored_xy_m, dtype=np.float64).reshape(-1, 2)
        self.monitors_xy_m = mon
        xs_c, ys_c = g.xy(*np.divmod(cells, g.ncols))
        if mon.shape[0]:
            dist, nearest = cKDTree(mon).query(np.column_stack([xs_c, ys_c]))
        else:
            dist, nearest = np.full(n, np.inf), np.full(n, -1)
        covered = dist <= self.monitor_radius_m
        self._covered_cells = covered
        self._susc_cells = susc.ravel()[cells]
        pos = np.searchsorted(cells, src)
        monitored = covered[pos]

        # ---- per-slide consequences
        area_m2 = (vol / p.area_coef) ** (1.0 / p.area_exp)
        width = np.clip(np.sqrt(area_m2 / p.length_to_width), p.width_min_m, g.cell_size_m)
        share = width / g.cell_size_m
        self._share = share
        hh = district.households.ravel().astype(np.float64)
        pop = district.population.ravel().astype(np.int64)
        homes = np.array([hh[path[i, :count[i]]].sum() * share[i] for i in range(src.size)])
        people = np.array([pop[path[i, :count[i]]].sum() for i in range(src.size)], dtype=np.int64)
        runout_m = np.array([_path_length(path[i, :count[i]], g.ncols, g.cell_size_m) for i in range(src.size)])
        tw = district.township_id.ravel()[src]
        names = np.array([t_.name for t_ in district.townships] + [""], dtype=object)
        rows, cols = np.divmod(src, g.ncols)
        x_m, y_m = g.xy(rows, cols)
        warn = np.where(monitored, np.maximum(tf - self.lead_time_s, 0.0), np.nan)
        self.schedule = pd.DataFrame({
            "slide_id": np.arange(src.size, dtype=np.int64), "time_s": tf, "cell": src, "row": rows, "col": cols,
            "x_m": x_m, "y_m": y_m, "township": names[np.where(tw >= 0, tw, len(names) - 1)],
            "geology": geo[pos], "susceptibility": self._susc_cells[pos].astype(np.float64),
            "volume_m3": vol, "width_m": width, "tan_reach": tan_reach, "runout_cells": count, "runout_m": runout_m,
            "reached_river": hit_river.astype(bool), "homes_struck": homes, "people_exposed": people,
            "monitored": monitored, "monitor": np.where(monitored, nearest[pos], -1).astype(np.int64),
            "warning_time_s": warn,
        })
        self._depth = (vol / (count * g.cell_size_m * width)).astype(np.float32)
        self._share = share
        self._next = 0

    # ------------------------------------------------------------------ clock
    def advance(self, until_s: float) -> None:
        """Release the failures scheduled in ``(time_s, until_s]`` (no-op if ``until_s ≤ time_s``)."""
        until_s = float(until_s)
        if until_s <= self.time_s:
            return
        tf = self.schedule["time_s"].to_numpy()
        stop = int(np.searchsorted(tf, until_s, side="right"))
        depth = self.fields["debris__depth"].ravel()
        closed = self.fields["debris__road_closed_until"].ravel()
        ftime = self.fields["landslide__failure_time"].ravel()
        for i in range(self._next, stop):
            cells = self._path[i, :self._count[i]]
            depth[cells] += self._depth[i]
            reopen = np.inf if self.clearance_s is None else tf[i] + self.clearance_s
            closed[cells] = np.fmax(closed[cells], reopen)
            ftime[cells[0]] = tf[i]
        self._next = max(self._next, stop)
        self.time_s = until_s

    def road_effect(self) -> np.ndarray:
        """Return per-cell uint8 road effect now: ``ROAD_CLOSED`` on uncleared debris, else ``ROAD_OPEN``."""
        closed = self.fields["debris__road_closed_until"]
        with np.errstate(invalid="ignore"):
            blocked = closed > self.time_s
        return np.where(blocked, ROAD_CLOSED, ROAD_OPEN).astype(np.uint8)

    def clear(self, cells: np.ndarray) -> int:
        """Clear debris from roads on ``cells`` now (responders); return how many closed cells reopened.

        Parameters
        ----------
        cells : flat cell indices (int) or a (nrows, ncols) bool mask.
        """
        cells = np.asarray(cells)
        idx = np.flatnonzero(cells) if cells.dtype == bool else cells.astype(np.int64).ravel()
        closed = self.fields["debris__road_closed_until"].ravel()
        with np.errstate(invalid="ignore"):
            now_closed = closed[idx] > self.time_s
        closed[idx[now_closed]] = self.time_s
        return int(np.unique(idx[now_closed]).size)

    # ------------------------------------------------------------------ results
    @property
    def events(self) -> pd.DataFrame:
        """Failures released so far (one row per slide; columns of :attr:`schedule`, units in the names)."""
        return self.schedule.iloc[:self._next].reset_index(drop=True)

    @property
    def warnings(self) -> pd.DataFrame:
        """Monitoring warnings issued by :attr:`time_s` (time, slide, where, lead)."""
        s = self.schedule
        w = s[s["monitored"] & (s["warning_time_s"] <= self.time_s)]
        out = w[["slide_id", "warning_time_s", "time_s", "cell", "x_m", "y_m", "township", "monitor"]].rename(
            columns={"time_s": "failure_time_s"})
        out = out.assign(lead_s=out["failure_time_s"] - out["warning_time_s"])
        return out.sort_values(["warning_time_s", "slide_id"], kind="stable").reset_index(drop=True)

    def strike_share(self, slide_id: int) -> float:
        """Return the share of a run-out cell's homes the slide's debris strip covers (width / cell size)."""
        return float(self._share[slide_id])

    def runout_cells(self, slide_id: int) -> np.ndarray:
        """Return the flat indices of a slide's run-out cells (source first)."""
        return self._path[slide_id, :self._count[slide_id]].copy()

    def coverage(self) -> dict[str, float]:
        """Return monitoring coverage shares (0…1) against the T8 target.

        ``prone_cells``: cells with S ≥ ``prone_susceptibility`` within ``monitor_radius_m`` of a point;
        ``susceptible_cells``: the same over all S > 0 cells; ``susceptibility_weighted``: S-weighted share;
        ``failures``: share of the run's scheduled failures that are monitored (NaN if none); ``target``: T8.
        """
        cov = self._covered_cells
        s = self._susc_cells
        prone = s >= self.params.prone_susceptibility * self.hazard.susceptibility_scale
        n_fail = len(self.schedule)
        return {
            "prone_cells": float(cov[prone].mean()) if prone.any() else float("nan"),
            "susceptible_cells": float(cov.mean()) if cov.size else float("nan"),
            "susceptibility_weighted": float((s * cov).sum() / s.sum()) if s.size and s.sum() > 0 else float("nan"),
            "failures": float(self.schedule["monitored"].mean()) if n_fail else float("nan"),
            "target": T8_TARGET,
        }

    def summary(self) -> dict:
        """Return run totals of the released failures (plain numbers, JSON-ready)."""
        ev = self.events
        hit = np.zeros(self.district.grid.shape[0] * self.district.grid.shape[1])
        for i in ev["slide_id"]:  # share of each cell's homes under debris: Σ strip shares, at most 1
            np.add.at(hit, self.runout_cells(i), self._share[i])
        cells = np.flatnonzero(hit)
        struck = np.minimum(hit[cells], 1.0)
        return {
            "slides": int(len(ev)),
            "slides_monitored": int(ev["monitored"].sum()) if len(ev) else 0,
            "debris_cells": int(cells.size),
            "homes_struck": float((self.district.households.ravel()[cells] * struck).sum()),
            "people_exposed": int(self.district.population.ravel()[cells].sum()),
            "reached_river": int(ev["reached_river"].sum()) if len(ev) else 0,
            "coverage": self.coverage(),
        }


def _path_length(cells: np.ndarray, ncols: int, cell_size_m: float) -> float:
    """Horizontal length (m) of a D8 path through ``cells`` (centre to centre)."""
    if cells.size < 2:
        return 0.0
    r, c = np.divmod(cells, ncols)
    diag = (np.diff(r) != 0) & (np.diff(c) != 0)
    return float(np.where(diag, np.sqrt(2.0), 1.0).sum() * cell_size_m)
