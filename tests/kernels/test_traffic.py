"""Traffic kernel: exact agreement with the plain-Python reference, determinism, conservation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels import traffic as K
from tests.reference.traffic_reference import ReferenceTraffic


def random_network(rng: np.random.Generator, n_nodes: int):
    """A random directed graph (edges sorted by tail) with link properties and a random routing table."""
    pairs = set()
    for _ in range(rng.integers(n_nodes, 3 * n_nodes + 1)):
        a, b = rng.integers(0, n_nodes, 2)
        if a != b:
            pairs.add((int(a), int(b)))
    for a in range(n_nodes):  # every node has an out-edge
        if not any(p[0] == a for p in pairs):
            pairs.add((a, (a + 1) % n_nodes))
    edges = sorted(pairs)
    if rng.random() < 0.5 and edges:  # a parallel edge
        edges.append(edges[rng.integers(len(edges))])
        edges.sort()
    tail = np.array([e[0] for e in edges], dtype=np.int64)
    head = np.array([e[1] for e in edges], dtype=np.int64)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.add.at(indptr, tail + 1, 1)
    return np.cumsum(indptr), tail, head


def random_links(rng, n_edges: int, closed_p: float):
    tt = np.empty((2, n_edges))
    tt[0] = rng.choice([0.5, 1.0, 2.5, 3.0, 7.25], n_edges) * rng.integers(1, 4, n_edges)
    tt[1] = tt[0] * rng.uniform(1.0, 4.0, n_edges)
    is_open = (rng.random(n_edges) >= closed_p).astype(np.uint8)
    tt[:, is_open == 0] = np.inf
    cap = rng.choice([0.3, 0.5, 0.8, 1.0, 1.7, 3.0], n_edges)
    storage = rng.integers(1, 5, n_edges).astype(np.int64)
    return tt, cap, storage, is_open


def random_routes(rng, indptr, n_rows: int):
    n = indptr.size - 1
    table = np.empty((n_rows, n), dtype=np.int64)
    for r in range(n_rows):
        for v in range(n):
            u = rng.random()
            if u < 0.1:
                table[r, v] = K.ARRIVE
            elif u < 0.15:
                table[r, v] = K.NO_EDGE
            else:
                table[r, v] = rng.integers(indptr[v], indptr[v + 1])
    node_dest = rng.integers(-1, n_rows - 1, n).astype(np.int64)
    return K.TrafficRoutes(next_edge=table, node_dest=node_dest)


def make_net(indptr, head, tt, cap, storage, is_open):
    n = indptr.size - 1
    in_edge = np.argsort(head, kind="stable").astype(np.int64)
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(in_ptr, head + 1, 1)
    return K.TrafficNet(out_ptr=indptr, in_ptr=np.cumsum(in_ptr), in_edge=in_edge, is_open=is_open,
                        tt_s=tt, cap_per_step=cap, storage=storage)


def add_trips(state: K.TrafficState, node, row, mode, t_s):
    """Append trips to a kernel state (what :meth:`sim.traffic.Traffic.add_trips` does)."""
    n0 = int(state.counters[K.C_N_TRIPS])
    ids = np.arange(n0, n0 + len(node))
    state.status[ids] = K.WAITING
    state.node[ids] = node
    state.row[ids] = row
    state.mode[ids] = mode
    state.time_s[ids] = t_s
    state.link[ids] = -1
    state.counters[K.C_N_TRIPS] = n0 + len(node)
    p0, p1 = state.counters[K.C_PEND_START], state.counters[K.C_PEND_END]
    pend = np.concatenate([state.pending[p0:p1], ids])
    pend = pend[np.lexsort((pend, state.time_s[pend]))]
    state.pending[: pend.size] = pend
    state.counters[K.C_PEND_START] = 0
    state.counters[K.C_PEND_END] = pend.size
    return ids


def fifo(state: K.TrafficState, mode: int, e: int) -> list[int]:
    out, i = [], state.q_head[mode, e]
    while i >= 0:
        out.append(int(i))
        i = state.nxt[i]
    return out


def assert_same(state: K.TrafficState, ref: ReferenceTraffic, n_trips: int):
    for i in range(n_trips):
        tr = ref.trips[i]
        got = (int(state.status[i]), int(state.node[i]), int(state.link[i]), float(state.time_s[i]))
        assert got == (tr["status"], tr["node"], tr["link"], tr["time"]), f"trip {i}: {got} vs {tr}"
    for mode in (K.CAR, K.WALK):
        for e in range(ref.n_edges):
            assert fifo(state, mode, e) == list(ref.queue[mode][e]), f"link {e} mode {mode}"
        assert list(state.count[mode]) == ref.link_counts(mode)


def check_conservation(state: K.TrafficState, n_trips: int, n_edges: int):
    status = state.status[:n_trips]
    assert np.isin(status, (0, 1, 2, 3)).all()
    on = status == K.ON_NETWORK
    assert ((state.link[:n_trips] >= 0) == on).all()
    for mode in (K.CAR, K.WALK):
        sel = on & (state.mode[:n_trips] == mode)
        assert int(state.count[mode].sum()) == int(sel.sum())
        np.testing.assert_array_equal(np.bincount(state.link[:n_trips][sel], minlength=n_edges), state.count[mode])


def run_case(seed: int, steps: int = 60, check_ref: bool = True):
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(2, 9))
    indptr, _, head = random_network(rng, n_nodes)
    n_edges = head.size
    n_rows = int(rng.integers(1, 4))
    links = random_links(rng, n_edges, closed_p=0.15)
    net = make_net(indptr, head, *links)
    routes = random_routes(rng, indptr, n_rows)
    n_trips = int(rng.integers(1, 80))
    node = rng.integers(0, n_nodes, n_trips)
    row = rng.integers(0, n_rows, n_trips)
    mode = (rng.random(n_trips) < 0.3).astype(np.int64)
    t_dep = np.round(rng.uniform(0, 20, n_trips), 1)
    state = K.new_state(n_trips + 20, n_nodes, n_edges)
    out = K.new_buffers(n_trips + 20)
    add_trips(state, node, row, mode, t_dep)
    ref = ReferenceTraffic(indptr, head, *links)
    for i in range(n_trips):
        ref.add(node[i], row[i], mode[i], t_dep[i])
    dt = float(rng.choice([0.5, 1.0, 2.0]))
    t = 0.0
    log = []
    total = n_trips
    for k in range(steps):
        if k == steps // 3:  # links close/open, routes change, trips are added and redirected
            tt, cap, _, is_open = random_links(rng, n_edges, closed_p=0.3)
            links = (tt, cap, links[2], is_open)  # storage is a property of the road: kept
            net = make_net(indptr, head, *links)
            ref.set_links(*links)
            routes = random_routes(rng, indptr, n_rows)
            extra = int(rng.integers(0, 20))
            nn, rr, mm = rng.integers(0, n_nodes, extra), rng.integers(0, n_rows, extra), rng.integers(0, 2, extra)
            add_trips(state, nn, rr, mm, t)
            for j in range(extra):
                ref.add(nn[j], rr[j], mm[j], t)
            total += extra
            done = np.flatnonzero(state.status[:total] >= K.ARRIVED)[:5]
            new_rows = rng.integers(0, n_rows, done.size)
            state.row[done] = new_rows
            K.push_waiting_kernel(state, done.astype(np.int64), t)
            for i, r in zip(done, new_rows, strict=True):
                ref.redirect(int(i), int(r), t)
        na, nr = K.traffic_step(net, routes, state, t, dt, out)
        log.append((out.arrived[:na].tolist(), out.arrived_dest[:na].tolist(), out.arrived_t_s[:na].tolist(),
                    out.no_route[:nr].tolist()))
        if check_ref:
            ev = ref.step(t, dt, routes.next_edge, routes.node_dest)
            assert [a[0] for a in ev["arrived"]] == out.arrived[:na].tolist()
            assert [a[1] for a in ev["arrived"]] == out.arrived_dest[:na].tolist()
            assert [a[2] for a in ev["arrived"]] == out.arrived_t_s[:na].tolist()
            assert ev["no_route"] == out.no_route[:nr].tolist()
            assert_same(state, ref, total)
        check_conservation(state, total, n_edges)
        # a car FIFO never exceeds its storage
        assert (state.count[K.CAR] <= net.storage).all()
        t += dt
    return log, state


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_kernel_equals_reference(seed):
    run_case(seed)


def test_deterministic_repeat():
    a, sa = run_case(12345, steps=80, check_ref=False)
    b, sb = run_case(12345, steps=80, check_ref=False)
    assert a == b
    for name in K.TrafficState._fields:
        np.testing.assert_array_equal(getattr(sa, name), getattr(sb, name))


def test_validation_rejects_bad_shapes():
    rng = np.random.default_rng(0)
    indptr, _, head = random_network(rng, 4)
    tt, cap, storage, is_open = random_links(rng, head.size, 0.0)
    net = make_net(indptr, head, tt, cap, storage.astype(np.int32), is_open)
    routes = random_routes(rng, indptr, 2)
    state = K.new_state(4, 4, head.size)
    try:
        K.traffic_step(net, routes, state, 0.0, 1.0, K.new_buffers(4))
    except ValueError as exc:
        assert "storage" in str(exc)
    else:
        raise AssertionError("int32 storage accepted")


def test_grow_state_keeps_trips():
    state = K.new_state(3, 2, 1)
    add_trips(state, np.array([0, 1, 0]), np.zeros(3, np.int64), np.zeros(3, np.int64), np.array([2.0, 1.0, 0.0]))
    big = K.grow_state(state, 10)
    assert big.status.shape == (10,)
    np.testing.assert_array_equal(big.time_s[:3], [2.0, 1.0, 0.0])
    np.testing.assert_array_equal(big.pending[:3], [2, 1, 0])
    assert (big.link[3:] == -1).all()
