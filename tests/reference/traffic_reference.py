"""Plain-Python reference for the link-queue traffic kernel (written from the rules, not from the kernel).

Where the kernel keeps FIFOs and waiting lists as linked lists in flat arrays, the reference keeps one
``collections.deque`` per link and mode and one Python list per node and mode, and trips as dicts. The
rules are those of the module docstring of :mod:`sim.kernels.traffic`:

1. release pending trips with departure time < t_end, in (departure time, id) order;
2. on open links ``floor(c)`` whole departures per step, and the accumulator ``a`` grows by
   ``c − floor(c)`` while below 1; a car may also leave on ``a ≥ 1`` (then ``a −= 1``);
3. nodes in index order: each open incoming link in edge-id order sends cars (ticket, not moved this step,
   exit time < t_end, next link open and below storage) then pedestrians (no ticket/storage); then the
   waiting cars and pedestrians of the node, scanned in order, stopping once every out-link refused one.
"""

from __future__ import annotations

import math
from collections import deque

WAITING, ON_NETWORK, ARRIVED, NO_ROUTE = 0, 1, 2, 3
CAR, WALK = 0, 1
ARRIVE, NO_EDGE = -2, -1


class ReferenceTraffic:
    """Link-queue model on plain Python containers.

    Parameters
    ----------
    indptr, head : out-edge CSR of the graph (lists or arrays of int).
    tt_s : tt_s[mode][e] traversal time, s (inf where closed).
    cap_per_step : vehicles per step per edge.
    storage : cars per edge.
    is_open : bool per edge.
    """

    def __init__(self, indptr, head, tt_s, cap_per_step, storage, is_open):
        self.n_nodes = len(indptr) - 1
        self.n_edges = len(head)
        self.out_deg = [int(indptr[n + 1] - indptr[n]) for n in range(self.n_nodes)]
        self.incoming = [[] for _ in range(self.n_nodes)]
        for e in range(self.n_edges):
            self.incoming[int(head[e])].append(e)  # edge ids increase within each list
        self.set_links(tt_s, cap_per_step, storage, is_open)
        self.frac = [0.0] * self.n_edges
        self.queue = [[deque() for _ in range(self.n_edges)] for _ in range(2)]
        self.waiting = [[[] for _ in range(self.n_nodes)] for _ in range(2)]
        self.trips: list[dict] = []
        self.pending: list[int] = []
        self.step_no = 0

    def set_links(self, tt_s, cap_per_step, storage, is_open) -> None:
        self.tt = [[float(x) for x in tt_s[0]], [float(x) for x in tt_s[1]]]
        self.cap = [float(x) for x in cap_per_step]
        self.storage = [int(x) for x in storage]
        self.open = [bool(x) for x in is_open]

    def add(self, node: int, row: int, mode: int, t_s: float) -> int:
        i = len(self.trips)
        self.trips.append(dict(status=WAITING, node=int(node), row=int(row), mode=int(mode), time=float(t_s),
                               link=-1, moved=-1))
        self.pending.append(i)
        self.pending.sort(key=lambda j: (self.trips[j]["time"], j))
        return i

    def redirect(self, i: int, row: int, t_s: float) -> None:
        tr = self.trips[i]
        tr["row"] = int(row)
        if tr["status"] in (ARRIVED, NO_ROUTE):
            tr.update(status=WAITING, link=-1, time=float(t_s))
            self.waiting[tr["mode"]][tr["node"]].append(i)

    def _admits(self, mode: int, e: int) -> bool:
        if not self.open[e]:
            return False
        return mode == WALK or len(self.queue[CAR][e]) < self.storage[e]

    def _enter(self, i: int, e: int, node: int, t_in: float) -> None:
        tr = self.trips[i]
        tr.update(status=ON_NETWORK, link=e, node=node, time=t_in + self.tt[tr["mode"]][e], moved=self.step_no)
        self.queue[tr["mode"]][e].append(i)

    def _finish(self, i: int, node: int, ne: int, t_s: float, next_edge, node_dest, events) -> None:
        tr = self.trips[i]
        tr.update(link=-1, node=node, time=t_s)
        if ne == ARRIVE:
            tr["status"] = ARRIVED
            nearest = len(next_edge) - 1
            dest = tr["row"] if tr["row"] < nearest else int(node_dest[node])
            events["arrived"].append((i, dest, t_s))
        else:
            tr["status"] = NO_ROUTE
            events["no_route"].append(i)

    def step(self, t: float, dt: float, next_edge, node_dest) -> dict:
        """Advance one step; return {'arrived': [(id, dest, t_s)], 'no_route': [id]}."""
        t_end = t + dt
        self.step_no += 1
        events = {"arrived": [], "no_route": []}
        while self.pending and self.trips[self.pending[0]]["time"] < t_end:
            i = self.pending.pop(0)
            self.waiting[self.trips[i]["mode"]][self.trips[i]["node"]].append(i)
        tickets = [0] * self.n_edges
        for e in range(self.n_edges):
            if self.open[e]:
                tickets[e] = math.floor(self.cap[e])
                if self.frac[e] < 1.0:
                    self.frac[e] += self.cap[e] - tickets[e]
        for n in range(self.n_nodes):
            for e in self.incoming[n]:
                if not self.open[e]:
                    continue
                for mode in (CAR, WALK):
                    q = self.queue[mode][e]
                    while q:
                        i = q[0]
                        tr = self.trips[i]
                        if mode == CAR and tickets[e] <= 0 and self.frac[e] < 1.0:
                            break
                        if tr["moved"] == self.step_no or tr["time"] >= t_end:
                            break
                        ne = int(next_edge[tr["row"]][n])
                        if ne >= 0 and not self._admits(mode, ne):
                            break
                        q.popleft()
                        if mode == CAR:
                            if tickets[e] > 0:
                                tickets[e] -= 1
                            else:
                                self.frac[e] -= 1.0
                        t_exit = max(tr["time"], t)
                        if ne >= 0:
                            self._enter(i, ne, n, t_exit)
                        else:
                            self._finish(i, n, ne, t_exit, next_edge, node_dest, events)
            for mode in (CAR, WALK):
                refused: set[int] = set()
                keep = []
                lst = self.waiting[mode][n]
                for pos, i in enumerate(lst):
                    if self.out_deg[n] > 0 and len(refused) >= self.out_deg[n]:
                        keep.extend(lst[pos:])
                        break
                    tr = self.trips[i]
                    ne = int(next_edge[tr["row"]][n])
                    if ne >= 0 and not self._admits(mode, ne):
                        refused.add(ne)
                        keep.append(i)
                        continue
                    t_go = max(tr["time"], t)
                    if ne >= 0:
                        self._enter(i, ne, n, t_go)
                    else:
                        self._finish(i, n, ne, t_go, next_edge, node_dest, events)
                self.waiting[mode][n] = keep
        return events

    def link_counts(self, mode: int) -> list[int]:
        return [len(q) for q in self.queue[mode]]
