"""Map frames: what the district looks like at regular times of a run, for the replay map.

A frame is a set of sparse layers on coarse grids (so a 72-hour run stays a few MB):

* hazard layers on the *hazard grid* (blocks of ``hazard_block`` fine cells, ~500 m):
  ``flood_depth_m`` (deepest water above the normal river in the block), ``fire_burning`` and
  ``fire_burned`` (share of the block's cells), ``debris_m`` (thickest landslide debris);
* residents on the *people grid* (~1 km): ``persons_home`` (at home, warned, preparing or staying),
  ``persons_moving`` (on the road, at their trip's current node), ``persons_safe`` (sheltered or rescued, at
  the shelter), ``persons_trapped`` and ``persons_harmed`` (injured and dead, at home);
* ``road``: road links slowed (1) or closed (2), indexed by directed link;
* ``team``: each team's road node (value) by team index; ``shelter``: occupancy by shelter index.

Rows are ``(time_s, layer, index, value)``; :func:`map_meta` describes the grids, shelters and teams so a
reader (the app) can draw a frame without the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models.district.households import (
    AT_HOME,
    PREPARING,
    RESCUED,
    SHELTERED,
    STAYED,
    TRAPPED,
    TRAVELLING,
    WARNED,
)

if TYPE_CHECKING:
    from models.district.model import DistrictModel

HAZARD_BLOCK_M = 500.0  # target block size of the hazard layers, m
PEOPLE_BLOCK_M = 1000.0  # target block size of the residents layers, m
FRAME_COLUMNS = ("time_s", "layer", "index", "value")


def block_of(cell_size_m: float, target_m: float) -> int:
    """Fine cells per block side for a coarse grid of about ``target_m``."""
    return max(1, int(round(target_m / cell_size_m)))


def _block_reduce(field: np.ndarray, k: int, how: str) -> np.ndarray:
    """Reduce a (nr, nc) field over k×k blocks (padding with zeros); ``how`` is 'max' or 'mean'."""
    nr, nc = field.shape
    br, bc = -(-nr // k), -(-nc // k)
    pad = np.zeros((br * k, bc * k), dtype=np.float64)
    pad[:nr, :nc] = field
    blocks = pad.reshape(br, k, bc, k)
    return blocks.max(axis=(1, 3)) if how == "max" else blocks.mean(axis=(1, 3))


def _sparse(time_s: float, layer: str, values: np.ndarray, threshold: float = 0.0) -> pd.DataFrame:
    flat = np.asarray(values, dtype=np.float64).ravel()
    idx = np.flatnonzero(flat > threshold)
    return pd.DataFrame({"time_s": np.full(idx.size, float(time_s)), "layer": layer,
                         "index": idx.astype(np.int32), "value": flat[idx].astype(np.float32)})


class FrameRecorder:
    """Collects frames from a running :class:`DistrictModel` every ``every_s`` simulated seconds."""

    def __init__(self, model: DistrictModel, every_s: float):
        self.model = model
        self.every_s = float(every_s)
        g = model.district.grid
        self.hazard_block = block_of(g.cell_size_m, HAZARD_BLOCK_M)
        self.people_block = block_of(g.cell_size_m, PEOPLE_BLOCK_M)
        self.parts: list[pd.DataFrame] = []
        self.times: list[float] = []
        self._next_s = 0.0
        self._node_cell = g.rowcol(model.district.road_csr.node_x_m, model.district.road_csr.node_y_m)

    def due(self, t_s: float) -> bool:
        """Whether a frame is due at ``t_s``."""
        return self.every_s > 0 and t_s >= self._next_s - 1e-6

    def capture(self) -> None:
        """Append the frame of the model's current time."""
        m = self.model
        t = m.time_s
        parts = [self._hazards(t), self._people(t), self._network(t)]
        self.parts.extend(p for p in parts if len(p))
        self.times.append(t)
        self._next_s = t + self.every_s

    def _hazards(self, t: float) -> pd.DataFrame:
        m, k = self.model, self.hazard_block
        out = []
        flood = m.hazards.component("flood")
        if flood is not None:
            out.append(_sparse(t, "flood_depth_m", _block_reduce(flood.flood_depth_above_normal_m(), k, "max"),
                               0.05))
        fire = m.hazards.component("fire")
        if fire is not None:
            state = fire.fields["fire__state"]
            out.append(_sparse(t, "fire_burning", _block_reduce(state == 2, k, "mean")))
            out.append(_sparse(t, "fire_burned", _block_reduce((state == 3) | (state == 4), k, "mean")))
        slide = m.hazards.component("landslide")
        if slide is not None:
            out.append(_sparse(t, "debris_m", _block_reduce(slide.fields["debris__depth"], k, "max")))
        return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=FRAME_COLUMNS)

    def _people(self, t: float) -> pd.DataFrame:
        m, k = self.model, self.people_block
        tab = m.households
        g = m.district.grid
        nr, nc = g.shape
        home_r, home_c = np.divmod(tab.home_cell, nc)
        br, bc = -(-nr // k), -(-nc // k)
        home_block = (home_r // k) * bc + home_c // k
        node_r, node_c = self._node_cell
        node_block = (np.clip(node_r, 0, nr - 1) // k) * bc + np.clip(node_c, 0, nc - 1) // k
        active = tab.active.astype(np.float64)
        st = tab.state

        def count(where: np.ndarray, blocks: np.ndarray, weights: np.ndarray) -> np.ndarray:
            return np.bincount(blocks[where], weights=weights[where], minlength=br * bc)

        out = [
            _sparse(t, "persons_home", count(np.isin(st, (AT_HOME, WARNED, PREPARING, STAYED)), home_block, active)),
            _sparse(t, "persons_trapped", count(st == TRAPPED, home_block, active)),
            _sparse(t, "persons_harmed", count(np.ones(tab.n, bool), home_block,
                                              (tab.injured + tab.dead).astype(np.float64))),
        ]
        moving = np.flatnonzero(st == TRAVELLING)
        if moving.size:
            nodes = m.current_node(moving)
            out.append(_sparse(t, "persons_moving", np.bincount(node_block[nodes], weights=active[moving],
                                                                minlength=br * bc)))
        safe = np.flatnonzero(np.isin(st, (SHELTERED, RESCUED)))
        if safe.size:
            sh = tab.shelter[safe]
            shelter_nodes = np.array([s.node for s in m.shelters], dtype=np.int64)
            blocks = np.where(sh >= 0, node_block[shelter_nodes[np.clip(sh, 0, None)]], home_block[safe])
            out.append(_sparse(t, "persons_safe", np.bincount(blocks, weights=active[safe], minlength=br * bc)))
        return pd.concat(out, ignore_index=True)

    def _network(self, t: float) -> pd.DataFrame:
        m = self.model
        ls = m.hazards.link_state.astype(np.float64)
        ls = np.maximum(ls, np.where(m.closed_by_order, 2.0, 0.0))
        teams = np.array([tm.node for tm in m.responders.teams], dtype=np.float64)
        occ = np.array([s.occupancy for s in m.shelters], dtype=np.float64)
        parts = [_sparse(t, "road", ls)]
        for layer, vals in (("team", teams), ("shelter", occ)):
            parts.append(pd.DataFrame({"time_s": np.full(vals.size, float(t)), "layer": layer,
                                       "index": np.arange(vals.size, dtype=np.int32),
                                       "value": vals.astype(np.float32)}))
        return pd.concat(parts, ignore_index=True)

    def table(self) -> pd.DataFrame:
        """All frames so far as one long table (``FRAME_COLUMNS``)."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                 zip(FRAME_COLUMNS, ("float64", "object", "int32", "float32"), strict=True)})
        return pd.concat(self.parts, ignore_index=True)


def map_meta(model: DistrictModel, rec: FrameRecorder) -> dict:
    """Grids, shelters and teams a reader needs to draw the frames (JSON-ready)."""
    g = model.district.grid
    return {
        "crs": "EPSG:32648",
        "grid": {"x0_m": g.x0_m, "y0_m": g.y0_m, "cell_size_m": g.cell_size_m, "nrows": g.nrows, "ncols": g.ncols},
        "hazard_block": rec.hazard_block, "people_block": rec.people_block,
        "frame_every_s": rec.every_s, "frame_times_s": list(rec.times),
        "shelters": [{"name": a.spec.name, "kind": a.spec.kind, "township": a.spec.township, "x_m": a.spec.x_m,
                      "y_m": a.spec.y_m, "capacity": int(a.capacity), "node": int(a.node)} for a in model.shelters],
        "teams": [{"name": a.spec.name, "speciality": a.spec.speciality, "size": int(a.spec.size_persons),
                   "mutual_aid": a.mutual_aid} for a in model.responders.teams],
    }
