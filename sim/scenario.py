"""Scenario files: schemas, loading, dotted-path overrides and validation messages.

A run is *district × hazard × plan × run settings*. Each part is a YAML file (``kind: district`` …) or an
inline mapping in a run file (``kind: run``), which may point to the others by a path relative to itself.
Schemas are pydantic v2 models: frozen, ``extra="forbid"``, bounded numbers, units in keys. Nothing past
:func:`load_scenario` sees a raw dict. Every error names the file, the dotted field, what is wrong and
what a valid value looks like.
"""

from __future__ import annotations

import datetime
import difflib
import reprlib
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.paths import fuling_data_dir, scenarios_dir
from sim.yamlio import InputError, load_yaml_file, parse_yaml

__all__ = [
    "DistrictData",
    "DistrictSpec",
    "HazardSpec",
    "InputError",
    "Plan",
    "RunSettings",
    "Scenario",
    "apply_overrides",
    "default_scenario_path",
    "load_component",
    "load_scenario",
    "validate_files",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


# ---------------------------------------------------------------------------------------------- district
class DistrictData(_Frozen):
    """User data that replaces a generated layer. Paths are relative to the file that names them."""

    dem_path: Path | None = Field(None, description="GeoTIFF (.tif) or ESRI ASCII grid (.asc) DEM, metres")
    roads_path: Path | None = Field(None, description="road network as GraphML (.graphml) or OSM XML (.osm)")
    shelters_path: Path | None = Field(None, description="shelters as CSV or GeoJSON (lon, lat, capacity)")
    depots_path: Path | None = Field(None, description="supply depots as CSV or GeoJSON")
    teams_path: Path | None = Field(None, description="rescue teams as CSV or GeoJSON")


class DistrictSpec(_Frozen):
    """How to build the Fuling district: grid, generated layers and their assumptions."""

    kind: Literal["district"] = "district"
    name: str = Field("涪陵区 Fuling District", min_length=1, max_length=80)
    boundary_source: Literal["cnmaps", "vonng"] = Field(
        "cnmaps", description="which real district outline to use (both Amap-derived, WGS84)")
    cell_size_m: float = Field(100.0, ge=30.0, le=500.0, description="grid cell edge, metres")
    terrain_seed: int = Field(20220207, ge=0, le=2**32 - 1, description="seed of the generated layers")
    forest_share: float = Field(
        0.52, ge=0.0, le=0.9, description="forest share of land cells (assumption; Chongqing 2022: 55 %)")
    household_size_persons: float = Field(
        2.45, ge=1.0, le=8.0, description="average persons per household (Chongqing 2020 census: 2.45)")
    urban_density_per_km2: float = Field(
        9000.0, ge=500.0, le=60000.0, description="residents per km² of built-up land (assumption)")
    population_total: int = Field(1_115_016, ge=0, le=5_000_000, description="2020 census residents")
    population_urban: int = Field(801_151, ge=0, le=5_000_000, description="2020 census urban residents")
    resettlement_elevation_m: float = Field(
        177.0, ge=0.0, le=400.0,
        description="no homes below this elevation, m a.s.l. (Three Gorges 175 m pool resettlement; assumption)")
    shelter_capacity_persons: int = Field(
        3000, ge=0, le=200_000, description="capacity of each township short-term shelter (assumption)")
    stadium_capacity_persons: int = Field(
        20_000, ge=0, le=500_000, description="capacity of the stadium long-term shelter (assumption)")
    forest_park_capacity_persons: int = Field(
        10_000, ge=0, le=500_000, description="capacity of Baihe Forest Park shelter (assumption)")
    gdp_cny: float = Field(
        1504.37e8, ge=0.0, le=1e13,
        description="gross domestic product, CNY per year (real: 2022 statistical bulletin, 1,504.37 亿元); "
                    "the denominator of T6 direct loss / GDP")
    village_spacing_m: float = Field(
        1500.0, ge=300.0, le=10_000.0, description="spacing of generated village road nodes, metres")
    tributary_min_area_km2: float = Field(
        25.0, ge=1.0, le=2000.0, description="catchment area above which a generated stream is drawn")
    data: DistrictData = Field(default_factory=DistrictData)

    @model_validator(mode="after")
    def _urban_le_total(self) -> DistrictSpec:
        if self.population_urban > self.population_total:
            raise ValueError(
                f"population_urban ({self.population_urban}) exceeds population_total "
                f"({self.population_total}); e.g. 801151 of 1115016 (2020 census)")
        return self


# ---------------------------------------------------------------------------------------------- hazard
@lru_cache(maxsize=1)
def township_names() -> dict[str, str]:
    """Return accepted township spellings → canonical Chinese name (real 27 units)."""
    import csv

    data = fuling_data_dir()
    en = {}
    with open(data / "township_names_en.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            en[row["code_nbs_2016"]] = row["name_en"]
    names: dict[str, str] = {}
    with open(data / "fuling_townships_27.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            canon = row["name_current"]
            for alias in {canon, row["name"], en[row["code_nbs_2016"]], en[row["code_nbs_2016"]].lower()}:
                names[alias] = canon
    return names


def _check_township(name: str) -> str:
    names = township_names()
    if name in names:
        return names[name]
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"unknown township {name!r}; {hint}use one of the 27, e.g. '龙潭镇' or 'Longtan'")


Township = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_check_township)]


class Series(_Frozen):
    """A piecewise-linear time series (values between knots are interpolated)."""

    time_h: list[Annotated[float, Field(ge=0.0, le=8760.0)]] = Field(min_length=1, max_length=10_000)

    @field_validator("time_h")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("times must be strictly increasing, e.g. [0, 6, 12, 24]")
        return v

    def _check_len(self, values: list[float], name: str) -> None:
        if len(values) != len(self.time_h):
            raise ValueError(f"{name} has {len(values)} values but time_h has {len(self.time_h)}; "
                             "give one value per time")


class Hydrograph(Series):
    """River discharge entering the district."""

    river: Literal["yangtze", "wu"] = Field(description="where the inflow enters: Yangtze or Wu River")
    discharge_m3s: list[Annotated[float, Field(ge=0.0, le=150_000.0)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_length(self) -> Hydrograph:
        self._check_len(self.discharge_m3s, "discharge_m3s")
        return self


class StageSeries(Series):
    """Water level held at the Yangtze exit, varying in time (the Three Gorges backwater during a flood)."""

    stage_m: list[Annotated[float, Field(ge=145.0, le=200.0)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _same_length(self) -> StageSeries:
        self._check_len(self.stage_m, "stage_m")
        return self

    def at(self, t_h: float) -> float:
        """Interpolated stage at ``t_h`` hours (held flat outside the knots), m a.s.l."""
        import numpy as np

        return float(np.interp(t_h, self.time_h, self.stage_m))


class Rainfall(Series):
    """Rain intensity over the district or one township."""

    intensity_mm_per_h: list[Annotated[float, Field(ge=0.0, le=300.0)]] = Field(min_length=1)
    township: Township | None = Field(None, description="centre of the storm; None = district-wide")
    radius_km: float = Field(15.0, ge=0.5, le=200.0, description="storm radius around the township centre")

    @model_validator(mode="after")
    def _same_length(self) -> Rainfall:
        self._check_len(self.intensity_mm_per_h, "intensity_mm_per_h")
        return self


class FloodHazard(_Frozen):
    """River or flash flood forcing."""

    inflows: list[Hydrograph] = Field(default_factory=list, max_length=10)
    downstream_stage_m: float = Field(
        160.0, ge=145.0, le=175.0, description="Three Gorges backwater level at the outlet, m a.s.l.")
    downstream_stage: StageSeries | None = Field(
        None, description="time-varying exit level (overrides downstream_stage_m), e.g. the backwater rising "
                          "with the flood: {time_h: [0, 40, 72], stage_m: [168, 176, 172]}")
    channel_manning_n: float = Field(
        0.030, ge=0.01, le=0.2,
        description="Manning n of the big-river channel cells, s/m^(1/3) (calibration knob for the generated "
                    "channel; 0.030 = clean natural channel, Chow 1959)")
    rain: Rainfall | None = None

    @model_validator(mode="after")
    def _has_forcing(self) -> FloodHazard:
        if not self.inflows and self.rain is None:
            raise ValueError("a flood needs at least one inflow hydrograph or a rainfall series")
        return self


class Ignition(_Frozen):
    """One fire start (WGS84)."""

    lon: float = Field(ge=106.9, le=107.75, description="longitude, degrees E (WGS84)")
    lat: float = Field(ge=29.3, le=30.05, description="latitude, degrees N (WGS84)")
    time_h: float = Field(0.0, ge=0.0, le=8760.0)


class FireHazard(_Frozen):
    """Wildfire weather and ignitions."""

    ignitions: list[Ignition] = Field(default_factory=list, max_length=1000)
    random_ignitions_per_day: float = Field(0.0, ge=0.0, le=100.0)
    wind_speed_m_s: float = Field(3.0, ge=0.0, le=40.0)
    wind_from_deg: float = Field(180.0, ge=0.0, le=360.0, description="direction the wind blows from")
    fuel_moisture_pct: float = Field(10.0, ge=2.0, le=40.0)
    spotting: bool = False

    @model_validator(mode="after")
    def _has_ignitions(self) -> FireHazard:
        if not self.ignitions and self.random_ignitions_per_day == 0:
            raise ValueError("a fire needs ignitions or random_ignitions_per_day > 0")
        return self


class LandslideHazard(_Frozen):
    """Rainfall-triggered slope failures."""

    rain: Rainfall
    susceptibility_scale: float = Field(1.0, ge=0.0, le=5.0, description="multiplier on failure odds")


class _Named(_Frozen):
    """Bilingual name and description shared by hazard and plan files."""

    name: str = Field(min_length=1, max_length=80, description="short English name, e.g. baseline")
    name_zh: str = Field("", max_length=80, description="中文名称")
    description: str = Field("", max_length=4000)


class HazardSpec(_Named):
    """A hazard scenario: one or more hazards on the shared clock (a chain)."""

    kind: Literal["hazard"] = "hazard"
    start_time: str = Field("2020-08-19T00:00", pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$",
                            description="scenario clock origin, local time, e.g. 2020-08-19T00:00")
    flood: FloodHazard | None = None
    fire: FireHazard | None = None
    landslide: LandslideHazard | None = None
    annual_frequency_per_year: float | None = Field(
        None, gt=0.0, le=365.0,
        description="how often an event like this happens, per year; lets the scorecard turn per-event figures "
                    "into this hazard's contribution to the annual targets (T2, T4, T5, T6). None = per event only")
    frequency_source: str = Field("", max_length=1000, description="where the frequency comes from "
                                                                    "(or 'assumption: …')")

    @field_validator("start_time")
    @classmethod
    def _real_time(cls, v: str) -> str:
        try:
            datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M")
        except ValueError:
            raise ValueError("not a real date and time (month 01–12, day of that month, hour 00–23, "
                             "minute 00–59)") from None
        return v

    @model_validator(mode="after")
    def _some_hazard(self) -> HazardSpec:
        if self.flood is None and self.fire is None and self.landslide is None:
            raise ValueError("a hazard file needs at least one of: flood, fire, landslide")
        return self


# ---------------------------------------------------------------------------------------------- plan
Level = Literal["blue", "yellow", "orange", "red"]
Channel = Literal["cell_broadcast_sms", "emergency_broadcast", "tv_internet", "loudspeaker", "grid_worker"]


class WarningPlan(_Frozen):
    """When and how warnings go out."""

    lead_time_min: float = Field(60.0, ge=0.0, le=2880.0, description="issue lead before forecast onset")
    lead_time_min_by_level: dict[Level, Annotated[float, Field(ge=0.0, le=2880.0)]] = Field(
        default_factory=dict, description="per-level forecast lead that overrides lead_time_min, "
                                          "e.g. {blue: 720, red: 60}: early blue watches, confirmed red orders")
    river_stage_triggers_m: dict[Level, Annotated[float, Field(ge=145.0, le=200.0)]] = Field(
        default_factory=lambda: {"blue": 175.0, "yellow": 177.0, "orange": 179.0, "red": 181.0},
        description="river stage (m a.s.l.) at which each level is issued")
    channels: list[Channel] = Field(
        default_factory=lambda: ["cell_broadcast_sms", "emergency_broadcast", "loudspeaker", "grid_worker"],
        min_length=1)
    relay_delay_factor: float = Field(1.0, ge=0.05, le=5.0,
                                      description="× the relay delays of the chain 市→区→乡镇→村 (a faster release "
                                                  "system < 1)")

    @field_validator("channels")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        twice = sorted({c for c in v if v.count(c) > 1})
        if twice:
            raise ValueError(f"channel(s) {', '.join(twice)} listed more than once (each channel reaches a "
                             "household once); list each channel once")
        return v

    @field_validator("river_stage_triggers_m")
    @classmethod
    def _monotone(cls, v: dict[str, float]) -> dict[str, float]:
        order = [lvl for lvl in ("blue", "yellow", "orange", "red") if lvl in v]
        vals = [v[lvl] for lvl in order]
        if any(b < a for a, b in zip(vals, vals[1:], strict=False)):
            raise ValueError("trigger stages must rise with the level (blue ≤ yellow ≤ orange ≤ red), "
                             "e.g. {blue: 175, yellow: 177, orange: 179, red: 181}")
        return v


class EvacuationPlan(_Frozen):
    """Who is ordered to leave, and when."""

    order_level: Level = Field("orange", description="warning level at which evacuation is ordered")
    townships: list[Township] = Field(default_factory=list, description="empty = every exposed township")
    township_order_level: dict[Township, Level] = Field(
        default_factory=dict, description="per-township rule that overrides order_level, e.g. {龙潭镇: yellow}")
    destination: Literal["nearest", "township"] = Field(
        "nearest", description="where evacuees go: the nearest open shelter, or their own township's shelter "
                               "(then the nearest open one when it is full)")


Season = Literal["flood_season", "fire_season", "other"]


class ExtraTeam(_Frozen):
    """Teams a plan adds to the district's forces (e.g. a new professional team)."""

    name: str = Field(min_length=1, max_length=80, description="label, e.g. 龙潭防汛突击队 Longtan flood squad")
    speciality: Literal["forest_fire", "flood_drought", "geohazard_earthquake", "water_rescue", "general"] = Field(
        "general", description="sets what the team can do (general = evacuation help, rescue, debris, fire)")
    township: Township = Field(description="where the team waits")
    size_persons: int = Field(30, ge=1, le=500)
    count: int = Field(1, ge=1, le=50, description="how many such teams")


class Preposition(_Frozen):
    """Move the district teams of one speciality to wait in a township (pre-positioning, 前置)."""

    speciality: Literal["forest_fire", "flood_drought", "geohazard_earthquake", "water_rescue"]
    township: Township


class TeamsPlan(_Frozen):
    """Rescue-force readiness: standby by season, pre-positioning, the forest-fire team, added teams."""

    standby_share: float = Field(0.5, ge=0.0, le=1.0, description="share of teams on standby at start")
    standby_share_by_season: dict[Season, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict, description="overrides standby_share in that season (season from the hazard's "
                                          "start_time month, see flood_season_months / fire_season_months)")
    flood_season_months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: [5, 6, 7, 8, 9], description="months of the flood season 汛期 (assumption)")
    fire_season_months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 10, 11, 12],
        description="months of the forest-fire prevention season 森林防火期 outside the flood season (assumption)")
    forest_team_base: Township = Field("江北街道", description="township where the forest-fire team waits")
    forest_team_size_persons: int = Field(60, ge=0, le=1000,
                                          description="members of the professional forest-fire team (0 = none)")
    village_squads_share: float = Field(1.0, ge=0.0, le=1.0,
                                        description="share of the 417 village squads trained and mobilisable")
    preposition: list[Preposition] = Field(default_factory=list, max_length=50)
    extra: list[ExtraTeam] = Field(default_factory=list, max_length=100)
    work_rate_factor: float = Field(1.0, ge=0.2, le=5.0,
                                    description="× the teams' work rates (rescue, helping evacuees, sandbagging); "
                                                "training raises it")


class PrepositionedStock(_Frozen):
    """Stock placed at a township's supply point before the event (前置物资)."""

    township: Township
    items: dict[Literal["water_l", "food_rations", "tents", "blankets", "sandbags", "pumps", "fire_kits",
                        "medical_kits"], Annotated[float, Field(ge=0.0, le=1e7)]] = Field(min_length=1)


class DepotsPlan(_Frozen):
    """Supply stock levels and pre-positioning."""

    stock_multiplier: float = Field(1.0, ge=0.0, le=10.0, description="× the district's default stock")
    regional_depot: bool = Field(True, description="the regional reserve depot (区域性应急物资储备库, key "
                                                   "project 15) is built and stocked")
    prepositioned: list[PrepositionedStock] = Field(default_factory=list, max_length=100)


class ExtraShelter(_Frozen):
    """A shelter the plan opens in addition to the district's (at the township centre)."""

    name: str = Field(min_length=1, max_length=80)
    township: Township
    capacity_persons: int = Field(ge=1, le=500_000)
    kind: Literal["short_term", "long_term"] = "short_term"


class SheltersPlan(_Frozen):
    """Which shelters open and how many people each takes."""

    closed: list[str] = Field(default_factory=list, max_length=100,
                              description="district shelters not opened (a name or part of it, e.g. 涪陵体育场)")
    capacity_multiplier: dict[Literal["short_term", "long_term"], Annotated[float, Field(ge=0.0, le=10.0)]] = Field(
        default_factory=dict, description="× capacity by shelter kind, e.g. {short_term: 0.5}")
    extra: list[ExtraShelter] = Field(default_factory=list, max_length=200)


class MonitoringPlan(_Frozen):
    """Geohazard monitoring (群测群防 and smart monitoring points)."""

    landslide_points: int = Field(387, ge=0, le=20_000,
                                  description="monitoring points at the most susceptible slopes near homes "
                                              "(387 smart points in the plan, key project 2)")
    landslide_lead_time_min: float = Field(120.0, ge=0.0, le=1440.0,
                                           description="warning lead of a monitored slope before it fails")


class FireWatchPlan(_Frozen):
    """Forest-fire checkpoints and patrols: how soon a fire is seen."""

    checkpoints: int = Field(49, ge=0, le=2000, description="staffed checkpoints (49 upgraded + 29 new in the plan)")
    patrols_per_day: float = Field(2.0, ge=0.0, le=48.0, description="patrol rounds per day in fire weather")


class CommandPlan(_Frozen):
    """How the command post works."""

    dispatch_interval_min: float | None = Field(
        None, gt=0.0, le=120.0, description="how often teams are dispatched (None: the model's default, 10 min)")


class HousingPlan(_Frozen):
    """Housing works that change who is vulnerable."""

    old_housing_renovated_share: float = Field(
        0.0, ge=0.0, le=1.0, description="share of the 80,000 old-housing residents whose homes are renovated "
                                         "(no extra flood vulnerability)")


class MutualAidPlan(_Frozen):
    """Requests to Fengdu, Changshou and Dianjiang under the mutual-aid agreements."""

    request: bool = True
    trigger_level: Level = Field("red", description="district-wide warning level at which aid is requested")
    teams_each: int = Field(3, ge=0, le=30, description="teams each neighbour sends")


class _Polyline(_Frozen):
    """A line of works given as WGS84 vertices."""

    name: str = Field("", max_length=80, description="label, e.g. 蔺市堤防 Linshi embankment")
    points: list[tuple[Annotated[float, Field(ge=106.9, le=107.75)], Annotated[float, Field(ge=29.3, le=30.05)]]] = (
        Field(min_length=2, max_length=2000, description="[[lon, lat], ...] vertices, degrees (WGS84)"))


class Embankment(_Polyline):
    """A flood wall or levee: cells along the line are raised to the crest elevation."""

    crest_m: float = Field(ge=145.0, le=260.0, description="crest elevation, m a.s.l.")


class Firebreak(_Polyline):
    """A firebreak (防火隔离带): cells along the line carry no fuel."""

    kind: Literal["biological", "combined", "access_road"] = Field(
        "combined", description="生物/工程+生物/应急道路 (PLAN_FACTS §3)")
    width_m: float = Field(30.0, ge=5.0, le=300.0, description="cleared width, m")


class Plan(_Named):
    """A response plan: the levers the district controls."""

    kind: Literal["plan"] = "plan"
    warning: WarningPlan = Field(default_factory=WarningPlan)
    evacuation: EvacuationPlan = Field(default_factory=EvacuationPlan)
    teams: TeamsPlan = Field(default_factory=TeamsPlan)
    depots: DepotsPlan = Field(default_factory=DepotsPlan)
    shelters: SheltersPlan = Field(default_factory=SheltersPlan)
    monitoring: MonitoringPlan = Field(default_factory=MonitoringPlan)
    fire_watch: FireWatchPlan = Field(default_factory=FireWatchPlan)
    mutual_aid: MutualAidPlan = Field(default_factory=MutualAidPlan)
    command: CommandPlan = Field(default_factory=CommandPlan)
    housing: HousingPlan = Field(default_factory=HousingPlan)
    projects: dict[str, bool] = Field(
        default_factory=dict, description="the plan's key projects switched on or off, e.g. "
                                          "{geohazard_monitoring: true} (ids in scenarios/fuling/projects.yaml)")
    embankments: list[Embankment] = Field(default_factory=list, max_length=200)
    firebreaks: list[Firebreak] = Field(default_factory=list, max_length=500)


# ---------------------------------------------------------------------------------------------- run
class RunSettings(_Frozen):
    """Clock, seed and output folder of one run."""

    duration_h: float = Field(72.0, gt=0.0, le=8760.0)
    step_s: float = Field(60.0, ge=1.0, le=3600.0)
    seed: int = Field(20200820, ge=0, le=2**63 - 1)
    outputs_dir: Path = Field(Path("results"), description="where results/<run>/ folders are written")

    @model_validator(mode="after")
    def _step_fits(self) -> RunSettings:
        if self.step_s > self.duration_h * 3600:
            raise ValueError(f"step_s ({self.step_s}) is longer than the run ({self.duration_h} h)")
        return self


class Scenario(_Frozen):
    """A complete, validated run: district, hazard, plan and run settings."""

    kind: Literal["run"] = "run"
    district: DistrictSpec
    hazard: HazardSpec
    plan: Plan
    run: RunSettings = Field(default_factory=RunSettings)
    sources: dict[str, str] = Field(default_factory=dict, description="file each part came from")


_SECTIONS: dict[str, type[BaseModel]] = {
    "district": DistrictSpec, "hazard": HazardSpec, "plan": Plan, "run": RunSettings,
}
_KIND_BY_DIR = {"plans": "plan", "hazards": "hazard", "fuling": "district", "districts": "district"}


# ---------------------------------------------------------------------------------------------- errors
def _unwrap(annotation: Any) -> list[Any]:
    """Return the concrete types inside Optional/Union/Annotated/list/dict annotations."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _model_at(model: type[BaseModel], loc: tuple) -> tuple[type[BaseModel] | None, Any]:
    """Walk ``loc`` through a model class; return the innermost model and the field info at loc[-1]."""
    current: Any = model
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None, None
        fields = current.model_fields
        if part not in fields:
            return current, None
        info = fields[part]
        nxt = None
        for t in _unwrap(info.annotation):
            origin = typing.get_origin(t)
            if origin in (list, dict):
                args = typing.get_args(t)
                t = args[-1] if args else t
                t = _unwrap(t)[0]
            if isinstance(t, type) and issubclass(t, BaseModel):
                nxt = t
        current = nxt if nxt is not None else current
    return current, info


_SHORT = reprlib.Repr()  # bad inputs can be huge (Python 3.11's Repr takes no keyword arguments)
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 3, 6, 6, 80, 80


def _format_error(err: dict, model: type[BaseModel], source: str, prefix: str,
                  overrides: dict[str, str]) -> str:
    loc = tuple(err["loc"])
    dotted = ".".join(str(p) for p in (prefix, *loc) if p != "")
    msg = err["msg"].removeprefix("Value error, ")
    hint = ""
    if err["type"] == "extra_forbidden":
        parent, _ = _model_at(model, loc[:-1])
        valid = list(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
        msg = "unknown key"
        hint = f"did you mean {close[0]!r}? " if close else ""
        hint += f"valid keys here: {', '.join(valid)}" if valid else ""
    elif err["type"] == "missing":
        msg = "required field is missing"
        _, info = _model_at(model, loc)
        if info is not None and info.description:
            hint = f"add it ({info.description})"
    else:
        _, info = _model_at(model, loc)
        if info is not None:
            parts = []
            if info.description:
                parts.append(info.description)
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            if default not in (None, "", [], {}) and not isinstance(default, BaseModel):
                parts.append(f"e.g. {default!r}")
            hint = "; ".join(parts)
        if err["type"] == "literal_error" and "expected" in err.get("ctx", {}):
            bad = str(err.get("input"))
            options = [o.strip(" '") for o in str(err["ctx"]["expected"]).replace(" or ", ",").split(",")]
            close = difflib.get_close_matches(bad, options, n=1)
            if close:
                hint = f"did you mean {close[0]!r}? " + hint
    where = source
    if dotted in overrides:
        where = f"{source} (value set by --set {overrides[dotted]})"
    line = f"{where}: {dotted or '<top>'}: {msg}"
    if "input" in err and err["type"] not in ("missing", "extra_forbidden") and not isinstance(
            err["input"], dict):
        line += f" (got {_SHORT.repr(err['input'])})"
    if hint:
        line += f". Fix: {hint}"
    return line


def _validate(model: type[BaseModel], data: Any, source: str, prefix: str = "",
              overrides: dict[str, str] | None = None) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{source}: {prefix or '<top>'}: expected a mapping of keys to values, got "
                         f"{type(data).__name__}. Fix: write `key: value` lines.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [_format_error(e, model, source, prefix, overrides or {}) for e in exc.errors()]
        raise InputError("\n".join(lines)) from None


# ---------------------------------------------------------------------------------------------- loading
def _guess_kind(path: Path, data: Any) -> str:
    if isinstance(data, dict) and "kind" in data:
        kind = data["kind"]
        if kind in _SECTIONS or kind in ("run", "targets", "organisation", "sweep", "projects"):
            return str(kind)
        raise InputError(f"{path}: kind: unknown kind {kind!r}. Fix: use one of district, hazard, plan, run, "
                         "targets, organisation, sweep, projects")
    if path.parent.name in _KIND_BY_DIR:
        return _KIND_BY_DIR[path.parent.name]
    if isinstance(data, dict) and {"hazard", "plan"} & set(data):
        return "run"
    raise InputError(f"{path}: cannot tell what this file is. Fix: add a first line `kind: run` "
                     "(or district, hazard, plan).")


def _resolve_paths(spec: DistrictSpec, base: Path) -> DistrictSpec:
    """Make user-data paths absolute, relative to the file that named them."""
    updates = {}
    for name, value in spec.data:
        if value is not None and not Path(value).is_absolute():
            updates[name] = (base / value).resolve()
    if not updates:
        return spec
    return spec.model_copy(update={"data": spec.data.model_copy(update=updates)})


def load_component(path: Path | str, kind: str | None = None) -> BaseModel:
    """Load and validate one district, hazard, plan, run or targets file."""
    path = Path(path)
    data = load_yaml_file(path)
    kind = kind or _guess_kind(path, data)
    if kind == "run":
        return load_scenario(path)
    if kind == "targets":
        from sim.targets import TargetFile

        return _validate(TargetFile, data, str(path))
    if kind == "organisation":
        from sim.drills import OrganisationFile

        return _validate(OrganisationFile, data, str(path))
    if kind == "sweep":
        from sim.experiments import load_sweep

        return load_sweep(path)[0]
    if kind == "projects":
        from sim.projects import ProjectFile

        return _validate(ProjectFile, data, str(path))
    model = _SECTIONS[kind]
    obj = _validate(model, data, str(path))
    if isinstance(obj, DistrictSpec):
        obj = _resolve_paths(obj, path.parent)
    if isinstance(obj, Plan):
        _check_projects(obj, str(path))
    return obj


def _check_projects(plan: Plan, source: str) -> None:
    """Check that the plan's switched-on key projects exist and keep it in range (on loading, not mid-run)."""
    if not plan.projects:
        return
    from sim.projects import effective_plan

    try:
        effective_plan(plan)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def _set_dotted(data: dict, dotted: str, value: Any, source: str) -> None:
    keys = dotted.split(".")
    node = data
    for i, key in enumerate(keys[:-1]):
        nxt = node.get(key)
        if nxt is None:
            nxt = node[key] = {}
        if not isinstance(nxt, dict):
            raise InputError(f"{source}: --set {dotted}: {'.'.join(keys[: i + 1])} is not a mapping, so it "
                             "has no sub-keys. Fix: set it directly or check the path.")
        node = nxt
    node[keys[-1]] = value


def apply_overrides(raw: dict[str, Any], overrides: list[str] | None) -> dict[str, str]:
    """Apply ``section.key.sub=value`` overrides to raw section dicts in place.

    Values are parsed as YAML scalars/flow collections (``60``, ``true``, ``[a, b]``).
    Returns the dotted paths set, for error messages.
    """
    applied: dict[str, str] = {}
    for item in overrides or []:
        if "=" not in item:
            raise InputError(f"--set {item}: expected PATH=VALUE. Fix: e.g. --set plan.warning.lead_time_min=60")
        dotted, text = item.split("=", 1)
        dotted = dotted.strip()
        section = dotted.split(".", 1)[0]
        if section not in _SECTIONS or "." not in dotted:
            close = difflib.get_close_matches(section, list(_SECTIONS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(f"--set {item}: the path must start with one of district, hazard, plan, run "
                             f"and name a field. Fix: {hint}e.g. --set plan.warning.lead_time_min=60")
        value = parse_yaml(text, source=f"--set {item}")
        _set_dotted(raw, dotted, value, "--set")
        applied[dotted] = text
    return applied


def load_scenario(path: Path | str, overrides: list[str] | None = None) -> Scenario:
    """Load a run file and the files it points to; apply overrides; validate everything."""
    path = Path(path)
    data = load_yaml_file(path)
    kind = _guess_kind(path, data)
    if kind != "run":
        raise InputError(f"{path}: this is a {kind} file, not a run file. Fix: pass a run file (kind: run) "
                         "that names district, hazard and plan, e.g. scenarios/default.yaml")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping. Fix: write `district: …`, `hazard: …`, `plan: …`.")
    unknown = sorted(set(data) - {"kind", *_SECTIONS}, key=str)
    if unknown:
        lines = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), list(_SECTIONS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            lines.append(f"{path}: {key}: unknown key. Fix: {hint}valid keys: kind, district, hazard, plan, run")
        raise InputError("\n".join(lines))
    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    bases: dict[str, Path] = {}
    for section in _SECTIONS:
        value = data.get(section)
        if isinstance(value, str):
            ref = (path.parent / value).resolve()
            if not ref.exists():
                raise InputError(f"{path}: {section}: file {value!r} not found (looked in {ref}). Fix: give a "
                                 "path relative to this run file, e.g. plans/baseline.yaml")
            sub = load_yaml_file(ref)
            if isinstance(sub, dict) and sub.get("kind", section) != section:
                raise InputError(f"{ref}: kind: this is a {sub['kind']} file but {path} uses it as {section}. "
                                 f"Fix: point {section} at a file with kind: {section}")
            raw[section] = sub if sub is not None else {}
            sources[section] = str(ref)
            bases[section] = ref.parent
        elif value is None:
            if section in ("hazard", "plan"):
                raise InputError(f"{path}: {section}: required field is missing. Fix: add `{section}: "
                                 f"{section}s/<name>.yaml` or an inline mapping")
            raw[section] = {}
            sources[section] = f"{path} (defaults)"
            bases[section] = path.parent
        else:
            raw[section] = value
            sources[section] = str(path)
            bases[section] = path.parent
    applied = apply_overrides(raw, overrides)
    parts: dict[str, Any] = {}
    errors: list[str] = []
    for section, model in _SECTIONS.items():
        src = sources[section]
        prefix = section if src.startswith(str(path)) else ""
        sub_over = {k.split(".", 1)[1] if not prefix else k: f"{k}={v}" for k, v in applied.items()
                    if k.startswith(section + ".")}
        try:
            parts[section] = _validate(model, raw[section], src.replace(" (defaults)", ""), prefix, sub_over)
        except InputError as exc:
            errors.append(str(exc))
    if errors:
        raise InputError("\n".join(errors))
    _check_projects(parts["plan"], sources["plan"])
    parts["district"] = _resolve_paths(parts["district"], bases["district"])
    run = parts["run"]
    if not run.outputs_dir.is_absolute():
        parts["run"] = run.model_copy(update={"outputs_dir": (path.parent / run.outputs_dir).resolve()})
    return Scenario(**parts, sources=sources)


def default_scenario_path() -> Path:
    """Return the shipped default run file."""
    return scenarios_dir() / "default.yaml"


def validate_files(paths: list[Path]) -> list[tuple[Path, str | None]]:
    """Validate each file; return ``(path, error message or None)`` per file."""
    out: list[tuple[Path, str | None]] = []
    for p in paths:
        try:
            load_component(p)
        except InputError as exc:
            out.append((Path(p), str(exc)))
        else:
            out.append((Path(p), None))
    return out
