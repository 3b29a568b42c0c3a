"""Rainfall-triggered slope failure kernels: failure times from a hazard rate, and debris run-out on D8 paths.

Kernels follow the project contract (DESIGN §3.1): ``@njit(cache=True)``, arrays in, ``out=`` buffers,
no globals, no randomness (the caller draws the random numbers from the run's ``numpy.random.Generator``).
Loops over independent cells/slides use ``prange`` and write only their own slots, so results do not
depend on the thread count.

Failure time (first passage of a cumulative hazard)
---------------------------------------------------
A susceptible cell ``i`` with susceptibility ``S_i`` (dimensionless) and rain gain ``g_i`` (the cell's
rain factor over its threshold multiplier) sees the threshold exceedance ratio ``E_i,k = g_i E0_k`` during
clock step ``k`` (``E0_k``: the storm-centre ratio of rain intensity to the intensity–duration threshold,
maximised over durations). Its failure hazard rate is piecewise constant,

    λ_i,k = r S_i (min(E_i,k, E_cap) − 1)   if E_i,k > 1,   else 0        [1/s]

and the cell fails when the cumulative hazard Λ_i(t) = ∫ λ_i dt first reaches ``x_i`` ~ Exp(1) (drawn by the
caller as −log(1 − u)). This is exactly a Bernoulli draw per step with ``p = 1 − exp(−λ Δt)`` and gives the
failure instant inside the step; with the same ``x_i`` more rain can only make a cell fail earlier
(monotone by construction).

Run-out (travel-angle rule)
---------------------------
Debris leaves the source cell and follows the D8 receivers. With ``H`` the drop from the crown of the
source (cell-centre elevation + ``crown_m``) to a cell and ``L`` the horizontal path length from the crown
(half a cell to the source centre, then ``Δx`` or ``√2 Δx`` per step), debris enters the next cell only if

    H / L ≥ tan α    (the Fahrböschung / angle of reach, Heim 1932; Corominas 1996)

and it never moves uphill (nor into a NaN cell), never enters a big-river cell (``river_id`` 1 or 2: the
debris is taken by the river) and stops at an outlet (receiver −1) or after ``max_steps`` cells.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

SQRT2 = 1.4142135623730951


# ---------------------------------------------------------------------------------------------- failures
@njit(cache=True)
def _first_passage(e0, t_edges, gain, susc, rate_per_s, exceed_cap, target):
    """Return the time (s) at which the cumulative hazard first reaches ``target``; +inf if never."""
    acc = 0.0
    for k in range(e0.size):
        e = gain * e0[k]
        if e <= 1.0:
            continue
        if e > exceed_cap:
            e = exceed_cap
        lam = rate_per_s * susc * (e - 1.0)
        if lam <= 0.0:
            continue
        inc = lam * (t_edges[k + 1] - t_edges[k])
        if acc + inc >= target:
            t = t_edges[k] + (target - acc) / lam
            if t > t_edges[k + 1]:
                t = t_edges[k + 1]
            return t
        acc += inc
    return np.inf


@njit(cache=True, parallel=True)
def _failure_times(e0, t_edges, gain, susc, rate_per_s, exceed_cap, expo, out):
    for i in prange(gain.size):
        j = np.int64(i)
        out[j] = _first_passage(e0, t_edges, gain[j], susc[j], rate_per_s, exceed_cap, expo[j])
    return out


def failure_times(e0: np.ndarray, t_edges_s: np.ndarray, gain: np.ndarray, susceptibility: np.ndarray,
                  rate_per_h: float, exceed_cap: float, expo: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Return each cell's failure time: first passage of its cumulative hazard over its Exp(1) draw.

    Parameters
    ----------
    e0 : (n_steps,) float64, storm-centre exceedance ratio per clock step (intensity / threshold, max over
        durations), dimensionless, ≥ 0.
    t_edges_s : (n_steps + 1,) float64, strictly increasing step edges, seconds.
    gain : (n_cells,) float64, per-cell multiplier on ``e0`` (rain factor / threshold multiplier), ≥ 0.
    susceptibility : (n_cells,) float64, dimensionless, ≥ 0.
    rate_per_h : hazard rate at ``susceptibility`` 1 and exceedance 2, 1/h.
    exceed_cap : exceedance above which the rate stops growing (> 1).
    expo : (n_cells,) float64, Exp(1) draws from the run's Generator (one per cell).
    out : optional (n_cells,) float64 buffer.

    Returns
    -------
    numpy.ndarray
        ``out``: (n_cells,) float64 failure time, seconds, in [t_edges_s[0], t_edges_s[-1]]; +inf = no failure.
    """
    e0 = np.ascontiguousarray(e0, dtype=np.float64)
    t_edges = np.ascontiguousarray(t_edges_s, dtype=np.float64)
    gain = np.ascontiguousarray(gain, dtype=np.float64)
    susc = np.ascontiguousarray(susceptibility, dtype=np.float64)
    expo = np.ascontiguousarray(expo, dtype=np.float64)
    if e0.ndim != 1 or t_edges.shape != (e0.size + 1,):
        raise ValueError(f"t_edges_s must have shape ({e0.size + 1},) for e0 of shape {e0.shape}, "
                         f"got {t_edges.shape}")
    if t_edges.size > 1 and not np.all(np.diff(t_edges) > 0):
        raise ValueError("t_edges_s must be strictly increasing")
    n = gain.size
    if gain.ndim != 1 or susc.shape != (n,) or expo.shape != (n,):
        raise ValueError(f"gain, susceptibility and expo must be 1-D of one length; got {gain.shape}, "
                         f"{susc.shape}, {expo.shape}")
    if not exceed_cap > 1.0:
        raise ValueError(f"exceed_cap must be > 1, got {exceed_cap}")
    if out is None:
        out = np.empty(n, dtype=np.float64)
    elif out.shape != (n,) or out.dtype != np.float64:
        raise ValueError(f"out must be float64 of shape ({n},)")
    return _failure_times(e0, t_edges, gain, susc, float(rate_per_h) / 3600.0, float(exceed_cap), expo, out)


# ---------------------------------------------------------------------------------------------- run-out
@njit(cache=True)
def _trace(src, tan_reach, crown_m, z, receiver, river_id, ncols, cell_size, path):
    """Follow receivers from ``src``; write the run-out cells into ``path``; return (count, hit_river)."""
    max_steps = path.size
    path[0] = src
    n = 1
    hit = 0
    cur = src
    z_top = z[src] + crown_m
    length = 0.5 * cell_size
    while n < max_steps:
        nxt = receiver[cur]
        if nxt < 0:
            break
        if river_id[nxt] == 1 or river_id[nxt] == 2:
            hit = 1
            break
        if not z[nxt] <= z[cur]:  # uphill, or NaN (outside the domain)
            break
        r0 = cur // ncols
        r1 = nxt // ncols
        diag = (r0 != r1) and (cur - r0 * ncols != nxt - r1 * ncols)
        length += cell_size * (SQRT2 if diag else 1.0)
        if z_top - z[nxt] < tan_reach * length:
            break
        path[n] = nxt
        n += 1
        cur = nxt
    return n, hit


@njit(cache=True, parallel=True)
def _runout(sources, tan_reach, crown_m, z, receiver, river_id, ncols, cell_size, path, count, hit_river):
    for i in prange(sources.size):
        j = np.int64(i)
        n, hit = _trace(sources[j], tan_reach[j], crown_m[j], z, receiver, river_id, ncols, cell_size, path[j])
        for k in range(n, path.shape[1]):
            path[j, k] = -1
        count[j] = n
        hit_river[j] = hit
    return count


def runout(sources: np.ndarray, tan_reach: np.ndarray, crown_m: np.ndarray, elevation_m: np.ndarray,
           flow_receiver: np.ndarray, river_id: np.ndarray, cell_size_m: float, max_steps: int = 200,
           out_path: np.ndarray | None = None, out_count: np.ndarray | None = None,
           out_hit_river: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trace the debris run-out of each failed cell down its D8 receivers (travel-angle rule).

    Parameters
    ----------
    sources : (n,) int64 flat indices of the failed cells on the ``(nrows, ncols)`` grid.
    tan_reach : (n,) float64, tangent of the angle of reach per slide, dimensionless (> 0).
    crown_m : (n,) float64, height of the slide crown above the source cell centre, metres (≥ 0).
    elevation_m : (nrows, ncols) float elevation, metres (NaN allowed outside the domain: never reached).
    flow_receiver : (nrows, ncols) int64, flat index of the D8 receiver, −1 at outlets/outside.
    river_id : (nrows, ncols) int8; 1 and 2 (big rivers) stop the debris.
    cell_size_m : cell edge, metres.
    max_steps : longest run-out, cells (including the source).
    out_path, out_count, out_hit_river : optional buffers of shapes (n, max_steps) int64, (n,) int64,
        (n,) uint8.

    Returns
    -------
    path : (n, max_steps) int64, run-out cells in travel order (source first), −1 padded.
    count : (n,) int64, run-out cells per slide (≥ 1).
    hit_river : (n,) uint8, 1 where the debris reached a big river.
    """
    z = np.ascontiguousarray(elevation_m, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"elevation_m must be 2-D, got {z.shape}")
    rec = np.asarray(flow_receiver)
    rid = np.asarray(river_id)
    if rec.shape != z.shape or rid.shape != z.shape:
        raise ValueError(f"flow_receiver {rec.shape} and river_id {rid.shape} must match elevation {z.shape}")
    if rec.dtype != np.int64:
        raise ValueError(f"flow_receiver must be int64, got {rec.dtype}")
    rec = np.ascontiguousarray(rec).ravel()
    rid = np.ascontiguousarray(rid, dtype=np.int8).ravel()
    src = np.ascontiguousarray(sources, dtype=np.int64)
    tan = np.ascontiguousarray(tan_reach, dtype=np.float64)
    crown = np.ascontiguousarray(crown_m, dtype=np.float64)
    n = src.size
    if src.ndim != 1 or tan.shape != (n,) or crown.shape != (n,):
        raise ValueError("sources, tan_reach and crown_m must be 1-D of one length")
    if n and (src.min() < 0 or src.max() >= z.size):
        raise ValueError("sources must be flat indices on the grid")
    if n and not (tan > 0).all():
        raise ValueError("tan_reach must be > 0")
    if max_steps < 1:
        raise ValueError("max_steps must be ≥ 1")
    if out_path is None:
        out_path = np.empty((n, max_steps), dtype=np.int64)
    if out_count is None:
        out_count = np.empty(n, dtype=np.int64)
    if out_hit_river is None:
        out_hit_river = np.empty(n, dtype=np.uint8)
    if out_path.shape != (n, max_steps) or out_path.dtype != np.int64:
        raise ValueError(f"out_path must be int64 of shape ({n}, {max_steps})")
    if out_count.shape != (n,) or out_count.dtype != np.int64:
        raise ValueError(f"out_count must be int64 of shape ({n},)")
    if out_hit_river.shape != (n,) or out_hit_river.dtype != np.uint8:
        raise ValueError(f"out_hit_river must be uint8 of shape ({n},)")
    _runout(src, tan, crown, z.ravel(), rec, rid, np.int64(z.shape[1]), float(cell_size_m),
            out_path, out_count, out_hit_river)
    return out_path, out_count, out_hit_river
