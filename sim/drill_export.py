"""Write a :class:`~sim.drills.DrillScript`: Markdown, CSV and XLSX (the MSEL), DOCX (the script), 中文 or English.

The document follows AQ/T 9007's 演练脚本: 1 scenario design (情景设计), 2 roles (角色), 3 instructions and
dialogue step by step (演练指令与对白: time, scene, units and roles, actions and lines, expected response,
support), 4 narration (解说词), 5 summary and evaluation (总结与评估, an evaluation form by AQ/T 9009-style
item). The MSEL table (HSEEP columns) sits beside it in CSV/XLSX. Each file is written to a temporary name
and renamed into place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from sim.atomic import atomic_write
from sim.drills import CAPABILITIES, DrillScript, clock, exercise_clock

Lang = Literal["zh", "en"]

MSEL_COLUMNS = {
    "zh": ["序号", "演练时间", "情景时间", "事件概要", "发送方", "接收方", "方式", "指令/对白", "预期行动", "评估要点", "评估项目",
           "触发条件", "代表事件数"],
    "en": ["inject", "exercise time", "scenario time", "synopsis", "from", "to", "method", "message", "expected action",
           "evaluation point", "capability", "condition", "events represented"],
}


def _role(script: DrillScript, rid: str, lang: Lang) -> str:
    r = script.roles[rid]
    return r.name_zh if lang == "zh" else r.name_en


def msel(script: DrillScript, lang: Lang = "zh") -> pd.DataFrame:
    """Return the master scenario events list (one row per inject) in ``lang``."""
    rows = []
    for i in script.injects:
        z = lang == "zh"
        rows.append([i.number, exercise_clock(i.exercise_s), clock(script, i.scenario_s),
                     i.synopsis_zh if z else i.synopsis_en, _role(script, i.sender, lang),
                     _role(script, i.receiver, lang), i.channel_zh if z else i.channel_en,
                     i.message_zh if z else i.message_en, i.expected_zh if z else i.expected_en,
                     i.evaluation_zh if z else i.evaluation_en, CAPABILITIES[i.capability][0 if z else 1],
                     i.branch_zh if z else i.branch_en, i.source_events])
    return pd.DataFrame(rows, columns=MSEL_COLUMNS[lang])


def _t(lang: Lang, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def roles_table(script: DrillScript, lang: Lang) -> pd.DataFrame:
    """Return the roles that send or receive injects (control cell first)."""
    return pd.DataFrame([[r.name_zh, r.name_en, _t(lang, "导调" if r.kind == "control" else "参演", r.kind)]
                         for r in script.roles_used()],
                        columns=[_t(lang, "角色", "role (中文)"), _t(lang, "英文", "role"), _t(lang, "类别", "kind")])


def evaluation_table(script: DrillScript, lang: Lang) -> pd.DataFrame:
    """Return the evaluation form: one row per AQ/T 9009-style item with its injects and standards."""
    form = []
    for cap, (zh, en) in CAPABILITIES.items():
        mine = [i for i in script.injects if i.capability == cap]
        if mine:
            form.append([zh if lang == "zh" else en, ", ".join(str(i.number) for i in mine),
                         "；".join(dict.fromkeys(i.evaluation_zh for i in mine)) if lang == "zh"
                         else "; ".join(dict.fromkeys(i.evaluation_en for i in mine)), "", ""])
    return pd.DataFrame(form, columns=[_t(lang, "评估项目", "item"), _t(lang, "对应序号", "injects"),
                                       _t(lang, "评估要点与标准", "points and standards"), _t(lang, "评分", "score"),
                                       _t(lang, "备注", "remarks")])


def _sections(script: DrillScript, lang: Lang) -> list[tuple[str, list]]:
    """Return the script as (heading, blocks) — blocks are strings (paragraphs) or DataFrames (tables)."""
    m = script.meta
    out: list[tuple[str, list]] = []
    if script.edition == "participant":
        out.append((_t(lang, "一、演练须知（双盲）", "1 Brief (double-blind)"), [
            _t(lang, "本次演练采用“双盲”方式：演练时间与情景均不预先通知。接到导调组或模拟组信息后，请按预案和职责处置，"
                     "并如实记录接报时间、处置措施与上报时间。所有演练信息以“演练”开头、以“演练”结尾。",
               "This is a double-blind exercise: neither its time nor its scenario is announced. When control or the "
               "simulation cell contacts you, act on your plan and duties, and log when you were told, what you did "
               "and when you reported. Every exercise message begins and ends with \"EXERCISE\"."),
            _t(lang, f"适用预案：{m.get('plan', '')}。", f"Plan in force: {m.get('plan', '')}.")]))
        roles = pd.DataFrame([[r.name_zh if lang == "zh" else r.name_en] for r in script.roles.values()
                              if r.kind == "participant" and not r.id.startswith(("team:", "depot:"))],
                             columns=[_t(lang, "参演单位", "participating units")])
        out.append((_t(lang, "二、参演单位", "2 Participating units"), [roles]))
        return out
    sm = m.get("summary", {})
    design = [
        _t(lang, f"情景：{m.get('hazard_zh') or m.get('hazard')}。{m.get('hazard_description', '')}",
           f"Scenario: {m.get('hazard')}. {m.get('hazard_description', '')}"),
        _t(lang, f"依据：fuling-sim 模拟（预案 {m.get('plan')}，随机种子 {m.get('seed')}，模拟 {m.get('duration_h')} 小时，"
                 f"{m.get('events')} 条事件记录；版本 {m.get('version')}）。模拟结果：死亡 {sm.get('deaths')} 人、受伤 "
                 f"{sm.get('injured')} 人、转移安置 {sm.get('evacuated_persons')} 人、过火 {sm.get('burned_area_ha', 0)} 公顷。"
                 "村庄位置、道路与设施位置为生成数据，地名为真实地名。",
           f"Basis: a fuling-sim run (plan {m.get('plan')}, seed {m.get('seed')}, {m.get('duration_h')} h simulated, "
           f"{m.get('events')} logged events; version {m.get('version')}). Simulated outcome: {sm.get('deaths')} dead, "
           f"{sm.get('injured')} injured, {sm.get('evacuated_persons')} evacuated, {sm.get('burned_area_ha', 0)} ha "
           "burned. Village, road and facility locations are generated; place names are real."),
        _t(lang, f"形式：{'桌面推演' if script.mode == 'tabletop' else '实战演练'}，时长 {script.length_s / 3600:g} 小时；"
                 f"情景时间按比例压缩，保持先后顺序与相对间隔。",
           f"Form: {script.mode} exercise of {script.length_s / 3600:g} h; scenario time is compressed in proportion, "
           "keeping order and relative spacing."),
    ]
    if script.edition == "controller":
        design.insert(0, _t(lang, "【密封】导调组专用，演练结束前不得向参演单位披露。",
                            "[SEALED] For controllers only; not to be shown to participants before the end."))
    out.append((_t(lang, "一、演练情景设计", "1 Scenario design"), design))
    out.append((_t(lang, "二、参演角色", "2 Roles"), [roles_table(script, lang)]))
    steps = pd.DataFrame([[exercise_clock(i.exercise_s), clock(script, i.scenario_s),
                           i.synopsis_zh if lang == "zh" else i.synopsis_en,
                           f"{_role(script, i.sender, lang)} → {_role(script, i.receiver, lang)}",
                           (i.message_zh if lang == "zh" else i.message_en)
                           + ((" [" + (i.branch_zh if lang == "zh" else i.branch_en) + "]") if i.branch_zh else ""),
                           i.expected_zh if lang == "zh" else i.expected_en,
                           i.channel_zh if lang == "zh" else i.channel_en] for i in script.injects],
                         columns=[_t(lang, "时间", "time"), _t(lang, "情景时间", "scenario time"), _t(lang, "场景", "scene"),
                                  _t(lang, "参演单位与角色", "units and roles"), _t(lang, "指令与对白", "actions and lines"),
                                  _t(lang, "预期响应", "expected response"), _t(lang, "保障", "support / channel")])
    out.append((_t(lang, "三、演练指令与对白", "3 Instructions and dialogue"), [steps]))
    narration = []
    for cap, (zh, en) in CAPABILITIES.items():
        mine = [i for i in script.injects if i.capability == cap]
        if mine:
            first, last = mine[0], mine[-1]
            narration.append(_t(lang, f"【{zh}】自{exercise_clock(first.exercise_s)}起，{first.synopsis_zh}；"
                                      f"至{exercise_clock(last.exercise_s)}，{last.synopsis_zh}。",
                                f"[{en}] From {exercise_clock(first.exercise_s)}, {first.synopsis_en}; by "
                                f"{exercise_clock(last.exercise_s)}, {last.synopsis_en}."))
    out.append((_t(lang, "四、解说词", "4 Narration"), narration))
    out.append((_t(lang, "五、总结与评估", "5 Summary and evaluation"), [
        _t(lang, "评估组按下表逐项记录实际时间与表现，评分：优（达到标准）/良/中/差（未达到标准）。",
           "Evaluators record actual times and performance per item; score: excellent (meets the standard) / good / "
           "fair / poor (misses it)."), evaluation_table(script, lang)]))
    return out


def to_markdown(script: DrillScript, lang: Lang = "zh") -> str:
    """Return the script as Markdown (with the MSEL table at the end)."""
    from sim.report import md_table

    lines = [f"# {script.title_zh if lang == 'zh' else script.title_en}", ""]
    for head, blocks in _sections(script, lang):
        lines += [f"## {head}", ""]
        for b in blocks:
            lines += [md_table(b) if isinstance(b, pd.DataFrame) else b, ""]
    if script.injects:
        lines += [f"## {_t(lang, '附：主情景事件清单（MSEL）', 'Annex: master scenario events list (MSEL)')}", "",
                  md_table(msel(script, lang)), ""]
    return "\n".join(lines)


def write_markdown(script: DrillScript, path: Path | str, lang: Lang = "zh") -> Path:
    """Write the Markdown script."""
    return atomic_write(Path(path), lambda p: p.write_text(to_markdown(script, lang), encoding="utf-8"))


def write_csv(script: DrillScript, path: Path | str, lang: Lang = "zh") -> Path:
    """Write the MSEL as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
    return atomic_write(Path(path), lambda p: msel(script, lang).to_csv(p, index=False, encoding="utf-8-sig"))


def write_xlsx(script: DrillScript, path: Path | str, lang: Lang = "zh") -> Path:
    """Write the MSEL, the roles and the evaluation form as sheets of one workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    def write(p: Path) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = "MSEL"
        tables = [("MSEL", msel(script, lang)), (_t(lang, "角色", "roles"), roles_table(script, lang)),
                  (_t(lang, "评估", "evaluation"), evaluation_table(script, lang))]
        for k, (name, df) in enumerate(tables):
            sheet = ws if k == 0 else wb.create_sheet(name)
            sheet.append(list(df.columns))
            for c in sheet[1]:
                c.font = Font(bold=True)
            for row in df.itertuples(index=False):
                sheet.append([v if isinstance(v, (int, float)) else str(v) for v in row])
            for col in sheet.columns:
                sheet.column_dimensions[col[0].column_letter].width = 18
                for c in col:
                    c.alignment = Alignment(wrap_text=True, vertical="top")
        wb.save(p)

    return atomic_write(Path(path), write)


def write_docx(script: DrillScript, path: Path | str, lang: Lang = "zh") -> Path:
    """Write the script as a Word document: cover, roles, timeline, narration, evaluation form."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Pt

    def write(p: Path) -> None:
        doc = docx.Document()
        sec = doc.sections[0]
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = sec.page_height, sec.page_width
        style = doc.styles["Normal"]
        style.font.size = Pt(9)
        style.font.name = "Noto Sans CJK SC"  # sets w:ascii/w:hAnsi and creates rFonts
        style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK SC")
        doc.add_heading(script.title_zh if lang == "zh" else script.title_en, 0)
        m = script.meta
        doc.add_paragraph(_t(lang, f"预案：{m.get('plan', '')}　形式：{'桌面推演' if script.mode == 'tabletop' else '实战演练'}　"
                                   f"时长：{script.length_s / 3600:g} 小时　生成：fuling-sim {m.get('version', '')}",
                             f"Plan: {m.get('plan', '')} · form: {script.mode} · length: {script.length_s / 3600:g} h · "
                             f"generated by fuling-sim {m.get('version', '')}"))
        for head, blocks in _sections(script, lang):
            doc.add_heading(head, 1)
            for b in blocks:
                if isinstance(b, pd.DataFrame):
                    t = doc.add_table(rows=1, cols=len(b.columns))
                    t.style = "Table Grid"
                    for c, name in zip(t.rows[0].cells, b.columns, strict=True):
                        c.text = str(name)
                    for row in b.itertuples(index=False):
                        cells = t.add_row().cells
                        for c, v in zip(cells, row, strict=True):
                            c.text = str(v)
                else:
                    doc.add_paragraph(b)
        doc.save(p)

    return atomic_write(Path(path), write)


def write_all(script: DrillScript, stem: Path | str, lang: Lang = "zh") -> list[Path]:
    """Write ``stem``.md, .csv, .xlsx and .docx; return the paths."""
    stem = Path(stem)
    base = stem.with_suffix("") if stem.suffix in (".md", ".csv", ".xlsx", ".docx") else stem
    return [write_markdown(script, base.with_suffix(".md"), lang), write_csv(script, base.with_suffix(".csv"), lang),
            write_xlsx(script, base.with_suffix(".xlsx"), lang), write_docx(script, base.with_suffix(".docx"), lang)]
