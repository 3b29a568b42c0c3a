"""Flow routing on a masked raster: priority-flood depression filling, D8 receivers, accumulation.

Kernels follow the project contract (DESIGN §3.1): ``@njit(cache=True)``, arrays in, arrays out, no
globals, no randomness. Grids are row-major with row 0 at the north edge.

References
----------
Barnes, Lehman & Mulla (2014), *Priority-flood: an optimal depression-filling and watershed-labeling
algorithm for digital elevation models*, Computers & Geosciences 62, 117–127 (the ε variant, so that
every filled cell drains).
O'Callaghan & Mark (1984), D8 steepest-descent flow directions.
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

# D8 neighbour offsets (drow, dcol) and ESRI direction codes, clockwise from east.
D8_DR = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
D8_DC = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
D8_CODE = np.array([1, 2, 4, 8, 16, 32, 64, 128], dtype=np.int32)


@njit(cache=True)
def _priority_flood(z, mask, dr, dc, filled, order):
    nrows, ncols = z.shape
    closed = np.zeros(z.shape, dtype=np.bool_)
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for r in range(nrows):
        for c in range(ncols):
            if not mask[r, c]:
                continue
            edge = r == 0 or c == 0 or r == nrows - 1 or c == ncols - 1
            if not edge:
                for k in range(8):
                    if not mask[r + dr[k], c + dc[k]]:
                        edge = True
                        break
            if edge:
                closed[r, c] = True
                filled[r, c] = z[r, c]
                heapq.heappush(heap, (np.float64(z[r, c]), np.int64(r * ncols + c)))
    n = 0
    while len(heap) > 0:
        elev, idx = heapq.heappop(heap)
        order[n] = idx
        n += 1
        r = idx // ncols
        c = idx - r * ncols
        for k in range(8):
            rr = r + dr[k]
            cc = c + dc[k]
            if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
                continue
            if closed[rr, cc] or not mask[rr, cc]:
                continue
            closed[rr, cc] = True
            zn = np.float64(z[rr, cc])
            lift = np.nextafter(elev, np.inf)
            if zn < lift:
                zn = lift
            filled[rr, cc] = zn
            heapq.heappush(heap, (zn, np.int64(rr * ncols + cc)))
    return n


def fill_depressions(elevation_m: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill depressions so that every masked cell drains to the mask edge.

    Parameters
    ----------
    elevation_m : (nrows, ncols) float array, metres.
    mask : (nrows, ncols) bool array, True inside the domain.

    Returns
    -------
    filled_m : float64 array, ≥ elevation; strictly rising away from the edge along some path.
    order : int64 array of flat indices of masked cells in processing order (non-decreasing
        filled elevation): reversed, it is a topological order from sources to outlets.
    """
    z = np.ascontiguousarray(elevation_m, dtype=np.float64)
    m = np.ascontiguousarray(mask, dtype=np.bool_)
    if z.shape != m.shape:
        raise ValueError(f"elevation {z.shape} and mask {m.shape} differ in shape")
    filled = np.full(z.shape, np.nan)
    order = np.empty(int(m.sum()), dtype=np.int64)
    n = _priority_flood(z, m, D8_DR, D8_DC, filled, order)
    return filled, order[:n]


@njit(cache=True)
def _d8_receivers(filled, mask, dr, dc, cell_size, receiver, code, codes):
    nrows, ncols = filled.shape
    for r in range(nrows):
        for c in range(ncols):
            idx = r * ncols + c
            receiver[idx] = -1
            code[idx] = 0
            if not mask[r, c]:
                continue
            best = 0.0
            for k in range(8):
                rr = r + dr[k]
                cc = c + dc[k]
                if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols or not mask[rr, cc]:
                    continue
                dist = cell_size * (1.4142135623730951 if (dr[k] != 0 and dc[k] != 0) else 1.0)
                s = (filled[r, c] - filled[rr, cc]) / dist
                if s > best:
                    best = s
                    receiver[idx] = rr * ncols + cc
                    code[idx] = codes[k]
    return receiver


def d8_receivers(filled_m: np.ndarray, mask: np.ndarray, cell_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the steepest-descent receiver (flat index, -1 = outlet) and ESRI D8 code per cell."""
    f = np.ascontiguousarray(filled_m, dtype=np.float64)
    m = np.ascontiguousarray(mask, dtype=np.bool_)
    receiver = np.empty(f.size, dtype=np.int64)
    code = np.empty(f.size, dtype=np.int32)
    _d8_receivers(f, m, D8_DR, D8_DC, float(cell_size_m), receiver, code, D8_CODE)
    return receiver.reshape(f.shape), code.reshape(f.shape)


@njit(cache=True)
def _accumulate(order, receiver, weight, out):
    for i in range(order.size - 1, -1, -1):
        idx = order[i]
        out[idx] += weight[idx]
        rec = receiver[idx]
        if rec >= 0:
            out[rec] += out[idx]
    return out


def flow_accumulation(order: np.ndarray, receiver: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Sum ``weight`` over each cell and everything upstream of it.

    ``order`` must list cells so that every receiver comes before its donors (as returned by
    :func:`fill_depressions`). With ``weight`` = cell area this is the drainage area.
    """
    rec = np.ascontiguousarray(receiver, dtype=np.int64).ravel()
    w = np.ascontiguousarray(weight, dtype=np.float64).ravel()
    out = np.zeros(w.size, dtype=np.float64)
    _accumulate(np.ascontiguousarray(order, dtype=np.int64), rec, w, out)
    return out.reshape(np.shape(receiver))


@njit(cache=True)
def _spill_from(z, mask, seed, dr, dc, spill, base):
    nrows, ncols = z.shape
    done = np.zeros(z.shape, dtype=np.bool_)
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for r in range(nrows):
        for c in range(ncols):
            if mask[r, c] and seed[r, c]:
                spill[r, c] = z[r, c]
                base[r, c] = z[r, c]
                done[r, c] = True
                heapq.heappush(heap, (np.float64(z[r, c]), np.int64(r * ncols + c)))
    while len(heap) > 0:
        level, idx = heapq.heappop(heap)
        r = idx // ncols
        c = idx - r * ncols
        for k in range(8):
            rr = r + dr[k]
            cc = c + dc[k]
            if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
                continue
            if done[rr, cc] or not mask[rr, cc]:
                continue
            done[rr, cc] = True
            lv = max(level, np.float64(z[rr, cc]))
            spill[rr, cc] = lv
            base[rr, cc] = base[r, c]
            heapq.heappush(heap, (lv, np.int64(rr * ncols + cc)))
    return spill, base


def spill_levels(elevation_m: np.ndarray, mask: np.ndarray, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Water level at which each cell first connects to a seed cell, and that seed's elevation.

    A priority flood from the ``seeds`` (e.g. river channel cells): ``spill[r, c]`` is the lowest level
    (m) of water standing in the seeds that reaches the cell over the terrain (the minimax elevation of a
    path), and ``base`` the elevation of the seed it connects to. ``spill − base`` is a height above the
    nearest drainage (HAND) that respects ridges. Cells outside ``mask`` or not connected get NaN.

    Parameters
    ----------
    elevation_m : (nrows, ncols) float array, m.
    mask : (nrows, ncols) bool, True inside the domain.
    seeds : (nrows, ncols) bool, True at the seed cells.
    """
    z = np.nan_to_num(np.asarray(elevation_m, dtype=np.float64), nan=np.inf)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    seeds = np.ascontiguousarray(seeds, dtype=np.bool_)
    if z.shape != mask.shape or z.shape != seeds.shape:
        raise ValueError("spill_levels: elevation, mask and seeds must have the same shape")
    spill = np.full(z.shape, np.nan)
    base = np.full(z.shape, np.nan)
    return _spill_from(z, mask, seeds, D8_DR, D8_DC, spill, base)
