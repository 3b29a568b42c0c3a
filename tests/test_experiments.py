"""Sweeps on a real Dask LocalCluster: designs, the analytic Ishigami indices, resume, killed workers, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import experiments as ex
from sim.scenario import InputError

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "default.yaml"


def _sweep(tmp_path: Path, body: str, name: str = "s") -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"kind: sweep\nname: {name}\nbase: {BASE}\n" + body, encoding="utf-8")
    return p


def test_designs_have_the_expected_shape(tmp_path):
    spec, _ = ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: plan.warning.lead_time_min, range: [15, 240]}\n"
                                   "  - {path: plan.evacuation.order_level, values: [yellow, orange, red]}\n"
                                   "sampler: {method: factorial, levels: 4}\nreplicates: 3\n"))
    d = ex.design(spec)
    assert len(d) == 12 and set(d["plan.evacuation.order_level"]) == {"yellow", "orange", "red"}
    runs = ex.runs_table(spec, d)
    assert len(runs) == 36 and runs["run_id"].is_unique
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()  # common seeds across experiments
    lhs = spec.model_copy(update={"sampler": ex.Sampler(method="lhs", n=10)})
    dl = ex.design(lhs)
    assert len(dl) == 10 and dl["plan.warning.lead_time_min"].between(15, 240).all()
    assert ex.design(lhs).equals(dl)  # seeded


def test_bad_sweep_files_name_the_field_and_fix(tmp_path):
    with pytest.raises(InputError, match="plan.warning.lead_time_mins"):
        ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: plan.warning.lead_time_mins, range: [1, 2]}\n"))
    with pytest.raises(InputError, match="range"):
        ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: plan.warning.lead_time_min, range: [5, 1]}\n"))
    with pytest.raises(InputError, match="continuous"):
        ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: plan.evacuation.order_level, values: [red]}\n"
                                       "sampler: {method: sobol}\n"))


def test_values_params_and_outcomes_are_checked_before_any_run(tmp_path):
    """What would fail on every worker (or be silently lost) is refused when the sweep file is read."""
    cases = {
        "plan.warning.lead_time_min = 5000": "factors:\n  - {path: plan.warning.lead_time_min, range: [0, 5000]}\n",
        "'purple' is refused": "factors:\n  - {path: plan.evacuation.order_level, values: [red, purple]}\n",
        "plan.warning = ": "factors:\n  - {path: plan.warning, range: [0, 1]}\n",
        "params.residents.order_compliace":
            "factors:\n  - {path: params.residents.order_compliace, range: [0.5, 0.9]}\n",
        "did you mean 'deaths'": "factors:\n  - {path: plan.warning.lead_time_min, range: [15, 60]}\n"
                                 "outcomes: [T3, deths]\n",
        "'plan' is neither": "factors:\n  - {path: plan.warning.lead_time_min, range: [15, 60]}\n"
                             "outcomes: [plan]\n",  # a summary key, but not a number
    }
    for expected, body in cases.items():
        with pytest.raises(InputError, match="Fix") as exc:
            ex.load_sweep(_sweep(tmp_path, body))
        assert expected in str(exc.value) and "s.yaml" in str(exc.value)
    with pytest.raises(InputError, match="not folder names"):
        ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: plan.warning.lead_time_min, range: [15, 60]}\n",
                             name=".."))
    base = tmp_path / "base.yaml"  # a plan at the lead-time limit: switching a project on would push it over
    base.write_text(f"kind: run\nhazard: {ROOT / 'scenarios' / 'hazards' / 'yangtze_2020_chain.yaml'}\n"
                    "plan: {name: p, warning: {lead_time_min: 2880}, projects: {weather_stations: false}}\n",
                    encoding="utf-8")
    sw = tmp_path / "proj.yaml"
    sw.write_text(f"kind: sweep\nname: proj\nbase: {base}\nfactors:\n"
                  "  - {path: plan.projects.weather_stations, values: [false, true]}\n", encoding="utf-8")
    with pytest.raises(InputError, match="weather_stations = True is refused.*out of range"):
        ex.load_sweep(sw)
    with pytest.raises(InputError, match="cannot be loaded"):
        ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: plan.warning.lead_time_min, range: [15, 60]}\n"),
                      builder_name="tests.no_such_module:run")
    spec, _ = ex.load_sweep(ROOT / "scenarios" / "sweeps" / "warning_and_compliance.yaml")  # the shipped one passes
    assert "clearance_h" in spec.outcomes


def test_ishigami_indices_through_the_sweep_path(tmp_path):
    """Sobol indices of the Ishigami function, pushed through designs, LocalCluster, Parquet store and analysis."""
    pi = float(np.pi)
    spec, base = ex.load_sweep(_sweep(tmp_path, f"factors:\n"
                                      f"  - {{path: params.x1, range: [{-pi}, {pi}]}}\n"
                                      f"  - {{path: params.x2, range: [{-pi}, {pi}]}}\n"
                                      f"  - {{path: params.x3, range: [{-pi}, {pi}]}}\n"
                                      "sampler: {method: sobol, n: 256}\noutcomes: [y]\nseed: 3\n", name="ishigami"),
                               builder_name="tests.sweep_builders:ishigami")
    folder = ex.run_sweep(spec, base, tmp_path / "out", n_workers=2, builder_name="tests.sweep_builders:ishigami")
    res = ex.read_results(folder)
    assert len(res) == 256 * 5 and (res["status"] == "ok").all() and res["run_id"].is_unique
    s = ex.sensitivity(folder).set_index("factor")
    known_s1 = {"params.x1": 0.3139, "params.x2": 0.4424, "params.x3": 0.0}
    known_st = {"params.x1": 0.5576, "params.x2": 0.4424, "params.x3": 0.2437}
    for f in known_s1:
        assert s.at[f, "S1"] == pytest.approx(known_s1[f], abs=0.1)
        assert s.at[f, "ST"] == pytest.approx(known_st[f], abs=0.1)
    assert ex.analyse(folder)["sensitivity"].exists()


def _noisy(tmp_path, name="noisy", n=12):
    return ex.load_sweep(_sweep(tmp_path, f"factors:\n  - {{path: params.x1, range: [0, 1]}}\n"
                                          f"sampler: {{method: lhs, n: {n}}}\nreplicates: 2\noutcomes: [y]\n",
                                name=name), builder_name="tests.sweep_builders:noisy")


def test_same_seeds_same_results_on_one_and_two_workers_and_failures_are_recorded(tmp_path):
    spec, base = _noisy(tmp_path)
    one = ex.read_results(ex.run_sweep(spec, base, tmp_path / "w1", n_workers=1,
                                       builder_name="tests.sweep_builders:noisy"))
    two = ex.read_results(ex.run_sweep(spec, base, tmp_path / "w2", n_workers=2,
                                       builder_name="tests.sweep_builders:noisy"))
    cols = ["run_id", "experiment_id", "seed", "status", "y", "params.x1"]
    pd.testing.assert_frame_equal(one[cols], two[cols])
    assert set(two["worker_pid"]) != set(one["worker_pid"]) or two["worker_pid"].nunique() == 2
    failed = one[one["status"] == "failed"]
    assert len(failed) and (failed["params.x1"] > 0.9).all() and failed["error"].str.contains("deliberate").all()
    assert (one.loc[one["status"] == "ok", "params.x1"] <= 0.9).all()


def test_a_killed_worker_loses_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "killed.txt"
    monkeypatch.setenv("FULING_SIM_TEST_KILL_MARKER", str(marker))
    spec, base = _noisy(tmp_path, name="kill")
    res = ex.read_results(ex.run_sweep(spec, base, tmp_path / "k", n_workers=2,
                                       builder_name="tests.sweep_builders:noisy"))
    assert marker.exists()  # a worker did die mid-run
    assert len(res) == 24 and res["run_id"].is_unique and set(res["status"]) <= {"ok", "failed"}


def test_resume_after_the_sweep_process_is_killed(tmp_path):
    path = _sweep(tmp_path, "factors:\n  - {path: params.x1, range: [0, 0.8]}\nsampler: {method: lhs, n: 40}\n"
                            "replicates: 2\noutcomes: [y]\n", name="resume")
    out = tmp_path / "out"
    env = {**os.environ, "FULING_SIM_BUILDER": "tests.sweep_builders:noisy", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    outcomes = out / "resume" / "outcomes"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(outcomes.glob("*.parquet"))) < 10:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep process and its workers, mid-way
    proc.wait()
    before = {p.name for p in outcomes.glob("*.parquet")}
    assert 10 <= len(before) < 80
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    res = ex.read_results(out / "resume")
    assert len(res) == 80 and res["run_id"].is_unique and (res["status"] == "ok").all()
    assert not list(outcomes.glob(".*"))  # no partial files are visible as results


def test_the_district_model_runs_through_the_sweep(tmp_path, district100):
    spec, base = ex.load_sweep(_sweep(tmp_path, "hours: 0.25\nfactors:\n"
                                      "  - {path: plan.warning.lead_time_min, range: [30, 120]}\n"
                                      "  - {path: params.residents.order_compliance, range: [0.5, 0.9]}\n"
                                      "sampler: {method: lhs, n: 2}\noutcomes: [T3, deaths, evacuated_persons]\n"
                                      "timeseries: true\n", name="model"))
    folder = ex.run_sweep(spec, base, tmp_path / "m", n_workers=2)
    res = ex.read_results(folder)
    assert len(res) == 2 and (res["status"] == "ok").all(), res["error"].tolist()
    assert res["evacuated_persons"].notna().all()
    ts = pd.read_parquet(folder / "timeseries")
    assert set(ts["run_id"]) == set(res["run_id"])
    assert (folder / "manifest.json").exists() and (folder / "experiments.parquet").exists()


def test_an_existing_scheduler_takes_the_same_path(tmp_path):
    from distributed import LocalCluster

    spec, base = _noisy(tmp_path, name="remote", n=4)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        folder = ex.run_sweep(spec, base, tmp_path / "r", scheduler=cluster.scheduler_address,
                              builder_name="tests.sweep_builders:noisy")
    local = ex.run_sweep(spec, base, tmp_path / "l", n_workers=1, builder_name="tests.sweep_builders:noisy")
    cols = ["run_id", "seed", "status", "y"]
    pd.testing.assert_frame_equal(ex.read_results(folder)[cols], ex.read_results(local)[cols])


def test_prim_finds_the_failing_corner():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 2000), "b": rng.uniform(0, 1, 2000)})
    fails = (x["a"] > 0.7) & (x["b"] < 0.3)
    box = ex.prim_box(x, fails.to_numpy())
    a, b = box["box"]["a"], box["box"]["b"]
    assert a[0] == pytest.approx(0.7, abs=0.08) and b[1] == pytest.approx(0.3, abs=0.08)
    assert box["density"] > 0.8 and box["coverage"] > 0.7


def test_morris_effects_of_a_linear_function(tmp_path):
    spec, base = ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: params.x1, range: [0, 1]}\n"
                                      "  - {path: params.x2, range: [0, 1]}\n  - {path: params.x3, range: [0, 1]}\n"
                                      "sampler: {method: morris, n: 10, levels: 4}\noutcomes: [y]\n", name="morris"),
                               builder_name="tests.sweep_builders:linear")
    folder = ex.run_sweep(spec, base, tmp_path / "m", n_workers=2, builder_name="tests.sweep_builders:linear")
    s = ex.sensitivity(folder).set_index("factor")
    assert s.at["params.x1", "mu_star"] == pytest.approx(3.0)
    assert s.at["params.x2", "mu_star"] == pytest.approx(1.0)
    assert s.at["params.x3", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert s["sigma"].abs().max() == pytest.approx(0.0, abs=1e-9)  # linear: no interactions


def test_a_local_sweep_leaves_this_process_environment_alone(tmp_path, monkeypatch):
    """Workers get NUMBA_NUM_THREADS=1; the calling process (the app, a test session) keeps its own setting."""
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    spec, base = _noisy(tmp_path, name="env", n=2)
    ex.run_sweep(spec, base, tmp_path / "e", n_workers=1, builder_name="tests.sweep_builders:noisy")
    assert "NUMBA_NUM_THREADS" not in os.environ


def test_a_run_that_kills_its_worker_every_time_is_recorded_and_the_sweep_goes_on(tmp_path):
    import dask
    import distributed  # noqa: F401 - loads its config first: dask.config.set would drop the key on exit

    path = _sweep(tmp_path, "factors:\n  - {path: params.x1, range: [0, 1]}\nsampler: {method: lhs, n: 4}\n"
                            "outcomes: [y]\ntimeseries: true\n", name="crash")
    spec, base = ex.load_sweep(path, builder_name="tests.sweep_builders:crashing")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # give up on the first death
        folder = ex.run_sweep(spec, base, tmp_path / "out", n_workers=2, builder_name="tests.sweep_builders:crashing")
        res = ex.read_results(folder)
        assert len(res) == 4 and res["run_id"].is_unique
        crashed = res["params.x1"] > 0.5
        assert crashed.any() and (~crashed).any()
        assert (res.loc[crashed, "status"] == "failed").all() and res.loc[crashed, "error"].str.contains("died").all()
        for _ in range(3):  # a run queued on a dying worker may fail with it; a resume runs it again
            if (res.loc[~crashed, "status"] == "ok").all():
                break
            assert res.loc[~crashed & (res["status"] != "ok"), "error"].str.contains("died").all()
            ex.run_sweep(spec, base, tmp_path / "out", n_workers=2, builder_name="tests.sweep_builders:crashing")
            res = ex.read_results(folder)
    assert (res.loc[~crashed, "status"] == "ok").all() and (res.loc[crashed, "status"] == "failed").all()
    assert np.allclose(res.loc[~crashed, "y"], res.loc[~crashed, "params.x1"])
    table = pd.read_parquet(folder / "outcomes")  # one dataset: ok and failed rows share the column types
    assert len(table) == 4 and table["y"].dtype == np.float64 and table["y"].isna().sum() == crashed.sum()
    ts_before = {p.name for p in (folder / "timeseries").glob("*.parquet")}
    assert ts_before == {f"{r}.parquet" for r in res.loc[~crashed, "run_id"]}
    # the sweep changed and started again here: nothing of the old design stays beside the new one
    (folder / "discovery.json").write_text("{}", encoding="utf-8")
    spec2, _ = ex.load_sweep(_sweep(tmp_path, "factors:\n  - {path: params.x1, range: [0, 0.4]}\n"
                                              "sampler: {method: lhs, n: 2}\noutcomes: [y]\ntimeseries: true\n",
                                    name="crash"), builder_name="tests.sweep_builders:crashing")
    with pytest.raises(InputError, match="the sweep file changed"):
        ex.run_sweep(spec2, base, tmp_path / "out", n_workers=1, builder_name="tests.sweep_builders:crashing")
    ex.run_sweep(spec2, base, tmp_path / "out", n_workers=1, resume=False,
                 builder_name="tests.sweep_builders:crashing")
    res2 = ex.read_results(folder)
    assert len(res2) == 2 and (res2["status"] == "ok").all()
    assert {p.name for p in (folder / "timeseries").glob("*.parquet")} == {f"{r}.parquet" for r in res2["run_id"]}
    assert not (folder / "discovery.json").exists()
