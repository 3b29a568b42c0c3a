"""Render and write a :class:`~sim.scorecard.Scorecard`: Markdown, CSV, Parquet, a figure and a terminal table.

Each file is written to a temporary name beside its destination and renamed into place, so a reader (or a
resumed comparison) never finds half a scorecard.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from sim.atomic import atomic_write
from sim.scorecard import FAIL, PASS, UNCERTAIN, Scorecard

MARK = {PASS: "✅", FAIL: "❌", UNCERTAIN: "❔"}


def md_table(df: pd.DataFrame) -> str:
    """Return a GitHub-flavoured Markdown table of ``df`` (cells as text, '|' escaped)."""
    def esc(x) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(esc(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(esc(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def fmt(v: float, digits: int = 3) -> str:
    """Format a figure with ``digits`` significant digits ('—' for NaN)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    return f"{v:.{max(digits - 1 - mag, 0)}f}"


def cell(row: pd.Series) -> str:
    """One plan's entry: mean [low, high], status mark and P(met)."""
    s = fmt(row["mean"])
    if math.isfinite(row["ci_low"]):
        s += f" [{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]"
    mark = MARK.get(row["status"], "")
    if mark:
        s += f" {mark}"
        if math.isfinite(row["p_met"]):
            s += f" P={row['p_met']:.0%}"
    return s


def wide(card: Scorecard) -> pd.DataFrame:
    """Return the scorecard with indicators as rows, plans as columns (the printed scorecard)."""
    t = card.table
    plans = list(dict.fromkeys(t["plan"]))
    first = t[t["plan"] == plans[0]].set_index("indicator")
    out = pd.DataFrame({
        "indicator 指标": [f"{k} {first.loc[k, 'name_zh']} {first.loc[k, 'name_en']}" for k in first.index],
        "units 单位": first["units"].to_numpy(), "target 目标": first["target"].to_numpy(),
        "basis 口径": first["basis"].to_numpy(),
    }, index=first.index)
    for plan in plans:
        sub = t[t["plan"] == plan].set_index("indicator")
        out[plan] = [cell(sub.loc[k]) for k in out.index]
    return out.reset_index(drop=True)


def markdown(card: Scorecard, title: str = "Scorecard 预案评分卡") -> str:
    """Return the scorecard, the differences and the per-township breakdown as Markdown."""
    m = card.meta
    lines = [f"# {title}", ""]
    if m.get("hazard"):
        lines.append(f"- hazard 灾害情景: **{m['hazard']}**")
    lines.append(f"- plans 预案: {', '.join(m.get('plans', []))}; replicates 重复次数: {m.get('replicates', '?')} "
                 f"(seeds from SeedSequence({m.get('base_seed', '?')}))")
    lines.append(f"- interval 区间: {m.get('level', 0.95):.0%} Student-t interval of the mean; P = share of "
                 "replicates meeting the target; ✅ pass, ❌ fail, ❔ interval straddles the target")
    lines.append(f"- targets 目标: {m.get('targets_source', '')}")
    lines.append("- annual targets (T2, T4, T5, T6) are judged only when the hazard file gives its frequency; "
                 "then the figure is this hazard's expected contribution to a year, not a whole year")
    lines.append("- T6 counts homes and forest only (a lower bound); locations of teams, shelters and depots are "
                 "generated — see each run's provenance")
    lines += ["", md_table(wide(card)), ""]
    d = card.differences
    if len(d):
        lines += [f"## Differences 与 {d['reference'].iloc[0]} 的差异 (paired by seed)", ""]
        show = d.assign(diff=[f"{fmt(r.mean_diff)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}]" for r in d.itertuples()])
        lines += [md_table(show[["plan", "indicator", "n_pairs", "diff", "verdict"]]), ""]
    tw = card.townships
    if len(tw):
        lines += ["## Townships 分乡镇 (means over replicates)", ""]
        piv = tw.pivot_table(index=["township", "township_en"], columns="plan",
                             values=["exposed_persons", "warning_coverage", "clearance_h", "dead_persons"],
                             aggfunc="first", sort=False)
        piv.columns = [f"{a} · {b}" for a, b in piv.columns]
        lines += [md_table(piv.map(fmt).reset_index()), ""]
    return "\n".join(lines)


def figure(card: Scorecard, path: Path) -> None:
    """Means and intervals per plan for every indicator, with the target as a dashed line (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.districtmap import cjk_font

    font = cjk_font()
    t = card.table
    keys = list(dict.fromkeys(t["indicator"]))
    plans = list(dict.fromkeys(t["plan"]))
    ncol = 4
    nrow = math.ceil(len(keys) / ncol)
    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    with plt.rc_context(rc):
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow), squeeze=False)
        colours = {PASS: "#2a9d3f", FAIL: "#c0392b", UNCERTAIN: "#d68910"}
        for ax, key in zip(axes.ravel(), keys, strict=False):
            sub = t[t["indicator"] == key].set_index("plan").reindex(plans)
            for i, plan in enumerate(plans):
                r = sub.loc[plan]
                c = colours.get(r["status"], "#34495e")
                ax.plot([i], [r["mean"]], "o", color=c)
                if math.isfinite(r["ci_low"]):
                    ax.vlines(i, r["ci_low"], r["ci_high"], color=c, lw=2)
            tgt = sub["target"].iloc[0]
            if tgt:
                try:
                    ax.axhline(float(tgt.split()[1]), ls="--", color="#7f8c8d", lw=1)
                except (IndexError, ValueError):
                    pass
            name = sub["name_zh"].iloc[0] if font else sub["name_en"].iloc[0]
            ax.set_title(f"{key} {name}\n{sub['units'].iloc[0]} {tgt}".strip(), fontsize=8)
            ax.set_xticks(range(len(plans)), plans, fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            ax.set_xlim(-0.6, len(plans) - 0.4)
        for ax in axes.ravel()[len(keys):]:
            ax.set_visible(False)
        fig.suptitle(card.meta.get("hazard", "") + (" — 预案评分卡 scorecard" if font else " — scorecard"),
                     fontsize=10)
        fig.tight_layout()
        atomic_write(path, lambda p: fig.savefig(p, dpi=120, format="png"))
        plt.close(fig)


def write(card: Scorecard, folder: Path | str, stem: str = "scorecard") -> list[Path]:
    """Write CSV + Parquet of every table, Markdown, the figure and meta JSON into ``folder``; return paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, df in (("", card.table), ("_differences", card.differences), ("_townships", card.townships),
                     ("_replicates", card.replicates)):
        for ext in ("csv", "parquet"):
            p = folder / f"{stem}{name}.{ext}"
            if ext == "csv":
                atomic_write(p, lambda q, df=df: df.to_csv(q, index=False))
            else:
                atomic_write(p, lambda q, df=df: df.to_parquet(q, index=False))
            out.append(p)
    p = folder / f"{stem}.md"
    atomic_write(p, lambda q: q.write_text(markdown(card), encoding="utf-8"))
    out.append(p)
    p = folder / f"{stem}.png"
    figure(card, p)
    out.append(p)
    p = folder / f"{stem}_meta.json"
    atomic_write(p, lambda q: q.write_text(json.dumps(card.meta, ensure_ascii=False, indent=1, default=str),
                                      encoding="utf-8"))
    out.append(p)
    return out


def rich_table(card: Scorecard, title: str = "scorecard 预案评分卡"):
    """Return a compact rich Table of the scorecard (for the CLI): † annualised, * per event, not judged."""
    from rich.markup import escape
    from rich.table import Table

    t = card.table
    plans = list(dict.fromkeys(t["plan"]))
    table = Table(title=title, caption="† this hazard's annual contribution (×frequency) · * per event: annual "
                                       "target not judged · \\[low, high] 95 % interval · P share of replicates met",
                  show_lines=False)
    table.add_column("indicator 指标", overflow="fold")
    table.add_column("target 目标", justify="right")
    for plan in plans:
        table.add_column(escape(plan), justify="right", overflow="fold")
    first = t[t["plan"] == plans[0]].set_index("indicator")
    for key in first.index:
        r0 = first.loc[key]
        mark = " †" if r0["basis"].startswith("annualised") else (" *" if "not judged" in r0["basis"] else "")
        label = f"{key} {r0['name_zh']}{mark}" + (f" ({r0['units']})" if r0["units"] else "")
        cells = [cell(t[(t["plan"] == p) & (t["indicator"] == key)].iloc[0]) for p in plans]
        table.add_row(label, r0["target"], *cells)
    return table


def rich_townships(card: Scorecard, max_rows: int = 27):
    """Return a rich Table of the per-township breakdown (townships the hazard reached, most exposed first)."""
    from rich.markup import escape
    from rich.table import Table

    tw = card.townships
    plans = list(dict.fromkeys(tw["plan"]))
    exposed = tw.groupby("township", sort=False)["exposed_persons"].max()
    names = [n for n in exposed.sort_values(ascending=False, kind="stable").index if exposed[n] > 0][:max_rows]
    table = Table(title="townships 分乡镇 (means over replicates): exposed · warned in time · deaths · clearance h")
    table.add_column("township 乡镇")
    for plan in plans:
        table.add_column(escape(plan), justify="right")
    idx = tw.set_index(["plan", "township"])
    for n in names:
        cells = []
        for plan in plans:
            r = idx.loc[(plan, n)]
            cov = "—" if not math.isfinite(r["warning_coverage"]) else f"{100 * r['warning_coverage']:.0f} %"
            cells.append(f"{fmt(r['exposed_persons'])} · {cov} · {fmt(r['dead_persons'])} · {fmt(r['clearance_h'])}")
        table.add_row(f"{n} {idx.loc[(plans[0], n), 'township_en']}", *cells)
    return table
