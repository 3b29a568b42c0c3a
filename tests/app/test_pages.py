"""Every page of the app under Streamlit's AppTest: renders in both languages, key widgets, a run to the
scorecard, uploads (good and bad), compare, sweeps and drill views, and sessions that do not share state."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from sim import app_api

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = ["app_pages/scenario.py", "app_pages/run.py", "app_pages/compare.py", "app_pages/sweeps.py",
         "app_pages/drill.py"]


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("FULING_SIM_OUTPUTS", str(tmp_path))
    return tmp_path


def _app(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.run()
    return at


def _wait(job, limit_s: float = 300.0) -> None:
    t0 = time.time()
    while not job.finished and time.time() - t0 < limit_s:
        time.sleep(0.5)
    assert job.finished, f"job still {job.status} after {limit_s} s"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_without_an_exception(outputs, lang):
    at = _app(lang)
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert at.title, page
    at.switch_page("app_pages/scenario.py")
    at.run()
    title = at.title[0].value
    assert title == ("情景设置" if lang == "zh" else "Scenario set-up")


def test_scenario_page_has_its_widgets_built_from_the_schema(outputs):
    at = _app()
    labels = [s.label for s in at.selectbox]
    assert labels[:3] == ["区县（地理数据）", "灾害情景", "应急预案"]
    assert "Fuling" in at.selectbox(key="district_select").value
    assert at.selectbox(key="hazard_select").value.startswith("长江2020型")
    numbers = {n.key: n for n in at.number_input}
    lead = numbers["plan:warning.lead_time_min"]
    assert lead.value == app_api.get_path(app_api.load_choice(app_api.catalogue("plan")[0]), "warning.lead_time_min")
    assert lead.min == 0 and lead.help  # bounds and help come from the schema
    lead.set_value(180.0)
    at.run()
    assert at.session_state["plan"].warning.lead_time_min == 180.0  # the edit reaches the plan that will run
    assert len(at.file_uploader) == 2 and len(at.get("download_button")) == 2
    at.selectbox(key="plan_select").set_value(next(c.label("zh") for c in app_api.catalogue("plan")
                                                  if c.stem == "fyp14"))
    at.run()
    assert at.session_state["plan"].name == "fyp14"
    assert at.number_input(key="plan:warning.lead_time_min").value == at.session_state["plan"].warning.lead_time_min


def test_a_bad_upload_shows_a_field_error_and_a_good_one_loads(outputs):
    at = _app("en")
    plan = app_api.load_choice(next(c for c in app_api.catalogue("plan") if c.stem == "lean"))
    bad = yaml.safe_load(app_api.to_yaml(plan))
    bad["warning"]["lead_time_min"] = -30
    bad["teams"]["standby_shar"] = 0.5
    at.file_uploader(key="plan_upload").set_value(("mine.yaml", yaml.safe_dump(bad).encode(), "application/x-yaml"))
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "mine.yaml: warning.lead_time_min" in errors and "greater than or equal to 0" in errors
    assert "teams.standby_shar: unknown key" in errors and "did you mean 'standby_share'" in errors
    assert at.session_state["plan"].name == "baseline"  # nothing replaced by a bad file
    at.file_uploader(key="plan_upload").set_value(("ok.yaml", app_api.to_yaml(plan).encode(), "application/x-yaml"))
    at.run()
    assert at.session_state["plan"] == plan
    at.file_uploader(key="plan_upload").set_value(("evil.yaml", b"!!python/object/apply:os.system ['echo hi']",
                                                   "application/x-yaml"))
    at.run()
    assert any("evil.yaml" in e.value for e in at.error) and not at.exception


def test_a_run_completes_and_shows_map_charts_events_and_scorecard(outputs):
    at = _app()
    at.session_state["duration_h"] = 2.0
    at.switch_page("app_pages/run.py")
    at.run()
    at.button(key="run_button").click()
    at.run()
    job = at.session_state["job"]
    _wait(job)
    assert job.status == "done", job.error
    assert job.first_result_s is not None and job.partial is not None  # results were shown while running
    at.run()
    assert not at.exception
    assert [tb.label for tb in at.tabs][:4] == ["地图回放", "时间序列", "事件日志", "评分卡"]
    assert len(at.get("plotly_chart")) == 1 + 3  # the map and three time-series groups
    card = at.dataframe[-1].value
    assert {"T1", "T3", "T4", "T7", "T8"} <= set(card["indicator"])
    assert (job.folder / "frames.parquet").exists() and (job.folder / "provenance.json").exists()
    # the event filter narrows the table
    n_all = len(at.dataframe[0].value)
    ms = at.multiselect(key="event_types")
    ms.set_value([ms.options[0]])
    at.run()
    assert 0 < len(at.dataframe[0].value) < n_all
    # the same scenario again is read back, not run again
    at.button(key="run_button").click()
    at.run()
    assert at.session_state["job"].reused


def test_cancel_stops_a_run(outputs):
    at = _app()
    at.switch_page("app_pages/run.py")
    at.run()
    at.button(key="run_button").click()
    at.run()
    job = at.session_state["job"]
    at.button(key="cancel_button").click()
    at.run()
    _wait(job, 120)
    assert job.status == "cancelled" and job.result is None
    assert not (job.folder / "summary.json").exists()


def test_sessions_do_not_share_state(outputs):
    a, b = _app("zh"), _app("en")
    a.number_input(key="plan:warning.lead_time_min").set_value(200.0)
    a.run()
    b.run()
    assert a.session_state["plan"].warning.lead_time_min == 200.0
    assert b.session_state["plan"].warning.lead_time_min != 200.0
    assert b.title[0].value == "Scenario set-up" and a.title[0].value == "情景设置"


def test_compare_page_scores_two_plans(outputs):
    at = _app("en")
    at.session_state["duration_h"] = 1.0
    at.switch_page("app_pages/compare.py")
    at.run()
    at.number_input(key="cmp_reps").set_value(1)
    at.number_input(key="cmp_dur").set_value(1.0)
    at.run()
    at.button(key="cmp_go").click()
    at.run()
    _wait(at.session_state["cmp_job"], 400)
    assert at.session_state["cmp_job"].status == "done", at.session_state["cmp_job"].error
    at.run()
    assert not at.exception
    card = at.dataframe[0].value
    assert {"baseline", "fyp14"} <= set(card.columns)
    assert {d.label for d in at.get("download_button")} >= {"scorecard.csv", "scorecard.png", "scorecard.md"}
    assert len(at.get("plotly_chart")) == 1  # the per-township chart
    assert set(at.dataframe[2].value["plan"]) == {"baseline", "fyp14"}  # scorecard, differences, townships


def test_sweeps_page_shows_a_finished_sweep(outputs):
    from sim.experiments import load_sweep, run_sweep
    from sim.paths import scenarios_dir

    f = outputs / "ishigami_app.yaml"
    f.write_text(f"kind: sweep\nname: ishigami_app\nbase: {scenarios_dir() / 'default.yaml'}\nhours: 1\n"
                 "factors:\n" + "".join(f"  - {{path: params.{x}, range: [-3.14159, 3.14159]}}\n"
                                         for x in ("x1", "x2", "x3"))
                 + "sampler: {method: sobol, n: 16}\noutcomes: [y]\nseed: 3\n", encoding="utf-8")
    spec, base = load_sweep(f, builder_name="tests.sweep_builders:ishigami")
    run_sweep(spec, base, outputs / "sweeps", n_workers=1, builder_name="tests.sweep_builders:ishigami")
    at = _app("en")
    at.switch_page("app_pages/sweeps.py")
    at.run()
    assert not at.exception
    assert at.checkbox(key="sw_fresh").value is False  # a changed sweep can be started again from the app
    assert [tb.label for tb in at.tabs][-5:] == ["scatter", "parallel coordinates", "sensitivity",
                                                 "where targets fail", "table"]
    sens = at.dataframe[0].value
    assert set(sens["factor"]) == {"params.x1", "params.x2", "params.x3"} and "ST" in sens.columns
    assert len(at.get("plotly_chart")) == 3


def test_drill_page_generates_a_script_from_a_run(outputs):
    at = _app("en")
    at.session_state["duration_h"] = 2.0
    at.switch_page("app_pages/run.py")
    at.run()
    at.button(key="run_button").click()
    at.run()
    _wait(at.session_state["job"])
    at.switch_page("app_pages/drill.py")
    at.run()
    at.button(key="drill_go").click()
    at.run()
    assert not at.exception
    files = at.session_state["drill"]
    assert len(files.msel) > 3 and files.xlsx[:2] == b"PK" and files.docx[:2] == b"PK"
    assert {d.label for d in at.get("download_button")} == {"Markdown", "CSV (MSEL)", "Excel", "Word"}


def test_the_app_command_binds_localhost_without_usage_statistics():
    from sim.cli import app_command

    cmd = app_command(8600)
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=False))
    assert flags["--server.address"] == "localhost" and flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.port"] == "8600" and Path(cmd[4]).name == "app.py" and Path(cmd[4]).exists()
    conf = (Path(APP).parent / ".streamlit" / "config.toml").read_text()
    assert "gatherUsageStats = false" in conf and 'address = "localhost"' in conf
