"""Exposure of households to water, fire and debris, and the dose–response rules for casualties.

* **Flood** (checked every ``FLOOD_CHECK_S``): people at home in a cell with water above its normal level
  meet a depth ``h`` and speed ``v``. Mortality follows Jonkman et al. (2008): the share of exposed people
  who die is ``Φ((ln h − μ)/σ)`` (the "remaining zone" fit; the "breach zone" fit where ``h·v ≥ 7 m²/s`` and
  ``v ≥ 2 m/s``). It is applied incrementally — when a household's worst depth rises from ``h0`` to ``h1``,
  each member dies with ``(F(h1) − F(h0)) / (1 − F(h0))`` — so a long exposure never counts twice. Injuries
  follow the worst DEFRA FD2321 hazard class met (shares in ``CasualtyParams``), also incrementally.
  Vulnerable households (elderly, disabled) get ``vulnerable_multiplier``, homes in old housing
  ``old_housing_multiplier``. Water above ``trapped_depth_m``
  traps those still at home.
* **Fire**: people at home when their cell ignites die or are hurt with fixed probabilities; survivors flee.
* **Debris**: people at home in a landslide's run-out die or are hurt with fixed probabilities; survivors
  are trapped until a team frees them.
* **Seeing the hazard** (water, fire or smoke within ``seen_radius_cells``) makes households that have not
  left decide again, with the "hazard seen" reason.

Every casualty is drawn from the model's casualty stream (binomial per household) and logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage
from scipy.special import ndtr

from models.district.households import (
    AT_HOME,
    DEAD,
    INJURED,
    PREPARING,
    RESCUED,
    SHELTERED,
    STAYED,
    TRAPPED,
    TRAVELLING,
    WARNED,
)
from sim.hazards.flood import hazard_class, hazard_rating

if TYPE_CHECKING:  # pragma: no cover
    from models.district.model import DistrictModel

FLOOD_CHECK_S = 300.0
WET_M = 0.10  # water above normal that counts as the flood reaching a home (DEFRA lowest band starts ~0.1 m)
AT_HOME_STATES = (AT_HOME, WARNED, PREPARING, STAYED, TRAPPED)
UNDECIDED = (AT_HOME, WARNED, STAYED)


def jonkman_mortality(depth_m: np.ndarray, speed_m_s: np.ndarray, mu: float, sigma: float, breach_mu: float,
                      breach_sigma: float) -> np.ndarray:
    """Share of exposed people who die at depth ``h`` (m) and speed ``v`` (m/s), Jonkman et al. (2008)."""
    h = np.maximum(np.asarray(depth_m, dtype=np.float64), 1e-6)
    v = np.asarray(speed_m_s, dtype=np.float64)
    breach = (h * v >= 7.0) & (v >= 2.0)
    return np.where(breach, ndtr((np.log(h) - breach_mu) / breach_sigma), ndtr((np.log(h) - mu) / sigma))


def incremental(p_new: np.ndarray, p_old: np.ndarray) -> np.ndarray:
    """Conditional probability of the extra harm when a cumulative probability rises from p_old to p_new."""
    return np.clip((p_new - p_old) / np.maximum(1.0 - p_old, 1e-12), 0.0, 1.0)


class Exposure:
    """Per-step exposure checks for the model's households."""

    def __init__(self, model: DistrictModel):
        self.model = model
        self.next_flood_s = 0.0
        self.fire_checked_s = -np.inf
        self.slides_seen = 0
        self.deaths_by_cause = {"flood": 0, "fire": 0, "debris": 0}
        self.injuries_by_cause = {"flood": 0, "fire": 0, "debris": 0}
        self.mortality = np.zeros(model.households.n)  # worst cumulative flood mortality share met
        self.normally_dry: np.ndarray | None = None
        self.flood_seen = np.zeros(model.district.grid.shape, dtype=bool)

    # ------------------------------------------------------------------ casualties
    def harm(self, hh: np.ndarray, p_death: np.ndarray, p_injury: np.ndarray, cause: str, t_s: float) -> None:
        """Draw deaths and injuries among the active members of ``hh``; log each household hit."""
        m = self.model
        tab = m.households
        if hh.size == 0:
            return
        active = tab.active[hh].astype(np.int64)
        dead = m.casualty_rng.binomial(active, np.clip(p_death, 0.0, 1.0))
        injured = m.casualty_rng.binomial(active - dead, np.clip(p_injury, 0.0, 1.0))
        hit = (dead + injured) > 0
        if not hit.any():
            return
        h, dd, ii = hh[hit], dead[hit], injured[hit]
        tab.dead[h] += dd.astype(np.int16)
        tab.injured[h] += ii.astype(np.int16)
        tab.active[h] -= (dd + ii).astype(np.int16)
        self.deaths_by_cause[cause] += int(dd.sum())
        self.injuries_by_cause[cause] += int(ii.sum())
        gone = h[tab.active[h] == 0]
        # no members left with the household: its (empty) state is moot; label it by what happened
        tab.state[gone] = np.where(tab.dead[gone] > 0, DEAD, INJURED)
        for k, d_, i_ in zip(h.tolist(), dd.tolist(), ii.tolist(), strict=True):
            m.log(t_s, "casualty 伤亡", int(tab.home_node[k]), f"household {k}", cause,
                  {"dead": d_, "injured": i_, "township": m.district.townships[int(tab.township[k])].name})

    # ------------------------------------------------------------------ update
    def update(self, t_s: float) -> None:
        """Check water (every ``FLOOD_CHECK_S``), fire and debris (every step)."""
        m = self.model
        if m.hazards.component("flood") is not None and t_s >= self.next_flood_s:
            self._flood(t_s)
            self.next_flood_s = t_s + FLOOD_CHECK_S
        if m.hazards.component("fire") is not None:
            self._fire(t_s)
        if m.hazards.component("landslide") is not None:
            self._debris(t_s)

    def _seen(self, cells_mask: np.ndarray, t_s: float) -> None:
        """Households within ``seen_radius_cells`` of the cells in ``cells_mask`` see the hazard."""
        m = self.model
        tab = m.households
        r = m.params.residents.seen_radius_cells
        rows, cols = np.nonzero(cells_mask)
        if rows.size == 0:
            return
        nr, nc = cells_mask.shape
        r0, r1 = max(rows.min() - r, 0), min(rows.max() + r + 1, nr)
        c0, c1 = max(cols.min() - r, 0), min(cols.max() + r + 1, nc)
        sub = cells_mask[r0:r1, c0:c1]
        near_sub = ndimage.binary_dilation(sub, iterations=r) if r > 0 else sub
        rr, cc = np.nonzero(near_sub)
        hh = m.households_in((rr + r0) * nc + (cc + c0))
        hh = hh[~m.seen[hh] & np.isin(tab.state[hh], UNDECIDED) & (tab.active[hh] > 0)]
        if hh.size == 0:
            return
        m.seen[hh] = True
        tab.state[hh[tab.state[hh] == AT_HOME]] = WARNED
        m.schedule_decision(hh, True, "hazard seen")

    def _flood(self, t_s: float) -> None:
        m = self.model
        flood = m.hazards.component("flood")
        tab = m.households
        p = m.params.casualties
        above = flood.flood_depth_above_normal_m()
        if self.normally_dry is None:
            # land people live on: dry at the start and above the resettlement line (the reservoir's
            # 145–175 m drawdown zone floods every year and alarms nobody)
            z = np.nan_to_num(m.district.terrain.elevation_m, nan=-np.inf)
            self.normally_dry = (flood.initial_depth_m < WET_M) & (z >= m.district.spec.resettlement_elevation_m)
        wet_mask = (above > WET_M) & self.normally_dry
        new_wet = wet_mask & ~self.flood_seen
        self.flood_seen |= wet_mask
        wet = np.flatnonzero(wet_mask)
        if wet.size == 0:
            return
        hh = m.households_in(wet)
        if hh.size == 0:
            self._seen(new_wet, t_s)
            return
        tab.hazard_s[hh] = np.minimum(tab.hazard_s[hh], t_s)
        # the building is damaged by the water over it whether or not its residents are still in (T6)
        home_depth = above.ravel()[tab.home_cell[hh]].astype(np.float32)
        tab.home_flood_depth_m[hh] = np.maximum(tab.home_flood_depth_m[hh], home_depth)
        here = hh[np.isin(tab.state[hh], AT_HOME_STATES) & (tab.active[hh] > 0) & (tab.trip[hh] < 0)]
        if here.size:
            cells = tab.home_cell[here]
            depth = above.ravel()[cells]
            speed = flood.speed_at(cells)
            hr = hazard_rating(depth, speed)
            cls = hazard_class(hr).astype(np.int8)
            old_d = tab.max_depth_m[here].astype(np.float64)
            # cumulative mortality: the worst share met so far (current depth and speed), never counted twice
            f_now = jonkman_mortality(depth, speed, p.flood_mu, p.flood_sigma, p.breach_mu, p.breach_sigma)
            f_old = self.mortality[here]
            f_new = np.maximum(f_now, f_old)
            self.mortality[here] = f_new
            inj = np.asarray(p.injury_by_hazard_class)
            old_c = tab.max_hazard_class[here]
            i_new = inj[np.maximum(cls, old_c).clip(0)]
            i_old = np.where(old_c >= 0, inj[old_c.clip(0)], 0.0)
            mult = np.where(tab.vulnerable[here], p.vulnerable_multiplier, 1.0) * np.where(
                tab.old_housing[here], p.old_housing_multiplier, 1.0)
            self.harm(here, incremental(f_new, f_old) * mult, incremental(i_new, i_old) * mult, "flood", t_s)
            tab.max_depth_m[here] = np.maximum(old_d, depth).astype(np.float32)
            tab.max_hazard_class[here] = np.maximum(old_c, cls)
            deep = here[(depth > m.params.residents.trapped_depth_m) & (tab.active[here] > 0)
                        & (tab.state[here] != TRAPPED) & (tab.state[here] != DEAD)]
            if deep.size:
                tab.state[deep] = TRAPPED
                tab.trapped_s[deep] = t_s
                m.trap_cause[deep] = 1
                m.pending_depart_s[deep] = np.inf
                m.log(t_s, "trapped by water 被洪水围困", int(tab.home_node[deep[0]]), "households 居民", "trapped",
                      {"households": int(deep.size), "persons": int(tab.active[deep].sum()),
                       "townships": _township_names(m, deep)})
        self._seen(new_wet, t_s)

    def _fire(self, t_s: float) -> None:
        m = self.model
        fire = m.hazards.component("fire")
        if fire.burning_cells == 0 and self.fire_checked_s >= fire.time_s:
            return
        tab = m.households
        p = m.params.casualties
        tig = fire.fields["fire__ignition_time"].ravel()
        front = fire.front
        new = front[(tig[front] > self.fire_checked_s) & (tig[front] <= t_s)]
        self.fire_checked_s = t_s
        if new.size:
            hh = m.households_in(new)
            if hh.size:
                tab.hazard_s[hh] = np.minimum(tab.hazard_s[hh], t_s)
                tab.hit_fire[hh] = True
                here = hh[np.isin(tab.state[hh], AT_HOME_STATES) & (tab.active[hh] > 0) & (tab.trip[hh] < 0)]
                self.harm(here, np.full(here.size, p.fire_death), np.full(here.size, p.fire_injury), "fire", t_s)
                flee = here[(tab.active[here] > 0) & (tab.state[here] != DEAD)]
                if flee.size:  # the home burns: survivors leave now
                    tab.state[flee] = PREPARING
                    tab.depart_s[flee] = t_s
                    m.schedule_departure(flee, t_s)
        if new.size:  # households near newly burning cells see fire and smoke (earlier ones were told)
            mask = np.zeros(m.district.grid.shape, dtype=bool)
            mask.ravel()[new] = True
            self._seen(mask, t_s)

    def _debris(self, t_s: float) -> None:
        m = self.model
        slide = m.hazards.component("landslide")
        ev = slide.events
        if len(ev) <= self.slides_seen:
            return
        new = ev.iloc[self.slides_seen:]
        self.slides_seen = len(ev)
        tab = m.households
        p = m.params.casualties
        struck = []
        for s in new["slide_id"]:  # the strip covers a share of each run-out cell: its homes are drawn by it
            near = m.households_in(np.unique(slide.runout_cells(int(s))))
            if near.size:
                struck.append(near[m.debris_rng.random(near.size) < slide.strike_share(int(s))])
        hh = np.unique(np.concatenate(struck)) if struck else np.empty(0, np.int64)
        if hh.size == 0:
            return
        tab.hazard_s[hh] = np.minimum(tab.hazard_s[hh], t_s)  # exposed = struck (T3's and T5's count)
        tab.hit_debris[hh] = True
        here = hh[np.isin(tab.state[hh], AT_HOME_STATES) & (tab.active[hh] > 0) & (tab.trip[hh] < 0)]
        self.harm(here, np.full(here.size, p.debris_death), np.full(here.size, p.debris_injury), "debris", t_s)
        stuck = here[(tab.active[here] > 0) & (tab.state[here] != DEAD)]
        tab.state[stuck] = TRAPPED
        tab.trapped_s[stuck] = t_s
        m.trap_cause[stuck] = 2
        m.pending_depart_s[stuck] = np.inf
        if stuck.size:
            m.log(t_s, "trapped by debris 被滑坡围困", int(tab.home_node[stuck[0]]), "households 居民", "trapped",
                  {"households": int(stuck.size), "persons": int(tab.active[stuck].sum()),
                   "townships": _township_names(m, stuck)})


__all__ = ["Exposure", "jonkman_mortality", "incremental", "TRAVELLING", "SHELTERED", "RESCUED"]


def _township_names(m, hh: np.ndarray) -> str:
    """Names of the townships of households ``hh``, joined with 、 (for the event log)."""
    return "、".join(m.district.townships[int(k)].name for k in np.unique(m.households.township[hh]))
