"""Run one scenario end to end: build the model, step it to the end, collect a :class:`~sim.results.RunResult`.

This is the builder the CLI (and later the sweep runner) injects by name (``sim.runner.DEFAULT_BUILDER``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from models.district.metrics import build_result
from models.district.model import DistrictModel
from models.district.params import ModelParams
from sim.district import District
from sim.results import RunResult
from sim.scenario import Scenario


def run_scenario(scenario: Scenario, params: ModelParams | dict | None = None, district: District | None = None,
                 progress: Callable[[float], None] | None = None, duration_h: float | None = None) -> RunResult:
    """Build and run the district model for ``scenario``; ``progress(fraction)`` after every step.

    ``params`` may be a nested dict of overrides (e.g. from a sweep's ``params.*`` factors), validated into
    :class:`ModelParams` on top of the defaults.
    """
    t0 = time.perf_counter()
    if isinstance(params, dict):
        params = ModelParams.model_validate(_merge(ModelParams().model_dump(mode="json"), params))
    model = DistrictModel(scenario, district=district, params=params, duration_h=duration_h)
    model.run(progress)
    return build_result(model, time.perf_counter() - t0)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
