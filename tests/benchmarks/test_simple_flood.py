"""The benchmark's two numba peers are working flood steps (else their speed would mean nothing)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.simple_flood import bare_step, bare_step_spans, simple_step


def _box(nr: int = 40, nc: int = 50, seed: int = 3):
    rng = np.random.default_rng(seed)
    z = rng.random((nr, nc)) * 0.5
    return z, rng.uniform(4e-4, 2e-3, (nr, nc))  # Manning n² varying by cell, so that the face's n² matters


def _dam_break(z, n2, advance, n_steps: int):
    """Water 1.5 m deep in the ten western columns of a closed box, advanced ``n_steps`` times by
    ``advance(h, qx, qy)``; return ``(h, qx, qy)``."""
    h = np.zeros_like(z)
    h[:, :10] = 1.5
    qx, qy = np.zeros((z.shape[0], z.shape[1] + 1)), np.zeros((z.shape[0] + 1, z.shape[1]))
    for _ in range(n_steps):
        advance(h, qx, qy)
    return h, qx, qy


@pytest.mark.parametrize("step", [simple_step, bare_step])
def test_still_water_stays_still_over_uneven_ground(step):
    z, n2 = _box()
    h = 2.0 - z
    qx, qy = np.zeros((z.shape[0], z.shape[1] + 1)), np.zeros((z.shape[0] + 1, z.shape[1]))
    for _ in range(50):
        step(h, z, n2, qx, qy, 0.5, 10.0)
    np.testing.assert_allclose(h + z, 2.0, atol=1e-12)
    assert np.abs(qx).max() < 1e-12 and np.abs(qy).max() < 1e-12


@pytest.mark.parametrize("step", [simple_step, bare_step])
def test_a_dam_break_conserves_volume_and_spreads_downhill(step):
    z, n2 = _box()
    v0 = 1.5 * 10 * z.shape[0]
    h, _, _ = _dam_break(z, n2, lambda h, qx, qy: step(h, z, n2, qx, qy, 0.2, 10.0), 200)
    assert abs(h.sum() - v0) < 1e-9 * v0  # one flux per face, closed box
    assert h[:, 10:].sum() > 0.2 * v0  # the water moved east into the dry part
    assert (h > 1e-3).sum() > 40 * 15


def test_the_bare_step_is_the_simple_step_to_round_off():
    """Same scheme: only the power (Newton steps vs libm) and the branch (a select) differ."""
    z, n2 = _box()
    states = [_dam_break(z, n2, lambda h, qx, qy, step=step: step(h, z, n2, qx, qy, 0.2, 10.0), 200)
              for step in (simple_step, bare_step)]
    for a, b in zip(*states, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_the_bare_step_on_segments_covering_the_grid_is_the_bare_step():
    z, n2 = _box(nr=21, nc=37)  # partial tiles at the south and east edges
    tile = 8
    ntr, ntc = -(-21 // tile), -(-37 // tile)
    seg = np.array([(ti, tj, min(tj + 2, ntc)) for ti in range(ntr) for tj in range(0, ntc, 2)], np.int64)
    states = [_dam_break(z, n2, lambda h, qx, qy: bare_step(h, z, n2, qx, qy, 0.2, 10.0), 100),
              _dam_break(z, n2, lambda h, qx, qy: bare_step_spans(seg, len(seg), tile, h, z, n2, qx, qy, 0.2, 10.0),
                         100)]
    for a, b in zip(*states, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_bare_step_on_segments_leaves_other_cells_alone():
    z, n2 = _box(nr=16, nc=32)
    h = np.full_like(z, 1.0) - 0.5 * z
    h0 = h.copy()
    qx, qy = np.zeros((16, 33)), np.zeros((17, 32))
    seg = np.array([(0, 1, 3)], np.int64)  # tile row 0, tile columns 1-2: rows 0-7, columns 8-23
    for _ in range(20):
        bare_step_spans(seg, 1, 8, h, z, n2, qx, qy, 0.2, 10.0)
    outside = np.ones_like(h, bool)
    outside[0:8, 8:24] = False
    np.testing.assert_array_equal(h[outside], h0[outside])
    assert not np.array_equal(h[0:8, 8:24], h0[0:8, 8:24])
    # faces the segment does not own (its east and south edges, and everything outside) were not written
    qx_own, qy_own = np.zeros_like(qx, bool), np.zeros_like(qy, bool)
    qx_own[0:8, 8:24] = True
    qy_own[1:8, 8:24] = True
    assert not qx[~qx_own].any() and not qy[~qy_own].any()
    assert qx[qx_own].any() and qy[qy_own].any()
