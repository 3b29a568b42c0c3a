"""The target scorecard: plans × Monte-Carlo replicates → means, 95 % intervals, P(target met), differences.

* **Replicates.** Seeds come from ``numpy.random.SeedSequence(base_seed).spawn(n)`` (:func:`replicate_seeds`),
  and every plan runs the *same* seeds (common random numbers), so plan differences are paired.
* **Intervals.** Student-t interval of the mean over replicates (:func:`mean_interval`); the probability a
  target is met is the share of replicates that meet it.
* **Annual targets honestly.** The plan's annual targets (``annual: true`` in the targets file: T2, T4,
  T5, T6) are never judged on one event as if it were a year. When the hazard file states how often such
  an event happens (``annual_frequency_per_year`` λ), each replicate's per-event value is turned into this
  hazard's *contribution* to the annual figure (λ × per-event value, the expected annual value of a
  Poisson stream of such events) and judged — labelled as one hazard's share, a lower bound of the
  district's year. Without λ the per-event value is shown, labelled per event, and not judged.
* **Status.** pass 达标 when the mean meets the target and so does the whole interval; fail 未达标 when the
  mean misses it and so does the whole interval; uncertain 不确定 otherwise (with one replicate: by the
  value alone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import INDICATORS, Indicator, evaluate, township_table
from sim.results import RunResult
from sim.targets import Target, TargetFile, load_targets

PASS, FAIL, UNCERTAIN, NOT_JUDGED = "pass 达标", "fail 未达标", "uncertain 不确定", "not judged 不评判"


def replicate_seeds(base_seed: int, n: int) -> list[int]:
    """``n`` independent run seeds from ``SeedSequence(base_seed)`` (63-bit, valid for ``RunSettings.seed``)."""
    if n < 1:
        raise ValueError(f"replicates must be ≥ 1, got {n}")
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for c in np.random.SeedSequence(base_seed).spawn(n)]


def mean_interval(values, level: float = 0.95, lower: float = -math.inf,
                  upper: float = math.inf) -> tuple[float, float, float]:
    """Mean and Student-t ``level`` interval of the finite values (NaN interval with fewer than two).

    The interval is clipped to ``[lower, upper]``, the range the quantity can take (clipping never lowers
    coverage).
    """
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    if v.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2.0, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return m, max(m - half, lower), min(m + half, upper)


def _status(target: Target, mean: float, lo: float, hi: float) -> str:
    if not np.isfinite(mean):
        return NOT_JUDGED
    if not np.isfinite(lo):
        return PASS if target.met(mean) else FAIL
    if target.met(mean) and target.met(lo) and target.met(hi):
        return PASS
    if not target.met(mean) and not target.met(lo) and not target.met(hi):
        return FAIL
    return UNCERTAIN


def _check(ind: Indicator, target: Target) -> None:
    if ind.units != target.units or ind.higher_is_better != target.higher_is_better:
        raise ValueError(f"indicator {ind.key} ({ind.units}, higher better: {ind.higher_is_better}) does not match "
                         f"its target ({target.units}, {target.comparison}); fix the targets file")


@dataclass
class Scorecard:
    """A scorecard: tidy tables, ready to print or write."""

    table: pd.DataFrame  # plan × indicator: basis, n, mean, ci_low, ci_high, target, p_met, status
    differences: pd.DataFrame  # plan − reference plan, paired by seed
    townships: pd.DataFrame  # plan × township means over replicates
    replicates: pd.DataFrame  # plan × seed × indicator: value (the basis of the table)
    meta: dict = field(default_factory=dict)


def build_scorecard(runs: dict[str, list[tuple[int, RunResult]]], targets: TargetFile | None = None,
                    level: float = 0.95) -> Scorecard:
    """Score every plan's replicates. ``runs``: plan name → [(seed, result), …]; the first plan is the reference.

    The annual frequency comes from each result's summary (``annual_frequency_per_year``, from the hazard file).
    """
    targets = targets or load_targets()
    rows, reps = [], []
    for plan, items in runs.items():
        for seed, res in items:
            vals = evaluate(res)
            lam = res.summary.get("annual_frequency_per_year")
            for ind in INDICATORS:
                tgt = targets.targets.get(ind.target) if ind.target else None
                v = vals[ind.key]
                basis = "per event 单次事件"
                factor = 1.0
                if tgt is not None and tgt.annual:
                    if lam:
                        factor = float(lam)
                        v = None if v is None else v * factor
                        basis = f"annualised 年均 (×{float(lam):g}/yr, this hazard only)"
                    else:
                        basis = "per event 单次事件 (annual target: not judged)"
                reps.append({"plan": plan, "seed": seed, "indicator": ind.key, "basis": basis,
                             "per_year_factor": factor, "value": np.nan if v is None else v})
    rep = pd.DataFrame(reps)
    for (plan, key), g in rep.groupby(["plan", "indicator"], sort=False):
        ind = next(i for i in INDICATORS if i.key == key)
        tgt = targets.targets.get(ind.target) if ind.target else None
        if tgt is not None:
            _check(ind, tgt)
        basis = g["basis"].iloc[0]
        vals = g["value"].to_numpy(dtype=np.float64)
        finite = vals[np.isfinite(vals)]
        mean, lo, hi = mean_interval(finite, level, 0.0, ind.upper * float(g["per_year_factor"].iloc[0]))
        judged = tgt is not None and "not judged" not in basis
        rows.append({
            "plan": plan, "indicator": key, "name_zh": ind.name_zh, "name_en": ind.name_en, "units": ind.units,
            "basis": basis, "n": int(finite.size), "mean": mean, "ci_low": lo, "ci_high": hi,
            "target": tgt.label if tgt is not None else "", "target_kind": tgt.kind if tgt is not None else "",
            "p_met": float(np.mean([tgt.met(x) for x in finite])) if judged and finite.size else np.nan,
            "status": _status(tgt, mean, lo, hi) if judged else NOT_JUDGED,
        })
    table = pd.DataFrame(rows)
    return Scorecard(table=table, differences=_differences(rep, level), townships=_townships(runs),
                     replicates=rep, meta={"level": level, "plans": list(runs), "targets_source": targets.source})


def _differences(rep: pd.DataFrame, level: float) -> pd.DataFrame:
    plans = list(dict.fromkeys(rep["plan"]))
    if len(plans) < 2:
        return pd.DataFrame(columns=["plan", "reference", "indicator", "n_pairs", "mean_diff", "ci_low", "ci_high",
                                     "verdict"])
    ref = plans[0]
    wide = rep.pivot_table(index=["indicator", "seed"], columns="plan", values="value", aggfunc="first",
                           dropna=False)
    keys = set(wide.index.get_level_values(0))
    out = []
    for plan in plans[1:]:
        for ind in INDICATORS:
            if ind.key not in keys:
                continue
            w = wide.loc[ind.key]
            d = (w[plan] - w[ref]).to_numpy(dtype=np.float64)
            d = d[np.isfinite(d)]
            m, lo, hi = mean_interval(d, level)
            out.append({"plan": plan, "reference": ref, "indicator": ind.key, "n_pairs": int(d.size),
                        "mean_diff": m, "ci_low": lo, "ci_high": hi, "verdict": _verdict(ind, m, lo, hi)})
    return pd.DataFrame(out)


def _verdict(ind: Indicator, m: float, lo: float, hi: float) -> str:
    """Say better / worse when the paired interval excludes 0 (or, with one pair, by its sign)."""
    if not np.isfinite(m):
        return "n/a"
    clear = (lo > 0 or hi < 0) if np.isfinite(lo) else m != 0
    if not clear:
        return "no clear difference 差异不显著"
    if ind.higher_is_better is None:
        word = "higher 更高" if m > 0 else "lower 更低"
    else:
        word = "better 更优" if (m > 0) == ind.higher_is_better else "worse 更差"
    return word if np.isfinite(lo) else word + " (n=1)"


def _townships(runs: dict[str, list[tuple[int, RunResult]]]) -> pd.DataFrame:
    frames = []
    for plan, items in runs.items():
        for seed, res in items:
            t = township_table(res)
            t.insert(0, "seed", seed)
            t.insert(0, "plan", plan)
            frames.append(t)
    if not frames:
        return pd.DataFrame()
    allt = pd.concat(frames, ignore_index=True)
    num = [c for c in allt.columns if c not in ("plan", "seed", "township", "township_en")]
    return allt.groupby(["plan", "township", "township_en"], sort=False)[num].mean().reset_index()
