"""Builders for sweep tests, injected by name like the model (``sim.runner``): analytic outcomes, real path."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sim.results import RunResult


def _result(summary: dict) -> RunResult:
    empty = pd.DataFrame()
    return RunResult(timeseries=pd.DataFrame({"time_s": [0.0], "y": [summary["y"]]}), township_timeseries=empty,
                     events=empty, townships=empty, requests=empty, summary={"duration_h": 1.0, **summary},
                     provenance={})


def ishigami(scenario, params=None, duration_h=None, **_):
    """Ishigami function (a = 7, b = 0.1) of params x1, x2, x3 in [-π, π]; known Sobol indices."""
    x1, x2, x3 = (float(params[k]) for k in ("x1", "x2", "x3"))
    return _result({"y": math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)})


def noisy(scenario, params=None, duration_h=None, **_):
    """y = x1 + noise drawn from the run's seed; fails on purpose when x1 > 0.9; can kill its worker once."""
    x1 = float(params["x1"])
    marker = os.environ.get("FULING_SIM_TEST_KILL_MARKER")
    if marker and x1 > 0.5 and not Path(marker).exists():
        Path(marker).write_text("killed", encoding="utf-8")
        os._exit(1)  # the worker process dies mid-run
    if x1 > 0.9:
        raise RuntimeError("x1 above 0.9 (deliberate failure)")
    rng = np.random.default_rng(scenario.run.seed)
    return _result({"y": x1 + float(rng.normal())})


def linear(scenario, params=None, duration_h=None, **_):
    """y = 3 x1 + x2 (x3 has no effect): Morris elementary effects are the coefficients exactly."""
    return _result({"y": 3.0 * float(params["x1"]) + float(params["x2"]) + 0.0 * float(params["x3"])})


def crashing(scenario, params=None, duration_h=None, **_):
    """y = x1, but the worker process dies (as in a native crash) whenever x1 > 0.5; a time series each run."""
    x1 = float(params["x1"])
    if x1 > 0.5:
        os._exit(1)
    res = _result({"y": x1})
    res.timeseries["x1"] = x1
    return res
