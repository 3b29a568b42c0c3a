"""``DistrictModel``: residents, warnings, evacuation traffic, shelters, teams and depots on the hazard engines.

One step is ``run.step_s`` of simulated time, in the order of DESIGN §1: forcing and hazards (the hazard
chain advances flood, fire and landslides to the step's end), network (link closures reach the traffic
model and the responders' travel times), warnings (the command post watches and issues; the chain
delivers; households decide), residents (departures, queue traffic, arrivals at shelters, exposure and
casualties), responders (dispatch and work; supplies), record.

Randomness: the run's seed makes ``self.rng`` (Mesa ``Model(rng=seed)``); every part draws from its own
child stream (``Generator.spawn``), so adding draws in one part leaves the others unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import mesa
import numpy as np

from models.district import exposure
from models.district.agents import DepotAgent, Household, RescueTeam, ShelterAgent
from models.district.command import CommandPost
from models.district.frames import FrameRecorder
from models.district.households import (
    AT_HOME,
    DEAD,
    PREPARING,
    RESCUED,
    SHELTERED,
    STATES,
    STAYED,
    TRAVELLING,
    WARNED,
    cell_index,
    households_in_cells,
    synthesise,
)
from models.district.levers import apply_plan, plan_params, renovate_old_housing
from models.district.params import ModelParams
from models.district.responders import Responders
from models.district.roadtimes import RoadTimes
from models.district.supply import Logistics
from models.district.warnings import WarningChain
from models.district.zones import compute_zones
from sim.district import District, load_district
from sim.hazards.chain import HazardChain
from sim.projects import effective_plan
from sim.scenario import Scenario
from sim.traffic import Traffic

EVENT_COLUMNS = ("time_s", "type", "node", "actor", "target", "details")
LINK_UPDATE_S = 300.0  # road links follow the hazards every 5 simulated minutes


def embankment_line_cells(model: DistrictModel) -> list[np.ndarray]:
    """Flat cells of each of the plan's embankments (cached on the model)."""
    if model._embankment_cells is None:
        from sim.hazards.flood import embankment_cells

        model._embankment_cells = [np.flatnonzero(embankment_cells(model.district, [e])[1])
                                   for e in model.scenario.plan.embankments]
    return model._embankment_cells


class DistrictModel(mesa.Model):
    """The integrated district model for one scenario (district × hazard × plan × seed).

    Parameters
    ----------
    scenario : a validated :class:`~sim.scenario.Scenario`.
    district : the built district (default: built or loaded from the cache for ``scenario.district``).
    params : behavioural parameters (default :class:`ModelParams()`).
    hazards : an already built hazard chain (tests); default built from the scenario with the run's rng.
    duration_h : override ``scenario.run.duration_h``.
    """

    def __init__(self, scenario: Scenario, district: District | None = None, params: ModelParams | None = None,
                 hazards: HazardChain | None = None, duration_h: float | None = None):
        super().__init__(rng=scenario.run.seed)
        t0 = time.perf_counter()
        self.input_scenario = scenario  # as given (provenance); the model runs the plan with its projects applied
        if scenario.plan.projects:
            scenario = scenario.model_copy(update={"plan": effective_plan(scenario.plan)})
        self.scenario = scenario
        self.params = plan_params(params or ModelParams(), scenario.plan)
        self.district = district if district is not None else load_district(scenario.district)
        self.dt_s = float(scenario.run.step_s)
        self.duration_s = float(duration_h if duration_h is not None else scenario.run.duration_h) * 3600.0
        self.time_s = 0.0
        (hazard_rng, pop_rng, warn_rng, self.decide_rng, self.casualty_rng, self.debris_rng) = self.rng.spawn(6)
        self.events: list[tuple] = []
        self.timing = {"hazards": 0.0, "network": 0.0, "warnings": 0.0, "residents": 0.0, "traffic": 0.0,
                       "exposure": 0.0, "responders": 0.0, "record": 0.0}
        d = self.district
        # hazards
        self.hazards = hazards if hazards is not None else HazardChain(
            d, scenario.hazard, scenario.plan, hazard_rng, self.duration_s, link_update_s=LINK_UPDATE_S)
        self._closures_seen = 0
        # households
        self.households = synthesise(d, self.params.population, pop_rng)
        tab = self.households
        renovate_old_housing(tab, scenario.plan.housing.old_housing_renovated_share)
        for i in range(tab.n):
            Household(self, i)
        self._cell_ptr, self._cell_order = cell_index(tab.home_cell, d.grid.nrows * d.grid.ncols)
        self.zones = compute_zones(d, tab.home_cell, self.hazards.component("landslide"))
        self.pending_depart_s = np.full(tab.n, np.inf)
        self._pending = np.zeros(0, dtype=np.int64)
        self._pending_dirty = False  # set whenever pending_depart_s gains entries outside _depart
        self._next_depart_s = np.inf
        self.seen = np.zeros(tab.n, dtype=bool)
        self._decisions: list[tuple[np.ndarray, bool, str]] = []
        self.trap_cause = np.zeros(tab.n, dtype=np.uint8)  # 0 none, 1 water, 2 debris
        self.exposure = exposure.Exposure(self)
        # network, shelters, depots, teams
        self.roads = RoadTimes(d.road_csr)
        self.closed_by_order = np.zeros(d.road_csr.head.size, dtype=bool)
        centres = {t.name: (t.x_m, t.y_m) for t in d.townships}
        self.facilities = apply_plan(d.shelters, d.depots, d.teams, scenario.plan, scenario.hazard.start_time,
                                     centres)
        fac = self.facilities
        self.shelters = [ShelterAgent(self, s, d.node_of(s.x_m, s.y_m)) for s in fac.shelters]
        names = {t.name: i for i, t in enumerate(d.townships)}
        self._township_shelter = np.full(len(d.townships), -1, dtype=np.int64)
        for k, sh in enumerate(fac.shelters):
            i = names.get(sh.township, -1)
            if i >= 0 and self._township_shelter[i] < 0 and sh.kind == "short_term":
                self._township_shelter[i] = k
        self._shelters_at: dict[int, list[int]] = {}
        for k, sh in enumerate(self.shelters):
            self._shelters_at.setdefault(sh.node, []).append(k)
        self.traffic = Traffic(d.road_csr, np.array([s.node for s in self.shelters], dtype=np.int64), self.dt_s)
        self.depots = [DepotAgent(self, dp, d.node_of(dp.x_m, dp.y_m), 1.0) for dp in fac.depots]
        self.supply = Logistics(self, self.depots, self.shelters)
        teams = [RescueTeam(self, t, d.node_of(t.x_m, t.y_m), on_standby=bool(fac.standby[i]))
                 for i, t in enumerate(fac.teams)]
        self.responders = Responders(self, teams)
        self.fireline_cells = 0
        self._embankment_cells: list[np.ndarray] | None = None
        # warnings and command
        tw_counts = np.bincount(tab.township, minlength=len(d.townships))
        elderly_only = (tab.elderly == tab.size)
        self.warnings = WarningChain(self.params.warnings, list(scenario.plan.warning.channels), tab.township,
                                     tab.urban, tab.vulnerable, elderly_only, tw_counts, warn_rng)
        self.command = CommandPost(self)
        self._next_command_s = 0.0
        # record
        self.records: list[dict] = []
        self.township_records: list[np.ndarray] = []
        self.record_times: list[float] = []
        self.population = int(tab.size.sum())
        self.timing["init"] = time.perf_counter() - t0
        self.hazards.advance(0.0)
        self._network(force=True)
        self._record()
        self.frames = FrameRecorder(self, self.params.map_frame_every_min * 60.0)
        if self.frames.due(0.0):
            self.frames.capture()

    # ------------------------------------------------------------------ helpers
    def log(self, t_s: float, kind: str, node: int, actor: str, target: str, details: dict) -> None:
        """Append one event (time, type, place node, actor, target, details as JSON)."""
        self.events.append((float(t_s), kind, int(node), actor, target,
                            json.dumps(details, ensure_ascii=False, default=float)))

    def households_in(self, cells: np.ndarray) -> np.ndarray:
        """Households whose home lies in flat ``cells``."""
        return households_in_cells(self._cell_ptr, self._cell_order, cells)

    def current_node(self, hh: np.ndarray) -> np.ndarray:
        """Road node where each household is now (its trip's node while travelling, else home)."""
        tab = self.households
        node = tab.home_node[hh].copy()
        moving = tab.trip[hh] >= 0
        if moving.any():
            node[moving] = self.traffic.trip_node[tab.trip[hh][moving]]
        return node

    def place_in_shelter(self, hh: np.ndarray, node: int) -> None:
        """Put rescued households in the nearest shelter with room (by travel time from ``node``)."""
        tab = self.households
        order = sorted(range(len(self.shelters)),
                       key=lambda i: (self.roads.to(self.shelters[i].node)[int(node)], i))
        for h in hh:
            persons = int(tab.active[h])
            for i in order:
                if self.shelters[i].admit(persons, count_refusal=False):
                    tab.shelter[h] = i
                    break
            else:
                tab.shelter[h] = -2
            tab.arrive_s[h] = self.time_s

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one step of ``dt_s`` (DESIGN §1 order)."""
        t_prev = self.time_s
        t = t_prev + self.dt_s
        self.time_s = t
        clock = time.perf_counter
        c0 = clock()
        self.hazards.advance(t)  # 1–2 forcing and hazards
        c1 = clock()
        self._network()  # 3
        c2 = clock()
        self._decide_scheduled(t)  # households warned or alarmed last step decide now
        if t >= self._next_command_s:  # 4 warnings: command post
            self.command.step()
            self._next_command_s = t + self.params.response.dispatch_interval_min * 60.0
            dispatch = True
        else:
            dispatch = False
        self._deliver_warnings(t)
        c3 = clock()
        self._depart(t)  # 5 residents
        c4 = clock()
        rep = self.traffic.step(t_prev)
        self._arrivals(rep)
        c5 = clock()
        self.exposure.update(t)
        c6 = clock()
        if dispatch:  # 6 responders
            self.responders.dispatch(t)
        for team in self.responders.busy():
            team.step()
        self.supply.step(t, self.dt_s)
        c7 = clock()
        if int(round(t / self.dt_s)) % self.params.record_every_steps == 0:  # 7 record
            self._record()
        if self.frames.due(t):
            self.frames.capture()
        c8 = clock()
        tm = self.timing
        tm["hazards"] += c1 - c0
        tm["network"] += c2 - c1
        tm["warnings"] += c3 - c2
        tm["residents"] += c4 - c3
        tm["traffic"] += c5 - c4
        tm["exposure"] += c6 - c5
        tm["responders"] += c7 - c6
        tm["record"] += c8 - c7

    def close_roads(self, links: np.ndarray, reason: str = "traffic control 交通管制") -> None:
        """Close directed road links by order (traffic control, a test's broken network) until the run ends."""
        links = np.asarray(links, dtype=np.int64)
        self.closed_by_order[links] = True
        self.log(self.time_s, "road closed by order 封闭道路", -1, "区交通局 transport bureau", reason,
                 {"links": int(links.size)})
        self._network(force=True)

    def _network(self, force: bool = False) -> None:
        log = self.hazards._log
        if len(log) == self._closures_seen and not force:
            return
        self._closures_seen = len(log)
        f = self.hazards.speed_factor()
        f[self.closed_by_order] = 0.0
        self.traffic.set_speed_factor(f)
        self.roads.update(f)

    def _deliver_warnings(self, t: float) -> None:
        tab = self.households
        for hh, level, order, visited in self.warnings.due(t):
            live = (tab.active[hh] > 0) & ~np.isin(tab.state[hh], (SHELTERED, RESCUED, DEAD))
            hh, visited = hh[live], visited[live]
            if hh.size == 0:
                continue
            stimulus = (level > tab.level[hh]) | (order & ~tab.ordered[hh])
            tab.level[hh] = np.maximum(tab.level[hh], level)
            if order:
                tab.ordered[hh] = True
                tab.ordered_s[hh] = np.minimum(tab.ordered_s[hh], t)
            tab.aided[hh] |= visited & tab.vulnerable[hh]
            tab.warned_s[hh] = np.minimum(tab.warned_s[hh], t)
            home = tab.state[hh] == AT_HOME
            tab.state[hh[home]] = WARNED
            who = hh[stimulus & np.isin(tab.state[hh], (WARNED, STAYED))]
            self.schedule_decision(who, False, "order" if order else "warning")

    def schedule_decision(self, hh: np.ndarray, seen: bool, why: str) -> None:
        """Let households that got a new message or saw the hazard decide at the start of the next step.

        They are ``warned`` until then.
        """
        if hh.size:
            self._decisions.append((hh, seen, why))

    def _decide_scheduled(self, t: float) -> None:
        pending, self._decisions = self._decisions, []
        tab = self.households
        for hh, seen, why in pending:
            hh = hh[np.isin(tab.state[hh], (WARNED, STAYED)) & (tab.active[hh] > 0)]
            self.decide(hh, np.full(hh.size, seen), t, why)

    def decide(self, hh: np.ndarray, seen: np.ndarray, t: float, why: str) -> None:
        """Run :meth:`Household.decide` and log the decision wave."""
        if hh.size == 0:
            return
        leavers, stayers = Household.decide(self, hh, seen, t)
        self.schedule_departure(leavers, self.households.depart_s[leavers])
        tab = self.households
        self.log(t, "decision wave 决策", -1, "households 居民", why,
                 {"leave": int(leavers.size), "stay": int(stayers.size),
                  "persons_leave": int(tab.active[leavers].sum()), "persons_stay": int(tab.active[stayers].sum())})

    def schedule_departure(self, hh: np.ndarray, t_s: np.ndarray | float) -> None:
        """Households ``hh`` (preparing) leave at ``t_s``."""
        if hh.size == 0:
            return
        self.pending_depart_s[hh] = t_s
        self._pending_dirty = True
        self._next_depart_s = min(self._next_depart_s, float(np.min(self.pending_depart_s[hh])))

    def _depart(self, t: float) -> None:
        if t < self._next_depart_s:
            return
        tab = self.households
        # households with a departure scheduled (finite ``pending_depart_s``); a small set, not all households
        pend = np.flatnonzero(np.isfinite(self.pending_depart_s)) if self._pending_dirty else self._pending
        due_mask = self.pending_depart_s[pend] <= t
        due, self._pending = pend[due_mask], pend[~due_mask]
        self._pending_dirty = False
        self.pending_depart_s[due] = np.inf
        go = due[(tab.state[due] == PREPARING) & (tab.active[due] > 0)]
        rest = self.pending_depart_s[self._pending]
        self._next_depart_s = float(rest.min()) if rest.size else np.inf
        if go.size == 0:
            return
        mode = np.where(tab.car[go] | self.responders.assisted[go], 0, 1)
        dest = np.full(go.size, -1, dtype=np.int64)
        if self.scenario.plan.evacuation.destination == "township":
            own = self._township_shelter[tab.township[go]]
            open_ = np.array([not s.full for s in self.shelters] + [False])
            dest = np.where((own >= 0) & open_[own], own, -1)
        ids = self.traffic.add_trips(tab.home_node[go], dest, mode, tab.active[go], go, tab.depart_s[go])
        tab.trip[go] = ids
        tab.state[go] = TRAVELLING
        self.log(t, "departures 出发", -1, "households 居民", "shelters",
                 {"households": int(go.size), "persons": int(tab.active[go].sum()), "by_car": int(mode.size -
                                                                                                  mode.sum())})

    def _arrivals(self, rep) -> None:
        """Admit arriving households; send a refused one on to the nearest shelter that fits it.

        When no shelter can take it, the household goes to relatives (shelter −2).
        """
        tab = self.households
        refused: list[tuple[int, int, int]] = []
        for trip, dest, t_arr in zip(rep.arrived.tolist(), rep.arrived_dest.tolist(), rep.arrived_t_s.tolist(),
                                     strict=True):
            h = int(self.traffic.trip_tag[trip])
            if int(tab.trip[h]) != trip or tab.state[h] != TRAVELLING:
                continue  # not this household's current trip
            persons = int(tab.active[h])
            # the shelter reached, else another one at the same node with room
            here = [dest] + [k for k in self._shelters_at[self.shelters[dest].node] if k != dest]
            got = next((k for k in here if self.shelters[k].admit(persons, count_refusal=k == dest)), None)
            if got is not None:
                tab.state[h] = SHELTERED
                tab.shelter[h] = got
                tab.arrive_s[h] = t_arr
                tab.trip[h] = -1
            else:
                refused.append((trip, h, self.shelters[dest].node))
        if refused:
            self.traffic.set_open(np.array([not s.full for s in self.shelters]))
            on, off = [], []
            for trip, h, node in refused:
                persons = int(tab.active[h])
                room = [k for k, s in enumerate(self.shelters) if s.capacity - s.occupancy >= persons]
                times = [self.roads.to(self.shelters[k].node)[node] for k in room]
                best = int(np.argmin(times)) if room else -1
                if best >= 0 and np.isfinite(times[best]):
                    self.traffic.redirect(np.array([trip]), np.array([room[best]]))
                    tab.state[h] = TRAVELLING
                    on.append(h)
                else:
                    tab.state[h] = SHELTERED
                    tab.shelter[h] = -2
                    tab.arrive_s[h] = rep.t_end_s
                    tab.trip[h] = -1
                    off.append(h)
            if on:
                self.log(rep.t_end_s, "shelter full 避难场所满员", -1, "shelters", "redirect",
                         {"households": len(on), "persons": int(tab.active[np.array(on)].sum())})
            if off:
                self.log(rep.t_end_s, "no shelter with room 无可用避难场所", -1, "shelters", "relatives",
                         {"households": len(off), "persons": int(tab.active[np.array(off)].sum())})
        if rep.no_route.size:
            hh = self.traffic.trip_tag[rep.no_route]
            keep = tab.state[hh] == TRAVELLING
            hh, trips = hh[keep], rep.no_route[keep]
            if hh.size and not self.traffic.open_mask.any():
                # no shelter has room anywhere: people go to relatives or friends instead
                self.traffic.retire(trips)
                tab.state[hh] = SHELTERED
                tab.shelter[hh] = -2
                tab.arrive_s[hh] = rep.t_end_s
                tab.trip[hh] = -1
                self.log(rep.t_end_s, "no shelter with room 无可用避难场所", -1, "shelters", "relatives",
                         {"households": int(hh.size), "persons": int(tab.active[hh].sum())})
            elif hh.size:
                # every road to an open shelter is cut: they go back and shelter in place (stayed); they decide
                # again at the next message or sight of the hazard. Trapped is kept for water and debris.
                self.traffic.retire(trips)
                tab.trip[hh] = -1
                tab.state[hh] = STAYED
                self.log(rep.t_end_s, "no route: shelter in place 道路中断就地避险", -1, "households 居民", "stayed",
                         {"households": int(hh.size), "persons": int(tab.active[hh].sum())})

    # ------------------------------------------------------------------ record
    def _record(self) -> None:
        c = self.district.road_csr
        tab = self.households
        by_tw = tab.persons_by_state_township(len(self.district.townships))
        by_state = by_tw.sum(axis=0)
        flood = self.hazards.component("flood")
        fire = self.hazards.component("fire")
        cell_km2 = self.district.grid.cell_area_m2 / 1e6
        row = {"time_s": self.time_s, **{f"persons_{s}": int(v) for s, v in zip(STATES, by_state, strict=True)}}
        row["flooded_km2"] = (float((flood.flood_depth_above_normal_m() > 0.1).sum() * cell_km2)
                              if flood is not None else 0.0)
        row["burned_ha"] = float(fire.burned_area_ha) if fire is not None else 0.0
        row["burning_cells"] = int(fire.burning_cells) if fire is not None else 0
        ls = self.hazards.link_state
        row["road_closed_km"] = float(c.length_m[ls == 2].sum() / 2000.0)
        row["road_slowed_km"] = float(c.length_m[ls == 1].sum() / 2000.0)
        row["road_open_km"] = float(c.length_m[ls == 0].sum() / 2000.0)
        row["team_utilisation"] = self.responders.utilisation()
        row["teams_working"] = sum(t.status == "working" for t in self.responders.teams)
        row["shelter_occupancy"] = sum(s.occupancy for s in self.shelters)
        row["vehicles_on_network"] = int(self.traffic.vehicles_on_network)
        for k, v in self.supply.stock_levels().items():
            row[f"stock_{k}"] = v
        self.records.append(row)
        self.township_records.append(by_tw)
        self.record_times.append(self.time_s)

    # ------------------------------------------------------------------ run
    def run(self, progress: Callable[[float], None] | None = None) -> None:
        """Step to the end of the run; ``progress(fraction)`` is called after each step."""
        n = int(round(self.duration_s / self.dt_s))
        done = int(round(self.time_s / self.dt_s))
        for _ in range(done, n):
            self.step()
            if progress is not None:
                progress(self.time_s / self.duration_s)
        if int(round(self.time_s / self.dt_s)) % self.params.record_every_steps != 0:
            self._record()
        if self.frames.every_s > 0 and (not self.frames.times or self.frames.times[-1] < self.time_s):
            self.frames.capture()
