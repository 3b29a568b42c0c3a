"""Compare page: plans side by side on one hazard against the plan's targets, and what each key project buys.

Replicates with intervals, per-township results, exports (CSV, PNG, Markdown).
"""

from __future__ import annotations

from pathlib import Path

import plotly.express as px
import streamlit as st

from app_pages.common import (
    catalogue,
    district,
    ensure_defaults,
    outputs_dir,
    pick,
    pick_many,
    styled_scorecard,
    t,
    task_progress,
)
from sim import app_api

ensure_defaults()
ss = st.session_state
lang = ss.get("lang", "zh")
st.title(t("预案比较", "Compare plans"))

tab_plans, tab_projects = st.tabs([t("预案对比评分卡", "Plans scorecard"), t("重点项目效益", "Key projects")])

with tab_plans:
    plans = {c.stem: c for c in catalogue("plan")}
    options = ["(current)"] + list(plans)
    c1, c2 = st.columns([3, 2])
    labels = {s: t("当前编辑的预案", "the plan being edited") if s == "(current)" else plans[s].label(lang)
              for s in options}
    with c1:
        chosen = pick_many(t("预案（两个或以上；第一个为参照）", "Plans (two or more; the first is the reference)"),
                           labels, "cmp_plans",
                           ["baseline", "fyp14"] if {"baseline", "fyp14"} <= set(plans) else options[:2])
    h = ss["hazard"]
    c2.write(t(f"灾害情景：**{h.name_zh or h.name}**（在“情景设置”页更改）",
               f"Hazard: **{h.name}** (change it on the Scenario page)"))
    c3, c4, c5 = st.columns(3)
    reps = int(c3.number_input(t("重复次数", "Replicates"), 1, 20, 2, key="cmp_reps"))
    dur = float(c4.number_input(t("时长 (小时)", "Duration (h)"), 1.0, 72.0, float(ss["duration_h"]), key="cmp_dur"))
    seed = int(c5.number_input(t("基础种子", "Base seed"), 0, 2**31, int(ss["seed"]), key="cmp_seed"))
    job = ss.get("cmp_job")
    busy = job is not None and not job.finished
    if st.button(t("开始比较", "Compare"), type="primary", disabled=busy or len(chosen) < 2, key="cmp_go"):
        chosen_plans = [ss["plan"] if s == "(current)" else app_api.load_choice(plans[s]) for s in chosen]
        names = [p.name for p in chosen_plans]
        if len(set(names)) < len(names):
            st.error(t("预案名称重复：请重命名当前编辑的预案或不要重复选择。",
                       "Two plans share a name: rename the edited plan or pick each plan once."))
        else:
            d = district()
            out = outputs_dir()
            spec = ss["district_spec"]
            job = ss["cmp_job"] = app_api.start_task("compare", lambda progress: app_api.compare_plans(
                h, chosen_plans, reps, seed, dur, out, district=d, progress=progress, district_spec=spec))

    task_progress("cmp_job", ("比较中", "comparing"), ("取消", "Cancel"), rerun_when_done=True)
    job = ss.get("cmp_job")
    if job is not None and job.status == "done":
        card, folder = job.value
        table = app_api.scorecard_table(card, lang)
        st.subheader(t("目标评分卡", "Target scorecard"))
        styled_scorecard(table, list(card.meta["plans"]))
        st.caption(t("均值 [95% 区间]；P = 达标的重复比例；绿=达标 红=未达标 黄=不确定；† 年均（×年频率）",
                     "mean [95 % interval]; P = share of replicates meeting the target; green pass, red fail, "
                     "yellow uncertain; † annual (× yearly frequency)"))
        files = app_api.report_files(folder)
        png = folder / "scorecard.png"
        if png.exists():
            st.image(str(png))
        st.subheader(t("与参照预案的配对差异", "Paired differences against the reference plan"))
        st.dataframe(card.differences, hide_index=True, width="stretch")
        st.subheader(t("分乡镇结果", "Per township"))
        tw = card.townships
        numeric = [c for c in tw.columns if c not in ("plan", "township", "township_en") and tw[c].dtype.kind in "fi"]
        if numeric:
            col = pick(t("乡镇图表指标", "township chart: indicator"), {c: c for c in numeric}, "cmp_tw_col",
                       "warning_coverage" if "warning_coverage" in numeric else numeric[0])
            fig = px.bar(tw, x="township" if lang == "zh" else "township_en", y=col, color="plan", barmode="group")
            fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10})
            st.plotly_chart(fig, key="cmp_tw_chart")
        st.dataframe(tw, hide_index=True, width="stretch")
        cols = st.columns(4)
        for i, (name, mime) in enumerate((("scorecard.csv", "text/csv"), ("scorecard.png", "image/png"),
                                          ("scorecard.md", "text/markdown"),
                                          ("scorecard_townships.csv", "text/csv"))):
            p = Path(folder) / name
            if p.exists():
                cols[i].download_button(name, p.read_bytes(), file_name=name, mime=mime, key=f"dl_{name}")
        st.caption(t(f"全部文件：{folder}（{len(files)} 个评分卡文件）", f"All files: {folder} ({len(files)} scorecard files)"))

with tab_projects:
    st.write(t("规划的21个重点项目各自对目标的改变（每1亿元投资），配对重复运行，可用灾害组合（按年频率加权）。",
               "What each of the plan's 21 key projects changes in the targets (per 10,000 万元 invested), "
               "paired replicates, on one hazard or a frequency-weighted mix."))
    folders = app_api.project_folders(outputs_dir(), Path("docs") / "examples")
    if folders:
        folder = pick(t("已有排名结果", "Existing rankings"), {f: str(f) for f in folders}, "proj_folder")
        view = app_api.open_projects(folder)
        if view.meta:
            st.caption(t(f"灾害：{', '.join(view.meta.get('hazards', {}))}；重复 {view.meta.get('replicates')} 次；"
                         f"每次 {view.meta.get('duration_h')} 小时", f"hazards: {', '.join(view.meta.get('hazards', {}))}; "
                         f"{view.meta.get('replicates')} replicates; {view.meta.get('duration_h')} h per run"))
        st.dataframe(view.ranking, hide_index=True, width="stretch")
        if view.figure is not None:
            st.image(str(view.figure))
        st.download_button(t("下载排名 Markdown", "Download ranking (Markdown)"), view.markdown.encode("utf-8"),
                           file_name="projects.md", mime="text/markdown", key="dl_projects")
    else:
        st.info(t("还没有排名结果。", "No ranking yet."))
    hz = {c.stem: c for c in catalogue("hazard")}
    mix = pick_many(t("灾害（多选即为组合）", "Hazards (several make a mix)"), {s: c.label(lang) for s, c in hz.items()},
                    "proj_hazards", ["fire_2022_beishanping"] if "fire_2022_beishanping" in hz else list(hz)[:1])
    c1, c2 = st.columns(2)
    preps = int(c1.number_input(t("重复次数", "Replicates"), 1, 10, 1, key="proj_reps"))
    pdur = float(c2.number_input(t("时长 (小时)", "Duration (h)"), 1.0, 72.0, 24.0, key="proj_dur"))
    pjob = ss.get("proj_job")
    pbusy = pjob is not None and not pjob.finished
    st.caption(t(f"将运行 {2 + 21} 个左右的预案 × {preps} 次 × {len(mix)} 种灾害；耗时较长。",
                 f"This runs about 23 plans × {preps} replicates × {len(mix)} hazards; it takes a while."))
    if st.button(t("运行排名", "Rank projects"), disabled=pbusy or not mix, key="proj_go"):
        hazards = {s: app_api.load_choice(hz[s]) for s in mix}
        d, out, base, spec, seed = district(), outputs_dir(), ss["plan"], ss["district_spec"], int(ss["seed"])
        ss["proj_job"] = app_api.start_task("projects", lambda progress: app_api.rank_projects(
            hazards, base, preps, seed, pdur, out, district=d, progress=progress, district_spec=spec).folder)

    task_progress("proj_job", ("排名运行中", "ranking"), ("取消排名", "Cancel ranking"))
