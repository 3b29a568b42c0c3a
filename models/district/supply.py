"""Supply logistics: shelters' and teams' requests, truck deliveries from depots, regional resupply.

Every item is conserved: ``Σ depot stock + in transit + Σ shelter stock + consumed + issued to teams =
initial stock + resupply received from the municipal reserve`` at every step (:meth:`Logistics.balance`).
A request is *met* when its delivery arrives within ``request_window_h`` of the request (target T7).
Depots are tried nearest first by truck travel time; a depot sends what it has, the rest is asked of the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from models.district.agents import DepotAgent, RescueTeam, ShelterAgent, Task
from sim.facilities import ITEMS

if TYPE_CHECKING:  # pragma: no cover
    from models.district.model import DistrictModel

ONCE_PER_PERSON = {"blankets": 1.0}  # blankets handed out once per arriving person (assumption)


@dataclass
class Request:
    """A request for supplies (shelter or team), and how it was met."""

    request_id: int
    created_s: float
    requester: str
    kind: str  # "shelter" | "team"
    target_index: int
    node: int
    items: dict[str, float]
    delivered: dict[str, float] = field(default_factory=dict)
    last_arrival_s: float = np.nan
    deadline_s: float = np.inf

    @property
    def met(self) -> bool:
        """Everything asked for arrived before the deadline."""
        return all(self.delivered.get(k, 0.0) >= v - 1e-9 for k, v in self.items.items()) and (
            not np.isfinite(self.last_arrival_s) or self.last_arrival_s <= self.deadline_s)


@dataclass
class Delivery:
    """A truck on its way (stock in transit)."""

    request_id: int
    depot: int
    items: dict[str, float]
    arrive_s: float


class Logistics:
    """Depots, shelters' stock and trucks between them."""

    def __init__(self, model: DistrictModel, depots: list[DepotAgent], shelters: list[ShelterAgent]):
        self.model = model
        self.depots = depots
        self.shelters = shelters
        self.requests: list[Request] = []
        self.in_transit: list[Delivery] = []
        self.issued_to_teams = dict.fromkeys(ITEMS, 0.0)
        self.resupplied = dict.fromkeys(ITEMS, 0.0)
        self.initial = self.totals_in_depots()
        self.regional = next((d for d in depots if d.tier == "regional"), None)
        self.regional_initial = dict(self.regional.stock) if self.regional else {}
        self.resupply_due: list[tuple[float, dict[str, float]]] = []
        self.next_request_s = 0.0
        self._admitted_seen = np.zeros(len(shelters))

    # ------------------------------------------------------------------ accounting
    def totals_in_depots(self) -> dict[str, float]:
        """Stock per item summed over depots."""
        out = dict.fromkeys(ITEMS, 0.0)
        for d in self.depots:
            for k, v in d.stock.items():
                out[k] = out.get(k, 0.0) + v
        return out

    def balance(self) -> dict[str, float]:
        """Per item: (depots + transit + shelters + consumed + issued) − (initial + resupplied); 0 when conserved."""
        dep = self.totals_in_depots()
        out = {}
        for k in ITEMS:
            transit = sum(d.items.get(k, 0.0) for d in self.in_transit)
            shelter = sum(s.stock.get(k, 0.0) + s.consumed.get(k, 0.0) for s in self.shelters)
            out[k] = dep[k] + transit + shelter + self.issued_to_teams[k] - self.initial[k] - self.resupplied[k]
        return out

    def stock_levels(self) -> dict[str, float]:
        """Stock per item in depots now (for the time series)."""
        return self.totals_in_depots()

    def requests_table(self) -> list[dict]:
        """One row per request: who, what, when, met."""
        return [{"request_id": r.request_id, "created_s": r.created_s, "requester": r.requester, "kind": r.kind,
                 "items": ";".join(f"{k}={v:g}" for k, v in r.items.items()),
                 "delivered": ";".join(f"{k}={v:g}" for k, v in r.delivered.items()),
                 "last_arrival_s": r.last_arrival_s, "deadline_s": r.deadline_s, "met": r.met}
                for r in self.requests]

    def met_share(self, now_s: float) -> float:
        """Share of requests whose deadline has passed (or that are complete) that were met in time."""
        done = [r for r in self.requests if r.deadline_s <= now_s or r.met]
        return float(np.mean([r.met for r in done])) if done else float("nan")

    # ------------------------------------------------------------------ requests
    def _ship(self, req: Request, now_s: float) -> None:
        """Send trucks from the nearest depots (by travel time) until the request is covered."""
        m = self.model
        p = m.params.supply
        times = m.roads.to(req.node)
        order = sorted(range(len(self.depots)), key=lambda i: (times[self.depots[i].node], i))
        left = dict(req.items)
        for i in order:
            if all(v <= 1e-9 for v in left.values()):
                break
            tt = times[self.depots[i].node]
            if not np.isfinite(tt):
                break
            load = {}
            for item, amount in left.items():
                got = self.depots[i].take(item, amount)
                if got > 0:
                    load[item] = got
                    left[item] -= got
            if load:
                arrive = now_s + tt / p.truck_speed_factor + p.load_min * 60.0
                self.in_transit.append(Delivery(req.request_id, i, load, arrive))
                m.log(now_s, "truck dispatched 物资发运", self.depots[i].node, self.depots[i].spec.name,
                      req.requester, {"request": req.request_id, "arrive_s": round(arrive, 1),
                                      **{k: round(v, 1) for k, v in load.items()}})

    def _new_request(self, now_s: float, requester: str, kind: str, target: int, node: int,
                     items: dict[str, float]) -> Request:
        items = {k: float(np.ceil(v)) for k, v in items.items() if v > 0}
        req = Request(len(self.requests), now_s, requester, kind, target, node, items,
                      deadline_s=now_s + self.model.params.supply.request_window_h * 3600.0)
        self.requests.append(req)
        self.model.log(now_s, "supply request 物资申请", node, requester, kind,
                       {"request": req.request_id, **items})
        self._ship(req, now_s)
        return req

    def shelter_requests(self, now_s: float) -> None:
        """Shelters order the next window's needs (and once-per-person items for new arrivals)."""
        p = self.model.params.supply
        for s in self.shelters:
            if s.occupancy == 0:
                continue
            window_d = p.request_window_h / 24.0
            items = {k: s.occupancy * v * window_d - s.stock.get(k, 0.0) - self._pending(s.index, k)
                     for k, v in p.daily_need_per_person.items()}
            new_people = s.occupancy - self._admitted_seen[s.index]
            if new_people > 0:
                for k, v in ONCE_PER_PERSON.items():
                    items[k] = items.get(k, 0.0) + new_people * v
                items["tents"] = items.get("tents", 0.0) + new_people * p.tents_per_person
                self._admitted_seen[s.index] = s.occupancy
            items = {k: v for k, v in items.items() if v >= 1}
            if items:
                self._new_request(now_s, s.spec.name, "shelter", s.index, s.node, items)

    def _pending(self, shelter: int, item: str) -> float:
        ids = {r.request_id for r in self.requests if r.kind == "shelter" and r.target_index == shelter}
        return sum(d.items.get(item, 0.0) for d in self.in_transit if d.request_id in ids)

    def team_request(self, team: RescueTeam, task: Task, now_s: float, travel_s: float) -> None:
        """Teams ask for what the task consumes: fire kits, medical kits, sandbags and a pump for embankments."""
        if task.kind == "fire":
            items = {"fire_kits": np.ceil(team.spec.size_persons / 10.0)}
        elif task.kind == "rescue" and task.households is not None:
            items = {"medical_kits": float(len(task.households))}
        elif task.kind == "embankment":
            items = {"sandbags": float(self.model.params.supply.sandbags_per_team), "pumps": 1.0}
        else:
            return
        self._new_request(now_s, team.spec.name, "team", team.index, task.node, items)

    # ------------------------------------------------------------------ clock
    def step(self, now_s: float, dt_s: float) -> None:
        """Deliver arrived trucks, consume in shelters, resupply the regional depot, issue periodic requests."""
        m = self.model
        p = m.params.supply
        still = []
        for d in self.in_transit:
            if d.arrive_s > now_s:
                still.append(d)
                continue
            req = self.requests[d.request_id]
            if req.kind == "shelter":
                sh = self.shelters[req.target_index]
                for k, v in d.items.items():
                    sh.stock[k] = sh.stock.get(k, 0.0) + v
            else:
                for k, v in d.items.items():
                    self.issued_to_teams[k] += v
            for k, v in d.items.items():
                req.delivered[k] = req.delivered.get(k, 0.0) + v
            req.last_arrival_s = now_s if not np.isfinite(req.last_arrival_s) else max(req.last_arrival_s, now_s)
            m.log(now_s, "delivery 物资送达", req.node, self.depots[d.depot].spec.name, req.requester,
                  {"request": req.request_id, "on_time": bool(now_s <= req.deadline_s)})
        self.in_transit = still
        for s in self.shelters:
            s.consume(dt_s, p.daily_need_per_person)
        self._resupply(now_s)
        if now_s >= self.next_request_s:
            self.shelter_requests(now_s)
            self.next_request_s = now_s + p.request_interval_h * 3600.0

    def _resupply(self, now_s: float) -> None:
        """Refill the regional depot from the municipal reserve (items below half, after a delay)."""
        if self.regional is None:
            return
        arrived = [r for r in self.resupply_due if r[0] <= now_s]
        self.resupply_due = [r for r in self.resupply_due if r[0] > now_s]
        for _, items in arrived:
            for k, v in items.items():
                self.regional.stock[k] = self.regional.stock.get(k, 0.0) + v
                self.resupplied[k] += v
            self.model.log(now_s, "regional resupply 市级调拨到达", self.regional.node, "市应急局 municipal reserve",
                           self.regional.spec.name, {k: round(v, 1) for k, v in items.items()})
        pending = {k for _, items in self.resupply_due for k in items}
        low = {k: self.regional_initial[k] - v for k, v in self.regional.stock.items()
               if k not in pending and self.regional_initial.get(k, 0) > 0 and v < 0.5 * self.regional_initial[k]}
        if low:
            due = now_s + self.model.params.supply.regional_resupply_h * 3600.0
            self.resupply_due.append((due, low))
            self.model.log(now_s, "resupply request 申请市级调拨", self.regional.node, self.regional.spec.name,
                           "市应急局 municipal reserve", {"due_s": due, **{k: round(v, 1) for k, v in low.items()}})
