"""The Fuling district: build it from real data plus generated layers, cache it, summarise it.

:func:`load_district` is the entry point: it returns the cached build for a :class:`DistrictSpec` or
builds it (deterministically) and caches it atomically. A build is keyed by the spec, the bytes of every
input file and the source of the modules that build it, so any change triggers a rebuild.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

import sim
from sim import facilities as fac
from sim.geo import (
    BOUNDARY_FILES,
    RIVER_FILE,
    Township,
    Village,
    load_outline,
    load_rivers,
    load_townships,
    load_villages,
)
from sim.grid import Grid
from sim.landcover import FOREST, URBAN, WATER, LandCover, classify, urban_cells
from sim.paths import cache_dir, fuling_data_dir
from sim.population import (
    allocate_cells,
    households,
    largest_remainder,
    township_polygons,
    township_raster,
    township_weights,
)
from sim.roads import RoadCSR, cell_nodes, generate_roads, read_roads, to_csr
from sim.scenario import DistrictSpec
from sim.terrain import (
    NAMED_TRIBUTARY_MOUTHS,
    Terrain,
    channel_ids_for_dem,
    derive_terrain,
    generate_elevation,
    read_dem,
)
from sim.yamlio import InputError

_BUILD_MODULES = ("district", "scenario", "terrain", "landcover", "population", "roads", "facilities", "geo", "grid",
                  "kernels/routing")
_ARRAYS = ("mask", "elevation_m", "slope_deg", "aspect_deg", "flow_receiver", "flow_dir_d8",
           "flow_accumulation_km2", "river_id", "land_cover", "fuel_class", "township_id", "population",
           "population_urban", "households", "cell_node")


@dataclass(frozen=True)
class Tributary:
    """A generated stream reaching a big river or the district edge."""

    name: str
    mouth_x_m: float
    mouth_y_m: float
    catchment_km2: float
    named_from: str  # "" for unnamed streams


@dataclass
class District:
    """Everything the hazard engines and the agent model read about the district.

    Arrays are on ``grid`` (row 0 = north), cells outside the outline masked out. Road nodes are the
    integers 0..n-1 of ``roads``; ``cell_node`` maps each land cell to its nearest node on the same bank.
    """

    spec: DistrictSpec
    grid: Grid
    outline: Polygon
    mask: np.ndarray
    terrain: Terrain
    land: LandCover
    townships: list[Township]
    township_id: np.ndarray
    township_node: np.ndarray
    population: np.ndarray
    population_urban: np.ndarray
    households: np.ndarray
    roads: nx.MultiDiGraph
    road_csr: RoadCSR
    cell_node: np.ndarray
    shelters: list[fac.Shelter]
    depots: list[fac.Depot]
    teams: list[fac.Team]
    tributaries: list[Tributary]
    provenance: dict
    layer_sources: dict[str, str]

    # ------------------------------------------------------------------ convenience
    def township_polygons(self) -> list[Polygon]:
        """Voronoi polygons of the township centres clipped to the outline."""
        return township_polygons(self.outline, self.townships)

    def node_of(self, x_m: float, y_m: float) -> int:
        """Road node serving the point (same-bank nearest node where the point is on land)."""
        r, c = self.grid.rowcol(x_m, y_m)
        if self.grid.inside(r, c) and self.cell_node[r, c] >= 0:
            return int(self.cell_node[r, c])
        tree = self.__dict__.get("_node_tree")
        if tree is None:  # built once per district
            tree = cKDTree(np.column_stack([self.road_csr.node_x_m, self.road_csr.node_y_m]))
            self.__dict__["_node_tree"] = tree
        return int(tree.query([x_m, y_m])[1])

    def summary(self) -> dict:
        """Return the counts of ``fuling-sim district info`` (plain numbers, JSON-ready)."""
        land = self.mask & (self.land.land_cover != WATER)
        km_by_class: dict[str, float] = {}
        for _, _, d in self.roads.edges(data=True):
            km_by_class[d["road_class"]] = km_by_class.get(d["road_class"], 0.0) + d["length_m"] / 2000.0
        n_bridges = sum(1 for _, _, d in self.roads.edges(data=True) if d["bridge"]) // 2
        return {
            "name": self.spec.name,
            "grid": {"cell_size_m": self.grid.cell_size_m, "shape": list(self.grid.shape),
                     "cells_in_district": int(self.mask.sum())},
            "area_km2": round(float(self.mask.sum() * self.grid.cell_area_m2 / 1e6), 1),
            "townships": len(self.townships),
            "residents": int(self.population.sum()),
            "residents_urban": int(self.population_urban.sum()),
            "households": int(self.households.sum()),
            "populated_cells": int((self.population > 0).sum()),
            "elevation_m": {"min": round(float(np.nanmin(self.terrain.elevation_m)), 1),
                            "max": round(float(np.nanmax(self.terrain.elevation_m)), 1)},
            "forest_share": round(float((self.land.land_cover == FOREST).sum() / land.sum()), 4),
            "urban_km2": round(float((self.land.land_cover == URBAN).sum() * self.grid.cell_area_m2 / 1e6), 1),
            "road_nodes": self.roads.number_of_nodes(),
            "road_km_by_class": {k: round(v, 1) for k, v in sorted(km_by_class.items())},
            "bridges": n_bridges,
            "shelters": len(self.shelters),
            "shelter_capacity_persons": int(sum(s.capacity_persons for s in self.shelters)),
            "depots_by_tier": _count(d.tier for d in self.depots),
            "teams_by_level": _count(t.level for t in self.teams),
            "team_members": int(sum(t.size_persons for t in self.teams)),
            "tributaries_named": [t.name for t in self.tributaries if t.named_from],
            "tributaries_generated": len(self.tributaries),
            "layer_sources": self.layer_sources,
        }


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


# ---------------------------------------------------------------------------------------------- build
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_hashes(spec: DistrictSpec) -> dict[str, str]:
    """SHA-256 of every file a build reads (real data, user data, building source code)."""
    data = fuling_data_dir()
    files = {
        "boundary": data / BOUNDARY_FILES[spec.boundary_source],
        "rivers": data / RIVER_FILE,
        "townships": data / "fuling_townships_27.csv",
        "township_names": data / "township_names_en.csv",
        "villages": data / "vonng_adcode_500102.csv",
    }
    for name, value in spec.data:
        if value is not None:
            if not Path(value).exists():
                raise InputError(f"{value}: district.data.{name}: file not found. Fix: check the path "
                                 "(relative paths are resolved against the district file)")
            files[name] = Path(value)
    out = {k: _sha256(p) for k, p in files.items()}
    src = Path(sim.__file__).parent
    code = hashlib.sha256()
    for mod in _BUILD_MODULES:
        code.update((src / f"{mod}.py").read_bytes())
    out["code"] = code.hexdigest()
    return out


def cache_key(spec: DistrictSpec) -> str:
    """Key of the cached build for ``spec``."""
    payload = json.dumps({"spec": spec.model_dump(mode="json"), "inputs": input_hashes(spec)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _tributaries(grid: Grid, terrain: Terrain) -> list[Tributary]:
    river = terrain.river_id.ravel()
    rec = terrain.flow_receiver.ravel()
    acc = terrain.flow_accumulation_km2.ravel()
    streams = np.flatnonzero(river == 3)
    mouth = streams[(rec[streams] < 0) | np.isin(river[np.maximum(rec[streams], 0)], (1, 2))]
    rows, cols = np.divmod(mouth, grid.ncols)
    xs, ys = grid.xy(rows, cols)
    order = np.argsort(-acc[mouth], kind="stable")
    named: dict[int, str] = {}
    from sim.geo import project_lonlat

    for name, lonlat in NAMED_TRIBUTARY_MOUTHS.items():
        mx, my = project_lonlat(*lonlat)
        near = np.flatnonzero(np.hypot(xs - mx, ys - my) < 6000.0)
        near = [j for j in near if j not in named]
        if near:
            best = max(near, key=lambda j: (acc[mouth[j]], -j))
            named[best] = name
    return [Tributary(named.get(j, f"generated stream {k + 1}"), float(xs[j]), float(ys[j]),
                      float(acc[mouth[j]]), named.get(j, "") and "approximate published mouth")
            for k, j in enumerate(order)]


def build_district(spec: DistrictSpec) -> District:
    """Build the district from real data and generated layers (deterministic for a given spec)."""
    t0 = time.perf_counter()
    outline = load_outline(spec.boundary_source)
    rivers = load_rivers()
    townships = load_townships()
    villages = load_villages()
    grid = Grid.covering(outline, spec.cell_size_m)
    mask = grid.mask_of(outline)
    minx, miny, maxx, maxy = outline.bounds
    extent = (minx - 5000.0, maxy + 5000.0, maxx + 5000.0, miny - 5000.0)
    sources = {"outline": f"real: {BOUNDARY_FILES[spec.boundary_source]}", "rivers": f"real: {RIVER_FILE}",
               "townships": "real: names, codes, centres (Vonng/adcode, CC BY 4.0); areas = Voronoi"}
    if spec.data.dem_path is not None:
        elevation = read_dem(spec.data.dem_path, grid, mask)
        river_id = channel_ids_for_dem(grid, mask, rivers)
        sources["terrain"] = f"user DEM: {spec.data.dem_path}"
    else:
        elevation, river_id = generate_elevation(grid, mask, rivers, spec.terrain_seed, extent)
        sources["terrain"] = "generated (seeded; constrained to published elevations)"
    terrain = derive_terrain(grid, mask, elevation, river_id, spec.tributary_min_area_km2, sources["terrain"])
    rng = np.random.default_rng(np.random.SeedSequence([spec.terrain_seed, 2]))

    tw_id = township_raster(grid, mask, townships)
    w_urban, w_rural = township_weights(townships, villages)
    urban_by_tw = largest_remainder(spec.population_urban, w_urban)
    rural_by_tw = largest_remainder(spec.population_total - spec.population_urban, w_rural)
    centres_rc = np.array([grid.rowcol(t.x_m, t.y_m) for t in townships])
    cell_km2 = grid.cell_area_m2 / 1e6
    n_urban_cells = np.ceil(urban_by_tw / spec.urban_density_per_km2 / cell_km2).astype(int)
    urban = urban_cells(tw_id, centres_rc, n_urban_cells, terrain.river_id > 0, grid.cell_size_m)
    land = classify(mask, terrain.river_id, urban, terrain.elevation_m, terrain.slope_deg,
                    spec.forest_share, rng)
    pop, pop_urban = allocate_cells(tw_id, land.land_cover, terrain.slope_deg, centres_rc, urban_by_tw,
                                    rural_by_tw, grid.cell_size_m, terrain.elevation_m,
                                    spec.resettlement_elevation_m)
    hh = households(pop, spec.household_size_persons)
    sources["land_cover"] = "generated (rules in sim/landcover.py)"
    sources["population"] = "2020 census totals (real) allocated by the rule in sim/population.py"

    water = (terrain.river_id == 1) | (terrain.river_id == 2)
    if spec.data.roads_path is not None:
        roads = read_roads(spec.data.roads_path, outline)
        tree = cKDTree(np.array([[d["x"], d["y"]] for _, d in roads.nodes(data=True)]))
        tw_node = np.array([tree.query([t.x_m, t.y_m])[1] for t in townships], dtype=np.int64)
        sources["roads"] = f"user: {spec.data.roads_path}"
    else:
        roads, tw_node = generate_roads(grid, mask, outline, terrain.elevation_m, terrain.river_id, rivers,
                                        townships, pop, spec.village_spacing_m,
                                        np.random.default_rng(np.random.SeedSequence([spec.terrain_seed, 3])))
        sources["roads"] = "generated (sim/roads.py)"
    csr = to_csr(roads)
    cnode = cell_nodes(grid, mask, water, csr.node_x_m, csr.node_y_m)

    node_kind = np.array([roads.nodes[i].get("kind", "") for i in range(roads.number_of_nodes())])
    nr, nc = grid.rowcol(csr.node_x_m, csr.node_y_m)
    ok = grid.inside(nr, nc)
    node_tw = np.full(csr.node_x_m.size, -1)
    node_tw[ok] = tw_id[nr[ok], nc[ok]]
    village_xy = fac.village_locations(villages, townships, node_kind, csr.node_x_m, csr.node_y_m, node_tw)
    if spec.data.shelters_path is not None:
        shelters = fac.read_shelters(spec.data.shelters_path)
        sources["shelters"] = f"user: {spec.data.shelters_path}"
    else:
        shelters = fac.default_shelters(townships, spec.shelter_capacity_persons, spec.stadium_capacity_persons,
                                        spec.forest_park_capacity_persons)
        sources["shelters"] = "counts from plan; locations generated/approximate"
    if spec.data.depots_path is not None:
        depots = fac.read_depots(spec.data.depots_path)
        sources["depots"] = f"user: {spec.data.depots_path}"
    else:
        depots = fac.default_depots(townships, villages, village_xy)
        sources["depots"] = "tiers from plan; stock and locations assumed"
    if spec.data.teams_path is not None:
        teams = fac.read_teams(spec.data.teams_path)
        sources["teams"] = f"user: {spec.data.teams_path}"
    else:
        teams = fac.default_teams(townships, villages, village_xy)
        sources["teams"] = "counts from plan; sizes, bases assumed"
    for kind, items in (("shelters", shelters), ("depots", depots), ("teams", teams)):
        xs = np.array([it.x_m for it in items])
        ys = np.array([it.y_m for it in items])
        inside = shapely.contains_xy(outline.buffer(2000.0), xs, ys)
        if not inside.all():
            bad = [it.name for it, ok_ in zip(items, inside, strict=False) if not ok_][:3]
            raise InputError(f"district.data.{kind}_path: {int((~inside).sum())} {kind} lie outside the "
                             f"district (e.g. {bad}). Fix: give WGS84 lon/lat inside Fuling "
                             "(106.94–107.72 E, 29.36–30.01 N)")
    district = District(
        spec=spec, grid=grid, outline=outline, mask=mask, terrain=terrain, land=land, townships=townships,
        township_id=tw_id, township_node=tw_node, population=pop, population_urban=pop_urban, households=hh,
        roads=roads, road_csr=csr, cell_node=cnode, shelters=shelters, depots=depots, teams=teams,
        tributaries=_tributaries(grid, terrain), provenance={}, layer_sources=sources,
    )
    district.provenance = {
        "version": sim.__version__, "spec": spec.model_dump(mode="json"), "inputs": input_hashes(spec),
        "build_seconds": round(time.perf_counter() - t0, 2), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    return district


# ---------------------------------------------------------------------------------------------- cache
def _save(district: District, folder: Path) -> None:
    t = district.terrain
    arrays = {
        "mask": district.mask, "elevation_m": t.elevation_m, "slope_deg": t.slope_deg,
        "aspect_deg": t.aspect_deg, "flow_receiver": t.flow_receiver, "flow_dir_d8": t.flow_dir_d8,
        "flow_accumulation_km2": t.flow_accumulation_km2, "river_id": t.river_id,
        "land_cover": district.land.land_cover, "fuel_class": district.land.fuel_class,
        "township_id": district.township_id, "population": district.population,
        "population_urban": district.population_urban, "households": district.households,
        "cell_node": district.cell_node, "township_node": district.township_node,
    }
    np.savez_compressed(folder / "arrays.npz", **arrays)
    nodes = pd.DataFrame([{"node": n, **d} for n, d in district.roads.nodes(data=True)])
    edges = pd.DataFrame([{"u": u, "v": v, "key": k, **d} for u, v, k, d in district.roads.edges(keys=True, data=True)])
    nodes.to_parquet(folder / "road_nodes.parquet", index=False)
    edges.to_parquet(folder / "road_edges.parquet", index=False)
    meta = {
        "grid": district.grid.to_dict(), "terrain_source": t.source, "forest_share": district.land.forest_share,
        "shelters": [dataclasses.asdict(s) for s in district.shelters],
        "depots": [dataclasses.asdict(d) for d in district.depots],
        "teams": [dataclasses.asdict(x) for x in district.teams],
        "tributaries": [dataclasses.asdict(x) for x in district.tributaries],
        "provenance": district.provenance, "layer_sources": district.layer_sources,
        "roads_graph": dict(district.roads.graph),
    }
    (folder / "district.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def _load(spec: DistrictSpec, folder: Path) -> District:
    meta = json.loads((folder / "district.json").read_text(encoding="utf-8"))
    with np.load(folder / "arrays.npz", allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    g = meta["grid"]
    grid = Grid(g["x0_m"], g["y0_m"], g["cell_size_m"], g["nrows"], g["ncols"])
    terrain = Terrain(a["elevation_m"], a["slope_deg"], a["aspect_deg"], a["flow_receiver"], a["flow_dir_d8"],
                      a["flow_accumulation_km2"], a["river_id"], meta["terrain_source"])
    roads = nx.MultiDiGraph(**meta["roads_graph"])
    for row in pd.read_parquet(folder / "road_nodes.parquet").to_dict("records"):
        n = int(row.pop("node"))
        roads.add_node(n, **{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    for row in pd.read_parquet(folder / "road_edges.parquet").to_dict("records"):
        u, v, k = int(row.pop("u")), int(row.pop("v")), int(row.pop("key"))
        row = {kk: (vv.item() if hasattr(vv, "item") else vv) for kk, vv in row.items()}
        row["lanes"] = int(row["lanes"])
        row["bridge"] = bool(row["bridge"])
        roads.add_edge(u, v, key=k, **row)
    teams = [fac.Team(**{**t, "capabilities": tuple(t["capabilities"])}) for t in meta["teams"]]
    return District(
        spec=spec, grid=grid, outline=load_outline(spec.boundary_source), mask=a["mask"], terrain=terrain,
        land=LandCover(a["land_cover"], a["fuel_class"], meta["forest_share"]), townships=load_townships(),
        township_id=a["township_id"], township_node=a["township_node"], population=a["population"],
        population_urban=a["population_urban"], households=a["households"], roads=roads,
        road_csr=to_csr(roads), cell_node=a["cell_node"],
        shelters=[fac.Shelter(**s) for s in meta["shelters"]], depots=[fac.Depot(**d) for d in meta["depots"]],
        teams=teams, tributaries=[Tributary(**t) for t in meta["tributaries"]],
        provenance=meta["provenance"], layer_sources=meta["layer_sources"],
    )


def load_district(spec: DistrictSpec | None = None, use_cache: bool = True) -> District:
    """Return the district for ``spec`` (default: the shipped Fuling spec), from cache when possible.

    The build is written to a temporary folder and renamed into place, so an interrupted build never
    leaves a half-written cache entry.
    """
    spec = spec or DistrictSpec()
    if not use_cache:
        return build_district(spec)
    folder = cache_dir() / f"district-{cache_key(spec)}"
    if (folder / "district.json").exists():
        return _load(spec, folder)
    district = build_district(spec)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".district-", dir=folder.parent))
    try:
        _save(district, tmp)
        os.replace(tmp, folder)
    except OSError:
        if not (folder / "district.json").exists():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return district


__all__ = ["District", "Tributary", "Village", "build_district", "cache_key", "input_hashes", "load_district"]
