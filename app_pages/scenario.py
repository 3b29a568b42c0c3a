"""Scenario page: choose hazard and plan, edit their levers (widgets from the schema), upload and download YAML."""

from __future__ import annotations

import streamlit as st

from app_pages.common import catalogue, ensure_defaults, show_errors, t
from app_pages.common import pick as common_pick
from sim import app_api
from sim.scenario import HazardSpec, Plan

ensure_defaults()
ss = st.session_state
st.title(t("情景设置", "Scenario set-up"))
st.caption(t("选择灾害情景与应急预案，调整参数，然后到“运行与回放”页运行。涪陵区的地形与道路为生成数据。",
             "Pick a hazard scenario and a response plan, adjust their levers, then run them on the Run page. "
             "Fuling's terrain and roads are generated data."))


SECTION_ZH = {"warning": "预警", "evacuation": "转移撤离", "teams": "救援队伍", "depots": "物资储备",
              "shelters": "避难场所", "monitoring": "地灾监测", "fire_watch": "森林防火", "mutual_aid": "区域支援",
              "command": "指挥调度", "housing": "老旧住房", "flood": "洪水", "fire": "森林火灾",
              "landslide": "滑坡", "general": "通用"}


def _choose(kind: str) -> None:
    """Selectbox over the shipped files; a new choice resets that part's widgets."""
    items = catalogue(kind)
    stems = [c.stem for c in items]
    label = t("灾害情景", "Hazard scenario") if kind == "hazard" else t("应急预案", "Response plan")
    current = ss.get(f"{kind}_choice", stems[0])
    options = {c.stem: c.label(ss["lang"]) for c in items}
    if current not in options:  # an uploaded file is the current choice
        options = {current: current, **options}
    pick = common_pick(label, options, f"{kind}_select", current)
    if pick != ss.get(f"{kind}_choice") and pick in stems:
        ss[f"{kind}_choice"] = pick
        ss[kind] = app_api.load_choice(next(c for c in items if c.stem == pick))
        _reset_widgets(kind)


def _reset_widgets(kind: str) -> None:
    for k in [k for k in ss if isinstance(k, str) and k.startswith(f"{kind}:")]:
        del ss[k]
    ss[f"{kind}_base"] = ss[kind]
    ss.pop(f"{kind}_errors", None)


def _upload(kind: str) -> None:
    up = st.file_uploader(t(f"上传{'灾害' if kind == 'hazard' else '预案'} YAML", f"Upload a {kind} YAML"),
                          type=["yaml", "yml"], key=f"{kind}_upload",
                          help=t(f"最大 {app_api.MAX_UPLOAD_BYTES // 1024} KB；仅按方案结构解析为 YAML",
                                 f"at most {app_api.MAX_UPLOAD_BYTES // 1024} KB; only parsed as YAML by the schema"))
    if up is None:
        ss.pop(f"{kind}_upload_seen", None)
        return
    sig = (up.name, up.size)
    if ss.get(f"{kind}_upload_seen") == sig:
        return
    ss[f"{kind}_upload_seen"] = sig
    obj, errors = app_api.parse_upload(up.getvalue(), kind, up.name)
    if errors:
        ss[f"{kind}_upload_errors"] = errors
        return
    ss.pop(f"{kind}_upload_errors", None)
    ss[kind] = obj
    ss[f"{kind}_choice"] = f"upload:{up.name}"
    _reset_widgets(kind)
    st.success(t(f"已载入 {up.name}", f"loaded {up.name}"))


def _levers(kind: str, model: type) -> None:
    """Widgets for every scalar lever, grouped by section; invalid combinations show next to the field."""
    base = ss.get(f"{kind}_base", ss[kind])
    ss[f"{kind}_base"] = base
    edits = {}
    sections: dict[str, list[app_api.Lever]] = {}
    for lv in app_api.levers(model):
        try:
            app_api.get_path(base, lv.path)
        except (KeyError, TypeError):
            continue  # an optional section this file does not have
        sections.setdefault(lv.section, []).append(lv)
    errors = ss.get(f"{kind}_errors", [])
    for section, items in sections.items():
        zh = SECTION_ZH.get(section, "")
        with st.expander(f"{zh} {section}" if zh and ss.get("lang") == "zh" else section, expanded=False):
            cols = st.columns(2)
            for i, lv in enumerate(items):
                value = app_api.get_path(base, lv.path)
                key = f"{kind}:{lv.path}"
                with cols[i % 2]:
                    new = _widget(lv, value, key)
                    show_errors(errors, lv.path)
                if new != value:
                    edits[lv.path] = new
    if edits:
        obj, errs = app_api.with_edits(base, edits, source=t("编辑后的", "edited ") + kind)
        ss[f"{kind}_errors"] = errs
        if obj is not None:
            ss[kind] = obj
        else:
            show_errors([e for e in errs if not any(e.field == lv for lv in edits)])
    else:
        ss[f"{kind}_errors"] = []
        ss[kind] = base


def _widget(lv: app_api.Lever, value, key: str):
    label = lv.path.split(".")[-1]
    if lv.kind == "bool":
        return st.checkbox(label, value=bool(value), key=key, help=lv.help or None)
    if lv.kind == "choice":
        opts = list(lv.choices)
        return st.selectbox(label, opts, index=opts.index(value) if value in opts else 0, key=key,
                            help=lv.help or None)
    if value is None:
        return None
    if lv.kind == "int":
        return int(st.number_input(label, value=int(value), step=1, key=key, help=lv.help or None,
                                   min_value=None if lv.minimum is None else int(lv.minimum),
                                   max_value=None if lv.maximum is None else int(lv.maximum)))
    return float(st.number_input(label, value=float(value), key=key, help=lv.help or None, format="%g",
                                 min_value=lv.minimum, max_value=lv.maximum))


districts = {c.stem: c for c in app_api.district_catalogue()}
d_pick = common_pick(t("区县（地理数据）", "District (geography)"), {k: c.name for k, c in districts.items()},
                     "district_select", ss["district_choice"],
                     help=t("scenarios/<名称>/district.yaml；新网格首次构建需要几分钟",
                            "scenarios/<name>/district.yaml; a new grid takes minutes to build the first time"))
if d_pick != ss["district_choice"]:
    ss["district_choice"] = d_pick
    ss["district_spec"] = app_api.load_choice(districts[d_pick])

left, right = st.columns(2)
with left:
    _choose("hazard")
    _upload("hazard")
    show_errors(ss.get("hazard_upload_errors", []))
with right:
    _choose("plan")
    _upload("plan")
    show_errors(ss.get("plan_upload_errors", []))

c1, c2 = st.columns(2)
ss["seed"] = int(c1.number_input(t("随机种子", "Random seed"), min_value=0, value=int(ss["seed"]), step=1,
                                 help=t("同一情景、预案和种子给出相同结果", "same scenario + plan + seed ⇒ same results")))
ss["duration_h"] = float(c2.slider(t("模拟时长 (小时)", "Simulated duration (hours)"), 1.0, 72.0,
                                   float(ss["duration_h"]), step=1.0))

tab_plan, tab_hazard = st.tabs([t("预案参数", "Plan levers"), t("灾害参数", "Hazard parameters")])
with tab_plan:
    _levers("plan", Plan)
    st.download_button(t("下载预案 YAML", "Download plan YAML"), app_api.to_yaml(ss["plan"]).encode("utf-8"),
                       file_name=f"{ss['plan'].name}.yaml", mime="application/x-yaml", key="dl_plan")
with tab_hazard:
    _levers("hazard", HazardSpec)
    st.download_button(t("下载灾害情景 YAML", "Download hazard YAML"), app_api.to_yaml(ss["hazard"]).encode("utf-8"),
                       file_name=f"{ss['hazard'].name.replace(' ', '_')}.yaml", mime="application/x-yaml",
                       key="dl_hazard")

h, p = ss["hazard"], ss["plan"]
st.info(t(f"当前情景：{h.name_zh or h.name} × {p.name_zh or p.name}，{ss['duration_h']:g} 小时，种子 {ss['seed']}",
          f"Current scenario: {h.name} × {p.name}, {ss['duration_h']:g} h, seed {ss['seed']}"))
st.page_link("app_pages/run.py", label=t("去运行 ▶", "Go to Run ▶"))
