"""Hand-built run results for the indicator and scorecard tests (known answers, no model run)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from models.district.households import STATES
from sim.results import RunResult

TOWNS = [("甲镇", "Jia"), ("乙镇", "Yi")]


def make_result(*, duration_h: float = 48.0, events: list[tuple] | None = None, population=(600_000, 400_000),
                exposed=(1000, 0), warned_before=(950, 0), dead=(1, 0), loss_cny=(2e6, 0.0),
                first_order_s=(3600.0, np.inf), clearance_h=(1.5, np.nan), requests: list[tuple] | None = None,
                sheltered_series: dict | None = None, shelter_occupancy=(0, 500, 300), summary: dict | None = None,
                ) -> RunResult:
    """A RunResult with two townships whose tables carry exactly the figures given."""
    ev = pd.DataFrame(events or [], columns=["time_s", "type", "node", "actor", "target", "details"])
    if len(ev):
        ev["details"] = [d if isinstance(d, str) else json.dumps(d) for d in ev["details"]]
    tw = pd.DataFrame({
        "township": [t for t, _ in TOWNS], "township_en": [e for _, e in TOWNS], "population": list(population),
        "households": [1, 1], "exposed_persons": list(exposed), "warned_before_hazard_persons": list(warned_before),
        "warned_persons": list(warned_before), "ordered_persons": [0, 0], "evacuated_persons": [0, 0],
        "trapped_persons_end": [0, 0], "homes_burned": [0, 0], "homes_struck_by_debris": [0, 0],
        "injured_persons": [0, 0], "dead_persons": list(dead), "warning_coverage": [np.nan, np.nan],
        "direct_loss_cny": list(loss_cny), "first_order_s": list(first_order_s),
        "clearance_p95_h": list(clearance_h)})
    times = [0.0, 3600.0, 7200.0]
    sheltered_series = sheltered_series or {"甲镇": [0, 50, 100], "乙镇": [0, 0, 0]}
    rows = []
    for k, t in enumerate(times):
        for name, _ in TOWNS:
            r = {"time_s": t, "township": name, **{f"persons_{s}": 0 for s in STATES}}
            r["persons_sheltered"] = sheltered_series[name][k]
            rows.append(r)
    tts = pd.DataFrame(rows)
    ts = pd.DataFrame({"time_s": times, "shelter_occupancy": list(shelter_occupancy)})
    rq = pd.DataFrame(requests or [], columns=["request_id", "created_s", "requester", "kind", "items", "delivered",
                                               "last_arrival_s", "deadline_s", "met"])
    s = {"duration_h": duration_h, "forest_area_ha": 100_000.0, "burned_forest_area_ha": 20.0,
         "forest_loss_cny": 1e6, "gdp_cny": 1e11, "shelter_capacity_persons": 1000,
         "landslide_monitoring_coverage": 0.8, "annual_frequency_per_year": None}
    s.update(summary or {})
    return RunResult(timeseries=ts, township_timeseries=tts, events=ev, townships=tw, requests=rq, summary=s,
                     provenance={})
