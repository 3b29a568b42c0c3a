"""The command post's dispatch of rescue teams: fires, trapped households, debris, evacuation help, embankments.

Policy (documented; the plan sets who is on standby): every ``dispatch_interval_min`` the command post lists
open tasks by priority — fires first (largest perimeter first), then trapped households (vulnerable persons
first, then worst hazard), then roads blocked by debris, then embankments of the plan to sandbag (from the
``embankment_level`` flood warning), then ordered vulnerable households that have not left — and sends to
each the nearest capable team on standby by travel time over the damaged network. Teams work to the end of
their shift, hand over and rest. Their work feeds back into the hazards: fireline and mop-up in the fire
field, cleared debris in the landslide field, a raised crest in the flood bed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.district.agents import RescueTeam, Task
from models.district.households import PREPARING, RESCUED, SHELTERED, STAYED, TRAPPED
from sim.facilities import Team
from sim.geo import project_lonlat
from sim.hazards.fire import Crew, direct_attack

if TYPE_CHECKING:  # pragma: no cover
    from models.district.model import DistrictModel

# Where the neighbours' teams enter the district (lon, lat; approximate road entry points).
MUTUAL_AID_ENTRIES = {
    "丰都 Fengdu": (107.66, 29.935),
    "长寿 Changshou": (106.985, 29.675),
    "垫江 Dianjiang": (107.28, 29.98),
}
MOBILISATION_S = 3600.0  # off-duty teams are ready one hour after the first orange warning (assumption)


def dispatch_order(times_s: np.ndarray, specialist: np.ndarray, specialists_first: bool) -> np.ndarray:
    """Return team indices to try for a task: by travel time (s; inf = unavailable), ties by index.

    With ``specialists_first`` the reachable specialists come first (nearest first), then everyone else by
    time; unreachable teams are always last, so a caller may stop at the first infinite time.
    """
    if specialists_first:
        return np.lexsort((np.arange(times_s.size), times_s, ~(specialist & np.isfinite(times_s))))
    return np.argsort(times_s, kind="stable")


class Responders:
    """Teams, their tasks and the dispatch policy of the district command post."""

    def __init__(self, model: DistrictModel, teams: list[RescueTeam]):
        self.model = model
        self.teams = teams
        self.crews: dict[int, Crew] = {}
        self.rescue_assigned = np.zeros(model.households.n, dtype=bool)
        self.fire_teams: dict[int, int] = {}
        self.clearing_links: set[int] = set()
        self.mobilise_at_s = np.inf
        self.mobilised = False  # the standing-down teams were called in (once per run)
        self.aid_requested_s = np.inf
        self.aid_arrived = False
        self.rescued_households = 0
        self._fire_ids: set[int] = set()
        self._fire_ids_at = np.nan
        self.assisted = np.zeros(model.households.n, dtype=bool)
        self.assist_assigned = np.zeros(model.households.n, dtype=bool)
        self.embankments_done: set[int] = set()
        self.embankments_busy: set[int] = set()
        self.sandbag_cells_raised = 0

    # ------------------------------------------------------------------ dispatch
    def busy(self) -> list[RescueTeam]:
        """Teams that have something to do this step (travelling, working, resting)."""
        return [t for t in self.teams if t.status in ("travelling", "working", "resting")]

    def mobilise(self, t_s: float) -> None:
        """Call in off-duty teams (ready ``MOBILISATION_S`` later)."""
        if not self.mobilised and not np.isfinite(self.mobilise_at_s):
            self.mobilise_at_s = t_s + MOBILISATION_S
            self.model.log(t_s, "mobilisation 队伍集结", -1, "区应急局 command post", "teams",
                           {"ready_s": self.mobilise_at_s})

    def request_mutual_aid(self, t_s: float) -> None:
        """Ask Fengdu, Changshou and Dianjiang for teams (they arrive after ``mutual_aid_delay_h``)."""
        aid = self.model.scenario.plan.mutual_aid
        if np.isfinite(self.aid_requested_s) or not aid.request or aid.teams_each == 0:
            return
        self.aid_requested_s = t_s
        self.model.log(t_s, "mutual aid request 请求增援", -1, "区应急局 command post", "丰都/长寿/垫江",
                       {"teams_each": aid.teams_each})

    def _arrive_aid(self, t_s: float) -> None:
        m = self.model
        n_each = m.scenario.plan.mutual_aid.teams_each
        next_id = max((t.spec.team_id for t in self.teams), default=-1) + 1
        for name, (lon, lat) in MUTUAL_AID_ENTRIES.items():
            x, y = project_lonlat(lon, lat)
            node = m.district.node_of(float(x), float(y))
            nx_, ny_ = float(m.district.road_csr.node_x_m[node]), float(m.district.road_csr.node_y_m[node])
            for k in range(n_each):
                spec = Team(next_id, f"{name} 增援队 {k + 1} mutual-aid team", "mutual_aid", "general", "",
                            30, ("flood_rescue", "fire_suppression", "search_rescue", "debris_clearance"),
                            {"vehicles": 3, "boats": 1, "fire_kits": 10}, nx_, ny_,
                            "mutual-aid agreement (PLAN_FACTS §2); size assumed")
                next_id += 1
                team = RescueTeam(m, spec, node, on_standby=True, mutual_aid=name)
                self.teams.append(team)
            m.log(t_s, "mutual aid arrival 增援到达", node, name, "teams", {"teams": n_each})
        self.aid_arrived = True

    def dispatch(self, t_s: float) -> None:
        """Assign standby teams to open tasks (fires, rescues, debris)."""
        m = self.model
        if t_s >= self.mobilise_at_s:
            for team in self.teams:
                if team.status == "off_duty":
                    team.status = "standby"
            self.mobilise_at_s = np.inf
            self.mobilised = True
        if (not self.aid_arrived and np.isfinite(self.aid_requested_s)
                and t_s >= self.aid_requested_s + m.params.response.mutual_aid_delay_h * 3600.0):
            self._arrive_aid(t_s)
        p = m.params.response
        for team in self.teams:  # idle teams past their shift go to rest before taking new work
            if team.status == "standby" and np.isfinite(team.shift_start_s) and \
                    t_s - team.shift_start_s >= p.shift_h * 3600.0:
                team.status = "resting"
                team.rest_until_s = t_s + p.rest_h * 3600.0
                team.shift_start_s = np.nan
        self._team_nodes = np.array([t.node for t in self.teams], dtype=np.int64)
        self._standby = np.array([t.available for t in self.teams], dtype=bool)
        self._forest_specialist = np.array([t.spec.speciality == "forest_fire" for t in self.teams], dtype=bool)
        self._boat = np.array([t.can("rescue", "water") for t in self.teams], dtype=bool)
        self._team_x = np.array([t.x_m for t in self.teams], dtype=np.float64)
        self._team_y = np.array([t.y_m for t in self.teams], dtype=np.float64)
        unserved: dict[str, int] = {}
        tasks = (self._fire_tasks(t_s) + self._rescue_tasks(t_s) + self._clear_tasks(t_s)
                 + self._embankment_tasks(t_s) + self._assist_tasks(t_s))
        for task in tasks:
            team, travel = self._nearest(task)
            if team is None:
                if task.kind == "rescue":
                    self.rescue_assigned[task.households] = False
                elif task.kind == "assist":
                    self.assist_assigned[task.households] = False
                elif task.kind == "embankment":
                    self.embankments_busy.discard(task.fire_id)
                unserved[task.kind] = unserved.get(task.kind, 0) + 1
                continue
            team.assign(task, travel, t_s)
            if task.kind == "fire":
                self.fire_teams[task.fire_id] = self.fire_teams.get(task.fire_id, 0) + 1
                self.crews[team.index] = Crew(team.spec.name, team.spec.size_persons, task.x_m, task.y_m,
                                              m.params.response.fire_equipment_factor if
                                              "fire_suppression" in team.capabilities else 1.0,
                                              available_s=t_s + travel, fire_id=task.fire_id)
            elif task.kind == "clear":
                self.clearing_links.update(task.links)
            m.log(t_s, "dispatch 派遣", task.node, team.spec.name, task.kind,
                  {"travel_s": round(float(travel), 1), "fire_id": task.fire_id})
            m.supply.team_request(team, task, t_s, travel)
        if unserved:
            m.log(t_s, "no team available 无可用队伍", -1, "区应急局 command post", "tasks",
                  {f"{k}_tasks": v for k, v in unserved.items()})

    def _nearest(self, task: Task) -> tuple[RescueTeam | None, float]:
        """Return the capable team on standby with the shortest travel time to the task (ties: lowest index).

        A fire's first team is the nearest (initial attack, usually a village squad); its further teams are
        the forest-fire specialists first (professional and district forest teams, nearest first), then the
        nearest others, as the district sends its forest teams to every reported forest fire.

        A rescue from water may also go by boat: launch where the team is, then a straight course lengthened by
        ``boat_route_factor`` at ``boat_speed_kmh``; whichever is faster counts. Flooded roads close, so without
        this a boat team could never reach people the water cut off, nor leave a flooded task site.
        """
        if not self._standby.any():
            return None, np.inf
        times = np.where(self._standby, self.model.roads.to(task.node)[self._team_nodes], np.inf)
        if task.kind == "rescue" and task.cause == "water":
            p = self.model.params.response
            by_water = p.boat_launch_min * 60.0 + (np.hypot(self._team_x - task.x_m, self._team_y - task.y_m)
                                                   * p.boat_route_factor / (p.boat_speed_kmh / 3.6))
            times = np.where(self._standby & self._boat, np.minimum(times, by_water), times)
        order = dispatch_order(times, self._forest_specialist,
                               task.kind == "fire" and self.fire_teams.get(task.fire_id, 0) >= 1)
        for k in order:
            if not np.isfinite(times[k]):
                break
            team = self.teams[k]
            if team.can(task.kind, task.cause):
                self._standby[k] = False
                return team, float(times[k])
        return None, np.inf

    def _fire_tasks(self, t_s: float) -> list[Task]:
        fire = self.model.hazards.component("fire")
        if fire is None:
            return []
        out = []
        p = self.model.params.response
        for af in sorted(self.model.command.reported_fires(t_s), key=lambda a: -a.perimeter_m):
            want = int(np.clip(np.ceil(af.perimeter_m / 500.0), 1, p.max_teams_per_fire))
            have = self.fire_teams.get(af.fire_id, 0)
            node = self.model.district.node_of(af.head_x_m, af.head_y_m)
            for _ in range(max(0, want - have)):
                out.append(Task("fire", node, af.head_x_m, af.head_y_m, fire_id=af.fire_id, created_s=t_s))
        return out

    def _rescue_tasks(self, t_s: float) -> list[Task]:
        m = self.model
        tab = m.households
        need = np.flatnonzero((tab.state == TRAPPED) & (tab.active > 0) & ~self.rescue_assigned)
        if need.size == 0:
            return []
        node = m.current_node(need)
        vul = (tab.elderly[need] + tab.disabled[need]).astype(np.int64)
        order = np.lexsort((need, -tab.max_hazard_class[need], -vul))
        need, node = need[order], node[order]
        cap = m.params.response.rescue_capacity_persons
        out: list[Task] = []
        limit = max(1, int(self._standby.sum()))  # no more tasks than teams that could take one now
        # nodes in order of their most urgent household; households of a node keep the priority order
        first_nodes, first_idx = np.unique(node, return_index=True)
        by_node = np.argsort(node, kind="stable")
        starts = np.searchsorted(node[by_node], first_nodes)
        ends = np.append(starts[1:], node.size)
        for j in np.argsort(first_idx, kind="stable")[:limit]:
            hh = need[by_node[starts[j]:ends[j]]]
            persons = np.cumsum(tab.active[hh])
            hh = hh[: max(1, int(np.searchsorted(persons, cap, side="right")))]
            self.rescue_assigned[hh] = True
            nd = int(first_nodes[j])
            x, y = float(m.district.road_csr.node_x_m[nd]), float(m.district.road_csr.node_y_m[nd])
            water = bool((m.trap_cause[hh] == 1).any())
            out.append(Task("rescue", nd, x, y, households=hh, created_s=t_s, cause="water" if water else ""))
        return out

    def _clear_tasks(self, t_s: float) -> list[Task]:
        m = self.model
        slide = m.hazards.component("landslide")
        if slide is None:
            return []
        closed = np.flatnonzero((m.hazards.link_state == 2) & (m.hazards.link_cause == "landslide"))
        out = []
        csr = m.district.road_csr
        closed_set = set(closed.tolist())
        taken: set[int] = set()
        for e in closed.tolist():
            if e in self.clearing_links or e in taken:
                continue
            tail, head = int(m.roads.tail[e]), int(csr.head[e])
            back = [k for k in range(csr.indptr[head], csr.indptr[head + 1])
                    if csr.head[k] == tail and k in closed_set]
            pair = tuple([e] + back)
            taken.update(pair)
            ind = m.hazards.links.indptr
            cells = np.concatenate([m.hazards.links.cells[ind[k]:ind[k + 1]] for k in pair])
            out.append(Task("clear", tail, float(csr.node_x_m[tail]), float(csr.node_y_m[tail]), cells=cells,
                            links=pair, created_s=t_s))
        return out

    def _embankment_tasks(self, t_s: float) -> list[Task]:
        m = self.model
        emb = m.scenario.plan.embankments
        if not emb or m.command.flood_level < ["blue", "yellow", "orange", "red"].index(
                m.params.response.embankment_level):
            return []
        from models.district.model import embankment_line_cells

        out = []
        for k, cells in enumerate(embankment_line_cells(m)):
            if k in self.embankments_done or k in self.embankments_busy or cells.size == 0:
                continue
            r, c = np.divmod(cells[cells.size // 2], m.district.grid.ncols)
            x, y = m.district.grid.xy(r, c)
            node = m.district.node_of(float(x), float(y))
            self.embankments_busy.add(k)
            out.append(Task("embankment", node, float(x), float(y), fire_id=k, cells=cells, created_s=t_s))
        return out

    def _assist_tasks(self, t_s: float, limit: int = 40) -> list[Task]:
        m = self.model
        tab = m.households
        need = np.flatnonzero(tab.ordered & tab.vulnerable & (tab.state == STAYED) & (tab.active > 0)
                              & ~self.assist_assigned & ~self.assisted)
        if need.size == 0:
            return []
        node = tab.home_node[need]
        cap = m.params.response.rescue_capacity_persons
        out: list[Task] = []
        limit = min(limit, max(1, int(self._standby.sum())))
        for nd in dict.fromkeys(node.tolist()):
            hh = need[node == nd]
            persons = np.cumsum(tab.active[hh])
            hh = hh[: max(1, int(np.searchsorted(persons, cap, side="right")))]
            self.assist_assigned[hh] = True
            x, y = float(m.district.road_csr.node_x_m[nd]), float(m.district.road_csr.node_y_m[nd])
            out.append(Task("assist", int(nd), x, y, households=hh, created_s=t_s))
            if len(out) >= limit:
                break
        return out

    # ------------------------------------------------------------------ work
    def fight_fire(self, team: RescueTeam, dt_s: float) -> bool:
        """Let the team's crew attack its fire for ``dt_s``; True when that fire is out."""
        fire = self.model.hazards.component("fire")
        crew = self.crews[team.index]
        if fire is None or crew.fire_id not in self._burning_fire_ids(fire):
            self._leave_fire(team)
            return True
        crew.available_s = min(crew.available_s, fire.time_s)
        n_before = len(crew.work)
        direct_attack(fire, [crew], dt_s)
        if len(crew.work) > n_before:
            self.model.fireline_cells += crew.work[-1].fireline_cells
        team.x_m, team.y_m = crew.x_m, crew.y_m
        return False

    def _burning_fire_ids(self, fire) -> set[int]:
        """Ids of the fires burning now (computed once per fire time step)."""
        if self._fire_ids_at != fire.time_s:
            front = fire.front
            self._fire_ids = set(np.unique(fire.fields["fire__id"].ravel()[front]).tolist()) if front.size else set()
            self._fire_ids_at = fire.time_s
        return self._fire_ids

    def _leave_fire(self, team: RescueTeam) -> None:
        crew = self.crews.pop(team.index, None)
        if crew is not None and crew.fire_id is not None:
            self.fire_teams[crew.fire_id] = max(0, self.fire_teams.get(crew.fire_id, 1) - 1)

    def handover(self, team: RescueTeam) -> None:
        """End of shift before the task is done: put the task back for the next dispatch."""
        task = team.task
        if task is None:
            return
        if task.kind == "fire":
            self._leave_fire(team)
        elif task.kind == "rescue":
            self.rescue_assigned[task.households] = False
        elif task.kind == "clear":
            self.clearing_links.difference_update(task.links)
        elif task.kind == "assist":
            self.assist_assigned[task.households] = False
        elif task.kind == "embankment":
            self.embankments_busy.discard(task.fire_id)
        self.model.log(self.model.time_s, "handover 交接", task.node, team.spec.name, task.kind, {})

    def finish_rescue(self, team: RescueTeam) -> bool:
        """Bring the task's trapped households out: they become ``rescued`` and go to the nearest shelter."""
        m = self.model
        tab = m.households
        hh = team.task.households
        out = hh[(tab.state[hh] == TRAPPED) & (tab.active[hh] > 0)]
        on_road = out[tab.trip[out] >= 0]
        if on_road.size:  # stranded on the road: the trip ends here
            m.traffic.retire(tab.trip[on_road])
            tab.trip[on_road] = -1
        tab.state[out] = RESCUED
        m.place_in_shelter(out, team.task.node)
        self.rescue_assigned[hh] = False
        self.rescued_households += out.size
        persons = tab.active[out]
        wait_min = (m.time_s - tab.trapped_s[out]) / 60.0
        m.log(m.time_s, "rescue 救出", team.task.node, team.spec.name, "households",
              {"households": int(out.size), "persons": int(persons.sum()),
               "mean_wait_min": round(float(np.average(wait_min, weights=persons)), 2) if persons.sum() else 0.0})
        return True

    def finish_clearance(self, team: RescueTeam) -> bool:
        """Clear the debris of the task's links (the landslide component reopens them)."""
        m = self.model
        slide = m.hazards.component("landslide")
        n = slide.clear(team.task.cells) if slide is not None else 0
        self.clearing_links.difference_update(team.task.links)
        m.log(m.time_s, "debris cleared 道路抢通", team.task.node, team.spec.name, "road", {"cells": int(n)})
        return True

    def finish_assist(self, team: RescueTeam) -> bool:
        """Take the ordered vulnerable households of the task out now, in the team's vehicle."""
        m = self.model
        tab = m.households
        hh = team.task.households
        go = hh[(tab.state[hh] == STAYED) & (tab.active[hh] > 0)]
        self.assisted[go] = True
        self.assist_assigned[hh] = False
        tab.aided[go] = True
        tab.state[go] = PREPARING
        tab.depart_s[go] = m.time_s
        m.schedule_departure(go, m.time_s)
        m.log(m.time_s, "evacuation help 协助转移", team.task.node, team.spec.name, "households",
              {"households": int(go.size), "persons": int(tab.active[go].sum())})
        return True

    def finish_embankment(self, team: RescueTeam) -> bool:
        """Raise the dry cells of the task's embankment by a sandbag wall (the flood bed changes)."""
        m = self.model
        flood = m.hazards.component("flood")
        k = team.task.fire_id
        n = flood.raise_bed(team.task.cells, m.params.response.sandbag_raise_m) if flood is not None else 0
        self.sandbag_cells_raised += n
        self.embankments_done.add(k)
        self.embankments_busy.discard(k)
        name = m.scenario.plan.embankments[k].name or f"embankment {k}"
        m.log(m.time_s, "embankment raised 堤防加高", team.task.node, team.spec.name, name,
              {"cells": n, "raise_m": m.params.response.sandbag_raise_m})
        return True

    def utilisation(self) -> float:
        """Share of mobilised teams travelling or working now."""
        on = [t for t in self.teams if t.status != "off_duty"]
        if not on:
            return 0.0
        return sum(t.status in ("travelling", "working") for t in on) / len(on)


__all__ = ["Responders", "MUTUAL_AID_ENTRIES", "SHELTERED"]
