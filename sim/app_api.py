"""Pure functions and a run job behind the browser app (DESIGN §3.12); nothing here imports streamlit.

The pages (``app_pages/``) only draw widgets and call these. Inputs are validated here with the same
schemas and messages as the CLI; uploads are size-limited and parsed only as YAML (safe loader) into the
schema. A run goes through the model builder (``sim.runner``) on a worker thread so the page stays live:
:class:`RunJob` exposes progress, the partial results, cancel, and the final result, which is written to
``<outputs>/app/<digest>/`` and reused when the same scenario, plan and seed are asked for again.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

import sim
from sim.paths import scenarios_dir
from sim.results import RunResult, same_version, stored_result
from sim.runner import resolve_builder
from sim.scenario import (
    DistrictSpec,
    HazardSpec,
    Plan,
    RunSettings,
    Scenario,
    _format_error,
    load_component,
)
from sim.yamlio import InputError, parse_yaml

MAX_UPLOAD_BYTES = 512 * 1024  # a plan or hazard file is a few KB; anything bigger is refused unread
DEFAULT_DURATION_H = 24.0  # the app's default run: the first day of the default chain
KINDS = {"hazard": HazardSpec, "plan": Plan}
_RUN_LOCK = threading.Lock()  # one model run at a time in this process (2 cores; numba threads are shared)


# ------------------------------------------------------------------------------------------ catalogue
@dataclass(frozen=True)
class Choice:
    """A shipped hazard or plan file."""

    kind: str
    stem: str
    name: str
    name_zh: str
    path: Path

    def label(self, lang: str) -> str:
        """Display label in the chosen language (the other one in brackets)."""
        return f"{self.name_zh or self.name} ({self.stem})" if lang == "zh" else f"{self.name} ({self.stem})"


def catalogue(kind: Literal["hazard", "plan"], root: Path | None = None) -> list[Choice]:
    """List the shipped hazard or plan files, default first (``yangtze_2020_chain`` / ``baseline``)."""
    folder = (root or scenarios_dir()) / f"{kind}s"
    out = []
    for p in sorted(folder.glob("*.yaml")):
        obj = load_component(p, kind)
        out.append(Choice(kind, p.stem, obj.name, obj.name_zh, p))
    first = {"hazard": "yangtze_2020_chain", "plan": "baseline"}[kind]
    return sorted(out, key=lambda c: (c.stem != first, c.stem))


def load_choice(choice: Choice) -> BaseModel:
    """Load the validated district, hazard or plan of a catalogue entry."""
    return load_component(choice.path, choice.kind)


def district_catalogue(root: Path | None = None) -> list[Choice]:
    """District files (``scenarios/<name>/district.yaml``), Fuling first."""
    out = []
    for p in sorted((root or scenarios_dir()).glob("*/district.yaml")):
        spec = load_component(p, "district")
        out.append(Choice("district", p.parent.name, f"{spec.name} · {spec.cell_size_m:g} m", "", p))
    return sorted(out, key=lambda c: (c.stem != "fuling", c.stem))


def default_district() -> DistrictSpec:
    """Return the district of the default run file."""
    return load_component(scenarios_dir() / "fuling" / "district.yaml", "district")


# ------------------------------------------------------------------------------------------ validation
@dataclass(frozen=True)
class FieldError:
    """One validation problem: the dotted field (``""`` for the whole file) and the full message."""

    field: str
    message: str


def validate(kind: str, data: Any, source: str) -> tuple[BaseModel | None, list[FieldError]]:
    """Validate raw data as a hazard or plan; return the object or the field errors (never raises)."""
    model = KINDS[kind]
    if not isinstance(data, dict):
        return None, [FieldError("", f"{source}: expected a mapping of keys to values, got "
                                     f"{type(data).__name__}. Fix: write `key: value` lines.")]
    if data.get("kind", kind) != kind:
        return None, [FieldError("kind", f"{source}: kind: this is a {data.get('kind')!r} file, not a {kind} "
                                         f"file. Fix: upload a {kind} file (kind: {kind}).")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [FieldError(".".join(str(p) for p in e["loc"]), _format_error(e, model, source, "", {}))
                      for e in exc.errors()]


def parse_upload(content: bytes, kind: str, filename: str) -> tuple[BaseModel | None, list[FieldError]]:
    """Parse an uploaded YAML file as ``kind``: size limit, UTF-8, safe YAML, then the schema."""
    if len(content) > MAX_UPLOAD_BYTES:
        return None, [FieldError("", f"{filename}: {len(content):,} bytes is over the {MAX_UPLOAD_BYTES:,}-byte "
                                     "limit. Fix: upload the plan or hazard YAML file itself.")]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None, [FieldError("", f"{filename}: not UTF-8 text. Fix: save the file as UTF-8 YAML.")]
    try:
        data = parse_yaml(text, source=filename)
    except InputError as exc:
        return None, [FieldError("", str(exc))]
    return validate(kind, data, filename)


def to_yaml(obj: BaseModel) -> str:
    """Write the object as a YAML file (``kind`` first) that :func:`parse_upload` reads back equal."""
    data = obj.model_dump(mode="json")
    kind = data.pop("kind", None)
    head = {"kind": kind} if kind else {}
    return yaml.safe_dump({**head, **data}, allow_unicode=True, sort_keys=False)


# ------------------------------------------------------------------------------------------ widgets from schema
@dataclass(frozen=True)
class Lever:
    """A scalar field of a schema the app can edit with a widget."""

    path: str  # dotted, e.g. "warning.lead_time_min"
    kind: Literal["float", "int", "bool", "choice"]
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    help: str = ""
    section: str = ""


def _bounds(info) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in info.metadata:
        for name in ("ge", "gt"):
            if getattr(m, name, None) is not None:
                lo = float(getattr(m, name))
        for name in ("le", "lt"):
            if getattr(m, name, None) is not None:
                hi = float(getattr(m, name))
    return lo, hi


def levers(model: type[BaseModel], prefix: str = "", section: str = "") -> list[Lever]:
    """Every scalar (number, bool, literal choice) field of ``model`` and its sub-models, with bounds and help.

    Lists, mappings and free text are left to the YAML editor; so are the bilingual names.
    """
    out: list[Lever] = []
    for name, info in model.model_fields.items():
        if name in ("kind", "name", "name_zh", "description"):
            continue
        ann = info.annotation
        path = f"{prefix}{name}"
        origin = typing.get_origin(ann)
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += levers(ann, path + ".", section or name)
            continue
        if origin in (typing.Union, types.UnionType) and len(args) == 1:
            ann = args[0]  # Optional[X]: edit X where the file has it
            origin = typing.get_origin(ann)
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                out += levers(ann, path + ".", section or name)
                continue
        default = info.get_default(call_default_factory=True)
        lo, hi = _bounds(info)
        help_ = info.description or ""
        if ann is bool:
            out.append(Lever(path, "bool", default, help=help_, section=section or "general"))
        elif ann is int:
            out.append(Lever(path, "int", default, lo, hi, help=help_, section=section or "general"))
        elif ann is float:
            out.append(Lever(path, "float", default, lo, hi, help=help_, section=section or "general"))
        elif origin is Literal:
            out.append(Lever(path, "choice", default, choices=typing.get_args(ann), help=help_,
                             section=section or "general"))
    return out


def get_path(obj: BaseModel | dict, path: str) -> Any:
    """Value at a dotted path of a model (or its dump)."""
    cur = obj.model_dump(mode="json") if isinstance(obj, BaseModel) else obj
    for k in path.split("."):
        cur = cur[k]
    return cur


def with_edits(obj: BaseModel, edits: dict[str, Any], source: str = "edited plan"
               ) -> tuple[BaseModel | None, list[FieldError]]:
    """Apply ``{dotted path: value}`` edits and re-validate the whole object."""
    data = obj.model_dump(mode="json")
    for path, value in edits.items():
        cur = data
        keys = path.split(".")
        for k in keys[:-1]:
            cur = cur.setdefault(k, {})
        cur[keys[-1]] = value
    kind = data.get("kind") or ("plan" if isinstance(obj, Plan) else "hazard")
    return validate(kind, data, source)


# ------------------------------------------------------------------------------------------ scenario
def build_scenario(hazard: HazardSpec, plan: Plan, seed: int = 20200820, duration_h: float = DEFAULT_DURATION_H,
                   district: DistrictSpec | None = None, outputs_dir: Path | str = "results") -> Scenario:
    """Assemble a validated scenario from the chosen parts."""
    return Scenario(district=district or default_district(), hazard=hazard, plan=plan,
                    run=RunSettings(duration_h=duration_h, seed=seed, outputs_dir=Path(outputs_dir)))


def scenario_digest(sc: Scenario) -> str:
    """Short hash of everything that decides a run's result (not the output folder), the version included."""
    key = sc.model_dump(mode="json", exclude={"sources"})
    key["run"].pop("outputs_dir", None)
    key["fuling_sim_version"] = sim.__version__
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


# ------------------------------------------------------------------------------------------ run job
class Cancelled(Exception):
    """The user pressed cancel."""


@dataclass(kw_only=True)
class Job:
    """Long work on a worker thread that a page polls: status, progress, cancel. Sessions own their jobs."""

    status: str = "queued"  # queued | running | done | cancelled | failed
    fraction: float = 0.0
    error: str = ""
    started_s: float = field(default_factory=time.perf_counter)
    _cancel: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report."""
        self._cancel.set()

    @property
    def finished(self) -> bool:
        """The job is over (done, cancelled or failed)."""
        return self.status in ("done", "cancelled", "failed")

    def elapsed_s(self) -> float:
        """Seconds since the job was started."""
        return time.perf_counter() - self.started_s

    def progress(self, fraction: float) -> None:
        """Record progress; raise :class:`Cancelled` once cancel was asked for."""
        self.fraction = fraction
        if self._cancel.is_set():
            raise Cancelled


@dataclass(kw_only=True)
class RunJob(Job):
    """One model run: the results so far while it runs, then the stored result."""

    scenario: Scenario
    folder: Path
    partial: RunResult | None = None
    result: RunResult | None = None
    first_result_s: float | None = None  # seconds from start until the first (partial) results
    reused: bool = False


def start_run(sc: Scenario, outputs_dir: Path | str = "results", builder: str | None = None,
              district=None, partial_every_s: float = 5.0) -> RunJob:
    """Start (or reuse) the run of ``sc``; return its job at once.

    A complete result of the same scenario digest under ``<outputs>/app/`` is read instead of run again.
    """
    folder = Path(outputs_dir) / "app" / f"run-{scenario_digest(sc)}"
    job = RunJob(scenario=sc, folder=folder)
    prev = stored_result(folder)  # None when missing, damaged or made by other code: run again
    if prev is not None and same_version(prev.provenance):
        job.result = prev
        job.status, job.fraction, job.reused = "done", 1.0, True
        job.first_result_s = job.elapsed_s()
        return job

    def partial(res: RunResult) -> None:
        job.partial = res
        if job.first_result_s is None:
            job.first_result_s = job.elapsed_s()

    def work() -> None:
        with _RUN_LOCK:
            if job._cancel.is_set():
                job.status = "cancelled"
                return
            job.status = "running"
            try:
                build = resolve_builder(builder)
                kwargs = {"district": district, "progress": job.progress}
                if "partial" in build.__code__.co_varnames:
                    kwargs.update(partial=partial, partial_every_s=partial_every_s)
                res = build(sc, **kwargs)
                res.write(folder)
                job.result, job.fraction, job.status = res, 1.0, "done"
                if job.first_result_s is None:
                    job.first_result_s = job.elapsed_s()
            except Cancelled:
                job.status = "cancelled"
            except Exception as exc:  # shown on the page, never a traceback
                job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"

    threading.Thread(target=work, name=f"fuling-run-{folder.name}", daemon=True).start()
    return job


@dataclass(kw_only=True)
class TaskJob(Job):
    """Any long task (a comparison, a projects ranking, a sweep) and its return value."""

    label: str
    value: Any = None


def start_task(label: str, fn: Callable[[Callable[[float], None]], Any]) -> TaskJob:
    """Run ``fn(progress)`` on a worker thread; ``progress(fraction)`` raises :class:`Cancelled` after cancel."""
    job = TaskJob(label=label)

    def work() -> None:
        job.status = "running"
        try:
            job.value = fn(job.progress)
            job.fraction, job.status = 1.0, "done"
        except Cancelled:
            job.status = "cancelled"
        except Exception as exc:  # shown on the page
            job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"

    threading.Thread(target=work, name=f"fuling-task-{label}", daemon=True).start()
    return job


# ------------------------------------------------------------------------------------------ views of a result
def scorecard_of(results: dict[str, list[tuple[int, RunResult]]]):
    """Scorecard of one or more plans' runs (see :func:`sim.scorecard.build_scorecard`)."""
    from sim.scorecard import build_scorecard

    return build_scorecard(results)


def scorecard_table(card, lang: str = "zh") -> pd.DataFrame:
    """Lay out the scorecard as indicators × plans with the status of each cell (for colouring)."""
    t = card.table
    plans = list(dict.fromkeys(t["plan"]))
    rows = []
    for key in dict.fromkeys(t["indicator"]):
        sub = t[t["indicator"] == key].set_index("plan")
        first = sub.iloc[0]
        row = {"indicator": key, "name": first["name_zh"] if lang == "zh" else first["name_en"],
               "units": first["units"], "target": first["target"]}
        for p in plans:
            r = sub.loc[p]
            row[p] = _cell(r)
            row[f"{p}__status"] = r["status"]
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(r: pd.Series) -> str:
    """Mean [low, high], status word and P(met), without emoji marks (the cell colour carries the status)."""
    from sim.report import fmt

    s = fmt(r["mean"])
    if pd.notna(r["ci_low"]) and abs(r["ci_low"]) != float("inf"):
        s += f" [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"
    status = str(r["status"]).split(" ")[0]
    if status in ("pass", "fail", "uncertain"):
        s += f" · {status}"
        if pd.notna(r["p_met"]):
            s += f" · P={r['p_met']:.0%}"
    return s


def event_table(result: RunResult, types: list[str] | None = None, text: str = "") -> pd.DataFrame:
    """Return the event log with hours, filtered by type and a free-text search in actor, target and details."""
    ev = result.events.copy()
    if "time_h" not in ev.columns:
        ev.insert(1, "time_h", (ev["time_s"] / 3600.0).round(2))
    if types:
        ev = ev[ev["type"].isin(types)]
    if text:
        hay = ev["actor"].astype(str) + " " + ev["target"].astype(str) + " " + ev["details"].astype(str)
        ev = ev[hay.str.contains(text, case=False, regex=False)]
    return ev.reset_index(drop=True)


# ------------------------------------------------------------------------------------------ compare
def compare_plans(hazard: HazardSpec, plans: list[Plan], replicates: int, base_seed: int, duration_h: float,
                  outputs_dir: Path | str = "results", builder: str | None = None, district=None,
                  progress=None, hazard_label: str = "", district_spec: DistrictSpec | None = None):
    """Run (or reuse) every plan × replicate on one hazard; return ``(scorecard, folder)``."""
    from sim.compare import CompareRequest, run_compare

    req = CompareRequest(district=district_spec or default_district(), hazard=hazard, plans=tuple(plans),
                         replicates=replicates, base_seed=base_seed, duration_h=duration_h, hazard_label=hazard_label)
    with _RUN_LOCK:
        return run_compare(req, outputs_dir, resolve_builder(builder), district=district, progress=progress)


def report_files(folder: Path) -> dict[str, Path]:
    """List the files a comparison wrote (CSV, Parquet, Markdown, PNG) that exist."""
    return {p.suffix.lstrip(".") + ":" + p.name: p for p in sorted(Path(folder).glob("scorecard*"))
            if p.is_file()}


# ------------------------------------------------------------------------------------------ sweeps
def sweep_folders(outputs_dir: Path | str = "results") -> list[Path]:
    """Sweep result folders (they hold ``manifest.json`` and ``experiments.parquet``) under ``outputs_dir``."""
    root = Path(outputs_dir)
    if not root.exists():
        return []
    return sorted({p.parent for p in root.glob("**/manifest.json") if (p.parent / "experiments.parquet").exists()})


@dataclass
class SweepView:
    """What the Sweeps page shows of one sweep."""

    folder: Path
    factors: list[str]
    outcomes: list[str]
    results: pd.DataFrame
    sensitivity: pd.DataFrame
    discovery: dict


def open_sweep(folder: Path | str) -> SweepView:
    """Read a sweep's results, sensitivity indices and target-failure boxes (computing them if missing)."""
    from sim.experiments import SweepSpec, analyse, read_results

    folder = Path(folder)
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    spec = SweepSpec.model_validate(man["sweep"])
    if not (folder / "discovery.json").exists():
        analyse(folder)
    sens = pd.read_csv(folder / "sensitivity.csv") if (folder / "sensitivity.csv").exists() else pd.DataFrame()
    disc = json.loads((folder / "discovery.json").read_text(encoding="utf-8"))
    return SweepView(folder, [f.name for f in spec.factors], list(spec.outcomes), read_results(folder), sens, disc)


# ------------------------------------------------------------------------------------------ drills
@dataclass
class DrillFiles:
    """A generated exercise script and its downloads."""

    script: Any
    markdown: str
    msel: pd.DataFrame
    csv: bytes
    xlsx: bytes
    docx: bytes


def drill(result: RunResult, district, mode: str = "tabletop", length_h: float = 3.0,
          lang: Literal["zh", "en"] = "zh", edition: str = "controller") -> DrillFiles:
    """Build the exercise script (演练脚本 / MSEL) of a run and render every download in memory."""
    import tempfile

    from sim import drill_export as X
    from sim.drills import build_script, controller_edition, participant_edition

    script = build_script(result, district, mode=mode, length_h=length_h)
    script = participant_edition(script) if edition == "participant" else controller_edition(script)
    msel = X.msel(script, lang)
    with tempfile.TemporaryDirectory() as d:
        xlsx = X.write_xlsx(script, Path(d) / "msel.xlsx", lang).read_bytes()
        docx = X.write_docx(script, Path(d) / "drill.docx", lang).read_bytes()
    buf = io.StringIO()
    msel.to_csv(buf, index=False)
    return DrillFiles(script, X.to_markdown(script, lang), msel, buf.getvalue().encode("utf-8-sig"), xlsx, docx)


# ------------------------------------------------------------------------------------------ key projects
def project_folders(*roots: Path | str) -> list[Path]:
    """Key-project rankings (folders holding ``projects_ranking.csv``) under the given roots."""
    out = set()
    for root in roots:
        root = Path(root)
        if root.exists():
            out |= {p.parent for p in root.glob("**/projects_ranking.csv")}
    return sorted(out)


@dataclass
class ProjectsView:
    """One key-project ranking as written by ``fuling-sim projects``."""

    folder: Path
    meta: dict
    ranking: pd.DataFrame
    table: pd.DataFrame
    figure: Path | None
    markdown: str


def open_projects(folder: Path | str) -> ProjectsView:
    """Read a key-project ranking folder."""
    folder = Path(folder)
    meta_path = folder / "projects_meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    png = folder / "projects.png"
    md = folder / "projects.md"
    return ProjectsView(folder, meta, pd.read_csv(folder / "projects_ranking.csv"),
                        pd.read_csv(folder / "projects.csv"), png if png.exists() else None,
                        md.read_text(encoding="utf-8") if md.exists() else "")


def rank_projects(hazards: dict[str, HazardSpec], base: Plan, replicates: int, base_seed: int, duration_h: float,
                  outputs_dir: Path | str = "results", builder: str | None = None, district=None,
                  progress=None, district_spec: DistrictSpec | None = None) -> ProjectsView:
    """Run the key-project ranking (baseline without projects, all, each alone) and open its folder."""
    from sim.projects import run_projects

    with _RUN_LOCK:
        _, folder = run_projects(hazards, base, district_spec or default_district(), replicates, base_seed,
                                 duration_h, outputs_dir, resolve_builder(builder), district=district,
                                 progress=progress)
    return open_projects(folder)
