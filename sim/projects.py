"""The plan's 21 key projects as switchable plan levers (``scenarios/fuling/projects.yaml``, PLAN_FACTS §6).

A plan switches projects on with ``projects: {geohazard_monitoring: true, …}``; :func:`effective_plan`
applies each switched-on project's declared effects (set / add / scale / append on dotted plan fields) to
the plan the model runs. A project with no simulated process carries a ``no_effect`` reason and changes
nothing. :func:`project_plans` builds the comparison the planner asks for — no project, all projects, and
each project alone (optionally each one left out) — and :func:`project_table` turns the scorecard's paired
differences into the change per target per 10,000 万元 of the plan's investment.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.paths import scenarios_dir
from sim.scenario import Plan
from sim.yamlio import InputError


class Effect(BaseModel):
    """One change to a plan field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)*$", description="dotted plan field, e.g. warning.lead_time_min")
    set: Any = None
    add: float | None = None
    scale: float | None = None
    append: Any = None
    source: str = Field(min_length=1, description="the plan's figure, or 'assumption: …'")

    @model_validator(mode="after")
    def _one_op(self) -> Effect:
        ops = [k for k in ("add", "scale", "append") if getattr(self, k) is not None]
        if "set" in self.model_fields_set:
            ops.append("set")
        if len(ops) != 1:
            raise ValueError(f"{self.path}: give exactly one of set, add, scale, append")
        return self

    @property
    def op(self) -> str:
        """The operation: set, add, scale or append."""
        return "set" if "set" in self.model_fields_set else next(k for k in ("add", "scale", "append")
                                                                  if getattr(self, k) is not None)


class Project(BaseModel):
    """One key project of the plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z_]+$")
    number: int = Field(ge=1, le=100)
    name_zh: str
    name_en: str
    investment_10k_cny: float | None = Field(description="the plan's investment, 万元 (None: not given)")
    investment_note: str = ""
    lead: str
    effects: list[Effect] = Field(default_factory=list)
    no_effect: str = Field("", description="why the project changes no simulated process")

    @model_validator(mode="after")
    def _effect_or_reason(self) -> Project:
        if bool(self.effects) == bool(self.no_effect):
            raise ValueError(f"project {self.id}: give effects, or a no_effect reason, not both or neither")
        return self


class ProjectFile(BaseModel):
    """The projects data file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["projects"] = "projects"
    source: str
    projects: list[Project] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ProjectFile:
        ids = [p.id for p in self.projects]
        if len(set(ids)) != len(ids):
            raise ValueError("project ids must be unique")
        return self


def default_projects_path() -> Path:
    """Return the shipped projects file."""
    return scenarios_dir() / "fuling" / "projects.yaml"


@lru_cache(maxsize=4)
def _load(path: str) -> ProjectFile:
    from sim.scenario import _validate
    from sim.yamlio import load_yaml_file

    return _validate(ProjectFile, load_yaml_file(Path(path)), path)


def load_projects(path: Path | str | None = None) -> ProjectFile:
    """Read and validate a projects file (cached)."""
    return _load(str(Path(path) if path is not None else default_projects_path()))


def _apply(data: dict, e: Effect) -> None:
    keys = e.path.split(".")
    cur = data
    for k in keys[:-1]:
        cur = cur[k]
    last = keys[-1]
    if last not in cur:
        raise KeyError(e.path)
    op = e.op
    if op == "set":
        cur[last] = e.set
    elif op == "add":
        cur[last] = cur[last] + e.add
    elif op == "scale":
        cur[last] = cur[last] * e.scale
    elif op == "append" and e.append not in cur[last]:
        cur[last] = [*cur[last], e.append]


def effective_plan(plan: Plan, projects: ProjectFile | None = None) -> Plan:
    """Return the plan with the effects of its switched-on projects applied (in project-number order).

    Unknown project ids, and effects that take a field out of its range, raise :class:`InputError` naming the
    plan field and the fix.
    """
    if not plan.projects:
        return plan
    pf = projects or load_projects()
    by_id = {p.id: p for p in pf.projects}
    unknown = [k for k in plan.projects if k not in by_id]
    if unknown:
        close = [c for k in unknown for c in difflib.get_close_matches(k, list(by_id), n=1)]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise InputError(f"plan {plan.name!r}: projects: unknown id(s) {', '.join(unknown)}. Fix: {hint}use ids of "
                         f"{default_projects_path().name}, e.g. {', '.join(list(by_id)[:4])}")
    data = plan.model_dump(mode="json")
    for p in sorted(pf.projects, key=lambda p: p.number):
        if plan.projects.get(p.id):
            for e in p.effects:
                try:
                    _apply(data, e)
                except (KeyError, TypeError) as exc:
                    raise InputError(f"project {p.id}: effect on {e.path!r} cannot apply to the plan ({exc}). "
                                     "Fix: correct that effect in the projects file") from exc
    data["projects"] = {}  # the effects are now in the fields; keep the switches in the name
    on = sorted(k for k, v in plan.projects.items() if v)
    data["description"] = (plan.description + f" [projects on: {', '.join(on)}]").strip()
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        bad = "; ".join(f"{'.'.join(str(x) for x in e['loc'])} would be {e.get('input')!r}: "
                        f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
        raise InputError(f"plan {plan.name!r}: projects: switching on {', '.join(on)} takes the plan out of range: "
                         f"{bad}. Fix: change that field in the plan so the projects' effects stay in range, or "
                         "switch the project off") from None


def touched_fields(plan: Plan, other: Plan) -> set[str]:
    """Dotted plan fields whose values differ between two plans (names and descriptions aside)."""
    a, b = plan.model_dump(mode="json"), other.model_dump(mode="json")
    out: set[str] = set()

    def walk(x, y, prefix: str) -> None:
        if isinstance(x, dict) and isinstance(y, dict) and x and y and set(x) == set(y) and not prefix.endswith(
                ("capacity_multiplier", "standby_share_by_season")):
            for k in x:
                walk(x[k], y[k], f"{prefix}.{k}" if prefix else k)
        elif json.dumps(x, sort_keys=True) != json.dumps(y, sort_keys=True):
            out.add(prefix)

    walk(a, b, "")
    return out - {"name", "name_zh", "description", "projects"}


def project_plans(base: Plan, ids: list[str] | None = None, leave_one_out: bool = False,
                  projects: ProjectFile | None = None) -> dict[str, Plan]:
    """Return the plans to compare: ``none``, ``all``, ``only_<id>`` and optionally ``without_<id>``.

    ``none`` is the base with every project off; ``only_<id>`` for each project with an effect (``ids`` to
    choose); with ``leave_one_out`` also the full set without each one.
    """
    pf = projects or load_projects()
    with_effect = [p.id for p in pf.projects if p.effects and (ids is None or p.id in ids)]
    off = {p.id: False for p in pf.projects}

    def make(name: str, on: set[str]) -> Plan:
        return base.model_copy(update={"name": name, "projects": {**off, **{k: True for k in on}}})

    out = {"none": make("none", set()), "all": make("all", set(with_effect))}
    for pid in with_effect:
        out[f"only_{pid}"] = make(f"only_{pid}", {pid})
    if leave_one_out:
        for pid in with_effect:
            out[f"without_{pid}"] = make(f"without_{pid}", set(with_effect) - {pid})
    return out


def project_table(differences: pd.DataFrame, projects: ProjectFile | None = None,
                  all_ids: list[str] | None = None) -> pd.DataFrame:
    """Per project and indicator: the paired change from ``none`` with its interval, and per 10,000 万元.

    ``change_per_10000_wan_cny`` = change × 10,000 / investment in 万元 (i.e. per 100 million CNY). ``all_ids``:
    the projects switched on in ``all`` (default: every project with an effect).

    ``differences`` is a scorecard's paired-difference table with ``none`` as the reference. Investments
    come from the projects file; a project without one gets no per-investment figure.
    """
    pf = projects or load_projects()
    inv = {p.id: p.investment_10k_cny for p in pf.projects}
    names = {p.id: (p.number, p.name_zh, p.name_en) for p in pf.projects}
    all_ids = all_ids if all_ids is not None else [p.id for p in pf.projects if p.effects]
    rows = []
    for r in differences.itertuples():
        if not str(r.plan).startswith(("only_", "without_")) and r.plan != "all":
            continue
        pid = str(r.plan).split("_", 1)[1] if r.plan != "all" else "all"
        money = (sum(inv[k] for k in all_ids if inv.get(k)) if pid == "all" else inv.get(pid))
        per = 1e4 / money if money else np.nan
        num, zh, en = names.get(pid, (0, "全部项目", "all projects"))
        rows.append({"plan": r.plan, "project": pid, "number": num, "name_zh": zh, "name_en": en,
                     "investment_10k_cny": money if money else np.nan, "indicator": r.indicator,
                     "change": r.mean_diff, "ci_low": r.ci_low, "ci_high": r.ci_high, "verdict": r.verdict,
                     "change_per_10000_wan_cny": r.mean_diff * per if np.isfinite(per) else np.nan})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------- running
def combine_mix(cards: dict[str, tuple[object, float]]) -> pd.DataFrame:
    """Return the replicate values of a hazard mix.

    Annual indicators are summed (each already × its hazard's frequency); the others are averaged over the
    hazards where they apply, weighted by frequency. ``cards``: label → (scorecard, frequency per year).
    """
    frames = []
    for label, (card, lam) in cards.items():
        r = card.replicates.copy()
        r["hazard"] = label
        r["weight"] = np.where(r["basis"].str.startswith("annualised"), 1.0, float(lam))
        r["annual"] = r["basis"].str.startswith("annualised")
        frames.append(r)
    allr = pd.concat(frames, ignore_index=True)
    allr["wv"] = allr["value"] * allr["weight"]
    allr["w_valid"] = np.where(allr["value"].notna(), allr["weight"], 0.0)
    g = allr.groupby(["plan", "seed", "indicator"], sort=False)
    out = g.agg(wv=("wv", lambda v: v.sum(min_count=1)), w=("w_valid", "sum"), annual=("annual", "all")).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = np.where(out["annual"], out["wv"], out["wv"] / out["w"].where(out["w"] > 0))
    out["basis"] = np.where(out["annual"], "annualised 年均 (hazard mix)", "frequency-weighted mean (hazard mix)")
    out["per_year_factor"] = 1.0
    return out[["plan", "seed", "indicator", "basis", "per_year_factor", "value"]]


def run_projects(hazards: dict[str, object], base: Plan, district_spec, replicates: int, base_seed: int,
                 duration_h: float, outputs_dir: Path | str, builder, district=None, ids: list[str] | None = None,
                 leave_one_out: bool = False, on_run=None, progress=None) -> tuple[pd.DataFrame, Path]:
    """Run ``none``, ``all`` and each project alone on every hazard; return the project table and its folder.

    With several hazards each needs ``annual_frequency_per_year``; the table is then for the mix.
    """
    import hashlib

    from sim.compare import CompareRequest, run_compare
    from sim.scorecard import _differences

    if len(hazards) > 1:
        missing = [k for k, h in hazards.items() if not h.annual_frequency_per_year]
        if missing:
            raise ValueError(f"hazard mix: {missing} state no annual_frequency_per_year. Fix: add one to each hazard "
                             "file (with frequency_source), or run one hazard at a time")
    plans = project_plans(base, ids, leave_one_out)
    cards = {}
    for label, hz in hazards.items():
        req = CompareRequest(district=district_spec, hazard=hz, plans=tuple(plans.values()), replicates=replicates,
                             base_seed=base_seed, duration_h=duration_h, hazard_label=label)
        card, _ = run_compare(req, outputs_dir, builder, district=district, on_run=on_run, progress=progress)
        cards[label] = (card, hz.annual_frequency_per_year or 1.0)
    if len(cards) == 1:
        (card, _), = cards.values()
        diffs = card.differences
    else:
        diffs = _differences(combine_mix(cards), 0.95)
    table = project_table(diffs, all_ids=[k.removeprefix("only_") for k in plans if k.startswith("only_")])
    key = json.dumps([sorted(hazards), base.model_dump(mode="json"), replicates, base_seed, duration_h, ids,
                      leave_one_out], sort_keys=True, default=str)
    folder = Path(outputs_dir) / f"projects-{'+'.join(sorted(hazards))}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    write_projects(table, folder, {"hazards": {k: h.name for k, h in hazards.items()},
                                   "frequencies": {k: h.annual_frequency_per_year for k, h in hazards.items()},
                                   "replicates": replicates, "base_seed": base_seed, "duration_h": duration_h,
                                   "base_plan": base.name})
    return table, folder


RANK_BY = ("T4", "T3", "T1", "T7", "rescue_min", "clearance_h")


def ranking(table: pd.DataFrame) -> pd.DataFrame:
    """Projects as rows, the change per 10,000 万元 of each headline indicator as columns, best T4 first."""
    t = table[table["plan"].str.startswith("only_")]
    wide = (t.set_index(["number", "project", "name_zh", "investment_10k_cny", "indicator"])
            ["change_per_10000_wan_cny"].unstack("indicator"))
    cols = [c for c in RANK_BY if c in wide.columns]
    wide = wide[cols].reset_index()
    if "T4" in wide.columns:
        wide = wide.sort_values("T4", na_position="last", kind="stable")  # fewer deaths first
    return wide.reset_index(drop=True)


def write_projects(table: pd.DataFrame, folder: Path, meta: dict) -> list[Path]:
    """Write ``projects.{csv,parquet}``, ``projects_ranking.{csv,md}``, ``projects.png`` and meta JSON."""
    from sim.atomic import atomic_write
    from sim.report import fmt, md_table

    out = []

    def atomic(name: str, write) -> None:
        out.append(atomic_write(folder / name, write))

    atomic("projects.csv", lambda p: table.to_csv(p, index=False))
    atomic("projects.parquet", lambda p: table.to_parquet(p, index=False))
    rank = ranking(table)
    atomic("projects_ranking.csv", lambda p: rank.to_csv(p, index=False))
    pf = load_projects()
    none = [[p.number, p.name_zh, p.name_en, fmt(p.investment_10k_cny) if p.investment_10k_cny else "—",
             p.no_effect] for p in pf.projects if not p.effects]
    md = [f"# What each key project buys 重点工程项目效益 — {', '.join(meta['hazards'])}", "",
          f"- replicates: {meta['replicates']} (paired by seed); base plan: {meta['base_plan']}; "
          f"{meta['duration_h']:g} h per run", "- change per 10,000 万元 of the plan's investment (negative T4 = "
          "fewer deaths per million; positive T3 = more residents warned in time); annual targets as in the scorecard",
          "", md_table(rank.map(lambda v: fmt(v) if isinstance(v, float) else v)), "",
          "## Changes with 95 % intervals", "",
          md_table(table.assign(change=[f"{fmt(r.change)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}]"
                                        for r in table.itertuples()])[
              ["project", "indicator", "change", "verdict", "investment_10k_cny"]]), "",
          "## Projects with no simulated effect 无模拟效应的项目", "",
          md_table(pd.DataFrame(none, columns=["#", "项目", "project", "万元", "why"])), ""]
    atomic("projects.md", lambda p: p.write_text("\n".join(md), encoding="utf-8"))
    atomic("projects_meta.json", lambda p: p.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str),
                                                        encoding="utf-8"))
    _figure(rank, folder, atomic)
    return out


def _figure(rank: pd.DataFrame, folder: Path, atomic) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.districtmap import cjk_font

    font = cjk_font()
    cols = [c for c in RANK_BY if c in rank.columns][:4]
    if not cols or not len(rank):
        return
    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    with plt.rc_context(rc):
        fig, axes = plt.subplots(1, len(cols), figsize=(3.6 * len(cols), 0.35 * len(rank) + 1.5), squeeze=False)
        labels = [(r.name_zh if font else r.project) for r in rank.itertuples()]
        for ax, c in zip(axes[0], cols, strict=False):
            ax.barh(range(len(rank)), rank[c].fillna(0.0), color="#2e86c1")
            ax.set_yticks(range(len(rank)), labels if ax is axes[0][0] else [""] * len(rank), fontsize=7)
            ax.invert_yaxis()
            ax.axvline(0, color="k", lw=0.6)
            ax.set_title(f"{c} per 10,000 万元", fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
        fig.tight_layout()
        atomic("projects.png", lambda p: fig.savefig(p, dpi=110, format="png"))
        plt.close(fig)
