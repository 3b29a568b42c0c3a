"""Time series forcing: exact interval means of piecewise-linear series (hydrographs, rain intensity).

A scenario series is given at times ``time_h`` with linear interpolation between points and zero outside
the series for rain; a hydrograph holds its first and last value outside its span (rivers do not stop).
Integrating exactly over each model step keeps the delivered volume equal to the series' integral, which
is what the volume balance checks.
"""

from __future__ import annotations

import numpy as np


def integral(time_s: np.ndarray, values: np.ndarray, t0_s: float, t1_s: float, hold_ends: bool) -> float:
    """Integral of the piecewise-linear series over ``[t0_s, t1_s]`` (value × s).

    Parameters
    ----------
    time_s : (k,) increasing sample times, s.
    values : (k,) samples.
    t0_s, t1_s : interval, s, ``t0_s ≤ t1_s``.
    hold_ends : hold the end values outside the series (True) or treat it as zero there (False).
    """
    t = np.asarray(time_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t1_s < t0_s:
        raise ValueError(f"interval ends before it starts: [{t0_s}, {t1_s}]")
    if t.size == 1:
        if hold_ends:
            return float(v[0] * (t1_s - t0_s))
        return 0.0
    pre = post = 0.0
    a, b = t0_s, t1_s
    if hold_ends:
        pre = v[0] * max(0.0, min(b, t[0]) - a)
        post = v[-1] * max(0.0, b - max(a, t[-1]))
    a, b = max(a, t[0]), min(b, t[-1])
    if b <= a:
        return float(pre + post)
    knots = np.concatenate([[a], t[(t > a) & (t < b)], [b]])
    vals = np.interp(knots, t, v)
    return float(pre + post + np.sum(0.5 * (vals[1:] + vals[:-1]) * np.diff(knots)))


def mean_rate(time_s: np.ndarray, values: np.ndarray, t0_s: float, t1_s: float, hold_ends: bool) -> float:
    """Mean of the series over ``[t0_s, t1_s]`` (its value at ``t0_s`` for an empty interval)."""
    if t1_s <= t0_s:
        t = np.asarray(time_s, dtype=np.float64)
        inside = hold_ends or (t[0] <= t0_s <= t[-1])
        return float(np.interp(t0_s, t, values)) if inside else 0.0
    return integral(time_s, values, t0_s, t1_s, hold_ends) / (t1_s - t0_s)
