"""Two bare numba flood steps, benchmark peers of the project kernel (``bench_flood.py``).

``simple_step``: the yardstick the issue's "a simple numba version ~7.6e7 on one thread" describes.

Bates et al. (2010) local-inertial step written the obvious way: three ``prange`` loops over the whole grid
(x faces, y faces, continuity), a branch that skips dry faces, ``h_f ** (7/3)`` from libm, no θ-average,
no positivity limiter, no diagnostics, no active set. It is a benchmark peer only (``bench_flood.py``),
so that the issue's reference figure can be reproduced on this machine and set against the project kernel
(``sim/kernels/flood.py``) in the same run. Conservative by construction (one flux per face); not stable
against drying cells going negative, which is what the project kernel's limiter is for.

``bare_step``: the same scheme with its arithmetic made fast: no branch (a select, so every row loop
vectorises), the friction power from the project kernel's multiply-only ``inv_pow_7_3`` and fused
multiply-adds, the loop-invariant factors hoisted. It is what the scheme's arithmetic costs per cell with
nothing else: the ceiling a kernel with θ-average, limiter, diagnostics and an active set is set against.

``bare_step_spans``: ``bare_step`` on given row segments only (the project kernel's active segments), with the
set held fixed: the ceiling of an active-set kernel of this scheme, with the project kernel's tile and segment
layout, on the rows a flood really has.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim.kernels.flood import _fma, inv_pow_7_3

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


@njit(cache=True, inline="always")
def _bare_face(q: float, zl: float, hl: float, zr: float, hr: float, n2: float, g_dt_dx: float,
               g_dt: float) -> float:
    """:func:`_face` without its branch; ``g_dt_dx`` = g dt / dx, ``g_dt`` = g dt (hoisted out of the loops)."""
    etal = hl + zl
    etar = hr + zr
    hf = max(etal, etar) - max(zl, zr)
    num = _fma(-(g_dt_dx * hf), etar - etal, q)
    qn = num / _fma(g_dt * n2, abs(q) * inv_pow_7_3(max(hf, H_EPS)), 1.0)
    return qn if hf > H_EPS else 0.0


@njit(parallel=True, cache=True, error_model="numpy")
def bare_step(h: np.ndarray, z: np.ndarray, n2: np.ndarray, qx: np.ndarray, qy: np.ndarray, dt: float,
              dx: float) -> None:
    """:func:`simple_step` (same arguments, same scheme) written to vectorise: whole rows, no branches."""
    nr, nc = h.shape
    g_dt_dx = G * dt / dx
    g_dt = G * dt
    r = dt / dx
    for i in prange(nr):
        q, zi, hi, ni = qx[i, 1:nc], z[i], h[i], n2[i]
        for j in range(nc - 1):
            q[j] = _bare_face(q[j], zi[j], hi[j], zi[j + 1], hi[j + 1], ni[j + 1], g_dt_dx, g_dt)
    for i in prange(1, nr):
        q, za, zb, ha, hb, ni = qy[i], z[i - 1], z[i], h[i - 1], h[i], n2[i]
        for j in range(nc):
            q[j] = _bare_face(q[j], za[j], ha[j], zb[j], hb[j], ni[j], g_dt_dx, g_dt)
    for i in prange(nr):
        hi, qw, qn, qs = h[i], qx[i], qy[i], qy[i + 1]
        for j in range(nc):
            hi[j] += r * (qw[j] - qw[j + 1] + qn[j] - qs[j])


# no loop fusion: numba would otherwise fuse the two segment loops (same range), and a segment's continuity
# would then run before its neighbours' fluxes (a test caught it)
@njit(parallel={"fusion": False}, cache=True, error_model="numpy")
def bare_step_spans(seg: np.ndarray, n_seg: int, tile: int, h: np.ndarray, z: np.ndarray, n2: np.ndarray,
                    qx: np.ndarray, qy: np.ndarray, dt: float, dx: float) -> None:
    """:func:`bare_step` on the cells of ``seg[:n_seg]`` only: ``(tile row, first tile column, end tile
    column)`` runs of ``tile`` × ``tile`` blocks, as the project kernel's ``_segments`` makes them.

    Each segment updates the faces its cells own (west and north, as in the project kernel) and then its
    cells' depths. The set is held fixed: across its west and north edges water flows to and from outside
    cells whose depths never change, and its east and south edge faces keep their values (zero: closed), so
    volume is not conserved; it is a timing peer, not a flood model. Over segments that cover the grid it is
    :func:`bare_step` exactly.
    """
    nr, nc = h.shape
    g_dt_dx = G * dt / dx
    g_dt = G * dt
    r = dt / dx
    for s in prange(n_seg):
        r0 = seg[s, 0] * tile
        r1 = min(r0 + tile, nr)
        c0 = seg[s, 1] * tile
        c1 = min(seg[s, 2] * tile, nc)
        a = max(c0, 1)
        for i in range(r0, r1):
            q, zi, hi, ni = qx[i, a:c1], z[i, a - 1:c1], h[i, a - 1:c1], n2[i, a:c1]
            for j in range(c1 - a):
                q[j] = _bare_face(q[j], zi[j], hi[j], zi[j + 1], hi[j + 1], ni[j], g_dt_dx, g_dt)
        for i in range(max(r0, 1), r1):
            q, za, zb, ha, hb, ni = qy[i, c0:c1], z[i - 1, c0:c1], z[i, c0:c1], h[i - 1, c0:c1], h[i, c0:c1], \
                n2[i, c0:c1]
            for j in range(c1 - c0):
                q[j] = _bare_face(q[j], za[j], ha[j], zb[j], hb[j], ni[j], g_dt_dx, g_dt)
    for s in prange(n_seg):
        r0 = seg[s, 0] * tile
        r1 = min(r0 + tile, nr)
        c0 = seg[s, 1] * tile
        c1 = min(seg[s, 2] * tile, nc)
        for i in range(r0, r1):
            hi, qw, qn, qs = h[i, c0:c1], qx[i, c0:c1 + 1], qy[i, c0:c1], qy[i + 1, c0:c1]
            for j in range(c1 - c0):
                hi[j] += r * (qw[j] - qw[j + 1] + qn[j] - qs[j])
