"""Scenario files: the shipped ones validate; bad input gets a message naming file, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.paths import scenarios_dir
from sim.scenario import (
    DistrictSpec,
    InputError,
    Plan,
    Scenario,
    load_component,
    load_scenario,
    validate_files,
)

SC = scenarios_dir()


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def run_file(tmp_path: Path, plan_text: str | None = None, hazard: str | None = None, run: str = "") -> Path:
    """A run file pointing at the shipped district and hazard and a plan written here."""
    plan = write(tmp_path, "plans/p.yaml", plan_text or "kind: plan\nname: test\n")
    hz = hazard or str(SC / "hazards" / "yangtze_2020_chain.yaml")
    return write(tmp_path, "run.yaml", f"kind: run\ndistrict: {SC / 'fuling' / 'district.yaml'}\n"
                 f"hazard: {hz}\nplan: {plan.relative_to(tmp_path)}\n{run}")


def error_of(fn, *args, **kw) -> str:
    with pytest.raises(InputError) as exc:
        fn(*args, **kw)
    return str(exc.value)


def test_every_shipped_file_validates():
    files = sorted(SC.rglob("*.yaml"))
    assert len(files) >= 4
    assert [err for _, err in validate_files(files) if err] == []


def test_default_scenario_loads_frozen_with_sources():
    sc = load_scenario(SC / "default.yaml")
    assert isinstance(sc, Scenario)
    assert sc.run.duration_h == 72 and sc.district.cell_size_m == 100
    assert sc.sources["plan"].endswith("baseline.yaml")
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen models
        sc.run.seed = 3


# ---- ten and more distinct bad inputs, each with its message checked -------------------------
def test_bad_1_misspelled_key_suggests_nearest(tmp_path):
    p = write(tmp_path, "plans/a.yaml", "kind: plan\nname: x\nwarning:\n  lead_time_mins: 30\n")
    msg = error_of(load_component, p)
    assert str(p) in msg and "warning.lead_time_mins" in msg and "did you mean 'lead_time_min'" in msg


def test_bad_2_out_of_bounds_number_names_bound_and_example(tmp_path):
    p = write(tmp_path, "fuling/d.yaml", "kind: district\ncell_size_m: 10\n")
    msg = error_of(load_component, p)
    assert "cell_size_m" in msg and "greater than or equal to 30" in msg and "e.g. 100.0" in msg and str(p) in msg


def test_bad_3_yaml_syntax_gives_line_and_column(tmp_path):
    p = write(tmp_path, "plans/b.yaml", "kind: plan\nname: x\nwarning:\n  lead_time_min: [1, 2\n")
    msg = error_of(load_component, p)
    assert str(p) in msg and "line 5" in msg and "column" in msg and "YAML syntax error" in msg


def test_bad_4_wrong_type(tmp_path):
    p = write(tmp_path, "plans/c.yaml", "kind: plan\nname: x\nwarning:\n  lead_time_min: soon\n")
    msg = error_of(load_component, p)
    assert "warning.lead_time_min" in msg and "valid number" in msg and "'soon'" in msg


def test_bad_5_unknown_township_suggests_name(tmp_path):
    p = write(tmp_path, "plans/d.yaml", "kind: plan\nname: x\nevacuation:\n  townships: [Longtam]\n")
    msg = error_of(load_component, p)
    assert "evacuation.townships.0" in msg and "did you mean 'Longtan'" in msg


def test_bad_6_enum_suggests_value(tmp_path):
    p = write(tmp_path, "plans/e.yaml", "kind: plan\nname: x\nevacuation:\n  order_level: orang\n")
    msg = error_of(load_component, p)
    assert "evacuation.order_level" in msg and "did you mean 'orange'" in msg


def test_bad_7_series_length_mismatch(tmp_path):
    p = write(tmp_path, "hazards/h.yaml", "kind: hazard\nname: h\nflood:\n  inflows:\n    - river: wu\n"
              "      time_h: [0, 1, 2]\n      discharge_m3s: [1, 2]\n")
    msg = error_of(load_component, p)
    assert "flood.inflows.0" in msg and "discharge_m3s has 2 values but time_h has 3" in msg


def test_bad_8_hazard_without_any_hazard(tmp_path):
    p = write(tmp_path, "hazards/none.yaml", "kind: hazard\nname: nothing\n")
    msg = error_of(load_component, p)
    assert "at least one of: flood, fire, landslide" in msg


def test_bad_9_missing_referenced_file(tmp_path):
    p = write(tmp_path, "run.yaml", "kind: run\nhazard: nowhere.yaml\nplan: plans/x.yaml\n")
    msg = error_of(load_scenario, p)
    assert str(p) in msg and "hazard" in msg and "'nowhere.yaml' not found" in msg


def test_bad_10_duplicate_key(tmp_path):
    p = write(tmp_path, "plans/f.yaml", "kind: plan\nname: x\nname: y\n")
    msg = error_of(load_component, p)
    assert "duplicate key 'name'" in msg and "line 2" in msg


def test_bad_11_trigger_levels_not_rising(tmp_path):
    p = write(tmp_path, "plans/g.yaml", "kind: plan\nname: x\nwarning:\n  river_stage_triggers_m: "
              "{blue: 180, yellow: 177}\n")
    msg = error_of(load_component, p)
    assert "warning.river_stage_triggers_m" in msg and "must rise with the level" in msg


def test_bad_12_ignition_outside_district(tmp_path):
    p = write(tmp_path, "hazards/i.yaml", "kind: hazard\nname: f\nfire:\n  ignitions:\n"
              "    - {lon: 106.5, lat: 29.5}\n")
    msg = error_of(load_component, p)
    assert "fire.ignitions.0.lon" in msg and "106.9" in msg


def test_bad_13_urban_exceeds_total(tmp_path):
    p = write(tmp_path, "fuling/u.yaml", "kind: district\npopulation_total: 100\npopulation_urban: 200\n")
    assert "population_urban (200) exceeds population_total (100)" in error_of(load_component, p)


def test_bad_14_plan_file_used_as_hazard(tmp_path):
    plan = write(tmp_path, "plans/p.yaml", "kind: plan\nname: x\n")
    p = run_file(tmp_path, hazard=str(plan))
    msg = error_of(load_scenario, p)
    assert "this is a plan file" in msg and "hazard" in msg


def test_bad_15_not_a_mapping(tmp_path):
    p = write(tmp_path, "plans/l.yaml", "- just\n- a list\n")
    assert "expected a mapping" in error_of(load_component, p)


def test_bad_16_yaml_cannot_construct_python_objects(tmp_path):
    p = write(tmp_path, "plans/evil.yaml", "kind: plan\nname: !!python/object/apply:os.system ['echo hi']\n")
    msg = error_of(load_component, p)
    assert str(p) in msg and "python/object" in msg


def test_errors_from_several_fields_are_all_reported(tmp_path):
    p = write(tmp_path, "plans/m.yaml", "kind: plan\nname: x\nteams:\n  standby_share: 2\ndepots:\n"
              "  stock_multiplier: -1\n")
    msg = error_of(load_component, p)
    assert "teams.standby_share" in msg and "depots.stock_multiplier" in msg


def test_plan_lever_errors_name_the_nested_field(tmp_path):
    p = write(tmp_path, "plans/levers.yaml", "kind: plan\nname: x\nshelters:\n  extra:\n    - name: s\n"
              "      township: Longtam\n      capacity_persons: 100\nteams:\n  preposition:\n"
              "    - {speciality: cooking, township: 龙潭镇}\nfire_watch:\n  checkpoints: -3\n")
    msg = error_of(load_component, p)
    assert "shelters.extra[0].township" in msg or "shelters.extra.0.township" in msg
    assert "did you mean" in msg and "Longtan" in msg
    assert "preposition" in msg and "forest_fire" in msg and "fire_watch.checkpoints" in msg


def test_hazard_frequency_is_optional_and_bounded(tmp_path):
    hz = load_component(SC / "hazards" / "yangtze_2020_chain.yaml")
    assert hz.annual_frequency_per_year == 0.02 and hz.frequency_source.startswith("assumption")
    assert load_component(SC / "hazards" / "wu_flood.yaml").annual_frequency_per_year is None
    p = write(tmp_path, "hazards/h.yaml", "kind: hazard\nname: h\nannual_frequency_per_year: 0\n"
              "fire:\n  ignitions: [{lon: 107.3, lat: 29.7}]\n")
    assert "annual_frequency_per_year" in error_of(load_component, p)


# ---- overrides ------------------------------------------------------------------------------
def test_override_changes_value_and_revalidates(tmp_path):
    sc = load_scenario(SC / "default.yaml", ["plan.warning.lead_time_min=30", "run.seed=7"])
    assert sc.plan.warning.lead_time_min == 30 and sc.run.seed == 7
    msg = error_of(load_scenario, SC / "default.yaml", ["plan.warning.lead_time_min=-5"])
    assert "--set warning.lead_time_min=-5" in msg or "--set plan.warning.lead_time_min=-5" in msg
    assert "greater than or equal to 0" in msg


def test_override_bad_section_suggests(tmp_path):
    msg = error_of(load_scenario, SC / "default.yaml", ["plna.warning.lead_time_min=30"])
    assert "did you mean 'plan'" in msg


def test_override_without_equals():
    assert "expected PATH=VALUE" in error_of(load_scenario, SC / "default.yaml", ["plan.name"])


def test_override_unknown_field_suggests():
    msg = error_of(load_scenario, SC / "default.yaml", ["district.cell_size=50"])
    assert "did you mean 'cell_size_m'" in msg


def test_inline_sections_and_relative_outputs(tmp_path):
    p = run_file(tmp_path, run="run:\n  duration_h: 24\n  outputs_dir: out\n")
    sc = load_scenario(p)
    assert sc.run.outputs_dir == (tmp_path / "out").resolve()
    assert isinstance(sc.plan, Plan) and sc.plan.name == "test"


def test_district_user_paths_resolve_against_their_file(tmp_path):
    p = write(tmp_path, "fuling/d.yaml", "kind: district\ndata:\n  dem_path: dem.tif\n")
    spec = load_component(p)
    assert isinstance(spec, DistrictSpec) and spec.data.dem_path == (tmp_path / "fuling" / "dem.tif").resolve()


def test_township_aliases_are_canonicalised(tmp_path):
    p = write(tmp_path, "plans/n.yaml", "kind: plan\nname: x\nevacuation:\n  townships: [Longtan, 蔺市镇, 罗云乡]\n")
    assert load_component(p).evacuation.townships == ["龙潭镇", "蔺市镇", "罗云镇"]


def test_plan_works_are_validated_with_field_names(tmp_path):
    p = write(tmp_path, "plans/w.yaml", "kind: plan\nname: x\nembankments:\n"
              "  - points: [[107.2, 29.66], [107.21, 29.7]]\n    crest_m: 120\n"
              "firebreaks:\n  - points: [[107.2, 29.66]]\n")
    msg = error_of(load_component, p)
    assert "w.yaml" in msg and "embankments.0.crest_m" in msg and "firebreaks.0.points" in msg
    ok = write(tmp_path, "plans/ok.yaml", "kind: plan\nname: x\nfirebreaks:\n"
               "  - points: [[107.2, 29.66], [107.21, 29.7]]\n    kind: biological\n")
    assert load_component(ok).firebreaks[0].width_m == 30.0


# ---- hostile or odd files: refused with a message, never a traceback or a hang -------------------
def test_nested_aliases_are_refused_before_they_expand(tmp_path):
    text = "kind: plan\nname: x\na0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)) + "description: *a8\n"
    p = write(tmp_path, "plans/bomb.yaml", text)
    msg = error_of(load_component, p)  # 9⁹ values if expanded: refused from the node graph in milliseconds
    assert "bomb.yaml" in msg and "alias" in msg
    small = write(tmp_path, "plans/ok.yaml", "kind: plan\nname: &n x\nname_zh: *n\n")
    assert load_component(small).name_zh == "x"  # a few aliases stay allowed


def test_a_list_used_as_a_key_names_line_and_column(tmp_path):
    p = write(tmp_path, "plans/k.yaml", "kind: plan\nname: x\n? [a, b]\n: 1\n")
    msg = error_of(load_component, p)
    assert "k.yaml" in msg and "line 3" in msg and "list used as a key" in msg


def test_a_folder_is_not_a_file(tmp_path):
    (tmp_path / "plans" / "dir.yaml").mkdir(parents=True)
    assert "is a folder" in error_of(load_component, tmp_path / "plans" / "dir.yaml")
    rf = run_file(tmp_path, hazard=str(tmp_path / "plans"))
    assert "is a folder" in error_of(load_scenario, rf)


def test_start_time_must_be_a_real_date(tmp_path):
    p = write(tmp_path, "hazards/t.yaml", "kind: hazard\nname: t\nstart_time: '2020-13-45T99:99'\n"
              "fire:\n  random_ignitions_per_day: 1\n")
    msg = error_of(load_component, p)
    assert "start_time" in msg and "not a real date" in msg
    p.write_text(p.read_text().replace("2020-13-45T99:99", "2021-02-29T10:00"))  # not a leap year
    assert "not a real date" in error_of(load_component, p)


def test_a_warning_channel_listed_twice_is_refused(tmp_path):
    p = write(tmp_path, "plans/c.yaml", "kind: plan\nname: c\nwarning:\n  channels: [grid_worker, grid_worker]\n")
    msg = error_of(load_component, p)
    assert "warning.channels" in msg and "grid_worker listed more than once" in msg


def test_unknown_project_id_is_caught_on_loading(tmp_path):
    msg = error_of(load_scenario, run_file(tmp_path, "kind: plan\nname: p\nprojects: {geohazard_monitorin: true}\n"))
    assert "p.yaml" in msg and "projects" in msg and "did you mean geohazard_monitoring" in msg


def test_a_project_that_pushes_a_field_out_of_range_is_caught_on_loading(tmp_path):
    p = write(tmp_path, "plans/w.yaml", "kind: plan\nname: w\nwarning: {lead_time_min: 2880}\n"
              "projects: {weather_stations: true}\n")
    msg = error_of(load_component, p)
    assert "w.yaml" in msg and "weather_stations" in msg and "warning.lead_time_min" in msg and "2880" in msg
    p.write_text(p.read_text().replace("2880", "600"))
    assert load_component(p).projects == {"weather_stations": True}


def test_messages_stay_short_for_huge_inputs_and_required_fields_have_no_junk_hint(tmp_path):
    p = write(tmp_path, "hazards/h.yaml", "kind: hazard\nname: h\nfire:\n  ignitions: "
              + str(list(range(5000))) + "\n")
    msg = error_of(load_component, p)
    assert "fire.ignitions" in msg and len(msg) < 3000
    msg = error_of(load_component, write(tmp_path, "plans/n.yaml", "kind: plan\ndescription: d\n"))
    assert "name: required field is missing" in msg and "Undefined" not in msg


def test_override_errors_quote_the_override_as_typed_and_all_unknown_keys_are_listed(tmp_path):
    msg = error_of(load_scenario, run_file(tmp_path), ["plan.warning.lead_time_min=-5"])
    assert "p.yaml (value set by --set plan.warning.lead_time_min=-5)" in msg
    rf = write(tmp_path, "r2.yaml", run_file(tmp_path).read_text() + "plna: x\nrunn: y\n")
    msg = error_of(load_scenario, rf)
    assert "plna: unknown key" in msg and "runn: unknown key" in msg
    long_name = write(tmp_path, "plans/l.yaml",
                      "kind: plan\nname: l\nevacuation:\n  townships: [Longtan Township Area]\n")
    assert "unknown township 'Longtan Township Area'" in error_of(load_component, long_name)
