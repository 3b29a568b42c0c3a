"""Behavioural and operational parameters of the district model, each with its source or marked as an assumption.

Every number a user may want to question lives here once, in frozen pydantic models (so sweeps can override
them with dotted names such as ``residents.order_compliance``). ``source`` in each field's metadata says where
the value comes from; "assumption" means no published Fuling or Chongqing figure was found and the value is a
judgement to be swept, not a fact.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Level = Literal["blue", "yellow", "orange", "red"]
LEVELS: tuple[str, ...] = ("blue", "yellow", "orange", "red")
CHANNELS: tuple[str, ...] = ("cell_broadcast_sms", "emergency_broadcast", "tv_internet", "loudspeaker", "grid_worker")
RELAYS: tuple[str, ...] = ("city_to_district", "district_to_township", "township_to_village")


def _check_keys(name: str, d: dict, keys: tuple[str, ...], lo: float, hi: float) -> None:
    missing = [k for k in keys if k not in d]
    extra = [k for k in d if k not in keys]
    if missing or extra:
        raise ValueError(f"{name}: needs exactly the keys {list(keys)} (missing {missing}, unknown {extra})")
    bad = {k: v for k, v in d.items() if not lo <= v <= hi}
    if bad:
        raise ValueError(f"{name}: values must lie in [{lo}, {hi}], got {bad}")
LEVEL_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}


def _src(text: str) -> dict:
    return {"source": text}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PopulationParams(_Frozen):
    """Who lives in each household (shares of persons; drawn per household with the run's generator)."""

    elderly_share: float = Field(0.171, ge=0, le=1, description="share of residents aged 65+",
                                 json_schema_extra=_src("Chongqing 7th census 2020: 17.08 % aged 65+"))
    child_share: float = Field(0.159, ge=0, le=1, description="share of residents aged 0–14",
                               json_schema_extra=_src("Chongqing 7th census 2020: 15.91 % aged 0–14"))
    disabled_share: float = Field(0.063, ge=0, le=1, description="share of residents with a disability",
                                  json_schema_extra=_src("2nd China National Sample Survey on Disability 2006: 6.34 %"))
    old_housing_residents: int = Field(80_000, ge=0, description="residents of old residential areas (urban cells)",
                                       json_schema_extra=_src("PLAN_FACTS §3 / key project 6: 80,000 residents"))
    car_share_urban: float = Field(0.45, ge=0, le=1, description="urban households with a car",
                                   json_schema_extra=_src("assumption (Chongqing ~0.16 cars per person, 2020)"))
    car_share_rural: float = Field(0.25, ge=0, le=1, description="rural households with a car",
                                   json_schema_extra=_src("assumption"))


class WarningParams(_Frozen):
    """The six-level chain 市→区→乡镇→村→户→人 and its channels to households."""

    relay_delay_min: dict[str, float] = Field(
        default_factory=lambda: {"city_to_district": 10.0, "district_to_township": 15.0,
                                 "township_to_village": 20.0},
        description="median relay delay between levels of the chain, min",
        json_schema_extra=_src("assumption (district notice procedures; 'minutes, not hours')"))
    relay_sigma: float = Field(0.5, ge=0, le=3, description="log-normal spread of relay delays",
                               json_schema_extra=_src("assumption"))
    reach_urban: dict[str, float] = Field(
        default_factory=lambda: {"cell_broadcast_sms": 0.85, "emergency_broadcast": 0.45, "tv_internet": 0.40,
                                 "loudspeaker": 0.30, "grid_worker": 1.0},
        description="probability a channel reaches an urban household",
        json_schema_extra=_src("assumption; mobile penetration >100 % in Chongqing, lower for the elderly"))
    reach_rural: dict[str, float] = Field(
        default_factory=lambda: {"cell_broadcast_sms": 0.70, "emergency_broadcast": 0.55, "tv_internet": 0.30,
                                 "loudspeaker": 0.80, "grid_worker": 1.0},
        description="probability a channel reaches a rural household",
        json_schema_extra=_src("assumption; 村村响 village loudspeakers cover most villages"))
    channel_delay_min: dict[str, float] = Field(
        default_factory=lambda: {"cell_broadcast_sms": 5.0, "emergency_broadcast": 10.0, "tv_internet": 30.0,
                                 "loudspeaker": 10.0, "grid_worker": 0.0},
        description="median delay from the channel's sender to the household noticing, min",
        json_schema_extra=_src("assumption; Sorensen (2000) warning-diffusion curves reach most people in 1–2 h"))
    elderly_sms_factor: float = Field(0.6, ge=0, le=1, description="× SMS reach for households of elderly only",
                                      json_schema_extra=_src("assumption"))
    households_per_grid_worker: float = Field(300.0, gt=0, description="households each grid worker covers",
                                              json_schema_extra=_src("assumption; urban grids of 300–500 households"))
    visits_per_hour: float = Field(12.0, gt=0, description="door-to-door visits per grid worker per hour",
                                   json_schema_extra=_src("assumption"))

    @model_validator(mode="after")
    def _complete(self) -> WarningParams:
        _check_keys("warnings.relay_delay_min", self.relay_delay_min, RELAYS, 0.0, 1440.0)
        _check_keys("warnings.reach_urban", self.reach_urban, CHANNELS, 0.0, 1.0)
        _check_keys("warnings.reach_rural", self.reach_rural, CHANNELS, 0.0, 1.0)
        _check_keys("warnings.channel_delay_min", self.channel_delay_min, CHANNELS, 0.0, 1440.0)
        return self


class ResidentParams(_Frozen):
    """How households decide and how long they take to leave."""

    level_compliance: dict[str, float] = Field(
        default_factory=lambda: {"blue": 0.02, "yellow": 0.08, "orange": 0.25, "red": 0.45},
        description="probability a warned household in the danger zone leaves on the warning alone",
        json_schema_extra=_src("assumption; Lindell & Perry (2012) PADM: warnings alone move a minority"))
    order_compliance: float = Field(0.85, ge=0, le=1, description="probability an ordered household leaves",
                                    json_schema_extra=_src("assumption; Chinese 应急转移 orders are enforced by "
                                                           "township and village cadres"))
    hazard_seen_compliance: float = Field(0.6, ge=0, le=1,
                                          description="probability a household leaves when it sees water/fire/smoke",
                                          json_schema_extra=_src("assumption"))
    vulnerable_factor: float = Field(0.6, ge=0, le=1,
                                     description="× probability for households with elderly/disabled, unaided",
                                     json_schema_extra=_src("assumption; mobility limits"))
    premove_median_min: float = Field(30.0, gt=0, description="median pre-movement delay after deciding, min",
                                      json_schema_extra=_src("assumption in the range of Lindell et al. (2005) "
                                                             "and Sorensen & Mileti (1988)"))
    premove_sigma: float = Field(0.8, ge=0, le=3, description="log-normal spread of the pre-movement delay",
                                 json_schema_extra=_src("assumption"))
    vulnerable_premove_factor: float = Field(1.5, ge=1, description="× delay for households with elderly/disabled",
                                             json_schema_extra=_src("assumption"))
    seen_radius_cells: int = Field(3, ge=0, le=50, description="cells around home a household sees hazard in",
                                   json_schema_extra=_src("assumption"))
    trapped_depth_m: float = Field(0.5, ge=0, description="water above normal at home that traps a household",
                                   json_schema_extra=_src("DEFRA FD2321: wading unsafe above ~0.5 m for most"))

    @model_validator(mode="after")
    def _complete(self) -> ResidentParams:
        _check_keys("residents.level_compliance", self.level_compliance, LEVELS, 0.0, 1.0)
        return self


class CasualtyParams(_Frozen):
    """Dose–response rules for people exposed at home or on the road."""

    flood_mu: float = Field(7.60, description="Jonkman (2008) mortality, 'remaining zone': mean of ln h",
                            json_schema_extra=_src("Jonkman, Vrijling & Vrouwenvelder (2008) Nat. Hazards 46:353"))
    flood_sigma: float = Field(2.75, gt=0, description="Jonkman (2008) 'remaining zone': sd of ln h",
                               json_schema_extra=_src("Jonkman et al. (2008)"))
    breach_mu: float = Field(1.46, description="Jonkman (2008) 'breach zone' (h·v ≥ 7 m²/s, v ≥ 2 m/s): mean of ln h",
                             json_schema_extra=_src("Jonkman et al. (2008)"))
    breach_sigma: float = Field(0.28, gt=0, description="Jonkman (2008) 'breach zone': sd of ln h",
                                json_schema_extra=_src("Jonkman et al. (2008)"))
    injury_by_hazard_class: tuple[float, float, float, float] = Field(
        (0.0, 0.01, 0.04, 0.10),
        description="share of exposed persons injured by maximum DEFRA class (low, moderate, significant, extreme)",
        json_schema_extra=_src("assumption following the FD2321 (HR Wallingford 2006) structure"))
    vulnerable_multiplier: float = Field(2.0, ge=1, description="× flood mortality and injury for vulnerable people",
                                         json_schema_extra=_src("FD2321 people-vulnerability score doubles for "
                                                                "the elderly, infirm and disabled"))
    old_housing_multiplier: float = Field(1.5, ge=1, description="× flood mortality and injury in old housing",
                                          json_schema_extra=_src("assumption; FD2321 area vulnerability rises for "
                                                                 "poorer building stock"))
    fire_death: float = Field(0.002, ge=0, le=1, description="death probability of a person at home when it burns",
                              json_schema_extra=_src("assumption; residents of Chinese forest-fire areas are "
                                                     "rarely killed (the 2022 Chongqing fires: none)"))
    fire_injury: float = Field(0.02, ge=0, le=1, description="injury probability of a person at home when it burns",
                               json_schema_extra=_src("assumption"))
    debris_death: float = Field(0.25, ge=0, le=1,
                                description="death probability of a person at home hit by a landslide run-out",
                                json_schema_extra=_src("assumption in the 0.05–0.5 range of Corominas et al. "
                                                       "(2014) vulnerability of persons in buildings"))
    debris_injury: float = Field(0.30, ge=0, le=1, description="injury probability when hit by a run-out",
                                 json_schema_extra=_src("assumption"))


class CommandParams(_Frozen):
    """The command post's zones: who gets warnings and orders for each hazard."""

    warn_freeboard_m: float = Field(2.0, ge=0, description="river warnings reach homes with spill level below "
                                                           "the red trigger + this, m",
                                    json_schema_extra=_src("assumption"))
    order_freeboard_m: float = Field(2.0, ge=0, description="river orders reach homes with spill level below the "
                                                            "forecast stage + this, m",
                                     json_schema_extra=_src("assumption; safety margin on the forecast"))
    flash_warn_height_m: float = Field(10.0, ge=0, description="rainstorm warnings: homes this high above a stream",
                                       json_schema_extra=_src("assumption"))
    flash_order_height_m: float = Field(4.0, ge=0, description="flash-flood orders: homes this high above a stream",
                                        json_schema_extra=_src("assumption; HAND-based flood zones of a few m"))
    storm_area_factor: float = Field(0.3, ge=0, le=1, description="rain factor at home that puts it in the storm "
                                                                  "area", json_schema_extra=_src("assumption"))
    slide_order_radius_cells: int = Field(2, ge=0, le=20, description="cells around a warned slide's run-out "
                                                                      "that are ordered out",
                                          json_schema_extra=_src("assumption"))
    fire_order_radius_m: float = Field(1000.0, ge=0, le=20_000, description="homes this close to burning cells "
                                                                            "are ordered out, m",
                                       json_schema_extra=_src("assumption"))
    forecast_window_h: float = Field(1.0, gt=0, le=24, description="window of the stage-rise persistence forecast",
                                     json_schema_extra=_src("assumption"))


class ResponseParams(_Frozen):
    """Command, rescue teams and mutual aid."""

    dispatch_interval_min: float = Field(10.0, gt=0, description="how often the command post dispatches",
                                         json_schema_extra=_src("assumption"))
    shift_h: float = Field(12.0, gt=0, description="longest continuous work before rest",
                           json_schema_extra=_src("assumption; common 12 h shifts for forest-fire crews"))
    rest_h: float = Field(8.0, ge=0, description="rest after a shift", json_schema_extra=_src("assumption"))
    rescue_min_per_household: float = Field(20.0, gt=0, description="time to rescue one trapped household on site",
                                            json_schema_extra=_src("assumption (boat or rope rescue)"))
    rescue_capacity_persons: int = Field(12, gt=0, description="persons a team carries out per trip",
                                         json_schema_extra=_src("assumption (one assault boat)"))
    boat_speed_kmh: float = Field(10.0, gt=0, le=60, description="a rescue boat's speed over flood water, km/h",
                                  json_schema_extra=_src("assumption (assault boats in debris-laden water)"))
    boat_launch_min: float = Field(30.0, ge=0, le=600, description="time to reach the water's edge and launch",
                                   json_schema_extra=_src("assumption"))
    boat_route_factor: float = Field(1.4, ge=1, le=5, description="water route length ÷ straight distance",
                                     json_schema_extra=_src("assumption"))
    assist_min_per_household: float = Field(15.0, gt=0, description="time to help one vulnerable household leave",
                                            json_schema_extra=_src("assumption"))
    embankment_work_h: float = Field(6.0, gt=0, description="time for a team to sandbag an embankment",
                                     json_schema_extra=_src("assumption"))
    sandbag_raise_m: float = Field(0.5, ge=0, le=3, description="crest raise from one team's sandbag wall, m",
                                   json_schema_extra=_src("assumption; a 5-6 course sandbag wall"))
    embankment_level: Level = Field("yellow", description="flood warning level at which embankments are manned",
                                    json_schema_extra=_src("assumption"))
    fire_equipment_factor: float = Field(1.5, gt=0, description="production × for teams with fire equipment",
                                         json_schema_extra=_src("assumption"))
    max_teams_per_fire: int = Field(12, gt=0, description="teams the command post sends to one fire",
                                    json_schema_extra=_src("assumption"))
    mutual_aid_delay_h: float = Field(6.0, ge=0, description="delay before neighbours' teams arrive",
                                      json_schema_extra=_src("assumption; agreements with 丰都, 长寿, 垫江 "
                                                             "(PLAN_FACTS §2)"))
    fire_detection_delay_min: float = Field(
        30.0, ge=0, le=1440, description="time from ignition until a fire is reported, at the reference watch "
                                         "(``fire_watch_reference_checkpoints`` checkpoints, 2 patrols a day)",
        json_schema_extra=_src("assumption"))
    fire_watch_reference_checkpoints: int = Field(
        49, gt=0, description="checkpoints of the reference watch (the plan's 49 existing checkpoints)",
        json_schema_extra=_src("PLAN_FACTS §3"))


class SupplyParams(_Frozen):
    """Daily needs of sheltered people and delivery windows."""

    daily_need_per_person: dict[str, float] = Field(
        default_factory=lambda: {"water_l": 3.0, "food_rations": 1.0, "medical_kits": 0.01},
        description="units per sheltered person per day (drinking water, litres; day rations; kits)",
        json_schema_extra=_src("assumption after Sphere Handbook minimums (2018)"))
    tents_per_person: float = Field(0.25, ge=0, description="tents per sheltered person (once)",
                                    json_schema_extra=_src("assumption: 4 persons per family tent"))
    request_interval_h: float = Field(6.0, gt=0, description="how often shelters order supplies",
                                      json_schema_extra=_src("assumption"))
    request_window_h: float = Field(12.0, gt=0, description="a request is met when delivered within this window",
                                    json_schema_extra=_src("assumption"))
    truck_speed_factor: float = Field(0.8, gt=0, le=1, description="truck speed as a share of free speed",
                                      json_schema_extra=_src("assumption"))
    load_min: float = Field(30.0, ge=0, description="loading and unloading time per delivery",
                            json_schema_extra=_src("assumption"))
    regional_resupply_h: float = Field(24.0, ge=0,
                                       description="time for the municipal reserve to refill the regional depot",
                                       json_schema_extra=_src("assumption"))
    sandbags_per_team: int = Field(500, ge=0, description="sandbags a flood team draws on dispatch",
                                   json_schema_extra=_src("assumption"))

    @model_validator(mode="after")
    def _known_items(self) -> SupplyParams:
        from sim.facilities import ITEMS

        unknown = [k for k in self.daily_need_per_person if k not in ITEMS]
        if unknown or any(v < 0 for v in self.daily_need_per_person.values()):
            raise ValueError(f"supply.daily_need_per_person: items must be among {list(ITEMS)} with needs ≥ 0 "
                             f"(unknown {unknown})")
        return self


class LossParams(_Frozen):
    """Direct economic loss (T6): residential buildings and contents, burned forest.

    Only homes and forest are counted — no infrastructure, farms, firms or indirect loss — so T6 is a
    lower bound, and says so where it is shown.
    """

    floor_m2_per_person: float = Field(41.76, gt=0, description="housing floor area per person, m²",
                                       json_schema_extra=_src("7th census 2020: 41.76 m² per person in family "
                                                              "households (national)"))
    replacement_cny_per_m2: float = Field(2500.0, ge=0, description="building replacement cost, CNY per m²",
                                          json_schema_extra=_src("assumption (Chongqing brick-concrete housing)"))
    contents_share: float = Field(0.3, ge=0, le=2, description="contents value as a share of the building value",
                                  json_schema_extra=_src("assumption"))
    burned_home_damage: float = Field(1.0, ge=0, le=1, description="damage fraction of a home that burns",
                                      json_schema_extra=_src("assumption"))
    debris_home_damage: float = Field(0.5, ge=0, le=1, description="damage fraction of a home hit by a run-out",
                                      json_schema_extra=_src("assumption"))
    forest_cny_per_ha: float = Field(30_000.0, ge=0, description="loss per hectare of burned forest, CNY",
                                     json_schema_extra=_src("assumption (timber and replanting)"))


class ModelParams(_Frozen):
    """All behavioural parameters of one run (defaults documented field by field)."""

    population: PopulationParams = Field(default_factory=PopulationParams)
    warnings: WarningParams = Field(default_factory=WarningParams)
    residents: ResidentParams = Field(default_factory=ResidentParams)
    casualties: CasualtyParams = Field(default_factory=CasualtyParams)
    command: CommandParams = Field(default_factory=CommandParams)
    response: ResponseParams = Field(default_factory=ResponseParams)
    supply: SupplyParams = Field(default_factory=SupplyParams)
    loss: LossParams = Field(default_factory=LossParams)
    record_every_steps: int = Field(10, ge=1, description="time-series sampling interval, steps")
    map_frame_every_min: float = Field(60.0, ge=0, le=1440,
                                       description="interval of the replay map's frames, simulated min (0: none)")


def parameter_table(params: ModelParams | None = None) -> list[dict]:
    """Flatten the parameters into rows (name, value, description, source) for reports and the app."""
    params = params or ModelParams()
    rows = []
    for section_name in type(params).model_fields:
        section = getattr(params, section_name)
        if not isinstance(section, BaseModel):
            rows.append({"name": section_name, "value": section, "description": "", "source": ""})
            continue
        for name, info in type(section).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            rows.append({"name": f"{section_name}.{name}", "value": getattr(section, name),
                         "description": info.description or "", "source": extra.get("source", "")})
    return rows
