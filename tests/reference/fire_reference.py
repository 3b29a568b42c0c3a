"""Plain-numpy, full-grid reference for the fire kernel (written from the equations, not from the kernel).

Where the kernel walks a sorted list of burning cells, the reference works on whole-grid arrays: the
uniforms of the front are scattered to an (8, nrows, ncols) grid, every direction is a shifted slice, and
the ids of the fires that reach a cell are combined with ``np.minimum`` — synchronous by construction,
because every quantity is computed from the step-start arrays before anything is written. Its cost grows
with the grid, not with the front: it is also the "plain numpy" baseline of ``benchmarks/bench_fire.py``.

numpy's SIMD ``arctan``/``exp``/``expm1`` may differ from libm (used by numba) in the last bit, so the
probabilities can differ by an ulp; a discrete outcome differs only if a uniform falls within that ulp
(probability ~1e-16 per draw), so states, ids and times are compared exactly.
"""

from __future__ import annotations

import math

import numpy as np

NONFUEL, UNBURNED, BURNING, BURNED = 0, 1, 2, 3
DR = (0, 1, 1, 1, 0, -1, -1, -1)
DC = (1, 1, 0, -1, -1, -1, 0, 1)
BIG = np.iinfo(np.int64).max


def _slices(d: int, n: int) -> tuple[slice, slice]:
    """Source and target slices along one axis for an offset ``d`` (target = source + d)."""
    if d >= 0:
        return slice(0, n - d), slice(d, n)
    return slice(-d, n), slice(0, n + d)


def reference_step(state, fire_id, ign_time_s, end_s, fuel, elev_m, fuel_table, wind_factor, params, rand,
                   spot_rand=None):
    """Return ``(state, fire_id, ign_time_s, end_s)`` after one step (new arrays; inputs untouched).

    Parameters
    ----------
    state, fire_id, ign_time_s : step-start grids (uint8, int32, float64).
    end_s : (nrows, ncols) float64 burn-out time of burning cells (NaN elsewhere).
    fuel, elev_m : fuel class (uint8) and elevation (float64) grids.
    fuel_table : (n_fuel, 3) R0 m/s, residence s, spot flag.
    wind_factor : (8,) wind factors.
    params : [cell_m, dt_s, t_new_s, slope_a, spot_p, spot_mean_m, spot_spread_rad, wind_to_rad].
    rand : (n, 8) uniforms of the burning cells in row-major order.
    spot_rand : (n, 3) uniforms for spotting or None.
    """
    cell, dt, t_new, a, spot_p, spot_mean, spot_spread, wind_to = (float(v) for v in params)
    nr, nc = state.shape
    burning = state == BURNING
    fr, fc = np.nonzero(burning)  # row-major = increasing flat index
    rgrid = np.full((8, nr, nc), np.inf)
    rgrid[:, fr, fc] = rand.T
    ros = fuel_table[:, 0]
    arrive = np.full((nr, nc), BIG, dtype=np.int64)  # smallest id of the fires that ignite each cell
    target_ok = state == UNBURNED
    for k in range(8):
        sr, tr = _slices(DR[k], nr)
        sc, tc = _slices(DC[k], nc)
        dist = cell if k % 2 == 0 else cell * math.sqrt(2.0)
        theta = np.arctan((elev_m[tr, tc] - elev_m[sr, sc]) / dist) * (180.0 / math.pi)
        rate = ros[fuel[tr, tc]] * wind_factor[k] * np.exp(a * theta)
        p = -np.expm1(-(rate * dt / dist))
        hit = burning[sr, sc] & target_ok[tr, tc] & (rgrid[k][sr, sc] < p)
        cand = np.where(hit, fire_id[sr, sc].astype(np.int64), BIG)
        arrive[tr, tc] = np.minimum(arrive[tr, tc], cand)
    if spot_rand is not None and spot_rand.shape[0] and spot_p > 0:
        lofts = (fuel_table[fuel[fr, fc], 2] > 0) & (spot_rand[:, 0] < spot_p)
        u1, u2 = spot_rand[lofts, 1], spot_rand[lofts, 2]
        dist_m = -spot_mean * np.log(1.0 - u1)
        ang = wind_to + (2.0 * u2 - 1.0) * spot_spread
        r2 = fr[lofts] + np.floor(-dist_m * np.cos(ang) / cell + 0.5).astype(np.int64)
        c2 = fc[lofts] + np.floor(dist_m * np.sin(ang) / cell + 0.5).astype(np.int64)
        ids = fire_id[fr[lofts], fc[lofts]].astype(np.int64)
        ok = (r2 >= 0) & (c2 >= 0) & (r2 < nr) & (c2 < nc)
        r2, c2, ids = r2[ok], c2[ok], ids[ok]
        ok = target_ok[r2, c2] & (ros[fuel[r2, c2]] > 0)
        np.minimum.at(arrive, (r2[ok], c2[ok]), ids[ok])
    new = arrive < BIG
    out_state, out_id, out_t, out_end = state.copy(), fire_id.copy(), ign_time_s.copy(), end_s.copy()
    done = burning & (end_s <= t_new)
    out_state[done] = BURNED
    out_end[done] = np.nan
    out_state[new] = BURNING
    out_id[new] = arrive[new].astype(np.int32)
    out_t[new] = t_new
    out_end[new] = t_new + fuel_table[fuel[new], 1]
    return out_state, out_id, out_t, out_end
