"""Plan levers change what the model does: fire watch, per-township orders, mutual aid, shipped plans, and a
strictly stronger plan never scoring worse."""

from __future__ import annotations

import json

import pytest

from models.district.command import fire_detection_delay_s
from models.district.run import run_scenario
from sim.paths import scenarios_dir
from sim.scenario import DistrictSpec, Plan, RunSettings, Scenario, load_component
from sim.scorecard import build_scorecard, replicate_seeds
from tests.models.district.conftest import busy_hazard


def _baseline() -> Plan:
    return load_component(scenarios_dir() / "plans" / "baseline.yaml")


def _with(plan: Plan, **sections) -> Plan:
    data = plan.model_dump(mode="json")
    for k, v in sections.items():
        data[k] = {**data[k], **v} if isinstance(v, dict) else v
    return Plan.model_validate(data)


def _run(plan: Plan, district, hours: float = 1.5, seed: int = 3):
    sc = Scenario(district=DistrictSpec(), hazard=busy_hazard(), plan=plan, run=RunSettings(duration_h=hours,
                                                                                            seed=seed))
    return run_scenario(sc, district=district)


def _events(res, prefix: str):
    ev = res.events
    return ev[ev["type"].str.startswith(prefix)]


def test_fire_detection_delay_follows_the_watch():
    assert fire_detection_delay_s(49, 2.0, 30.0, 49) == pytest.approx(1800.0)
    assert fire_detection_delay_s(98, 2.0, 30.0, 49) == pytest.approx(1800.0 / 1.8)
    assert fire_detection_delay_s(0, 0.0, 30.0, 49) == 86_400.0  # nobody watches: reported by the public


def test_a_denser_fire_watch_reports_and_attacks_the_fire_sooner(district100):
    slow = _run(_baseline(), district100)
    fast = _run(_with(_baseline(), fire_watch={"checkpoints": 196}), district100)
    rep_slow, rep_fast = _events(slow, "fire reported"), _events(fast, "fire reported")
    ign = float(_events(slow, "ignition")["time_s"].iloc[0])
    assert json.loads(rep_slow["details"].iloc[0])["delay_min"] >= 30.0
    assert float(rep_fast["time_s"].iloc[0]) < float(rep_slow["time_s"].iloc[0])
    first = {}
    for key, res, rep in (("slow", slow, rep_slow), ("fast", fast, rep_fast)):
        fire_dispatch = _events(res, "dispatch")
        first[key] = float(fire_dispatch[fire_dispatch["target"] == "fire"]["time_s"].min())
        assert first[key] >= float(rep["time_s"].iloc[0]) > ign  # no team goes before the fire is reported
    assert first["fast"] < first["slow"]


def test_orders_follow_the_township_rules(district100):
    only_longtan = _run(_with(_baseline(), evacuation={"townships": ["龙潭镇"]}), district100, hours=1.0)
    fire_orders = _events(only_longtan, "evacuation order")
    assert not any("wildfire" in t for t in fire_orders["target"])  # the fire is in 江北街道, not ordered
    override = _run(_with(_baseline(), evacuation={"townships": ["龙潭镇"],
                                                   "township_order_level": {"江北街道": "red"}}),
                    district100, hours=1.0)
    orders = _events(override, "evacuation order")
    wild = orders[orders["target"].str.contains("wildfire")]
    assert len(wild) and all(json.loads(d)["townships"] == "江北街道" for d in wild["details"])
    tw = override.townships.set_index("township")
    assert tw.loc["江北街道", "first_order_s"] < float("inf")


def test_mutual_aid_only_when_the_plan_requests_it(district100):
    asked = _run(_baseline(), district100, hours=1.0)
    assert len(_events(asked, "mutual aid request")) == 1
    alone = _run(_with(_baseline(), mutual_aid={"request": False}), district100, hours=1.0)
    assert len(_events(alone, "mutual aid request")) == 0


@pytest.mark.parametrize("name", ["baseline", "fyp14", "lean"])
def test_shipped_plans_run_and_record_their_levers(name, district100):
    plan = load_component(scenarios_dir() / "plans" / f"{name}.yaml")
    res = _run(plan, district100, hours=0.5)
    s = res.summary
    assert s["plan"] == name and s["season"] == "flood_season"
    assert s["shelters"] == (29 if name == "fyp14" else 28)
    assert s["persons_by_state"] and sum(s["persons_by_state"].values()) == s["population"]


def test_a_strictly_stronger_plan_never_scores_worse_on_a_fixed_seed_set(district100):
    """Ten more general teams where the busy chain strikes, all else equal: no indicator gets worse."""
    base = _baseline()
    strong = _with(base, name="stronger", teams={"extra": [
        {"name": "江北增援队", "speciality": "general", "township": "江北街道", "count": 5},
        {"name": "义和增援队", "speciality": "general", "township": "义和镇", "count": 5}]})
    runs = {"baseline": [], "stronger": []}
    for seed in replicate_seeds(99, 3):
        for plan in (base, strong):
            runs[plan.name].append((seed, _run(plan, district100, hours=3.0, seed=seed)))
    card = build_scorecard(runs)
    worse = card.differences[card.differences["verdict"].str.startswith("worse")]
    assert worse.empty, worse.to_string()
    rescue = card.differences.set_index("indicator").loc["rescue_min"]
    assert not rescue["mean_diff"] > 0  # people wait no longer for rescue (NaN: nobody needed one)


def test_per_level_lead_times_issue_early_watches(district100):
    """A blue watch issued a day ahead comes out before the plan-wide one-hour lead would issue it."""
    from sim.scenario import FloodHazard, HazardSpec, StageSeries

    base_hz = load_component(scenarios_dir() / "hazards" / "yangtze_flood_2020.yaml")
    fast_rise = base_hz.flood.model_copy(update={"downstream_stage": StageSeries(time_h=[0, 3], stage_m=[172, 178])})
    hz = HazardSpec.model_validate({**base_hz.model_dump(mode="json"), "flood": FloodHazard.model_validate(
        fast_rise.model_dump(mode="json")).model_dump(mode="json")})

    def first_warning(plan: Plan) -> tuple[float, str]:
        sc = Scenario(district=DistrictSpec(), hazard=hz, plan=plan, run=RunSettings(duration_h=2.0, seed=1))
        ev = run_scenario(sc, district=district100).events
        w = ev[ev["type"].str.startswith("warning") & ev["target"].str.startswith("flood")]
        assert len(w), "the fast rise must bring a flood warning within the run"
        return float(w["time_s"].iloc[0]), json.loads(w["details"].iloc[0])["level"]

    plain_t, _ = first_warning(_baseline())
    early_t, early_level = first_warning(_with(_baseline(), warning={"lead_time_min_by_level": {"blue": 1440}}))
    assert early_t < plain_t and early_level == "blue"
