"""Each scorecard indicator on hand-built run tables with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import metrics
from tests.helpers import make_result


def _fire(t_ign: float, t_out: float | None, fid: int = 0) -> list[tuple]:
    ev = [(t_ign, "ignition 起火", -1, "fire", f"fire {fid}", {})]
    if t_out is not None:
        ev.append((t_out, "extinguished 扑灭", -1, "fire", f"fire {fid}", {}))
    return ev


def test_t1_counts_fires_out_within_24h_and_censors_young_fires():
    h = 3600.0
    events = (_fire(1 * h, 20 * h, 0)            # out after 19 h: met
              + _fire(2 * h, 30 * h, 1)           # out after 28 h: missed
              + _fire(3 * h, None, 2)             # burning 45 h at the end: missed
              + _fire(40 * h, None, 3))           # burning 8 h at the end: censored
    r = make_result(duration_h=48.0, events=events)
    assert metrics.fire_out_24h_share(r) == pytest.approx(1 / 3)
    assert metrics.fire_out_24h_share(make_result(events=_fire(40 * h, None))) is None
    assert metrics.fire_out_24h_share(make_result()) is None  # no fire at all


def test_t2_forest_damage_rate_permille():
    r = make_result(summary={"burned_forest_area_ha": 30.0, "forest_area_ha": 150_000.0})
    assert metrics.forest_damage_rate_permille(r) == pytest.approx(0.2)


def test_t3_t4_t5_from_the_township_table():
    r = make_result(population=(600_000, 400_000), exposed=(1000, 200), warned_before=(900, 150), dead=(3, 2))
    assert metrics.warning_coverage(r) == pytest.approx(1050 / 1200)
    assert metrics.deaths_per_million(r) == pytest.approx(5.0)
    assert metrics.affected_per_100k(r) == pytest.approx(120.0)
    assert metrics.warning_coverage(make_result(exposed=(0, 0), warned_before=(0, 0))) is None


def test_t6_direct_loss_share_of_gdp():
    r = make_result(loss_cny=(3e8, 1e8), summary={"forest_loss_cny": 1e8, "gdp_cny": 1e11})
    assert metrics.direct_loss_share_of_gdp_pct(r) == pytest.approx(0.5)


def test_t7_requests_met_in_time_with_open_requests_censored():
    reqs = [(0, 0.0, "a", "shelter", "", "", 3000.0, 40_000.0, True),
            (1, 0.0, "b", "shelter", "", "", np.inf, 40_000.0, False),      # deadline passed: missed
            (2, 0.0, "c", "team", "", "", 9000.0, 50_000.0, True),
            (3, 170_000.0, "d", "team", "", "", np.inf, 200_000.0, False)]  # still open at the end: censored
    r = make_result(duration_h=48.0, requests=reqs)
    assert metrics.supply_requests_met_share(r) == pytest.approx(2 / 3)
    assert metrics.supply_requests_met_share(make_result()) is None


def test_clearance_time_of_the_slowest_township():
    r = make_result(clearance_h=(2.5, np.nan))
    c = metrics.township_clearance_h(r)
    assert c["甲镇"] == 2.5 and math.isnan(c["乙镇"])
    assert metrics.clearance_h_max(make_result(clearance_h=(2.5, 4.0))) == 4.0
    assert metrics.clearance_h_max(make_result(clearance_h=(np.nan, np.nan))) is None


def test_shelter_peak_rescue_response_and_supply_delay():
    r = make_result(shelter_occupancy=(0, 750, 200), summary={"shelter_capacity_persons": 1000})
    assert metrics.peak_shelter_occupancy_share(r) == pytest.approx(0.75)
    events = [(100.0, "rescue 救出", 1, "team", "households", {"persons": 3, "mean_wait_min": 40.0}),
              (200.0, "rescue 救出", 1, "team", "households", {"persons": 1, "mean_wait_min": 80.0}),
              (300.0, "dispatch 派遣", 1, "team", "rescue", {"travel_s": 5.0})]
    assert metrics.rescue_response_min(make_result(events=events)) == pytest.approx(50.0)
    reqs = [(0, 0.0, "a", "shelter", "", "", 7200.0, 40_000.0, True),
            (1, 3600.0, "b", "shelter", "", "", 18_000.0, 40_000.0, True),
            (2, 0.0, "c", "team", "", "", np.inf, 40_000.0, False)]
    assert metrics.supply_delay_h(make_result(requests=reqs)) == pytest.approx(3.0)


def test_evaluate_gives_display_units_and_none_when_not_applicable():
    vals = metrics.evaluate(make_result(exposed=(100, 0), warned_before=(95, 0)))
    assert vals["T3"] == pytest.approx(95.0)  # %
    assert vals["T1"] is None and vals["rescue_min"] is None
    assert set(vals) == {i.key for i in metrics.INDICATORS}


def test_township_table_breakdown():
    t = metrics.township_table(make_result(exposed=(100, 0), warned_before=(80, 0)))
    assert list(t["township"]) == ["甲镇", "乙镇"]
    assert t["warning_coverage"].iloc[0] == pytest.approx(0.8) and math.isnan(t["warning_coverage"].iloc[1])
