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


@njit(parallel=True, cache=True)
def simple_step(h: np.ndarray, z: np.ndarray, n2: np.ndarray, qx: np.ndarray, qy: np.ndarray, dt: float,
                dx: float) -> None:
    """Advance depths ``h`` (m, (nr, nc)) and unit discharges ``qx`` (nr, nc + 1), ``qy`` (nr + 1, nc) in
    m²/s by one step of ``dt`` s on cells ``dx`` m wide, in place; closed outer boundary."""
    nr, nc = h.shape
    for i in prange(nr):
        for j in range(1, nc):
            etal = h[i, j - 1] + z[i, j - 1]
            etar = h[i, j] + z[i, j]
            hf = max(etal, etar) - max(z[i, j - 1], z[i, j])
            if hf > H_EPS:
                q = qx[i, j]
                qx[i, j] = ((q - G * hf * dt * (etar - etal) / dx)
                            / (1.0 + G * dt * n2[i, j] * abs(q) / hf ** (7.0 / 3.0)))
            else:
                qx[i, j] = 0.0
    for i in prange(1, nr):
        for j in range(nc):
            etal = h[i - 1, j] + z[i - 1, j]
            etar = h[i, j] + z[i, j]
            hf = max(etal, etar) - max(z[i - 1, j], z[i, j])
            if hf > H_EPS:
                q = qy[i, j]
                qy[i, j] = ((q - G * hf * dt * (etar - etal) / dx)
                            / (1.0 + G * dt * n2[i, j] * abs(q) / hf ** (7.0 / 3.0)))
            else:
                qy[i, j] = 0.0
    for i in prange(nr):
        for j in range(nc):
            h[i, j] += dt / dx * (qx[i, j] - qx[i, j + 1] + qy[i, j] - qy[i + 1, j])
