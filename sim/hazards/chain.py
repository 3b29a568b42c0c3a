"""One clock for every active hazard, and what they do to the road network.

``HazardChain.advance(t)`` moves flood, fire and landslide components to the same time, then takes the
worst road effect of all hazards over each road link's cells: a link closes (or slows) when water, fire or
debris reaches it and reopens when that clears. Every change is written to the closure log with its time,
link and cause. Bridges ignore the big-river channel cells they span.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.district import District
from sim.hazards.base import ROAD_CLOSED, ROAD_EFFECT, ROAD_OPEN, ROAD_SLOW, HazardComponent
from sim.kernels.network import link_effect
from sim.scenario import HazardSpec, Plan

SLOW_SPEED_FACTOR = 0.3  # share of free speed on a slowed link (shallow water, smoke, partial debris)


@dataclass(frozen=True)
class LinkCells:
    """Grid cells each directed road link crosses, as CSR (``cells[indptr[e]:indptr[e+1]]``, flat indices)."""

    indptr: np.ndarray
    cells: np.ndarray


def link_cells(district: District, step_frac: float = 0.5) -> LinkCells:
    """Rasterise every directed link of ``district.road_csr`` (straight segments, sampled every half cell)."""
    csr, g = district.road_csr, district.grid
    n_edges = csr.head.size
    tail = np.repeat(np.arange(csr.indptr.size - 1), np.diff(csr.indptr))
    x0, y0 = csr.node_x_m[tail], csr.node_y_m[tail]
    x1, y1 = csr.node_x_m[csr.head], csr.node_y_m[csr.head]
    n_samples = np.maximum(2, np.ceil(np.hypot(x1 - x0, y1 - y0) / (g.cell_size_m * step_frac)).astype(int) + 1)
    edge = np.repeat(np.arange(n_edges), n_samples)
    start = np.concatenate([[0], np.cumsum(n_samples)[:-1]])
    f = (np.arange(edge.size) - start[edge]) / (n_samples[edge] - 1)
    r, c = g.rowcol(x0[edge] + f * (x1 - x0)[edge], y0[edge] + f * (y1 - y0)[edge])
    ok = g.inside(r, c)
    flat = np.where(ok, r * g.ncols + c, -1)
    big_river = (district.terrain.river_id == 1) | (district.terrain.river_id == 2)
    keep = ok.copy()
    keep[ok] &= ~(csr.bridge[edge[ok]] & big_river.ravel()[flat[ok]])
    pairs = np.unique(np.column_stack([edge[keep], flat[keep]]), axis=0)
    counts = np.bincount(pairs[:, 0], minlength=n_edges)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return LinkCells(indptr=indptr, cells=pairs[:, 1].astype(np.int64))


class HazardChain:
    """Advance the scenario's hazards together and keep the road links' state.

    Parameters
    ----------
    district : the district.
    hazard : the hazard scenario (flood, fire and/or landslide sections).
    plan : the response plan (embankments, firebreaks).
    rng : the run's generator; each hazard gets its own child stream (``Generator.spawn``).
    duration_s : length of the run, s (landslide schedules are drawn for it).
    link_update_s : recompute the links' state at most this often, s (0 = at every :meth:`advance`); the
        agent model uses a few minutes, which costs a fifth of the per-minute updates and loses nothing a
        road user would notice.
    """

    def __init__(self, district: District, hazard: HazardSpec, plan: Plan, rng: np.random.Generator,
                 duration_s: float, components: list[HazardComponent] | None = None, link_update_s: float = 0.0):
        self.district = district
        self.time_s = 0.0
        self.link_update_s = float(link_update_s)
        self._links_at_s = -np.inf
        if components is None:
            components = build_components(district, hazard, plan, rng, duration_s)
        self.components = components
        self.links = link_cells(district)
        n = district.road_csr.head.size
        self.link_state = np.zeros(n, dtype=np.uint8)
        self.link_cause = np.full(n, "", dtype=object)
        self._log: list[tuple[float, int, int, int, str, str]] = []
        csr = district.road_csr
        self._tail = np.repeat(np.arange(csr.indptr.size - 1), np.diff(csr.indptr))
        self._update_links()

    def advance(self, until_s: float) -> None:
        """Advance every hazard to ``until_s`` and update the links."""
        for comp in self.components:
            comp.advance(until_s)
        self.time_s = max(self.time_s, until_s)
        if self.time_s - self._links_at_s >= self.link_update_s - 1e-9:
            self._update_links()

    def _update_links(self) -> None:
        self._links_at_s = self.time_s
        n = self.link_state.size
        state = np.zeros(n, dtype=np.uint8)
        cause = np.full(n, "", dtype=object)
        for comp in self.components:
            eff = link_effect(self.links.indptr, self.links.cells, comp.road_effect().ravel())
            worse = eff > state
            state[worse] = eff[worse]
            cause[worse] = comp.name
        changed = np.nonzero(state != self.link_state)[0]
        for e in changed:
            c = cause[e] if state[e] != ROAD_OPEN else self.link_cause[e]
            self._log.append((self.time_s, int(e), int(self._tail[e]), int(self.district.road_csr.head[e]),
                              ROAD_EFFECT[int(state[e])], str(c)))
        self.link_state = state
        self.link_cause = cause

    def speed_factor(self) -> np.ndarray:
        """Share of free-flow speed per directed link now: 1 open, ``SLOW_SPEED_FACTOR`` slowed, 0 closed."""
        f = np.ones(self.link_state.size)
        f[self.link_state == ROAD_SLOW] = SLOW_SPEED_FACTOR
        f[self.link_state == ROAD_CLOSED] = 0.0
        return f

    def closure_log(self) -> pd.DataFrame:
        """Every link state change: time_s, link, from_node, to_node, state, cause."""
        return pd.DataFrame(self._log, columns=["time_s", "link", "from_node", "to_node", "state", "cause"])

    def component(self, name: str) -> HazardComponent | None:
        """Return the component called ``name`` ("flood", "fire", "landslide"), if active."""
        return next((c for c in self.components if c.name == name), None)


def build_components(district: District, hazard: HazardSpec, plan: Plan, rng: np.random.Generator,
                     duration_s: float) -> list[HazardComponent]:
    """Create the components the hazard file asks for, each with its own child random stream."""
    flood_rng, fire_rng, slide_rng = rng.spawn(3)
    del flood_rng  # the flood is deterministic; the stream is reserved so adding randomness keeps the others
    out: list[HazardComponent] = []
    if hazard.flood is not None:
        from sim.hazards.flood import FloodField

        out.append(FloodField(district, hazard.flood, plan.embankments))
    if hazard.fire is not None:
        from sim.hazards.fire import FireField

        out.append(FireField(district, hazard.fire, fire_rng, firebreaks=plan.firebreaks,
                             start_time=hazard.start_time))
    if hazard.landslide is not None:
        from sim.hazards.landslide import LandslideField

        mon = plan.monitoring
        out.append(LandslideField(district, hazard.landslide, slide_rng, duration_s=duration_s,
                                  n_monitors=mon.landslide_points, lead_time_s=mon.landslide_lead_time_min * 60.0))
    return out
