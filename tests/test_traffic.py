"""Traffic on the shipped district: evacuation to shelters, conservation, redirects, bridge closures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from sim.traffic import ARRIVED, CAR, NEAREST, NO_ROUTE, ON_NETWORK, WALK, Traffic, TrafficParams

DT = 10.0


@pytest.fixture(scope="module")
def roads(district100):
    csr = district100.road_csr
    dest = np.array([district100.node_of(s.x_m, s.y_m) for s in district100.shelters], dtype=np.int64)
    cap = np.array([s.capacity_persons for s in district100.shelters], dtype=np.int64)
    return csr, dest, cap


def random_trips(csr, k: int, seed: int):
    rng = np.random.default_rng(seed)
    n = csr.indptr.size - 1
    origin = rng.integers(0, n, k)
    mode = np.where(rng.random(k) < 0.1, WALK, CAR)
    persons = rng.integers(1, 6, k)
    t_dep = rng.uniform(0, 1800.0, k)
    return origin, mode, persons, t_dep


def check_invariants(tr: Traffic):
    status = np.asarray(tr.trip_status)
    assert np.isin(status, (0, 1, 2, 3)).all()
    on = status == ON_NETWORK
    link = np.asarray(tr.trip_link)
    assert ((link >= 0) == on).all()
    cars = on & (np.asarray(tr.trip_mode) == CAR)
    np.testing.assert_array_equal(np.bincount(link[cars], minlength=tr.n_edges), tr.link_vehicles)
    assert tr.vehicles_on_network == int(cars.sum())
    assert (np.asarray(tr.link_vehicles) <= tr.link_storage).all()


def run_until_done(tr: Traffic, t_max: float, check_every: int = 25):
    t, k = 0.0, 0
    arrived, dest, times = [], [], []
    while t < t_max:
        rep = tr.step(t)
        arrived.append(rep.arrived)
        dest.append(rep.arrived_dest)
        times.append(rep.arrived_t_s)
        if k % check_every == 0:
            check_invariants(tr)
        t, k = rep.t_end_s, k + 1
        if t > 1800.0 and not np.isin(tr.trip_status, (0, 1)).any():
            break
    return np.concatenate(arrived), np.concatenate(dest), np.concatenate(times)


def test_five_thousand_trips_to_nearest_shelters(roads):
    """All 5,000 trips (10 % walking) reach an open shelter (none is unreachable on the connected network),
    each at its shelter's node, never before it departed; persons are conserved."""
    csr, dest, _ = roads
    origin, mode, persons, t_dep = random_trips(csr, 5000, seed=1)
    tr = Traffic(csr, dest, DT, max_trips=1000)  # grows on the way
    ids = tr.add_trips(origin, NEAREST, mode, persons, np.arange(5000), t_dep)
    np.testing.assert_array_equal(ids, np.arange(5000))
    arrived, at, times = run_until_done(tr, 48 * 3600.0)
    status = np.asarray(tr.trip_status)
    assert np.isin(status, (ARRIVED, NO_ROUTE)).all()
    assert (status == ARRIVED).all()
    assert np.unique(arrived).size == arrived.size == 5000
    np.testing.assert_array_equal(np.asarray(tr.trip_node)[arrived], dest[at])
    assert (times >= t_dep[arrived] - 1e-9).all()
    assert tr.persons_arrived == persons.sum()
    # nobody walks faster than the free-flow shortest time
    tt = tr.travel_times_s(np.unique(origin))
    row = np.searchsorted(np.unique(origin), origin[arrived])
    free = tt[row, dest[at]]
    assert (times - t_dep[arrived] >= free - 1e-6).all()


def test_full_shelters_redirect_to_the_nearest_open_one(roads):
    """Shelters hold 300 persons here: trips arriving at a full one are redirected to the nearest open
    shelter; in the end no shelter holds more than its capacity (+ the persons of one trip) and persons are
    conserved."""
    csr, dest, _ = roads
    cap = np.full(dest.size, 300)
    origin, mode, persons, t_dep = random_trips(csr, 3000, seed=2)
    tr = Traffic(csr, dest, DT)
    tr.add_trips(origin, NEAREST, mode, persons, np.arange(3000), t_dep)
    held = np.zeros(dest.size, dtype=np.int64)
    t, redirected = 0.0, 0
    while t < 48 * 3600.0:
        rep = tr.step(t)
        t = rep.t_end_s
        go_on = []
        for i, d in zip(rep.arrived, rep.arrived_dest, strict=True):
            p = tr.trip_persons[i]
            if held[d] + p > cap[d]:
                go_on.append(i)
            else:
                held[d] += p
        tr.set_open(cap - held >= 5)  # room for any trip (1–5 persons)
        if go_on:
            redirected += len(go_on)
            tr.redirect(np.array(go_on), NEAREST)
        if t > 1800.0 and not np.isin(tr.trip_status, (0, 1)).any():
            break
    status = np.asarray(tr.trip_status)
    assert redirected > 0
    assert np.isin(status, (ARRIVED, NO_ROUTE)).all()
    assert (held <= cap).all()
    stopped = np.asarray(tr.trip_persons)[status == NO_ROUTE].sum()
    assert held.sum() + stopped == persons.sum() == tr.persons_arrived + stopped
    # the capacity, 300 × 29 = 8,700 places, is below the 9,000-odd persons: some are left without a shelter
    assert held.sum() <= cap.sum()


def test_closing_every_bridge_strands_cross_river_trips_until_reopened(roads):
    """With all bridges closed the banks separate: trips to a shelter across stop as NO_ROUTE (reported
    once), nearest-shelter trips stay on their bank; after reopening the stopped trips arrive too.
    (Some cut-off parts have no shelter at all; origins there are not used.)"""
    csr, dest, _ = roads
    tr = Traffic(csr, dest, DT)
    f = np.where(csr.bridge, 0.0, 1.0)
    tr.set_speed_factor(f)
    tt = tr.travel_times_s(dest[:1])[0]
    # nodes cut off from shelter 0 that still reach some shelter on their own bank
    across = np.flatnonzero(np.isinf(tt) & (np.asarray(tr.next_edge)[dest.size] != -1))
    assert across.size > 0
    rng = np.random.default_rng(3)
    o1 = rng.choice(across, 200)
    stuck = tr.add_trips(o1, 0, CAR, 2, np.arange(200), 0.0)
    near = tr.add_trips(o1, NEAREST, CAR, 2, np.arange(200), 0.0)
    seen_no_route: list[int] = []
    t = 0.0
    for _ in range(720):
        rep = tr.step(t)
        seen_no_route += rep.no_route.tolist()
        t = rep.t_end_s
    assert sorted(seen_no_route) == stuck.tolist()
    assert (np.asarray(tr.trip_status)[near] == ARRIVED).all()
    # every nearest-shelter trip stayed on its bank: it reached a shelter node that shelter 0 cannot reach
    assert np.isinf(tt[np.asarray(tr.trip_node)[near]]).all()
    tr.set_speed_factor(np.ones(csr.head.size))
    assert (np.asarray(tr.trip_status)[stuck] == 0).all()
    for _ in range(2000):
        rep = tr.step(t)
        t = rep.t_end_s
        if (np.asarray(tr.trip_status) == ARRIVED).all():
            break
    assert (np.asarray(tr.trip_status) == ARRIVED).all()
    assert (np.asarray(tr.trip_node)[stuck] == dest[0]).all()


def test_same_inputs_same_results(roads):
    csr, dest, _ = roads
    origin, mode, persons, t_dep = random_trips(csr, 2000, seed=4)
    out = []
    for _ in range(2):
        tr = Traffic(csr, dest, DT, TrafficParams(jam_spacing_m=6.0))
        tr.add_trips(origin, NEAREST, mode, persons, np.arange(2000), t_dep)
        out.append(run_until_done(tr, 24 * 3600.0, check_every=10**9))
    for a, b in zip(out[0], out[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_routing_table_leads_every_node_to_a_destination(roads):
    """On the strongly connected district every node has a route to every shelter and to the nearest one,
    and following the table from any node ends at the shelter's node."""
    csr, dest, _ = roads
    from scipy.sparse import csr_matrix

    n = csr.indptr.size - 1
    g = csr_matrix((np.ones(csr.head.size), csr.head, csr.indptr), shape=(n, n))
    assert connected_components(g, connection="strong")[0] == 1
    tr = Traffic(csr, dest, DT)
    table = np.asarray(tr.next_edge)
    assert (table != -1).all()
    for row in (0, dest.size):
        node = np.arange(n)
        for _ in range(n):
            e = table[row, node]
            move = e >= 0
            if not move.any():
                break
            node = np.where(move, csr.head[np.where(move, e, 0)], node)
        assert (table[row, node] == -2).all()
    assert set(np.unique(node)) <= set(dest.tolist())


def test_rejects_bad_inputs(roads):
    csr, dest, _ = roads
    tr = Traffic(csr, dest, DT)
    with pytest.raises(ValueError, match="destination"):
        tr.add_trips([0], [dest.size], CAR, 1, 0, 0.0)
    with pytest.raises(ValueError, match="origin"):
        tr.add_trips([10**6], [0], CAR, 1, 0, 0.0)
    with pytest.raises(ValueError, match="mode"):
        tr.add_trips([0], [0], 2, 1, 0, 0.0)
    with pytest.raises(ValueError, match="factors"):
        tr.set_speed_factor(np.ones(3))
    with pytest.raises(ValueError):
        TrafficParams(jam_spacing_m=0.0)


def test_retired_trips_never_resume(district100):
    from sim.traffic import RETIRED

    csr = district100.road_csr
    tr = Traffic(csr, np.array([0], dtype=np.int64), 60.0)
    closed = np.zeros(csr.head.size)
    tr.set_speed_factor(closed)  # every link closed: no route anywhere
    ids = tr.add_trips(np.array([5, 6]), np.array([-1, -1]), np.array([0, 0]), np.array([2, 3]),
                       np.array([0, 1]), 0.0)
    for k in range(3):
        tr.step(60.0 * k)
    assert (tr.trip_status[ids] == NO_ROUTE).all()
    tr.retire(ids[:1])
    tr.set_speed_factor(np.ones(csr.head.size))  # routes again: the stopped trip resumes, the retired not
    assert tr.trip_status[ids[0]] == RETIRED and tr.trip_status[ids[1]] != NO_ROUTE
    with pytest.raises(ValueError, match="only stopped"):
        tr.retire(ids[1:])
