"""Sweeps page: open a sweep's results; levers against outcomes, sensitivity, and which ranges fail a target."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from app_pages.common import ensure_defaults, outputs_dir, pick, t, task_progress
from sim import app_api
from sim.experiments import load_sweep, run_sweep
from sim.metrics import INDICATORS
from sim.paths import scenarios_dir
from sim.targets import load_targets

ensure_defaults()
ss = st.session_state
st.title(t("参数扫描", "Parameter sweeps"))

with st.expander(t("启动一个扫描（Dask 本地集群）", "Start a sweep (Dask local cluster)"), expanded=False):
    files = sorted((scenarios_dir() / "sweeps").glob("*.yaml"))
    f = pick(t("扫描文件", "sweep file"), {p: p.name for p in files}, "sw_file") if files else None
    c1, c2 = st.columns(2)
    workers = int(c1.number_input(t("工作进程", "workers"), 1, 16, 2, key="sw_workers"))
    limit = int(c2.number_input(t("本次最多运行（0=全部）", "runs this time (0 = all)"), 0, 10_000, 0, key="sw_limit"))
    fresh = st.checkbox(t("重新开始（清除此扫描已有的结果）", "start again (clear this sweep's earlier results)"),
                        key="sw_fresh", help=t("扫描文件、基准情景或代码变更后需要重新开始。",
                                               "needed after the sweep file, its base run or the code changed"))
    sjob = ss.get("sw_job")
    sbusy = sjob is not None and not sjob.finished
    if st.button(t("开始扫描", "Start sweep"), disabled=sbusy or f is None, key="sw_go"):
        spec, base = load_sweep(f)
        out = outputs_dir() / "sweeps"

        def task(progress):
            """Run the sweep, reporting each finished run."""
            return run_sweep(spec, base, out, n_workers=workers, limit=limit or None, resume=not fresh,
                             on_done=lambda done, total, row: progress(done / max(total, 1)))

        ss["sw_job"] = app_api.start_task("sweep", task)

    task_progress("sw_job", ("扫描中", "sweeping"), ("取消", "Cancel"))

folders = app_api.sweep_folders(outputs_dir())
if not folders:
    st.info(t("还没有扫描结果：用上面的按钮或命令行 `fuling-sim sweep` 运行一个。",
              "No sweep results yet: start one above or with `fuling-sim sweep` on the command line."))
    st.stop()

folder = pick(t("扫描结果", "Sweep results"), {f: str(f) for f in folders}, "sw_folder")
view = app_api.open_sweep(folder)
res = view.results
ok = res[res["status"] == "ok"] if len(res) else res
st.caption(t(f"{len(res)} 次运行，{len(ok)} 次成功；因子 {', '.join(view.factors)}",
             f"{len(res)} runs, {len(ok)} ok; factors {', '.join(view.factors)}"))
outcomes = [o for o in view.outcomes if o in ok.columns]
if not len(ok) or not outcomes:
    st.warning(t("没有可显示的成功运行。", "No finished runs to show."))
    st.stop()

c1, c2 = st.columns(2)
outcome = c1.selectbox(t("结果指标", "outcome"), outcomes, key="sw_outcome")
factor = c2.selectbox(t("因子", "factor"), view.factors, key="sw_factor")
targets = load_targets().targets
ind = next((i for i in INDICATORS if i.key == outcome), None)
tgt = targets.get(ind.target) if ind is not None and ind.target else None

tab_scatter, tab_par, tab_sens, tab_fail, tab_table = st.tabs([
    t("散点", "scatter"), t("平行坐标", "parallel coordinates"), t("敏感性", "sensitivity"),
    t("何处不达标", "where targets fail"), t("数据表", "table")])
with tab_scatter:
    fig = px.scatter(ok, x=factor, y=outcome, color="replicate" if "replicate" in ok.columns else None,
                     title=f"{factor} → {outcome}")
    if tgt is not None and not tgt.annual:  # annual targets are not comparable with one event
        fig.add_hline(y=tgt.value, line_dash="dash", line_color="red", annotation_text=tgt.label)
    st.plotly_chart(fig, key="sw_scatter")
with tab_par:
    numeric = [c for c in [*view.factors, outcome] if c in ok.columns and ok[c].dtype.kind in "fiub"]
    if len(numeric) >= 2:
        st.plotly_chart(px.parallel_coordinates(ok, dimensions=numeric, color=outcome,
                                                color_continuous_scale="RdYlGn_r"), key="sw_par")
    else:
        st.info(t("数值因子不足以绘制平行坐标。", "Too few numeric factors for parallel coordinates."))
with tab_sens:
    sens = view.sensitivity
    if len(sens):
        s = sens[sens["outcome"] == outcome]
        cols = [c for c in ("S1", "ST", "mu_star", "sigma") if c in s.columns]
        st.plotly_chart(px.bar(s, x="factor", y=cols, barmode="group",
                               title=t(f"{outcome} 的敏感性指数", f"sensitivity of {outcome}")), key="sw_sens")
        st.dataframe(s, hide_index=True, width="stretch")
    else:
        st.info(t("该扫描的抽样方法（非 Sobol/Morris）不支持敏感性指数；请看散点与平行坐标。",
                  "This sweep's sampler (not Sobol or Morris) gives no sensitivity indices; see the scatter and "
                  "parallel coordinates."))
with tab_fail:
    if not view.discovery:
        st.info(t("没有带目标的结果指标。", "No outcome with a target in this sweep."))
    for key, d in view.discovery.items():
        st.markdown(f"**{key}** — {d.get('target', '')}: " + t(f"{d.get('failing', 0)}/{d.get('runs', 0)} 次不达标",
                                                                 f"{d.get('failing', 0)}/{d.get('runs', 0)} runs fail"))
        if "box" in d:
            st.caption(t(f"PRIM 框：框内失败密度 {d['density']:.0%}，覆盖 {d['coverage']:.0%} 的失败，占运行 "
                         f"{d['support']:.0%}", f"PRIM box: failure density {d['density']:.0%} inside, covers "
                         f"{d['coverage']:.0%} of failures, {d['support']:.0%} of runs"))
            st.dataframe([{"factor": k, "low": v[0], "high": v[1]} for k, v in d["box"].items()], hide_index=True)
with tab_table:
    st.dataframe(res, hide_index=True, width="stretch")
    st.download_button(t("下载 CSV", "Download CSV"), res.to_csv(index=False).encode("utf-8"),
                       file_name=f"{folder.name}.csv", mime="text/csv", key="sw_csv")
