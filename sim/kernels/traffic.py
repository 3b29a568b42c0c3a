"""Mesoscopic link-queue (spatial-queue) traffic on a directed road graph: one serial step.

The kernels follow the project contract (DESIGN §3.1): ``@njit(cache=True)``, arrays in, state and ``out``
buffers updated in place, no globals but constants, no randomness. Everything a step needs is grouped in
four NamedTuples: :class:`TrafficNet` (per-edge link properties of the moment), :class:`TrafficRoutes`
(the next-edge table), :class:`TrafficState` (trips, link queues, node waiting lists) and
:class:`StepBuffers` (what happened in the step). :mod:`sim.traffic` builds and owns them.

Model of one step ``t → t_end = t + dt``
----------------------------------------
Every trip is one *vehicle* (mode :data:`CAR`) or one walking group (mode :data:`WALK`). A trip is
``WAITING`` (at a node, before departure or after a redirect), ``ON_NETWORK`` (in the FIFO of a link),
``ARRIVED`` or ``NO_ROUTE``. Each directed link ``e`` has one FIFO per mode.

1. *Release*: pending trips whose departure time is ``< t_end`` join, in order of (departure time, trip
   id), the tail of the waiting list of their node and mode.
2. *Outflow capacity*: with ``c_e = capacity_veh_per_h · dt / 3600`` vehicles per step, an open link
   gets ``⌊c_e⌋`` whole departures for the step, and its fractional accumulator ``a_e`` grows by
   ``c_e − ⌊c_e⌋`` if it is below 1 (MATSim's flow-capacity accumulator). A car may leave while a whole
   departure is left or ``a_e ≥ 1`` (which then drops by 1). So at most ``⌈c_e⌉`` cars leave in a step, a
   standing queue discharges exactly ``c_e`` per step on average, over any ``k`` steps at most
   ``⌈k c_e⌉ + 1`` leave, and a lone car on an idle link is never held back (``a_e`` waits at ≥ 1).
3. *Nodes* in increasing index ``n``; at each node, its incoming links in increasing edge id, then its
   waiting lists (cars, then pedestrians):

   * a link ``e`` that is closed sends nobody (its vehicles wait on it). Otherwise its car FIFO sends its
     head trip ``i`` while a departure is left (whole, or ``a_e ≥ 1``), ``i`` did not already move in this
     step, its exit time ``τ_i < t_end``, and its next link ``ne = next_edge[row_i, n]`` is open and holds
     fewer cars than its storage ``s_ne`` (else the queue stops: spill-back). The trip leaves at
     ``t_x = max(τ_i, t)`` and enters ``ne`` with ``τ_i = t_x + L_ne / v_ne``. ``ne = ARRIVE`` (−2) means
     the node is its destination: it arrives at ``t_x``; ``ne = −1`` means no route: it stops at the node
     as ``NO_ROUTE``.
     The pedestrian FIFO works the same with no tickets and no storage limit (closed links still block).
   * a waiting list is scanned from its head: a trip leaves as soon as its next link admits it (same
     rules, entering at ``max(departure time, t)``), arrives if the node is its destination, or becomes
     ``NO_ROUTE``; trips whose next link is full or closed keep their place. The scan stops early once
     every out-link of the node has refused a trip of this mode in this step.

Because each trip moves at most once per step and nodes are processed in a fixed order, a step is a
deterministic function of the state; the plain-Python reference ``tests/reference/traffic_reference.py``
follows these rules with deques and lists and must agree exactly. Storage freed downstream earlier in the
sweep is visible to links processed later in the same step (the usual serial spatial-queue convention).
Travel time on a link is fixed when a trip enters it (a later change of speed factor affects later
entries only); a free-flowing trip therefore needs exactly ``Σ L/v`` provided every link takes at least
one step to traverse.

Cost: per step ``O(n_nodes + n_edges)`` cheap tests plus the work of the trips that move or are refused;
a travelling (not yet due) queue head costs one comparison. Serial, so independent of the thread count.

References
----------
Gawron, C. (1998). An iterative algorithm to determine the dynamic user equilibrium in a traffic
simulation model. *International Journal of Modern Physics C* 9(3), 393–407 (the queue model).
Cetin, N., Burri, A., Nagel, K. (2003). A large-scale agent-based traffic microsimulation based on queue
model. *STRC 2003* (storage, flow capacity with fractional carry-over, spill-back; MATSim's QSim).
Yperman, I. (2007). *The link transmission model for dynamic network loading*. PhD thesis, KU Leuven.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

# trip status (int8)
WAITING, ON_NETWORK, ARRIVED, NO_ROUTE = 0, 1, 2, 3
STATUS_NAMES = {WAITING: "waiting to depart", ON_NETWORK: "on the network", ARRIVED: "arrived",
                NO_ROUTE: "no route"}
# trip mode (int8)
CAR, WALK = 0, 1
# special entries of the next-edge table
ARRIVE = -2  # this node is the trip's destination
NO_EDGE = -1  # no route from this node

# entries of TrafficState.counters
C_N_TRIPS, C_PEND_START, C_PEND_END, C_STEP = 0, 1, 2, 3
N_COUNTERS = 4


class TrafficNet(NamedTuple):
    """Link properties of the moment (rebuilt by the caller when speed factors change)."""

    out_ptr: np.ndarray  # (n_nodes + 1,) int64 CSR offsets of out-edges (edges sorted by tail)
    in_ptr: np.ndarray  # (n_nodes + 1,) int64 offsets into in_edge per head node
    in_edge: np.ndarray  # (n_edges,) int64 edge ids grouped by head node, increasing within a node
    is_open: np.ndarray  # (n_edges,) uint8, 0 = closed (speed factor 0)
    tt_s: np.ndarray  # (2, n_edges) float64 traversal time of an entering car / pedestrian, s (inf if closed)
    cap_per_step: np.ndarray  # (n_edges,) float64 outflow capacity, vehicles per step
    storage: np.ndarray  # (n_edges,) int64 vehicles the link holds, ≥ 1


class TrafficRoutes(NamedTuple):
    """Routing table: row ``d < n_dest`` leads to destination ``d``; the last row to the nearest open one."""

    next_edge: np.ndarray  # (n_dest + 1, n_nodes) int64 edge to take, ARRIVE or NO_EDGE
    node_dest: np.ndarray  # (n_nodes,) int64 lowest open destination index at a node, −1 if none


class TrafficState(NamedTuple):
    """Trips (first ``counters[C_N_TRIPS]`` rows valid), link FIFOs and node waiting lists."""

    status: np.ndarray  # (m,) int8 WAITING / ON_NETWORK / ARRIVED / NO_ROUTE
    mode: np.ndarray  # (m,) int8 CAR / WALK
    row: np.ndarray  # (m,) int64 row of the next-edge table the trip follows
    node: np.ndarray  # (m,) int64 node the trip is at, or the tail of its link
    link: np.ndarray  # (m,) int64 current edge, −1 off the network
    nxt: np.ndarray  # (m,) int64 next trip in the same FIFO / waiting list, −1 at the tail
    time_s: np.ndarray  # (m,) float64 departure time (waiting), exit time τ (on a link), arrival/stop time
    moved: np.ndarray  # (m,) int64 step number of the trip's last move
    q_head: np.ndarray  # (2, n_edges) int64 first trip of each link FIFO per mode, −1 if empty
    q_tail: np.ndarray  # (2, n_edges) int64
    count: np.ndarray  # (2, n_edges) int64 trips in each link FIFO per mode
    cap_frac: np.ndarray  # (n_edges,) float64 fractional capacity accumulator a_e, [0, 2)
    ticket: np.ndarray  # (n_edges,) int64 scratch: whole departures left this step
    blocked: np.ndarray  # (2, n_edges) int64 scratch: step in which a waiting trip was refused entry
    w_head: np.ndarray  # (2, n_nodes) int64 first waiting trip per mode and node, −1 if none
    w_tail: np.ndarray  # (2, n_nodes) int64
    pending: np.ndarray  # (m,) int64 trips not yet released, [C_PEND_START, C_PEND_END) valid, sorted
    counters: np.ndarray  # (N_COUNTERS,) int64


class StepBuffers(NamedTuple):
    """Events of one step; ``n[0]`` arrivals and ``n[1]`` new no-route trips are valid."""

    arrived: np.ndarray  # (m,) int64 trip ids
    arrived_dest: np.ndarray  # (m,) int64 destination index reached
    arrived_t_s: np.ndarray  # (m,) float64 arrival time, s
    no_route: np.ndarray  # (m,) int64 trip ids
    n: np.ndarray  # (2,) int64


@njit(cache=True)
def _push(head: np.ndarray, tail: np.ndarray, nxt: np.ndarray, k: int, j: int, i: int) -> None:
    """Append trip ``i`` to the singly linked list ``(k, j)`` of ``head``/``tail``."""
    nxt[i] = -1
    last = tail[k, j]
    if last < 0:
        head[k, j] = i
    else:
        nxt[last] = i
    tail[k, j] = i


@njit(cache=True)
def _enter(net: TrafficNet, st: TrafficState, i: int, e: int, n: int, t_enter: float, step: int) -> None:
    """Put trip ``i`` at the tail of link ``e`` (leaving node ``n``) at time ``t_enter`` s."""
    m = st.mode[i]
    st.status[i] = ON_NETWORK
    st.link[i] = e
    st.node[i] = n
    st.time_s[i] = t_enter + net.tt_s[m, e]
    st.moved[i] = step
    _push(st.q_head, st.q_tail, st.nxt, m, e, i)
    st.count[m, e] += 1


@njit(cache=True)
def _finish(routes: TrafficRoutes, st: TrafficState, out: StepBuffers, i: int, n: int, ne: int,
            t_s: float) -> None:
    """Take trip ``i`` off the network at node ``n``: arrived (``ne == ARRIVE``) or no route."""
    st.link[i] = -1
    st.node[i] = n
    st.time_s[i] = t_s
    st.nxt[i] = -1
    if ne == ARRIVE:
        st.status[i] = ARRIVED
        r = st.row[i]
        k = out.n[0]
        out.arrived[k] = i
        out.arrived_dest[k] = r if r < routes.next_edge.shape[0] - 1 else routes.node_dest[n]
        out.arrived_t_s[k] = t_s
        out.n[0] = k + 1
    else:
        st.status[i] = NO_ROUTE
        k = out.n[1]
        out.no_route[k] = i
        out.n[1] = k + 1


@njit(cache=True)
def _admits(net: TrafficNet, st: TrafficState, m: int, ne: int) -> bool:
    """Return True if link ``ne`` admits one more trip of mode ``m`` now."""
    if net.is_open[ne] == 0:
        return False
    return m != CAR or st.count[CAR, ne] < net.storage[ne]


@njit(cache=True)
def _drain_link(net: TrafficNet, routes: TrafficRoutes, st: TrafficState, out: StepBuffers, e: int, n: int,
                m: int, t: float, t_end: float, step: int) -> None:
    """Send trips of mode ``m`` from the head of link ``e`` across its head node ``n``."""
    while True:
        i = st.q_head[m, e]
        if i < 0:
            return
        if m == CAR and st.ticket[e] <= 0 and st.cap_frac[e] < 1.0:
            return
        if st.moved[i] == step or st.time_s[i] >= t_end:
            return
        ne = routes.next_edge[st.row[i], n]
        if ne >= 0 and not _admits(net, st, m, ne):
            return
        st.q_head[m, e] = st.nxt[i]
        if st.nxt[i] < 0:
            st.q_tail[m, e] = -1
        st.count[m, e] -= 1
        if m == CAR:
            if st.ticket[e] > 0:
                st.ticket[e] -= 1
            else:
                st.cap_frac[e] -= 1.0
        t_exit = max(st.time_s[i], t)
        if ne >= 0:
            _enter(net, st, i, ne, n, t_exit, step)
        else:
            _finish(routes, st, out, i, n, ne, t_exit)


@njit(cache=True)
def _depart(net: TrafficNet, routes: TrafficRoutes, st: TrafficState, out: StepBuffers, n: int, m: int,
            t: float, step: int) -> None:
    """Scan the waiting list of mode ``m`` at node ``n``; start, finish or keep each trip."""
    deg = net.out_ptr[n + 1] - net.out_ptr[n]
    refused = 0
    prev = -1
    i = st.w_head[m, n]
    while i >= 0:
        if deg > 0 and refused >= deg:
            return
        nx = st.nxt[i]
        ne = routes.next_edge[st.row[i], n]
        if ne >= 0 and not _admits(net, st, m, ne):
            if st.blocked[m, ne] != step:
                st.blocked[m, ne] = step
                refused += 1
            prev = i
            i = nx
            continue
        if prev < 0:
            st.w_head[m, n] = nx
        else:
            st.nxt[prev] = nx
        if nx < 0:
            st.w_tail[m, n] = prev
        t_go = max(st.time_s[i], t)
        if ne >= 0:
            _enter(net, st, i, ne, n, t_go, step)
        else:
            _finish(routes, st, out, i, n, ne, t_go)
        i = nx


@njit(cache=True)
def traffic_step_kernel(net: TrafficNet, routes: TrafficRoutes, st: TrafficState, t_s: float, dt_s: float,
                        out: StepBuffers) -> np.ndarray:
    """Advance the network from ``t_s`` to ``t_s + dt_s`` (s); return ``out.n`` (arrivals, new no-route).

    See the module docstring for the rules. ``st`` is updated in place; ``out`` is overwritten.
    """
    t_end = t_s + dt_s
    step = st.counters[C_STEP] + 1
    st.counters[C_STEP] = step
    out.n[0] = 0
    out.n[1] = 0
    # 1. release pending departures
    p = st.counters[C_PEND_START]
    p_end = st.counters[C_PEND_END]
    while p < p_end:
        i = st.pending[p]
        if st.time_s[i] >= t_end:
            break
        _push(st.w_head, st.w_tail, st.nxt, st.mode[i], st.node[i], i)
        p += 1
    st.counters[C_PEND_START] = p
    # 2. outflow capacity: whole departures and the fractional accumulator
    n_edges = net.is_open.shape[0]
    for e in range(n_edges):
        if net.is_open[e] != 0:
            c = net.cap_per_step[e]
            whole = math.floor(c)
            st.ticket[e] = np.int64(whole)
            if st.cap_frac[e] < 1.0:
                st.cap_frac[e] += c - whole
        else:
            st.ticket[e] = 0
    # 3. nodes in index order: incoming links, then departures. Helpers are called only when there is
    # something to do (passing the NamedTuples to a helper costs ~0.1 µs; idle and travelling queues
    # are the rule).
    n_nodes = net.out_ptr.shape[0] - 1
    q_head, w_head, time_s, moved = st.q_head, st.w_head, st.time_s, st.moved
    ticket, cap_frac, count, row = st.ticket, st.cap_frac, st.count, st.row
    is_open, storage, next_edge = net.is_open, net.storage, routes.next_edge
    for n in range(n_nodes):
        for k in range(net.in_ptr[n], net.in_ptr[n + 1]):
            e = net.in_edge[k]
            if is_open[e] == 0:
                continue
            i = q_head[CAR, e]  # the same tests as the first pass of _drain_link
            if i >= 0 and time_s[i] < t_end and moved[i] != step and (ticket[e] > 0 or cap_frac[e] >= 1.0):
                ne = next_edge[row[i], n]
                if ne < 0 or (is_open[ne] != 0 and count[CAR, ne] < storage[ne]):
                    _drain_link(net, routes, st, out, e, n, CAR, t_s, t_end, step)
            i = q_head[WALK, e]
            if i >= 0 and time_s[i] < t_end and moved[i] != step:
                _drain_link(net, routes, st, out, e, n, WALK, t_s, t_end, step)
        if w_head[CAR, n] >= 0:
            _depart(net, routes, st, out, n, CAR, t_s, step)
        if w_head[WALK, n] >= 0:
            _depart(net, routes, st, out, n, WALK, t_s, step)
    return out.n


@njit(cache=True)
def push_waiting_kernel(st: TrafficState, trip_ids: np.ndarray, t_s: float) -> None:
    """Make trips (arrived or stopped, off the network) wait at their node again from ``t_s`` (s), in order."""
    for k in range(trip_ids.shape[0]):
        i = trip_ids[k]
        st.status[i] = WAITING
        st.link[i] = -1
        st.time_s[i] = t_s
        _push(st.w_head, st.w_tail, st.nxt, st.mode[i], st.node[i], i)


def new_state(max_trips: int, n_nodes: int, n_edges: int) -> TrafficState:
    """Allocate an empty state with room for ``max_trips`` trips."""
    m = max(int(max_trips), 1)
    return TrafficState(
        status=np.zeros(m, np.int8), mode=np.zeros(m, np.int8), row=np.zeros(m, np.int64),
        node=np.zeros(m, np.int64), link=np.full(m, -1, np.int64), nxt=np.full(m, -1, np.int64),
        time_s=np.zeros(m), moved=np.full(m, -1, np.int64),
        q_head=np.full((2, n_edges), -1, np.int64), q_tail=np.full((2, n_edges), -1, np.int64),
        count=np.zeros((2, n_edges), np.int64), cap_frac=np.zeros(n_edges), ticket=np.zeros(n_edges, np.int64),
        blocked=np.full((2, n_edges), -1, np.int64), w_head=np.full((2, n_nodes), -1, np.int64),
        w_tail=np.full((2, n_nodes), -1, np.int64), pending=np.zeros(m, np.int64),
        counters=np.zeros(N_COUNTERS, np.int64))


def grow_state(st: TrafficState, max_trips: int) -> TrafficState:
    """Return a copy of ``st`` whose per-trip arrays hold ``max_trips`` (≥ current) trips."""
    m = st.status.shape[0]
    if max_trips <= m:
        return st
    fill = {"link": -1, "nxt": -1, "moved": -1}
    new = {}
    for name in ("status", "mode", "row", "node", "link", "nxt", "time_s", "moved", "pending"):
        a = getattr(st, name)
        b = np.full(max_trips, fill.get(name, 0), dtype=a.dtype)
        b[:m] = a
        new[name] = b
    return st._replace(**new)


def new_buffers(max_trips: int) -> StepBuffers:
    """Allocate step buffers for up to ``max_trips`` events of each kind."""
    m = max(int(max_trips), 1)
    return StepBuffers(arrived=np.zeros(m, np.int64), arrived_dest=np.zeros(m, np.int64),
                       arrived_t_s=np.zeros(m), no_route=np.zeros(m, np.int64), n=np.zeros(2, np.int64))


def traffic_step(net: TrafficNet, routes: TrafficRoutes, st: TrafficState, t_s: float, dt_s: float,
                 out: StepBuffers) -> tuple[int, int]:
    """Validate shapes, then run :func:`traffic_step_kernel`.

    Parameters
    ----------
    net : link properties; ``tt_s`` in s, ``cap_per_step`` in vehicles per step.
    routes : next-edge table and open destination per node.
    st : state, updated in place.
    t_s, dt_s : step start and length, s (``dt_s > 0``).
    out : event buffers with at least as many rows as ``st`` has trips.

    Returns
    -------
    (n_arrived, n_no_route) : numbers of valid rows in ``out``.
    """
    n_nodes = net.out_ptr.shape[0] - 1
    n_edges = net.is_open.shape[0]
    if dt_s <= 0:
        raise ValueError(f"traffic kernel: dt_s must be > 0, got {dt_s}")
    checks = (
        ("in_ptr", net.in_ptr, (n_nodes + 1,), np.int64), ("in_edge", net.in_edge, (n_edges,), np.int64),
        ("tt_s", net.tt_s, (2, n_edges), np.float64), ("cap_per_step", net.cap_per_step, (n_edges,), np.float64),
        ("storage", net.storage, (n_edges,), np.int64), ("is_open", net.is_open, (n_edges,), np.uint8),
        ("q_head", st.q_head, (2, n_edges), np.int64), ("w_head", st.w_head, (2, n_nodes), np.int64),
        ("node_dest", routes.node_dest, (n_nodes,), np.int64),
    )
    for name, a, shape, dtype in checks:
        if a.shape != shape or a.dtype != dtype:
            raise ValueError(f"traffic kernel: {name} must be {np.dtype(dtype).name} {shape}, got {a.dtype} {a.shape}")
    if routes.next_edge.ndim != 2 or routes.next_edge.shape[1] != n_nodes or routes.next_edge.dtype != np.int64:
        raise ValueError("traffic kernel: next_edge must be int64 (n_dest + 1, n_nodes)")
    if out.arrived.shape[0] < st.status.shape[0]:
        raise ValueError("traffic kernel: step buffers smaller than the trip arrays")
    n = traffic_step_kernel(net, routes, st, float(t_s), float(dt_s), out)
    return int(n[0]), int(n[1])
