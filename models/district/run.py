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


def run_scenario(scenario: Scenario, params: ModelParams | None = None, district: District | None = None,
                 progress: Callable[[float], None] | None = None, duration_h: float | None = None) -> RunResult:
    """Build and run the district model for ``scenario``; ``progress(fraction)`` after every step."""
    t0 = time.perf_counter()
    model = DistrictModel(scenario, district=district, params=params, duration_h=duration_h)
    model.run(progress)
    return build_result(model, time.perf_counter() - t0)
