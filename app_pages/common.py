"""What every page shares: the language switch (persisted in the URL), labels, and per-session state.

Shared across sessions only read-only inputs (the built district, the shipped catalogue) through
``st.cache_resource``; everything a user changes lives in ``st.session_state``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

from sim import app_api
from sim.district import District, load_district
from sim.scenario import DistrictSpec

LANGS = {"zh": "中文", "en": "English"}


def lang() -> str:
    """Return the session's language: session state, else the ``?lang=`` URL parameter, else Chinese."""
    if "lang" not in st.session_state:
        q = st.query_params.get("lang", "zh")
        st.session_state["lang"] = q if q in LANGS else "zh"
    return st.session_state["lang"]


def t(zh: str, en: str) -> str:
    """Return the label in the session's language."""
    return zh if lang() == "zh" else en


def language_switch() -> None:
    """Sidebar switch; the choice goes into the URL so a reload or a shared link keeps it."""
    current = lang()
    label = st.sidebar.radio("语言 / Language", list(LANGS.values()), index=list(LANGS).index(current),
                             horizontal=True, key="lang_switch")
    choice = next(k for k, v in LANGS.items() if v == label)
    if choice != current:
        st.session_state["lang"] = choice
    st.query_params["lang"] = st.session_state["lang"]


def outputs_dir() -> Path:
    """Where the app writes and finds results (``$FULING_SIM_OUTPUTS`` or ``results``)."""
    return Path(os.environ.get("FULING_SIM_OUTPUTS", "results"))


@st.cache_resource(show_spinner=False, max_entries=2)
def _district(spec_json: str) -> District:
    return load_district(DistrictSpec.model_validate_json(spec_json))


def district() -> District:
    """Return the session's built district (read-only; one per district file, shared by all sessions)."""
    spec = st.session_state.get("district_spec") or app_api.default_district()
    return _district(spec.model_dump_json())


@st.cache_resource(show_spinner=False)
def catalogue(kind: str) -> list[app_api.Choice]:
    """Shipped hazard or plan files."""
    return app_api.catalogue(kind)


@st.cache_resource(show_spinner=False)
def _warm_up() -> threading.Thread:
    """Load the district and the model code (numba kernels from their cache) once per server, in the background.

    So the first Run shows results within seconds.
    """

    def work() -> None:
        _district(app_api.default_district().model_dump_json())
        import models.district.run  # noqa: F401  (imports the model and its kernels)

    th = threading.Thread(target=work, name="fuling-warm-up", daemon=True)
    th.start()
    return th


def ensure_defaults() -> None:
    """Put the default scenario in a new session: the Yangtze chain, the baseline plan, 24 h, the default seed."""
    _warm_up()
    ss = st.session_state
    if "hazard" not in ss:
        ss["hazard_choice"] = catalogue("hazard")[0].stem
        ss["hazard"] = app_api.load_choice(catalogue("hazard")[0])
    if "plan" not in ss:
        ss["plan_choice"] = catalogue("plan")[0].stem
        ss["plan"] = app_api.load_choice(catalogue("plan")[0])
    if "district_spec" not in ss:
        ss["district_choice"] = "fuling"
        ss["district_spec"] = app_api.default_district()
    ss.setdefault("seed", 20200820)
    ss.setdefault("duration_h", app_api.DEFAULT_DURATION_H)


def show_errors(errors: list[app_api.FieldError], field: str | None = None) -> None:
    """Show validation errors (all, or those of one field) as error boxes — never a traceback."""
    for e in errors:
        if field is None or e.field == field or e.field.startswith(field + "."):
            st.error(e.message, icon="⚠️")


def current_result():
    """Return the result of this session's last finished run, if any."""
    job = st.session_state.get("job")
    return job.result if job is not None and job.result is not None else None


STATUS_COLOURS = {"pass": "background-color: #d8f3dc", "fail": "background-color: #ffccd5",
                  "uncertain": "background-color: #fff3bf"}


def styled_scorecard(table, plans: list[str]) -> None:
    """Scorecard table with pass (green) / fail (red) / uncertain (yellow) cells per plan."""
    shown = table[["indicator", "name", "units", "target", *plans]]

    def paint(col):
        if col.name not in plans:
            return [""] * len(col)
        return [STATUS_COLOURS.get(str(s).split(" ")[0], "") for s in table[f"{col.name}__status"]]

    st.dataframe(shown.style.apply(paint), hide_index=True, width="stretch")


def pick(label: str, options: dict, key: str, current=None, **kwargs):
    """Show a selectbox of ``options``' labels and return the chosen key.

    (Labels are the widget's options themselves rather than a ``format_func``, so the widget state is
    plain text: Streamlit's AppTest, and a language switch, handle that cleanly.)
    """
    values, labels = list(options), [str(v) for v in options.values()]
    idx = values.index(current) if current in values else 0
    if key in st.session_state and st.session_state[key] not in labels:
        del st.session_state[key]  # the labels changed (language): start from ``current``
    chosen = st.selectbox(label, labels, index=idx, key=key, **kwargs)
    return values[labels.index(chosen)] if chosen in labels else values[idx]


def pick_many(label: str, options: dict, key: str, default: list, **kwargs) -> list:
    """Show a multiselect over ``options``' labels and return the chosen keys (see :func:`pick`)."""
    values, labels = list(options), [str(v) for v in options.values()]
    if key in st.session_state and not set(st.session_state[key]) <= set(labels):
        del st.session_state[key]
    chosen = st.multiselect(label, labels, default=[options[d] for d in default if d in options], key=key, **kwargs)
    return [values[labels.index(c)] for c in chosen]


def task_progress(key: str, running: tuple[str, str], cancel_label: tuple[str, str] | None = None,
                  rerun_when_done: bool = False) -> None:
    """Progress of the session's task ``st.session_state[key]`` (a :class:`sim.app_api.TaskJob`).

    Polled every two seconds while it runs; then shows its error or its finish, or reruns the page (to draw
    the results) when ``rerun_when_done``. ``running`` is the (中文, English) text before the percentage.
    """
    job = st.session_state.get(key)
    busy = job is not None and not job.finished

    @st.fragment(run_every=2.0 if busy else None)
    def show() -> None:
        job = st.session_state.get(key)
        if job is None:
            return
        if job.finished:
            if job.status == "failed":
                st.error(job.error)
            elif job.status == "cancelled":
                st.warning(t("已取消。", "Cancelled."))
            elif rerun_when_done and st.session_state.get(f"{key}_shown") is not job:
                st.session_state[f"{key}_shown"] = job
                st.rerun()
            elif not rerun_when_done:
                st.success(t(f"完成：{job.value}", f"done: {job.value}"))
            return
        st.progress(min(job.fraction, 1.0), text=f"{t(*running)} {job.fraction:.0%} ({job.elapsed_s():.0f} s)")
        if cancel_label and st.button(t(*cancel_label), key=f"{key}_cancel"):
            job.cancel()

    show()
