"""The plan's key projects as levers: declared effects only, no-effect projects change nothing, budgets from the
data file, the comparison plans and the hazard-mix combination."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.paths import scenarios_dir
from sim.projects import combine_mix, effective_plan, load_projects, project_plans, project_table, touched_fields
from sim.scenario import Plan, load_component
from sim.scorecard import build_scorecard
from tests.helpers import make_result


def _baseline() -> Plan:
    return load_component(scenarios_dir() / "plans" / "baseline.yaml")


def test_the_file_holds_the_plans_21_projects_with_budgets():
    pf = load_projects()
    assert [p.number for p in pf.projects] == list(range(1, 22))
    inv = {p.number: p.investment_10k_cny for p in pf.projects}
    assert inv[2] == 410 and inv[6] == 90000 and inv[15] == 5000 and inv[9] is None  # PLAN_FACTS §6
    assert all(e.source for p in pf.projects for e in p.effects)


@pytest.mark.parametrize("project", [p for p in load_projects().projects], ids=lambda p: p.id)
def test_a_project_changes_only_what_it_declares(project):
    base = _baseline()
    on = effective_plan(base.model_copy(update={"projects": {project.id: True}}))
    touched = touched_fields(base, on)
    declared = {e.path for e in project.effects}
    if project.no_effect:
        assert touched == set()  # a project without a simulated process changes nothing
    else:
        assert touched and touched <= declared, (touched, declared)


def test_effects_apply_as_declared():
    base = _baseline()
    on = effective_plan(base.model_copy(update={"projects": {p.id: True for p in load_projects().projects}}))
    assert on.monitoring.landslide_points == 387 and on.depots.regional_depot
    assert on.warning.lead_time_min == base.warning.lead_time_min + 30 + 15 + 15
    assert on.warning.relay_delay_factor == pytest.approx(0.9 * 0.6)
    assert "tv_internet" in on.warning.channels and on.shelters.closed == []
    assert on.housing.old_housing_renovated_share == 1.0 and on.command.dispatch_interval_min == 5
    assert on.projects == {} and "projects on" in on.description
    with pytest.raises(ValueError, match="unknown id"):
        effective_plan(base.model_copy(update={"projects": {"moon_base": True}}))


def test_comparison_plans():
    plans = project_plans(_baseline())
    with_effect = [p.id for p in load_projects().projects if p.effects]
    assert list(plans)[:2] == ["none", "all"] and len(plans) == 2 + len(with_effect)
    assert not any(plans["none"].projects.values())
    assert {k for k, v in plans["only_shelters"].projects.items() if v} == {"shelters"}
    loo = project_plans(_baseline(), ids=["shelters", "regional_depot"], leave_one_out=True)
    assert set(loo) == {"none", "all", "only_shelters", "only_regional_depot", "without_shelters",
                        "without_regional_depot"}


def test_per_investment_figures_use_the_budgets_of_the_data_file():
    runs = {name: [(s, make_result(exposed=(1000, 0), warned_before=(int(10 * v), 0))) for s, v in vals]
            for name, vals in {"none": [(1, 80.0), (2, 82.0), (3, 84.0)],
                               "only_geohazard_monitoring": [(1, 84.1), (2, 86.0), (3, 88.2)],
                               "only_regional_rescue_centre": [(1, 81.0), (2, 83.0), (3, 85.0)]}.items()}
    t = project_table(build_scorecard(runs).differences).set_index(["project", "indicator"])
    row = t.loc[("geohazard_monitoring", "T3")]
    assert row["investment_10k_cny"] == 410
    assert row["change_per_10000_wan_cny"] == pytest.approx(row["change"] * 1e4 / 410)
    assert np.isnan(t.loc[("regional_rescue_centre", "T3")]["change_per_10000_wan_cny"])  # no budget given
    runs["all"] = runs["only_geohazard_monitoring"]
    t2 = project_table(build_scorecard(runs).differences, all_ids=["geohazard_monitoring", "shelters"])
    assert (t2.loc[t2["project"] == "all", "investment_10k_cny"] == 410 + 600).all()


def test_hazard_mix_sums_annual_and_weights_the_others():
    def card(dead: int, cov: float, lam: float):
        return build_scorecard({"p": [(1, make_result(dead=(dead, 0), exposed=(1000, 0),
                                                      warned_before=(int(10 * cov), 0),
                                                      summary={"annual_frequency_per_year": lam}))]}), lam
    mix = combine_mix({"flood": card(10, 90.0, 0.02), "fire": card(1, 50.0, 0.2)}).set_index("indicator")
    assert mix.loc["T4", "value"] == pytest.approx(10 * 0.02 + 1 * 0.2)  # per million per year, summed
    assert mix.loc["T3", "value"] == pytest.approx((90 * 0.02 + 50 * 0.2) / 0.22)
    assert isinstance(mix, pd.DataFrame)
