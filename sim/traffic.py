"""Evacuation traffic on the road graph: routing, trip bookkeeping and the link-queue kernel.

:class:`Traffic` owns the state of :mod:`sim.kernels.traffic` (see there for the queue rules) and the
routing table the kernel reads:

* row ``d`` of the table leads every node to destination ``d`` (``dest_nodes[d]``), row ``n_dest`` to the
  *nearest open* destination; both by the shortest travel time ``L / (v_free · speed factor)`` over open
  links (closed links — speed factor 0 — are impassable), computed with
  :func:`scipy.sparse.csgraph.dijkstra` from the destinations on the reversed graph (multi-source for the
  nearest-open row). Ties go to the lowest edge id.
* Trips choose their next link at every node from the table of the moment, so recomputing the table when
  links close (:meth:`Traffic.set_speed_factor`) or shelters fill (:meth:`Traffic.set_open`) reroutes
  trips en route. Routes do not react to congestion.
* A trip at a node with no route (its destination unreachable, or no destination open) stops there with
  status ``NO_ROUTE`` (3) and is reported once. Whenever the table is recomputed, stopped trips that have
  a route again wait at their node and go on (status 0), and are reported again if they stop again.
* Pedestrians (mode 1) follow the same table (time-shortest for cars) at ``walk_speed_m_s`` × speed
  factor, with no capacity or storage limit; closed links block them too.

Units: times in s, lengths in m, capacities in vehicles per hour per link (all lanes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.kernels import traffic as K
from sim.roads import RoadCSR

WAITING, ON_NETWORK, ARRIVED, NO_ROUTE = K.WAITING, K.ON_NETWORK, K.ARRIVED, K.NO_ROUTE
RETIRED = 4  # ended by the caller (e.g. its people were rescued); the kernel never touches it again
CAR, WALK = K.CAR, K.WALK
NEAREST = -1  # destination index meaning "nearest open destination"


class TrafficParams(BaseModel):
    """Parameters of the link-queue model (validated, frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jam_spacing_m: float = Field(7.5, gt=0.0, le=50.0, description="road length one stopped car occupies per lane, m")
    walk_speed_m_s: float = Field(1.2, gt=0.0, le=5.0, description="pedestrian walking speed on a free road, m/s")
    capacity_follows_speed: bool = Field(
        False, description="scale link capacity by the speed factor (else only closure, factor 0, removes it)")
    initial_trips: int = Field(1024, ge=1, description="trip rows allocated when max_trips is 0")


@dataclass(frozen=True)
class StepReport:
    """What happened in one step (arrays of equal length within each group)."""

    t_end_s: float  # time at the end of the step, s
    arrived: np.ndarray  # (k,) int64 trip ids that arrived
    arrived_dest: np.ndarray  # (k,) int64 destination index each reached
    arrived_t_s: np.ndarray  # (k,) float64 arrival times, s
    no_route: np.ndarray  # (j,) int64 trip ids that stopped for lack of a route in this step


def _edge_tails(indptr: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))


def _graph(tail: np.ndarray, head: np.ndarray, weight: np.ndarray, n: int, reverse: bool) -> csr_matrix:
    """Sparse matrix of the finite-weight edges (the lightest of parallel edges), optionally reversed."""
    ok = np.isfinite(weight)
    a, b, w = (head[ok], tail[ok], weight[ok]) if reverse else (tail[ok], head[ok], weight[ok])
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(a.size, dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return csr_matrix((w[first], (a[first], b[first])), shape=(n, n))


def _next_edges(indptr: np.ndarray, head: np.ndarray, weight: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """For each row of ``dist`` (time to go, s, per node) the out-edge minimising ``w_e + dist[head_e]``.

    Returns int64 ``(rows, n_nodes)``, −1 where the node has no finite way to go (lowest edge id on ties).
    """
    n = indptr.size - 1
    rows = dist.shape[0]
    out = np.full((rows, n), K.NO_EDGE, dtype=np.int64)
    if head.size == 0 or rows == 0:
        return out
    val = weight[None, :] + dist[:, head]
    has = np.diff(indptr) > 0
    starts = indptr[:-1][has]
    best = np.minimum.reduceat(val, starts, axis=1)
    tails = _edge_tails(indptr)
    col = np.cumsum(has) - 1  # column of each node in ``best``
    is_best = val == best[:, col[tails]]
    ids = np.where(is_best & np.isfinite(val), np.arange(head.size)[None, :], head.size)
    first = np.minimum.reduceat(ids, starts, axis=1)
    out[:, has] = np.where(first < head.size, first, K.NO_EDGE)
    return out


def route_table(csr_indptr: np.ndarray, head: np.ndarray, weight_s: np.ndarray, dest_nodes: np.ndarray,
                open_mask: np.ndarray) -> K.TrafficRoutes:
    """Build the next-edge table for all destinations plus the nearest-open row.

    Parameters
    ----------
    csr_indptr : (n_nodes + 1,) int64 out-edge offsets (edges sorted by tail).
    head : (n_edges,) int64 head node of each edge.
    weight_s : (n_edges,) float64 travel time of each edge, s; ``inf`` = closed.
    dest_nodes : (n_dest,) int64 node of each destination.
    open_mask : (n_dest,) bool, destinations the nearest-open row may end at.

    Returns
    -------
    TrafficRoutes with ``next_edge`` (n_dest + 1, n_nodes) int64 (``ARRIVE`` at the target node(s),
    ``NO_EDGE`` where unreachable) and ``node_dest`` (n_nodes,) int64.
    """
    n = csr_indptr.size - 1
    tail = _edge_tails(csr_indptr)
    g_rev = _graph(tail, head, weight_s, n, reverse=True)
    n_dest = dest_nodes.size
    dist = np.full((n_dest + 1, n), np.inf)
    if n_dest:
        dist[:n_dest] = dijkstra(g_rev, directed=True, indices=dest_nodes)
    open_nodes = np.unique(dest_nodes[open_mask])
    if open_nodes.size:
        dist[n_dest] = dijkstra(g_rev, directed=True, indices=open_nodes, min_only=True)
    table = _next_edges(csr_indptr, head, weight_s, dist)
    table[np.arange(n_dest), dest_nodes] = K.ARRIVE
    table[n_dest, open_nodes] = K.ARRIVE
    node_dest = np.full(n, -1, dtype=np.int64)
    for d in range(n_dest - 1, -1, -1):  # lowest index wins
        if open_mask[d]:
            node_dest[dest_nodes[d]] = d
    return K.TrafficRoutes(next_edge=np.ascontiguousarray(table), node_dest=node_dest)


def _readonly(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class Traffic:
    """Evacuating vehicles and pedestrians on a road graph, advanced one step at a time.

    Parameters
    ----------
    csr : the road graph (edges sorted by tail).
    dest_nodes : (n_dest,) int64 road nodes of the destinations (shelters); destination index ``d``
        means ``dest_nodes[d]``, ``-1`` (:data:`NEAREST`) the nearest open destination.
    dt_s : step length, s.
    params : model parameters (default :class:`TrafficParams()`).
    max_trips : trip rows to allocate up front (0 = ``params.initial_trips``); arrays grow when needed.

    Examples
    --------
    A caller's loop (``t`` from the model clock)::

        traffic.set_speed_factor(factor_from_hazards)
        rep = traffic.step(t)
        full = ~shelter_has_room[rep.arrived_dest]
        traffic.redirect(rep.arrived[full], np.full(full.sum(), NEAREST))
    """

    def __init__(self, csr: RoadCSR, dest_nodes: np.ndarray, dt_s: float, params: TrafficParams | None = None,
                 max_trips: int = 0):
        self.params = params if params is not None else TrafficParams()
        if not dt_s > 0:
            raise ValueError(f"Traffic: dt_s must be > 0, got {dt_s}")
        self.csr = csr
        self.dt_s = float(dt_s)
        self.n_nodes = int(csr.indptr.size - 1)
        self.n_edges = int(csr.head.size)
        dest = np.asarray(dest_nodes, dtype=np.int64).ravel()
        if dest.size and (dest.min() < 0 or dest.max() >= self.n_nodes):
            raise ValueError("Traffic: a destination node lies outside the road graph")
        self.dest_nodes = dest
        self.n_dest = int(dest.size)
        self._indptr = np.ascontiguousarray(csr.indptr, dtype=np.int64)
        self._head = np.ascontiguousarray(csr.head, dtype=np.int64)
        self._tail = _edge_tails(self._indptr)
        in_edge = np.argsort(self._head, kind="stable").astype(np.int64)
        in_ptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.add.at(in_ptr, self._head + 1, 1)
        self._length_m = np.asarray(csr.length_m, dtype=np.float64)
        self._v_m_s = np.asarray(csr.free_speed_kmh, dtype=np.float64) / 3.6
        self._cap_veh_per_h = np.asarray(csr.capacity_veh_per_h, dtype=np.float64)
        lanes = np.asarray(csr.lanes, dtype=np.float64)
        storage = np.maximum(1, np.floor(self._length_m * lanes / self.params.jam_spacing_m)).astype(np.int64)
        self.speed_factor = np.ones(self.n_edges)
        self.open_mask = np.ones(self.n_dest, dtype=bool)
        self._net = K.TrafficNet(out_ptr=self._indptr, in_ptr=np.cumsum(in_ptr), in_edge=in_edge,
                                 is_open=np.ones(self.n_edges, np.uint8), tt_s=np.zeros((2, self.n_edges)),
                                 cap_per_step=np.zeros(self.n_edges), storage=storage)
        self._update_links()
        m = int(max_trips) if max_trips > 0 else self.params.initial_trips
        self._st = K.new_state(m, self.n_nodes, self.n_edges)
        self._out = K.new_buffers(m)
        self._persons = np.zeros(m, dtype=np.int64)
        self._tag = np.zeros(m, dtype=np.int64)
        self.t_s = 0.0
        self._route()

    # ------------------------------------------------------------------------------------------ links
    def _update_links(self) -> None:
        f = self.speed_factor
        is_open = f > 0
        with np.errstate(divide="ignore"):
            inv = np.where(is_open, 1.0 / np.where(is_open, f, 1.0), np.inf)
        self._net.is_open[:] = is_open
        self._net.tt_s[K.CAR] = self._length_m / self._v_m_s * inv
        self._net.tt_s[K.WALK] = self._length_m / self.params.walk_speed_m_s * inv
        cap = self._cap_veh_per_h * (np.minimum(f, 1.0) if self.params.capacity_follows_speed else 1.0)
        self._net.cap_per_step[:] = np.where(is_open, cap * self.dt_s / 3600.0, 0.0)

    def _route(self) -> None:
        self._routes = route_table(self._indptr, self._head, self._net.tt_s[K.CAR], self.dest_nodes, self.open_mask)
        self._resume_stopped()

    def _resume_stopped(self) -> None:
        n = self.n_trips
        stopped = np.flatnonzero(self._st.status[:n] == NO_ROUTE)
        if stopped.size:
            ok = self._routes.next_edge[self._st.row[stopped], self._st.node[stopped]] != K.NO_EDGE
            if ok.any():
                K.push_waiting_kernel(self._st, stopped[ok].astype(np.int64), float(self.t_s))

    def set_speed_factor(self, factor: np.ndarray) -> None:
        """Set the speed factor of every directed edge (0 closed … 1 free) from now on.

        Travel times of trips already on a link are kept. Routes are recomputed when the set of closed
        links changes.

        Parameters
        ----------
        factor : (n_edges,) float, ≥ 0.
        """
        f = np.asarray(factor, dtype=np.float64)
        if f.shape != (self.n_edges,) or not np.all(np.isfinite(f)) or (f < 0).any():
            raise ValueError(f"set_speed_factor: need {self.n_edges} finite factors ≥ 0, got shape {f.shape}")
        closed_before = self.speed_factor <= 0
        self.speed_factor = f.copy()
        self._update_links()
        if not np.array_equal(closed_before, f <= 0):
            self._route()

    def set_open(self, open_mask: np.ndarray) -> None:
        """Set which destinations accept arrivals for the nearest-open routing ((n_dest,) bool)."""
        m = np.asarray(open_mask, dtype=bool)
        if m.shape != (self.n_dest,):
            raise ValueError(f"set_open: need {self.n_dest} flags, got shape {m.shape}")
        if not np.array_equal(m, self.open_mask):
            self.open_mask = m.copy()
            self._route()

    # ------------------------------------------------------------------------------------------ trips
    @property
    def n_trips(self) -> int:
        """Number of trips added so far."""
        return int(self._st.counters[K.C_N_TRIPS])

    def _ensure(self, n: int) -> None:
        m = self._st.status.shape[0]
        if n <= m:
            return
        new_m = max(n, 2 * m)
        self._st = K.grow_state(self._st, new_m)
        self._out = K.new_buffers(new_m)
        for name in ("_persons", "_tag"):
            a = getattr(self, name)
            b = np.zeros(new_m, dtype=a.dtype)
            b[: a.size] = a
            setattr(self, name, b)

    def add_trips(self, origin_node: np.ndarray, dest: np.ndarray, mode: np.ndarray, persons: np.ndarray,
                  tag: np.ndarray, t_s: float | np.ndarray) -> np.ndarray:
        """Add trips that depart from ``origin_node`` at ``t_s`` (s; scalar or per trip).

        Parameters
        ----------
        origin_node : (k,) int road nodes.
        dest : (k,) int destination indices, ``-1`` = nearest open destination.
        mode : (k,) int 0 car, 1 pedestrian group.
        persons : (k,) int persons carried (≥ 0).
        tag : (k,) int caller's id (e.g. household index).
        t_s : departure time(s), s. A trip departs in the first step whose end lies after ``t_s``
            (not before ``t_s``, nor before the step starts) and waits at its node until its first link
            admits it.

        Returns
        -------
        (k,) int64 trip ids.
        """
        origin = np.atleast_1d(np.asarray(origin_node, dtype=np.int64))
        k = origin.size
        dest_a = np.broadcast_to(np.asarray(dest, dtype=np.int64), (k,))
        mode_a = np.broadcast_to(np.asarray(mode, dtype=np.int64), (k,))
        pers = np.broadcast_to(np.asarray(persons, dtype=np.int64), (k,))
        tag_a = np.broadcast_to(np.asarray(tag, dtype=np.int64), (k,))
        t_a = np.broadcast_to(np.asarray(t_s, dtype=np.float64), (k,))
        if k and (origin.min() < 0 or origin.max() >= self.n_nodes):
            raise ValueError("add_trips: an origin node lies outside the road graph")
        if k and (dest_a.min() < -1 or dest_a.max() >= self.n_dest):
            raise ValueError(f"add_trips: destination indices must lie in -1..{self.n_dest - 1}")
        if k and not np.isin(mode_a, (CAR, WALK)).all():
            raise ValueError("add_trips: mode must be 0 (car) or 1 (pedestrian)")
        if k and (pers.min() < 0 or not np.all(np.isfinite(t_a))):
            raise ValueError("add_trips: persons must be ≥ 0 and departure times finite")
        n0 = self.n_trips
        self._ensure(n0 + k)
        st = self._st
        ids = np.arange(n0, n0 + k, dtype=np.int64)
        st.status[ids] = WAITING
        st.mode[ids] = mode_a
        st.row[ids] = np.where(dest_a < 0, self.n_dest, dest_a)
        st.node[ids] = origin
        st.link[ids] = -1
        st.nxt[ids] = -1
        st.time_s[ids] = t_a
        st.moved[ids] = -1
        self._persons[ids] = pers
        self._tag[ids] = tag_a
        st.counters[K.C_N_TRIPS] = n0 + k
        p0, p1 = int(st.counters[K.C_PEND_START]), int(st.counters[K.C_PEND_END])
        pend = np.concatenate([st.pending[p0:p1], ids])
        pend = pend[np.lexsort((pend, st.time_s[pend]))]
        st.pending[: pend.size] = pend
        st.counters[K.C_PEND_START] = 0
        st.counters[K.C_PEND_END] = pend.size
        return ids

    def step(self, t_s: float) -> StepReport:
        """Advance from ``t_s`` to ``t_s + dt_s`` (s) and report arrivals and newly stopped trips."""
        self.t_s = float(t_s)
        na, nr = K.traffic_step(self._net, self._routes, self._st, self.t_s, self.dt_s, self._out)
        self.t_s = float(t_s) + self.dt_s
        o = self._out
        return StepReport(t_end_s=self.t_s, arrived=o.arrived[:na].copy(), arrived_dest=o.arrived_dest[:na].copy(),
                          arrived_t_s=o.arrived_t_s[:na].copy(), no_route=o.no_route[:nr].copy())

    def redirect(self, trip_ids: np.ndarray, new_dest: np.ndarray) -> None:
        """Send trips toward ``new_dest`` (index, ``-1`` = nearest open) from where they are.

        Trips on the network or waiting change their target in place (they choose the next link by the
        new one at their next node). Arrived or stopped trips wait at their node again from the current
        time (the end of the last step), in the order given.
        """
        ids = np.atleast_1d(np.asarray(trip_ids, dtype=np.int64))
        d = np.broadcast_to(np.asarray(new_dest, dtype=np.int64), ids.shape)
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_trips):
            raise ValueError("redirect: unknown trip id")
        if ids.size and (d.min() < -1 or d.max() >= self.n_dest):
            raise ValueError(f"redirect: destination indices must lie in -1..{self.n_dest - 1}")
        if np.unique(ids).size != ids.size:
            raise ValueError("redirect: repeated trip id")
        st = self._st
        st.row[ids] = np.where(d < 0, self.n_dest, d)
        done = ids[(st.status[ids] == ARRIVED) | (st.status[ids] == NO_ROUTE)]
        if done.size:
            K.push_waiting_kernel(st, done, float(self.t_s))

    def retire(self, trip_ids: np.ndarray) -> None:
        """End stopped (no-route) trips for good (status ``RETIRED``): they never resume (e.g. people rescued)."""
        ids = np.atleast_1d(np.asarray(trip_ids, dtype=np.int64))
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_trips):
            raise ValueError("retire: unknown trip id")
        st = self._st
        moving = (st.status[ids] == WAITING) | (st.status[ids] == ON_NETWORK)
        if moving.any():
            raise ValueError("retire: only stopped or arrived trips can be retired")
        st.status[ids] = RETIRED

    # ------------------------------------------------------------------------------------------ views
    @property
    def trip_status(self) -> np.ndarray:
        """(n_trips,) int8 status: 0 waiting, 1 on network, 2 arrived, 3 no route (read-only)."""
        return _readonly(self._st.status[: self.n_trips])

    @property
    def trip_mode(self) -> np.ndarray:
        """(n_trips,) int8 mode: 0 car, 1 pedestrian (read-only)."""
        return _readonly(self._st.mode[: self.n_trips])

    @property
    def trip_tag(self) -> np.ndarray:
        """(n_trips,) int64 caller's id (read-only)."""
        return _readonly(self._tag[: self.n_trips])

    @property
    def trip_persons(self) -> np.ndarray:
        """(n_trips,) int64 persons per trip (read-only)."""
        return _readonly(self._persons[: self.n_trips])

    @property
    def trip_link(self) -> np.ndarray:
        """(n_trips,) int64 current edge, −1 off the network (read-only)."""
        return _readonly(self._st.link[: self.n_trips])

    @property
    def trip_node(self) -> np.ndarray:
        """(n_trips,) int64 node the trip is at, or the tail of its current link (read-only)."""
        return _readonly(self._st.node[: self.n_trips])

    @property
    def trip_time_s(self) -> np.ndarray:
        """(n_trips,) float64: departure time (waiting), earliest exit (on a link), arrival/stop time (s)."""
        return _readonly(self._st.time_s[: self.n_trips])

    @property
    def trip_dest(self) -> np.ndarray:
        """(n_trips,) int64 destination index each trip heads for, −1 = nearest open."""
        r = self._st.row[: self.n_trips]
        return np.where(r == self.n_dest, NEAREST, r)

    @property
    def link_vehicles(self) -> np.ndarray:
        """(n_edges,) int64 cars on each edge (read-only)."""
        return _readonly(self._st.count[K.CAR])

    @property
    def link_pedestrians(self) -> np.ndarray:
        """(n_edges,) int64 pedestrian groups on each edge (read-only)."""
        return _readonly(self._st.count[K.WALK])

    @property
    def link_storage(self) -> np.ndarray:
        """(n_edges,) int64 cars each edge holds (read-only)."""
        return _readonly(self._net.storage)

    @property
    def vehicles_on_network(self) -> int:
        """Cars on links now."""
        return int(self._st.count[K.CAR].sum())

    @property
    def persons_arrived(self) -> int:
        """Persons of all arrived trips."""
        n = self.n_trips
        return int(self._persons[:n][self._st.status[:n] == ARRIVED].sum())

    @property
    def next_edge(self) -> np.ndarray:
        """(n_dest + 1, n_nodes) int64 routing table in force (read-only; see :func:`route_table`)."""
        return _readonly(self._routes.next_edge)

    def travel_times_s(self, sources: np.ndarray) -> np.ndarray:
        """Free-flow × speed-factor shortest travel times by car, s.

        Parameters
        ----------
        sources : (k,) int source nodes.

        Returns
        -------
        (k, n_nodes) float64, ``inf`` where unreachable (closed links are impassable).
        """
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        if src.size and (src.min() < 0 or src.max() >= self.n_nodes):
            raise ValueError("travel_times_s: a source node lies outside the road graph")
        g = _graph(self._tail, self._head, self._net.tt_s[K.CAR], self.n_nodes, reverse=False)
        return np.atleast_2d(dijkstra(g, directed=True, indices=src))
