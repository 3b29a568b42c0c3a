"""The six-level warning chain 市→区→乡镇→村→户→人 and its channels to households.

A message (a warning level, possibly with an evacuation order) is issued by the district command post to a
set of households. It is relayed district → township → village with log-normal delays, and reaches each
household by the first of the plan's channels that reaches it: cell-broadcast SMS, emergency broadcast and
TV/internet go out from the district directly; village loudspeakers from the village; grid workers walk door
to door from the village, vulnerable households first, at a limited number of visits per hour per worker
(an order's round pre-empts warning rounds still under way). Approximations: the village relay delay is
drawn per household (villages are not modelled below the township), and channel delays share the relay's
log-normal spread.
Each issue becomes one batch of (household, time, level, order) sorted by time; :meth:`WarningChain.due`
hands out what has arrived by a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.district.params import LEVELS, WarningParams

DIRECT_CHANNELS = ("cell_broadcast_sms", "emergency_broadcast", "tv_internet")
VILLAGE_CHANNELS = ("loudspeaker",)

# Rainstorm warning signals (暴雨预警信号), China Meteorological Administration Order No. 16 (2007):
# blue 50 mm in 12 h, yellow 50 mm in 6 h, orange 50 mm in 3 h, red 100 mm in 3 h.
RAINSTORM_THRESHOLDS_MM = ((12.0, 50.0), (6.0, 50.0), (3.0, 50.0), (3.0, 100.0))


def level_index(level: str) -> int:
    """0 blue, 1 yellow, 2 orange, 3 red."""
    return LEVELS.index(level)


def stage_level(stage_m: float, triggers_m: dict[str, float]) -> int:
    """Highest level whose river-stage trigger is reached (−1 if none)."""
    out = -1
    for lvl, trig in triggers_m.items():
        if stage_m >= trig:
            out = max(out, level_index(lvl))
    return out


def rainstorm_level(accumulated_mm) -> int:
    """Rainstorm signal level from a function ``accumulated_mm(window_h)`` of the forecast rain (−1 none)."""
    out = -1
    for k, (hours, mm) in enumerate(RAINSTORM_THRESHOLDS_MM):
        if accumulated_mm(hours) >= mm:
            out = k
    return out


@dataclass
class _Batch:
    hh: np.ndarray  # int64 households, sorted by time
    time_s: np.ndarray  # float64 arrival times (finite)
    level: int
    order: bool
    ptr: int = 0


class WarningChain:
    """Deliver warnings through the chain and channels of the plan.

    Parameters
    ----------
    params : the chain's delays, reaches and grid-worker capacity.
    channels : the plan's channels (``Plan.warning.channels``).
    township : (n_households,) int township of each household.
    urban, vulnerable, elderly_only : (n_households,) bool.
    households_per_township : (n_townships,) int, for grid-worker numbers.
    rng : the run's generator (a child stream).
    """

    def __init__(self, params: WarningParams, channels: list[str], township: np.ndarray, urban: np.ndarray,
                 vulnerable: np.ndarray, elderly_only: np.ndarray, households_per_township: np.ndarray,
                 rng: np.random.Generator):
        self.params = params
        self.channels = tuple(channels)
        self.township = township
        self.urban = urban
        self.vulnerable = vulnerable
        self.elderly_only = elderly_only
        self.workers = np.maximum(1.0, households_per_township / params.households_per_grid_worker)
        self.rng = rng
        self.batches: list[_Batch] = []
        self.next_due_s = np.inf
        # grid workers are busy until these times in each township: orders queue behind earlier orders only
        # (they pre-empt warning rounds); warnings queue behind every earlier round
        self.worker_free_s = np.zeros(households_per_township.size)
        self.worker_free_order_s = np.zeros(households_per_township.size)

    def _lognormal(self, median_min: float, size: int) -> np.ndarray:
        if median_min <= 0:
            return np.zeros(size)
        return 60.0 * median_min * np.exp(self.params.relay_sigma * self.rng.standard_normal(size))

    def issue(self, t_s: float, households: np.ndarray, level: int, order: bool,
              from_city: bool = False) -> dict[str, float]:
        """Issue a message to ``households`` (int indices) at ``t_s``; return relay times for the event log.

        ``from_city``: the message starts at the city level (e.g. hydrological or meteorological forecasts)
        and is relayed to the district first.
        """
        hh = np.asarray(households, dtype=np.int64)
        p = self.params
        d = p.relay_delay_min
        t_district = t_s + (float(self._lognormal(d["city_to_district"], 1)[0]) if from_city else 0.0)
        n = hh.size
        out = {"district_s": t_district}
        if n == 0:
            return out
        tw = self.township[hh]
        n_tw = self.workers.size
        t_town = t_district + self._lognormal(d["district_to_township"], n_tw)
        t_village = t_town[tw] + self._lognormal(d["township_to_village"], n)
        out["township_median_s"] = float(np.median(t_town))
        best = np.full(n, np.inf)
        urban = self.urban[hh]
        for ch in self.channels:
            if ch == "grid_worker":
                continue
            reach = np.where(urban, p.reach_urban[ch], p.reach_rural[ch])
            if ch == "cell_broadcast_sms":
                reach = np.where(self.elderly_only[hh], reach * p.elderly_sms_factor, reach)
            hit = self.rng.random(n) < reach
            start = t_district if ch in DIRECT_CHANNELS else t_village
            t = start + self._lognormal(p.channel_delay_min[ch], n)
            best = np.where(hit, np.minimum(best, t), best)
        visited = np.zeros(n, dtype=bool)
        if "grid_worker" in self.channels:
            # door to door from the village, vulnerable first, then in random order, per township
            key = np.lexsort((self.rng.random(n), ~self.vulnerable[hh], tw))
            tw_sorted = tw[key]
            first = np.searchsorted(tw_sorted, np.arange(n_tw))
            rank = np.arange(n) - first[tw_sorted]
            rate_per_s = self.workers * p.visits_per_hour / 3600.0
            busy = self.worker_free_order_s if order else np.maximum(self.worker_free_s, self.worker_free_order_s)
            start = np.maximum(t_village[key], busy[tw_sorted])
            t_visit = start + (rank + 1) / rate_per_s[tw_sorted]
            visit = np.empty(n)
            visit[key] = t_visit
            best = np.minimum(best, visit)
            visited = visit <= best
            ends = np.zeros(n_tw)
            np.maximum.at(ends, tw_sorted, t_visit)
            if order:
                self.worker_free_order_s = np.maximum(self.worker_free_order_s, ends)
            else:
                self.worker_free_s = np.maximum(self.worker_free_s, ends)
        ok = np.isfinite(best)
        order_idx = np.argsort(best[ok], kind="stable")
        batch = _Batch(hh=hh[ok][order_idx], time_s=best[ok][order_idx], level=int(level), order=bool(order))
        batch.visited = visited[ok][order_idx]  # type: ignore[attr-defined]
        self.batches.append(batch)
        if batch.time_s.size:
            self.next_due_s = min(self.next_due_s, float(batch.time_s[0]))
        out["reached_share"] = float(ok.mean())
        out["last_s"] = float(best[ok].max()) if ok.any() else float("nan")
        return out

    def due(self, t_s: float) -> list[tuple[np.ndarray, int, bool, np.ndarray]]:
        """Messages that reached households by ``t_s``: list of (households, level, order, visited-by-worker)."""
        if t_s < self.next_due_s:
            return []
        out = []
        nxt = np.inf
        for b in self.batches:
            stop = int(np.searchsorted(b.time_s, t_s, side="right"))
            if stop > b.ptr:
                out.append((b.hh[b.ptr:stop], b.level, b.order, b.visited[b.ptr:stop]))
                b.ptr = stop
            if b.ptr < b.time_s.size:
                nxt = min(nxt, float(b.time_s[b.ptr]))
        self.batches = [b for b in self.batches if b.ptr < b.time_s.size]
        self.next_due_s = nxt
        return out

    @property
    def pending(self) -> int:
        """Messages issued but not yet delivered."""
        return int(sum(b.time_s.size - b.ptr for b in self.batches))
