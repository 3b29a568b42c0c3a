"""A *simple* numba flood step: the yardstick the issue's "a simple numba version ~7.6e7 on one thread" describes.

Bates et al. (2010) local-inertial step written the obvious way: three ``prange`` loops over the whole grid
(x faces, y faces, continuity), a branch that skips dry faces, ``h_f ** (7/3)`` from libm, no θ-average,
no positivity limiter, no diagnostics, no active set. It is a benchmark peer only (``bench_flood.py``),
so that the issue's reference figure can be reproduced on this machine and set against the project kernel
(``sim/kernels/flood.py``) in the same run. Conservative by construction (one flux per face); not stable
against drying cells going negative, which is what the project kernel's limiter is for.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

G = 9.81  # m/s²
H_EPS = 1e-4  # m, same dry threshold as the project kernel


@njit(cache=True, inline="always")
def _face(q: float, zl: float, hl: float, zr: float, hr: float, n2: float, dt: float, dx: float) -> float:
    """New unit discharge (m²/s) across a face from cell l to cell r; zero where the face is dry."""
    etal = hl + zl
    etar = hr + zr
    hf = max(etal, etar) - max(zl, zr)
    if hf <= H_EPS:
        return 0.0
    return (q - G * hf * dt * (etar - etal) / dx) / (1.0 + G * dt * n2 * abs(q) / hf ** (7.0 / 3.0))


@njit(parallel=True, cache=True)
def simple_step(h: np.ndarray, z: np.ndarray, n2: np.ndarray, qx: np.ndarray, qy: np.ndarray, dt: float,
                dx: float) -> None:
    """Advance depths ``h`` (m, (nr, nc)) and unit discharges ``qx`` (nr, nc + 1), ``qy`` (nr + 1, nc) in
    m²/s by one step of ``dt`` s on cells ``dx`` m wide, in place; closed outer boundary."""
    nr, nc = h.shape
    for i in prange(nr):
        for j in range(1, nc):
            qx[i, j] = _face(qx[i, j], z[i, j - 1], h[i, j - 1], z[i, j], h[i, j], n2[i, j], dt, dx)
    for i in prange(1, nr):
        for j in range(nc):
            qy[i, j] = _face(qy[i, j], z[i - 1, j], h[i - 1, j], z[i, j], h[i, j], n2[i, j], dt, dx)
    for i in prange(nr):
        for j in range(nc):
            h[i, j] += dt / dx * (qx[i, j] - qx[i, j + 1] + qy[i, j] - qy[i + 1, j])
