"""Real Fuling geography from ``scenarios/fuling/``: outline, rivers, townships, villages.

Everything is read in WGS84 and projected to UTM zone 48N (EPSG:32648) metres.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Polygon, shape

from sim.paths import fuling_data_dir

CRS_WGS84 = "EPSG:4326"
CRS_UTM = "EPSG:32648"

BOUNDARY_FILES = {
    "cnmaps": "fuling_boundary_500102_cnmaps_wgs84.geojson",
    "vonng": "fuling_boundary_500102_vonng_wgs84.geojson",
}
RIVER_FILE = "rivers_gshhg_wdbii_fuling_bbox_wgs84.geojson"
RIVER_IDS = {"yangtze": 1561, "wu": 4742}


@lru_cache(maxsize=4)
def to_utm() -> Transformer:
    """Return the WGS84 → UTM 48N transformer (lon/lat order)."""
    return Transformer.from_crs(CRS_WGS84, CRS_UTM, always_xy=True)


@lru_cache(maxsize=4)
def to_wgs84() -> Transformer:
    """Return the UTM 48N → WGS84 transformer (x/y → lon/lat)."""
    return Transformer.from_crs(CRS_UTM, CRS_WGS84, always_xy=True)


def project_lonlat(lon: np.ndarray | float, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat (degrees) to UTM 48N x/y (metres)."""
    x, y = to_utm().transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def _project_geom(geom):
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = to_utm().transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


@dataclass(frozen=True)
class Township:
    """One of the 27 township-level units (real names, codes and centres)."""

    code: str
    name: str
    name_en: str
    kind: str
    lon: float
    lat: float
    x_m: float
    y_m: float
    centre_is_proxy: bool


@dataclass(frozen=True)
class Village:
    """A village or community from the NBS 2016 code list (real names; most locations unknown)."""

    code: str
    name: str
    township_code: str
    urban_rural_code: str


def load_outline(source: str = "cnmaps", data_dir: Path | None = None) -> Polygon:
    """Return the district outline projected to UTM metres (largest polygon part)."""
    data_dir = data_dir or fuling_data_dir()
    with open(data_dir / BOUNDARY_FILES[source], encoding="utf-8") as fh:
        gj = json.load(fh)
    geom = shape(gj["features"][0]["geometry"])
    if isinstance(geom, MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    poly = _project_geom(geom)
    return shapely.make_valid(poly) if not poly.is_valid else poly


def load_rivers(data_dir: Path | None = None) -> dict[str, LineString]:
    """Return the Yangtze and Wu centre-lines (UTM metres), ordered upstream → downstream."""
    data_dir = data_dir or fuling_data_dir()
    with open(data_dir / RIVER_FILE, encoding="utf-8") as fh:
        gj = json.load(fh)
    by_id = {f["properties"]["gshhg_wdbii_id"]: shape(f["geometry"]) for f in gj["features"]}
    rivers = {name: _project_geom(by_id[i]) for name, i in RIVER_IDS.items()}
    # Orient upstream -> downstream: both rivers run towards the confluence at the city, and the
    # Yangtze leaves to the north-east (Fengdu side).
    yz = rivers["yangtze"]
    if yz.coords[0][0] > yz.coords[-1][0]:
        rivers["yangtze"] = LineString(list(yz.coords)[::-1])
    wu = rivers["wu"]
    if wu.coords[0][1] > wu.coords[-1][1]:
        rivers["wu"] = LineString(list(wu.coords)[::-1])
    return rivers


def load_townships(data_dir: Path | None = None) -> list[Township]:
    """Return the 27 townships with projected centres, in the file's (NBS code) order."""
    data_dir = data_dir or fuling_data_dir()
    en: dict[str, str] = {}
    with open(data_dir / "township_names_en.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            en[row["code_nbs_2016"]] = row["name_en"]
    out = []
    with open(data_dir / "fuling_townships_27.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            lon, lat = float(row["lon_wgs84"]), float(row["lat_wgs84"])
            x, y = project_lonlat(lon, lat)
            name = row["name_current"]
            kind = "subdistrict" if name.endswith("街道") else ("town" if name.endswith("镇") else "township")
            out.append(Township(row["code_nbs_2016"], name, en[row["code_nbs_2016"]], kind, lon, lat,
                                float(x), float(y), bool(row["note"].startswith("no centre"))))
    return out


def load_villages(data_dir: Path | None = None) -> list[Village]:
    """Return the 421 villages/communities of the NBS 2016 list with their urban-rural class codes.

    NBS urban-rural codes: 111 main urban area, 112 urban-rural fringe, 121 town centre, 122 town
    fringe (all *urban*); 210 township centre, 220 village (*rural*).
    """
    data_dir = data_dir or fuling_data_dir()
    out = []
    with open(data_dir / "vonng_adcode_500102.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["level"] == "village":
                out.append(Village(row["code"], row["name"], row["parent"], row["ur_code"]))
    return out
