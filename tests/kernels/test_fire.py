"""Fire kernel: exact agreement with the plain-numpy full-grid reference, order independence, thread count."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels import fire as kf
from tests.reference.fire_reference import reference_step

N_FUEL = 6


def random_case(seed: int, nrows: int, ncols: int, spotting: bool, huge_rate: bool = False):
    """A random mid-fire situation: states, ids, times, fuel, relief, weather and parameters."""
    rng = np.random.default_rng(seed)
    fuel = rng.integers(0, N_FUEL, (nrows, ncols)).astype(np.uint8)
    state = np.where(fuel > 0, kf.UNBURNED, kf.NONFUEL).astype(np.uint8)
    u = rng.random((nrows, ncols))
    state[(fuel > 0) & (u < 0.25)] = kf.BURNING
    state[(fuel > 0) & (u > 0.9)] = kf.BURNED
    fire_id = np.where(state >= kf.BURNING, rng.integers(0, 4, (nrows, ncols)), -1).astype(np.int32)
    ign = np.where(state >= kf.BURNING, rng.uniform(0, 600, (nrows, ncols)), np.nan)
    elev = rng.uniform(0, 80, (nrows, ncols)).cumsum(axis=0) * rng.uniform(0, 1)
    table = np.zeros((N_FUEL, kf.N_TABLE))
    table[1:, kf.T_ROS_M_S] = 1e9 if huge_rate else rng.uniform(0.001, 0.2, N_FUEL - 1)
    table[1:, kf.T_RESIDENCE_S] = rng.uniform(30, 1200, N_FUEL - 1)
    table[3:, kf.T_SPOT] = 1.0
    wind = kf.wind_factors(rng.uniform(0, 15), rng.uniform(0, 360))
    params = np.zeros(kf.N_PARAMS)
    params[kf.P_CELL_M] = rng.choice([30.0, 100.0])
    params[kf.P_DT_S] = 60.0
    params[kf.P_T_NEW_S] = 660.0
    params[kf.P_SLOPE_A] = 0.078
    params[kf.P_SPOT_P] = 0.3 if spotting else 0.0
    params[kf.P_SPOT_MEAN_M] = rng.uniform(50, 400)
    params[kf.P_SPOT_SPREAD_RAD] = math.radians(20)
    params[kf.P_WIND_TO_RAD] = rng.uniform(0, 2 * math.pi)
    front = np.flatnonzero(state == kf.BURNING).astype(np.int64)
    end_grid = np.full(state.shape, np.nan)
    end_grid.ravel()[front] = rng.uniform(600, 900, front.size)  # some burn out during the step
    return dict(state=state, fire_id=fire_id, ign=ign, fuel=fuel, elev=elev, table=table, wind=wind,
                params=params, front=front, end_grid=end_grid, rng=rng)


def run_both(case, steps: int, spotting: bool):
    """Advance kernel and reference side by side with the same uniforms; assert equality after each step."""
    k_state, k_id, k_ign = case["state"].copy(), case["fire_id"].copy(), case["ign"].copy()
    r_state, r_id, r_ign, r_end = case["state"].copy(), case["fire_id"].copy(), case["ign"].copy(), case[
        "end_grid"].copy()
    front = case["front"]
    front_end = case["end_grid"].ravel()[front].copy()
    params = case["params"].copy()
    rng = case["rng"]
    for step in range(steps):
        params[kf.P_T_NEW_S] = 660.0 + 60.0 * step
        n = front.size
        rand = rng.random((n, 8))
        spot = rng.random((n, 3)) if spotting else None
        r_state, r_id, r_ign, r_end = reference_step(r_state, r_id, r_ign, r_end, case["fuel"], case["elev"],
                                                     case["table"], case["wind"], params, rand, spot)
        front, front_end, new = kf.spread_step(k_state, k_id, k_ign, case["fuel"], case["elev"], case["table"],
                                               case["wind"], params, front, front_end, rand, spot)
        front, front_end, new = front.copy(), front_end.copy(), new.copy()
        np.testing.assert_array_equal(k_state, r_state)
        np.testing.assert_array_equal(k_id, r_id)
        np.testing.assert_array_equal(k_ign, r_ign)
        np.testing.assert_array_equal(front, np.flatnonzero(r_state == kf.BURNING))
        np.testing.assert_array_equal(front_end, r_end.ravel()[front])
        np.testing.assert_array_equal(new, np.flatnonzero(r_ign == params[kf.P_T_NEW_S]))
    return k_state, k_id


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), nrows=st.integers(1, 20), ncols=st.integers(1, 20),
       spotting=st.booleans())
def test_kernel_equals_numpy_reference(seed, nrows, ncols, spotting):
    """Kernel == full-grid reference exactly (states, ids, times, front, burn-out times) over 4 steps."""
    case = random_case(seed, nrows, ncols, spotting)
    run_both(case, steps=4, spotting=spotting)


def test_reference_comparison_can_fail():
    """A kernel bug (here: wrong wind direction) is caught by the comparison."""
    case = random_case(3, 20, 20, False)
    case["wind"] = kf.wind_factors(15.0, 0.0)
    good = case["wind"]
    rng = np.random.default_rng(0)
    n = case["front"].size
    rand = rng.random((n, 8))
    ref = reference_step(case["state"], case["fire_id"], case["ign"], case["end_grid"], case["fuel"], case["elev"],
                         case["table"], good, case["params"], rand)
    state = case["state"].copy()
    kf.spread_step(state, case["fire_id"].copy(), case["ign"].copy(), case["fuel"], case["elev"], case["table"],
                   good[::-1].copy(), case["params"], case["front"], case["end_grid"].ravel()[case["front"]].copy(),
                   rand)
    assert not np.array_equal(state, ref[0])


def test_result_does_not_depend_on_front_order():
    """Synchronous update: permuting the front (with its uniforms) leaves states, ids and times unchanged."""
    case = random_case(11, 20, 20, True)
    n = case["front"].size
    rng = np.random.default_rng(5)
    rand, spot = rng.random((n, 8)), rng.random((n, 3))
    end = case["end_grid"].ravel()[case["front"]].copy()
    outs = []
    for perm in (np.arange(n), np.random.default_rng(1).permutation(n), np.arange(n)[::-1]):
        s, i, t = case["state"].copy(), case["fire_id"].copy(), case["ign"].copy()
        kf.spread_step(s, i, t, case["fuel"], case["elev"], case["table"], case["wind"], case["params"],
                       case["front"][perm].copy(), end[perm].copy(), rand[perm].copy(), spot[perm].copy(),
                       check_front=False)
        outs.append((s, i, t))
    for s, i, t in outs[1:]:
        np.testing.assert_array_equal(s, outs[0][0])
        np.testing.assert_array_equal(i, outs[0][1])
        np.testing.assert_array_equal(t, outs[0][2])


def test_smallest_fire_id_wins():
    """Two fires reaching one cell in the same step: the smaller id takes it, whatever the order."""
    state = np.array([[kf.BURNING, kf.UNBURNED, kf.BURNING]], dtype=np.uint8)
    for ids in ((7, 3), (3, 7)):
        fire_id = np.array([[ids[0], -1, ids[1]]], dtype=np.int32)
        ign = np.array([[0.0, np.nan, 0.0]])
        table = np.zeros((2, 3))
        table[1] = (1e9, 600.0, 0.0)
        params = np.zeros(kf.N_PARAMS)
        params[[kf.P_CELL_M, kf.P_DT_S, kf.P_T_NEW_S]] = (100.0, 60.0, 60.0)
        s = state.copy()
        kf.spread_step(s, fire_id, ign, np.ones((1, 3), np.uint8), np.zeros((1, 3)), table, np.ones(8), params,
                       np.array([0, 2]), np.array([600.0, 600.0]), np.zeros((2, 8)))
        assert fire_id[0, 1] == 3 and ign[0, 1] == 60.0 and s[0, 1] == kf.BURNING


def test_same_results_with_one_and_two_threads():
    """Thread count does not change results (the kernel is serial over the front; checked anyway)."""
    before = numba.get_num_threads()
    try:
        out = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            case = random_case(42, 20, 20, True)
            out.append(run_both(case, steps=5, spotting=True))
        np.testing.assert_array_equal(out[0][0], out[1][0])
        np.testing.assert_array_equal(out[0][1], out[1][1])
    finally:
        numba.set_num_threads(before)


def test_wind_factors_match_alexandridis():
    """W = exp(c1 V) exp(c2 V (cos θ − 1)): 1 without wind; head, flank and back values at V = 10 m/s."""
    np.testing.assert_allclose(kf.wind_factors(0.0, 123.0), np.ones(8))
    c1, c2 = 0.045, 0.131
    w = kf.wind_factors(10.0, 270.0, c1, c2)  # from the west: blows to the east (k = 0)
    assert w[0] == pytest.approx(math.exp(c1 * 10))
    assert w[4] == pytest.approx(math.exp(c1 * 10 - 2 * c2 * 10))
    assert w[2] == pytest.approx(math.exp(c1 * 10 - c2 * 10)) and w[6] == pytest.approx(w[2])
    assert w[1] == pytest.approx(math.exp(c1 * 10 + c2 * 10 * (math.sqrt(0.5) - 1)))
    north = kf.wind_factors(10.0, 180.0)  # from the south: blows to the north (k = 6)
    assert int(np.argmax(north)) == 6


def test_wrapper_validates_inputs():
    case = random_case(1, 5, 5, False)
    n = case["front"].size
    args = [case["state"], case["fire_id"], case["ign"], case["fuel"], case["elev"], case["table"], case["wind"],
            case["params"], case["front"], case["end_grid"].ravel()[case["front"]].copy(), np.zeros((n, 8))]
    bad = list(args)
    bad[0] = case["state"].astype(np.int32)
    with pytest.raises(TypeError, match="state"):
        kf.spread_step(*bad)
    bad = list(args)
    bad[10] = np.zeros((n + 1, 8))
    with pytest.raises(ValueError, match="rand"):
        kf.spread_step(*bad)
    if n >= 2:
        bad = list(args)
        bad[8] = case["front"][::-1].copy()
        with pytest.raises(ValueError, match="increasing"):
            kf.spread_step(*bad)
