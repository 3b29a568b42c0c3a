"""The fuling-sim command line, end to end (typer's runner, real files)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.paths import scenarios_dir

runner = CliRunner()
SC = scenarios_dir()


def test_validate_exit_codes(tmp_path):
    ok = runner.invoke(app, ["validate", str(SC / "default.yaml"), str(SC / "plans" / "baseline.yaml")])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: plan\nname: x\nwarning:\n  lead_time_mins: 5\n", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(SC / "default.yaml"), str(bad)])
    assert res.exit_code == 1
    assert "lead_time_min" in res.output and "did you mean" in res.output


def test_district_info_json():
    res = runner.invoke(app, ["district", "info", "--cell-size", "500", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["residents"] == 1_115_016 and info["townships"] == 27
    assert set(info["road_km_by_class"]) == {"expressway", "trunk", "village"}
    assert info["shelters"] == 29 and info["teams_by_level"]["village"] == 417


def test_district_info_table_and_bad_cell_size():
    res = runner.invoke(app, ["district", "info", "--cell-size", "500"])
    assert res.exit_code == 0 and "1,115,016" in res.output
    bad = runner.invoke(app, ["district", "info", "--cell-size", "5"])
    assert bad.exit_code == 1 and "30–500" in bad.output


def test_district_map_writes_png(tmp_path):
    out = tmp_path / "map.png"
    res = runner.invoke(app, ["district", "map", "--cell-size", "500", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 50_000


def test_run_writes_results_with_provenance_and_reuses_them(tmp_path, district100):
    out = tmp_path / "[bold]o[v2]"  # printed as typed, never read as Rich markup
    args = ["run", str(SC / "default.yaml"), "--set", f"run.outputs_dir={out}", "--set", "run.seed=11",
            "--name", "r1", "--hours", "0.5"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "[bold]o[v2]" in res.output.replace("\n", "")
    folder = out / "r1"
    prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert prov["seed"] == 11 and prov["fuling_sim_version"] and prov["district_inputs"]["code"]
    assert prov["scenario"]["run"]["seed"] == 11 and prov["hours_override"] == 0.5
    assert prov["scenario_sha256"] and prov["numba_threads"] >= 1
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["population"] == 1_115_016 and summary["duration_h"] == 0.5
    from models.district.metrics import SUMMARY_KEYS

    assert set(summary) == SUMMARY_KEYS  # the list sweeps check outcome names against (a chain writes every key)
    for table in ("timeseries", "township_timeseries", "events", "townships", "requests"):
        assert (folder / f"{table}.parquet").exists()
    assert "run summary" in res.output and "scorecard" in res.output and "T3" in res.output
    assert (folder / "scorecard.md").exists() and (folder / "scorecard.csv").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp folders left
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "complete result already" in again.output
    other = runner.invoke(app, [*args[:-1], "0.25"])  # same --name, other inputs: never replaced silently
    assert other.exit_code == 1 and "holds a run of other inputs" in other.output and "--force" in other.output
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["duration_h"] == 0.5
    # a result made by another fuling-sim version is not reused: the same inputs may give other results
    prov["fuling_sim_version"] = "0.0.1"
    (folder / "provenance.json").write_text(json.dumps(prov), encoding="utf-8")
    third = runner.invoke(app, args)
    assert third.exit_code == 0 and "complete result already" not in third.output
    prov3 = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert prov3["fuling_sim_version"] == sim.__version__


def test_run_bad_override_exits_1(tmp_path):
    res = runner.invoke(app, ["run", str(SC / "default.yaml"), "--set", "run.duration_h=-1"])
    assert res.exit_code == 1 and "run.duration_h" in res.output.replace("\n", "")


def test_compare_writes_the_scorecard_and_resumes(tmp_path, district100):
    import pandas as pd

    args = ["compare", "--hazard", "fire_2022_beishanping", "--plans", "baseline", "--plans", "lean",
            "--replicates", "2", "--hours", "0.5", "--out", str(tmp_path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("compare-fire_2022_beishanping-")]
    for name in ("scorecard.csv", "scorecard.parquet", "scorecard.md", "scorecard.png", "scorecard_differences.csv",
                 "scorecard_townships.parquet", "scorecard_replicates.parquet", "scorecard_meta.json"):
        assert (folder / name).exists(), name
    card = pd.read_parquet(folder / "scorecard.parquet")
    assert set(card["plan"]) == {"baseline", "lean"} and set(card["n"]) <= {0, 2}
    meta = json.loads((folder / "scorecard_meta.json").read_text(encoding="utf-8"))
    assert len(meta["runs"]) == 4 and meta["replicates"] == 2 and len(set(meta["seeds"])) == 2
    assert "differences vs baseline" in res.output and "townships" in res.output
    runs = sorted((folder / "runs").iterdir())
    assert len(runs) == 4
    import shutil

    shutil.rmtree(runs[-1])  # as if interrupted before the last run was written
    (runs[0] / "events.parquet").write_bytes(b"")  # and as if a power cut emptied a file of another
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert (runs[-1] / "summary.json").exists() and (runs[0] / "events.parquet").stat().st_size > 0
    assert pd.read_parquet(folder / "scorecard.parquet").equals(card)  # same seeds, same scorecard
    # a run stored by another fuling-sim version is run again, not reused
    pfile = runs[0] / "provenance.json"
    prov = json.loads(pfile.read_text(encoding="utf-8"))
    prov["fuling_sim_version"] = "0.0.1"
    pfile.write_text(json.dumps(prov), encoding="utf-8")
    third = runner.invoke(app, args)
    assert third.exit_code == 0, third.output
    assert json.loads(pfile.read_text(encoding="utf-8"))["fuling_sim_version"] == sim.__version__
    stamps = {r: (r / "summary.json").stat().st_mtime_ns for r in runs}
    fourth = runner.invoke(app, [*args[:-1], f"{tmp_path}/./"])  # the same folder, spelled otherwise
    assert fourth.exit_code == 0, fourth.output
    assert {r: (r / "summary.json").stat().st_mtime_ns for r in runs} == stamps  # every run reused


def test_compare_unknown_plan_exits_1(tmp_path):
    res = runner.invoke(app, ["compare", "--plans", "baseline", "--plans", "nosuchplan", "--out", str(tmp_path)])
    assert res.exit_code == 1 and "nosuchplan" in res.output


def test_projects_on_a_hazard_mix_writes_the_ranking(tmp_path, district100):
    import pandas as pd

    args = ["projects", "--hazard", "fire_2022_beishanping", "--hazard", "landslide_rainstorm", "--only", "shelters",
            "--only", "geohazard_monitoring", "--hours", "0.5", "--replicates", "1", "--out", str(tmp_path)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("projects-")]
    table = pd.read_parquet(folder / "projects.parquet")
    assert set(table["project"]) == {"all", "shelters", "geohazard_monitoring"}
    assert (table.loc[table["project"] == "shelters", "investment_10k_cny"] == 600).all()
    for name in ("projects.md", "projects.png", "projects_ranking.csv"):
        assert (folder / name).exists()
    assert "per 10,000 万元" in res.output
    bad = runner.invoke(app, ["projects", "--only", "moon_base", "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "moon_base" in bad.output


def test_messages_print_as_typed_not_as_markup(tmp_path):
    bad = tmp_path / "lean[v2].yaml"
    bad.write_text("kind: plan\nname: x\nevacuation:\n  townships: ['[/x]']\n", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 1, res.output
    out = res.output.replace("\n", "")
    assert "lean[v2].yaml" in out and "'[/x]'" in out  # Rich would drop "[v2]" and fail on "[/x]"


def test_an_unwritable_outputs_dir_is_refused_before_simulating(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    res = runner.invoke(app, ["run", str(SC / "default.yaml"), "--set", f"run.outputs_dir={afile}", "--hours", "0.5"])
    assert res.exit_code == 1 and "is a file" in res.output and "simulating" not in res.output


def test_a_plan_that_does_not_fit_the_district_fails_cleanly(tmp_path, district100):
    plan = tmp_path / "plans" / "p.yaml"
    plan.parent.mkdir()
    plan.write_text("kind: plan\nname: p\nshelters: {closed: [涪陵体育馆]}\n", encoding="utf-8")
    rf = tmp_path / "run.yaml"
    rf.write_text(f"kind: run\nhazard: {SC / 'hazards' / 'fire_2022_beishanping.yaml'}\nplan: plans/p.yaml\n"
                  f"run: {{outputs_dir: {tmp_path}}}\n", encoding="utf-8")
    res = runner.invoke(app, ["run", str(rf), "--hours", "0.5"])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert "shelters.closed" in res.output and "Fix:" in res.output


def test_compare_suggests_a_shipped_plan_and_accepts_a_district_file(tmp_path, district100):
    res = runner.invoke(app, ["compare", "--plans", "basline", "--out", str(tmp_path)])
    assert res.exit_code == 1 and "did you mean 'baseline'" in res.output
    res = runner.invoke(app, ["compare", "--hours", "9000", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "8760" in res.output
    res = runner.invoke(app, ["compare", "--district", str(SC / "fuling" / "district.yaml"), "--hazard",
                              "fire_2022_beishanping", "--plans", "baseline", "--replicates", "1", "--hours", "0.25",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
