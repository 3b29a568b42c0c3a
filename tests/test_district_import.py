"""User data replaces generated layers: DEM, roads, facilities; bad files fail clearly, leaving nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from sim.district import build_district, load_district
from sim.geo import load_outline, to_wgs84
from sim.scenario import DistrictData, DistrictSpec, InputError

CELL = 500.0


def spec_with(**data) -> DistrictSpec:
    return DistrictSpec(cell_size_m=CELL, data=DistrictData(**data))


def write_dem(path: Path, crs: str | None = "EPSG:32648", shrink_km: float = 0.0, res: float = 1000.0) -> Path:
    minx, miny, maxx, maxy = load_outline().bounds
    minx, miny = minx - 3000 + shrink_km * 1000, miny - 3000
    maxx, maxy = maxx + 3000, maxy + 3000
    ncols, nrows = int((maxx - minx) / res) + 1, int((maxy - miny) / res) + 1
    xs = minx + np.arange(ncols) * res
    z = (200.0 + 0.01 * (xs - minx))[None, :].repeat(nrows, 0).astype("float32")
    profile = dict(driver="GTiff" if path.suffix == ".tif" else "AAIGrid", width=ncols, height=nrows, count=1,
                   dtype="float32", transform=from_origin(minx, maxy, res, res))
    if crs:
        profile["crs"] = CRS.from_string(crs)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


def test_geotiff_dem_replaces_terrain(tmp_path):
    dem = write_dem(tmp_path / "dem.tif")
    d = build_district(spec_with(dem_path=dem))
    assert d.terrain.source.startswith("user DEM")
    z = d.terrain.elevation_m[d.mask & (d.terrain.river_id != 3)]
    assert 190 < np.nanmin(z) and np.nanmax(z) < 1000  # the plane, not the generated mountains
    assert int(d.population.sum()) == 1_115_016


def test_esri_ascii_dem(tmp_path):
    dem = write_dem(tmp_path / "dem.asc", crs=None)
    d = build_district(spec_with(dem_path=dem))
    assert "dem.asc" in d.terrain.source and np.nanmax(d.terrain.elevation_m) < 1000


def test_dem_not_covering_outline_is_refused(tmp_path):
    dem = write_dem(tmp_path / "small.tif", shrink_km=30)
    with pytest.raises(InputError, match=r"small.tif: district.data.dem_path: the DEM does not cover the district"):
        build_district(spec_with(dem_path=dem))


def test_dem_in_wrong_crs_is_refused(tmp_path):
    dem = write_dem(tmp_path / "wrong.tif", crs="EPSG:3857")  # UTM numbers labelled as Web Mercator
    with pytest.raises(InputError, match=r"does not cover the district outline.*EPSG:3857"):
        build_district(spec_with(dem_path=dem))


def test_geotiff_without_crs_is_refused(tmp_path):
    dem = write_dem(tmp_path / "nocrs.tif", crs=None)
    with pytest.raises(InputError, match="has no CRS"):
        build_district(spec_with(dem_path=dem))


def _lattice_graph(step_m: float = 8000.0, lonlat: bool = False, drop_back: bool = False) -> nx.MultiDiGraph:
    minx, miny, maxx, maxy = load_outline().bounds
    g = nx.MultiDiGraph(crs="EPSG:4326" if lonlat else "EPSG:32648")
    xs = np.arange(minx + 2000, maxx, step_m)
    ys = np.arange(miny + 2000, maxy, step_m)
    idx = {}
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            n = f"n{i}_{j}"
            idx[(i, j)] = n
            if lonlat:
                lon, lat = to_wgs84().transform(x, y)
                g.add_node(n, x=float(lon), y=float(lat))
            else:
                g.add_node(n, x=float(x), y=float(y))
    for (i, j), n in idx.items():
        for di, dj in ((1, 0), (0, 1)):
            m = idx.get((i + di, j + dj))
            if m:
                g.add_edge(n, m, highway="primary", length=step_m)
                if not drop_back:
                    g.add_edge(m, n, highway="primary", length=step_m)
    return g


def test_graphml_roads_replace_generated(tmp_path):
    path = tmp_path / "roads.graphml"
    nx.write_graphml(_lattice_graph(), path)
    d = build_district(spec_with(roads_path=path))
    assert d.layer_sources["roads"].startswith("user")
    assert nx.is_strongly_connected(d.roads)
    e = next(iter(d.roads.edges(data=True)))[2]
    assert e["road_class"] == "trunk" and e["length_m"] == 8000.0 and e["capacity_veh_per_h"] > 0
    assert (d.cell_node[d.population > 0] >= 0).all()


def test_graphml_in_lonlat_is_projected(tmp_path):
    path = tmp_path / "roads_ll.graphml"
    nx.write_graphml(_lattice_graph(lonlat=True), path)
    d = build_district(spec_with(roads_path=path))
    assert d.road_csr.node_x_m.min() > 600_000  # metres, not degrees


def test_graphml_with_wrong_crs_is_refused(tmp_path):
    g = _lattice_graph(lonlat=True)
    g.graph["crs"] = "EPSG:32648"  # degrees labelled as metres
    path = tmp_path / "wrong.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(InputError, match=r"wrong.graphml: district.data.roads_path: only 0% of the road nodes"):
        build_district(spec_with(roads_path=path))


def test_disconnected_roads_are_refused(tmp_path):
    path = tmp_path / "oneway.graphml"
    nx.write_graphml(_lattice_graph(drop_back=True), path)
    with pytest.raises(InputError, match="not strongly connected"):
        build_district(spec_with(roads_path=path))


def test_osm_xml_roads(tmp_path):
    g = _lattice_graph(step_m=10_000.0, lonlat=True)
    ids = {n: i + 1 for i, n in enumerate(g.nodes)}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for n, d in g.nodes(data=True):
        lines.append(f'<node id="{ids[n]}" lat="{d["y"]:.7f}" lon="{d["x"]:.7f}" version="1"/>')
    way = 1
    for u, v in {(min(u, v), max(u, v)) for u, v in g.edges()}:
        lines.append(f'<way id="{way}" version="1"><nd ref="{ids[u]}"/><nd ref="{ids[v]}"/>'
                     '<tag k="highway" v="secondary"/><tag k="maxspeed" v="50"/></way>')
        way += 1
    lines.append("</osm>")
    path = tmp_path / "roads.osm"
    path.write_text("\n".join(lines), encoding="utf-8")
    d = build_district(spec_with(roads_path=path))
    assert nx.is_strongly_connected(d.roads)
    speeds = {e["free_speed_kmh"] for _, _, e in d.roads.edges(data=True)}
    assert speeds == {50.0}


def test_unsupported_road_format(tmp_path):
    p = tmp_path / "roads.shp"
    p.write_bytes(b"x")
    with pytest.raises(InputError, match=r"unsupported road format '.shp'.*GraphML"):
        build_district(spec_with(roads_path=p))


def test_shelters_csv_and_geojson(tmp_path):
    csv_path = tmp_path / "shelters.csv"
    csv_path.write_text("name,lon,lat,capacity_persons\nA school,107.39,29.70,1200\nB park,107.10,29.45,800\n",
                        encoding="utf-8")
    d = build_district(spec_with(shelters_path=csv_path))
    assert [s.capacity_persons for s in d.shelters] == [1200, 800]
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [107.2, 29.66]},
         "properties": {"name": "Linshi depot", "tier": "township", "sandbags": 9999}}]}
    gj_path = tmp_path / "depots.geojson"
    gj_path.write_text(json.dumps(gj), encoding="utf-8")
    d2 = build_district(spec_with(depots_path=gj_path))
    assert len(d2.depots) == 1 and d2.depots[0].stock["sandbags"] == 9999


def test_teams_csv(tmp_path):
    p = tmp_path / "teams.csv"
    p.write_text("name,lon,lat,size_persons,level,capabilities\nT1,107.39,29.70,25,district,flood_rescue;boat\n",
                 encoding="utf-8")
    d = build_district(spec_with(teams_path=p))
    assert d.teams[0].capabilities == ("flood_rescue", "boat") and d.teams[0].size_persons == 25


def test_bad_facility_row_names_row_and_field(tmp_path):
    p = tmp_path / "shelters.csv"
    p.write_text("name,lon,lat,capacity_persons\nok,107.39,29.70,10\nbad,107.39,29.70,-5\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"shelters.csv: row 2: capacity_persons: .*greater than or equal to 0"):
        build_district(spec_with(shelters_path=p))


def test_facility_outside_district_is_refused(tmp_path):
    p = tmp_path / "shelters.csv"
    p.write_text("name,lon,lat,capacity_persons\nChongqing,106.55,29.56,10\n", encoding="utf-8")
    with pytest.raises(InputError, match="lie outside the district"):
        build_district(spec_with(shelters_path=p))


def test_failed_build_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FULING_SIM_CACHE", str(tmp_path / "cache"))
    dem = write_dem(tmp_path / "small.tif", shrink_km=30)
    with pytest.raises(InputError):
        load_district(spec_with(dem_path=dem))
    assert not list((tmp_path / "cache").glob("*")) if (tmp_path / "cache").exists() else True


def test_user_file_change_triggers_rebuild(tmp_path, monkeypatch):
    monkeypatch.setenv("FULING_SIM_CACHE", str(tmp_path / "cache"))
    p = tmp_path / "shelters.csv"
    p.write_text("name,lon,lat,capacity_persons\nA,107.39,29.70,100\n", encoding="utf-8")
    assert load_district(spec_with(shelters_path=p)).shelters[0].capacity_persons == 100
    p.write_text("name,lon,lat,capacity_persons\nA,107.39,29.70,250\n", encoding="utf-8")
    assert load_district(spec_with(shelters_path=p)).shelters[0].capacity_persons == 250
    assert len(list((tmp_path / "cache").glob("district-*"))) == 2


def test_facility_rows_with_a_bad_kind_township_or_stock_are_refused(tmp_path):
    from sim import facilities as fac

    p = tmp_path / "shelters.csv"
    p.write_text("name,lon,lat,capacity_persons,kind\nA,107.39,29.70,10,shortterm\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1: kind: .*'short_term' or 'long_term'.*'shortterm'"):
        fac.read_shelters(p)
    p.write_text("name,lon,lat,capacity_persons,township\nA,107.39,29.70,10,Nowhere\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1: township: unknown township 'Nowhere'"):
        fac.read_shelters(p)
    p.write_text("name,lon,lat,capacity_persons,township\nA,107.39,29.70,10,Longtan\n", encoding="utf-8")
    assert fac.read_shelters(p)[0].township == "龙潭镇"  # aliases become the canonical name
    t = tmp_path / "teams.csv"
    t.write_text("name,lon,lat,size_persons,township\nT,107.39,29.70,10,Nowhere\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"teams.csv: row 1: township: unknown township 'Nowhere'"):
        fac.read_teams(t)
    d = tmp_path / "depots.csv"
    d.write_text("name,lon,lat,tier,water_l\nA,107.39,29.70,township,lots\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"depots.csv: row 1: water_l: 'lots' is not a stock count. Fix"):
        fac.read_depots(d)
    d.write_text("name,lon,lat,tier,water_l\nA,107.39,29.70,township,\n", encoding="utf-8")
    assert fac.read_depots(d)[0].stock["water_l"] == fac.TIER_STOCK["township"]["water_l"]
