"""Exercise scripts (应急演练脚本 / MSEL) from a simulated run.

A run's event log holds tens of thousands of events; a drill needs a few dozen timed injects. The script:

1. **Key events** (:func:`key_events`): the first event of each kind that a drill must exercise — each
   warning level per hazard, each order level per hazard, mobilisation, every fire report and
   extinguishment, the first landslide and the first trapping per township, the first death per
   township, the first road closure per cause, the first shelter turning people away, the first
   dispatch of each task kind, mutual-aid requests and arrivals, the first supply problems — plus
   situation reports (灾情统计) from the time series.
2. **Injects** (:func:`build_script`): each key event becomes an inject with scenario time and exercise
   time, what happens where (real township and village names; village locations are generated),
   sender (a control-cell role) and receiver (a role of the district's organisation, :func:`organisation`),
   channel, the instruction or line, the expected action (from the run's plan) and an evaluation point with
   its standard (time limits from the plan, the run's parameters and the plan's targets).
3. **Compression** (:func:`compress`): scenario time maps linearly onto the drill's length, so order and
   relative spacing are kept.
4. **Editions**: tabletop (桌面推演: discussion prompts) or field (实战: deployments); a double-blind (双盲)
   participant edition that hides hazard, times and injects, and the sealed controller edition.
5. **Branches** (:func:`branch_injects`): where another run of the same hazard under a different response
   turned out differently, an inject fires on a condition taken from that run (a later evacuation order
   ⇒ its trapped residents).

Exports are in :mod:`sim.drill_export`. Evaluation items follow the manner of AQ/T 9009 (生产安全事故
应急演练评估规范); the script's parts follow AQ/T 9007's 演练脚本 (scenario, instructions and dialogue,
narration, summary and evaluation), with an HSEEP-style MSEL table beside it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial import cKDTree

from sim.paths import scenarios_dir
from sim.results import RunResult

Mode = Literal["tabletop", "field"]
HAZARD_HQ = {"flood": "hq_flood", "rainstorm": "hq_weather", "flash flood": "hq_flood", "landslide": "hq_geohazard",
             "wildfire": "hq_forest_fire", "fire": "hq_forest_fire"}
CAPABILITIES = {  # evaluation items in the manner of AQ/T 9009
    "warning": ("预警与信息报告", "warning and information reporting"),
    "activation": ("应急响应启动", "response activation"),
    "command": ("指挥与协调", "command and coordination"),
    "evacuation": ("疏散转移与安置", "evacuation and sheltering"),
    "rescue": ("抢险救援", "rescue operations"),
    "logistics": ("应急保障", "logistics and supplies"),
    "information": ("信息报送与发布", "situation reporting and public information"),
}
SITREP_EVERY_H = 6.0


# ---------------------------------------------------------------------------------------------- roles
class Role(BaseModel):
    """A role in the exercise (演练角色): a control-cell role or a participant of the organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    kind: Literal["control", "participant"]


class OrganisationFile(BaseModel):
    """The organisation file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["organisation"]
    source: str
    roles: list[Role] = Field(min_length=1)


def load_organisation(path: Path | str | None = None) -> list[Role]:
    """Return the district's standing roles (``scenarios/fuling/organisation.yaml``), validated."""
    from sim.scenario import _validate
    from sim.yamlio import load_yaml_file

    path = Path(path) if path is not None else scenarios_dir() / "fuling" / "organisation.yaml"
    return list(_validate(OrganisationFile, load_yaml_file(path), str(path)).roles)


def organisation(district, scenario_json: dict | None = None) -> dict[str, Role]:
    """Every role a script may name: standing roles, the 27 township governments, teams, depots, shelters.

    Teams added by the run's plan (``scenario_json['plan']['teams']['extra']``) are included.
    """
    roles = {r.id: r for r in load_organisation()}
    for t in district.townships:
        office = "办事处" if t.name.endswith("街道") else "人民政府"
        roles[f"township:{t.name}"] = Role(id=f"township:{t.name}", name_zh=f"{t.name}{office}",
                                           name_en=f"{t.name_en} government", kind="participant")
    names = [t.name for t in district.teams]
    for e in ((scenario_json or {}).get("plan", {}).get("teams", {}).get("extra", []) or []):
        names += [f"{e['name']} {j + 1}" if e.get("count", 1) > 1 else e["name"] for j in range(e.get("count", 1))]
    for n in names:
        roles[f"team:{n}"] = Role(id=f"team:{n}", name_zh=n.split(" ")[0], name_en=n, kind="participant")
    for d in district.depots:
        if d.tier in ("regional", "district"):
            roles[f"depot:{d.name}"] = Role(id=f"depot:{d.name}", name_zh=d.name.split(" ")[0], name_en=d.name,
                                            kind="participant")
    return roles


def _actor_role(actor: str, roles: dict[str, Role]) -> str:
    """Map an event's actor to a role id (teams, neighbours' teams, depots); the bureau otherwise."""
    if f"team:{actor}" in roles:
        return f"team:{actor}"
    for key, zh in (("neighbour_fengdu", "丰都"), ("neighbour_changshou", "长寿"), ("neighbour_dianjiang", "垫江")):
        if actor.startswith(zh):
            return key
    if f"depot:{actor}" in roles:
        return f"depot:{actor}"
    return "bureau"


# ---------------------------------------------------------------------------------------------- places
@dataclass
class Places:
    """Node → township and nearest (real-named, generated-location) village."""

    node_township: np.ndarray
    townships: list
    village_names: list[str]
    village_tree: cKDTree | None
    node_xy: np.ndarray

    @classmethod
    def of(cls, district) -> Places:
        """Build the lookup for a district."""
        g = district.grid
        csr = district.road_csr
        rows, cols = g.rowcol(csr.node_x_m, csr.node_y_m)
        rows = np.clip(rows, 0, g.nrows - 1)
        cols = np.clip(cols, 0, g.ncols - 1)
        tw = district.township_id[rows, cols]
        vil = [d for d in district.depots if d.tier == "village"]
        tree = cKDTree(np.array([[d.x_m, d.y_m] for d in vil])) if vil else None
        return cls(tw, district.townships, [d.name.split("储备室")[0] for d in vil], tree,
                   np.column_stack([csr.node_x_m, csr.node_y_m]))

    def name(self, node: int) -> tuple[str, str]:
        """(中文, English) place of a road node: township and nearest village."""
        if node is None or node < 0 or node >= self.node_township.size:
            return "", ""
        k = int(self.node_township[node])
        t = self.townships[k] if 0 <= k < len(self.townships) else None
        vil = ""
        if self.village_tree is not None:
            vil = self.village_names[int(self.village_tree.query(self.node_xy[node])[1])]
        zh = f"{t.name}{vil}" if t else vil
        en = f"{vil} ({t.name_en})" if t else vil
        return zh, en


# ---------------------------------------------------------------------------------------------- injects
@dataclass
class Inject:
    """One timed inject of the script (one MSEL row)."""

    scenario_s: float
    event_type: str
    synopsis_zh: str
    synopsis_en: str
    sender: str
    receiver: str
    channel_zh: str
    channel_en: str
    message_zh: str
    message_en: str
    expected_zh: str
    expected_en: str
    evaluation_zh: str
    evaluation_en: str
    capability: str
    source_events: int = 1
    branch_zh: str = ""
    branch_en: str = ""
    exercise_s: float = float("nan")
    number: int = 0
    branch_meta: dict = field(default_factory=dict)  # the figures a branch's condition came from


@dataclass
class DrillScript:
    """A whole exercise script."""

    title_zh: str
    title_en: str
    mode: Mode
    length_s: float
    injects: list[Inject]
    roles: dict[str, Role]
    meta: dict = field(default_factory=dict)
    edition: Literal["full", "controller", "participant"] = "full"

    def roles_used(self) -> list[Role]:
        """Roles that send or receive an inject, control cell first."""
        ids = {i.sender for i in self.injects} | {i.receiver for i in self.injects}
        ids |= {"control", "simulation", "evaluation"}
        return sorted((self.roles[k] for k in ids), key=lambda r: (r.kind != "control", r.id))


def _d(details) -> dict:
    try:
        return json.loads(details) if isinstance(details, str) and details else {}
    except json.JSONDecodeError:
        return {}


def _zh(text: str) -> str:
    """Return the Chinese part of a bilingual label such as 'rainstorm 暴雨' (the whole text if it has none)."""
    parts = [w for w in str(text).split() if any("\u4e00" <= ch <= "\u9fff" for ch in w)]
    return " ".join(parts) if parts else str(text)


def _en(text: str) -> str:
    """Return the English part of a bilingual label (the whole text if it has none)."""
    parts = [w for w in str(text).split() if not any("\u4e00" <= ch <= "\u9fff" for ch in w)]
    return " ".join(parts) if parts else str(text)


def _hazard_word(target: str) -> str:
    t = target.lower()
    for key in ("flash flood", "flood", "rainstorm", "landslide", "wildfire", "fire"):
        if key in t:
            return key
    return "flood"


def key_events(events: pd.DataFrame) -> pd.DataFrame:
    """Return the key events of a run, in time order, with a ``key`` naming the rule that picked each."""
    ev = events.copy()
    ev["d"] = [_d(x) for x in ev["details"]]
    ev["type"] = ev["type"].astype(str)
    keys = []
    for r in ev.itertuples():
        t, d = r.type, r.d
        k = None
        if t.startswith("warning") or t.startswith("evacuation order"):
            k = f"{t.split()[0]}|{r.target}|{d.get('level', '')}"
        elif t.startswith(("mobilisation", "shelter full", "no shelter with room", "no team available", "rescue",
                           "resupply request", "regional resupply", "embankment raised", "debris cleared")):
            k = t
        elif t.startswith(("fire reported", "extinguished", "mutual aid request", "mutual aid arrival")):
            k = f"{t}|{r.target}|{r.actor}"
        elif t.startswith("landslide"):
            k = f"{t}|{d.get('township', '')}"
        elif t.startswith("trapped by"):
            k = f"{t}|{str(d.get('townships', '')).split('、')[0]}"
        elif t.startswith("casualty") and d.get("dead", 0) > 0:
            k = f"{t}|{d.get('township', '')}"
        elif t.startswith("road closed"):
            k = f"road closed|{r.actor}"
        elif t.startswith("dispatch"):
            k = f"dispatch|{r.target}"
        elif t.startswith("supply request"):
            k = f"supply request|{'shelter' if ('shelter' in r.actor or '避难' in r.actor) else 'team'}"
        keys.append(k)
    ev["key"] = keys
    ev = ev[ev["key"].notna()].sort_values("time_s", kind="stable")
    counts = ev.groupby("key").size()
    out = ev.drop_duplicates("key", keep="first").copy()
    out["count"] = out["key"].map(counts).astype(int)
    return out.drop(columns=["d"]).reset_index(drop=True)


def compress(times_s: np.ndarray, length_s: float, lead_s: float = 0.0) -> np.ndarray:
    """Map scenario times linearly onto ``[lead_s, length_s]`` (order and relative spacing kept)."""
    t = np.asarray(times_s, dtype=np.float64)
    if t.size == 0:
        return t
    t0, t1 = float(t.min()), float(t.max())
    span = length_s - lead_s
    if t1 <= t0:
        return np.full(t.size, lead_s)
    return lead_s + (t - t0) * span / (t1 - t0)


def _clock(start: str, t_s: float) -> str:
    base = pd.Timestamp(start)
    return (base + pd.Timedelta(seconds=float(t_s))).strftime("%m-%d %H:%M")


def _hm(t_s: float) -> str:
    if not math.isfinite(t_s):
        return "—"
    m = int(round(t_s / 60.0))
    return f"T+{m // 60:d}:{m % 60:02d}"


def _inject_for(r, places: Places, roles: dict[str, Role], plan: dict, params: dict, mode: Mode) -> Inject | None:
    """Return the inject for one key event (templates by event type)."""
    d = _d(r.details)
    t = str(r.type)
    where_zh, where_en = places.name(int(r.node)) if int(r.node) >= 0 else ("", "")
    tws = str(d.get("townships", d.get("township", "")))
    where_zh = where_zh or tws
    where_en = where_en or tws
    field_mode = mode == "field"
    w = plan.get("warning", {})
    lead = w.get("lead_time_min", 60)
    channels = "、".join(w.get("channels", []))
    window_h = params.get("supply.request_window_h", 12.0)
    n = int(getattr(r, "count", 1))
    if t.startswith("warning"):
        hz = _hazard_word(str(r.target))
        lvl, lvl_zh = d.get("level", ""), d.get("level_zh", "")
        hz_zh, hz_en = _zh(r.target), _en(r.target)
        return Inject(r.time_s, t, f"{hz_zh}{lvl_zh}预警：{tws}", f"{hz_en} {lvl} warning for {tws}",
                      "simulation", HAZARD_HQ.get(hz, "hq_flood"), "预警平台/电话", "warning platform / phone",
                      f"气象、水文部门报告：预计{lead:g}分钟内{hz_zh}达到{lvl_zh}预警标准，影响{tws}。",
                      f"Forecasters report {hz_en} reaching the {lvl} level within {lead:g} min, affecting {tws}.",
                      f"发布{lvl_zh}预警，经{channels}逐级传至乡镇、村、户；网格员入户通知老弱病残。",
                      f"Issue the {lvl} warning down to townships, villages and households via {channels}; grid "
                      "workers visit vulnerable households.",
                      f"预警在{lead:g}分钟内送达全部受影响乡镇；暴露人口预警覆盖率≥95%（T3）。",
                      f"Warning reaches every affected township within {lead:g} min; ≥ 95 % of exposed residents "
                      "warned before the hazard (T3).", "warning", n)
    if t.startswith("evacuation order"):
        hz = _hazard_word(str(r.target))
        lvl_zh = d.get("level_zh", "")
        persons = d.get("persons", 0)
        return Inject(r.time_s, t, f"{_zh(r.target)}转移令：{tws}（{persons}人）",
                      f"evacuation order ({_en(r.target)}): {tws}, {persons} persons", "control",
                      HAZARD_HQ.get(hz, "hq_flood"), "指挥部指令", "headquarters order",
                      f"指挥部研判：{tws}{persons}人需立即转移（{lvl_zh}）。",
                      f"Headquarters assess that {persons} persons in {tws} must leave now ({d.get('level', '')}).",
                      "下达转移令，乡镇、村组织转移，优先老弱病残；开放避难场所并登记安置。"
                      + ("（实战：组织群众按路线转移）" if field_mode else "（桌面：说明转移路线与责任人）"),
                      "Order evacuation; townships and villages move residents, vulnerable first; open and "
                      "register shelters." + (" (field: move residents along the routes)" if field_mode else
                                             " (tabletop: state routes and who is responsible)"),
                      "转移令下达后1小时内传至全部责任村；转移人员无伤亡；95%转移人员安全到达。",
                      "Order reaches every village within 1 h; no casualties among evacuees; 95 % reach safety.",
                      "evacuation", n)
    if t.startswith("mobilisation"):
        return Inject(r.time_s, t, "启动应急响应，队伍集结", "response activated, teams called in", "control", "bureau",
                      "指挥部指令", "headquarters order", "各救援队伍立即集结待命。", "All rescue teams assemble on standby.",
                      "启动相应级别应急响应，通知队伍集结，明确前置点位。",
                      "Activate the response level, call in the teams, name their forward positions.",
                      "响应启动后30分钟内队伍到位率100%。", "All teams in position within 30 min of activation.",
                      "activation", n)
    if t.startswith("fire reported"):
        return Inject(r.time_s, t, f"{where_zh}发现山火，过火约{d.get('burned_ha', 0)}公顷",
                      f"forest fire sighted near {where_en}, about {d.get('burned_ha', 0)} ha",
                      "simulation", "hq_forest_fire", "护林员电话", "ranger phone call",
                      f"护林员报告：{where_zh}山林冒烟起火，火势向山上蔓延。",
                      f"Ranger reports smoke and flames near {where_en}, spreading upslope.",
                      "核实火情，派遣森林消防专业队及就近队伍，划定1公里转移范围。",
                      "Confirm, send the professional forest-fire team and the nearest teams, order homes within "
                      "1 km out.",
                      "接报后30分钟内首支队伍出发；24小时内扑灭（T1≥95%）。",
                      "First team leaves within 30 min of the report; fire out within 24 h (T1 ≥ 95 %).",
                      "rescue", n)
    if t.startswith("extinguished"):
        return Inject(r.time_s, t, f"山火扑灭（历时{d.get('duration_h', 0):.1f}小时，过火{d.get('burned_ha', 0)}公顷）",
                      f"fire out after {d.get('duration_h', 0):.1f} h, {d.get('burned_ha', 0)} ha burned",
                      "simulation", "hq_forest_fire", "前方指挥部报告", "forward command report",
                      "前方报告：明火已全部扑灭。", "Forward command reports all flames out.",
                      "组织清理看守火场，防止复燃，统计损失。", "Mop up and guard the burn, prevent rekindling, tally losses.",
                      "看守不少于24小时无复燃；森林火灾受害率≤0.3‰（T2）。",
                      "Guarded ≥ 24 h without rekindling; forest damage rate ≤ 0.3 ‰ (T2).", "rescue", n)
    if t.startswith("landslide"):
        tw = d.get("township", "")
        homes = int(d.get("homes_struck", 0) or 0)
        mon = bool(d.get("monitored", 0))
        hit_zh = f"{homes}户房屋受损" if homes else "暂无房屋受损报告"
        return Inject(r.time_s, t, f"{tw}发生滑坡，{hit_zh}" + ("（监测点已预警）" if mon else ""),
                      f"landslide in {tw}, {homes} homes struck" + (" (monitored slope, warned)" if mon else ""),
                      "simulation", "hq_geohazard", "群测群防员电话", "geohazard monitor phone call",
                      f"群测群防员报告：{tw}山体滑坡，{hit_zh}。",
                      f"Geohazard monitor reports a slide in {tw}: {homes} homes struck.",
                      "派遣地灾救援队搜救，封控危险区，转移周边群众，抢通道路。",
                      "Send geohazard rescue, cordon the slope, move neighbours out, clear the road.",
                      "1小时内救援队到场；12小时内抢通道路。", "Rescue on site within 1 h; road open within 12 h.",
                      "rescue", n)
    if t.startswith("trapped by"):
        cause = "洪水" if "water" in t else "滑坡"
        return Inject(r.time_s, t, f"{tws}{d.get('persons', 0)}名群众被{cause}围困",
                      f"{d.get('persons', 0)} residents trapped by {'water' if 'water' in t else 'debris'} in {tws}",
                      "simulation", "bureau", "110/119转警", "emergency call (110/119)",
                      f"群众求救：{where_zh}有人被{cause}围困，请求救援。",
                      f"Residents call for help: people trapped near {where_en}.",
                      "派遣具备" + ("舟艇" if "water" in t else "破拆搜救") + "能力的队伍救援，送至避难场所。",
                      "Send a team able to reach them (" + ("boats" if "water" in t else "search and rescue")
                      + "), take them to a shelter.",
                      "接报后60分钟内到场；被困人员零死亡（T4）。", "On site within 60 min; no deaths (T4).", "rescue", n)
    if t.startswith("casualty"):
        return Inject(r.time_s, t, f"{d.get('township', '')}出现死亡{d.get('dead', 0)}人",
                      f"{d.get('dead', 0)} dead in {d.get('township', '')}", "simulation", "bureau", "乡镇报告",
                      "township report", f"{d.get('township', '')}报告：因灾死亡{d.get('dead', 0)}人。",
                      f"{d.get('township', '')} reports {d.get('dead', 0)} dead.",
                      "核实并按规定时限上报伤亡信息，组织医疗救治，做好善后。",
                      "Verify and report casualties within the time limit, organise medical care and aftercare.",
                      "伤亡信息1小时内报区应急局、2小时内报市应急局（信息报送时限）。",
                      "Casualties reported to the bureau within 1 h and to the city within 2 h.", "information", n)
    if t.startswith("road closed"):
        cause = {"flood": "洪水", "fire": "山火", "landslide": "滑坡"}.get(str(r.actor), str(r.actor))
        return Inject(r.time_s, t, f"{where_zh}道路因{cause}中断", f"road cut by {r.actor} near {where_en}",
                      "simulation", "transport_bureau", "交通巡查报告", "road patrol report",
                      f"交通部门报告：{where_zh}路段因{cause}中断。", f"Road patrol: the road near {where_en} is cut.",
                      "设置封控点与绕行路线，调整转移与救援路线。",
                      "Close the road, post detours, reroute evacuation and rescue.",
                      "30分钟内发布绕行信息；救援通道保持畅通。", "Detour published within 30 min; rescue route kept open.",
                      "command", n)
    if t.startswith("shelter full") or t.startswith("no shelter with room"):
        return Inject(r.time_s, t, "避难场所满员，群众被分流", "shelters full, evacuees redirected", "simulation", "bureau",
                      "避难场所报告", "shelter report", "避难场所报告：已满员，后续群众需分流。",
                      "A shelter reports it is full; further evacuees must be redirected.",
                      "启用备用避难场所，协调投亲靠友，调配帐篷与物资。",
                      "Open reserve shelters, arrange stays with relatives, send tents and supplies.",
                      "分流后无群众滞留户外；物资12小时内送达。", "Nobody left outdoors; supplies within 12 h.",
                      "evacuation", n)
    if t.startswith("no team available"):
        return Inject(r.time_s, t, "救援力量不足，任务排队", "no team free: tasks queue", "control", "bureau",
                      "指挥部研判", "headquarters assessment", "指挥部：现有队伍全部在任务中。",
                      "Headquarters: every team is committed.",
                      "调整任务优先级，调用社会力量与民兵，必要时请求增援。",
                      "Re-prioritise, call militia and volunteer forces, request mutual aid if needed.",
                      "30分钟内完成力量调整并报告。", "Forces re-assigned and reported within 30 min.", "command", n)
    if t.startswith("mutual aid request"):
        return Inject(r.time_s, t, "请求丰都、长寿、垫江增援", "mutual aid requested from Fengdu, Changshou, Dianjiang",
                      "control", "bureau", "联防协议", "mutual-aid agreement", "区应急局向相邻区县请求增援。",
                      "The bureau asks the neighbours for teams.",
                      "按联防协议发出增援请求，明确集结点与任务。",
                      "Send the request under the agreements with an assembly point and tasks.",
                      "请求内容完整（力量、地点、任务）；增援队伍到达后1小时内投入任务。",
                      "Request names forces, place and task; arriving teams at work within 1 h.", "command", n)
    if t.startswith("mutual aid arrival"):
        role = _actor_role(str(r.actor), roles)
        return Inject(r.time_s, t, f"{r.actor}增援队伍到达", f"mutual-aid teams from {r.actor} arrive", "simulation",
                      "bureau", "现场报到", "arrival report", f"{r.actor}增援队{d.get('teams', '')}支到达集结点报到。",
                      f"{d.get('teams', '')} teams from {r.actor} report at the assembly point.",
                      f"为{roles[role].name_zh}增援队分配任务与向导，保障通信与后勤。",
                      "Give the teams tasks, guides, radios and supplies.",
                      "报到后1小时内投入任务。", "At work within 1 h of arrival.", "command", n)
    if t.startswith("dispatch"):
        kind = str(r.target)
        role = _actor_role(str(r.actor), roles)
        kz = {"fire": "扑救山火", "rescue": "营救被困群众", "clear": "抢通道路", "assist": "协助转移",
              "embankment": "加固堤防"}.get(kind, kind)
        return Inject(r.time_s, t, f"派遣{roles[role].name_zh}{kz}", f"{r.actor} sent: {kind}", "control", role,
                      "调度指令", "dispatch order", f"指挥部命令{roles[role].name_zh}前往{where_zh}{kz}。",
                      f"Headquarters send {r.actor} to {where_en} ({kind}).",
                      "接令出发，报告出发与到达时间" + ("，实战展开" if field_mode else "，说明行进路线与装备"),
                      "Acknowledge, leave, report departure and arrival"
                      + (" and deploy" if field_mode else "; state route and equipment"),
                      f"接令后10分钟内出发；行进{float(d.get('travel_s', 0)) / 60:.0f}分钟内到达（模拟结果）。",
                      f"Leave within 10 min; arrive within {float(d.get('travel_s', 0)) / 60:.0f} min (simulated).",
                      "rescue", n)
    if t.startswith("rescue"):
        return Inject(r.time_s, t, f"首批被困群众获救（{d.get('persons', 0)}人）",
                      f"first trapped residents rescued ({d.get('persons', 0)})", "simulation", "bureau", "队伍报告",
                      "team report", "救援队报告：被困群众已救出，送往避难场所。",
                      "The team reports the trapped residents out and on the way to a shelter.",
                      "安排医疗检查与安置，更新被困人员台账。", "Medical check, shelter, update the list of the trapped.",
                      f"平均等待救援时间（模拟{d.get('mean_wait_min', 0)}分钟）不超过60分钟。",
                      f"Mean wait for rescue (simulated {d.get('mean_wait_min', 0)} min) within 60 min.", "rescue", n)
    if t.startswith("supply request"):
        return Inject(r.time_s, t, f"{r.actor}申请物资", f"supply request from {r.actor}", "simulation", "bureau",
                      "物资申请", "supply request",
                      f"{r.actor}申请" + ("饮用水、食品、帐篷等生活物资。" if r.target == "shelter" else "扑火、医疗等装备。"),
                      f"{r.actor} asks for " + ("water, food and tents." if r.target == "shelter" else "equipment."),
                      "从最近储备点调运物资，跟踪送达。", "Ship from the nearest depot and track delivery.",
                      f"{window_h:g}小时内足额送达（T7 100%）。", f"Delivered in full within {window_h:g} h (T7 100 %).",
                      "logistics", n)
    if t.startswith("resupply request") or t.startswith("regional resupply"):
        return Inject(r.time_s, t, "区域储备库物资告急，申请市级调拨", "regional depot low: municipal resupply",
                      "simulation", "municipal", "物资调拨单", "resupply order", "区域储备库库存低于一半。",
                      "The regional depot is below half its stock.", "向市应急局申请调拨，安排接收。",
                      "Ask the municipal bureau for stock, arrange reception.", "24小时内补充到位。",
                      "Stock replenished within 24 h.", "logistics", n)
    if t.startswith("embankment raised"):
        return Inject(r.time_s, t, "堤防加高完成", "embankment raised", "simulation", "hq_flood", "现场报告", "site report",
                      "抢险队报告：堤防已用沙袋加高。", "Flood team reports the embankment raised with sandbags.",
                      "组织巡堤查险，安排值守。", "Patrol the embankment, keep watch.", "24小时巡堤不间断。",
                      "Continuous patrol for 24 h.", "rescue", n)
    if t.startswith("debris cleared"):
        return Inject(r.time_s, t, "道路抢通", "road cleared", "simulation", "transport_bureau", "现场报告", "site report",
                      "抢通队报告：塌方已清除，道路恢复通行。", "Road crew reports the debris cleared.",
                      "恢复交通，通知转移与救援力量。", "Reopen and tell evacuation and rescue forces.",
                      "12小时内抢通。", "Open within 12 h.", "command", n)
    return None


def _sitreps(result: RunResult, every_h: float) -> list[Inject]:
    ts = result.timeseries
    if not len(ts):
        return []
    out = []
    t_end = float(ts["time_s"].max())
    for t in np.arange(every_h * 3600.0, t_end + 1.0, every_h * 3600.0):
        row = ts.iloc[int(np.searchsorted(ts["time_s"].to_numpy(), t, side="right")) - 1]
        dead, inj = int(row.get("persons_dead", 0)), int(row.get("persons_injured", 0))
        trapped, shel = int(row.get("persons_trapped", 0)), int(row.get("persons_sheltered", 0))
        closed = float(row.get("road_closed_km", 0.0))
        burned = float(row.get("burned_ha", 0.0))
        out.append(Inject(float(t), "situation report 灾情统计",
                          f"灾情统计：死亡{dead}、受伤{inj}、被困{trapped}、安置{shel}人；道路中断{closed:.0f}公里；过火{burned:.0f}公顷",
                          f"sitrep: {dead} dead, {inj} injured, {trapped} trapped, {shel} sheltered; {closed:.0f} km "
                          f"of road cut; {burned:.0f} ha burned", "simulation", "bureau", "信息报送系统",
                          "reporting system", "各乡镇报送最新灾情。", "Townships send their latest figures.",
                          "汇总核实灾情，按时上报市应急局并发布公众信息。",
                          "Compile, verify and report to the city; inform the public.",
                          f"每{every_h:g}小时续报一次；信息准确一致。", f"Update every {every_h:g} h; figures consistent.",
                          "information"))
    return out


def build_script(result: RunResult, district, *, mode: Mode = "tabletop", length_h: float = 3.0,
                 sitrep_every_h: float | None = None, max_injects: int | None = None) -> DrillScript:
    """Turn one run into a script: key events → injects, compressed into ``length_h`` of exercise time.

    Situation reports come every ``sitrep_every_h`` (default 6 h, or a quarter of a shorter run).
    """
    if sitrep_every_h is None:
        sitrep_every_h = min(SITREP_EVERY_H, float(result.summary.get("duration_h") or SITREP_EVERY_H) / 4.0)
    scen = result.provenance.get("scenario", {})
    plan = scen.get("plan", {})
    hazard = scen.get("hazard", {})
    params = {p["name"]: p["value"] for p in (result.parameters or [])}
    roles = organisation(district, scen)
    places = Places.of(district)
    injects = []
    for r in key_events(result.events).itertuples():
        inj = _inject_for(r, places, roles, plan, params, mode)
        if inj is not None:
            injects.append(inj)
    injects += _sitreps(result, sitrep_every_h)
    injects.sort(key=lambda i: (i.scenario_s, i.event_type))
    if max_injects is not None and len(injects) > max_injects:
        injects = injects[:max_injects]
    ex = compress(np.array([i.scenario_s for i in injects]), length_h * 3600.0, lead_s=10 * 60.0)
    injects = [replace(i, exercise_s=float(e), number=k + 1) for k, (i, e) in enumerate(zip(injects, ex, strict=True))]
    for i in injects:
        for role in (i.sender, i.receiver):
            if role not in roles:
                raise ValueError(f"inject {i.number} names role {role!r} that the organisation lacks")
    mode_zh = "桌面推演" if mode == "tabletop" else "实战演练"
    return DrillScript(
        title_zh=f"涪陵区{hazard.get('name_zh') or hazard.get('name', '')}{mode_zh}脚本",
        title_en=f"Fuling District {mode} exercise script: {hazard.get('name', '')}",
        mode=mode, length_s=length_h * 3600.0, injects=injects, roles=roles,
        meta={"hazard": hazard.get("name", ""), "hazard_zh": hazard.get("name_zh", ""),
              "hazard_description": hazard.get("description", ""), "plan": plan.get("name", ""),
              "seed": result.provenance.get("seed"), "start_time": hazard.get("start_time", "2020-08-19T00:00"),
              "duration_h": result.summary.get("duration_h"), "events": int(len(result.events)),
              "summary": {k: result.summary.get(k) for k in ("deaths", "injured", "evacuated_persons",
                                                               "trapped_persons_end", "burned_area_ha",
                                                               "warning_coverage")},
              "version": result.provenance.get("fuling_sim_version", "")})


def clock(script: DrillScript, t_s: float) -> str:
    """Scenario wall-clock time (MM-DD HH:MM) of a scenario second."""
    return _clock(script.meta.get("start_time", "2020-08-19T00:00"), t_s)


def exercise_clock(t_s: float) -> str:
    """Exercise time as T+H:MM."""
    return _hm(t_s)


# ---------------------------------------------------------------------------------------------- editions
def participant_edition(script: DrillScript) -> DrillScript:
    """Double-blind (双盲) participants' edition: roles and rules only — no hazard, times or injects."""
    meta = {"plan": script.meta.get("plan", ""), "version": script.meta.get("version", ""), "blind": True}
    return DrillScript(title_zh="涪陵区综合应急演练（双盲）参演须知", title_en="Fuling District exercise (double-blind): "
                       "participants' brief", mode=script.mode, length_s=script.length_s, injects=[],
                       roles=script.roles, meta=meta, edition="participant")


def controller_edition(script: DrillScript) -> DrillScript:
    """Sealed controllers' edition of a double-blind exercise (everything, marked 密封)."""
    return replace(script, title_zh="【密封】" + script.title_zh, title_en="[SEALED] " + script.title_en,
                   edition="controller")


# ---------------------------------------------------------------------------------------------- branches
def branch_injects(base: RunResult, alternatives: dict[str, RunResult], min_delay_min: float = 30.0) -> list[Inject]:
    """Injects that fire on a condition, from runs of the same hazard under other responses.

    For each township where an alternative run's first evacuation order came at least ``min_delay_min``
    later than in ``base`` and more residents ended trapped or dead, a branch: IF the order reaches the
    township at or after the alternative's time, THEN its trapped and dead figures apply. For a fire that
    the alternative put out later (or not at all), IF the first team leaves at or after the alternative's
    report time, THEN its burned area applies.
    """
    out = []
    start = base.provenance.get("scenario", {}).get("hazard", {}).get("start_time", "2020-08-19T00:00")
    bt = base.townships.set_index("township")
    for label, alt in alternatives.items():
        at = alt.townships.set_index("township")
        for tw in bt.index.intersection(at.index):
            b_order, a_order = float(bt.at[tw, "first_order_s"]), float(at.at[tw, "first_order_s"])
            if not math.isfinite(b_order):
                continue
            a_trap, b_trap = int(at.at[tw, "trapped_persons_end"]), int(bt.at[tw, "trapped_persons_end"])
            a_dead, b_dead = int(at.at[tw, "dead_persons"]), int(bt.at[tw, "dead_persons"])
            later = (not math.isfinite(a_order)) or a_order - b_order >= 60.0 * min_delay_min
            if later and (a_trap > b_trap or a_dead > b_dead):
                cond_s = a_order if math.isfinite(a_order) else b_order + 60.0 * min_delay_min
                out.append(Inject(
                    cond_s + 3600.0, "branch: late order 分支：转移令迟发",
                    f"{tw}：转移滞后导致{a_trap}人被困、{a_dead}人死亡", f"{tw}: late order leaves {a_trap} trapped, "
                    f"{a_dead} dead", "simulation", f"township:{tw}", "群众求救", "calls for help",
                    f"{tw}多处群众被困求救。", f"Many residents of {tw} call for help, trapped.",
                    "立即组织舟艇与搜救力量营救，复盘转移令迟发原因。",
                    "Send boats and search teams at once; review why the order came late.",
                    f"仅在转移令迟发时触发（情景时间{_clock(start, cond_s)}之后）；否则按基准方案：{b_trap}人被困、{b_dead}人死亡。",
                    f"Fires only if the order is late (at or after {_clock(start, cond_s)} scenario time); otherwise the base run: "
                    f"{b_trap} trapped, {b_dead} dead.", "evacuation",
                    branch_zh=f"若{tw}转移令在情景时间{_clock(start, cond_s)}或之后下达（如方案“{label}”）",
                    branch_en=f"IF the evacuation order for {tw} comes at or after {_clock(start, cond_s)} (as in run "
                              f"'{label}')",
                    branch_meta={"township": tw, "run": label, "condition_order_s": cond_s, "trapped": a_trap,
                                 "dead": a_dead, "base_trapped": b_trap, "base_dead": b_dead}))
        b_fire, a_fire = base.summary.get("burned_area_ha"), alt.summary.get("burned_area_ha")
        if b_fire is not None and a_fire is not None and a_fire > b_fire:
            rep = alt.events[alt.events["type"].astype(str).str.startswith("fire reported")]
            if len(rep):
                t_rep = float(rep["time_s"].iloc[0])
                out.append(Inject(
                    t_rep + 3600.0, "branch: fire escapes 分支：火势失控", f"山火失控，过火{a_fire:.0f}公顷",
                    f"fire escapes: {a_fire:.0f} ha burned", "simulation", "hq_forest_fire", "前方指挥部报告",
                    "forward command report", "前方报告：火线突破，火势向居民区蔓延。",
                    "Forward command: the fire has jumped the line towards homes.",
                    "增派力量，扩大转移范围，请求增援。", "Send more teams, widen the evacuation, request aid.",
                    f"仅在首支队伍晚于情景时间{_clock(start, t_rep)}出发时触发；否则按基准方案过火{b_fire:.0f}公顷。",
                    f"Fires only if the first team leaves after {_clock(start, t_rep)}; otherwise the base run: "
                    f"{b_fire:.0f} ha.", "rescue",
                    branch_zh=f"若首支扑火队伍晚于情景时间{_clock(start, t_rep)}出发（如方案“{label}”）",
                    branch_en=f"IF the first fire team leaves after {_clock(start, t_rep)} (as in run '{label}')",
                    branch_meta={"run": label, "condition_report_s": t_rep, "burned_ha": a_fire,
                                 "base_burned_ha": b_fire}))
    return out


def with_branches(script: DrillScript, branches: list[Inject]) -> DrillScript:
    """Merge branch injects into a script (re-numbered, exercise times re-compressed)."""
    allinj = sorted(script.injects + branches, key=lambda i: (i.scenario_s, i.event_type))
    ex = compress(np.array([i.scenario_s for i in allinj]), script.length_s, lead_s=10 * 60.0)
    allinj = [replace(i, exercise_s=float(e), number=k + 1) for k, (i, e) in enumerate(zip(allinj, ex, strict=True))]
    return replace(script, injects=allinj)
