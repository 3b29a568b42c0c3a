"""Parameter sweeps and Monte-Carlo replicates on Dask, with a resumable Parquet store and sensitivity analysis.

A sweep file (``kind: sweep``) names a base run file, factors (ranges or categories on dotted paths:
``plan.*``, ``hazard.*``, ``run.*``, ``district.*`` or ``params.*`` for the model's behavioural parameters),
a sampler (full factorial, Latin hypercube, Sobol or Morris designs from SALib), replicates, a master seed
and the outcomes (scorecard indicator keys such as ``T3`` or summary keys such as ``deaths``).

Execution is the same for a ``LocalCluster`` (default: one worker process per core, one thread each, numba
held to one thread) and a remote scheduler: each task receives plain JSON-able data (the sweep spec, one
experiment's factor values, a seed) — nothing user-supplied is pickled into the cluster — runs the model,
and writes its row atomically as ``outcomes/<run_id>.parquet`` beside the sweep's ``manifest.json`` and
``experiments.parquet``. The outcomes folder is a Parquet dataset joined to the experiments on
``experiment_id``. A finished run is never run again (``resume``); an interrupted sweep or a killed worker
loses nothing (Dask retries the task elsewhere; partial files are never visible); a run that fails is
recorded with its error and the sweep goes on.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

import sim
from sim.atomic import atomic_write
from sim.results import code_sha256
from sim.scorecard import replicate_seeds
from sim.yamlio import InputError

SECTIONS = ("plan", "hazard", "run", "district", "params")


class Factor(BaseModel):
    """One uncertainty or lever: a continuous range or a list of categories on a dotted path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(pattern=r"^(plan|hazard|run|district|params)\.[A-Za-z0-9_.]+$",
                      description="dotted path, e.g. plan.warning.lead_time_min or params.residents.order_compliance")
    kind: Literal["uncertainty", "lever"] = "uncertainty"
    range: tuple[float, float] | None = Field(None, description="[low, high] for a continuous factor")
    values: list[Any] | None = Field(None, min_length=1, description="categories, e.g. [yellow, orange, red]")
    integer: bool = Field(False, description="round sampled values to integers")

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        if (self.range is None) == (self.values is None):
            raise ValueError(f"{self.path}: give either range: [low, high] or values: [...], not both or neither")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"{self.path}: range must be [low, high] with low < high, e.g. [15, 240]")
        return self

    @property
    def name(self) -> str:
        """Column name of the factor (its dotted path)."""
        return self.path


class Sampler(BaseModel):
    """How the experiments are drawn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["factorial", "lhs", "sobol", "morris"] = "lhs"
    n: int = Field(8, ge=1, le=100_000, description="LHS samples; Sobol/Morris base samples (N)")
    levels: int = Field(3, ge=2, le=20, description="levels of a continuous factor (factorial, Morris grid)")
    second_order: bool = Field(False, description="Sobol: also second-order indices")


class SweepSpec(BaseModel):
    """A sweep file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["sweep"] = "sweep"
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str = Field("../default.yaml", description="run file the factors change (relative to the sweep file)")
    hours: float | None = Field(None, gt=0, le=8760, description="simulated hours (default: the base run's)")
    factors: list[Factor] = Field(min_length=1, max_length=50)
    sampler: Sampler = Field(default_factory=Sampler)
    replicates: Annotated[int, Field(ge=1, le=1000)] = 1
    seed: int = Field(1, ge=0)
    outcomes: list[str] = Field(default_factory=lambda: ["T3", "T4", "deaths", "evacuated_persons"], min_length=1)
    timeseries: bool = Field(False, description="also keep each run's time series")

    @model_validator(mode="after")
    def _checks(self) -> SweepSpec:
        if set(self.name) == {"."}:
            raise ValueError("name: '.' and '..' are not folder names; use letters, digits, _ . -")
        paths = [f.path for f in self.factors]
        if len(set(paths)) != len(paths):
            raise ValueError("factors: each path may appear once")
        if self.sampler.method in ("sobol", "morris") and any(f.values is not None for f in self.factors):
            raise ValueError(f"sampler.method {self.sampler.method}: needs continuous factors (range: [low, high]); "
                             "use factorial or lhs for categories")
        return self


# ---------------------------------------------------------------------------------------------- design
def problem(spec: SweepSpec) -> dict:
    """Return the SALib problem of the continuous factors."""
    return {"num_vars": len(spec.factors), "names": [f.name for f in spec.factors],
            "bounds": [list(f.range) if f.range is not None else [0.0, 1.0] for f in spec.factors]}


def design(spec: SweepSpec) -> pd.DataFrame:
    """Return the experiments: one row per factor combination (``experiment_id`` and one column per factor)."""
    s = spec.sampler
    rng = np.random.default_rng(spec.seed)
    if s.method == "factorial":
        axes = [f.values if f.values is not None else list(np.linspace(*f.range, s.levels)) for f in spec.factors]
        rows = list(itertools.product(*axes))
        df = pd.DataFrame(rows, columns=[f.name for f in spec.factors])
    elif s.method == "lhs":
        from SALib.sample import latin

        unit = latin.sample({"num_vars": len(spec.factors), "names": [f.name for f in spec.factors],
                             "bounds": [[0.0, 1.0]] * len(spec.factors)}, s.n, seed=rng)
        cols = {}
        for k, f in enumerate(spec.factors):
            u = unit[:, k]
            if f.values is not None:
                cols[f.name] = [f.values[min(int(x * len(f.values)), len(f.values) - 1)] for x in u]
            else:
                cols[f.name] = f.range[0] + u * (f.range[1] - f.range[0])
        df = pd.DataFrame(cols)
    elif s.method == "sobol":
        from SALib.sample import sobol

        df = pd.DataFrame(sobol.sample(problem(spec), s.n, calc_second_order=s.second_order, seed=spec.seed),
                          columns=[f.name for f in spec.factors])
    else:
        from SALib.sample import morris

        df = pd.DataFrame(morris.sample(problem(spec), s.n, num_levels=s.levels, seed=spec.seed),
                          columns=[f.name for f in spec.factors])
    for f in spec.factors:
        if f.integer and f.values is None:
            df[f.name] = np.round(df[f.name].astype(float)).astype(int)
    df.insert(0, "experiment_id", np.arange(len(df), dtype=np.int64))
    return df


def runs_table(spec: SweepSpec, experiments: pd.DataFrame) -> pd.DataFrame:
    """Every run: experiment × replicate, with its ``run_id`` and seed (common seeds across experiments)."""
    seeds = replicate_seeds(spec.seed, spec.replicates)
    rows = [(f"{e:06d}-r{r:03d}", int(e), r, seeds[r]) for e in experiments["experiment_id"]
            for r in range(spec.replicates)]
    return pd.DataFrame(rows, columns=["run_id", "experiment_id", "replicate", "seed"])


# ---------------------------------------------------------------------------------------------- one run
def _set(data: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    cur = data
    for k in keys[:-1]:
        if not isinstance(cur.get(k), dict):
            cur[k] = {}
        cur = cur[k]
    cur[keys[-1]] = value


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def outcome_values(result, names: list[str]) -> dict[str, float | None]:
    """Outcomes of one run: scorecard indicators by key (display units), else summary figures by key."""
    from sim.metrics import INDICATORS, evaluate

    keys = {i.key for i in INDICATORS}
    vals = evaluate(result) if keys & set(names) else {}
    out = {}
    for n in names:
        v = vals.get(n) if n in keys else result.summary.get(n)
        out[n] = None if v is None or isinstance(v, (dict, list, str)) else float(v)
    return out


def run_one(spec_json: dict, base_json: dict, factors: dict, run: dict, out_dir: str, builder_name: str | None,
            ) -> dict:
    """Run one experiment × seed on a worker and write its row; return the row (status ok or failed).

    Everything arrives as plain data; the builder is resolved by name on the worker.
    """
    import numba

    from sim.runner import resolve_builder
    from sim.scenario import Scenario

    numba.set_num_threads(1)
    spec = SweepSpec.model_validate(spec_json)
    t0 = time.perf_counter()
    row = {"run_id": run["run_id"], "experiment_id": run["experiment_id"], "replicate": run["replicate"],
           "seed": run["seed"], "status": "ok", "error": "", "worker_pid": os.getpid()}
    try:
        data = json.loads(json.dumps(base_json))
        params: dict = {}
        for path, value in factors.items():
            section, rest = path.split(".", 1)
            if section == "params":
                _set(params, rest, _plain(value))
            else:
                _set(data[section], rest, _plain(value))
        data["run"]["seed"] = int(run["seed"])
        sc = Scenario.model_validate(data)
        builder = resolve_builder(builder_name)
        result = builder(sc, params=params or None, duration_h=spec.hours)
        row.update(outcome_values(result, spec.outcomes))
        if spec.timeseries:
            ts = result.timeseries.copy()
            ts.insert(0, "run_id", run["run_id"])
            _write_parquet(ts, Path(out_dir) / "timeseries" / f"{run['run_id']}.parquet")
    except Exception as exc:  # a failing run is recorded, the sweep goes on
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"[:4000]
        for n in spec.outcomes:
            row.setdefault(n, None)
    row["wall_s"] = time.perf_counter() - t0
    _write_row(row, spec.outcomes, Path(out_dir))
    return row


def _write_row(row: dict, outcomes: list[str], out_dir: Path) -> None:
    """Write one run's row with fixed column types (outcomes float64, missing = NaN).

    Every file of ``outcomes/`` then has the same schema, so the folder reads as one Parquet dataset
    (pyarrow, DuckDB, Polars).
    """
    df = pd.DataFrame([row])
    for n in outcomes:
        df[n] = pd.to_numeric(df[n], errors="coerce").astype("float64")
    df["error"] = df["error"].astype(str)
    _write_parquet(df, out_dir / "outcomes" / f"{row['run_id']}.parquet")


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda p: df.to_parquet(p, index=False))


# ---------------------------------------------------------------------------------------------- the sweep
def load_sweep(path: Path | str, builder_name: str | None = None) -> tuple[SweepSpec, dict]:
    """Read a sweep file and its base run; return the spec and the base scenario as JSON-able data.

    Every factor's extreme values and the outcome names are checked before anything runs, the ``params.*``
    factors and the outcomes against the builder the sweep will use (``builder_name``, as for
    :func:`run_sweep`; a builder may offer ``check_params(dict)`` and ``summary_keys``).
    """
    from sim.runner import resolve_builder
    from sim.scenario import _validate, load_scenario
    from sim.yamlio import load_yaml_file

    path = Path(path)
    spec = _validate(SweepSpec, load_yaml_file(path), str(path))
    base_path = (path.parent / spec.base).resolve()
    base = load_scenario(base_path)
    base_json = base.model_dump(mode="json", exclude={"sources"})
    for f in spec.factors:  # every non-params path must exist in the base scenario
        section, rest = f.path.split(".", 1)
        if section == "params":
            continue
        cur = base_json[section]
        for k in rest.split("."):
            if not isinstance(cur, dict) or k not in cur:
                raise InputError(f"{path}: factors: path {f.path!r} is not a field of the base scenario "
                                 f"({base_path.name}). Fix: use a dotted path shown by the scenario schema, e.g. "
                                 "plan.warning.lead_time_min")
            cur = cur[k]
    try:
        builder = resolve_builder(builder_name)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}. Fix: set FULING_SIM_BUILDER to package.module:function, or unset it "
                         "for the district model") from None
    _check_values(spec, base_json, path, getattr(builder, "check_params", None))
    _check_outcomes(spec, path, getattr(builder, "summary_keys", None))
    return spec, base_json


def _factor_ends(f: Factor) -> list[Any]:
    """Return a factor's extreme values: a range's ends (rounded if integer), or its categories."""
    if f.values is not None:
        return list(f.values)
    lo, hi = f.range
    return [int(round(lo)), int(round(hi))] if f.integer else [lo, hi]


def _check_values(spec: SweepSpec, base_json: dict, path: Path, check_params: Callable | None) -> None:
    """Validate each factor's extreme values, one at a time, on the base scenario.

    So no run fails for a value the schema refuses: a range beyond a field's limit, a misspelled category,
    a ``params.*`` typo.
    """
    from sim.scenario import Scenario, _check_projects

    for f in spec.factors:
        section, rest = f.path.split(".", 1)
        for v in _factor_ends(f):
            try:
                if section == "params":
                    if check_params is not None:
                        nested: dict = {}
                        _set(nested, rest, v)
                        check_params(nested)
                    continue
                data = json.loads(json.dumps(base_json))
                _set(data[section], rest, v)
                _check_projects(Scenario.model_validate(data).plan, "plan")  # the projects keep it in range
            except ValueError as exc:
                errs = exc.errors() if hasattr(exc, "errors") else [{"msg": str(exc), "loc": ()}]
                e = errs[0]
                where = ".".join(str(x) for x in e["loc"])
                msg = e["msg"].removeprefix("Value error, ").removeprefix("Extra inputs are not permitted")
                msg = msg or "no such parameter"
                raise InputError(f"{path}: factors: {f.path} = {v!r} is refused ({where}: {msg}). Fix: keep the "
                                 "range or values within what the field accepts (see `fuling-sim validate` on a "
                                 "run file with that value)") from None


def _check_outcomes(spec: SweepSpec, path: Path, summary_keys: frozenset[str] | None) -> None:
    """Check that the outcome names are scorecard indicator keys or keys of the builder's run summary."""
    from sim.metrics import INDICATORS

    if summary_keys is None:
        return
    known = [i.key for i in INDICATORS] + sorted(summary_keys)
    for name in spec.outcomes:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(f"{path}: outcomes: {name!r} is neither a scorecard indicator nor a summary figure. "
                             f"Fix: {hint}use e.g. {', '.join(known[:12])}, deaths, evacuated_persons")


def finished_runs(folder: Path) -> set[str]:
    """run_ids with a written ``ok`` row."""
    out = set()
    for p in (folder / "outcomes").glob("*.parquet"):
        try:
            if pd.read_parquet(p, columns=["status"])["status"].iloc[0] == "ok":
                out.add(p.stem)
        except Exception:  # unreadable file: run it again
            continue
    return out


def run_sweep(spec: SweepSpec, base_json: dict, out_root: Path | str, *, scheduler: str | None = None,
              n_workers: int | None = None, resume: bool = True, builder_name: str | None = None,
              on_done: Callable[[int, int, dict], None] | None = None, limit: int | None = None) -> Path:
    """Run every experiment × replicate on Dask; return the sweep folder.

    ``scheduler``: address of an existing cluster (``tcp://host:port``); default a ``LocalCluster`` with
    ``n_workers`` (default: CPU count) single-threaded worker processes. ``limit`` stops after that many new
    runs (to run a sweep in parts). ``on_done(done, total, row)`` after each run.
    """
    from distributed import Client, LocalCluster, as_completed

    folder = Path(out_root) / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    experiments = design(spec)
    runs = runs_table(spec, experiments)
    code = code_sha256()
    manifest = {"sweep": spec.model_dump(mode="json"), "base": base_json, "fuling_sim_version": sim.__version__,
                "code_sha256": code, "n_experiments": len(experiments), "n_runs": len(runs),
                "spec_sha256": hashlib.sha256(json.dumps([spec.model_dump(mode="json"), base_json, sim.__version__,
                                                          code], sort_keys=True).encode()).hexdigest()}
    mpath = folder / "manifest.json"
    old = json.loads(mpath.read_text(encoding="utf-8")) if mpath.exists() else None
    if old is not None and old.get("spec_sha256") != manifest["spec_sha256"] and resume:
        changed = [what for what, key in (("the sweep file", "sweep"), ("the base run", "base"),
                                          ("the fuling-sim version", "fuling_sim_version"),
                                          ("the fuling-sim code (sim/, models/)", "code_sha256"))
                   if old.get(key) != manifest[key]] or ["the sweep"]
        raise InputError(f"{folder}: holds a different sweep ({' and '.join(changed)} changed since it was "
                         "started). Fix: give the sweep a new name, or start it again here (--no-resume; in the app "
                         "'start again')")
    if not resume or (old is not None and old.get("spec_sha256") != manifest["spec_sha256"]):
        _clear_results(folder)  # starting again: nothing of an earlier design may stay beside the new one
    _write_json(mpath, manifest)
    _write_parquet(experiments, folder / "experiments.parquet")
    _write_parquet(runs, folder / "runs.parquet")
    for stale in [*folder.glob("outcomes/.*.partial"), *folder.glob("timeseries/.*.partial")]:
        stale.unlink(missing_ok=True)  # left by a writer killed mid-write; never read as a result
    done = finished_runs(folder) if resume else set()
    pending = runs[~runs["run_id"].isin(done)]
    if limit is not None:
        pending = pending.head(limit)
    fac = experiments.set_index("experiment_id")
    names = [f.name for f in spec.factors]
    spec_json = spec.model_dump(mode="json")
    env = {"NUMBA_NUM_THREADS": "1"}
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        # workers inherit the variables at spawn; set them only while spawning, so this process (the app, a
        # test session) keeps its own numba thread count
        saved = {k: os.environ.get(k) for k in env}
        for k, v in env.items():
            os.environ.setdefault(k, v)
        try:
            cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=None, env=env)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        client = Client(cluster)
    try:
        futures = {}
        for r in pending.itertuples():
            info = {"run_id": r.run_id, "experiment_id": int(r.experiment_id), "replicate": int(r.replicate),
                    "seed": int(r.seed)}
            fut = client.submit(run_one, spec_json, base_json,
                                {n: _plain(fac.at[int(r.experiment_id), n]) for n in names}, info,
                                str(folder), builder_name, key=f"run-{spec.name}-{r.run_id}", retries=2, pure=False)
            futures[fut] = info
        n_done = len(done)
        for fut in as_completed(list(futures)):
            try:
                row = fut.result()
            except Exception as exc:  # the task did not return: e.g. KilledWorker, its worker died every retry
                info = futures[fut]
                why = (" (the worker process died running it: a crash in native code or out of memory)"
                       if type(exc).__name__ == "KilledWorker" else "")
                row = {**info, "status": "failed", "worker_pid": -1, "wall_s": float("nan"),
                       "error": f"{type(exc).__name__}: {exc}{why}"[:4000], **{n: None for n in spec.outcomes}}
                if info["run_id"] not in finished_runs(folder):  # a row the run wrote itself is kept
                    _write_row(row, spec.outcomes, folder)
            n_done += 1
            if on_done:
                on_done(n_done, len(runs), row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return folder


def _clear_results(folder: Path) -> None:
    """Delete the rows, time series and analyses of the sweep in ``folder`` (the manifest is rewritten)."""
    for pattern in ("outcomes/*.parquet", "outcomes/.*", "timeseries/*.parquet", "timeseries/.*",
                    "sensitivity.parquet", "sensitivity.csv", "discovery.json"):
        for p in folder.glob(pattern):
            if p.is_file():
                p.unlink()


def _write_json(path: Path, obj: dict) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=str),
                                              encoding="utf-8"))


def read_results(folder: Path | str) -> pd.DataFrame:
    """Return the sweep's tidy table: one row per run, experiments joined on ``experiment_id``."""
    folder = Path(folder)
    files = sorted((folder / "outcomes").glob("*.parquet"))
    if not files:
        return pd.DataFrame()
    out = pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
    exp = pd.read_parquet(folder / "experiments.parquet")
    return out.merge(exp, on="experiment_id", how="left").sort_values("run_id").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- analysis
def sensitivity(folder: Path | str) -> pd.DataFrame:
    """Sobol S1/ST (with 95 % confidence) or Morris μ*/σ per factor and outcome (replicate means per experiment).

    Needs a complete sweep sampled with ``sobol`` or ``morris``; empty for other samplers.
    """
    folder = Path(folder)
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    spec = SweepSpec.model_validate(man["sweep"])
    if spec.sampler.method not in ("sobol", "morris"):
        return pd.DataFrame()
    res = read_results(folder)
    ok = res[res["status"] == "ok"]
    exp = pd.read_parquet(folder / "experiments.parquet")
    if ok["experiment_id"].nunique() < len(exp):
        raise ValueError(f"{folder}: {len(exp) - ok['experiment_id'].nunique()} experiments have no finished run; "
                         "finish the sweep (resume) before the sensitivity analysis")
    means = ok.groupby("experiment_id")[spec.outcomes].mean().reindex(exp["experiment_id"])
    prob = problem(spec)
    rows = []
    for outcome in spec.outcomes:
        y = means[outcome].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(y)):
            continue
        if spec.sampler.method == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(prob, y, calc_second_order=spec.sampler.second_order, seed=spec.seed)
            for k, name in enumerate(prob["names"]):
                rows.append({"outcome": outcome, "factor": name, "S1": si["S1"][k], "S1_conf": si["S1_conf"][k],
                             "ST": si["ST"][k], "ST_conf": si["ST_conf"][k]})
        else:
            from SALib.analyze import morris

            x = exp[prob["names"]].to_numpy(dtype=np.float64)
            si = morris.analyze(prob, x, y, num_levels=spec.sampler.levels, seed=spec.seed)
            for k, name in enumerate(prob["names"]):
                rows.append({"outcome": outcome, "factor": name, "mu_star": si["mu_star"][k],
                             "mu_star_conf": si["mu_star_conf"][k], "sigma": si["sigma"][k]})
    return pd.DataFrame(rows)


def prim_box(x: pd.DataFrame, fails: np.ndarray, alpha: float = 0.05, min_support: float = 0.1) -> dict:
    """Find the box of factor ranges where failures concentrate (PRIM, Friedman and Fisher 1999).

    Peels ``alpha`` of the runs at a time from the side that raises the failure density most, down to
    ``min_support``. Returns the box (per numeric factor: low, high), its density, coverage and support.
    """
    cols = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
    inside = np.ones(len(x), dtype=bool)
    y = np.asarray(fails, dtype=np.float64)
    total = y.sum()
    box = {c: (float(x[c].min()), float(x[c].max())) for c in cols}
    while inside.mean() > min_support and total > 0:
        best = None
        for c in cols:
            v = x[c].to_numpy(dtype=np.float64)
            lo_q, hi_q = np.quantile(v[inside], [alpha, 1 - alpha])
            for side, keep in (("low", inside & (v >= lo_q)), ("high", inside & (v <= hi_q))):
                if keep.sum() == inside.sum() or keep.sum() == 0:
                    continue
                m = y[keep].mean()
                if best is None or m > best[0]:
                    best = (m, c, side, keep, lo_q if side == "low" else hi_q)
        if best is None or best[0] <= y[inside].mean():
            break
        _, c, side, keep, q = best
        inside = keep
        lo, hi = box[c]
        box[c] = (float(q), hi) if side == "low" else (lo, float(q))
    return {"box": box, "density": float(y[inside].mean()) if inside.any() else float("nan"),
            "coverage": float(y[inside].sum() / total) if total else float("nan"), "support": float(inside.mean())}


def analyse(folder: Path | str) -> dict[str, Path]:
    """Write ``sensitivity.{csv,parquet}`` (Sobol/Morris) and ``discovery.json`` (PRIM box per failed target)."""
    from sim.metrics import INDICATORS
    from sim.targets import load_targets

    folder = Path(folder)
    out: dict[str, Path] = {}
    sens = sensitivity(folder)
    if len(sens):
        _write_parquet(sens, folder / "sensitivity.parquet")
        atomic_write(folder / "sensitivity.csv", lambda p: sens.to_csv(p, index=False))
        out["sensitivity"] = folder / "sensitivity.csv"
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    spec = SweepSpec.model_validate(man["sweep"])
    res = read_results(folder)
    ok = res[res["status"] == "ok"] if len(res) else res
    targets = load_targets().targets
    disc = {}
    for ind in INDICATORS:
        if ind.key not in spec.outcomes or not ind.target or ind.target not in targets or not len(ok):
            continue
        vals = ok[ind.key].to_numpy(dtype=np.float64)
        good = np.isfinite(vals)
        if not good.any():
            continue
        fails = ~np.array([targets[ind.target].met(v) for v in vals[good]])
        x = ok.loc[good, [f.name for f in spec.factors]].reset_index(drop=True)
        disc[ind.key] = {"target": targets[ind.target].label, "runs": int(good.sum()), "failing": int(fails.sum()),
                         **(prim_box(x, fails) if 0 < fails.sum() < len(fails) else {})}
    _write_json(folder / "discovery.json", disc)
    out["discovery"] = folder / "discovery.json"
    return out
