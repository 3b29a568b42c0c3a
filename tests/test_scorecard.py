"""Replicate seeds, intervals (coverage on known distributions), annual targets, statuses and differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.scorecard import FAIL, NOT_JUDGED, PASS, UNCERTAIN, build_scorecard, mean_interval, replicate_seeds
from tests.helpers import make_result


def test_replicate_seeds_are_reproducible_distinct_and_prefix_stable():
    a = replicate_seeds(20200820, 5)
    assert a == replicate_seeds(20200820, 5)
    assert len(set(a)) == 5 and all(0 <= s < 2**63 for s in a)
    assert replicate_seeds(20200820, 3) == a[:3]  # more replicates later reuse the first runs
    assert replicate_seeds(1, 3) != a[:3]
    with pytest.raises(ValueError):
        replicate_seeds(1, 0)


@pytest.mark.parametrize(("draw", "n", "lo", "hi"), [
    (lambda rng, n: rng.normal(3.0, 2.0, n), 8, 0.935, 0.965),      # exact t interval: 95 %
    (lambda rng, n: rng.exponential(1.0, n), 40, 0.92, 0.965),     # skewed, n = 40: close to 95 %
])
def test_interval_coverage_on_known_distributions(draw, n, lo, hi):
    rng = np.random.default_rng(12345)
    true_mean = 3.0 if n == 8 else 1.0
    trials = 4000
    hit = 0
    for _ in range(trials):
        _, a, b = mean_interval(draw(rng, n))
        hit += a <= true_mean <= b
    assert lo <= hit / trials <= hi


def test_interval_edges():
    m, a, b = mean_interval([2.0])
    assert m == 2.0 and math.isnan(a) and math.isnan(b)
    assert all(math.isnan(x) for x in mean_interval([]))
    assert mean_interval([1.0, None, float("nan"), 3.0])[0] == 2.0
    m, a, b = mean_interval([0.0, 0.1], lower=0.0, upper=0.1)
    assert a == 0.0 and b == 0.1  # clipped to the quantity's range


def _runs(values_by_plan: dict[str, list[tuple[int, float]]], **kw):
    """Runs whose warning coverage (T3) takes the given values (% of 1000 exposed)."""
    return {plan: [(seed, make_result(exposed=(1000, 0), warned_before=(int(v * 10), 0), **kw))
                   for seed, v in items] for plan, items in values_by_plan.items()}


def _row(card, plan, key):
    t = card.table
    return t[(t["plan"] == plan) & (t["indicator"] == key)].iloc[0]


def test_statuses_and_probability_met():
    card = build_scorecard(_runs({"good": [(1, 99.0), (2, 98.0), (3, 99.5)],
                                  "bad": [(1, 50.0), (2, 60.0), (3, 55.0)],
                                  "edge": [(1, 90.0), (2, 99.9), (3, 96.0)]}))
    assert _row(card, "good", "T3")["status"] == PASS and _row(card, "good", "T3")["p_met"] == 1.0
    assert _row(card, "bad", "T3")["status"] == FAIL and _row(card, "bad", "T3")["p_met"] == 0.0
    edge = _row(card, "edge", "T3")
    assert edge["status"] == UNCERTAIN and edge["p_met"] == pytest.approx(2 / 3)
    assert edge["mean"] == pytest.approx(np.mean([90.0, 99.9, 96.0]))
    assert _row(card, "good", "clearance_h")["status"] == NOT_JUDGED  # no target: reported only


def test_annual_targets_judged_only_with_a_stated_frequency():
    # 1 death in 1,000,000 residents per event: 1.0 per million per event
    per_event = build_scorecard({"p": [(1, make_result(dead=(1, 0)))]})
    r = _row(per_event, "p", "T4")
    assert r["status"] == NOT_JUDGED and "not judged" in r["basis"] and r["mean"] == pytest.approx(1.0)
    yearly = build_scorecard({"p": [(1, make_result(dead=(1, 0), summary={"annual_frequency_per_year": 0.02}))]})
    r = _row(yearly, "p", "T4")
    assert r["mean"] == pytest.approx(0.02) and r["basis"].startswith("annualised") and r["status"] == PASS
    heavy = build_scorecard({"p": [(1, make_result(dead=(100, 0), summary={"annual_frequency_per_year": 0.5}))]})
    assert _row(heavy, "p", "T4")["status"] == FAIL  # 50 per million per year from this hazard alone


def test_differences_are_paired_by_seed():
    card = build_scorecard(_runs({"ref": [(1, 50.0), (2, 70.0), (3, 90.0)],
                                  "up": [(1, 55.0), (2, 75.1), (3, 94.9)],
                                  "same": [(1, 50.0), (2, 70.0), (3, 90.0)]}))
    d = card.differences.set_index(["plan", "indicator"])
    up = d.loc[("up", "T3")]
    assert up["mean_diff"] == pytest.approx(5.0) and up["ci_low"] > 0  # unpaired, the spread would hide it
    assert up["verdict"].startswith("better")
    assert d.loc[("same", "T3")]["verdict"].startswith("no clear")
