"""What every hazard component shares: declared fields and the road-effect contract of the shared clock.

A component owns its fields (numpy arrays on the district grid), advances them to an absolute time on the
scenario clock with :meth:`HazardComponent.advance`, and tells the network what it does to roads with
:meth:`HazardComponent.road_effect`. Randomness comes only from the ``numpy.random.Generator`` handed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

# Road effect codes a hazard writes per cell (uint8); the network takes the worst over a link's cells.
ROAD_OPEN, ROAD_SLOW, ROAD_CLOSED = 0, 1, 2
ROAD_EFFECT = {ROAD_OPEN: "open 通行", ROAD_SLOW: "slowed 限速", ROAD_CLOSED: "closed 封闭"}


@dataclass(frozen=True)
class FieldSpec:
    """Declaration of one hazard field (landlab ``_info`` style).

    Parameters
    ----------
    dtype : numpy dtype of the array.
    intent : ``"in"``, ``"out"`` or ``"inout"`` as seen by the kernel.
    at : where the values live: ``"cell"`` or ``"face"``.
    units : SI-style units string, e.g. ``"m"``, ``"m/s"``, ``"s"``, ``"1"`` for dimensionless.
    doc : one-line meaning, bilingual where users see it.
    """

    dtype: type
    intent: Literal["in", "out", "inout"]
    at: Literal["cell", "face"]
    units: str
    doc: str


@runtime_checkable
class HazardComponent(Protocol):
    """The contract the shared clock (``sim.hazards.chain``) relies on."""

    name: str
    FIELDS: dict[str, FieldSpec]
    time_s: float

    def advance(self, until_s: float) -> None:
        """Advance the fields to ``until_s`` seconds after the scenario start (no-op if already there)."""
        ...

    def road_effect(self) -> np.ndarray:
        """Per-cell uint8 effect on roads now: ``ROAD_OPEN``, ``ROAD_SLOW`` or ``ROAD_CLOSED``."""
        ...
