"""Find the model builder by name, so the engine (``sim``) never imports the model package (DESIGN §2).

A builder is a callable ``(scenario, *, district=None, progress=None, duration_h=None) -> RunResult``.
The default is the district model; ``$FULING_SIM_BUILDER`` (``package.module:function``) points the CLI
and the sweep runner at another one.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

DEFAULT_BUILDER = "models.district.run:run_scenario"


def resolve_builder(spec: str | None = None) -> Callable:
    """Import and return the builder named ``module:function`` (default ``$FULING_SIM_BUILDER`` or the model)."""
    spec = spec or os.environ.get("FULING_SIM_BUILDER", DEFAULT_BUILDER)
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"builder {spec!r}: expected 'package.module:function'")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"builder {spec!r} cannot be loaded: {exc}") from exc
