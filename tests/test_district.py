"""District invariants, determinism and the build cache."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.district import build_district, cache_key, load_district
from sim.landcover import FOREST, URBAN, WATER
from sim.scenario import DistrictSpec


def test_population_sums_to_census(district100):
    d = district100
    assert int(d.population.sum()) == 1_115_016
    assert int(d.population_urban.sum()) == 801_151
    assert (d.population[~d.mask] == 0).all()
    assert (d.population[d.land.land_cover == WATER] == 0).all()
    hh = d.households.sum()
    assert 1_115_016 / 2.45 * 0.95 < hh < 1_115_016 / 2.45 * 1.1
    assert ((d.households > 0) == (d.population > 0)).all()


def test_township_centres_inside_their_own_area(district100):
    d = district100
    polys = d.township_polygons()
    for i, t in enumerate(d.townships):
        assert polys[i].contains(shapely.Point(t.x_m, t.y_m)), t.name
        r, c = d.grid.rowcol(t.x_m, t.y_m)
        assert d.township_id[r, c] == i, t.name
    assert len({t.name for t in d.townships}) == 27
    assert abs(sum(p.area for p in polys) - d.outline.area) < 1e-3 * d.outline.area


def test_every_township_has_people(district100):
    d = district100
    per = np.bincount(d.township_id[d.mask], weights=d.population[d.mask], minlength=27)
    assert (per > 0).all()


def test_every_populated_cell_reaches_a_shelter_by_road(district100):
    d = district100
    csr = d.road_csr
    n = csr.node_x_m.size
    tails = np.repeat(np.arange(n), np.diff(csr.indptr))
    g = csr_matrix((csr.length_m, (tails, csr.head)), shape=(n, n))
    shelter_nodes = sorted({d.node_of(s.x_m, s.y_m) for s in d.shelters})
    # distance from every node TO the nearest shelter = search on the reversed graph
    dist = dijkstra(g.T.tocsr(), indices=shelter_nodes, min_only=True)
    populated_nodes = np.unique(d.cell_node[d.population > 0])
    assert (populated_nodes >= 0).all()
    assert np.isfinite(dist[populated_nodes]).all()


def test_roads_strongly_connected_with_attributes(district100):
    g = district100.roads
    assert nx.is_strongly_connected(g)
    classes = set()
    for u, v, data in g.edges(data=True):
        assert data["length_m"] >= np.hypot(g.nodes[u]["x"] - g.nodes[v]["x"], g.nodes[u]["y"] - g.nodes[v]["y"]) - 1e-6
        assert 0 < data["free_speed_kmh"] <= 120 and data["lanes"] >= 1 and data["capacity_veh_per_h"] > 0
        assert isinstance(data["bridge"], bool)
        classes.add(data["road_class"])
    assert classes == {"expressway", "trunk", "village"}
    assert any(d["bridge"] for _, _, d in g.edges(data=True))
    csr = district100.road_csr
    assert csr.indptr[-1] == g.number_of_edges() == csr.head.size


def test_bridges_are_where_roads_cross_big_rivers(district100):
    from sim.geo import load_rivers

    d = district100
    rivers = shapely.union_all(list(load_rivers().values()))
    for u, v, data in d.roads.edges(data=True):
        line = shapely.LineString([(d.road_csr.node_x_m[u], d.road_csr.node_y_m[u]),
                                   (d.road_csr.node_x_m[v], d.road_csr.node_y_m[v])])
        if not data["bridge"]:
            assert not line.intersects(rivers), (u, v, data["road_class"])


def test_river_cells_are_the_valley_lows(district100):
    d = district100
    z = d.terrain.elevation_m
    big = (d.terrain.river_id == 1) | (d.terrain.river_id == 2)
    assert 140 <= np.nanmin(z[big]) and np.nanmax(z[big]) <= 165  # reservoir-regulated channel beds
    # every land cell within 2 km stands above the nearest channel cell (the valley floor)
    dist, (ir, ic) = ndimage.distance_transform_edt(~big, return_indices=True)
    near = d.mask & ~big & (dist * d.grid.cell_size_m <= 2000)
    assert near.sum() > 10_000
    assert (z[near] > z[ir, ic][near]).all()
    # and the channel runs along the real centre-line: every centre-line cell inside is a channel cell
    from sim.geo import load_rivers

    for rid, line in enumerate(load_rivers().values(), start=1):
        on = d.grid.line_mask(line) & d.mask
        assert (d.terrain.river_id[on] == rid).mean() > 0.95
    assert np.nanmax(z) == pytest.approx(1985.0, abs=1.0)


def test_terrain_facts(district100):
    d = district100
    z = d.terrain.elevation_m

    def at(name):
        t = next(t for t in d.townships if t.name == name)
        r, c = d.grid.rowcol(t.x_m, t.y_m)
        return float(z[r, c])

    assert 640 <= at("龙潭镇") <= 700  # Longtan basin floor ~670 m
    assert at("武陵山乡") > 1000  # south-east upland
    assert np.nanmin(z[d.mask]) >= 130
    assert 0 <= np.nanmin(d.terrain.slope_deg) and np.nanmax(d.terrain.slope_deg) < 80
    trib = d.terrain.river_id == 3
    assert trib.sum() > 100
    assert {t.name for t in d.tributaries if t.named_from} == {"梨香溪 Lixiang Xi", "渠溪河 Quxi He"}


def test_land_cover_and_forest_share(district100):
    d = district100
    lc = d.land.land_cover
    land = d.mask & (lc != WATER)
    assert (lc[d.mask] > 0).all() and (lc[~d.mask] == 0).all()
    assert (lc[land] == FOREST).sum() / land.sum() == pytest.approx(0.52, abs=0.005)
    assert (lc == URBAN).sum() > 0
    assert (d.land.fuel_class[lc == FOREST] >= 2).all() and (d.land.fuel_class[lc == WATER] == 0).all()


def test_facility_counts_from_the_plan(district100):
    s = district100.summary()
    assert s["shelters"] == 29
    assert s["teams_by_level"] == {"district": 20, "township": 26, "village": 417, "enterprise": 30,
                                   "professional": 1}
    assert s["depots_by_tier"]["regional"] == 1 and s["depots_by_tier"]["township"] == 27
    assert s["townships"] == 27


def test_same_seed_same_arrays_and_other_seed_differs():
    spec = DistrictSpec(cell_size_m=400)
    a, b = build_district(spec), build_district(spec)
    for name in ("elevation_m", "flow_receiver", "river_id"):
        np.testing.assert_array_equal(getattr(a.terrain, name), getattr(b.terrain, name))
    for name in ("population", "households", "cell_node", "township_id"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.land.land_cover, b.land.land_cover)
    np.testing.assert_array_equal(a.road_csr.length_m, b.road_csr.length_m)
    c = build_district(DistrictSpec(cell_size_m=400, terrain_seed=1))
    assert not np.array_equal(a.terrain.elevation_m, c.terrain.elevation_m)


def test_cache_round_trip_and_rebuild_on_change(tmp_path, monkeypatch):
    monkeypatch.setenv("FULING_SIM_CACHE", str(tmp_path))
    spec = DistrictSpec(cell_size_m=450)
    built = load_district(spec)
    entries = list(tmp_path.glob("district-*"))
    assert len(entries) == 1
    again = load_district(spec)
    np.testing.assert_array_equal(built.population, again.population)
    np.testing.assert_array_equal(built.terrain.elevation_m, again.terrain.elevation_m)
    assert built.summary() == again.summary()
    assert nx.utils.graphs_equal(built.roads, again.roads)
    assert cache_key(DistrictSpec(cell_size_m=450, forest_share=0.5)) != cache_key(spec)
    load_district(DistrictSpec(cell_size_m=450, forest_share=0.5))
    assert len(list(tmp_path.glob("district-*"))) == 2
    assert not list(tmp_path.glob(".district-*"))  # no half-written entries


@pytest.mark.parametrize("cell", [250.0, 500.0])
def test_census_conserved_at_coarse_cells(cell):
    d = build_district(DistrictSpec(cell_size_m=cell))
    assert int(d.population.sum()) == 1_115_016 and int(d.population_urban.sum()) == 801_151
    assert nx.is_strongly_connected(d.roads)
