"""The district command post (区防汛抗旱/森林防灭火指挥部): watches the hazards, issues warnings and orders.

Rules (each one the plan's lever or a documented assumption):

* **River flood** — the Fuling gauge stage, forecast ``lead_time_min`` ahead by persistence of the last
  hour's rise, is compared with the plan's ``river_stage_triggers_m``. Warnings go to every household whose
  home connects to the big rivers below the red trigger + ``warn_freeboard_m`` (spill level, a priority
  flood from the channel); an evacuation order, from ``evacuation.order_level`` up, to households whose
  spill level lies below the forecast stage + ``order_freeboard_m``, growing as the forecast rises.
* **Rainstorm** (flash floods, landslides) — the meteorological bureau's signal (CMA Order No. 16
  thresholds) on the hazard file's rain, forecast ``lead_time_min`` ahead; warnings to households in the
  storm area near streams or on landslide-prone slopes; orders from ``order_level`` to those in the
  flash-flood zone (height above the nearest stream < ``flash_order_height_m``) or on prone slopes.
* **Monitored landslides** — a monitoring warning orders the households within ``slide_order_radius_cells``
  of the predicted run-out out at once (red).
* **Wildfire** — a fire is reported ``fire_detection_delay_min`` after ignition at the reference watch,
  sooner or later in proportion to the plan's ``fire_watch`` (:func:`fire_detection_delay_s`); from then on
  households within ``fire_order_radius_m`` of its burning cells are ordered out (red) and teams go.

Orders are restricted to ``evacuation.townships`` when the plan names any, and each township's order level
can be set apart (``evacuation.township_order_level``). The zone figures are
:class:`~models.district.params.CommandParams`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from scipy import ndimage

from models.district.households import DEAD, RESCUED, SHELTERED
from models.district.params import LEVEL_ZH, LEVELS
from models.district.warnings import rainstorm_level
from sim.hazards.rainfall import accumulated_mm, rain_factor

if TYPE_CHECKING:  # pragma: no cover
    from models.district.model import DistrictModel

FLOOD_GAUGE = "fuling_yangtze"
NEVER = np.int8(99)  # order level of households in townships the plan does not order out


def fire_detection_delay_s(checkpoints: int, patrols_per_day: float, base_delay_min: float,
                           reference_checkpoints: int) -> float:
    """Time from ignition to report, s, for a fire watch (assumption, documented in the parameter table).

    Watch intensity ``W = 0.8 C / C_ref + 0.2 P / 2`` (checkpoints ``C`` carry most detections, patrol rounds
    ``P`` per day the rest; the reference watch has W = 1); delay = base / W, capped at 24 h (smoke is seen
    and called in by the public in the end).
    """
    w = 0.8 * checkpoints / reference_checkpoints + 0.2 * patrols_per_day / 2.0
    return float(min(base_delay_min / w if w > 0 else np.inf, 1440.0) * 60.0)


class CommandPost(mesa.Agent):
    """Watches gauges, forecasts, monitors and fires; issues graded warnings and evacuation orders."""

    def __init__(self, model: DistrictModel):
        super().__init__(model)
        m = model
        n = m.households.n
        self.plan = m.scenario.plan
        self.issued_level = np.full(n, -1, dtype=np.int8)
        self.issued_order = np.zeros(n, dtype=bool)
        self.flood_level = -1
        self.rain_level = -1
        self.stage_history: list[tuple[float, float]] = []
        self.stage_rate_m_s = 0.0
        self.slides_seen = 0
        self.lead_s = self.plan.warning.lead_time_min * 60.0
        ev = self.plan.evacuation
        names = {t.name: i for i, t in enumerate(m.district.townships)}
        by_tw = np.full(len(names), LEVELS.index(ev.order_level) if not ev.townships else NEVER, dtype=np.int8)
        for t in ev.townships:
            by_tw[names[t]] = LEVELS.index(ev.order_level)
        for t, lvl in ev.township_order_level.items():
            by_tw[names[t]] = LEVELS.index(lvl)
        self.order_level_by_township = by_tw
        self.order_level_hh = by_tw[m.households.township]  # level from which each household is ordered out
        self.order_level = int(by_tw.min())
        self.first_order_s = np.full(len(names), np.inf)  # first order reaching each township, s
        fw = self.plan.fire_watch
        rp = m.params.response
        self.fire_delay_s = fire_detection_delay_s(fw.checkpoints, fw.patrols_per_day, rp.fire_detection_delay_min,
                                                   rp.fire_watch_reference_checkpoints)
        self.fires_reported: set[int] = set()
        self.first_issue_s: dict[str, float] = {}
        hz = m.scenario.hazard
        self.rains = [r for r in (hz.flood.rain if hz.flood else None, hz.landslide.rain if hz.landslide else None)
                      if r is not None]
        self.storm_area = np.zeros(n, dtype=bool)
        for rain in self.rains:
            rf = rain_factor(m.district, rain).ravel()[m.households.home_cell]
            self.storm_area |= rf >= m.params.command.storm_area_factor
        self.river_flood = hz.flood is not None and bool(hz.flood.inflows)

    # ------------------------------------------------------------------ issue
    def _issue(self, t_s: float, hh: np.ndarray, level: int, order: bool, hazard: str, from_city: bool,
               district_wide: bool = False) -> None:
        m = self.model
        tab = m.households
        alive = (tab.active[hh] > 0) & ~np.isin(tab.state[hh], (SHELTERED, RESCUED, DEAD))
        new = alive & ((self.issued_level[hh] < level) | (order & ~self.issued_order[hh]))
        hh = hh[new]
        if hh.size == 0:
            return
        self.issued_level[hh] = np.maximum(self.issued_level[hh], level)
        if order:
            self.issued_order[hh] = True
            tws = np.unique(tab.township[hh])
            self.first_order_s[tws] = np.minimum(self.first_order_s[tws], t_s)
        relay = m.warnings.issue(t_s, hh, level, order, from_city=from_city)
        kind = "evacuation order 转移令" if order else "warning 预警"
        key = f"{hazard}:{'order' if order else 'warning'}"
        self.first_issue_s.setdefault(key, t_s)
        towns = sorted({m.district.townships[i].name for i in np.unique(tab.township[hh])})
        m.log(t_s, kind, -1, "区应急局 command post", hazard,
              {"level": LEVELS[level], "level_zh": LEVEL_ZH[LEVELS[level]], "households": int(hh.size),
               "persons": int(tab.active[hh].sum()), "townships": "、".join(towns[:30]),
               **{k: round(v, 1) for k, v in relay.items()}})
        if level >= 2:
            m.responders.mobilise(t_s)
        if district_wide and level >= LEVELS.index(self.plan.mutual_aid.trigger_level):
            m.responders.request_mutual_aid(t_s)  # district-wide river or rain levels, not one local order

    # ------------------------------------------------------------------ watch
    def step(self) -> None:
        """Look at every hazard once (called every ``dispatch_interval_min``)."""
        t = self.model.time_s
        if self.river_flood:
            self._river(t)
        if self.rains:
            self._rain(t)
        self._slides(t)
        self._fire(t)

    def forecast_stage(self, t_s: float, lead_s: float | None = None) -> float | None:
        """Fuling gauge stage forecast ``lead_s`` (default ``lead_time_min``) ahead, m.

        Persistence of the rise over the last ``forecast_window_h`` (a falling river is forecast flat).
        Call once per look: each call records the current stage.
        """
        flood = self.model.hazards.component("flood")
        if flood is None or FLOOD_GAUGE not in flood.gauges:
            return None
        stage = flood.stages()[FLOOD_GAUGE]
        self.stage_history.append((t_s, stage))
        window = self.model.params.command.forecast_window_h * 3600.0
        self.stage_history = [(tt, s) for (tt, s) in self.stage_history if tt >= t_s - window]
        past = [s for (_, s) in self.stage_history]
        t_old = self.stage_history[0][0]
        self.stage_rate_m_s = max((stage - past[0]) / max(t_s - t_old, 1.0) if t_s > t_old else 0.0, 0.0)
        return stage + self.stage_rate_m_s * (self.lead_s if lead_s is None else lead_s)

    def level_lead_s(self, level: str) -> float:
        """Forecast lead of one warning level, s (``lead_time_min_by_level`` or ``lead_time_min``)."""
        w = self.plan.warning
        return 60.0 * w.lead_time_min_by_level.get(level, w.lead_time_min)

    def _river(self, t_s: float) -> None:
        fc0 = self.forecast_stage(t_s, 0.0)
        if fc0 is None:
            return
        m = self.model
        triggers = self.plan.warning.river_stage_triggers_m
        level = -1  # the highest level whose trigger the forecast at that level's own lead reaches
        for name, trig in triggers.items():
            if fc0 + self.stage_rate_m_s * self.level_lead_s(name) >= trig:
                level = max(level, LEVELS.index(name))
        if level < 0:
            return
        fc = fc0 + self.stage_rate_m_s * self.level_lead_s(LEVELS[level])
        spill = m.zones.river_spill_m
        red = max(self.plan.warning.river_stage_triggers_m.values())
        if level > self.flood_level:
            self.flood_level = level
            zone = np.flatnonzero(spill <= red + m.params.command.warn_freeboard_m)
            self._issue(t_s, zone, level, False, "flood 洪水", from_city=True, district_wide=True)
        if level >= self.order_level:
            zone = np.flatnonzero((spill <= fc + m.params.command.order_freeboard_m) & (self.order_level_hh <= level))
            self._issue(t_s, zone, level, True, "flood 洪水", from_city=True, district_wide=True)

    def _rain(self, t_s: float) -> None:
        m = self.model
        starts = t_s + np.arange(0.0, self.lead_s + 1.0, 900.0)
        level = -1
        for rain in self.rains:
            def acc(hours: float, rain=rain) -> float:
                return float(np.max(accumulated_mm(rain, starts, starts + hours * 3600.0)))
            level = max(level, rainstorm_level(acc))
        if level < 0:
            return
        z = m.zones
        cp = m.params.command
        prone = z.landslide_prone if z.landslide_prone is not None else np.zeros(m.households.n, dtype=bool)
        if level > self.rain_level:
            self.rain_level = level
            zone = np.flatnonzero(self.storm_area & ((z.stream_height_m <= cp.flash_warn_height_m) | prone))
            self._issue(t_s, zone, level, False, "rainstorm 暴雨", from_city=True, district_wide=True)
        if level >= self.order_level:
            zone = np.flatnonzero(self.storm_area & ((z.stream_height_m <= cp.flash_order_height_m) | prone)
                                  & (self.order_level_hh <= level))
            self._issue(t_s, zone, level, True, "flash flood/landslide 山洪地灾", from_city=True, district_wide=True)

    def _slides(self, t_s: float) -> None:
        m = self.model
        slide = m.hazards.component("landslide")
        if slide is None:
            return
        w = slide.warnings
        if len(w) <= self.slides_seen:
            return
        new = w.iloc[self.slides_seen:]
        self.slides_seen = len(w)
        g = m.district.grid
        mask = np.zeros(g.shape, dtype=bool)
        for sid in new["slide_id"]:
            mask.ravel()[slide.runout_cells(int(sid))] = True
        r = m.params.command.slide_order_radius_cells
        if r > 0:
            mask = ndimage.binary_dilation(mask, iterations=r)
        hh = m.households_in(np.flatnonzero(mask))
        self._issue(t_s, hh[self.order_level_hh[hh] <= 3], 3, True, "landslide 滑坡", from_city=False)

    def reported_fires(self, t_s: float) -> list:
        """Return the fires burning now that have been reported (logs each report once)."""
        fire = self.model.hazards.component("fire")
        if fire is None or fire.burning_cells == 0:
            return []
        out = [af for af in fire.active_fires() if t_s >= af.ignition_time_s + self.fire_delay_s]
        for af in out:
            if af.fire_id not in self.fires_reported:
                self.fires_reported.add(af.fire_id)
                self.model.log(t_s, "fire reported 火情报告", self.model.district.node_of(af.head_x_m, af.head_y_m),
                               "护林员/检查站 fire watch", f"fire {af.fire_id}",
                               {"burned_ha": round(af.burned_area_ha, 2),
                                "delay_min": round((t_s - af.ignition_time_s) / 60.0, 1)})
        return out

    def _fire(self, t_s: float) -> None:
        m = self.model
        fire = m.hazards.component("fire")
        if fire is None or fire.burning_cells == 0:
            return
        seen = [af.fire_id for af in self.reported_fires(t_s)]
        if not seen:
            return
        g = m.district.grid
        front = fire.front[np.isin(fire.fields["fire__id"].ravel()[fire.front], seen)]
        burning = np.zeros(g.shape, dtype=bool)
        burning.ravel()[front] = True
        radius_m = m.params.command.fire_order_radius_m
        radius = int(np.ceil(radius_m / g.cell_size_m))
        rows, cols = np.nonzero(burning)
        if rows.size == 0:
            return
        r0, r1 = max(rows.min() - radius, 0), min(rows.max() + radius + 1, g.nrows)
        c0, c1 = max(cols.min() - radius, 0), min(cols.max() + radius + 1, g.ncols)
        sub = burning[r0:r1, c0:c1]
        dist = ndimage.distance_transform_edt(~sub) * g.cell_size_m
        near = np.zeros(g.shape, dtype=bool)
        near[r0:r1, c0:c1] = dist <= radius_m
        hh = m.households_in(np.flatnonzero(near))
        self._issue(t_s, hh[self.order_level_hh[hh] <= 3], 3, True, "wildfire 森林火灾", from_city=False)
