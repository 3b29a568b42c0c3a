"""Exercise scripts from real runs: key events in order, roles, compression, double-blind, branches, exports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim import drill_export, drills
from sim.cli import app
from sim.paths import scenarios_dir
from sim.scenario import DistrictSpec, Plan, RunSettings, Scenario, load_component


@pytest.fixture(scope="module")
def runs(district100):
    """The busy chain (fire, slides, flood within hours) under the baseline and under a weaker response."""
    from models.district.run import run_scenario
    from tests.models.district.conftest import busy_hazard

    base_plan = load_component(scenarios_dir() / "plans" / "baseline.yaml")
    weak = base_plan.model_dump(mode="json")
    # later fire reports, orders for one township only, and slow teams none of which stands by (since 0.2.2
    # boats reach the cut-off and slides strike fewer homes: a late order alone no longer leaves anyone trapped)
    weak.update(name="weak", fire_watch={"checkpoints": 10, "patrols_per_day": 2},
                evacuation={**weak["evacuation"], "townships": ["龙潭镇"]},
                teams={**weak["teams"], "work_rate_factor": 0.2, "standby_share": 0.0, "standby_share_by_season": {}})
    out = {}
    for plan in (base_plan, Plan.model_validate(weak)):
        sc = Scenario(district=DistrictSpec(), hazard=busy_hazard(), plan=plan,
                      run=RunSettings(duration_h=4.0, seed=5))
        out[plan.name] = run_scenario(sc, district=district100)
    return out


@pytest.fixture(scope="module")
def script(runs, district100):
    return drills.build_script(runs["baseline"], district100, mode="tabletop", length_h=3.0)


def test_every_key_event_appears_in_time_order(runs, script):
    keys = drills.key_events(runs["baseline"].events)
    got = {(round(i.scenario_s, 3), i.event_type) for i in script.injects}
    for r in keys.itertuples():
        assert (round(r.time_s, 3), r.type) in got, f"missing key event {r.type} at {r.time_s}"
    times = [i.scenario_s for i in script.injects]
    assert times == sorted(times) and [i.number for i in script.injects] == list(range(1, len(times) + 1))
    kinds = {i.event_type.split()[0] for i in script.injects}
    assert {"warning", "evacuation", "fire", "landslide", "dispatch", "situation"} <= kinds
    # the first of each kind in the log is the one scripted
    ev = runs["baseline"].events
    first_slide = float(ev[ev["type"].str.startswith("landslide")]["time_s"].min())
    assert first_slide in {i.scenario_s for i in script.injects}


def test_every_role_exists_in_the_organisation(script, runs, district100):
    org = drills.organisation(district100, runs["baseline"].provenance["scenario"])
    for i in script.injects:
        assert i.sender in org and org[i.sender].kind == "control"
        assert i.receiver in org and org[i.receiver].kind == "participant"
    standing = {r.id for r in drills.load_organisation()}
    assert {"bureau", "hq_flood", "hq_forest_fire", "hq_geohazard", "hq_weather", "grid_workers"} <= standing
    assert sum(k.startswith("township:") for k in org) == 27


def test_compression_keeps_order_and_spacing():
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 72 * 3600, 40))
    ex = drills.compress(t, 3 * 3600.0, lead_s=600.0)
    assert ex[0] == pytest.approx(600.0) and ex[-1] == pytest.approx(3 * 3600.0)
    assert np.all(np.diff(ex) >= 0)
    ratio = np.diff(ex) / np.diff(t)
    assert np.allclose(ratio, ratio[0])  # relative spacing kept


def test_script_exercise_times_fit_the_length(script):
    ex = [i.exercise_s for i in script.injects]
    assert min(ex) >= 0 and max(ex) <= 3 * 3600.0 + 1e-6 and ex == sorted(ex)


def test_double_blind_participants_see_no_scenario(script):
    part = drills.participant_edition(script)
    text = drill_export.to_markdown(part, "zh") + drill_export.to_markdown(part, "en")
    assert not part.injects
    for i in script.injects:
        assert i.synopsis_zh not in text and i.message_zh not in text and i.synopsis_en not in text
        assert drills.clock(script, i.scenario_s) not in text
    assert script.meta["hazard"] not in text and script.meta["hazard_zh"] not in text
    assert "双盲" in text
    sealed = drill_export.to_markdown(drills.controller_edition(script), "zh")
    assert "密封" in sealed and all(i.synopsis_zh in sealed for i in script.injects)


def test_branches_are_consistent_with_the_runs_they_came_from(runs):
    base, weak = runs["baseline"], runs["weak"]
    branches = drills.branch_injects(base, {"weak": weak})
    assert branches, "the weaker response must change some outcome"
    bt, wt = base.townships.set_index("township"), weak.townships.set_index("township")
    for b in branches:
        m = b.branch_meta
        assert m["run"] == "weak" and b.branch_zh and b.branch_en
        if "township" in m:
            tw = m["township"]
            assert m["trapped"] == wt.at[tw, "trapped_persons_end"] and m["dead"] == wt.at[tw, "dead_persons"]
            assert m["base_trapped"] == bt.at[tw, "trapped_persons_end"]
            assert m["trapped"] > m["base_trapped"] or m["dead"] > m["base_dead"]
            a_order = float(wt.at[tw, "first_order_s"])
            assert (not np.isfinite(a_order)) or a_order >= float(bt.at[tw, "first_order_s"]) + 1800.0
            assert str(m["trapped"]) in b.synopsis_zh
        else:
            assert m["burned_ha"] == weak.summary["burned_area_ha"] > base.summary["burned_area_ha"]
            rep = weak.events[weak.events["type"].str.startswith("fire reported")]
            assert m["condition_report_s"] == float(rep["time_s"].iloc[0])


def test_exports_read_back(script, runs, tmp_path):
    import docx
    import openpyxl

    merged = drills.with_branches(script, drills.branch_injects(runs["baseline"], {"weak": runs["weak"]}))
    n = len(merged.injects)
    md, csv, xlsx, docx_path = drill_export.write_all(merged, tmp_path / "drill.docx", "zh")
    assert pd.read_csv(csv).shape[0] == n
    wb = openpyxl.load_workbook(xlsx)
    assert wb["MSEL"].max_row == n + 1 and wb["MSEL"]["A1"].value == "序号"
    assert {"MSEL", "角色", "评估"} <= set(wb.sheetnames)
    doc = docx.Document(docx_path)
    steps = [t for t in doc.tables if t.rows[0].cells[0].text == "时间"]
    assert len(steps) == 1 and len(steps[0].rows) == n + 1
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert heads[:5] == ["一、演练情景设计", "二、参演角色", "三、演练指令与对白", "四、解说词", "五、总结与评估"]
    text = md.read_text(encoding="utf-8")
    assert "主情景事件清单" in text and text.count("\n| ") >= n
    en = drill_export.to_markdown(merged, "en")
    assert "Instructions and dialogue" in en and "warning" in en
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_field_mode_asks_for_deployment(runs, district100):
    field = drills.build_script(runs["baseline"], district100, mode="field", length_h=6.0)
    dispatch = [i for i in field.injects if i.event_type.startswith("dispatch")]
    assert dispatch and all("实战" in i.expected_zh for i in dispatch)
    assert field.title_zh.endswith("实战演练脚本")


def test_cli_drill_writes_editions(runs, tmp_path):
    folder = runs["baseline"].write(tmp_path / "run")
    alt = runs["weak"].write(tmp_path / "alt")
    cli = CliRunner()
    res = cli.invoke(app, ["drill", "--run", str(folder), "--length", "2h", "--out", str(tmp_path / "d.docx"),
                           "--branch-run", f"weak={alt}"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "d.docx").exists() and (tmp_path / "d.xlsx").exists() and "branching" in res.output
    blind = cli.invoke(app, ["drill", "--run", str(folder), "--blind", "--lang", "en", "--out",
                             str(tmp_path / "b.md")])
    assert blind.exit_code == 0, blind.output
    assert (tmp_path / "b-participants.md").exists() and (tmp_path / "b-controller.docx").exists()
    bad = cli.invoke(app, ["drill", "--run", str(folder), "--length", "two hours"])
    assert bad.exit_code == 1 and "--length" in bad.output
    meta = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert meta["scenario"]["plan"]["name"] == "baseline"
