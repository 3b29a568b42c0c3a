"""The plan's targets: read only from the data file, validated with messages that name the fix."""

from __future__ import annotations

import pytest

from sim.scorecard import FAIL, PASS, build_scorecard
from sim.targets import default_targets_path, load_targets
from tests.test_scorecard import _row, _runs


def test_shipped_targets_are_the_plans():
    t = load_targets().targets
    assert {k: t[k].label for k in ("T1", "T3", "T4", "T5")} == {
        "T1": "≥ 95 %", "T3": "≥ 95 %", "T4": "≤ 1 per million", "T5": "< 15000 per 100k"}
    assert {k for k, v in t.items() if v.annual} == {"T2", "T4", "T5", "T6"}
    assert all(v.quote for v in t.values())
    assert t["T5"].met(14_999.0) and not t["T5"].met(15_000.0)


def test_targets_come_only_from_the_data_file(tmp_path):
    text = default_targets_path().read_text(encoding="utf-8")
    assert "value: 95\n" in text
    edited = tmp_path / "targets.yaml"
    edited.write_text(text.replace("value: 95\n", "value: 40\n"), encoding="utf-8")
    runs = _runs({"p": [(1, 50.0), (2, 51.0), (3, 52.0)]})
    assert _row(build_scorecard(runs), "p", "T3")["status"] == FAIL
    card = build_scorecard(runs, load_targets(edited))
    assert _row(card, "p", "T3")["status"] == PASS and _row(card, "p", "T3")["target"] == "≥ 40 %"


def test_bad_targets_file_names_file_field_and_fix(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("kind: targets\nsource: x\ntargets:\n  T3: {comparison: '=>', value: 95, units: '%', "
                   "kind: binding, annual: false, quote: q}\n", encoding="utf-8")
    with pytest.raises(Exception) as err:
        load_targets(bad)
    msg = str(err.value)
    assert str(bad) in msg and "targets.T3.comparison" in msg and "Fix" in msg


