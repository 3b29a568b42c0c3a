"""Township areas and the census allocated to townships and cells.

Allocation rule (written, reproducible; the census gives district totals only):

1. Township areas are the Voronoi cells of the 27 real centres, clipped to the outline.
2. The 2020 census urban residents (801,151) are shared among townships in proportion to their number
   of *urban* communities in the NBS 2016 code list (urban-rural codes 111/112/121/122); the rural
   residents (1,115,016 − 801,151) in proportion to their number of *rural* villages (210/220).
3. Inside a township, urban residents go to its urban cells, weighted by exp(−d / 1.5 km) from the
   centre; rural residents go to farmland (weight exp(−slope / 15°)) and forest edges (weight 0.05).
4. Integers come from largest-remainder rounding at each level, so the totals equal the census exactly.
5. Households per cell = round(residents / household size), at least 1 where anyone lives.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, Point, Polygon

from sim.geo import Township, Village
from sim.grid import Grid
from sim.landcover import FARMLAND, FOREST, URBAN

URBAN_CODES = {"111", "112", "121", "122"}
RURAL_CODES = {"210", "220"}


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split integer ``total`` in proportion to ``weights`` so that the parts sum to ``total`` exactly."""
    w = np.asarray(weights, dtype=np.float64)
    if total == 0 or w.sum() <= 0:
        return np.zeros(w.shape, dtype=np.int64)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


def township_raster(grid: Grid, mask: np.ndarray, townships: list[Township]) -> np.ndarray:
    """Return the index of the nearest township centre for each masked cell (-1 outside).

    Nearest-centre assignment is exactly the Voronoi partition of the centres, rasterised.
    """
    tree = cKDTree(np.array([[t.x_m, t.y_m] for t in townships]))
    out = np.full(grid.shape, -1, dtype=np.int16)
    rows, cols = np.nonzero(mask)
    x, y = grid.xy(rows, cols)
    _, idx = tree.query(np.column_stack([x, y]))
    out[rows, cols] = idx
    return out


def township_polygons(outline: Polygon, townships: list[Township]) -> list[Polygon]:
    """Return the Voronoi polygon of each township centre clipped to the outline (same order)."""
    pts = MultiPoint([(t.x_m, t.y_m) for t in townships])
    cells = shapely.voronoi_polygons(pts, extend_to=outline.buffer(10_000))
    out = []
    for t in townships:
        p = Point(t.x_m, t.y_m)
        poly = next(g for g in cells.geoms if g.contains(p))
        out.append(poly.intersection(outline))
    return out


def township_weights(townships: list[Township], villages: list[Village]) -> tuple[np.ndarray, np.ndarray]:
    """Return (urban communities, rural villages) counted per township from the NBS code list."""
    index = {t.code: i for i, t in enumerate(townships)}
    urban = np.zeros(len(townships))
    rural = np.zeros(len(townships))
    for v in villages:
        i = index.get(v.township_code)
        if i is None:
            continue
        if v.urban_rural_code in URBAN_CODES:
            urban[i] += 1
        elif v.urban_rural_code in RURAL_CODES:
            rural[i] += 1
    return urban, rural


def _spread(total: int, weights: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    w = weights if weights.sum() > 0 else fallback
    return largest_remainder(total, w)


def allocate_cells(township_id: np.ndarray, land_cover: np.ndarray, slope_deg: np.ndarray,
                   centres_rc: np.ndarray, urban_by_tw: np.ndarray, rural_by_tw: np.ndarray,
                   cell_size_m: float, elevation_m: np.ndarray | None = None,
                   min_elevation_m: float = -np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Return residents per cell (int32) and urban residents per cell (int32).

    Cells below ``min_elevation_m`` (the Three Gorges resettlement line) get no residents unless a township
    has no land cell above it.
    """
    pop = np.zeros(township_id.shape, dtype=np.int64)
    pop_urban = np.zeros(township_id.shape, dtype=np.int64)
    rows, cols = np.indices(township_id.shape)
    slope = np.nan_to_num(slope_deg, nan=45.0)
    for t, (r0, c0) in enumerate(centres_rc):
        sel = township_id == t
        lc = land_cover[sel]
        land = ((lc >= URBAN) & (lc <= FOREST)).astype(float)
        if elevation_m is not None:
            high = np.nan_to_num(elevation_m[sel], nan=-np.inf) >= min_elevation_m
            if (land * high).sum() > 0:
                land = land * high
                lc = np.where(high, lc, -1)
        d_km = np.hypot(rows[sel] - r0, cols[sel] - c0) * cell_size_m / 1000.0
        w_urban = (lc == URBAN) * np.exp(-d_km / 1.5)
        w_rural = (lc == FARMLAND) * np.exp(-slope[sel] / 15.0) + (lc == FOREST) * 0.05
        if land.sum() == 0:
            # a township whose area holds no land cell at this resolution (a tiny Voronoi cell on the
            # river): its residents go to the ten land cells nearest its centre, wherever they are
            lr, lc_ = np.nonzero((land_cover >= URBAN) & (land_cover <= FOREST))
            near = np.argsort((lr - r0) ** 2 + (lc_ - c0) ** 2, kind="stable")[:10]
            share_u = largest_remainder(int(urban_by_tw[t]), np.ones(near.size))
            share_r = largest_remainder(int(rural_by_tw[t]), np.ones(near.size))
            np.add.at(pop_urban, (lr[near], lc_[near]), share_u)
            np.add.at(pop, (lr[near], lc_[near]), share_u + share_r)
            continue
        u = _spread(int(urban_by_tw[t]), w_urban, land * np.exp(-d_km / 1.5))
        r = _spread(int(rural_by_tw[t]), w_rural, land)
        pop_urban[sel] += u
        pop[sel] += u + r
    return pop.astype(np.int32), pop_urban.astype(np.int32)


def households(pop: np.ndarray, household_size: float) -> np.ndarray:
    """Return households per cell: round(residents / size), at least one where anyone lives."""
    hh = np.rint(pop / household_size).astype(np.int32)
    hh[(pop > 0) & (hh == 0)] = 1
    return hh
