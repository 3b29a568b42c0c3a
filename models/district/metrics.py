"""Reporters and the run's result tables (DESIGN §3.8: module-level functions, no lambdas, so they pickle).

Headline figures of :func:`summary` carry units in their keys and map onto the plan's targets
(PLAN_FACTS §1): ``warning_coverage`` (T3), ``deaths_per_million`` (T4), ``affected_per_100k`` (T5),
``fire_out_24h_share`` (T1), ``burned_forest_share`` (T2), ``supply_requests_met_share`` (T7),
``landslide_monitoring_coverage`` (T8). The scorecard (issue 5) reads them.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from typing import TYPE_CHECKING

import mesa
import numba
import numpy as np
import pandas as pd

import sim
from models.district.frames import map_meta
from models.district.households import DEAD, INJURED, RESCUED, SHELTERED, STATES, TRAPPED
from models.district.params import parameter_table
from sim.results import RunResult, code_sha256

if TYPE_CHECKING:  # pragma: no cover
    from models.district.model import DistrictModel

EVENT_COLUMNS = ["time_s", "type", "node", "actor", "target", "details"]


# ---------------------------------------------------------------------------- Mesa DataCollector reporters
def persons_sheltered(model: DistrictModel) -> int:
    """Persons in shelters (or with relatives) after evacuating."""
    return int(model.households.persons_by_state()[SHELTERED])


def persons_dead(model: DistrictModel) -> int:
    """Persons dead."""
    return int(model.households.dead.sum())


def persons_trapped(model: DistrictModel) -> int:
    """Persons trapped now."""
    return int(model.households.persons_by_state()[TRAPPED])


def team_utilisation(model: DistrictModel) -> float:
    """Share of mobilised teams travelling or working."""
    return model.responders.utilisation()


MODEL_REPORTERS = {"persons_sheltered": persons_sheltered, "persons_dead": persons_dead,
                   "persons_trapped": persons_trapped, "team_utilisation": team_utilisation}


def datacollector() -> mesa.DataCollector:
    """Return a Mesa DataCollector with the module's reporters (for interactive use and the app)."""
    return mesa.DataCollector(model_reporters=MODEL_REPORTERS)


# ---------------------------------------------------------------------------- tables
def _events(model: DistrictModel) -> pd.DataFrame:
    ev = pd.DataFrame(model.events, columns=EVENT_COLUMNS)
    extra = []
    closures = model.hazards.closure_log()
    for r in closures.itertuples(index=False):
        extra.append((float(r.time_s), "road " + r.state, int(r.from_node), str(r.cause), f"link {r.link}",
                      json.dumps({"to_node": int(r.to_node)})))
    fire = model.hazards.component("fire")
    if fire is not None:
        for r in fire.ignitions.itertuples(index=False):
            if np.isfinite(r.started_s):
                extra.append((float(r.started_s), "ignition 起火", -1, "fire", f"fire {r.fire_id}",
                              json.dumps({"cause": r.cause, "lon": float(r.lon), "lat": float(r.lat)})))
            if np.isfinite(r.time_out_s):
                extra.append((float(r.time_out_s), "extinguished 扑灭", -1, "fire", f"fire {r.fire_id}",
                              json.dumps({"burned_ha": float(r.burned_area_ha),
                                          "duration_h": float(r.duration_s) / 3600.0})))
    slide = model.hazards.component("landslide")
    if slide is not None:
        for r in slide.events.itertuples(index=False):
            d = r._asdict()
            extra.append((float(d["time_s"]), "landslide 滑坡", -1, "landslide", f"slide {d['slide_id']}",
                          json.dumps({k: (v if isinstance(v, str) else float(v)) for k, v in d.items()
                                      if isinstance(v, (int, float, str, np.number, bool))}, default=float)))
    if extra:
        ev = pd.concat([ev, pd.DataFrame(extra, columns=EVENT_COLUMNS)], ignore_index=True)
    ev = ev.sort_values("time_s", kind="stable").reset_index(drop=True)
    ev["time_h"] = ev["time_s"] / 3600.0
    return ev


def home_loss_cny(model: DistrictModel) -> np.ndarray:
    """Direct loss per household, CNY: the worst of flood (JRC Asia depth–damage), fire and debris damage."""
    from sim.hazards.flood import damage_fraction

    tab = model.households
    lp = model.params.loss
    value = tab.size * lp.floor_m2_per_person * lp.replacement_cny_per_m2 * (1.0 + lp.contents_share)
    frac = damage_fraction(tab.home_flood_depth_m.astype(np.float64))  # the building, residents in or not
    frac = np.maximum(frac, np.where(tab.hit_fire, lp.burned_home_damage, 0.0))
    frac = np.maximum(frac, np.where(tab.hit_debris, lp.debris_home_damage, 0.0))
    return value * frac


def clearance_p95_h(model: DistrictModel) -> np.ndarray:
    """Return per township the evacuation clearance time, h (NaN: nobody ordered reached safety).

    The 95th percentile, by persons, of the time from an order reaching a household to its arrival in safety,
    over the ordered households that reached safety (sheltered or rescued).
    """
    tab = model.households
    n = len(model.district.townships)
    done = tab.ordered & np.isfinite(tab.arrive_s) & np.isfinite(tab.ordered_s) & np.isin(tab.state, (SHELTERED,
                                                                                                        RESCUED))
    out = np.full(n, np.nan)
    with np.errstate(invalid="ignore"):  # inf − inf for households never ordered nor arrived
        dt_h = np.maximum(tab.arrive_s - tab.ordered_s, 0.0) / 3600.0
    for k in np.unique(tab.township[done]):
        sel = done & (tab.township == k)
        w = tab.active[sel].astype(np.float64)
        if w.sum() <= 0:
            continue
        order = np.argsort(dt_h[sel], kind="stable")
        cum = np.cumsum(w[order])
        out[k] = float(dt_h[sel][order][np.searchsorted(cum, 0.95 * cum[-1])])
    return out


def _townships(model: DistrictModel) -> pd.DataFrame:
    tab = model.households
    d = model.district
    n = len(d.townships)
    size = tab.size.astype(np.int64)
    exposed = np.isfinite(tab.hazard_s)
    warned_in_time = exposed & (tab.warned_s <= tab.hazard_s)
    evac = np.isin(tab.state, (SHELTERED, RESCUED))

    def by_tw(weights: np.ndarray) -> np.ndarray:
        return np.bincount(tab.township, weights=weights, minlength=n).astype(np.int64)

    rows = pd.DataFrame({
        "township": [t.name for t in d.townships],
        "township_en": [t.name_en for t in d.townships],
        "population": by_tw(size),
        "households": np.bincount(tab.township, minlength=n),
        "exposed_persons": by_tw(size * exposed),
        "warned_before_hazard_persons": by_tw(size * warned_in_time),
        "warned_persons": by_tw(size * np.isfinite(tab.warned_s)),
        "ordered_persons": by_tw(size * tab.ordered),
        "evacuated_persons": by_tw(tab.active * evac),
        "trapped_persons_end": by_tw(tab.active * (tab.state == TRAPPED)),
        "homes_burned": np.bincount(tab.township, weights=tab.hit_fire, minlength=n).astype(np.int64),
        "homes_struck_by_debris": np.bincount(tab.township, weights=tab.hit_debris, minlength=n).astype(np.int64),
        "injured_persons": by_tw(tab.injured),
        "dead_persons": by_tw(tab.dead),
        "direct_loss_cny": np.bincount(tab.township, weights=home_loss_cny(model), minlength=n),
        "first_order_s": model.command.first_order_s,
        "clearance_p95_h": clearance_p95_h(model),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        rows["warning_coverage"] = rows["warned_before_hazard_persons"] / rows["exposed_persons"]
    return rows


# every key :func:`summary` (with build_result) can write; a sweep checks its outcome names against it
SUMMARY_KEYS: frozenset[str] = frozenset((
    "affected_per_100k", "annual_frequency_per_year", "burned_area_ha", "burned_forest_area_ha", "deaths",
    "deaths_by_cause", "deaths_per_million", "direct_loss_cny", "direct_loss_share_of_gdp_pct", "duration_h",
    "evacuated_persons", "evacuation_travel_median_min", "exposed_persons", "fire_detection_delay_min",
    "fire_out_24h_share", "fires_judged_24h", "fireline_cells", "fires", "flood_gauge_peak_m",
    "flood_volume_relative_error",
    "flooded_area_max_km2", "forest_area_ha", "forest_damage_rate_permille", "forest_loss_cny", "frequency_source",
    "gdp_cny", "hazard", "home_loss_cny", "homes_burned", "homes_struck_by_debris", "households", "injured",
    "injuries_by_cause", "landslide_monitoring_coverage", "landslides", "mutual_aid_arrived", "ordered_persons",
    "persons_by_state", "plan", "population", "rescued_persons", "road_closed_km_max", "sandbagged_cells", "season",
    "shelter_capacity_persons", "shelter_shortfall", "shelter_turned_away_persons", "shelters", "supply_requests",
    "supply_requests_met_share", "team_members", "teams", "trapped_persons_end", "warned_persons",
    "warning_coverage", "with_relatives_persons",
))


def summary(model: DistrictModel) -> dict:
    """Headline figures of the run (plain numbers, JSON-ready)."""
    tab = model.households
    size = tab.size.astype(np.int64)
    by_state = tab.persons_by_state()
    exposed = np.isfinite(tab.hazard_s)
    exposed_persons = int(size[exposed].sum())
    warned_in_time = int(size[exposed & (tab.warned_s <= tab.hazard_s)].sum())
    pop = int(size.sum())
    out: dict = {
        "population": pop,
        "households": tab.n,
        "duration_h": model.time_s / 3600.0,
        "persons_by_state": {s: int(v) for s, v in zip(STATES, by_state, strict=True)},
        "deaths": int(by_state[DEAD]),
        "injured": int(by_state[INJURED]),
        "deaths_by_cause": dict(model.exposure.deaths_by_cause),
        "injuries_by_cause": dict(model.exposure.injuries_by_cause),
        "deaths_per_million": by_state[DEAD] / pop * 1e6 if pop else 0.0,
        "exposed_persons": exposed_persons,
        "affected_per_100k": exposed_persons / pop * 1e5 if pop else 0.0,
        "warned_persons": int(size[np.isfinite(tab.warned_s)].sum()),
        "warning_coverage": warned_in_time / exposed_persons if exposed_persons else None,
        "ordered_persons": int(size[tab.ordered].sum()),
        "evacuated_persons": int(by_state[SHELTERED] + by_state[RESCUED]),
        "rescued_persons": int(by_state[RESCUED]),
        "trapped_persons_end": int(by_state[TRAPPED]),
        "shelter_turned_away_persons": int(sum(s.turned_away for s in model.shelters)),
        "with_relatives_persons": int(tab.active[tab.shelter == -2].sum()),
        "supply_requests": len(model.supply.requests),
        "shelter_shortfall": {k: round(sum(s.shortfall.get(k, 0.0) for s in model.shelters), 1)
                              for k in model.params.supply.daily_need_per_person},
        "homes_burned": int(tab.hit_fire.sum()),
        "homes_struck_by_debris": int(tab.hit_debris.sum()),
        "sandbagged_cells": int(model.responders.sandbag_cells_raised),
        "supply_requests_met_share": model.supply.met_share(model.time_s),
        "teams": len(model.responders.teams),
        "team_members": int(sum(t.spec.size_persons for t in model.responders.teams)),
        "shelters": len(model.shelters),
        "shelter_capacity_persons": int(sum(s.capacity for s in model.shelters)),
        "season": model.facilities.season,
        "fire_detection_delay_min": model.command.fire_delay_s / 60.0,
        "mutual_aid_arrived": bool(model.responders.aid_arrived),
        "plan": model.scenario.plan.name,
        "hazard": model.scenario.hazard.name,
        "annual_frequency_per_year": model.scenario.hazard.annual_frequency_per_year,
        "frequency_source": model.scenario.hazard.frequency_source,
    }
    from sim.landcover import FOREST

    d = model.district
    forest_ha = float(((d.land.land_cover == FOREST) & d.mask).sum() * d.grid.cell_area_m2 / 1e4)
    homes = float(home_loss_cny(model).sum())
    out["forest_area_ha"] = forest_ha
    out["gdp_cny"] = float(model.scenario.district.gdp_cny)
    out["home_loss_cny"] = homes
    went = (tab.state == SHELTERED) & np.isfinite(tab.arrive_s) & np.isfinite(tab.depart_s)
    arr, dep = tab.arrive_s[went], tab.depart_s[went]
    out["evacuation_travel_median_min"] = float(np.median(arr - dep) / 60.0) if arr.size else None
    flood = model.hazards.component("flood")
    if flood is not None:
        hmax = np.clip(flood.state.h_max - flood.initial_depth_m, 0.0, None)
        out["flooded_area_max_km2"] = float((hmax > 0.1).sum() * model.district.grid.cell_area_m2 / 1e6)
        out["flood_gauge_peak_m"] = {k: round(max(s[k] for _, s in flood.stage_log), 2)
                                     for k in flood.gauges} if flood.stage_log else {}
        out["flood_volume_relative_error"] = flood.balance()["relative_error"]
    fire = model.hazards.component("fire")
    if fire is not None:
        fs = fire.summary()
        out["fires"] = fs["fires_started"]
        out["fire_out_24h_share"] = fs["out_within_24h_share"]
        out["fires_judged_24h"] = fs["fires_judged_24h"]
        out["burned_area_ha"] = fs["burned_area_ha"]
        out["burned_forest_area_ha"] = fs["burned_forest_area_ha"]
        out["forest_damage_rate_permille"] = fs["forest_damage_rate_permille"]
        out["fireline_cells"] = int(model.fireline_cells)
        out["forest_damage_rate_permille"] = 1000.0 * fs["burned_forest_area_ha"] / forest_ha if forest_ha else 0.0
    slide = model.hazards.component("landslide")
    if slide is not None:
        out["landslides"] = len(slide.events)
        cov = slide.coverage()
        out["landslide_monitoring_coverage"] = cov.get("prone_cells", None)
    out["forest_loss_cny"] = out.get("burned_forest_area_ha", 0.0) * model.params.loss.forest_cny_per_ha
    out["direct_loss_cny"] = homes + out["forest_loss_cny"]
    gdp = out["gdp_cny"]
    out["direct_loss_share_of_gdp_pct"] = 100.0 * out["direct_loss_cny"] / gdp if gdp else None
    out["road_closed_km_max"] = None
    return out


def provenance(model: DistrictModel, wall_s: float, sources: dict | None = None) -> dict:
    """Return the inputs (with hashes), version, seed, threads and timings of the run."""
    sc = getattr(model, "input_scenario", model.scenario)
    scenario_json = sc.model_dump(mode="json")
    return {
        "fuling_sim_version": sim.__version__,
        "code_sha256": code_sha256(),
        "seed": sc.run.seed,
        "scenario": scenario_json,
        "effective_plan": model.scenario.plan.model_dump(mode="json") if sc.plan.projects else None,
        "scenario_sha256": hashlib.sha256(json.dumps(scenario_json, sort_keys=True).encode()).hexdigest(),
        "params_sha256": hashlib.sha256(model.params.model_dump_json().encode()).hexdigest(),
        "district_inputs": model.district.provenance.get("inputs", {}),
        "district_layers": model.district.layer_sources,
        "sources": sources or dict(sc.sources),
        "numba_threads": numba.get_num_threads(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__,
                     "numba": numba.__version__, "pandas": pd.__version__},
        "wall_seconds": round(wall_s, 2),
        "timing_seconds": {k: round(v, 3) for k, v in model.timing.items()},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "generated_layers": "terrain, land cover, township areas, population allocation, roads and facility "
                            "locations are generated (see district_layers)",
    }


def build_result(model: DistrictModel, wall_s: float = float("nan")) -> RunResult:
    """Collect the model's records into a :class:`~sim.results.RunResult`."""
    ts = pd.DataFrame(model.records)
    ts["time_h"] = ts["time_s"] / 3600.0
    d = model.district
    tw = np.stack(model.township_records)  # (T, n_tw, n_states)
    times = np.repeat(np.asarray(model.record_times), tw.shape[1])
    names = np.tile([t.name for t in d.townships], tw.shape[0])
    tts = pd.DataFrame(tw.reshape(-1, tw.shape[2]), columns=[f"persons_{s}" for s in STATES])
    tts.insert(0, "township", names)
    tts.insert(0, "time_s", times)
    s = summary(model)
    s["road_closed_km_max"] = float(ts["road_closed_km"].max())
    return RunResult(timeseries=ts, township_timeseries=tts, events=_events(model), townships=_townships(model),
                     requests=pd.DataFrame(model.supply.requests_table(),
                                           columns=["request_id", "created_s", "requester", "kind", "items",
                                                    "delivered", "last_arrival_s", "deadline_s", "met"]),
                     summary=s, provenance=provenance(model, wall_s), parameters=parameter_table(model.params),
                     frames=model.frames.table() if model.frames.every_s > 0 else None,
                     map_meta=map_meta(model, model.frames) if model.frames.every_s > 0 else None)
