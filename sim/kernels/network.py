"""Road-link kernels: the worst hazard effect over the grid cells a link crosses."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def _link_effect(indptr: np.ndarray, cells: np.ndarray, effect: np.ndarray, out: np.ndarray) -> np.ndarray:
    for e in prange(indptr.size - 1):
        worst = np.uint8(0)
        for k in range(indptr[e], indptr[e + 1]):
            v = effect[cells[k]]
            if v > worst:
                worst = v
        out[e] = worst
    return out


def link_effect(indptr: np.ndarray, cells: np.ndarray, effect: np.ndarray,
                out: np.ndarray | None = None) -> np.ndarray:
    """Maximum of ``effect`` (uint8 per flat cell) over each link's cells.

    Parameters
    ----------
    indptr : (n_links + 1,) int64 CSR offsets into ``cells``.
    cells : (k,) int64 flat cell indices.
    effect : (n_cells,) uint8 per-cell effect codes.
    out : optional (n_links,) uint8 buffer.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    cells = np.ascontiguousarray(cells, dtype=np.int64)
    effect = np.ascontiguousarray(effect, dtype=np.uint8)
    if cells.size and (cells.min() < 0 or cells.max() >= effect.size):
        raise ValueError("link_effect: a cell index lies outside the effect array")
    if out is None:
        out = np.zeros(indptr.size - 1, dtype=np.uint8)
    return _link_effect(indptr, cells, effect, out)
