"""Land cover and wildfire fuel classes (generated, reproducible, labelled *generated*).

Rules (all assumptions a user can edit through ``DistrictSpec``):

* water: big-river channels and generated tributary cells;
* urban: the cells nearest each township centre inside its own area, as many as its urban residents
  need at ``urban_density_per_km2``;
* forest: the ``forest_share`` of remaining land with the highest forest propensity (steeper, higher,
  plus seeded noise) — the district's forest share is an explicit assumption (default 52 %; the
  published figure for Chongqing municipality is 55 %, none was found for Fuling);
* farmland: the rest.

Fuel classes follow elevation within the forest (broadleaf below 800 m, mixed to 1,300 m, conifer
above) and grass/crop on farmland.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LAND_COVER = {0: "outside", 1: "water 水体", 2: "urban 城镇", 3: "farmland 耕地", 4: "forest 林地"}
WATER, URBAN, FARMLAND, FOREST = 1, 2, 3, 4

FUEL_CLASSES = {
    0: "non-fuel 非燃",
    1: "grass/crop 草地农田",
    2: "shrub 灌丛",
    3: "broadleaf forest 阔叶林",
    4: "mixed forest 针阔混交林",
    5: "conifer forest 针叶林",
}


@dataclass(frozen=True)
class LandCover:
    """Land cover and fuel per cell (uint8 codes of ``LAND_COVER`` and ``FUEL_CLASSES``)."""

    land_cover: np.ndarray
    fuel_class: np.ndarray
    forest_share: float


def urban_cells(township_id: np.ndarray, centres_rc: np.ndarray, n_cells: np.ndarray,
                blocked: np.ndarray, cell_size_m: float) -> np.ndarray:
    """Mark, per township, the ``n_cells[t]`` unblocked cells of its own area nearest its centre."""
    out = np.zeros(township_id.shape, dtype=bool)
    rows, cols = np.indices(township_id.shape)
    for t, (r0, c0) in enumerate(centres_rc):
        sel = (township_id == t) & ~blocked
        rr, cc = rows[sel], cols[sel]
        if rr.size == 0 or n_cells[t] <= 0:
            continue
        d2 = (rr - r0) ** 2 + (cc - c0) ** 2
        k = min(int(n_cells[t]), rr.size)
        pick = np.argsort(d2, kind="stable")[:k]
        out[rr[pick], cc[pick]] = True
    return out


def classify(mask: np.ndarray, river_id: np.ndarray, urban: np.ndarray, elevation_m: np.ndarray,
             slope_deg: np.ndarray, forest_share: float, rng: np.random.Generator) -> LandCover:
    """Assign land cover and fuel classes; ``forest_share`` is of the non-water, non-urban land."""
    lc = np.zeros(mask.shape, dtype=np.uint8)
    lc[mask] = FARMLAND
    lc[mask & urban] = URBAN
    lc[mask & (river_id > 0)] = WATER
    land = lc == FARMLAND
    noise = rng.standard_normal(mask.shape)
    z = np.nan_to_num(elevation_m)
    propensity = np.nan_to_num(slope_deg) / 10.0 + (z - 400.0) / 300.0 + 0.8 * noise
    n_land = int((lc >= URBAN).sum())
    n_forest = min(int(round(forest_share * n_land)), int(land.sum()))
    if n_forest > 0:
        idx = np.flatnonzero(land)
        top = idx[np.argsort(-propensity.ravel()[idx], kind="stable")[:n_forest]]
        lc.ravel()[top] = FOREST
    fuel = np.zeros(mask.shape, dtype=np.uint8)
    fuel[lc == FARMLAND] = 1
    forest = lc == FOREST
    fuel[forest & (z < 800)] = 3
    fuel[forest & (z >= 800) & (z < 1300)] = 4
    fuel[forest & (z >= 1300)] = 5
    # forest edges next to farmland are shrubby
    shrub = forest & (noise > 1.2)
    fuel[shrub] = 2
    share = float(forest.sum() / max(n_land, 1))
    return LandCover(land_cover=lc, fuel_class=fuel, forest_share=share)
