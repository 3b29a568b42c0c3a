"""The plan's targets (PLAN_FACTS §1), read from one data file: ``scenarios/fuling/targets.yaml``.

Nothing else in the code holds a target value: indicators (:mod:`sim.metrics`) name a target id, the
scorecard looks the value up here. A target says how the indicator must compare with its value, whether
the plan states it per year (年均), and quotes the plan.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sim.paths import scenarios_dir

Comparison = Literal[">=", ">", "<=", "<"]
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


class Target(BaseModel):
    """One target of the plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comparison: Comparison = Field(description="how the indicator must relate to value")
    value: float = Field(description="target value in ``units``")
    units: str = Field(min_length=1, description="the plan's unit, e.g. % or ‰ (must equal the indicator's)")
    kind: Literal["binding", "expected", "other"] = Field(description="约束性 binding, 预期性 expected, other")
    annual: bool = Field(description="stated per year (年均): judged on annualised figures only")
    quote: str = Field(min_length=1, description="the plan's wording")

    @property
    def higher_is_better(self) -> bool:
        """Whether larger indicator values are better (≥ / > targets)."""
        return self.comparison in (">=", ">")

    def met(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return bool(_OPS[self.comparison](value, self.value))

    @property
    def label(self) -> str:
        """Return e.g. ``'≥ 95 %'``."""
        sym = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}[self.comparison]
        return f"{sym} {self.value:g} {self.units}"


class TargetFile(BaseModel):
    """The targets file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["targets"] = "targets"
    source: str = Field(min_length=1)
    targets: dict[str, Target] = Field(min_length=1)


def default_targets_path() -> Path:
    """Return the shipped targets file (the district plan's)."""
    return scenarios_dir() / "fuling" / "targets.yaml"


def load_targets(path: Path | str | None = None) -> TargetFile:
    """Read and validate a targets file (safe YAML); errors name the file, the field and the fix."""
    from sim.scenario import load_component

    return load_component(Path(path) if path is not None else default_targets_path(), kind="targets")
