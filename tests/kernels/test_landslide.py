"""Landslide kernels against the plain-numpy reference, and their invariants.

Tolerances: kernel vs reference failure times rtol 1e-12 (same formulas, different summation code: only
rounding may differ); run-out paths must match exactly (integer cells); analytic first passage rtol 1e-12.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels.landslide import failure_times, runout
from sim.kernels.routing import d8_receivers, fill_depressions
from tests.reference.landslide_reference import reference_failure_times, reference_runout


# ---------------------------------------------------------------------------------------------- failures
@st.composite
def failure_inputs(draw):
    n_t = draw(st.integers(1, 30))
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    e0 = rng.uniform(0, 4, n_t) * (rng.random(n_t) < 0.8)
    steps = rng.uniform(600, 3600, n_t)
    t_edges = np.concatenate([[0.0], np.cumsum(steps)])
    gain = rng.uniform(0, 3, n)
    susc = rng.uniform(0, 1, n)
    expo = -np.log1p(-rng.random(n)) + 1e-9
    rate = draw(st.floats(0.001, 5.0))
    cap = draw(st.floats(1.5, 6.0))
    return e0, t_edges, gain, susc, rate, cap, expo


@settings(max_examples=40, deadline=None)
@given(failure_inputs())
def test_failure_times_equal_reference(args):
    e0, t_edges, gain, susc, rate, cap, expo = args
    got = failure_times(e0, t_edges, gain, susc, rate, cap, expo)
    ref = reference_failure_times(e0, t_edges, gain, susc, rate, cap, expo)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-12, atol=1e-9)
    assert ((got[fin] >= t_edges[0]) & (got[fin] <= t_edges[-1])).all()


@settings(max_examples=30, deadline=None)
@given(failure_inputs(), st.floats(1.0, 3.0))
def test_more_rain_never_fewer_or_later_failures(args, boost):
    """Same random arrays, exceedance × boost ≥ 1: the failed set can only grow and times only move earlier."""
    e0, t_edges, gain, susc, rate, cap, expo = args
    base = failure_times(e0, t_edges, gain, susc, rate, cap, expo)
    more = failure_times(e0 * boost, t_edges, gain, susc, rate, cap, expo)
    assert np.isfinite(more).sum() >= np.isfinite(base).sum()
    assert np.all(np.isfinite(more) | ~np.isfinite(base))
    fin = np.isfinite(base)
    assert np.all(more[fin] <= base[fin] + 1e-6)


def test_zero_rain_gives_no_failures():
    rng = np.random.default_rng(3)
    n = 500
    out = failure_times(np.zeros(48), np.arange(49) * 3600.0, rng.uniform(0, 5, n), rng.random(n), 10.0, 5.0,
                        -np.log1p(-rng.random(n)))
    assert np.isinf(out).all()


def test_exceedance_at_or_below_one_never_fails():
    n = 200
    out = failure_times(np.full(24, 1.0), np.arange(25) * 3600.0, np.ones(n), np.ones(n), 100.0, 5.0,
                        np.full(n, 1e-6))
    assert np.isinf(out).all()


def test_constant_exceedance_matches_analytic_first_passage():
    """λ = r S (E − 1) constant ⇒ t = x / λ exactly (rtol 1e-12)."""
    e, rate, s = 2.5, 0.36, 0.5
    x = np.array([0.01, 0.1, 0.5])
    lam = rate / 3600.0 * s * (e - 1.0)
    got = failure_times(np.full(100, e), np.arange(101) * 3600.0, np.ones(3), np.full(3, s), rate, 5.0, x)
    np.testing.assert_allclose(got, x / lam, rtol=1e-12)


def test_failure_wrapper_validates():
    with pytest.raises(ValueError):
        failure_times(np.ones(3), np.arange(3.0), np.ones(2), np.ones(2), 1.0, 5.0, np.ones(2))
    with pytest.raises(ValueError):
        failure_times(np.ones(3), np.arange(4.0), np.ones(2), np.ones(3), 1.0, 5.0, np.ones(2))
    with pytest.raises(ValueError):
        failure_times(np.ones(3), np.arange(4.0), np.ones(2), np.ones(2), 1.0, 1.0, np.ones(2))
    with pytest.raises(ValueError):
        failure_times(np.ones(3), np.arange(4.0), np.ones(2), np.ones(2), 1.0, 5.0, np.ones(2),
                      out=np.empty(2, np.float32))


# ---------------------------------------------------------------------------------------------- run-out
@st.composite
def terrains(draw):
    nr = draw(st.integers(3, 14))
    nc = draw(st.integers(3, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # a tilted plane plus bumps: long downhill paths and some depressions
    rows, cols = np.indices((nr, nc))
    z = draw(st.floats(0.0, 80.0)) * rows + rng.uniform(0, draw(st.floats(1.0, 300.0)), (nr, nc))
    river = np.zeros((nr, nc), np.int8)
    k = rng.integers(0, nr * nc, size=rng.integers(0, 4))
    river.ravel()[k] = rng.integers(1, 4, size=k.size)
    filled, _ = fill_depressions(z, np.ones((nr, nc), bool))
    receiver, _ = d8_receivers(filled, np.ones((nr, nc), bool), 100.0)
    if draw(st.booleans()):
        # raw elevations along filled-DEM receivers: paths may meet uphill steps (depressions)
        zz = z
    else:
        zz = filled
    land = np.flatnonzero(~np.isin(river.ravel(), (1, 2)))
    n_src = draw(st.integers(1, 6))
    sources = rng.choice(land, size=min(n_src, land.size), replace=False)
    tan = rng.uniform(0.05, 0.9, sources.size)
    crown = rng.uniform(0, 60, sources.size)
    return zz, receiver, river, sources.astype(np.int64), tan, crown


@settings(max_examples=30, deadline=None)
@given(terrains(), st.integers(1, 30))
def test_runout_equals_reference_and_invariants(terrain, max_steps):
    z, receiver, river, sources, tan, crown = terrain
    path, count, hit = runout(sources, tan, crown, z, receiver, river, 100.0, max_steps)
    zf = z.ravel()
    for i, s in enumerate(sources):
        ref_cells, ref_hit = reference_runout(s, tan[i], crown[i], z, receiver, river, 100.0, max_steps)
        cells = path[i, :count[i]]
        assert cells.tolist() == ref_cells
        assert bool(hit[i]) == ref_hit
        assert (path[i, count[i]:] == -1).all()
        # invariants: starts at the source, terminates, never uphill, never a big-river cell, follows receivers
        assert cells[0] == s and 1 <= count[i] <= max_steps
        assert np.all(np.diff(zf[cells]) <= 0)
        assert not np.isin(river.ravel()[cells], (1, 2)).any()
        assert all(receiver.ravel()[a] == b for a, b in zip(cells[:-1], cells[1:], strict=True))


def test_runout_terminates_on_cyclic_receivers_and_stops_at_river():
    z = np.zeros((1, 4))
    receiver = np.array([[1, 0, 3, 2]], dtype=np.int64)  # a 2-cycle: only max_steps can stop it
    river = np.zeros((1, 4), np.int8)
    path, count, _ = runout(np.array([0]), np.array([1e-9]), np.array([1e6]), z, receiver, river, 10.0, 7)
    assert count[0] == 7
    river[0, 1] = 1
    path, count, hit = runout(np.array([0]), np.array([1e-9]), np.array([1e6]), z, receiver, river, 10.0, 7)
    assert count[0] == 1 and hit[0] == 1


def test_steep_slope_runs_far_and_reach_angle_stops_on_gentle_ground():
    """A 45° slope onto a flat valley: debris runs down the slope and stops where H/L < tan α."""
    nc = 30
    x = np.arange(nc) * 10.0
    z = np.where(x < 100.0, 100.0 - x, 0.0)[None, :] * np.ones((3, 1))
    receiver = np.full((3, nc), -1, np.int64)
    for c in range(nc - 1):
        receiver[1, c] = nc + c + 1
    river = np.zeros((3, nc), np.int8)
    path, count, _ = runout(np.array([nc]), np.array([0.5]), np.array([5.0]), z, receiver, river, 10.0, 100)
    cells = path[0, :count[0]] - nc
    # H = 105 − z, L = 5 + 10 k ⇒ stop at the first k with H/L < 0.5: on the flat, k = 20 gives 105/205 ≥ 0.5
    # and k = 21 gives 105/215 < 0.5
    assert cells[-1] == 20


def test_runout_wrapper_validates():
    z = np.zeros((3, 3))
    rec = -np.ones((3, 3), np.int64)
    riv = np.zeros((3, 3), np.int8)
    with pytest.raises(ValueError):
        runout(np.array([9]), np.array([0.5]), np.array([0.0]), z, rec, riv, 10.0)
    with pytest.raises(ValueError):
        runout(np.array([0]), np.array([0.5]), np.array([0.0]), z, rec.astype(np.int32), riv, 10.0)
    with pytest.raises(ValueError):
        runout(np.array([0]), np.array([0.0]), np.array([0.0]), z, rec, riv, 10.0)


# ---------------------------------------------------------------------------------------------- threads
def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(7)
    n = 20_000
    args = (rng.uniform(0, 4, 72), np.arange(73) * 3600.0, rng.uniform(0, 3, n), rng.random(n), 0.5, 5.0,
            -np.log1p(-rng.random(n)))
    z = np.cumsum(rng.uniform(0, 5, (120, 120)), axis=0)[::-1].copy()
    filled, _ = fill_depressions(z, np.ones(z.shape, bool))
    rec, _ = d8_receivers(filled, np.ones(z.shape, bool), 30.0)
    river = np.zeros(z.shape, np.int8)
    river[-1, :] = 1
    src = rng.choice(z.size - 120, 3000, replace=False).astype(np.int64)
    rargs = (src, rng.uniform(0.05, 0.6, src.size), rng.uniform(0, 20, src.size), filled, rec, river, 30.0, 150)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = failure_times(*args), runout(*rargs)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = failure_times(*args), runout(*rargs)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(one[0], two[0])
    for a, b in zip(one[1], two[1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(one[0]).any() and (one[1][1] > 1).any()  # the comparison is not vacuous
