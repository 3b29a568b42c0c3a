"""Households as arrays: who they are (synthesised from the district's population) and where they stand.

The per-household state lives in one struct-of-arrays, :class:`HouseholdTable`, so that the homogeneous
work (timers, exposure, movement) runs as array kernels; :class:`models.district.agents.Household` agents
are thin Mesa views on one row each, so ``model.agents`` and AgentSet queries tell the truth about every
household.

People states (every person is in exactly one at every step): the household's ``state`` applies to its
``active`` members; injured and dead members are counted apart (``injured``, ``dead``) and leave the
household's movements.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from models.district.params import PopulationParams
from sim.district import District

AT_HOME, WARNED, PREPARING, TRAVELLING, SHELTERED, STAYED, TRAPPED, INJURED, DEAD, RESCUED = range(10)
STATES: tuple[str, ...] = ("at_home", "warned", "preparing", "travelling", "sheltered", "stayed", "trapped",
                           "injured", "dead", "rescued")
STATE_ZH: dict[str, str] = {"at_home": "在家", "warned": "已预警", "preparing": "准备撤离", "travelling": "转移途中",
                            "sheltered": "已安置", "stayed": "留守", "trapped": "被困", "injured": "受伤",
                            "dead": "死亡", "rescued": "已救出"}
SAFE_STATES = (SHELTERED, RESCUED)
NO_LEVEL = -1


@dataclass
class HouseholdTable:
    """One row per household (arrays of equal length ``n``); static attributes first, then dynamic state.

    Times are seconds since the scenario start (``inf`` = not yet); cells are flat indices on the grid.
    """

    home_cell: np.ndarray  # int64
    home_node: np.ndarray  # int64 road node serving home
    township: np.ndarray  # int16 township index
    urban: np.ndarray  # bool
    size: np.ndarray  # int16 persons
    elderly: np.ndarray  # int16 persons aged 65+
    children: np.ndarray  # int16 persons aged 0–14
    disabled: np.ndarray  # int16
    old_housing: np.ndarray  # bool, lives in an old residential area (PLAN_FACTS key project 6)
    car: np.ndarray  # bool
    vulnerable: np.ndarray  # bool, has an elderly or disabled member (static, kept to avoid recomputing)
    # dynamic
    state: np.ndarray  # int8 state of the active members
    active: np.ndarray  # int16 members still with the household (size − injured − dead)
    injured: np.ndarray  # int16
    dead: np.ndarray  # int16
    level: np.ndarray  # int8 highest warning level received (−1 none, 0 blue … 3 red)
    ordered: np.ndarray  # bool evacuation order received
    aided: np.ndarray  # bool visited by a grid worker
    next_warning_s: np.ndarray  # float64 time the next pending message reaches the household
    next_level: np.ndarray  # int8 level of the pending message
    next_order: np.ndarray  # bool the pending message carries an order
    warned_s: np.ndarray  # float64 first warning received
    hazard_s: np.ndarray  # float64 first time the hazard reached home
    depart_s: np.ndarray  # float64 scheduled / actual departure
    arrive_s: np.ndarray  # float64 arrival at a shelter
    trip: np.ndarray  # int64 trip id in the traffic model (−1 none)
    shelter: np.ndarray  # int32 shelter index (−1 none; −2 with relatives when every shelter was full)
    max_hazard_class: np.ndarray  # int8 worst DEFRA class met (−1 none)
    max_depth_m: np.ndarray  # float32 deepest water above normal met by the residents at home, m
    home_flood_depth_m: np.ndarray  # float32 deepest water above normal over the home, m (anyone in or not)
    hit_fire: np.ndarray  # bool
    hit_debris: np.ndarray  # bool
    trapped_s: np.ndarray  # float64 s: when the household was last trapped (inf = never)
    ordered_s: np.ndarray  # float64 s: when an evacuation order first reached the household (inf = never)

    @property
    def n(self) -> int:
        """Number of households."""
        return int(self.home_cell.size)

    def persons_by_state(self) -> np.ndarray:
        """Persons per state (int64, ``len(STATES)``); sums to the population at every step."""
        out = np.bincount(self.state, weights=self.active, minlength=len(STATES)).astype(np.int64)
        out[INJURED] += int(self.injured.sum())
        out[DEAD] += int(self.dead.sum())
        return out

    def persons_by_state_township(self, n_townships: int) -> np.ndarray:
        """Persons per (township, state), int64 (n_townships, len(STATES))."""
        k = len(STATES)
        out = np.bincount(self.township.astype(np.int64) * k + self.state, weights=self.active,
                          minlength=n_townships * k).reshape(n_townships, k).astype(np.int64)
        out[:, INJURED] += np.bincount(self.township, weights=self.injured, minlength=n_townships).astype(np.int64)
        out[:, DEAD] += np.bincount(self.township, weights=self.dead, minlength=n_townships).astype(np.int64)
        return out

    def copy(self) -> HouseholdTable:
        """Deep copy (for tests and checkpoints)."""
        return HouseholdTable(**{f.name: getattr(self, f.name).copy() for f in fields(self)})


def _split_evenly(total: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Split ``total[i]`` persons over ``parts[i]`` households as evenly as possible (sizes, flattened)."""
    base = np.repeat(total // parts, parts)
    extra = total - (total // parts) * parts
    first = np.concatenate([[0], np.cumsum(parts)[:-1]])
    rank = np.arange(base.size) - np.repeat(first, parts)
    return base + (rank < np.repeat(extra, parts))


def synthesise(district: District, params: PopulationParams, rng: np.random.Generator) -> HouseholdTable:
    """Create the district's households from its population raster.

    Each cell's residents are split evenly over its households (``district.households``); members are
    elderly, children or disabled with the shares in ``params`` (binomial draws per household); old housing
    is drawn among urban households until ``old_housing_residents`` are covered; car ownership by share.
    Home road node is ``district.cell_node`` of the home cell.
    """
    pop = district.population.ravel().astype(np.int64)
    hh = district.households.ravel().astype(np.int64)
    cells = np.flatnonzero(hh > 0)
    parts = hh[cells]
    size = _split_evenly(pop[cells], parts).astype(np.int16)
    home_cell = np.repeat(cells, parts).astype(np.int64)
    n = home_cell.size
    urban_cell = (district.population_urban.ravel() > 0)
    urban = urban_cell[home_cell]
    township = district.township_id.ravel()[home_cell].astype(np.int16)
    node = district.cell_node.ravel()[home_cell].astype(np.int64)
    if (node < 0).any():
        # homes on cells without a same-bank node (rare edge cells): the nearest node by distance
        bad = np.flatnonzero(node < 0)
        xs, ys = district.grid.xy(home_cell[bad] // district.grid.ncols, home_cell[bad] % district.grid.ncols)
        for k, x, y in zip(bad, xs, ys, strict=True):
            node[k] = district.node_of(float(x), float(y))
    s = size.astype(np.int64)
    elderly = rng.binomial(s, params.elderly_share).astype(np.int16)
    children = np.minimum(rng.binomial(s, params.child_share), s - elderly).astype(np.int16)
    disabled = rng.binomial(s, params.disabled_share).astype(np.int16)
    old_housing = np.zeros(n, dtype=bool)
    urban_idx = np.flatnonzero(urban)
    if urban_idx.size and params.old_housing_residents > 0:
        order = rng.permutation(urban_idx)
        covered = np.cumsum(s[order])
        take = int(np.searchsorted(covered, params.old_housing_residents)) + 1
        old_housing[order[:take]] = True
    car_p = np.where(urban, params.car_share_urban, params.car_share_rural)
    car = rng.random(n) < car_p
    inf = np.full(n, np.inf)
    return HouseholdTable(
        home_cell=home_cell, home_node=node, township=township, urban=urban, size=size, elderly=elderly,
        children=children, disabled=disabled, old_housing=old_housing, car=car,
        vulnerable=(elderly > 0) | (disabled > 0),
        state=np.full(n, AT_HOME, dtype=np.int8), active=size.copy(), injured=np.zeros(n, np.int16),
        dead=np.zeros(n, np.int16), level=np.full(n, NO_LEVEL, np.int8), ordered=np.zeros(n, bool),
        aided=np.zeros(n, bool), next_warning_s=inf.copy(), next_level=np.full(n, NO_LEVEL, np.int8),
        next_order=np.zeros(n, bool), warned_s=inf.copy(), hazard_s=inf.copy(), depart_s=inf.copy(),
        arrive_s=inf.copy(), trip=np.full(n, -1, np.int64), shelter=np.full(n, -1, np.int32),
        max_hazard_class=np.full(n, -1, np.int8), max_depth_m=np.zeros(n, np.float32),
        home_flood_depth_m=np.zeros(n, np.float32),
        hit_fire=np.zeros(n, bool), hit_debris=np.zeros(n, bool), trapped_s=inf.copy(), ordered_s=inf.copy())


def cell_index(home_cell: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR from cell to households: households of flat cell ``c`` are ``order[indptr[c]:indptr[c+1]]``."""
    order = np.argsort(home_cell, kind="stable").astype(np.int64)
    counts = np.bincount(home_cell, minlength=n_cells)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, order


def households_in_cells(indptr: np.ndarray, order: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Households whose home is one of ``cells`` (flat indices), sorted by household index."""
    cells = np.asarray(cells, dtype=np.int64)
    if cells.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts, stops = indptr[cells], indptr[cells + 1]
    lens = stops - starts
    if lens.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(lens.sum())
    return np.sort(order[idx])
