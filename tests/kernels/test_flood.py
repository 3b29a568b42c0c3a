"""Flood kernel against the plain-numpy reference, tile activity against the full grid, threads."""

from __future__ import annotations

import numba
import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sim.kernels import flood as K
from tests.reference import flood_reference as ref


def _random_case(seed: int, nr: int, nc: int):
    rng = np.random.default_rng(seed)
    z = rng.random((nr, nc)) * 2.0
    h = np.where(rng.random((nr, nc)) < 0.4, rng.random((nr, nc)) * 1.5, 0.0)
    inside = rng.random((nr, nc)) > 0.1
    h = np.where(inside, h, 0.0)
    n = 0.01 + 0.1 * rng.random((nr, nc))
    rf = rng.random((nr, nc))
    return z, h, inside, n, rf


def _run_kernel(z, h, inside, n, rf, theta, rain, src, steps, dt, force_all=False):
    sources = [(r, c, 0, 1.0) for r, c, _ in src]
    tr = K.build_terrain(z, n, inside, rf, [], sources)
    if force_all:
        tr = tr._replace(force_tiles=np.ones_like(tr.force_tiles))
    st_ = K.new_state(h)
    p = K.FloodParams(dx=10.0, theta=theta, alpha=0.7, dt_max=10.0, dt_fixed=dt)
    acc = K.new_accumulator()
    q = np.array([src[0][2] if src else 0.0])
    K.flood_advance(st_, tr, p, 0.0, steps * dt, rain, q, acc)
    return st_, tr


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), nr=st.integers(2, 30), nc=st.integers(2, 30),
       theta=st.floats(0.7, 1.0), raining=st.booleans(), with_source=st.booleans())
@example(seed=5, nr=13, nc=27, theta=0.9, raining=True, with_source=True)  # odd rows in a tile row: spare pair
def test_kernel_matches_numpy_reference(seed, nr, nc, theta, raining, with_source):
    """20 fixed steps of 0.5 s: depths and limited fluxes agree to rtol 1e-10 (libm vs numpy exp/log ulps)."""
    z, h, inside, n, rf = _random_case(seed, nr, nc)
    rain = 1e-3 if raining else 0.0
    src = [(nr // 2, nc // 2, 5.0)] if with_source and inside[nr // 2, nc // 2] else []
    steps, dt = 20, 0.5
    st_, tr = _run_kernel(z, h, inside, n, rf, theta, rain, src, steps, dt)
    hr, qx, qy = h.copy(), np.zeros((nr, nc + 1)), np.zeros((nr + 1, nc))
    for _ in range(steps):
        hr, qx, qy = ref.step(hr, tr.z, tr.n2, inside, qx, qy, dt, 10.0, theta, rain, tr.rain_factor,
                              [(r, c, q) for r, c, q in src])
    np.testing.assert_allclose(st_.h, hr, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st_.qx[0], qx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st_.qy[0], qy, rtol=1e-10, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), nr=st.integers(20, 70), nc=st.integers(20, 70))
@example(seed=9000, nr=28, nc=62)  # a cell dries at a tile edge while its face still carried flow
def test_active_tiles_equal_full_grid(seed, nr, nc):
    """Skipping idle tiles changes nothing: bitwise equal to forcing every tile active.

    The example needs the grace step of ``_refresh_tiles``: zeroing a tile's faces the moment it falls idle
    dropped a last nonzero limited flux that the neighbouring face's θ-average still reads.
    """
    rng = np.random.default_rng(seed)
    z = rng.random((nr, nc)) * 3.0
    h = np.zeros((nr, nc))
    r0, c0 = rng.integers(0, nr - 5), rng.integers(0, nc - 5)
    h[r0:r0 + 5, c0:c0 + 5] = 2.0
    a, _ = _run_kernel(z, h, np.ones((nr, nc), bool), 0.03, None, 0.7, 0.0, [], 200, 0.5)
    b, _ = _run_kernel(z, h, np.ones((nr, nc), bool), 0.03, None, 0.7, 0.0, [], 200, 0.5, force_all=True)
    assert np.array_equal(a.h, b.h)
    assert np.array_equal(a.qx, b.qx)
    assert np.array_equal(a.qy, b.qy)
    assert (a.h > 1e-3).sum() > 25  # the water spread beyond its start block


def test_identical_with_one_and_two_threads():
    rng = np.random.default_rng(7)
    z = rng.random((150, 170)) * 4.0
    h = np.where(rng.random((150, 170)) < 0.3, 1.0, 0.0)
    before = numba.get_num_threads()
    try:
        out = []
        for threads in (1, 2):
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            tr = K.build_terrain(z, 0.04, None, None, [(0, 0, "W", 0, 0.01)], [(75, 80, 0, 1.0)])
            s = K.new_state(h)
            p = K.FloodParams(dx=20.0, theta=0.8, alpha=0.7, dt_max=5.0, dt_fixed=0.0)
            acc = K.new_accumulator()
            K.flood_advance(s, tr, p, 0.0, 300.0, 2e-5, np.array([30.0]), acc)
            out.append((s.h.copy(), s.qx.copy(), acc.copy()))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(out[0][0], out[1][0])
    assert np.array_equal(out[0][1], out[1][1])
    assert np.array_equal(out[0][2], out[1][2])


def test_wrapper_rejects_bad_arrays():
    tr = K.build_terrain(np.zeros((4, 4)), 0.03)
    s = K.new_state(np.zeros((4, 4)))
    bad = s._replace(h=np.zeros((4, 4), np.float32))
    p = K.FloodParams(dx=1.0, theta=0.7, alpha=0.7, dt_max=1.0, dt_fixed=0.0)
    import pytest

    with pytest.raises(ValueError, match="h must be"):
        K.flood_advance(bad, tr, p, 0.0, 1.0, 0.0, np.zeros(1), K.new_accumulator())
    with pytest.raises(ValueError, match="bad parameters"):
        K.flood_advance(s, tr, p._replace(theta=1.5), 0.0, 1.0, 0.0, np.zeros(1), K.new_accumulator())


def test_max_depth_first_wetting_and_hazard_maximum_are_recorded():
    # regression: writes through the state NamedTuple inside the parallel loop were dropped by numba
    nr, nc = 16, 16
    tr = K.build_terrain(np.zeros((nr, nc)), 0.03, np.ones((nr, nc), bool))
    h = np.zeros((nr, nc))
    h[8, 8] = 1.0
    st = K.new_state(h)
    p = K.FloodParams(dx=10.0, theta=0.7, alpha=0.7, dt_max=5.0, dt_fixed=0.0)
    K.flood_advance(st, tr, p, 0.0, 60.0, 0.0, np.zeros(1), K.new_accumulator())
    wet = st.h > K.H_EPS
    assert wet.sum() > 1
    assert (st.h_max[wet] >= st.h[wet]).all()
    assert st.h_max[8, 9] > st.h[8, 9] > 0.0  # the wave passed and receded
    newly = (st.h_max >= K.H_WET) & (h == 0.0)
    assert newly.any() and (st.t_wet[newly] > 0.0).all() and (st.hr_max[newly] > 0.0).all()


def test_fast_tile_refresh_equals_the_whole_grid_refresh():
    rng = np.random.default_rng(4)
    nr, nc = 45, 61
    z = rng.uniform(0, 5, (nr, nc))
    tr = K.build_terrain(z, 0.03, np.ones((nr, nc), bool), sources=[(3, 3, 0, 1.0)])
    ntr, ntc = (nr + K.TILE - 1) // K.TILE, (nc + K.TILE - 1) // K.TILE
    for _ in range(20):
        h = np.where(rng.random((nr, nc)) < 0.03, rng.uniform(0, 1, (nr, nc)), 0.0)
        a, b = K.new_state(h), K.new_state(h)
        for s in (a, b):  # an earlier active set to start from
            K._scan_tiles(s, tr, ntr, ntc)
            K._refresh_tiles(s, tr, False, ntr, ntc)
        h2 = np.where(rng.random((nr, nc)) < 0.5, h, 0.0)  # some water drains away
        for s in (a, b):
            s.h[...] = h2
            K._scan_active(s, tr, ntc)
        K._refresh_tiles(a, tr, False, ntr, ntc)
        always = np.flatnonzero(tr.force_tiles).astype(np.int64)
        K._refresh_active(b, tr, False, ntr, ntc, always, always.size, np.empty(ntr * ntc, np.int64))
        assert a.n_active[0] == b.n_active[0]
        assert np.array_equal(a.tile_list[:a.n_active[0]], b.tile_list[:b.n_active[0]])
        assert np.array_equal(a.tile_active, b.tile_active) and not b.tile_next.any()


def test_friction_power_matches_the_library_power_to_round_off():
    """The multiplication-only ``h^(-7/3)`` of the friction term over the depths a flood spans."""
    from numba import njit

    @njit
    def many(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = K.inv_pow_7_3(x[i])
        return out

    x = np.concatenate([np.logspace(-5, 3, 20_001), np.random.default_rng(0).uniform(1e-4, 60, 20_000)])
    np.testing.assert_allclose(many(x), x ** (-7.0 / 3.0), rtol=1e-14, atol=0.0)


def test_keeping_the_active_set_between_calls_equals_rescanning():
    """``rescan=False`` (what FloodField does after its first call) gives the same water as a full rescan."""
    z, h, inside, n, rf = _random_case(11, 40, 37)
    h[8:, :] = 0.0  # mostly dry: most tiles start inactive, so rain must wake them
    sources = [(5, 5, 0, 1.0)]
    tr = K.build_terrain(z, n, inside, rf, [(20, 36, "E", 0, 0.01), (0, 10, "N", 1, 1.5)], sources)
    p = K.FloodParams(dx=10.0, theta=0.8, alpha=0.7, dt_max=10.0, dt_fixed=0.0)
    a, b = K.new_state(h), K.new_state(h)
    acc_a, acc_b = K.new_accumulator(), K.new_accumulator()
    t_a = t_b = 0.0
    for k in range(12):
        rain = 2e-5 if 4 <= k < 7 else 0.0  # rain starts and stops between calls
        q = np.array([3.0 if k < 6 else 0.0])
        t_a = K.flood_advance(a, tr, p, t_a, (k + 1) * 30.0, rain, q, acc_a, rescan=True)
        t_b = K.flood_advance(b, tr, p, t_b, (k + 1) * 30.0, rain, q, acc_b, rescan=k == 0)
    for f in ("h", "qx", "qy", "h_max", "t_wet", "hr_max"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    np.testing.assert_array_equal(acc_a, acc_b)
