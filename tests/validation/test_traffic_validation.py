"""Link-queue traffic against kinematic-wave results and invariants (tolerances in each docstring)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.roads import RoadCSR
from sim.traffic import ARRIVED, NO_ROUTE, ON_NETWORK, WAITING, Traffic, TrafficParams


def make_csr(edges, n_nodes=None, lanes=1):
    """RoadCSR from (tail, head, length_m, speed_kmh, capacity_veh_per_h) tuples."""
    edges = sorted(edges, key=lambda e: (e[0], e[1]))
    n = n_nodes or 1 + max(max(e[0], e[1]) for e in edges)
    tail = np.array([e[0] for e in edges], dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, tail + 1, 1)
    k = len(edges)
    return RoadCSR(indptr=np.cumsum(indptr), head=np.array([e[1] for e in edges], dtype=np.int64),
                   length_m=np.array([e[2] for e in edges], dtype=np.float64),
                   free_speed_kmh=np.array([e[3] for e in edges], dtype=np.float64),
                   lanes=np.full(k, lanes, dtype=np.int32),
                   capacity_veh_per_h=np.array([e[4] for e in edges], dtype=np.float64),
                   bridge=np.zeros(k, dtype=bool), node_x_m=np.arange(n) * 1000.0, node_y_m=np.zeros(n))


def edge_id(csr: RoadCSR, a: int, b: int) -> int:
    for e in range(csr.indptr[a], csr.indptr[a + 1]):
        if csr.head[e] == b:
            return int(e)
    raise KeyError((a, b))


def run(tr: Traffic, t0: float, t_max: float, on_step=None):
    """Step until every trip has arrived or stopped (or ``t_max``); return {trip: arrival time}."""
    arrivals: dict[int, float] = {}
    t = t0
    while t < t_max and ((tr.trip_status == WAITING) | (tr.trip_status == ON_NETWORK)).any():
        rep = tr.step(t)
        arrivals.update(zip(rep.arrived.tolist(), rep.arrived_t_s.tolist(), strict=True))
        if on_step is not None:
            on_step(tr, t, rep)
        t = rep.t_end_s
    return arrivals


@pytest.mark.parametrize("dt", [1.0, 7.0, 25.0])
@pytest.mark.parametrize("t_dep", [0.0, 3.3])
def test_free_flow_travel_time_is_sum_of_length_over_speed(dt, t_dep):
    """One car on an empty road of three links: arrival − departure = Σ L/v to 1e-9 s, whatever dt
    (as long as each link takes at least one step); a pedestrian takes Σ L / 1.2 m/s."""
    csr = make_csr([(0, 1, 1000.0, 36.0, 1800.0), (1, 2, 500.0, 60.0, 1800.0), (2, 3, 2500.0, 100.0, 3600.0)])
    tr = Traffic(csr, np.array([3]), dt)
    tr.add_trips([0, 0], 0, [0, 1], 1, [0, 1], t_dep)
    arr = run(tr, 0.0, 10_000.0)
    expect_car = 1000.0 / 10.0 + 500.0 / (60 / 3.6) + 2500.0 / (100 / 3.6)
    assert arr[0] - t_dep == pytest.approx(expect_car, abs=1e-9)
    assert arr[1] - t_dep == pytest.approx(4000.0 / 1.2, abs=1e-9)
    assert tr.persons_arrived == 2


@pytest.mark.parametrize("dt", [1.0, 10.0])
def test_bottleneck_discharges_at_capacity(dt):
    """600 cars released at once through a 1,200 veh/h link: the last arrives (N − 1)/C after the first
    within 2 %; no step passes more than ⌈C dt⌉, no window of k steps more than ⌈k C dt⌉ + 1 (one car of
    capacity saved while the link was idle), and at most C (t − t_first + dt) + 2 have arrived by any time."""
    n, cap = 600, 1200.0
    csr = make_csr([(0, 1, 5000.0, 60.0, 7200.0), (1, 2, 1000.0, 60.0, cap), (2, 3, 1000.0, 60.0, 7200.0)], lanes=2)
    tr = Traffic(csr, np.array([2]), dt)
    tr.add_trips(np.zeros(n, np.int64), 0, 0, 1, np.arange(n), 0.0)
    per_step = []
    arr = run(tr, 0.0, 20_000.0, on_step=lambda tr, t, rep: per_step.append(rep.arrived.size))
    assert len(arr) == n
    times = np.sort(np.array(list(arr.values())))
    clearance = times[-1] - times[0]
    assert clearance == pytest.approx((n - 1) / (cap / 3600.0), rel=0.02)
    c = cap * dt / 3600.0
    counts = np.array(per_step)
    csum = np.concatenate([[0], np.cumsum(counts)])
    assert counts.max() <= math.ceil(c - 1e-9)
    for k in (2, 3, 7, 30):
        window = csum[k:] - csum[:-k]
        assert window.max() <= math.ceil(k * c - 1e-9) + 1, k
    t_grid = np.arange(times[0], times[-1] + dt, dt)
    arrived_by = np.searchsorted(times, t_grid, side="right")  # arrivals stamped within [t, t + dt)
    assert (arrived_by <= cap / 3600.0 * (t_grid - times[0] + dt) + 2 + 1e-9).all()


def test_spill_back_fills_upstream_storage_and_never_exceeds_it():
    """A 360 veh/h exit bottleneck behind two short links: the queue fills C, then B, then A (each to its
    storage, never beyond), the origin holds the rest, and B then discharges at the bottleneck rate."""
    jam = 7.5
    edges = [(0, 1, 300.0, 36.0, 3600.0),  # A: storage 40
             (1, 2, 150.0, 36.0, 3600.0),  # B: storage 20
             (2, 3, 225.0, 36.0, 360.0),  # C: storage 30, the bottleneck
             (3, 4, 1000.0, 36.0, 3600.0)]
    csr = make_csr(edges)
    tr = Traffic(csr, np.array([4]), 1.0, TrafficParams(jam_spacing_m=jam))
    storage = tr.link_storage
    np.testing.assert_array_equal(storage, [40, 20, 30, 133])
    n = 200
    tr.add_trips(np.zeros(n, np.int64), 0, 0, 1, np.arange(n), 0.0)
    peak = np.zeros(4, np.int64)
    origin_queue = []
    b_exits = []

    def watch(tr, t, rep):
        counts = np.asarray(tr.link_vehicles)
        assert (counts <= storage).all()
        np.maximum(peak, counts, out=peak)
        origin_queue.append(int((tr.trip_status == WAITING).sum()))
        b_exits.append(int(((tr.trip_link == 2) | (tr.trip_link == 3) | (tr.trip_status == ARRIVED)).sum()))

    arr = run(tr, 0.0, 10_000.0, on_step=watch)
    assert len(arr) == n
    np.testing.assert_array_equal(peak[:3], storage[:3])  # A, B and C were full at some time
    assert max(origin_queue[100:]) > 0  # spill-back reached the origin
    # while the queue stands, B's outflow equals the bottleneck capacity (0.1 veh/s)
    rate = (b_exits[1000] - b_exits[500]) / 500.0
    assert rate == pytest.approx(0.1, rel=0.02)


def test_closure_reroutes_en_route_and_holds_cars_on_the_closed_link():
    """Closing the short way while cars approach it sends them round the detour; a car already on the
    closed link waits there until it reopens; no car enters a closed link."""
    edges = [(0, 1, 1000.0, 36.0, 72000.0), (1, 3, 1000.0, 36.0, 72000.0), (1, 2, 1500.0, 36.0, 72000.0),
             (2, 3, 1500.0, 36.0, 72000.0)]  # 20 cars per second: no capacity delay
    csr = make_csr(edges)
    short, detour = edge_id(csr, 1, 3), edge_id(csr, 1, 2)
    tr = Traffic(csr, np.array([3]), 1.0)
    first = tr.add_trips([0], 0, 0, 1, [0], 0.0)  # on 1→3 at t = 100 s
    t = 0.0
    while t < 120.0:
        tr.step(t)
        t += 1.0
    assert tr.trip_link[first[0]] == short
    later = tr.add_trips(np.zeros(20, np.int64), 0, 0, 1, np.arange(20), t)
    f = np.ones(csr.head.size)
    f[short] = 0.0
    tr.set_speed_factor(f)
    assert tr.next_edge[0, 1] == detour
    entered = []

    def watch(tr, t, rep):
        entered.append(int(tr.link_vehicles[short]))
        if t >= 2000.0 and tr.speed_factor[short] == 0.0:
            tr.set_speed_factor(np.ones(csr.head.size))

    arr = run(tr, t, 5000.0, on_step=watch)
    assert max(entered) == 1  # only the car that was on it before the closure
    for i in later:
        assert arr[int(i)] - 120.0 == pytest.approx(100.0 + 150.0 + 150.0, abs=1.0)
    assert arr[int(first[0])] >= 2000.0  # it waited for the reopening


def test_unreachable_destination_stops_trips_and_they_resume_when_reopened():
    """With the only link into the destination closed, cars stop as NO_ROUTE (reported once) and resume
    after the link reopens; persons are conserved throughout."""
    csr = make_csr([(0, 1, 500.0, 36.0, 1800.0), (1, 2, 500.0, 36.0, 1800.0), (1, 0, 500.0, 36.0, 1800.0)])
    tr = Traffic(csr, np.array([2]), 1.0)
    f = np.ones(3)
    f[edge_id(csr, 1, 2)] = 0.0
    tr.set_speed_factor(f)
    tr.add_trips(np.zeros(5, np.int64), [0, 0, -1, -1, 0], 0, 3, np.arange(5), 0.0)
    rep = tr.step(0.0)
    assert sorted(rep.no_route.tolist()) == [0, 1, 2, 3, 4]
    assert (tr.trip_status == NO_ROUTE).all()
    tr.step(1.0)
    tr.set_speed_factor(np.ones(3))
    assert (tr.trip_status == WAITING).all()
    arr = run(tr, 2.0, 1000.0)
    assert len(arr) == 5 and tr.persons_arrived == 15


def test_pedestrians_ignore_capacity_and_storage_but_not_closure():
    """300 walkers through a 36 veh/h, 1-car link all arrive at L / 1.2 m/s; a closed link stops them."""
    csr = make_csr([(0, 1, 600.0, 30.0, 36.0), (1, 2, 7.0, 30.0, 36.0)])
    tr = Traffic(csr, np.array([2]), 2.0)
    assert tr.link_storage[1] == 1
    tr.add_trips(np.zeros(300, np.int64), 0, 1, 1, np.arange(300), 0.0)
    arr = run(tr, 0.0, 5000.0)
    assert np.allclose(list(arr.values()), 607.0 / 1.2)
    tr2 = Traffic(csr, np.array([2]), 2.0)
    tr2.set_speed_factor(np.array([0.0, 1.0]))
    tr2.add_trips([0], 0, 1, 1, [0], 0.0)
    rep = tr2.step(0.0)
    assert rep.no_route.tolist() == [0]  # no open way out of the origin


def test_travel_times_follow_speed_factor_and_closure():
    csr = make_csr([(0, 1, 1000.0, 36.0, 1800.0), (1, 2, 1000.0, 36.0, 1800.0), (0, 2, 3000.0, 36.0, 1800.0)])
    tr = Traffic(csr, np.array([2]), 1.0)
    np.testing.assert_allclose(tr.travel_times_s([0])[0], [0.0, 100.0, 200.0])
    f = np.ones(3)
    f[edge_id(csr, 1, 2)] = 0.5
    tr.set_speed_factor(f)
    np.testing.assert_allclose(tr.travel_times_s([0])[0], [0.0, 100.0, 300.0])
    f[edge_id(csr, 0, 2)] = 0.0
    f[edge_id(csr, 1, 2)] = 0.0
    tr.set_speed_factor(f)
    assert np.isinf(tr.travel_times_s([0])[0, 2])
