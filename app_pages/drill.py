"""Drill page: turn the current run (or a stored one) into an exercise script (演练脚本 / MSEL) and download it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages.common import current_result, district, ensure_defaults, outputs_dir, pick, t
from sim import app_api
from sim.results import RunResult

ensure_defaults()
ss = st.session_state
st.title(t("演练脚本", "Exercise script (drill)"))
st.caption(t("由模拟事件生成定时注入（inject）、角色（涪陵区应急组织）、预期行动与评估要点。",
             "Timed injects from the simulated events, roles from Fuling's emergency organisation, expected "
             "actions and evaluation points."))

stored = sorted(p.parent for p in (outputs_dir() / "app").glob("*/summary.json")) if (outputs_dir() / "app").exists() \
    else []
sources = (["(current)"] if current_result() is not None else []) + [str(p) for p in stored]
if not sources:
    st.info(t("先在“运行与回放”页运行一个情景。", "Run a scenario on the Run page first."))
    st.page_link("app_pages/run.py", label=t("去运行 ▶", "Go to Run ▶"))
    st.stop()
src = pick(t("来自哪次运行", "From which run"),
           {s: t("本次会话的运行", "this session's run") if s == "(current)" else Path(s).name for s in sources},
           "drill_source")
result = current_result() if src == "(current)" else RunResult.read(src)

c1, c2, c3, c4 = st.columns(4)
with c1:
    mode = pick(t("形式", "mode"), {"tabletop": t("桌面推演", "tabletop"), "field": t("实战演练", "field")},
                "drill_mode")
length = float(c2.number_input(t("演练时长 (小时)", "exercise length (h)"), 0.5, 24.0, 3.0, step=0.5,
                               key="drill_len"))
with c3:
    lang = pick(t("脚本语言", "script language"), {"zh": "中文", "en": "English"}, "drill_lang", ss.get("lang", "zh"))
with c4:
    edition = pick(t("版本", "edition"), {"controller": t("导调版", "controller"),
                                          "participant": t("参演版", "participant")}, "drill_edition")
if st.button(t("生成脚本", "Generate script"), type="primary", key="drill_go"):
    ss["drill"] = app_api.drill(result, district(), mode=mode, length_h=length, lang=lang, edition=edition)
files = ss.get("drill")
if files is not None:
    st.success(t(f"{len(files.msel)} 条注入", f"{len(files.msel)} injects"))
    cols = st.columns(4)
    stem = f"drill_{mode}_{length:g}h_{lang}"
    cols[0].download_button("Markdown", files.markdown.encode("utf-8"), file_name=f"{stem}.md",
                            mime="text/markdown", key="drill_md")
    cols[1].download_button("CSV (MSEL)", files.csv, file_name=f"{stem}.csv", mime="text/csv", key="drill_csv")
    cols[2].download_button("Excel", files.xlsx, file_name=f"{stem}.xlsx", key="drill_xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    cols[3].download_button("Word", files.docx, file_name=f"{stem}.docx", key="drill_docx",
                            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    tab_msel, tab_doc = st.tabs([t("注入清单 (MSEL)", "MSEL"), t("脚本预览", "Script preview")])
    with tab_msel:
        st.dataframe(files.msel, hide_index=True, width="stretch")
    with tab_doc:
        st.markdown(files.markdown)
