"""Where the shipped scenarios and the on-disk build cache live."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def scenarios_dir() -> Path:
    """Return the folder of shipped scenario files (``$FULING_SIM_SCENARIOS`` overrides)."""
    return Path(os.environ.get("FULING_SIM_SCENARIOS", REPO_ROOT / "scenarios"))


def fuling_data_dir() -> Path:
    """Return the folder of the real Fuling geography shipped with the project."""
    return scenarios_dir() / "fuling"


def cache_dir() -> Path:
    """Return the build cache folder (``$FULING_SIM_CACHE``, else ``$XDG_CACHE_HOME/fuling-sim``)."""
    env = os.environ.get("FULING_SIM_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "fuling-sim"
