"""Shelters, supply depots and rescue forces (counts from the district plan, PLAN_FACTS §2).

Counts and kinds are real (the 14th Five-Year emergency plan); locations, capacities, stock and team
sizes are assumptions, labelled in ``source``. A CSV or GeoJSON file can replace each layer.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from sim.geo import Township, Village, project_lonlat
from sim.yamlio import InputError

ITEMS = ("water_l", "food_rations", "tents", "blankets", "sandbags", "pumps", "fire_kits", "medical_kits")

# Stock per depot by tier (assumptions; the plan gives the tiers and the regional depot's ~2,000 m²).
TIER_STOCK = {
    "regional": dict(water_l=200_000, food_rations=100_000, tents=2_000, blankets=10_000, sandbags=200_000,
                     pumps=40, fire_kits=200, medical_kits=2_000),
    "district": dict(water_l=50_000, food_rations=30_000, tents=500, blankets=3_000, sandbags=50_000,
                     pumps=10, fire_kits=40, medical_kits=500),
    "township": dict(water_l=5_000, food_rations=3_000, tents=50, blankets=300, sandbags=5_000,
                     pumps=2, fire_kits=5, medical_kits=50),
    "village": dict(water_l=500, food_rations=200, tents=5, blankets=30, sandbags=500,
                    pumps=0, fire_kits=1, medical_kits=5),
}

# District teams: the plan's professional specialities, 20 teams (split is an assumption).
DISTRICT_TEAM_TYPES = [
    ("forest_fire", 2), ("flood_drought", 3), ("geohazard_earthquake", 2), ("water_rescue", 2),
    ("mining", 1), ("hazardous_chemicals", 2), ("industry", 1), ("tunnel", 1), ("communications", 1),
    ("power", 1), ("road_transport", 1), ("city_management", 1), ("health", 1), ("environment", 1),
]
SPECIALITY_ZH = {
    "forest_fire": "森林消防", "flood_drought": "防汛抗旱", "geohazard_earthquake": "地震地质灾害",
    "water_rescue": "水上", "mining": "矿山", "hazardous_chemicals": "危化品", "industry": "工贸",
    "tunnel": "隧道", "communications": "通信保障", "power": "电力", "road_transport": "道路运输",
    "city_management": "城市管理", "health": "医疗卫生", "environment": "环境应急",
}
CAPABILITIES = {
    "forest_fire": ("fire_suppression", "firebreak"),
    "flood_drought": ("flood_rescue", "embankment", "pumping", "evacuation"),
    "geohazard_earthquake": ("search_rescue", "debris_clearance"),
    "water_rescue": ("flood_rescue", "boat"),
    "mining": ("search_rescue",),
    "hazardous_chemicals": ("hazmat", "fire_suppression"),
    "industry": ("hazmat", "search_rescue"),
    "tunnel": ("search_rescue", "debris_clearance"),
    "communications": ("communications",),
    "power": ("power_restoration",),
    "road_transport": ("debris_clearance", "transport"),
    "city_management": ("evacuation", "pumping"),
    "health": ("medical",),
    "environment": ("hazmat",),
}


@dataclass(frozen=True)
class Shelter:
    """An emergency shelter (应急避难场所)."""

    shelter_id: int
    name: str
    kind: str  # short_term | long_term
    township: str
    capacity_persons: int
    x_m: float
    y_m: float
    source: str


@dataclass(frozen=True)
class Depot:
    """A supply depot (应急物资储备) with stock per item of ``ITEMS``."""

    depot_id: int
    name: str
    tier: str  # regional | district | township | village
    township: str
    x_m: float
    y_m: float
    stock: dict[str, int] = field(default_factory=dict)
    source: str = "generated"


@dataclass(frozen=True)
class Team:
    """A rescue force unit (救援队伍)."""

    team_id: int
    name: str
    level: str  # district | township | village | enterprise | professional
    speciality: str
    township: str
    size_persons: int
    capabilities: tuple[str, ...]
    equipment: dict[str, int]
    x_m: float
    y_m: float
    source: str = "generated"


def _loc(towns: dict[str, Township], name: str, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    t = towns[name]
    return t.x_m + dx, t.y_m + dy


def default_shelters(townships: list[Township], capacity: int, stadium_capacity: int,
                     park_capacity: int) -> list[Shelter]:
    """27 township short-term shelters at the centres, the stadium and Baihe Forest Park."""
    out = [Shelter(i, f"{t.name}应急避难场所 {t.name_en} shelter", "short_term", t.name, capacity,
                   t.x_m, t.y_m, "count from plan; location = township centre (generated)")
           for i, t in enumerate(townships)]
    sx, sy = project_lonlat(107.3870, 29.7015)  # Fuling stadium (涪陵体育场), approximate
    out.append(Shelter(len(out), "涪陵体育场 Fuling Stadium (long-term)", "long_term", "荔枝街道",
                       stadium_capacity, float(sx), float(sy), "plan; location approximate (public map point)"))
    px, py = project_lonlat(107.398, 29.690)  # south-bank old city, approximate
    out.append(Shelter(len(out), "白鹤森林公园 Baihe Forest Park (long-term)", "long_term", "敦仁街道",
                       park_capacity, float(px), float(py), "plan; location approximate (south bank)"))
    return out


def default_depots(townships: list[Township], villages: list[Village],
                   village_xy: dict[str, tuple[float, float]]) -> list[Depot]:
    """Regional depot, 2 district depots, 27 township points and one storage room per village."""
    towns = {t.name: t for t in townships}
    code_to_name = {t.code: t.name for t in townships}
    out: list[Depot] = []

    def add(name: str, tier: str, township: str, xy: tuple[float, float], source: str) -> None:
        out.append(Depot(len(out), name, tier, township, float(xy[0]), float(xy[1]),
                         dict(TIER_STOCK[tier]), source))

    add("重庆市应急物资区域储备库(涪陵) Regional reserve depot", "regional", "龙桥街道",
        _loc(towns, "龙桥街道", 1500, 0), "plan (~2,000 m²); location generated")
    add("区级应急物资库(江南) District depot south", "district", "荔枝街道", _loc(towns, "荔枝街道", -800, -600),
        "assumption: 2 district depots; location generated")
    add("区级应急物资库(江北) District depot north", "district", "李渡街道", _loc(towns, "李渡街道", 600, 400),
        "assumption: 2 district depots; location generated")
    for t in townships:
        add(f"{t.name}物资储备点 township point", "township", t.name, (t.x_m, t.y_m),
            "plan tier; location = township centre (generated)")
    for v in villages:
        tname = code_to_name.get(v.township_code)
        if tname is None or v.code not in village_xy:
            continue
        add(f"{v.name}储备室 village store", "village", tname, village_xy[v.code],
            "plan tier; village name real (NBS 2016), location generated")
    return out


def default_teams(townships: list[Township], villages: list[Village],
                  village_xy: dict[str, tuple[float, float]], forest_team_base: str = "江北街道") -> list[Team]:
    """20 district teams, 26 township brigades, 417 village squads, 30 enterprise teams, 1 forest team."""
    towns = {t.name: t for t in townships}
    code_to_name = {t.code: t.name for t in townships}
    out: list[Team] = []

    def add(name, level, spec, township, size, xy, equipment, source="count from plan; size and base assumed"):
        out.append(Team(len(out), name, level, spec, township, int(size), CAPABILITIES.get(spec, ("search_rescue",)),
                        equipment, float(xy[0]), float(xy[1]), source))

    city = ["敦仁街道", "崇义街道", "荔枝街道", "江北街道", "江东街道"]
    k = 0
    for spec, n in DISTRICT_TEAM_TYPES:
        for j in range(n):
            base = city[k % len(city)]
            add(f"区{SPECIALITY_ZH[spec]}救援队{j + 1} district {spec} team {j + 1}", "district", spec, base, 40,
                _loc(towns, base), {"vehicles": 4, "boats": 2 if "flood" in spec or "water" in spec else 0,
                                    "fire_kits": 20 if spec == "forest_fire" else 0})
            k += 1
    # township brigades: 26 of 27 (assumption: the seat 敦仁街道 is covered by the district teams)
    for t in townships:
        if t.name == "敦仁街道":
            continue
        add(f"{t.name}应急救援大队 {t.name_en} brigade", "township", "general", t.name, 30, (t.x_m, t.y_m),
            {"vehicles": 2, "boats": 1, "fire_kits": 5, "pumps": 1})
    # village squads: 417 (plan) — all rural villages, then urban communities in code order
    rural = [v for v in villages if v.urban_rural_code.startswith("2")]
    urban = [v for v in villages if v.urban_rural_code.startswith("1")]
    for v in (rural + urban)[:417]:
        tname = code_to_name.get(v.township_code)
        if tname is None or v.code not in village_xy:
            continue
        add(f"{v.name}应急救援中队 village squad", "village", "general", tname, 10, village_xy[v.code],
            {"fire_kits": 1}, "count from plan; village name real (NBS 2016); location generated")
    # enterprise teams: chemical parks (白涛, 临港 ~ 龙桥) and others — split is an assumption
    for j in range(30):
        base = "白涛街道" if j < 15 else ("龙桥街道" if j < 25 else "李渡街道")
        add(f"企业专兼职救援队{j + 1} enterprise team {j + 1}", "enterprise", "hazardous_chemicals", base, 15,
            _loc(towns, base, 300 * (j % 5), 200 * (j % 3)), {"vehicles": 1, "fire_kits": 4})
    add("区森林消防专业队 professional forest-fire team", "professional", "forest_fire", forest_team_base, 60,
        _loc(towns, forest_team_base), {"vehicles": 6, "fire_kits": 60, "pumps": 4},
        "plan (to be upgraded; 200+ equipment sets district-wide); size and base assumed")
    return out


# ---------------------------------------------------------------------------------------------- import
def _township_or_blank(name: str) -> str:
    """Return a row's township: blank, or one of the 27 (an alias such as 'Longtan' becomes 龙潭镇)."""
    if not name:
        return name
    from sim.scenario import _check_township

    return _check_township(name)


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    lon: float = Field(ge=106.0, le=108.5)
    lat: float = Field(ge=28.5, le=30.8)
    name: str = Field(min_length=1)


class _ShelterRow(_Row):
    capacity_persons: int = Field(ge=0, le=500_000)
    kind: Literal["short_term", "long_term"] = "short_term"
    township: Annotated[str, AfterValidator(_township_or_blank)] = ""


class _DepotRow(_Row):
    tier: str = Field("township", pattern="^(regional|district|township|village)$")
    township: Annotated[str, AfterValidator(_township_or_blank)] = ""


class _TeamRow(_Row):
    level: str = Field("district", pattern="^(district|township|village|enterprise|professional)$")
    township: Annotated[str, AfterValidator(_township_or_blank)] = ""
    speciality: str = "general"
    size_persons: int = Field(ge=1, le=5000)
    capabilities: str = ""


def _read_rows(path: Path, what: str) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: district.data.{what}_path: file not found. Fix: check the path")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = [dict(r) for r in csv.DictReader(fh)]
    elif suffix in (".geojson", ".json"):
        try:
            gj = json.loads(path.read_text(encoding="utf-8"))
            rows = []
            for f in gj["features"]:
                lon, lat = f["geometry"]["coordinates"][:2]
                rows.append({**f.get("properties", {}), "lon": lon, "lat": lat})
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: district.data.{what}_path: not a GeoJSON FeatureCollection of points "
                             f"({exc}). Fix: each feature needs Point geometry [lon, lat] and properties") from None
    else:
        raise InputError(f"{path}: district.data.{what}_path: unsupported format {suffix!r}. "
                         "Fix: give a .csv (columns lon, lat, name, …) or a .geojson of points")
    if not rows:
        raise InputError(f"{path}: district.data.{what}_path: the file has no rows. Fix: add at least one")
    return rows


def _validated(path: Path, rows: list[dict], model: type[_Row], what: str) -> list[_Row]:
    out = []
    for i, row in enumerate(rows, start=1):
        clean = {k: v for k, v in row.items() if v not in ("", None)}
        try:
            out.append(model.model_validate(clean))
        except ValidationError as exc:
            e = exc.errors()[0]
            field_name = ".".join(str(p) for p in e["loc"])
            raise InputError(f"{path}: row {i}: {field_name}: {e['msg'].removeprefix('Value error, ')} "
                             f"(got {str(e.get('input'))[:80]!r}). Fix: {what} rows need "
                             f"{', '.join(k for k, f in model.model_fields.items() if f.is_required())}"
                             " (WGS84 lon/lat in degrees)") from None
    return out


def read_shelters(path: Path) -> list[Shelter]:
    """Read shelters from CSV/GeoJSON (lon, lat, name, capacity_persons[, kind, township])."""
    rows = _validated(path, _read_rows(path, "shelters"), _ShelterRow, "shelter")
    out = []
    for i, r in enumerate(rows):
        x, y = project_lonlat(r.lon, r.lat)
        out.append(Shelter(i, r.name, r.kind, r.township, r.capacity_persons, float(x), float(y), f"user: {path}"))
    return out


def read_depots(path: Path) -> list[Depot]:
    """Read depots from CSV/GeoJSON (lon, lat, name, tier[, township, <item> stock columns])."""
    rows = _validated(path, _read_rows(path, "depots"), _DepotRow, "depot")
    out = []
    for i, r in enumerate(rows):
        x, y = project_lonlat(r.lon, r.lat)
        extra = r.model_extra or {}
        stock = {}
        for item in ITEMS:
            value = extra.get(item, TIER_STOCK[r.tier][item])
            try:
                stock[item] = int(float(value))
                if not 0 <= stock[item] <= 10**9:
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                raise InputError(f"{path}: row {i + 1}: {item}: {value!r} is not a stock count. Fix: a whole "
                                 f"number 0–1,000,000,000 (or leave the cell empty for the {r.tier} default "
                                 f"{TIER_STOCK[r.tier][item]})") from None
        out.append(Depot(i, r.name, r.tier, r.township, float(x), float(y), stock, f"user: {path}"))
    return out


def read_teams(path: Path) -> list[Team]:
    """Read teams from CSV/GeoJSON (lon, lat, name, size_persons[, level, speciality, capabilities])."""
    rows = _validated(path, _read_rows(path, "teams"), _TeamRow, "team")
    out = []
    for i, r in enumerate(rows):
        x, y = project_lonlat(r.lon, r.lat)
        caps = tuple(c.strip() for c in r.capabilities.split(";") if c.strip()) or CAPABILITIES.get(
            r.speciality, ("search_rescue",))
        out.append(Team(i, r.name, r.level, r.speciality, r.township, r.size_persons, caps, {},
                        float(x), float(y), f"user: {path}"))
    return out


def village_locations(villages: list[Village], townships: list[Township], node_kind: np.ndarray,
                      node_x: np.ndarray, node_y: np.ndarray,
                      node_township: np.ndarray) -> dict[str, tuple[float, float]]:
    """Place each village at a village road node of its township (nearest to the centre first, cycling)."""
    code_to_idx = {t.code: i for i, t in enumerate(townships)}
    out: dict[str, tuple[float, float]] = {}
    by_tw: dict[int, list[Village]] = {}
    for v in villages:
        if v.township_code in code_to_idx:
            by_tw.setdefault(code_to_idx[v.township_code], []).append(v)
    for t_idx, vs in by_tw.items():
        t = townships[t_idx]
        cand = np.flatnonzero((node_township == t_idx) & (node_kind == "village"))
        if cand.size == 0:
            cand = np.flatnonzero(node_township == t_idx)
        if cand.size == 0:  # imported networks may have no node inside a small township
            cand = np.arange(node_x.size)
        d = np.hypot(node_x[cand] - t.x_m, node_y[cand] - t.y_m)
        cand = cand[np.argsort(d, kind="stable")]
        for j, v in enumerate(sorted(vs, key=lambda v: v.code)):
            n = cand[j % cand.size]
            out[v.code] = (float(node_x[n]), float(node_y[n]))
    return out
