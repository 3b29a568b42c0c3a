"""Run one scenario end to end: build the model, step it to the end, collect a :class:`~sim.results.RunResult`.

This is the builder the CLI (and later the sweep runner) injects by name (``sim.runner.DEFAULT_BUILDER``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import mesa

from models.district.metrics import SUMMARY_KEYS, build_result
from models.district.model import DistrictModel
from models.district.params import ModelParams
from sim.district import District
from sim.results import RunResult
from sim.scenario import Scenario


def run_scenario(scenario: Scenario, params: ModelParams | dict | None = None, district: District | None = None,
                 progress: Callable[[float], None] | None = None, duration_h: float | None = None,
                 partial: Callable[[RunResult], None] | None = None, partial_every_s: float = 5.0) -> RunResult:
    """Build and run the district model for ``scenario``; ``progress(fraction)`` after every step.

    ``params`` may be a nested dict of overrides (e.g. from a sweep's ``params.*`` factors), validated into
    :class:`ModelParams` on top of the defaults. ``partial(result)`` receives the results so far right after
    the first step and then about every ``partial_every_s`` seconds of wall time (the app shows them while
    the run goes on). An exception raised by ``progress`` or ``partial`` stops the run (a cancel button).
    """
    t0 = time.perf_counter()
    if isinstance(params, dict):
        params = ModelParams.model_validate(_merge(ModelParams().model_dump(mode="json"), params))
    model = DistrictModel(scenario, district=district, params=params, duration_h=duration_h)
    try:
        return _run(model, t0, progress, partial, partial_every_s)
    finally:
        release(model)


def release(model: mesa.Model) -> None:
    """Drop Mesa's own reference to a finished model so its memory can be freed.

    Mesa 3.3 numbers agents through a class-level ``Agent._ids`` dict keyed by model that is never
    cleared: every model built in a process stays alive (~0.4 GB each here). A sweep, a comparison or the
    app runs many models in one process, so each run releases its model when done.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def _run(model: DistrictModel, t0: float, progress, partial, partial_every_s: float) -> RunResult:
    if partial is None:
        model.run(progress)
    else:
        next_partial = [0.0]

        def watch(fraction: float) -> None:
            if progress is not None:
                progress(fraction)
            now = time.perf_counter()
            if now >= next_partial[0] and fraction < 1.0:
                partial(build_result(model, now - t0))
                next_partial[0] = time.perf_counter() + partial_every_s

        model.run(watch)
    return build_result(model, time.perf_counter() - t0)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def check_params(params: dict) -> None:
    """Validate nested parameter overrides (a sweep's ``params.*`` factors) as :func:`run_scenario` would.

    Raises pydantic's ``ValidationError`` (a ``ValueError``) naming the field.
    """
    ModelParams.model_validate(_merge(ModelParams().model_dump(mode="json"), params))


# what a sweep may check before it starts (sim never imports this package: it reads these off the builder)
run_scenario.check_params = check_params  # type: ignore[attr-defined]
run_scenario.summary_keys = SUMMARY_KEYS - {  # type: ignore[attr-defined]  # numbers only: a sweep outcome is one
    "plan", "hazard", "season", "frequency_source", "persons_by_state", "deaths_by_cause", "injuries_by_cause",
    "shelter_shortfall", "flood_gauge_peak_m"}
