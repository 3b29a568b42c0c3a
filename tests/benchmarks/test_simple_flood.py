"""The benchmark's simple numba peer is a working flood step (else its speed would mean nothing)."""

from __future__ import annotations

import numpy as np

from benchmarks.simple_flood import simple_step


def _box(nr: int = 40, nc: int = 50, seed: int = 3):
    rng = np.random.default_rng(seed)
    z = rng.random((nr, nc)) * 0.5
    return z, np.full((nr, nc), 0.0009)


def test_still_water_stays_still_over_uneven_ground():
    z, n2 = _box()
    h = 2.0 - z
    qx, qy = np.zeros((z.shape[0], z.shape[1] + 1)), np.zeros((z.shape[0] + 1, z.shape[1]))
    for _ in range(50):
        simple_step(h, z, n2, qx, qy, 0.5, 10.0)
    np.testing.assert_allclose(h + z, 2.0, atol=1e-12)
    assert np.abs(qx).max() < 1e-12 and np.abs(qy).max() < 1e-12


def test_a_dam_break_conserves_volume_and_spreads_downhill():
    z, n2 = _box()
    h = np.zeros_like(z)
    h[:, :10] = 1.5
    qx, qy = np.zeros((z.shape[0], z.shape[1] + 1)), np.zeros((z.shape[0] + 1, z.shape[1]))
    v0 = h.sum()
    for _ in range(200):
        simple_step(h, z, n2, qx, qy, 0.2, 10.0)
    assert abs(h.sum() - v0) < 1e-9 * v0  # one flux per face, closed box
    assert h[:, 10:].sum() > 0.2 * v0  # the water moved east into the dry part
    assert (h > 1e-3).sum() > 40 * 15
