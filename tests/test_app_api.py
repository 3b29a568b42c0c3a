"""The app's pure functions: upload validation, levers from the schema, edits, scenario digests, run jobs."""

from __future__ import annotations

import time

import pytest

import sim
from sim import app_api
from sim.scenario import HazardSpec, Plan


def _plan(stem: str = "baseline") -> Plan:
    return app_api.load_choice(next(c for c in app_api.catalogue("plan") if c.stem == stem))


def test_catalogue_lists_the_shipped_files_default_first():
    hz, pl = app_api.catalogue("hazard"), app_api.catalogue("plan")
    assert hz[0].stem == "yangtze_2020_chain" and pl[0].stem == "baseline"
    assert {"fyp14", "lean"} <= {c.stem for c in pl} and len(hz) >= 7
    assert hz[0].label("zh").startswith("长江") and pl[0].label("en").startswith("baseline")


def test_yaml_round_trip_of_a_plan_and_a_hazard():
    for obj in (_plan("fyp14"), app_api.load_choice(app_api.catalogue("hazard")[0])):
        kind = "plan" if isinstance(obj, Plan) else "hazard"
        back, errors = app_api.parse_upload(app_api.to_yaml(obj).encode(), kind, "x.yaml")
        assert not errors and back == obj


@pytest.mark.parametrize(("content", "needle"), [
    (b"x" * (app_api.MAX_UPLOAD_BYTES + 1), "limit"),
    ("kind: plan\nname: caf\xe9\n".encode("latin-1"), "UTF-8"),
    (b"kind: plan\nname: [unclosed\n", "YAML syntax error at line"),
    (b"!!python/object/apply:os.system ['echo pwned']", "p.yaml"),
    (b"kind: hazard\nname: h\n", "not a plan file"),
    (b"- just\n- a list\n", "expected a mapping"),
])
def test_bad_uploads_are_refused_with_a_message_naming_the_file(content, needle):
    obj, errors = app_api.parse_upload(content, "plan", "p.yaml")
    assert obj is None and errors and needle in " ".join(e.message for e in errors)
    assert all("p.yaml" in e.message for e in errors)


def test_schema_errors_name_the_field_and_the_fix():
    data = _plan().model_dump(mode="json")
    data["warning"]["lead_time_min"] = -5
    data["evacuation"]["order_level"] = "scarlet"
    obj, errors = app_api.validate("plan", data, "mine.yaml")
    fields = {e.field for e in errors}
    assert obj is None and {"warning.lead_time_min", "evacuation.order_level"} <= fields
    msg = next(e.message for e in errors if e.field == "evacuation.order_level")
    assert msg.startswith("mine.yaml: evacuation.order_level") and "Fix:" in msg


def test_levers_come_from_the_schema_with_bounds_and_help():
    levers = {lv.path: lv for lv in app_api.levers(Plan)}
    lead = levers["warning.lead_time_min"]
    assert lead.kind == "float" and lead.minimum == 0 and lead.help
    assert levers["evacuation.order_level"].kind == "choice"
    assert set(levers["evacuation.order_level"].choices) >= {"yellow", "orange", "red"}
    assert levers["depots.regional_depot"].kind == "bool"
    assert not any(p.startswith(("embankments", "firebreaks", "name")) for p in levers)  # lists go to YAML
    hz = {lv.path for lv in app_api.levers(HazardSpec)}
    assert "fire.wind_speed_m_s" in hz


def test_edits_are_validated_as_a_whole():
    plan = _plan()
    new, errors = app_api.with_edits(plan, {"warning.lead_time_min": 90.0})
    assert not errors and new.warning.lead_time_min == 90.0 and plan.warning.lead_time_min != 90.0
    bad, errors = app_api.with_edits(plan, {"teams.standby_share": 1.5})
    assert bad is None and errors[0].field == "teams.standby_share"


def test_scenario_digest_follows_the_inputs_not_the_output_folder(monkeypatch):
    hz = app_api.load_choice(app_api.catalogue("hazard")[0])
    a = app_api.build_scenario(hz, _plan(), seed=1, outputs_dir="x")
    assert app_api.scenario_digest(a) == app_api.scenario_digest(app_api.build_scenario(hz, _plan(), seed=1,
                                                                                        outputs_dir="y"))
    assert app_api.scenario_digest(a) != app_api.scenario_digest(app_api.build_scenario(hz, _plan(), seed=2))
    assert app_api.scenario_digest(a) != app_api.scenario_digest(app_api.build_scenario(hz, _plan("lean"), seed=1))
    before = app_api.scenario_digest(a)
    monkeypatch.setattr(sim, "__version__", "0.0.1")  # another version may give other results: not reused
    assert app_api.scenario_digest(a) != before


def test_a_run_job_gives_partial_results_then_a_stored_result_that_is_reused(tmp_path, district100):
    hz = app_api.load_choice(app_api.catalogue("hazard")[0])
    sc = app_api.build_scenario(hz, _plan(), seed=5, duration_h=1.0)
    job = app_api.start_run(sc, tmp_path, district=district100, partial_every_s=0.5)
    t0 = time.time()
    while not job.finished and time.time() - t0 < 300:
        time.sleep(0.2)
    assert job.status == "done", job.error
    assert job.partial is not None and job.partial.timeseries["time_s"].max() < 3600.0
    assert 0 < job.first_result_s <= job.elapsed_s()
    assert (job.folder / "summary.json").exists() and job.result.frames is not None
    again = app_api.start_run(sc, tmp_path, district=district100)
    assert again.reused and again.finished
    import pandas as pd

    pd.testing.assert_frame_equal(again.result.timeseries, job.result.timeseries)


def test_a_failing_builder_is_reported_not_raised(tmp_path):
    hz = app_api.load_choice(app_api.catalogue("hazard")[0])
    sc = app_api.build_scenario(hz, _plan(), duration_h=1.0)
    job = app_api.start_run(sc, tmp_path, builder="sim.nowhere:run")
    t0 = time.time()
    while not job.finished and time.time() - t0 < 30:
        time.sleep(0.1)
    assert job.status == "failed" and "cannot be loaded" in job.error


def test_district_catalogue_offers_the_shipped_district():
    ds = app_api.district_catalogue()
    assert ds[0].stem == "fuling" and "Fuling" in ds[0].name and "100 m" in ds[0].name
    assert app_api.load_choice(ds[0]) == app_api.default_district()
