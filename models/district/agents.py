"""Mesa agents of the district model: households, shelters, supply depots, rescue teams and the command post.

Households are thin views on one row of :class:`~models.district.households.HouseholdTable` (so
``model.agents_by_type[Household]`` and AgentSet queries read the live state); their decision rule is
:meth:`Household.decide`, vectorised over the households a message or a sight of the hazard reaches in a
step. Shelters, depots and teams hold their own state and act when the model or the command post calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from models.district.households import (
    PREPARING,
    STATES,
    STAYED,
    HouseholdTable,
)
from models.district.params import ResidentParams
from sim.facilities import Depot, Shelter, Team

if TYPE_CHECKING:  # pragma: no cover
    from models.district.model import DistrictModel


class Household(mesa.Agent):
    """A household (户): a view on row ``index`` of the model's household table.

    Attributes read live from the table: ``state`` (of its active members), ``size``, ``active``,
    ``injured``, ``dead``, ``township``, ``home_cell``, ``home_node``, ``vulnerable``, ``car``, ``level``,
    ``ordered``, ``shelter``.
    """

    def __init__(self, model: DistrictModel, index: int):
        super().__init__(model)
        self.index = index

    @property
    def table(self) -> HouseholdTable:
        """The model's household arrays."""
        return self.model.households

    @property
    def state(self) -> str:
        """State of the members still with the household (one of ``STATES``)."""
        return STATES[int(self.table.state[self.index])]

    @property
    def size(self) -> int:
        """Persons in the household at the start."""
        return int(self.table.size[self.index])

    @property
    def active(self) -> int:
        """Members still with the household (not injured or dead)."""
        return int(self.table.active[self.index])

    @property
    def injured(self) -> int:
        """Members injured."""
        return int(self.table.injured[self.index])

    @property
    def dead(self) -> int:
        """Members dead."""
        return int(self.table.dead[self.index])

    @property
    def township(self) -> str:
        """Township name."""
        return self.model.district.townships[int(self.table.township[self.index])].name

    @property
    def home_cell(self) -> int:
        """Flat grid index of the home."""
        return int(self.table.home_cell[self.index])

    @property
    def home_node(self) -> int:
        """Road node serving the home."""
        return int(self.table.home_node[self.index])

    @property
    def vulnerable(self) -> bool:
        """Has an elderly or disabled member."""
        return bool(self.table.elderly[self.index] > 0 or self.table.disabled[self.index] > 0)

    @property
    def car(self) -> bool:
        """Owns a car."""
        return bool(self.table.car[self.index])

    @property
    def level(self) -> str | None:
        """Highest warning level received (None if not warned)."""
        lv = int(self.table.level[self.index])
        return None if lv < 0 else ("blue", "yellow", "orange", "red")[lv]

    @property
    def ordered(self) -> bool:
        """Has received an evacuation order."""
        return bool(self.table.ordered[self.index])

    @property
    def shelter(self) -> int:
        """Shelter index (−1 none, −2 with relatives because every shelter was full)."""
        return int(self.table.shelter[self.index])

    @staticmethod
    def leave_probability(level: np.ndarray, ordered: np.ndarray, seen: np.ndarray, vulnerable: np.ndarray,
                          aided: np.ndarray, params: ResidentParams) -> np.ndarray:
        """Probability that each household decides to leave now (protective-action decision).

        Independent reasons combine as ``1 − Π(1 − p_i)``: the warning level alone
        (``level_compliance``), an official order (``order_compliance``), the hazard seen nearby
        (``hazard_seen_compliance``). Households with elderly or disabled members not aided by a grid
        worker scale the result by ``vulnerable_factor``.
        """
        lv = np.asarray(level)
        table = np.array([params.level_compliance[k] for k in ("blue", "yellow", "orange", "red")])
        p_level = np.where(lv >= 0, table[np.clip(lv, 0, 3)], 0.0)
        p = 1.0 - (1.0 - p_level) * (1.0 - np.where(ordered, params.order_compliance, 0.0)) \
            * (1.0 - np.where(seen, params.hazard_seen_compliance, 0.0))
        return np.where(vulnerable & ~aided, p * params.vulnerable_factor, p)

    @staticmethod
    def decide(model: DistrictModel, hh: np.ndarray, seen: np.ndarray, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Decide for households ``hh`` (warned or staying) reached by a new stimulus at ``t_s``.

        Leavers become ``preparing`` with a log-normal pre-movement delay (longer for vulnerable
        households); the others become ``stayed`` and decide again at the next stimulus. Returns
        (leavers, stayers).
        """
        tab, p = model.households, model.params.residents
        vul = tab.vulnerable[hh]
        prob = Household.leave_probability(tab.level[hh], tab.ordered[hh], seen, vul, tab.aided[hh], p)
        u = model.decide_rng.random(hh.size)
        leave = u < prob
        leavers, stayers = hh[leave], hh[~leave]
        delay = 60.0 * p.premove_median_min * np.exp(p.premove_sigma * model.decide_rng.standard_normal(leavers.size))
        delay = np.where(vul[leave], delay * p.vulnerable_premove_factor, delay)
        tab.state[leavers] = PREPARING
        tab.depart_s[leavers] = t_s + delay
        tab.state[stayers] = STAYED
        return leavers, stayers


class ShelterAgent(mesa.Agent):
    """An emergency shelter (应急避难场所): capacity, occupancy, the people it turned away, its supplies."""

    def __init__(self, model: DistrictModel, shelter: Shelter, node: int):
        super().__init__(model)
        self.spec = shelter
        self.index = shelter.shelter_id
        self.node = node
        self.capacity = int(shelter.capacity_persons)
        self.occupancy = 0
        self.turned_away = 0
        self.stock: dict[str, float] = {}
        self.consumed: dict[str, float] = {}
        self.shortfall: dict[str, float] = {}

    @property
    def full(self) -> bool:
        """No room for one more person."""
        return self.occupancy >= self.capacity

    def admit(self, persons: int, count_refusal: bool = True) -> bool:
        """Admit a household of ``persons`` if it fits; count it as turned away otherwise."""
        if self.occupancy + persons <= self.capacity:
            self.occupancy += persons
            return True
        if count_refusal:
            self.turned_away += persons
        return False

    def consume(self, dt_s: float, daily_need: dict[str, float]) -> None:
        """Use the day's needs of the people inside for ``dt_s``; record shortfalls."""
        if self.occupancy == 0:
            return
        for item, per_day in daily_need.items():
            need = self.occupancy * per_day * dt_s / 86400.0
            have = self.stock.get(item, 0.0)
            used = min(have, need)
            self.stock[item] = have - used
            self.consumed[item] = self.consumed.get(item, 0.0) + used
            if need > used:
                self.shortfall[item] = self.shortfall.get(item, 0.0) + need - used


class DepotAgent(mesa.Agent):
    """A supply depot (应急物资储备) with stock per item; dispatches trucks to meet requests."""

    def __init__(self, model: DistrictModel, depot: Depot, node: int, multiplier: float):
        super().__init__(model)
        self.spec = depot
        self.index = depot.depot_id
        self.node = node
        self.tier = depot.tier
        self.stock: dict[str, float] = {k: float(np.floor(v * multiplier)) for k, v in depot.stock.items()}

    def take(self, item: str, amount: float) -> float:
        """Remove up to ``amount`` of ``item``; return what was taken."""
        got = min(self.stock.get(item, 0.0), amount)
        self.stock[item] = self.stock.get(item, 0.0) - got
        return got


@dataclass
class Task:
    """A job for a team: fight a fire, rescue trapped households, clear debris."""

    kind: str  # "fire" | "rescue" | "clear" | "assist" | "embankment"
    node: int
    x_m: float
    y_m: float
    fire_id: int = -1
    households: np.ndarray | None = None
    cells: np.ndarray | None = None
    links: tuple[int, ...] = ()
    created_s: float = 0.0
    cause: str = ""  # rescue tasks: "water" needs a boat or a flood-rescue team


class RescueTeam(mesa.Agent):
    """A rescue force (救援队伍): standby → travelling → working → (returning) → standby, with shift limits.

    ``status`` is one of ``off_duty`` (not mobilised yet), ``standby``, ``travelling``, ``working``, ``resting``.
    """

    STATUSES = ("off_duty", "standby", "travelling", "working", "resting")

    def __init__(self, model: DistrictModel, team: Team, node: int, on_standby: bool, mutual_aid: str = ""):
        super().__init__(model)
        self.spec = team
        self.index = team.team_id
        self.node = node
        self.x_m, self.y_m = team.x_m, team.y_m
        self.status = "standby" if on_standby else "off_duty"
        self.task: Task | None = None
        self.arrive_s = np.inf
        self.work_done_s = np.inf
        self.shift_start_s = np.nan
        self.rest_until_s = np.nan
        self.busy_s = 0.0
        self.mutual_aid = mutual_aid
        self.capabilities = set(team.capabilities)
        self.has_fire_kit = team.equipment.get("fire_kits", 0) > 0 or "fire_suppression" in self.capabilities
        self.has_boat = team.equipment.get("boats", 0) > 0 or "boat" in self.capabilities

    @property
    def available(self) -> bool:
        """Can take a new task now."""
        return self.status == "standby"

    def can(self, kind: str, cause: str = "") -> bool:
        """Whether the team is able to do a task of ``kind`` (rescues from water need a boat)."""
        if kind == "fire":
            return self.has_fire_kit
        if kind == "rescue":
            return self.has_boat or "flood_rescue" in self.capabilities if cause == "water" else True
        if kind == "clear":
            return "debris_clearance" in self.capabilities or self.spec.level in ("township",)
        if kind == "embankment":
            return bool({"embankment", "flood_rescue", "evacuation"} & self.capabilities) or self.spec.level in (
                "township", "village")
        if kind == "assist":
            return True
        return False

    def assign(self, task: Task, travel_s: float, now_s: float) -> None:
        """Start travelling to ``task``."""
        self.task = task
        self.status = "travelling"
        self.arrive_s = now_s + travel_s
        if not np.isfinite(self.shift_start_s):
            self.shift_start_s = now_s

    def release(self, now_s: float) -> None:
        """Finish the task: rest if the shift is over, else stand by where it is."""
        if self.task is not None:
            self.node = self.task.node
            self.x_m, self.y_m = self.task.x_m, self.task.y_m
        self.task = None
        self.arrive_s = self.work_done_s = np.inf
        p = self.model.params.response
        if np.isfinite(self.shift_start_s) and now_s - self.shift_start_s >= p.shift_h * 3600.0:
            self.status = "resting"
            self.rest_until_s = now_s + p.rest_h * 3600.0
            self.shift_start_s = np.nan
        else:
            self.status = "standby"

    def step(self) -> None:
        """Advance the team by one model step (called only for busy teams)."""
        m = self.model
        t = m.time_s
        if self.status == "resting":
            if t >= self.rest_until_s:
                self.status = "standby"
            return
        if self.status in ("standby", "off_duty"):
            return
        self.busy_s += m.dt_s
        if self.status == "travelling" and t >= self.arrive_s:
            self.status = "working"
            self.node = self.task.node
            m.log(t, "arrival 到达", self.task.node, self.spec.name, self.task.kind, {"task": self.task.kind})
            if self.task.kind == "rescue":
                self.work_done_s = t + m.params.response.rescue_min_per_household * 60.0 * max(
                    1, len(self.task.households))
            elif self.task.kind == "clear":
                self.work_done_s = t + 2 * 3600.0
            elif self.task.kind == "assist":
                self.work_done_s = t + m.params.response.assist_min_per_household * 60.0 * max(
                    1, len(self.task.households))
            elif self.task.kind == "embankment":
                self.work_done_s = t + m.params.response.embankment_work_h * 3600.0
        if self.status != "working":
            return
        task = self.task
        if task.kind == "fire":
            done = m.responders.fight_fire(self, m.dt_s)
        elif task.kind == "rescue":
            done = t >= self.work_done_s and m.responders.finish_rescue(self)
        elif task.kind == "assist":
            done = t >= self.work_done_s and m.responders.finish_assist(self)
        elif task.kind == "embankment":
            done = t >= self.work_done_s and m.responders.finish_embankment(self)
        else:
            done = t >= self.work_done_s and m.responders.finish_clearance(self)
        shift_over = t - self.shift_start_s >= m.params.response.shift_h * 3600.0
        if done or shift_over:
            if shift_over and not done:
                m.responders.handover(self)
            self.release(t)
