"""Scorecard files: CSV, Parquet, Markdown, figure, each written whole."""

from __future__ import annotations

import pandas as pd

from sim import report
from sim.scorecard import build_scorecard
from tests.test_scorecard import _runs


def test_report_files_are_written_whole(tmp_path):
    card = build_scorecard(_runs({"ref": [(1, 50.0), (2, 70.0)], "up": [(1, 55.0), (2, 75.0)]}))
    card.meta.update({"hazard": "test", "replicates": 2, "base_seed": 1})
    paths = report.write(card, tmp_path)
    names = {p.name for p in paths}
    for stem in ("scorecard", "scorecard_differences", "scorecard_townships", "scorecard_replicates"):
        assert f"{stem}.csv" in names and f"{stem}.parquet" in names
    assert (tmp_path / "scorecard.png").read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "scorecard.md").read_text(encoding="utf-8")
    assert "| T3 预警信息覆盖率 warning coverage |" in md and "## Differences" in md and "甲镇" in md
    back = pd.read_parquet(tmp_path / "scorecard.parquet")
    assert set(back["plan"]) == {"ref", "up"} and len(back) == 2 * 12
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_figures_are_formatted_to_three_significant_digits():
    assert report.fmt(0.012345) == "0.0123" and report.fmt(1234.5) == "1234" and report.fmt(float("nan")) == "—"
