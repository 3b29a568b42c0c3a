"""fuling-sim browser app (Streamlit): routes only; each page lives in ``app_pages/`` (DESIGN §3.12).

Start it with ``fuling-sim app`` (localhost, usage statistics off).
"""

import streamlit as st

from app_pages.common import language_switch, t

st.set_page_config(page_title="fuling-sim 涪陵区灾害情景模拟", layout="wide")  # default icon: served locally
language_switch()
# no page icons: Streamlit fetches Material icons for the favicon from fonts.gstatic.com
pages = [
    st.Page("app_pages/scenario.py", title=t("情景设置", "Scenario"), default=True),
    st.Page("app_pages/run.py", title=t("运行与回放", "Run")),
    st.Page("app_pages/compare.py", title=t("预案比较", "Compare")),
    st.Page("app_pages/sweeps.py", title=t("参数扫描", "Sweeps")),
    st.Page("app_pages/drill.py", title=t("演练脚本", "Drill")),
]
st.navigation(pages).run()
