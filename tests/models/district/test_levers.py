"""A plan's facility levers on the district: shelters, depots, teams, standby by season."""

from __future__ import annotations

import numpy as np
import pytest

from models.district.levers import apply_plan, season_of
from sim.paths import scenarios_dir
from sim.scenario import Plan, TeamsPlan, load_component


def _apply(district, plan: Plan, start: str = "2020-08-19T00:00"):
    centres = {t.name: (t.x_m, t.y_m) for t in district.townships}
    return apply_plan(district.shelters, district.depots, district.teams, plan, start, centres)


def _plan(**sections) -> Plan:
    return Plan.model_validate({"name": "t", **sections})


def test_default_plan_keeps_the_district_as_it_is(district100):
    f = _apply(district100, _plan())
    assert len(f.shelters) == len(district100.shelters) and len(f.teams) == len(district100.teams)
    assert [s.capacity_persons for s in f.shelters] == [s.capacity_persons for s in district100.shelters]
    assert f.depots[0].stock == district100.depots[0].stock
    assert [x.shelter_id for x in f.shelters] == list(range(len(f.shelters)))


def test_shelter_levers(district100):
    f = _apply(district100, _plan(shelters={
        "closed": ["涪陵体育场"], "capacity_multiplier": {"short_term": 0.5},
        "extra": [{"name": "龙潭中学 Longtan school", "township": "Longtan", "capacity_persons": 800}]}))
    names = [s.name for s in f.shelters]
    assert not any("涪陵体育场" in n for n in names) and names[-1] == "龙潭中学 Longtan school"
    short = [s for s in f.shelters if s.kind == "short_term" and s.township != "龙潭镇"]
    assert all(s.capacity_persons == 1500 for s in short)
    assert [s.shelter_id for s in f.shelters] == list(range(len(f.shelters)))
    with pytest.raises(ValueError, match="shelters.closed entry 'nowhere'"):
        _apply(district100, _plan(shelters={"closed": ["nowhere"]}))


def test_depot_levers(district100):
    f = _apply(district100, _plan(depots={"stock_multiplier": 0.5, "regional_depot": False,
                                          "prepositioned": [{"township": "龙潭镇", "items": {"sandbags": 1000}}]}))
    assert not any(d.tier == "regional" for d in f.depots)
    district_depot = next(d for d in district100.depots if d.tier == "district")
    mine = next(d for d in f.depots if d.name == district_depot.name)
    assert mine.stock["water_l"] == np.floor(district_depot.stock["water_l"] * 0.5)
    longtan = next(d for d in f.depots if d.tier == "township" and d.township == "龙潭镇")
    base = next(d for d in district100.depots if d.tier == "township" and d.township == "龙潭镇")
    assert longtan.stock["sandbags"] == np.floor(base.stock["sandbags"] * 0.5) + 1000


def test_team_levers(district100):
    f = _apply(district100, _plan(teams={
        "village_squads_share": 0.5, "forest_team_size_persons": 100, "forest_team_base": "马武镇",
        "preposition": [{"speciality": "flood_drought", "township": "蔺市镇"}],
        "extra": [{"name": "龙潭突击队", "speciality": "general", "township": "龙潭镇", "count": 3}]}))
    from collections import Counter

    before = Counter(t.township for t in district100.teams if t.level == "village")
    after = Counter(t.township for t in f.teams if t.level == "village")
    assert sum(after.values()) == round(sum(before.values()) / 2)  # half in all (largest remainder)
    for town, n in before.items():  # every township keeps about half of its own squads: none is left without
        assert n // 2 <= after[town] <= n // 2 + 1 and after[town] >= 1, town
    forest = next(t for t in f.teams if t.level == "professional")
    old = next(t for t in district100.teams if t.level == "professional")
    assert forest.size_persons == 100 and forest.township == "马武镇"
    assert forest.equipment["fire_kits"] == round(old.equipment["fire_kits"] * 100 / old.size_persons)
    assert all(t.township == "蔺市镇" for t in f.teams if t.level == "district" and t.speciality == "flood_drought")
    extra = [t for t in f.teams if t.name.startswith("龙潭突击队")]
    assert len(extra) == 3 and all("fire_suppression" in t.capabilities for t in extra)
    assert [t.team_id for t in f.teams] == list(range(len(f.teams)))
    none = _apply(district100, _plan(teams={"forest_team_size_persons": 0}))
    assert not any(t.level == "professional" for t in none.teams)


def test_standby_by_season(district100):
    p = _plan(teams={"standby_share": 0.2, "standby_share_by_season": {"flood_season": 0.8}})
    summer = _apply(district100, p, "2020-08-19T00:00")
    winter = _apply(district100, p, "2021-01-10T00:00")
    n = len(summer.teams)
    assert summer.season == "flood_season" and summer.standby.sum() == round(0.8 * n)
    assert winter.season == "fire_season" and winter.standby.sum() == round(0.2 * n)
    # the professional and district teams are the first on standby
    ranked = [i for i, t in enumerate(winter.teams) if t.level in ("professional", "district")]
    assert winter.standby[ranked].all()
    assert season_of("2020-06-01T00:00", TeamsPlan(flood_season_months=[7])) == "other"


def test_shipped_plans_differ_as_described(district100):
    plans = {n: load_component(scenarios_dir() / "plans" / f"{n}.yaml") for n in ("baseline", "fyp14", "lean")}
    f = {n: _apply(district100, p) for n, p in plans.items()}
    cap = {n: sum(s.capacity_persons for s in x.shelters) for n, x in f.items()}
    assert cap["fyp14"] > cap["baseline"] >= cap["lean"]
    assert any(d.tier == "regional" for d in f["fyp14"].depots)
    assert not any(d.tier == "regional" for d in f["baseline"].depots)
    members = {n: sum(t.size_persons for t in x.teams) for n, x in f.items()}
    assert members["fyp14"] > members["baseline"] > members["lean"]
    assert plans["fyp14"].monitoring.landslide_points == 387 > plans["baseline"].monitoring.landslide_points
    assert f["fyp14"].standby.sum() > f["baseline"].standby.sum() > f["lean"].standby.sum()


def test_process_levers_reach_the_parameters():
    from types import SimpleNamespace

    from models.district.levers import plan_params, renovate_old_housing
    from models.district.params import ModelParams

    base = ModelParams()
    p = plan_params(base, _plan(warning={"relay_delay_factor": 0.5}, teams={"work_rate_factor": 2.0},
                                command={"dispatch_interval_min": 4}))
    relay = base.warnings.relay_delay_min
    assert all(p.warnings.relay_delay_min[k] == pytest.approx(0.5 * v) for k, v in relay.items())
    assert p.response.rescue_min_per_household == pytest.approx(base.response.rescue_min_per_household / 2)
    assert p.response.embankment_work_h == pytest.approx(base.response.embankment_work_h / 2)
    assert p.response.dispatch_interval_min == 4
    assert plan_params(base, _plan()) == base  # defaults change nothing
    tab = SimpleNamespace(old_housing=np.array([True, False, True, True, False, True]))
    renovate_old_housing(tab, 0.5)
    assert tab.old_housing.tolist() == [False, False, False, True, False, True]
