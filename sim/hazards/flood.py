"""River and flash floods on the district grid: the ``FloodField`` component around the local-inertial kernel.

It turns a :class:`~sim.scenario.FloodHazard` into kernel inputs and owns the water fields:

* bed = terrain elevation, raised along the plan's embankments to their crest;
* Manning n by land cover (Chow 1959, *Open-channel hydraulics*, table 5-6; values chosen within the
  published ranges): channel 0.030, urban 0.050 (buildings counted as added roughness), farmland 0.040,
  forest 0.100;
* inflow hydrographs spread over the channel cells where the Yangtze and the Wu enter the district;
* the Yangtze's exit held at the Three Gorges backwater level (``downstream_stage_m``), every other edge of
  the district a free (normal-depth) outflow so rain runoff can leave;
* rain from :mod:`sim.hazards.rainfall` (uniform or a storm around a township);
* an initial state: the reservoir filled to the backwater level, then a spin-up with the hydrographs'
  first values held (``spinup_h``), cached per district and forcing because every replicate shares it.

Hazard to people follows the DEFRA/Environment Agency rating (Defra FD2321/TR1, 2006):
``HR = d (v + 0.5) + DF`` with the debris factor DF 0 (d ≤ 0.25 m), 0.5 (≤ 0.75 m), 1 (deeper);
classes < 0.75 low, 0.75–1.25 moderate ("danger for some"), 1.25–2.0 significant ("danger for most"),
> 2.0 extreme ("danger for all"). Building damage uses the JRC global depth–damage function for Asia,
residential (Huizinga, de Moel and Szewczyk 2017, *Global flood depth-damage functions*, EUR 28552 EN),
the curve the JRC recommends where no national Chinese curve is available.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import LineString

from sim.district import District
from sim.geo import load_rivers, project_lonlat
from sim.hazards.base import ROAD_CLOSED, ROAD_OPEN, ROAD_SLOW, FieldSpec
from sim.hazards.forcing import mean_rate
from sim.hazards.rainfall import rain_factor
from sim.kernels import flood as K
from sim.landcover import FARMLAND, FOREST, URBAN, WATER
from sim.paths import cache_dir
from sim.scenario import Embankment, FloodHazard

MANNING_N = {WATER: 0.030, URBAN: 0.050, FARMLAND: 0.040, FOREST: 0.100}
MANNING_N_DEFAULT = 0.040

HAZARD_CLASSES = ((0.75, "low 低"), (1.25, "moderate 中 (danger for some)"), (2.0, "significant 高 (danger for most)"),
                  (np.inf, "extreme 极高 (danger for all)"))

# Huizinga et al. 2017, Asia, residential buildings: depth (m) → damage fraction of the maximum damage.
DEPTH_DAMAGE_ASIA_RESIDENTIAL = (
    np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0]),
    np.array([0.00, 0.33, 0.49, 0.62, 0.72, 0.87, 0.93, 0.98, 1.00]),
)

ROAD_CLOSED_DEPTH_M = 0.30  # passenger cars lose control / stall (e.g. Pregnolato et al. 2017: ~0.3 m)
ROAD_SLOW_DEPTH_M = 0.10
GAUGES_LONLAT = {
    # stage gauges read by the warning chain (approximate sites on the real centre-lines)
    "fuling_yangtze": (107.395, 29.718),  # Yangtze at the city, just downstream of the Wu confluence
    "qingxi_yangtze": (107.30, 29.71),  # Yangtze upstream of the city (清溪 reach)
    "wu_lower": (107.39, 29.68),  # Wu River above the confluence
}


def hazard_rating(depth_m: np.ndarray, speed_m_s: np.ndarray) -> np.ndarray:
    """DEFRA FD2321 flood hazard rating ``d (v + 0.5) + DF`` (dimensionless); 0 where dry."""
    d = np.asarray(depth_m, dtype=np.float64)
    df = np.where(d <= 0.25, 0.0, np.where(d <= 0.75, 0.5, 1.0))
    return np.where(d >= K.H_WET, d * (np.asarray(speed_m_s) + 0.5) + df, 0.0)


def hazard_class(rating: np.ndarray) -> np.ndarray:
    """DEFRA class index per rating: 0 low, 1 moderate, 2 significant, 3 extreme."""
    return np.searchsorted(np.array([t for t, _ in HAZARD_CLASSES[:-1]]), np.asarray(rating), side="right")


def damage_fraction(depth_m: np.ndarray) -> np.ndarray:
    """Residential damage fraction (0–1) from water depth (m), JRC Asia curve, linear between points."""
    x, y = DEPTH_DAMAGE_ASIA_RESIDENTIAL
    return np.interp(np.asarray(depth_m, dtype=np.float64), x, y, left=0.0, right=1.0)


@dataclass(frozen=True)
class FloodBoundaries:
    """Where water enters and leaves the district grid."""

    sources: list[tuple[int, int, int, float]]  # (row, col, hydrograph index, share)
    faces: list[tuple[int, int, str, int, float]]  # (row, col, side, kind, value)
    entry_xy_m: dict[str, tuple[float, float]]
    exit_xy_m: tuple[float, float]


def _edge_faces(mask: np.ndarray) -> list[tuple[int, int, str]]:
    """Faces between a district cell and a non-district cell (or the grid edge)."""
    nr, nc = mask.shape
    pad = np.zeros((nr + 2, nc + 2), dtype=bool)
    pad[1:-1, 1:-1] = mask
    out = []
    for side, (di, dj) in (("W", (0, -1)), ("E", (0, 1)), ("N", (-1, 0)), ("S", (1, 0))):
        nb = pad[1 + di:nr + 1 + di, 1 + dj:nc + 1 + dj]
        rr, cc = np.nonzero(mask & ~nb)
        out.extend((int(r), int(c), side) for r, c in zip(rr, cc, strict=True))
    return sorted(out)


def find_boundaries(district: District, flood: FloodHazard, stage_radius_m: float = 1500.0,
                    entry_guard_m: float = 2000.0, spread_m: float = 1000.0) -> FloodBoundaries:
    """Locate inflow cells, the Yangtze outlet (fixed level) and the free-outflow edge of the district."""
    g, mask, rid = district.grid, district.mask, district.terrain.river_id
    rivers = load_rivers()
    edge = _edge_faces(mask)
    edge_cells = sorted({(r, c) for r, c, _ in edge})
    er = np.array([r for r, _ in edge_cells])
    ec = np.array([c for _, c in edge_cells])
    ex, ey = g.xy(er, ec)

    def ends(name: str, code: int) -> tuple[list[tuple[int, int]], tuple[float, float], tuple[float, float]]:
        # the river may graze the outline before it enters for good: keep the edge cells of the channel
        # stretch (4-connected, as water moves) that reaches the river's last cell inside the district
        line: LineString = rivers[name]
        chan = (rid == code) & mask
        lab, _ = ndimage.label(chan)
        cr_, cc_ = np.nonzero(chan)
        ch_all = shapely.line_locate_point(line, shapely.points(*g.xy(cr_, cc_)))
        k_end = int(np.argmax(ch_all))
        on = lab[er, ec] == lab[cr_[k_end], cc_[k_end]]
        if not on.any():
            # coarse grids: the rasterised channel may touch the other river or itself only diagonally;
            # connect through both big rivers, 8-connected, and keep this river's edge cells
            both = ((rid == 1) | (rid == 2)) & mask
            lab, _ = ndimage.label(both, structure=np.ones((3, 3), dtype=int))
            on = (lab[er, ec] == lab[cr_[k_end], cc_[k_end]]) & (rid[er, ec] == code)
        if not on.any():
            raise ValueError(f"the {name} channel does not reach the district edge on this grid")
        chain = shapely.line_locate_point(line, shapely.points(ex[on], ey[on]))
        p0 = line.interpolate(chain.min())
        p1 = line.interpolate(chain.max())
        # the inflow is spread over the channel's first ``spread_m`` so the source does not slosh
        cr, cc = np.nonzero(lab == lab[cr_[k_end], cc_[k_end]])
        cx, cy = g.xy(cr, cc)
        near = np.hypot(cx - p0.x, cy - p0.y) <= spread_m
        cells = [(int(r), int(c)) for r, c in zip(cr[near], cc[near], strict=True)]
        return cells, (p0.x, p0.y), (p1.x, p1.y)

    sources: list[tuple[int, int, int, float]] = []
    yz_cells, yz_in, yz_out = ends("yangtze", 1)
    wu_cells, wu_in, _ = ends("wu", 2)
    entry_cells = {"yangtze": yz_cells, "wu": wu_cells}
    entry_xy = {"yangtze": yz_in, "wu": wu_in}
    for k, hyd in enumerate(flood.inflows):
        cells = entry_cells[hyd.river]
        sources.extend((r, c, k, 1.0 / len(cells)) for r, c in cells)
    faces: list[tuple[int, int, str, int, float]] = []
    slope = np.tan(np.deg2rad(np.nan_to_num(district.terrain.slope_deg)))
    for r, c, side in edge:
        x, y = g.xy(r, c)
        if np.hypot(x - yz_out[0], y - yz_out[1]) <= stage_radius_m:
            faces.append((r, c, side, 1, exit_stage_m(flood, 0.0)))
            continue
        near_entry = any(np.hypot(x - p[0], y - p[1]) <= entry_guard_m for p in entry_xy.values())
        if near_entry:
            continue  # walls: inflow must not leave upstream
        faces.append((r, c, side, 0, float(max(slope[r, c], 1e-3))))
    return FloodBoundaries(sources=sources, faces=faces, entry_xy_m=entry_xy, exit_xy_m=yz_out)


def exit_stage_m(flood: FloodHazard, t_s: float) -> float:
    """Level held at the Yangtze exit at ``t_s`` (the series if given, else ``downstream_stage_m``), m a.s.l."""
    if flood.downstream_stage is not None:
        return flood.downstream_stage.at(t_s / 3600.0)
    return float(flood.downstream_stage_m)


def embankment_cells(district: District, embankments: list[Embankment] | tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Bed raised to each embankment's crest along its line; returns (bed_m, embankment mask)."""
    z = np.nan_to_num(district.terrain.elevation_m, nan=0.0).astype(np.float64)
    raised = np.zeros(z.shape, dtype=bool)
    for e in embankments:
        xy = [project_lonlat(lon, lat) for lon, lat in e.points]
        m = district.grid.line_mask(LineString(xy), step_frac=0.25) & district.mask
        z[m] = np.maximum(z[m], e.crest_m)
        raised |= m
    return z, raised


# Scheme defaults. α = 0.7 (Bates et al. 2010) sits at the 2-D gravity-wave limit of this staggered
# forward-backward scheme, Δt ≤ Δx / (√2 √(g h)) ≈ 0.707 Δx/√(g h), and friction barely damps the 20–50 m
# deep Yangtze and Wu reaches of the Three Gorges reservoir: with θ = 0.7, α = 0.7 the water surface there
# broke into a checkerboard up to 36 m high (|η − mean of 4 neighbours|) within 6 h of the shipped floods.
# A survey of θ ∈ {0.7, 0.8, 0.9} × α ∈ {0.5, 0.6, 0.7} on the three shipped floods (6 h each) found
# θ = 0.9, α = 0.6 the smoothest (99.9th percentile 0.04–0.06 m, like the terrain-following shallow
# fronts) and no dearer than before: the oscillation had been shrinking the time step itself.
# tests/validation/test_flood_validation.py keeps a deep-lake case that fails at the old values.
THETA_DEFAULT = 0.9
ALPHA_DEFAULT = 0.6


class FloodField:
    """Water depth, velocity and flood hazard on the district grid, advanced on the shared clock.

    Parameters
    ----------
    district : the district (grid, terrain, land cover, mask).
    flood : the hazard file's flood section.
    embankments : the plan's embankments (raised cells).
    theta, alpha : scheme weighting and CFL coefficient (see ``THETA_DEFAULT``, ``ALPHA_DEFAULT``).
    spinup_h : longest spin-up (h) with the first hydrograph values held, from the reservoir at the backwater
        level; it stops earlier once outflow matches inflow within 1 % over an hour (steady flow).
    use_cache : keep the spun-up state in the build cache (same inputs ⇒ same file).
    """

    name = "flood"
    FIELDS = {
        "surface_water__depth": FieldSpec(float, "inout", "cell", "m", "水深 water depth"),
        "surface_water__max_depth": FieldSpec(float, "out", "cell", "m", "最大水深 maximum depth since start"),
        "surface_water__time_of_first_wetting": FieldSpec(
            float, "out", "cell", "s", "首次淹没时间 first time depth ≥ 0.01 m (−1 never, 0 wet at start)"),
        "flood_hazard_rating__max": FieldSpec(float, "out", "cell", "1", "最大危险度 max DEFRA hazard rating"),
        "surface_water__discharge_x": FieldSpec(float, "out", "face", "m2/s", "unit discharge, west faces, +east"),
        "surface_water__discharge_y": FieldSpec(float, "out", "face", "m2/s", "unit discharge, north faces, +south"),
        "topographic__elevation": FieldSpec(float, "in", "cell", "m", "河床/地面高程 bed incl. embankments"),
        "manning_n": FieldSpec(float, "in", "cell", "s/m^(1/3)", "糙率 Manning roughness"),
    }

    def __init__(self, district: District, flood: FloodHazard, embankments: list[Embankment] | tuple = (),
                 theta: float = THETA_DEFAULT, alpha: float = ALPHA_DEFAULT, dt_max_s: float = 30.0,
                 spinup_h: float = 48.0,
                 use_cache: bool = True):
        self.district = district
        self.flood = flood
        g = district.grid
        self.dx = g.cell_size_m
        z, self.embankment_mask = embankment_cells(district, embankments)
        n = np.full(g.shape, MANNING_N_DEFAULT)
        for code, val in MANNING_N.items():
            n[district.land.land_cover == code] = val
        n[district.terrain.river_id > 0] = flood.channel_manning_n
        self.bounds = find_boundaries(district, flood)
        rf = rain_factor(district, flood.rain).astype(np.float64) if flood.rain is not None else np.zeros(g.shape)
        self.terrain = K.build_terrain(z, n, district.mask, rf, self.bounds.faces, self.bounds.sources)
        self.params = K.FloodParams(dx=self.dx, theta=theta, alpha=alpha, dt_max=dt_max_s, dt_fixed=0.0)
        self._hyd = [(np.asarray(h.time_h) * 3600.0, np.asarray(h.discharge_m3s)) for h in flood.inflows]
        self._rain = ((np.asarray(flood.rain.time_h) * 3600.0, np.asarray(flood.rain.intensity_mm_per_h))
                      if flood.rain is not None else None)
        self.gauges = {}
        rr, cc = np.nonzero(district.terrain.river_id == 1)
        rr2, cc2 = np.nonzero(district.terrain.river_id == 2)
        for name, (lon, lat) in GAUGES_LONLAT.items():
            # snap to the nearest channel cell of the gauge's river
            r_, c_ = (rr2, cc2) if name.startswith("wu") else (rr, cc)
            x, y = project_lonlat(lon, lat)
            cx, cy = g.xy(r_, c_)
            k = int(np.argmin(np.hypot(cx - x, cy - y)))
            self.gauges[name] = (int(r_[k]), int(c_[k]))
        self.state = self._initial_state(spinup_h, use_cache)
        self._active_set_current = False  # the kernel's active tiles match ``state.h`` (see ``advance``)
        h0 = self.state.h
        self.initial_depth_m = h0.copy()
        self.initial_storage_m3 = float(h0.sum() * self.dx ** 2)
        self.acc = K.new_accumulator()
        self.time_s = 0.0
        self.stage_log: list[tuple[float, dict[str, float]]] = [(0.0, self.stages())]

    # ------------------------------------------------------------------ set-up
    def _lake(self) -> np.ndarray:
        """Depth filling every cell connected to the outlet below the backwater level."""
        stage = exit_stage_m(self.flood, 0.0)
        z = self.terrain.z
        below = (self.district.mask & (z < stage))
        lab, _ = ndimage.label(below)
        outlet = [lab[r, c] for r, c, _, k, _v in self.bounds.faces if k == 1 and lab[r, c] > 0]
        lake = np.isin(lab, np.unique(outlet)) if outlet else np.zeros_like(below)
        return np.where(lake, stage - z, 0.0)

    def _spinup_key(self, spinup_h: float) -> str:
        payload = {
            "district": self.district.provenance.get("cache_key", ""),
            "grid": self.district.grid.to_dict(),
            "z": hashlib.sha256(self.terrain.z.tobytes()).hexdigest(),
            "n": hashlib.sha256(self.terrain.n2.tobytes()).hexdigest(),
            "inflow0": [float(q[0]) for _, q in self._hyd], "rivers": [h.river for h in self.flood.inflows],
            "stage": exit_stage_m(self.flood, 0.0), "spinup_h": spinup_h, "params": list(self.params),
            "kernel": 4,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]

    def _initial_state(self, spinup_h: float, use_cache: bool) -> K.FloodState:
        """Reservoir at the backwater level, spun up to steady flow under the first hydrograph values."""
        h = self._lake()
        self.spinup_hours = 0.0
        if spinup_h <= 0 or not self._hyd:
            return K.new_state(h)
        path = cache_dir() / f"flood_spinup_{self._spinup_key(spinup_h)}.npz"
        if use_cache and path.exists():
            with np.load(path, allow_pickle=False) as f:
                st = K.new_state(f["h"])
                st.qx[0][...] = f["qx"]
                st.qy[0][...] = f["qy"]
                self.spinup_hours = float(f["hours"])
            return st
        st = K.new_state(h)
        q0 = np.array([q[0] for _, q in self._hyd])
        t = 0.0
        # ramp the inflow up over 6 h (a sudden start sets the reservoir sloshing), then hold it until the
        # outflow matches the inflow within 1 % for three hours in a row (steady) or ``spinup_h`` is spent
        steady = 0
        while t < spinup_h * 3600.0 and steady < 3:
            acc = K.new_accumulator()
            ramp = min(1.0, (t + 1800.0) / (6 * 3600.0))
            t = K.flood_advance(st, self.terrain, self.params, t, t + 3600.0, 0.0, q0 * ramp, acc)
            ok = ramp == 1.0 and abs(acc[K.ACC_INFLOW_M3] - acc[K.ACC_OUTFLOW_M3]) <= 0.01 * acc[K.ACC_INFLOW_M3]
            steady = steady + 1 if ok else 0
        self.spinup_hours = t / 3600.0
        out = K.new_state(st.h)
        out.qx[0][...] = st.qx[0]
        out.qy[0][...] = st.qy[0]
        if use_cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, h=st.h, qx=st.qx[0], qy=st.qy[0], hours=self.spinup_hours)
            os.replace(tmp, path)
        return out

    # ------------------------------------------------------------------ clock
    def forcing(self, t0_s: float, t1_s: float) -> tuple[float, np.ndarray]:
        """Mean rain rate (m/s, before the spatial factor) and inflows (m³/s) over ``[t0_s, t1_s]``."""
        rain = 0.0
        if self._rain is not None:
            rain = mean_rate(*self._rain, t0_s, t1_s, hold_ends=False) / 1000.0 / 3600.0
        q = np.array([mean_rate(t, v, t0_s, t1_s, hold_ends=True) for t, v in self._hyd], dtype=np.float64)
        return rain, q

    def advance(self, until_s: float) -> None:
        """Advance the water to ``until_s`` (s after the scenario start) with interval-mean forcing."""
        if until_s <= self.time_s:
            return
        rain, q = self.forcing(self.time_s, until_s)
        if self.flood.downstream_stage is not None:
            fixed = self.terrain.bf_kind == 1
            self.terrain.bf_value[fixed] = exit_stage_m(self.flood, 0.5 * (self.time_s + until_s))
        # only this method writes depths after set-up, so the active set of the last call is still right
        self.time_s = K.flood_advance(self.state, self.terrain, self.params, self.time_s, until_s, rain,
                                      q if q.size else np.zeros(1), self.acc,
                                      rescan=not self._active_set_current)
        self._active_set_current = True
        self.stage_log.append((self.time_s, self.stages()))

    # ------------------------------------------------------------------ outputs
    @property
    def depth_m(self) -> np.ndarray:
        """Water depth now, m (view)."""
        return self.state.h

    @property
    def max_depth_m(self) -> np.ndarray:
        """Maximum depth since the start, m."""
        return self.state.h_max

    @property
    def time_of_first_wetting_s(self) -> np.ndarray:
        """First time each cell held ≥ 0.01 m (s); −1 never, 0 wet at the start."""
        return self.state.t_wet

    @property
    def max_hazard_rating(self) -> np.ndarray:
        """Maximum DEFRA hazard rating reached in each cell (dimensionless)."""
        return self.state.hr_max

    def water_level_m(self) -> np.ndarray:
        """Water-surface elevation where wet, NaN where dry (m a.s.l.)."""
        return np.where(self.state.h > K.H_EPS, self.terrain.z + self.state.h, np.nan)

    def velocity_m_s(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell-centred (u east, v south, speed) from the last limited face fluxes, m/s; 0 where dry."""
        h = self.state.h
        qx, qy = self.state.qx[0], self.state.qy[0]
        qxc = 0.5 * (qx[:, :-1] + qx[:, 1:])
        qyc = 0.5 * (qy[:-1, :] + qy[1:, :])
        wet = h >= K.H_WET
        hs = np.where(wet, h, 1.0)
        u = np.where(wet, qxc / hs, 0.0)
        v = np.where(wet, qyc / hs, 0.0)
        return u, v, np.hypot(u, v)

    def raise_bed(self, cells: np.ndarray, dz_m: float) -> int:
        """Raise the bed of dry ``cells`` (flat indices) by ``dz_m`` (sandbags on an embankment); return how many.

        Wet cells are left alone (a sandbag wall is built in the dry), so water volume is unchanged.
        """
        cells = np.asarray(cells, dtype=np.int64)
        z, h = self.terrain.z.ravel(), self.state.h.ravel()
        dry = cells[h[cells] < K.H_WET]
        z[dry] += dz_m
        return int(dry.size)

    def speed_at(self, cells: np.ndarray) -> np.ndarray:
        """Cell-centred speed (m/s) at flat ``cells`` only (as :meth:`velocity_m_s`, without the whole grid)."""
        r, c = np.divmod(np.asarray(cells, dtype=np.int64), self.state.h.shape[1])
        h = self.state.h[r, c]
        qx, qy = self.state.qx[0], self.state.qy[0]
        u = 0.5 * (qx[r, c] + qx[r, c + 1])
        v = 0.5 * (qy[r, c] + qy[r + 1, c])
        wet = h >= K.H_WET
        return np.where(wet, np.hypot(u, v) / np.where(wet, h, 1.0), 0.0)

    def hazard_rating(self) -> np.ndarray:
        """DEFRA hazard rating now (dimensionless)."""
        return hazard_rating(self.state.h, self.velocity_m_s()[2])

    def flood_depth_above_normal_m(self) -> np.ndarray:
        """Depth above the initial (normal river and reservoir) depth, m: the flood, not the river."""
        return np.clip(self.state.h - self.initial_depth_m, 0.0, None)

    def road_effect(self) -> np.ndarray:
        """Return the road effect per cell: closed above 0.3 m of flood water, slowed above 0.1 m (uint8)."""
        d = self.flood_depth_above_normal_m()
        out = np.full(d.shape, ROAD_OPEN, dtype=np.uint8)
        out[d > ROAD_SLOW_DEPTH_M] = ROAD_SLOW
        out[d > ROAD_CLOSED_DEPTH_M] = ROAD_CLOSED
        return out

    def stages(self) -> dict[str, float]:
        """Water level at each gauge, m a.s.l. (bed level where dry)."""
        return {k: float(self.terrain.z[r, c] + self.state.h[r, c]) for k, (r, c) in self.gauges.items()}

    def balance(self) -> dict[str, float]:
        """Volume balance since the start, m³: inflow + rain − outflow − storage change = error."""
        storage = float(self.state.h.sum() * self.dx ** 2)
        a = self.acc
        d_storage = storage - self.initial_storage_m3
        err = a[K.ACC_INFLOW_M3] + a[K.ACC_RAIN_M3] - a[K.ACC_OUTFLOW_M3] - d_storage
        scale = max(abs(a[K.ACC_INFLOW_M3]) + abs(a[K.ACC_RAIN_M3]) + abs(a[K.ACC_OUTFLOW_M3]), storage, 1.0)
        return {"inflow_m3": float(a[K.ACC_INFLOW_M3]), "rain_m3": float(a[K.ACC_RAIN_M3]),
                "outflow_m3": float(a[K.ACC_OUTFLOW_M3]), "storage_change_m3": d_storage,
                "clamped_m3": float(a[K.ACC_CLAMP_M3]), "error_m3": float(err), "relative_error": float(err / scale),
                "steps": int(a[K.ACC_STEPS]), "cell_updates": float(a[K.ACC_CELL_UPDATES]),
                "min_dt_s": float(a[K.ACC_DT_MIN]) if np.isfinite(a[K.ACC_DT_MIN]) else float("nan")}

    def damage_fraction(self) -> np.ndarray:
        """Residential damage fraction from the flood's maximum depth above normal (0–1)."""
        return damage_fraction(np.clip(self.state.h_max - self.initial_depth_m, 0.0, None))

    def at_points(self, x_m: np.ndarray, y_m: np.ndarray) -> dict[str, np.ndarray]:
        """Depth (m), speed (m/s) and hazard rating at points (outside the grid: NaN)."""
        r, c = self.district.grid.rowcol(np.asarray(x_m), np.asarray(y_m))
        ok = self.district.grid.inside(r, c)
        rr, cc = np.where(ok, r, 0), np.where(ok, c, 0)
        speed = self.velocity_m_s()[2]
        d = np.where(ok, self.state.h[rr, cc], np.nan)
        s = np.where(ok, speed[rr, cc], np.nan)
        return {"depth_m": d, "speed_m_s": s, "hazard_rating": np.where(ok, hazard_rating(d, s), np.nan)}
