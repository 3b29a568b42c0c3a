"""The ``fuling-sim`` command line (typer)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

import sim
from sim.scenario import DistrictSpec, InputError, Scenario, load_component, load_scenario, validate_files
from sim.scenario import default_scenario_path as _default_run

app = typer.Typer(help="fuling-sim — disaster scenarios for Fuling District 涪陵区 (planners, researchers, "
                  "drill designers).", no_args_is_help=True, add_completion=False)
district_app = typer.Typer(help="Build and inspect the district.", no_args_is_help=True)
app.add_typer(district_app, name="district")
console = Console()

SetOpt = Annotated[list[str] | None, typer.Option("--set", help="override a field: section.key=value")]


def _say(style: str, label: str, message: object) -> None:
    """Print ``label message`` with the label styled and the message as typed.

    The message is never read as Rich markup, so ``lean[v2].yaml`` or a value ``[/x]`` prints as is.
    """
    console.print(Text.assemble((label, style), " ", str(message)), highlight=False, soft_wrap=True)


def _fail(exc: Exception) -> None:
    _say("bold red", "error:", exc)
    raise typer.Exit(code=1)


def _check_outputs_dir(folder: Path) -> None:
    """Refuse an outputs folder that cannot be written before any simulating is done."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"run.outputs_dir: {folder} is a file, not a folder. Fix: --set run.outputs_dir=results "
                         "or another folder") from None
    except OSError as exc:
        raise InputError(f"run.outputs_dir: cannot create {folder} ({exc.strerror}). Fix: --set "
                         "run.outputs_dir=results or another writable folder") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"run.outputs_dir: {folder} is not writable. Fix: --set run.outputs_dir=results or "
                         "another writable folder")


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="scenario, hazard, plan or district files")]) -> None:
    """Check scenario files without running them (exit code 0 = all valid, 1 = some invalid)."""
    results = validate_files(files)
    bad = 0
    for path, err in results:
        if err is None:
            _say("green", "ok   ", path)
        else:
            bad += 1
            _say("red", "error", err)
    raise typer.Exit(code=1 if bad else 0)


def _district_spec(scenario: Path | None, cell_size: float | None, sets: list[str] | None) -> DistrictSpec:
    path = scenario or _default_run()
    obj = load_component(path)
    if isinstance(obj, Scenario):
        spec = load_scenario(path, sets).district if sets else obj.district
    elif isinstance(obj, DistrictSpec):
        if sets:
            raise InputError(f"--set: overrides apply to run files; {path} is a district file. Fix: edit the "
                             "file, or pass a run file that names it")
        spec = obj
    else:
        raise InputError(f"{path}: not a run or district file. Fix: pass a file with kind: run or kind: district")
    if cell_size is not None:
        try:
            spec = DistrictSpec.model_validate({**spec.model_dump(), "cell_size_m": cell_size})
        except ValidationError as exc:
            raise InputError(f"--cell-size {cell_size}: {exc.errors()[0]['msg']}. Fix: use 30–500 m") from None
    return spec


def _print_summary(summary: dict) -> None:
    t = Table(title=f"{summary['name']} — district summary 区情概要", show_header=True)
    t.add_column("item 项目")
    t.add_column("value 数值", justify="right")
    rows = [
        ("townships 乡镇街道", summary["townships"]),
        ("residents 常住人口 (2020 census)", f"{summary['residents']:,}"),
        ("urban residents 城镇人口", f"{summary['residents_urban']:,}"),
        ("households 户数", f"{summary['households']:,}"),
        ("grid cells in district 网格数", f"{summary['grid']['cells_in_district']:,} "
                                       f"@ {summary['grid']['cell_size_m']:.0f} m"),
        ("area 面积 (km²)", summary["area_km2"]),
        ("elevation 高程 (m)", f"{summary['elevation_m']['min']}–{summary['elevation_m']['max']}"),
        ("forest share 森林占比", f"{summary['forest_share']:.1%}"),
        ("urban land 城镇用地 (km²)", summary["urban_km2"]),
        *[(f"road km 道路里程 — {k}", f"{v:,.1f}") for k, v in summary["road_km_by_class"].items()],
        ("road nodes / bridges 路网节点/桥梁", f"{summary['road_nodes']:,} / {summary['bridges']}"),
        ("shelters 避难场所", f"{summary['shelters']} (capacity {summary['shelter_capacity_persons']:,})"),
        ("depots 物资库", ", ".join(f"{k} {v}" for k, v in summary["depots_by_tier"].items())),
        ("teams 救援队伍", ", ".join(f"{k} {v}" for k, v in summary["teams_by_level"].items())),
        ("team members 救援人员", f"{summary['team_members']:,}"),
        ("named tributaries 已定位支流", ", ".join(summary["tributaries_named"]) or "—"),
    ]
    for k, v in rows:
        t.add_row(k, str(v))
    console.print(t)
    console.print("[dim]Real: outline, rivers, township names/codes/centres, census totals, plan counts. "
                  "Generated: terrain, land cover, township areas, population allocation, roads, facility "
                  "locations.[/]")
    for layer, src in summary["layer_sources"].items():
        console.print(f"[dim]  {layer}: {src}[/]", highlight=False)


@district_app.command("info")
def district_info(
    scenario: Annotated[Path | None, typer.Option(help="run or district file (default: the shipped run)")] = None,
    cell_size: Annotated[float | None, typer.Option(help="grid cell size, m (30–500)")] = None,
    set_: SetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Print the district's counts: townships, residents, cells, forest, roads, shelters, depots, teams."""
    from sim.district import load_district

    try:
        d = load_district(_district_spec(scenario, cell_size, set_))
    except InputError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps(d.summary(), ensure_ascii=False, indent=1))
    else:
        _print_summary(d.summary())


@district_app.command("map")
def district_map(
    out: Annotated[Path, typer.Option(help="output image (.png, .pdf, .svg)")] = Path("district.png"),
    scenario: Annotated[Path | None, typer.Option(help="run or district file")] = None,
    cell_size: Annotated[float | None, typer.Option(help="grid cell size, m (30–500)")] = None,
    set_: SetOpt = None,
) -> None:
    """Draw terrain, rivers, roads, townships and facilities with a real-vs-generated legend."""
    from sim.district import load_district
    from sim.districtmap import draw_district

    try:
        d = load_district(_district_spec(scenario, cell_size, set_))
    except InputError as exc:
        _fail(exc)
    console.print(f"map written to {draw_district(d, out)}")


def _print_run_summary(summary: dict) -> None:
    rows = [
        ("population 人口", f"{summary['population']:,}"),
        ("warned 已预警", f"{summary['warned_persons']:,}"),
        ("ordered to leave 转移令覆盖", f"{summary['ordered_persons']:,}"),
        ("evacuated 已转移安置", f"{summary['evacuated_persons']:,}"),
        ("rescued 救出", f"{summary['rescued_persons']:,}"),
        ("trapped at end 仍被困", f"{summary['trapped_persons_end']:,}"),
        ("exposed (home hit) 受灾", f"{summary['exposed_persons']:,}"),
        ("warning coverage 预警覆盖率 (T3 ≥ 95 %)",
         "—" if summary["warning_coverage"] is None else f"{100 * summary['warning_coverage']:.1f} %"),
        ("deaths / injured 死亡/受伤", f"{summary['deaths']} / {summary['injured']}"),
        ("deaths per million, this event 本次每百万人死亡 (T4 is per year: see the scorecard)",
         f"{summary['deaths_per_million']:.2f}"),
    ]
    if "flood_gauge_peak_m" in summary:
        peak = summary["flood_gauge_peak_m"].get("fuling_yangtze", "—")
        rows.append(("Fuling gauge peak 涪陵站最高水位 (m)", str(peak)))
        rows.append(("flooded area 淹没面积 (km²)", f"{summary['flooded_area_max_km2']:.1f}"))
    if "fires" in summary:
        share = summary["fire_out_24h_share"]
        rows.append(("fires out ≤ 24 h 森林火灾24h扑灭率 (T1 ≥ 95 %)",
                     "—" if share is None or share != share
                     else f"{100 * share:.0f} % of {summary.get('fires_judged_24h', summary['fires'])}"))
        rows.append(("burned area 过火面积 (ha)", f"{summary['burned_area_ha']:.1f}"))
    if "landslides" in summary:
        rows.append(("landslides 滑坡", str(summary["landslides"])))
    met = summary["supply_requests_met_share"]
    rows.append(("supply requests met 物资需求满足率 (T7 100 %)",
                 "—" if met is None or met != met else f"{100 * met:.0f} % of {summary['supply_requests']}"))
    rows.append(("roads closed at worst 道路中断 (km)", f"{summary['road_closed_km_max']:.0f}"))
    table = Table(title="run summary 运行结果", show_header=True)
    table.add_column("item 项目")
    table.add_column("value 数值", justify="right")
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


@app.command()
def run(
    scenario: Annotated[Path | None, typer.Argument(help="run file (default: scenarios/default.yaml)")] = None,
    set_: SetOpt = None,
    name: Annotated[str | None, typer.Option(help="run folder name under the outputs dir")] = None,
    hours: Annotated[float | None, typer.Option(help="simulate only the first HOURS (default: run.duration_h)",
                                                min=0.01, max=8760.0)] = None,
    force: Annotated[bool, typer.Option(help="run again even if a complete result with this name exists")] = False,
) -> None:
    """Run a scenario through the district model and write ``results/<run>/`` (Parquet + JSON).

    The default is the 72-hour Yangtze flood with a concurrent forest fire and rain-triggered landslides
    under the baseline plan. A complete result folder of the same name is reused unless ``--force``.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from sim.district import load_district
    from sim.results import same_inputs, same_version, stored_result
    from sim.runner import resolve_builder

    path = scenario or _default_run()
    try:
        sc = load_scenario(path, set_)
        builder = resolve_builder()
    except (InputError, ValueError) as exc:
        _fail(exc)
    scenario_json = sc.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps([scenario_json, hours], sort_keys=True).encode()).hexdigest()[:8]
    run_name = name or f"{path.stem}-seed{sc.run.seed}-{digest}"
    if run_name in ("", ".", "..") or "/" in run_name or "\\" in run_name:
        _fail(InputError(f"--name {run_name!r}: not a folder name. Fix: e.g. --name flood-test"))
    out_dir = Path(sc.run.outputs_dir) / run_name
    try:
        _check_outputs_dir(Path(sc.run.outputs_dir))
    except InputError as exc:
        _fail(exc)
    prev = None if force else stored_result(out_dir)  # None too when damaged: run again, the write replaces it
    if prev is not None:
        if not (same_inputs(prev.provenance, scenario_json) and prev.provenance.get("hours_override") == hours):
            _fail(InputError(f"--name {run_name}: {out_dir} holds a run of other inputs (scenario, --set or "
                             "--hours differ). Fix: choose another --name, or pass --force to replace it"))
        if same_version(prev.provenance):
            console.print(f"complete result already at [bold]{escape(str(out_dir))}[/] (same scenario); "
                          "--force to run again",
                          highlight=False)
            _print_run_summary(prev.summary)
            _print_scorecard(prev, sc, out_dir)
            return
    t0 = time.perf_counter()
    try:
        with console.status("building the district 构建区域…"):
            d = load_district(sc.district)
    except InputError as exc:
        _fail(exc)
    total_h = hours if hours is not None else sc.run.duration_h
    with Progress(TextColumn("[bold]simulating 模拟中[/]"), BarColumn(), TextColumn("{task.fields[sim_h]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False) as bar:
        task = bar.add_task("run", total=1.0, sim_h=f"0/{total_h:g} h")

        def progress(fraction: float) -> None:
            bar.update(task, completed=fraction, sim_h=f"{fraction * total_h:.1f}/{total_h:g} h")

        try:
            result = builder(sc, district=d, progress=progress, duration_h=hours)
        except InputError as exc:  # a plan or hazard that does not fit this district (e.g. a shelter name)
            bar.stop()
            _fail(exc)
    result.provenance["scenario_file"] = str(path)
    result.provenance["overrides"] = set_ or []
    result.provenance["hours_override"] = hours
    result.provenance["wall_seconds_total"] = round(time.perf_counter() - t0, 2)
    result.write(out_dir)
    _print_run_summary(result.summary)
    console.print(f"results written to [bold]{escape(str(out_dir))}[/] (timeseries, township_timeseries, events, "
                  "townships, "
                  "requests .parquet; summary, provenance, parameters .json)", highlight=False)
    _print_scorecard(result, sc, out_dir)


def _print_scorecard(result, sc: Scenario, out_dir: Path) -> None:
    """Print and write (``scorecard.*`` in the run folder) the one-run scorecard of the plan's targets."""
    from sim.report import rich_table, write
    from sim.scorecard import build_scorecard

    card = build_scorecard({sc.plan.name: [(sc.run.seed, result)]})
    card.meta.update({"hazard": sc.hazard.name, "replicates": 1, "base_seed": sc.run.seed})
    console.print(rich_table(card, title=f"scorecard 预案评分卡 — plan {escape(sc.plan.name)}, one run "
                                         f"(seed {sc.run.seed})"))
    console.print("one run gives no interval: [bold]fuling-sim compare --replicates N[/] for means, 95 % intervals "
                  "and P(target met)", highlight=False)
    write(card, out_dir)


@app.command()
def compare(
    hazard: Annotated[str, typer.Option(help="hazard: a name in scenarios/hazards (e.g. yangtze_2020_chain) or a "
                                             "file")] = "yangtze_2020_chain",
    plans: Annotated[list[str] | None, typer.Option(help="plans: names in scenarios/plans or files; the first is "
                                                         "the reference (repeat the option or list them)")] = None,
    replicates: Annotated[int, typer.Option(help="seeds per plan (SeedSequence children of --seed)", min=1,
                                            max=1000)] = 3,
    seed: Annotated[int, typer.Option(help="base seed of the replicate seeds", min=0)] = 20200820,
    hours: Annotated[float | None, typer.Option(help="simulated hours (default: the default run's duration)",
                                                min=0.01, max=8760.0)] = None,
    district: Annotated[Path | None, typer.Option(help="run or district file giving the district "
                                                       "(default: scenarios/default.yaml)")] = None,
    out: Annotated[Path | None, typer.Option(help="outputs folder (default: the default run's outputs_dir)")] = None,
) -> None:
    """Compare response plans on one hazard: N seeds each, scorecard with 95 % intervals and P(target met).

    Writes scorecard CSV, Parquet, Markdown and PNG (plus differences, townships and every replicate) to
    ``<outputs>/compare-<hazard>-<hash>/``; each run's full result sits under ``runs/`` and is reused when
    the comparison is asked again (an interrupted comparison resumes).
    """
    from sim.compare import CompareRequest, resolve, run_compare
    from sim.district import load_district
    from sim.report import rich_table, rich_townships
    from sim.runner import resolve_builder

    plan_names = plans or ["baseline", "fyp14", "lean"]
    if len(plan_names) == 1 and " " in plan_names[0]:
        plan_names = plan_names[0].split()
    try:
        run_defaults = load_scenario(_default_run()).run
        spec = _district_spec(district, None, None)
        if district is not None and isinstance(load_component(district), Scenario):
            run_defaults = load_scenario(district).run
        hz, hz_path = resolve("hazard", hazard)
        pls = [resolve("plan", p)[0] for p in plan_names]
        builder = resolve_builder()
        req = CompareRequest(district=spec, hazard=hz, plans=tuple(pls), replicates=replicates,
                             base_seed=seed, duration_h=hours if hours is not None else run_defaults.duration_h,
                             step_s=run_defaults.step_s, hazard_label=hz_path.stem)
        with console.status("building the district 构建区域…"):
            d = load_district(spec)
    except (InputError, ValueError) as exc:
        _fail(exc)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.fields[what]}[/]"), BarColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("compare", total=1.0, what="compare 比较")

        def on_run(i: int, n: int, plan: str, s: int, reused: bool) -> None:
            bar.update(task, what=f"run {i + 1}/{n}: {escape(plan)} seed {s}" + (" (reused 复用)" if reused else ""),
                       completed=i / n)

        try:
            card, folder = run_compare(req, out or run_defaults.outputs_dir, builder, district=d, on_run=on_run,
                                       progress=lambda f: bar.update(task, completed=f))
        except ValueError as exc:
            _fail(exc)
        bar.update(task, completed=1.0)
    console.print(rich_table(card, title=f"scorecard 预案评分卡 — {escape(hz_path.stem)}, {replicates} replicate(s)"))
    console.print(rich_townships(card))
    if len(card.differences):
        from rich.table import Table

        from sim.report import fmt

        t = Table(title=f"differences vs {card.differences['reference'].iloc[0]} (paired by seed)")
        for c in ("plan", "indicator", "mean diff [95 % CI]", "verdict"):
            t.add_column(c)
        for r in card.differences.itertuples():
            t.add_row(r.plan, r.indicator, f"{fmt(r.mean_diff)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}]", r.verdict)
        console.print(t)
    console.print(f"scorecard written to [bold]{escape(str(folder))}[/] (scorecard.csv/.parquet/.md/.png, "
                  "differences, "
                  f"townships, replicates); took {card.meta['wall_seconds']:.0f} s", highlight=False)


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="sweep file (kind: sweep), e.g. scenarios/sweeps/warning_lead.yaml")],
    out: Annotated[Path, typer.Option(help="folder for results (<out>/<sweep name>/)")] = Path("results/sweeps"),
    scheduler: Annotated[str | None, typer.Option(help="address of a running Dask scheduler, tcp://host:port "
                                                       "(default: a LocalCluster on this machine)")] = None,
    workers: Annotated[int | None, typer.Option(help="LocalCluster worker processes (default: one per core)",
                                                min=1)] = None,
    resume: Annotated[bool, typer.Option(help="skip runs already finished (--no-resume starts again)")] = True,
) -> None:
    """Run a parameter sweep / Monte-Carlo experiment on Dask; write a Parquet dataset and sensitivity analysis."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from sim import experiments as ex

    try:
        spec, base = ex.load_sweep(file)
    except (InputError, ValueError) as exc:
        _fail(exc)
    n_runs = len(ex.runs_table(spec, ex.design(spec)))
    failed = 0
    with Progress(TextColumn(f"[bold]sweep {spec.name}[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("sweep", total=n_runs)

        def on_done(done: int, total: int, row: dict) -> None:
            nonlocal failed
            failed += row["status"] != "ok"
            bar.update(task, completed=done)

        try:
            folder = ex.run_sweep(spec, base, out, scheduler=scheduler, n_workers=workers, resume=resume,
                                  on_done=on_done)
        except (InputError, ValueError) as exc:
            _fail(exc)
    res = ex.read_results(folder)
    try:
        written = ex.analyse(folder) if len(res) == n_runs else {}
    except ValueError as exc:  # e.g. an experiment none of whose runs finished: no indices can be computed
        _say("yellow", "note:", f"no sensitivity analysis: {exc}")
        written = {}
    n_failed = int((res['status'] != 'ok').sum())
    console.print(f"{len(res)} of {n_runs} runs in [bold]{escape(str(folder))}[/] ({n_failed} failed: "
                  "see the error column); outcomes/*.parquet joined to experiments.parquet on experiment_id",
                  highlight=False)
    for k, p in written.items():
        console.print(f"  {k}: {p}", highlight=False)


@app.command()
def projects(
    hazard: Annotated[list[str] | None, typer.Option(help="hazard name(s) or files; several = a hazard mix weighted "
                                                         "by their annual frequencies")] = None,
    replicates: Annotated[int, typer.Option(min=1, max=1000, help="seeds per plan")] = 2,
    seed: Annotated[int, typer.Option(min=0, help="base seed")] = 20200820,
    hours: Annotated[float | None, typer.Option(min=0.01, max=8760.0, help="simulated hours")] = None,
    only: Annotated[list[str] | None, typer.Option(help="project id(s) to test (default: every project with an "
                                                       "effect)")] = None,
    leave_one_out: Annotated[bool, typer.Option(help="also run the full set without each project")] = False,
    plan: Annotated[str, typer.Option(help="base plan (its projects are switched off for 'none')")] = "baseline",
    out: Annotated[Path | None, typer.Option(help="outputs folder")] = None,
) -> None:
    """Show what each of the plan's 21 key projects buys: change in every target, per 10,000 万元, ranked."""
    from sim.compare import resolve
    from sim.district import load_district
    from sim.projects import load_projects, ranking, run_projects
    from sim.report import fmt
    from sim.runner import resolve_builder

    names = hazard or ["yangtze_2020_chain"]
    try:
        base = load_scenario(_default_run())
        hzs = {}
        for h in names:
            obj, path = resolve("hazard", h)
            hzs[path.stem] = obj
        base_plan = resolve("plan", plan)[0]
        known = {p.id for p in load_projects().projects}
        bad = [i for i in only or [] if i not in known]
        if bad:
            raise InputError(f"--only {bad}: unknown project id. Fix: one of {sorted(known)}")
        builder = resolve_builder()
        d = load_district(base.district)
    except (InputError, ValueError) as exc:
        _fail(exc)
    done = {"n": 0}

    def on_run(i: int, n: int, plan_name: str, s: int, reused: bool) -> None:
        done["n"] += 1
        console.print(f"run {i + 1}/{n}: {plan_name} seed {s}" + (" (reused)" if reused else ""), highlight=False)

    try:
        table, folder = run_projects(hzs, base_plan, base.district, replicates, seed,
                                     hours if hours is not None else base.run.duration_h, out or base.run.outputs_dir,
                                     builder, district=d, ids=only, leave_one_out=leave_one_out, on_run=on_run)
    except ValueError as exc:
        _fail(exc)
    rank = ranking(table)
    t = Table(title="change per 10,000 万元 of investment (T4: negative = fewer deaths per million)")
    for c in rank.columns:
        t.add_column(str(c), justify="right" if c not in ("project", "name_zh") else "left")
    for r in rank.itertuples(index=False):
        t.add_row(*[fmt(v) if isinstance(v, float) else str(v) for v in r])
    console.print(t)
    console.print(f"written to [bold]{escape(str(folder))}[/] (projects.csv/.parquet/.md/.png, "
                  "projects_ranking.csv)",
                  highlight=False)


def _parse_length_h(text: str) -> float:
    """'3h', '90m', '2.5' (hours) → hours."""
    t = text.strip().lower()
    try:
        if t.endswith("h"):
            v = float(t[:-1])
        elif t.endswith("min"):
            v = float(t[:-3]) / 60.0
        elif t.endswith("m"):
            v = float(t[:-1]) / 60.0
        else:
            v = float(t)
    except ValueError:
        raise InputError(f"--length {text!r}: not a duration. Fix: e.g. 3h, 90m or 2.5") from None
    if not 0.25 <= v <= 72:
        raise InputError(f"--length {text!r}: a drill lasts 15 min to 72 h. Fix: e.g. 3h")
    return v


@app.command()
def drill(
    run: Annotated[Path, typer.Option(help="a run folder (results/<run>/) to script")],
    mode: Annotated[str, typer.Option(help="tabletop (桌面推演) or field (实战)")] = "tabletop",
    length: Annotated[str, typer.Option(help="drill length, e.g. 3h or 90m (scenario time is compressed)")] = "3h",
    out: Annotated[Path, typer.Option(help="output file; .md, .csv, .xlsx and .docx are written with its stem")] = (
        Path("drill.docx")),
    lang: Annotated[str, typer.Option(help="zh (中文) or en")] = "zh",
    blind: Annotated[bool, typer.Option(help="double-blind (双盲): a participants' brief and a sealed "
                                             "controllers' edition")] = False,
    branch_run: Annotated[list[str] | None, typer.Option(
        help="LABEL=FOLDER of a run of the same hazard under another response; adds branching injects")] = None,
) -> None:
    """Turn a run into an exercise script (演练脚本 / MSEL): timed injects, roles, expected actions, evaluation."""
    from sim import drill_export, drills
    from sim.district import load_district
    from sim.results import RunResult

    try:
        if mode not in ("tabletop", "field"):
            raise InputError(f"--mode {mode!r}: unknown. Fix: tabletop or field")
        if lang not in ("zh", "en"):
            raise InputError(f"--lang {lang!r}: unknown. Fix: zh or en")
        length_h = _parse_length_h(length)
        res = RunResult.read(run)
        spec = DistrictSpec.model_validate(res.provenance["scenario"]["district"])
        with console.status("loading the district 加载区域…"):
            d = load_district(spec)
        script = drills.build_script(res, d, mode=mode, length_h=length_h)
        alts = {}
        for item in branch_run or []:
            label, sep, folder = item.partition("=")
            if not sep:
                raise InputError(f"--branch-run {item!r}: expected LABEL=FOLDER, e.g. lean=results/compare-…/runs/"
                                 "lean-seed1")
            alts[label] = RunResult.read(folder)
        if alts:
            script = drills.with_branches(script, drills.branch_injects(res, alts))
    except (InputError, FileNotFoundError, KeyError, ValueError) as exc:
        _fail(exc)
    written = []
    if blind:
        stem = out.with_suffix("")
        written += drill_export.write_all(drills.controller_edition(script), stem.with_name(stem.name + "-controller"),
                                          lang)
        written += drill_export.write_all(drills.participant_edition(script),
                                          stem.with_name(stem.name + "-participants"), lang)
    else:
        written += drill_export.write_all(script, out, lang)
    console.print(f"{len(script.injects)} injects over {length_h:g} h ({mode}); "
                  f"{sum(1 for i in script.injects if i.branch_zh)} branching", highlight=False)
    for p in written:
        console.print(f"  wrote [bold]{escape(str(p))}[/]", highlight=False)


@app.command()
def version() -> None:
    """Print the fuling-sim version."""
    print(sim.__version__)


if __name__ == "__main__":
    app()


def app_command(port: int, address: str = "localhost") -> list[str]:
    """Return the ``streamlit run`` command line of the browser app: localhost only, no usage statistics, headless."""
    import sys

    script = Path(sim.__file__).resolve().parents[1] / "app.py"
    return [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", address,
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.maxUploadSize", "1", "--global.developmentMode", "false",
            "--server.fileWatcherType", "none"]


@app.command("app")
def app_(
    port: Annotated[int, typer.Option(help="port on localhost")] = 8501,
    address: Annotated[str, typer.Option(help="interface to bind (keep localhost unless you know why)")] = "localhost",
) -> None:
    """Start the planner's browser app (Streamlit) on http://localhost:PORT (usage statistics off)."""
    import subprocess

    cmd = app_command(port, address)
    if not Path(cmd[4]).exists():
        _fail(InputError(f"{cmd[4]}: the app script is missing. Fix: run from a checkout of fuling-sim "
                         "(pip install -e .)"))
    typer.echo(f"fuling-sim app: http://{address}:{port}  (Ctrl+C stops it)")
    raise typer.Exit(subprocess.call(cmd, cwd=str(Path(cmd[4]).parent)))
