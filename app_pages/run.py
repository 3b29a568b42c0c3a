"""Run page: run the current scenario (progress, cancel, results as they come), then replay it on the map."""

from __future__ import annotations

import streamlit as st

from app_pages.common import district, ensure_defaults, outputs_dir, styled_scorecard, t
from sim import app_api, mapview

ensure_defaults()
ss = st.session_state
st.title(t("运行与回放", "Run and replay"))
h, p = ss["hazard"], ss["plan"]
st.write(t(f"情景：**{h.name_zh or h.name}** × 预案：**{p.name_zh or p.name}** · {ss['duration_h']:g} 小时 · 种子 "
           f"{ss['seed']}", f"Scenario: **{h.name}** × plan: **{p.name}** · {ss['duration_h']:g} h · seed {ss['seed']}"))

job: app_api.RunJob | None = ss.get("job")
running = job is not None and not job.finished
c1, c2 = st.columns([1, 4])
if c1.button(t("运行 ▶", "Run ▶"), type="primary", disabled=running, key="run_button"):
    sc = app_api.build_scenario(h, p, seed=ss["seed"], duration_h=ss["duration_h"], outputs_dir=outputs_dir(),
                                district=ss["district_spec"])
    job = ss["job"] = app_api.start_run(sc, outputs_dir(), district=district())
    running = not job.finished
if running and c2.button(t("取消", "Cancel"), key="cancel_button"):
    job.cancel()


def _lang() -> str:
    return ss.get("lang", "zh")


def _scorecard(result, plan_name: str, seed: int) -> None:
    card = app_api.scorecard_of({plan_name: [(seed, result)]})
    table = app_api.scorecard_table(card, _lang())
    st.subheader(t("目标评分卡（单次运行）", "Target scorecard (one run)"))
    styled_scorecard(table, [plan_name])
    st.caption(t("† 年均（×该灾害年频率）；* 单次事件，年度目标不评判；比较多次重复运行请用“预案比较”页。",
                 "† annual (× this hazard's yearly frequency); * per event, annual target not judged; "
                 "use Compare for replicates and intervals."))




@st.fragment(run_every=2.0 if running else None)
def live() -> None:
    """Progress and the results so far; re-drawn every two seconds while the run goes on."""
    job = ss.get("job")
    if job is None:
        st.info(t("按“运行”开始；运行中即显示已算出的结果。", "Press Run; results show while the run goes on."))
        return
    if not job.finished:
        st.progress(min(job.fraction, 1.0), text=t(f"{job.status}：模拟进度 {job.fraction:.0%}，已用 "
                                                   f"{job.elapsed_s():.0f} 秒",
                                                   f"{job.status}: {job.fraction:.0%} simulated, "
                                                   f"{job.elapsed_s():.0f} s elapsed"))
        if job.partial is not None:
            st.caption(t(f"首批结果用时 {job.first_result_s:.1f} 秒（运行中，结果随时更新）",
                         f"first results after {job.first_result_s:.1f} s (running; updating)"))
            ts = job.partial.timeseries
            st.plotly_chart(mapview.timeseries_figure(ts, list(mapview.TS_GROUPS)[0], _lang()), key="live_ts")
            last = ts.iloc[-1]
            m = st.columns(4)
            m[0].metric(t("已安置 (人)", "sheltered (persons)"), f"{int(last['persons_sheltered']):,}")
            m[1].metric(t("转移途中", "on the move"), f"{int(last['persons_travelling']):,}")
            m[2].metric(t("被困", "trapped"), f"{int(last['persons_trapped']):,}")
            m[3].metric(t("淹没面积 (km²)", "flooded (km²)"), f"{last['flooded_km2']:.1f}")
        return
    if ss.get("shown_job") is not job:  # leave the live fragment: redraw the whole page with the results
        ss["shown_job"] = job
        st.rerun()


live()

if job is not None and job.finished:
    if job.status == "failed":
        st.error(t("运行失败：", "The run failed: ") + job.error)
    elif job.status == "cancelled":
        st.warning(t("运行已取消。", "The run was cancelled."))
    elif job.result is not None:
        res = job.result
        took = res.provenance.get("wall_seconds")
        st.success(t(f"完成（{'复用已有结果' if job.reused else f'用时 {took:.0f} 秒'}；首批结果 "
                     f"{job.first_result_s:.1f} 秒）。结果目录：{job.folder}",
                     f"Done ({'reused a stored result' if job.reused else f'{took:.0f} s'}; first results after "
                     f"{job.first_result_s:.1f} s). Results folder: {job.folder}"))
        tab_map, tab_ts, tab_events, tab_card = st.tabs([t("地图回放", "Map replay"), t("时间序列", "Time series"),
                                                         t("事件日志", "Event log"), t("评分卡", "Scorecard")])
        with tab_map:
            st.plotly_chart(mapview.map_figure(res, district(), _lang()), key="map", width="stretch")
        with tab_ts:
            for g in mapview.TS_GROUPS:
                st.plotly_chart(mapview.timeseries_figure(res.timeseries, g, _lang()), key=f"ts_{g[1]}")
        with tab_events:
            types = sorted(res.events["type"].unique())
            c1, c2 = st.columns([2, 1])
            pick = c1.multiselect(t("事件类型", "event types"), types, key="event_types")
            text = c2.text_input(t("搜索（执行者、对象、详情）", "search actor, target, details"), key="event_text")
            ev = app_api.event_table(res, pick, text)
            st.caption(t(f"{len(ev):,} 条事件", f"{len(ev):,} events"))
            st.dataframe(ev, hide_index=True, width="stretch", height=420)
        with tab_card:
            _scorecard(res, job.scenario.plan.name, job.scenario.run.seed)
