"""The scorecard's indicators, each declared once, computed from a run's tables (:class:`~sim.results.RunResult`).

An indicator reads only what a run writes — the event log, the township table, the time series, the
supply requests and the summary — so it can be checked on hand-built logs, recomputed from results on disk,
and applied to any model that writes the same tables. Target values are *not* here: an indicator names
its target id and :mod:`sim.targets` reads the value from the plan's data file.

Per-event figures: every indicator is computed for the one simulated event of a run. The plan's annual
targets (T2, T4, T5, T6: ``annual`` in the targets file) are judged only on annualised figures (see
:mod:`sim.scorecard`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.results import RunResult

DAY_S = 86_400.0


@dataclass(frozen=True)
class Indicator:
    """One scorecard line.

    ``scale`` converts the computed value (shares as fractions, figures in their units) to the display
    unit ``units``; ``target`` is the id of the plan's target in the targets file (None: reported, not judged);
    ``higher_is_better`` gives the direction for differences between plans (None: neither is better).
    """

    key: str
    name_zh: str
    name_en: str
    units: str
    higher_is_better: bool | None  # None: informational, no better or worse
    compute: Callable[[RunResult], float | None]
    target: str | None = None
    scale: float = 1.0
    upper: float = float("inf")  # largest possible value (100 for shares in %), to bound intervals


# ---------------------------------------------------------------------------------------------- helpers
def _events_of(events: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return events[events["type"].astype(str).str.startswith(prefix)]


def _details(events: pd.DataFrame) -> list[dict]:
    return [json.loads(d) if isinstance(d, str) and d else {} for d in events["details"]]


def _run_end_s(result: RunResult) -> float:
    return float(result.summary.get("duration_h", np.nan)) * 3600.0


def _ratio(num: float, den: float, scale: float = 1.0) -> float | None:
    return num / den * scale if den else None


# ---------------------------------------------------------------------------------------------- indicators
def fire_out_24h_share(result: RunResult) -> float | None:
    """T1: share of ignitions put out within 24 h, from the ``ignition`` and ``extinguished`` events.

    A fire still burning when the run ends less than 24 h after its ignition is censored (not counted);
    None when no fire can be judged.
    """
    ev = result.events
    ign = _events_of(ev, "ignition").groupby("target")["time_s"].min()
    out = _events_of(ev, "extinguished").groupby("target")["time_s"].min()
    end = _run_end_s(result)
    met = judged = 0
    for fire, t0 in ign.items():
        t_out = out.get(fire, np.nan)
        if np.isfinite(t_out):
            judged += 1
            met += int(t_out - t0 <= DAY_S)
        elif end - t0 >= DAY_S:
            judged += 1
    return met / judged if judged else None


def forest_damage_rate_permille(result: RunResult) -> float | None:
    """T2 (per event): burned forest area / the district's forest area, ‰."""
    s = result.summary
    return _ratio(float(s.get("burned_forest_area_ha", 0.0) or 0.0), float(s.get("forest_area_ha", 0.0)), 1000.0)


def warning_coverage(result: RunResult) -> float | None:
    """T3: share of exposed persons warned before the hazard reached their home (township table)."""
    tw = result.townships
    return _ratio(float(tw["warned_before_hazard_persons"].sum()), float(tw["exposed_persons"].sum()))


def deaths_per_million(result: RunResult) -> float | None:
    """T4 (per event): deaths per million residents."""
    tw = result.townships
    return _ratio(float(tw["dead_persons"].sum()), float(tw["population"].sum()), 1e6)


def affected_per_100k(result: RunResult) -> float | None:
    """T5 (per event): residents whose home the hazard reached, per 100,000 residents."""
    tw = result.townships
    return _ratio(float(tw["exposed_persons"].sum()), float(tw["population"].sum()), 1e5)


def direct_loss_share_of_gdp_pct(result: RunResult) -> float | None:
    """T6 (per event): direct loss (homes by township + burned forest) / annual GDP, %.

    Counts homes and forest only — a lower bound of the plan's direct loss.
    """
    loss = float(result.townships["direct_loss_cny"].sum()) + float(result.summary.get("forest_loss_cny", 0.0))
    return _ratio(loss, float(result.summary.get("gdp_cny", 0.0)), 100.0)


def supply_requests_met_share(result: RunResult) -> float | None:
    """T7: share of supply requests delivered in full inside their time window.

    A request still open when the run ends before its deadline is censored (not counted); None when no
    request can be judged.
    """
    rq = result.requests
    if not len(rq):
        return None
    met = rq["met"].astype(bool).to_numpy()
    judged = met | (rq["deadline_s"].astype(float).to_numpy() <= _run_end_s(result))
    return float(met.sum() / judged.sum()) if judged.any() else None


def landslide_monitoring_coverage(result: RunResult) -> float | None:
    """T8: share of landslide-prone cells within reach of a monitoring point (None: no landslide hazard)."""
    v = result.summary.get("landslide_monitoring_coverage")
    return None if v is None else float(v)


def township_clearance_h(result: RunResult) -> pd.Series:
    """Return the evacuation clearance time per township, h (township table ``clearance_p95_h``).

    The time within which 95 % of the ordered persons who reached safety (sheltered or rescued) had done
    so, counted for each household from the order that reached it — so a zone that grows as the forecast
    rises is not charged for its later orders. NaN: nobody ordered reached safety.
    """
    tw = result.townships
    return pd.Series(tw["clearance_p95_h"].astype(float).to_numpy(), index=tw["township"], name="clearance_h")


def clearance_h_max(result: RunResult) -> float | None:
    """Evacuation clearance time of the slowest township, h (None: no township evacuated)."""
    c = township_clearance_h(result).dropna()
    return float(c.max()) if len(c) else None


def peak_shelter_occupancy_share(result: RunResult) -> float | None:
    """Peak persons in shelters / open shelter capacity (time series and summary)."""
    cap = float(result.summary.get("shelter_capacity_persons", 0) or 0)
    return _ratio(float(result.timeseries["shelter_occupancy"].max()), cap)


def rescue_response_min(result: RunResult) -> float | None:
    """Mean time a rescued person waited, from being trapped to being brought out, min (``rescue`` events)."""
    ev = _events_of(result.events, "rescue")
    d = _details(ev)
    persons = np.array([x.get("persons", 0) for x in d], dtype=np.float64)
    wait = np.array([x.get("mean_wait_min", np.nan) for x in d], dtype=np.float64)
    ok = np.isfinite(wait) & (persons > 0)
    return float(np.average(wait[ok], weights=persons[ok])) if ok.any() else None


def supply_delay_h(result: RunResult) -> float | None:
    """Mean time from a supply request to its last delivery, h (delivered requests only)."""
    rq = result.requests
    if not len(rq):
        return None
    arr = rq["last_arrival_s"].astype(float)
    done = np.isfinite(arr)
    return float(((arr[done] - rq["created_s"].astype(float)[done]) / 3600.0).mean()) if done.any() else None


INDICATORS: tuple[Indicator, ...] = (
    Indicator("T1", "24小时森林火灾扑灭率", "24-hour forest-fire suppression rate", "%", True,
              fire_out_24h_share, "T1", 100.0, 100.0),
    Indicator("T2", "森林火灾受害率", "forest-fire damage rate", "‰", False, forest_damage_rate_permille, "T2"),
    Indicator("T3", "预警信息覆盖率", "warning coverage", "%", True, warning_coverage, "T3", 100.0, 100.0),
    Indicator("T4", "每百万人口因灾死亡率", "deaths per million", "per million", False, deaths_per_million, "T4"),
    Indicator("T5", "每十万人受灾人次", "affected per 100,000", "per 100k", False, affected_per_100k, "T5"),
    Indicator("T6", "直接经济损失占GDP比例", "direct loss / GDP (homes + forest)", "%", False,
              direct_loss_share_of_gdp_pct, "T6"),
    Indicator("T7", "应急救援器材保障率", "equipment guarantee (requests met in time)", "%", True,
              supply_requests_met_share, "T7", 100.0, 100.0),
    Indicator("T8", "地质灾害监测预警覆盖率", "geohazard monitoring coverage", "%", True,
              landslide_monitoring_coverage, "T8", 100.0, 100.0),
    Indicator("clearance_h", "最慢乡镇疏散完成时间", "evacuation clearance, slowest township", "h", False,
              clearance_h_max),
    Indicator("shelter_peak", "避难场所峰值占用率", "peak shelter occupancy", "%", None,
              peak_shelter_occupancy_share, None, 100.0),
    Indicator("rescue_min", "平均救援响应时间", "mean rescue response time", "min", False,
              rescue_response_min),
    Indicator("supply_delay_h", "物资平均送达时间", "mean supply delivery delay", "h", False, supply_delay_h),
)


def indicator(key: str) -> Indicator:
    """Return the indicator called ``key``."""
    for ind in INDICATORS:
        if ind.key == key:
            return ind
    raise KeyError(f"unknown indicator {key!r}; known: {[i.key for i in INDICATORS]}")


def evaluate(result: RunResult) -> dict[str, float | None]:
    """Every indicator of one run in its display units (``Indicator.units``; None = not applicable)."""
    out = {}
    for ind in INDICATORS:
        v = ind.compute(result)
        out[ind.key] = None if v is None or not np.isfinite(v) else float(v) * ind.scale
    return out


def township_table(result: RunResult) -> pd.DataFrame:
    """Per-township breakdown: exposed, warning coverage, deaths, evacuated, clearance time, direct loss."""
    tw = result.townships.copy()
    clear = township_clearance_h(result)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = tw["warned_before_hazard_persons"] / tw["exposed_persons"].where(tw["exposed_persons"] > 0)
    return pd.DataFrame({
        "township": tw["township"], "township_en": tw["township_en"], "population": tw["population"],
        "exposed_persons": tw["exposed_persons"], "warning_coverage": cov,
        "dead_persons": tw["dead_persons"], "evacuated_persons": tw["evacuated_persons"],
        "clearance_h": tw["township"].map(clear).astype(float), "direct_loss_cny": tw["direct_loss_cny"],
    })
