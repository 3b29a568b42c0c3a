"""Local-inertial shallow-water flood kernel on a raster (Bates et al. 2010; de Almeida et al. 2012).

Unit discharges ``q`` (m²/s) live on cell faces, depths ``h`` (m) at cell centres. One sub-step of
length ``dt`` (s) is

    h_f   = max(η_l, η_r) − max(z_l, z_r)                        flow depth at the face
    q_θ   = θ q_face + (1 − θ)/2 (q_upstream_face + q_downstream_face)      (de Almeida 2012, eq. 7)
    q_new = (q_θ − g h_f dt ∂η/∂x) / (1 + g dt n² |q_face| / h_f^{7/3})     (semi-implicit friction)

followed by a positivity limiter that scales each cell's outflows so it never gives more water than it
holds (exactly conservative: the limited flux is the one both neighbours see), and the continuity
update ``h += dt/Δx (q_in − q_out) + rain dt``. The step is adaptive: ``dt = α Δx / sqrt(g h_max)``.

Only *active tiles* are touched: ``TILE×TILE`` blocks holding water (h > ``H_EPS``) or forced (rain,
inflow, fixed level), plus each neighbour tile that a wet cell borders. A face carries flow only if a cell
next to it is wet at the start of the sub-step, so no such face is skipped; a tile that falls idle keeps
one grace step (its last fluxes are still read by neighbouring faces' θ-average), then has its faces
zeroed. Results equal computing every tile, bit for bit.

Two parallel passes per sub-step work on *segments*, runs of up to ``SEG`` active tiles of one tile row:
fluxes and limiter (:func:`_fluxes_seg`), then continuity (:func:`_continuity_seg`). Their row loops are
branch-free so that LLVM vectorises them; the face loops take two rows at a time, whose independent
dependency chains (the friction power's Newton steps, a division) overlap in the core. Every write has one
owner (a cell owns its west and north faces; faces a segment needs but does not own are computed again into
its scratch by the same arithmetic) and per-segment sums are merged serially in a fixed order, so results
do not depend on the number of threads.

Array layout (row 0 = north; ``i`` grows southward, ``j`` eastward):

* ``h, z, n2, h_max, t_wet, hr_max``: ``(nr, nc)`` float64; ``rain_factor``: float64; ``inside``: uint8;
* ``lim``: ``(nr + 2, nc + 2)`` float64, padded by a border of ones (``lim[i + 1, j + 1]`` is cell ``(i, j)``);
* ``qx``: ``(2, nr, nc + 1)``: ``qx[:, i, j]`` crosses the west face of cell ``(i, j)``, positive east;
* ``qy``: ``(2, nr + 1, nc)``: ``qy[:, i, j]`` crosses the north face of cell ``(i, j)``, positive south;
  slot 0 holds the limited fluxes of the last sub-step, slot 1 the raw fluxes of the current one.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

G = 9.81  # m/s²
TILE = 8  # cells per tile side
SEG = 8  # at most this many tiles of one tile row share a flux loop (longer rows vectorise)
H_EPS = 1e-4  # m: faces shallower than this carry no flow; cells deeper than this keep their tile active
H_WET = 0.01  # m: depth that counts as "wetted" for the time of first wetting

# indices of the accumulator vector ``acc``
ACC_INFLOW_M3, ACC_RAIN_M3, ACC_OUTFLOW_M3, ACC_STEPS, ACC_CELL_UPDATES, ACC_DT_MIN, ACC_CLAMP_M3 = range(7)
N_ACC = 7


class FloodState(NamedTuple):
    """Prognostic fields and diagnostics (see module docstring for shapes)."""

    h: np.ndarray
    qx: np.ndarray
    qy: np.ndarray
    lim: np.ndarray
    h_max: np.ndarray
    t_wet: np.ndarray
    hr_max: np.ndarray
    tile_active: np.ndarray  # (ntr*ntc,) uint8
    tile_next: np.ndarray  # (ntr*ntc,) uint8 scratch
    tile_wet: np.ndarray  # (ntr*ntc,) uint16 wet-cell bits (see _border_bits)
    tile_hmax: np.ndarray  # (ntr*ntc,) float64
    tile_list: np.ndarray  # (ntr*ntc,) int64, first ``n_active`` entries valid
    n_active: np.ndarray  # (1,) int64


class FloodTerrain(NamedTuple):
    """Static inputs: bed, friction, mask, boundaries and source cells."""

    z: np.ndarray  # (nr, nc) bed elevation incl. embankments, m; outside cells very high
    n2: np.ndarray  # (nr, nc) Manning n², s²/m^(2/3)
    inside: np.ndarray  # (nr, nc) uint8, 1 where water may be
    rain_factor: np.ndarray  # (nr, nc) float64 spatial rain multiplier (0 where no rain)
    rain_tiles: np.ndarray  # (ntr*ntc,) uint8, tiles holding rain_factor > 0
    force_tiles: np.ndarray  # (ntr*ntc,) uint8, tiles always active (inflow cells, fixed-level boundaries)
    bf_axis: np.ndarray  # (nb,) int64 0 = x-face (qx), 1 = y-face (qy)
    bf_i: np.ndarray  # (nb,) int64 face row index
    bf_j: np.ndarray  # (nb,) int64 face column index
    bf_sign: np.ndarray  # (nb,) float64 +1 if leaving the domain means positive q, else −1
    bf_cell: np.ndarray  # (nb,) int64 flat index of the inside cell
    bf_kind: np.ndarray  # (nb,) int64 0 free outflow (normal depth), 1 fixed water level
    bf_value: np.ndarray  # (nb,) float64 bed slope (kind 0) or water level m a.s.l. (kind 1)
    src_cell: np.ndarray  # (ns,) int64 flat index of inflow cells
    src_share: np.ndarray  # (ns,) float64 share of its hydrograph each cell receives
    src_group: np.ndarray  # (ns,) int64 hydrograph index
    tile_bf_ptr: np.ndarray  # (ntr*ntc + 1,) int64: tile t's boundary faces are tile_bf_idx[ptr[t]:ptr[t+1]]
    tile_bf_idx: np.ndarray  # (m,) int64 boundary-face indices, by tile (a face on a tile edge is in both)


class FloodParams(NamedTuple):
    """Scalars of the scheme."""

    dx: float  # m
    theta: float  # de Almeida weighting, 1 = Bates 2010
    alpha: float  # CFL coefficient
    dt_max: float  # s
    dt_fixed: float  # s; > 0 overrides the adaptive step (tests)


def _bitcast(src: types.Type, dst: types.Type, doc: str):
    """Make an intrinsic reinterpreting a ``src`` value's bits as ``dst`` (an LLVM bitcast; no memory trip)."""

    def cast(typingctx, x):  # noqa: ARG001 - numba intrinsic signature
        if x != src:
            return None

        def codegen(context, builder, signature, args):  # noqa: ARG001
            return builder.bitcast(args[0], context.get_value_type(dst))

        return dst(src), codegen

    cast.__doc__ = doc
    return intrinsic(cast)


_bits_of = _bitcast(types.float64, types.int64, "Reinterpret a float64's bits as int64.")
_float_of = _bitcast(types.int64, types.float64, "Reinterpret an int64's bits as float64.")


@intrinsic
def _fma(typingctx, a, b, c):  # noqa: ARG001
    """Return ``a * b + c`` rounded once (LLVM ``llvm.fma``; vectorises to ``vfmadd``): same bits in every lane."""
    if not all(isinstance(x, types.Float) and x.bitwidth == 64 for x in (a, b, c)):
        return None

    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.fma(*args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@njit(cache=True, inline="always")
def inv_pow_7_3(x: float) -> float:
    """``x ** (-7/3)`` for ``x > 0`` from multiplications only, to round-off (≤ ~5e-15 relative).

    A bit-level first guess of ``x^(-1/3)`` (Moroz et al. 2021 constant, ≤ 3.5 % off) is refined by four
    Newton steps ``r ← 4/3 r − (x/3) r⁴`` (error ε → 2ε²), written as one fused multiply-add on ``(r²)²`` so
    that each step's dependency chain is three operations; then ``x^(-7/3) = r³ r⁴``. It replaced
    ``1/(x² exp(ln x / 3))`` in the friction term, which dominated the flux pass.
    """
    r = _float_of(np.int64(0x553EF0FF289DD796) - np.int64(float(_bits_of(x)) * (1.0 / 3.0)))
    c = x * (-1.0 / 3.0)
    for _ in range(4):
        r2 = r * r
        r = _fma(c, r2 * r2, r * (4.0 / 3.0))
    r2 = r * r
    return (r2 * r) * (r2 * r2)


@njit(cache=True, inline="always")
def _face_flux(q0: float, qa: float, zl: float, hl: float, zr: float, hr: float, n2f: float, dt: float,
               dx: float) -> float:
    """Return the new unit discharge across one face (positive from l to r), m²/s."""
    etal = zl + hl
    etar = zr + hr
    hf = max(etal, etar) - max(zl, zr)
    if hf <= H_EPS:
        return 0.0
    num = _fma(-((G * dt / dx) * hf), etar - etal, qa)  # the bracket is loop-invariant: no division per face
    if q0 == 0.0:
        return num  # no friction on a face that carried nothing (skips the power below)
    return num / _fma((G * dt) * n2f, abs(q0) * inv_pow_7_3(hf), 1.0)


@njit(cache=True, inline="always")
def _face_flux_sel(q0: float, qa: float, zl: float, hl: float, zr: float, hr: float, n2f: float, dt: float,
                   dx: float) -> float:
    """:func:`_face_flux` without branches (selects instead), so that a row of faces vectorises.

    Friction is evaluated on every face (with the depth floored at ``H_EPS``); where ``q0 == 0`` it is exactly
    zero, so the result equals :func:`_face_flux` bit for bit.
    """
    etal = zl + hl
    etar = zr + hr
    hf = max(etal, etar) - max(zl, zr)
    num = _fma(-((G * dt / dx) * hf), etar - etal, qa)  # the bracket is loop-invariant: no division per face
    q = num / _fma((G * dt) * n2f, abs(q0) * inv_pow_7_3(max(hf, H_EPS)), 1.0)
    return q if hf > H_EPS else 0.0


@njit(cache=True)
def _tile_bounds(t: np.int64, ntc: int, nr: int, nc: int) -> tuple[int, int, int, int]:
    ti = t // ntc
    tj = t - ti * ntc
    r0 = ti * TILE
    c0 = tj * TILE
    return r0, min(r0 + TILE, nr), c0, min(c0 + TILE, nc)


@njit(cache=True, inline="always")
def _west_face_rows(qxo: np.ndarray, h: np.ndarray, z: np.ndarray, n2: np.ndarray, i: int, ja: int,
                    jb: int) -> tuple:
    """Return the row slices the west faces of cells ``ja..jb`` of row ``i`` read.

    Old fluxes ``ja-1..jb+1`` (for the θ-average), and depth, bed and n² of cells ``ja-1..jb``. Inlined: the
    face loop compiles to the same vectorised code as with the slices written out.
    """
    return qxo[i, ja - 1:jb + 2], h[i, ja - 1:jb + 1], z[i, ja - 1:jb + 1], n2[i, ja - 1:jb + 1]


@njit(cache=True, inline="always")
def _north_face_rows(qyo: np.ndarray, h: np.ndarray, z: np.ndarray, n2: np.ndarray, i: int, c0: int,
                     c1: int) -> tuple:
    """Return the row slices the north faces of row ``i`` (columns ``c0..c1-1``) read.

    The old fluxes of the face rows above, at and below (θ-average), and depth, bed and n² of the cells north
    and south of the faces. Inlined like :func:`_west_face_rows`.
    """
    return (qyo[i - 1, c0:c1], qyo[i, c0:c1], qyo[i + 1, c0:c1], h[i - 1, c0:c1], h[i, c0:c1],
            z[i - 1, c0:c1], z[i, c0:c1], n2[i - 1, c0:c1], n2[i, c0:c1])


@njit(cache=True, error_model="numpy")
def _fluxes_seg(ti: int, tj0: int, tj1: int, h: np.ndarray, qxo: np.ndarray, qxn: np.ndarray, qyo: np.ndarray,
                qyn: np.ndarray, lim: np.ndarray, tr: FloodTerrain, fx: np.ndarray, fy: np.ndarray, theta: float,
                dt: float, dx: float, ntc: int) -> float:
    """Raw new fluxes of every face of a segment (tiles ``tj0..tj1-1`` of tile row ``ti``), then its limiters.

    The faces go to the scratch ``fx`` ``(TILE + 1, SEG * TILE + 1)`` and ``fy`` ``(TILE + 2, SEG * TILE)`` (one
    spare row each, the partner of an odd last row in the two-row loops): the
    segment's own (west and north faces of its cells) and the east and south edge faces its neighbours own,
    computed again here by the same arithmetic so the limiter needs no pass of its own. Rows of faces are
    straight-line loops over row slices (no branches, indices from zero) so that they vectorise. Open-boundary
    faces take their value from :func:`_boundary_flux`. Only owned faces are written to the slot-1 arrays;
    ``lim`` is padded by one cell on every side (``lim[i + 1, j + 1]`` is cell ``(i, j)``). Returns the limited
    outflow (m²/s summed over faces, outward positive) through the open-boundary faces of the segment's cells.
    """
    z, n2, inside = tr.z, tr.n2, tr.inside
    bf_axis, bf_i, bf_j, bf_cell, bf_sign = tr.bf_axis, tr.bf_i, tr.bf_j, tr.bf_cell, tr.bf_sign
    bptr, bidx = tr.tile_bf_ptr, tr.tile_bf_idx
    nr, nc = h.shape
    r0 = ti * TILE
    r1 = min(r0 + TILE, nr)
    c0 = tj0 * TILE
    c1 = min(tj1 * TILE, nc)
    nh = r1 - r0
    nw = c1 - c0
    w = 0.5 * (1.0 - theta)
    ja = max(c0, 1)
    jb = min(c1, nc - 1)  # last interior west-face column in reach (the east edge face included)
    m = jb + 1 - ja
    for li in range(0, nh, 2):  # two rows per loop: independent dependency chains hide the latency
        i = r0 + li
        i2 = i + 1 if li + 1 < nh else i  # an odd last row is paired with itself into the spare scratch row
        fa = fx[li]
        fb = fx[li + 1]
        fa[0] = 0.0
        fa[nw] = 0.0
        fb[0] = 0.0
        fb[nw] = 0.0
        qsa, hsa, zsa, nsa = _west_face_rows(qxo, h, z, n2, i, ja, jb)
        qsb, hsb, zsb, nsb = _west_face_rows(qxo, h, z, n2, i2, ja, jb)
        foa = fa[ja - c0:jb - c0 + 1]
        fob = fb[ja - c0:jb - c0 + 1]
        for k in range(m):  # west faces of cells ja..jb
            q0 = qsa[k + 1]
            foa[k] = _face_flux_sel(q0, theta * q0 + w * (qsa[k] + qsa[k + 2]), zsa[k], hsa[k], zsa[k + 1],
                                    hsa[k + 1], 0.5 * (nsa[k] + nsa[k + 1]), dt, dx)
            q1 = qsb[k + 1]
            fob[k] = _face_flux_sel(q1, theta * q1 + w * (qsb[k] + qsb[k + 2]), zsb[k], hsb[k], zsb[k + 1],
                                    hsb[k + 1], 0.5 * (nsb[k] + nsb[k + 1]), dt, dx)
    for lj in range(nw):
        fy[0, lj] = 0.0
        fy[nh, lj] = 0.0
    ya = max(r0, 1)
    yb = min(r1, nr - 1)
    for i in range(ya, yb + 1, 2):
        i2 = i + 1 if i + 1 <= yb else i
        foa = fy[i - r0]
        fob = fy[i2 - r0] if i2 != i else fy[TILE + 1]
        qma, qa_, qpa, hna, hca, zna, zca, nna, nca = _north_face_rows(qyo, h, z, n2, i, c0, c1)
        qmb, qb_, qpb, hnb, hcb, znb, zcb, nnb, ncb = _north_face_rows(qyo, h, z, n2, i2, c0, c1)
        for k in range(nw):  # north faces
            q0 = qa_[k]
            foa[k] = _face_flux_sel(q0, theta * q0 + w * (qma[k] + qpa[k]), zna[k], hna[k], zca[k], hca[k],
                                    0.5 * (nna[k] + nca[k]), dt, dx)
            q1 = qb_[k]
            fob[k] = _face_flux_sel(q1, theta * q1 + w * (qmb[k] + qpb[k]), znb[k], hnb[k], zcb[k], hcb[k],
                                    0.5 * (nnb[k] + ncb[k]), dt, dx)
    for t in range(ti * ntc + tj0, ti * ntc + tj1):
        for kb in range(bptr[t], bptr[t + 1]):  # open-boundary faces in reach
            b = bidx[kb]
            v = _boundary_flux(b, h, qxo, qyo, tr, dt, dx)
            if bf_axis[b] == 0:
                fx[bf_i[b] - r0, bf_j[b] - c0] = v
            else:
                fy[bf_i[b] - r0, bf_j[b] - c0] = v
    a2 = dx * dx
    dtdx = dt * dx
    for li in range(nh):
        i = r0 + li
        fr = fx[li]
        fn = fy[li]
        fs = fy[li + 1]
        hs = h[i, c0:c1]
        ins = inside[i, c0:c1]
        lo = lim[i + 1, c0 + 1:c1 + 1]
        qxs = qxn[i, c0:c1]
        qys = qyn[i, c0:c1]
        for k in range(nw):
            out = (max(fr[k + 1], 0.0) + max(-fr[k], 0.0) + max(fs[k], 0.0) + max(-fn[k], 0.0)) * dtdx
            vol = hs[k] * a2
            lo[k] = 1.0 if (out <= vol or ins[k] == 0) else vol / out
            qxs[k] = fr[k]
            qys[k] = fn[k]
        if c1 == nc:
            qxn[i, nc] = fr[nw]
    if r1 == nr:
        for lj in range(nw):
            qyn[nr, c0 + lj] = fy[nh, lj]
    out_q = 0.0
    for t in range(ti * ntc + tj0, ti * ntc + tj1):  # outflow through the open faces of the segment's cells
        for kb in range(bptr[t], bptr[t + 1]):
            b = bidx[kb]
            ci = bf_cell[b] // nc
            cj = bf_cell[b] - ci * nc
            if (ci // TILE) * ntc + cj // TILE != t:
                continue  # the face's inside cell is in the neighbour tile: counted there
            v = fx[bf_i[b] - r0, bf_j[b] - c0] if bf_axis[b] == 0 else fy[bf_i[b] - r0, bf_j[b] - c0]
            qo = bf_sign[b] * v
            if qo > 0.0:
                qo *= lim[ci + 1, cj + 1]
            out_q += qo
    return out_q


@njit(cache=True, parallel=True)
def _pass_fluxes(st: FloodState, tr: FloodTerrain, seg: np.ndarray, n_seg: int, theta: float, dt: float,
                 dx: float, n_chunks: int, out_seg: np.ndarray) -> None:
    """Raw new fluxes on the faces owned by active tiles (slot 1 from slot 0) and every active cell's limiter.

    Work comes in segments (``seg[s] = (tile row, first tile column, end tile column)``, see
    :func:`_segments`); each thread's share of them uses its own face scratch. ``out_seg[s]`` receives the
    segment's boundary outflow (m²/s).
    """
    h, lim = st.h, st.lim
    qxo, qxn, qyo, qyn = st.qx[0], st.qx[1], st.qy[0], st.qy[1]
    ntc = (h.shape[1] + TILE - 1) // TILE
    n_chunks = min(n_seg, n_chunks)
    for c in prange(n_chunks):
        fx = np.empty((TILE + 1, SEG * TILE + 1))
        fy = np.empty((TILE + 2, SEG * TILE))
        for s in range(c * n_seg // n_chunks, (c + 1) * n_seg // n_chunks):
            out_seg[s] = _fluxes_seg(seg[s, 0], seg[s, 1], seg[s, 2], h, qxo, qxn, qyo, qyn, lim, tr, fx, fy,
                                     theta, dt, dx, ntc)


@njit(cache=True)
def _segments(st: FloodState, ntc: int, seg: np.ndarray) -> int:
    """Cut the sorted active list into runs of ≤ ``SEG`` consecutive tiles of one tile row; return the count."""
    n = st.n_active[0]
    ns = 0
    k = 0
    while k < n:
        t = st.tile_list[k]
        ti = t // ntc
        tj = t - ti * ntc
        e = k + 1
        while e < n and e - k < SEG and st.tile_list[e] == t + (e - k) and (t + (e - k)) // ntc == ti:
            e += 1
        seg[ns, 0] = ti
        seg[ns, 1] = tj
        seg[ns, 2] = tj + (e - k)
        ns += 1
        k = e
    return ns


@njit(cache=True, error_model="numpy")
def _boundary_flux(b: int, h: np.ndarray, qxo: np.ndarray, qyo: np.ndarray, tr: FloodTerrain, dt: float,
                   dx: float) -> float:
    """Raw flux (signed like the face's ``q``) of open-boundary face ``b`` from the old state.

    Kind 0: free outflow at normal depth for the given bed slope (Manning), outward only, never more than
    critical flow. Kind 1: a ghost cell outside at the fixed water level over the same bed, crossed by the
    local-inertial face flux.
    """
    nc = h.shape[1]
    c = tr.bf_cell[b]
    ci = c // nc
    cj = c - ci * nc
    hc = h[ci, cj]
    zc = tr.z[ci, cj]
    s = tr.bf_sign[b]
    if tr.bf_kind[b] == 0:
        if hc <= H_EPS:
            return 0.0
        q_out = hc ** (5.0 / 3.0) * np.sqrt(tr.bf_value[b] / tr.n2[ci, cj])
        return s * min(q_out, hc * np.sqrt(G * hc))
    q0 = s * (qxo[tr.bf_i[b], tr.bf_j[b]] if tr.bf_axis[b] == 0 else qyo[tr.bf_i[b], tr.bf_j[b]])
    stage = max(tr.bf_value[b], zc)
    return s * _face_flux(q0, q0, zc, hc, zc, stage - zc, tr.n2[ci, cj], dt, dx)


@njit(cache=True, inline="always")
def _limited(q: float, lim_l: float, lim_r: float) -> float:
    return q * lim_l if q > 0.0 else q * lim_r


@njit(cache=True)
def _border_bits(i: int, j: int, r0: int, r1: int, c0: int, c1: int) -> int:
    """Wet-cell flags of a tile: bit 0 interior; bits 1-8 the neighbour tiles the cell borders.

    Bits: 2 north, 4 south, 8 west, 16 east, 32 north-west, 64 north-east, 128 south-west, 256 south-east.
    """
    n = 1 if i == r0 else 0
    s = 1 if i == r1 - 1 else 0
    w = 1 if j == c0 else 0
    e = 1 if j == c1 - 1 else 0
    return 1 + 2 * n + 4 * s + 8 * w + 16 * e + 32 * n * w + 64 * n * e + 128 * s * w + 256 * s * e


@njit(cache=True, error_model="numpy")
def _continuity_seg(ti: int, tj0: int, tj1: int, h: np.ndarray, lim: np.ndarray, qxn: np.ndarray,
                    qyn: np.ndarray, qxo: np.ndarray, qyo: np.ndarray, inside: np.ndarray,
                    rain_factor: np.ndarray, h_max: np.ndarray, t_wet: np.ndarray, hr_max: np.ndarray,
                    tile_wet: np.ndarray, tile_hmax: np.ndarray, hw: np.ndarray, neg: np.ndarray, dt: float,
                    dx: float, t_end: float, rdt: float, ntc: int) -> float:
    """Continuity update of a segment, then each of its tiles' wet-border bits and maximum depth.

    Each row is one straight-line loop (selects, no branches) over row slices, so it vectorises; the wet
    depths and the round-off clamps go to the scratch rows ``hw`` and ``neg``, and a short scalar loop per
    tile row then derives the bits (see :func:`_border_bits`) and the maximum. Returns the clamped volume
    depth sum (m) of round-off negatives, summed in a fixed order.
    """
    nr, nc = h.shape
    r0 = ti * TILE
    r1 = min(r0 + TILE, nr)
    c0 = tj0 * TILE
    c1 = min(tj1 * TILE, nc)
    nw = c1 - c0
    rdx = dt / dx
    cl = 0.0
    for t in range(ti * ntc + tj0, ti * ntc + tj1):
        tile_wet[t] = 0
        tile_hmax[t] = 0.0
    for i in range(r0, r1):
        ln = lim[i, c0 + 1:c1 + 1]
        lr = lim[i + 1, c0:c1 + 2]
        ls = lim[i + 2, c0 + 1:c1 + 1]
        qx = qxn[i, c0:c1 + 1]
        qn = qyn[i, c0:c1]
        qs = qyn[i + 1, c0:c1]
        qxl = qxo[i, c0:c1]
        qyl = qyo[i, c0:c1]
        hs = h[i, c0:c1]
        ins = inside[i, c0:c1]
        rf = rain_factor[i, c0:c1]
        hm = h_max[i, c0:c1]
        tw = t_wet[i, c0:c1]
        hr = hr_max[i, c0:c1]
        for k in range(nw):
            lc = lr[k + 1]
            a = qx[k]
            qw_ = a * (lr[k] if a > 0.0 else lc)
            a = qn[k]
            qn_ = a * (ln[k] if a > 0.0 else lc)
            a = qx[k + 1]
            qe_ = a * (lc if a > 0.0 else lr[k + 2])
            a = qs[k]
            qs_ = a * (lc if a > 0.0 else ls[k])
            qxl[k] = qw_
            qyl[k] = qn_
            h0 = hs[k]
            hn = h0 + rdx * (qw_ - qe_ + qn_ - qs_) + rdt * rf[k]
            wet_cell = ins[k] != 0
            hc = max(hn, 0.0)
            neg[k] = hc - hn if wet_cell else 0.0  # round-off only: the limiter keeps exact arithmetic ≥ 0
            hc = hc if wet_cell else h0
            hs[k] = hc
            hwk = hc if (wet_cell and hc > H_EPS) else 0.0
            hw[k] = hwk
            hm[k] = max(hm[k], hwk)
            seen = hc >= H_WET and wet_cell
            tw[k] = t_end if (seen and tw[k] < 0.0) else tw[k]
            # DEFRA rating h (v + 0.5) + DF with v = |q|/h: h·v is the cell-centred |q|
            qcx = qw_ + qe_
            qcy = qn_ + qs_
            rating = (0.5 * np.sqrt(qcx * qcx + qcy * qcy) + 0.5 * hc
                      + (0.0 if hc <= 0.25 else (0.5 if hc <= 0.75 else 1.0)))
            hr[k] = max(hr[k], rating) if seen else hr[k]
        for k in range(nw):
            cl += neg[k]
        li = i - r0
        north = 1 if li == 0 else 0
        south = 1 if i == r1 - 1 else 0
        for t in range(tj0, tj1):  # per tile of the segment: bits and maximum from this row
            a0 = t * TILE - c0
            a1 = min(a0 + TILE, nw)
            mx = 0.0
            for k in range(a0, a1):
                mx = max(mx, hw[k])
            if mx == 0.0:
                continue
            u = ti * ntc + t
            bits = 1 + 2 * north + 4 * south
            if hw[a0] > 0.0:
                bits |= 8 + 32 * north + 128 * south
            if hw[a1 - 1] > 0.0:
                bits |= 16 + 64 * north + 256 * south
            tile_wet[u] |= bits
            tile_hmax[u] = max(tile_hmax[u], mx)
    for i in range(r0, r1):  # the grid's east and south edge faces
        if c1 == nc:
            qxo[i, nc] = _limited(qxn[i, nc], lim[i + 1, nc], 1.0)
    if r1 == nr:
        for j in range(c0, c1):
            qyo[nr, j] = _limited(qyn[nr, j], lim[nr, j + 1], 1.0)
    return cl


@njit(cache=True, parallel=True)
def _pass_continuity(st: FloodState, tr: FloodTerrain, seg: np.ndarray, n_seg: int, dt: float, dx: float,
                     t_end: float, rain_m_s: float, clamp: np.ndarray, n_chunks: int) -> None:
    """Depth update from limited fluxes; store limited fluxes in slot 0; per-tile wet bits and max depth.

    ``clamp[s]`` receives segment ``s``'s round-off clamp (m of depth).
    """
    h, lim = st.h, st.lim
    h_max, t_wet, hr_max = st.h_max, st.t_wet, st.hr_max  # bound outside the prange (numba parfor drops
    # writes through a NamedTuple attribute inside the loop body: measured, h_max stayed at its start value)
    tile_wet, tile_hmax = st.tile_wet, st.tile_hmax
    inside, rain_factor = tr.inside, tr.rain_factor
    qxn, qyn, qxo, qyo = st.qx[1], st.qy[1], st.qx[0], st.qy[0]
    nc = h.shape[1]
    ntc = (nc + TILE - 1) // TILE
    rdt = rain_m_s * dt
    n_chunks = min(n_seg, n_chunks)
    for c in prange(n_chunks):
        hw = np.empty(SEG * TILE)
        neg = np.empty(SEG * TILE)
        for s in range(c * n_seg // n_chunks, (c + 1) * n_seg // n_chunks):
            clamp[s] = _continuity_seg(seg[s, 0], seg[s, 1], seg[s, 2], h, lim, qxn, qyn, qxo, qyo, inside,
                                       rain_factor, h_max, t_wet, hr_max, tile_wet, tile_hmax, hw, neg, dt, dx,
                                       t_end, rdt, ntc)


@njit(cache=True)
def _scan_active(st: FloodState, tr: FloodTerrain, ntc: int) -> None:
    """Wet-cell bits and max depth of the active tiles from ``h`` (what the continuity pass leaves; tests)."""
    nr, nc = st.h.shape
    for k in range(st.n_active[0]):
        t = st.tile_list[k]
        r0, r1, c0, c1 = _tile_bounds(np.int64(t), ntc, nr, nc)
        wet = 0
        hmax = 0.0
        for i in range(r0, r1):
            for j in range(c0, c1):
                hij = st.h[i, j]
                if tr.inside[i, j] == 1 and hij > H_EPS:
                    wet = wet | _border_bits(i, j, r0, r1, c0, c1)
                    hmax = max(hmax, hij)
        st.tile_wet[t] = wet
        st.tile_hmax[t] = hmax


@njit(cache=True)
def _zero_tile_faces(st: FloodState, t: np.int64, ntc: int, nr: int, nc: int) -> None:
    """Zero both flux slots on the faces a tile owns (it dropped out of the active set)."""
    r0, r1, c0, c1 = _tile_bounds(t, ntc, nr, nc)
    for s in range(2):
        st.qx[s, r0:r1, c0:c1] = 0.0
        st.qy[s, r0:r1, c0:c1] = 0.0
        if c1 == nc:
            st.qx[s, r0:r1, nc] = 0.0
        if r1 == nr:
            st.qy[s, nr, c0:c1] = 0.0


@njit(cache=True, inline="always")
def _tile_need(tile_wet: np.ndarray, force_tiles: np.ndarray, rain_tiles: np.ndarray, t: int, raining: bool) -> int:
    """Return the wet-border bits of tile ``t`` (``_border_bits``): all for a forced tile, plus interior if raining."""
    if force_tiles[t] == 1:
        return 511
    bits = np.int64(tile_wet[t])
    if raining and rain_tiles[t] == 1:
        bits |= 1
    return bits


@njit(cache=True)
def _refresh_tiles(st: FloodState, tr: FloodTerrain, raining: bool, ntr: int, ntc: int) -> None:
    """Active tiles = wet, forced (inflow, fixed level) or raining tiles, plus the neighbours wet cells border.

    ``tile_active`` is 1 for a tile the rule needs and 2 for one step of grace after it stops needing it: its
    faces' new fluxes are zero then (both sides dry), but their last limited fluxes may not be, and the
    θ-average of the neighbouring faces reads them once more. After the grace step both slots hold zeros;
    the tile drops out and its faces are zeroed (a no-op then, kept as a guard), so no stale value can be read
    later. Results therefore equal computing every tile (tested bit for bit).
    """
    nr, nc = st.h.shape
    act = st.tile_active
    nxt = st.tile_next
    nxt[:] = 0
    for t in range(ntr * ntc):
        ti = t // ntc
        tj = t - ti * ntc
        bits = _tile_need(st.tile_wet, tr.force_tiles, tr.rain_tiles, t, raining)
        if bits == 0:
            continue
        nxt[t] = 1
        for a in range(max(ti - 1, 0), min(ti + 2, ntr)):
            for b in range(max(tj - 1, 0), min(tj + 2, ntc)):
                if a == ti and b == tj:
                    continue
                need = _neighbour_need(a - ti, b - tj)
                if bits & need:
                    nxt[a * ntc + b] = 1
    n = 0
    for t in range(ntr * ntc):
        if nxt[t] == 0 and act[t] == 1:
            nxt[t] = 2  # grace step
        elif nxt[t] == 0 and act[t] == 2:
            _zero_tile_faces(st, np.int64(t), ntc, nr, nc)
        act[t] = nxt[t]
        if nxt[t] != 0:
            st.tile_list[n] = t
            n += 1
        nxt[t] = 0
    st.n_active[0] = n


@njit(cache=True)
def _neighbour_need(di: int, dj: int) -> int:
    """Wet-border bit of a tile that makes its neighbour at offset (di, dj) active (see ``_border_bits``)."""
    if di == -1:
        return 32 if dj == -1 else (2 if dj == 0 else 64)
    if di == 1:
        return 128 if dj == -1 else (4 if dj == 0 else 256)
    return 8 if dj == -1 else 16


@njit(cache=True)
def _refresh_active(st: FloodState, tr: FloodTerrain, raining: bool, ntr: int, ntc: int, always: np.ndarray,
                    n_always: int, new_list: np.ndarray) -> None:
    """Refresh the active set like :func:`_refresh_tiles`, visiting only active, forced and raining tiles.

    Within a call of the kernel only an active tile's wet border can wake a neighbour, so the whole-grid scan
    is needed once per call (at entry) and this one per step. ``always`` lists the forced (and, when it rains,
    raining) tiles; ``new_list`` is scratch of one entry per tile. ``tile_next`` is all zero on entry and exit.
    """
    nr, nc = st.h.shape
    act = st.tile_active
    nxt = st.tile_next
    n_new = 0
    n_old = st.n_active[0]
    for k in range(n_old + n_always):
        t = st.tile_list[k] if k < n_old else always[k - n_old]
        bits = _tile_need(st.tile_wet, tr.force_tiles, tr.rain_tiles, t, raining)
        if bits == 0:
            continue
        if nxt[t] == 0:
            nxt[t] = 1
            new_list[n_new] = t
            n_new += 1
        ti = t // ntc
        tj = t - ti * ntc
        for a in range(max(ti - 1, 0), min(ti + 2, ntr)):
            for b in range(max(tj - 1, 0), min(tj + 2, ntc)):
                if a == ti and b == tj:
                    continue
                if bits & _neighbour_need(a - ti, b - tj):
                    u = a * ntc + b
                    if nxt[u] == 0:
                        nxt[u] = 1
                        new_list[n_new] = u
                        n_new += 1
    for k in range(n_old):
        t = st.tile_list[k]
        if nxt[t] == 0:
            if act[t] == 1:  # one grace step (see _refresh_tiles)
                nxt[t] = 2
                new_list[n_new] = t
                n_new += 1
            else:
                act[t] = 0
                _zero_tile_faces(st, np.int64(t), ntc, nr, nc)
    srt = np.sort(new_list[:n_new])
    for k in range(n_new):
        t = srt[k]
        act[t] = nxt[t]
        nxt[t] = 0
        st.tile_list[k] = t
    st.n_active[0] = n_new


@njit(cache=True)
def _scan_tiles(st: FloodState, tr: FloodTerrain, ntr: int, ntc: int) -> None:
    """Recompute per-tile wet flags and max depth from ``h`` over the whole grid."""
    nr, nc = st.h.shape
    for t in range(ntr * ntc):
        r0, r1, c0, c1 = _tile_bounds(np.int64(t), ntc, nr, nc)
        wet = 0
        hmax = 0.0
        for i in range(r0, r1):
            for j in range(c0, c1):
                if tr.inside[i, j] == 1 and st.h[i, j] > H_EPS:
                    wet = wet | _border_bits(i, j, r0, r1, c0, c1)
                    hmax = max(hmax, st.h[i, j])
        st.tile_wet[t] = wet
        st.tile_hmax[t] = hmax


@njit(cache=True)
def flood_advance_kernel(st: FloodState, tr: FloodTerrain, p: FloodParams, t_s: float, until_s: float,
                         rain_m_s: float, inflow_m3s: np.ndarray, acc: np.ndarray,
                         clamp: np.ndarray, rescan: bool, n_chunks: int) -> float:
    """Sub-step the scheme from ``t_s`` to ``until_s`` under constant forcing; return the new time (s).

    ``rain_m_s`` is the rain rate (m/s) multiplied by ``tr.rain_factor``; ``inflow_m3s[g]`` the discharge
    of hydrograph ``g``. Volumes, steps and cell updates accumulate into ``acc`` (see ``ACC_*``).
    ``rescan`` rebuilds the active set from ``h`` over the whole grid; without it the set left by the last
    call is kept (valid while nothing else wrote ``h``), with the forced and raining tiles added.
    ``n_chunks`` sets how finely the flux work is shared between threads (results do not depend on it).
    """
    nr, nc = st.h.shape
    ntr = (nr + TILE - 1) // TILE
    ntc = (nc + TILE - 1) // TILE
    dx = p.dx
    raining = rain_m_s > 0.0
    ntiles = ntr * ntc
    always = np.empty(ntiles, np.int64)
    n_always = 0
    for u in range(ntiles):
        if tr.force_tiles[u] == 1 or (raining and tr.rain_tiles[u] == 1):
            always[n_always] = u
            n_always += 1
    new_list = np.empty(ntiles, np.int64)
    out_seg = np.zeros(ntiles)
    seg = np.empty((ntiles, 3), np.int64)
    if rescan:
        _scan_tiles(st, tr, ntr, ntc)
        _refresh_tiles(st, tr, raining, ntr, ntc)
    else:
        _refresh_active(st, tr, raining, ntr, ntc, always, n_always, new_list)
    t = t_s
    rain_cells = 0.0
    if raining:
        for i in range(nr):
            for j in range(nc):
                rain_cells += tr.rain_factor[i, j]
    while t < until_s - 1e-9:
        if p.dt_fixed > 0.0:
            dt = p.dt_fixed
        else:
            hmax = 0.0
            for k in range(st.n_active[0]):
                hmax = max(hmax, st.tile_hmax[st.tile_list[k]])
            dt = p.dt_max if hmax <= H_EPS else min(p.dt_max, p.alpha * dx / np.sqrt(G * hmax))
        # equal sub-steps to the end of the interval (no sliver step at the end)
        n_left = np.ceil((until_s - t) / dt - 1e-9)
        dt = (until_s - t) / max(n_left, 1.0)
        n_seg = _segments(st, ntc, seg)
        _pass_fluxes(st, tr, seg, n_seg, p.theta, dt, dx, n_chunks, out_seg)
        out_q = 0.0  # boundary volumes with the limiter applied (outward positive), in segment order
        for s in range(n_seg):
            out_q += out_seg[s]
        acc[ACC_OUTFLOW_M3] += out_q * dt * dx
        t_end = t + dt
        _pass_continuity(st, tr, seg, n_seg, dt, dx, t_end, rain_m_s, clamp, n_chunks)
        for s in range(n_seg):
            acc[ACC_CLAMP_M3] += clamp[s] * dx * dx
        if raining:
            acc[ACC_RAIN_M3] += rain_m_s * dt * dx * dx * rain_cells
        for s in range(tr.src_cell.shape[0]):
            c = tr.src_cell[s]
            ci = c // nc
            cj = c - ci * nc
            vol = inflow_m3s[tr.src_group[s]] * tr.src_share[s] * dt
            st.h[ci, cj] += vol / (dx * dx)
            acc[ACC_INFLOW_M3] += vol
            ti = (ci // TILE) * ntc + cj // TILE
            st.tile_wet[ti] = 511
            st.tile_hmax[ti] = max(st.tile_hmax[ti], st.h[ci, cj])
        acc[ACC_STEPS] += 1.0
        acc[ACC_CELL_UPDATES] += st.n_active[0] * TILE * TILE
        acc[ACC_DT_MIN] = min(acc[ACC_DT_MIN], dt)
        _refresh_active(st, tr, raining, ntr, ntc, always, n_always, new_list)
        t = t_end
    return t


def new_state(h0: np.ndarray) -> FloodState:
    """Allocate a state holding the initial depth ``h0`` (m, (nr, nc)) with zero fluxes."""
    h = np.ascontiguousarray(h0, dtype=np.float64).copy()
    nr, nc = h.shape
    ntiles = ((nr + TILE - 1) // TILE) * ((nc + TILE - 1) // TILE)
    t_wet = np.full((nr, nc), -1.0)
    t_wet[h >= H_WET] = 0.0
    return FloodState(
        h=h, qx=np.zeros((2, nr, nc + 1)), qy=np.zeros((2, nr + 1, nc)), lim=np.ones((nr + 2, nc + 2)),
        h_max=h.copy(), t_wet=t_wet, hr_max=np.zeros((nr, nc)),
        tile_active=np.zeros(ntiles, np.uint8), tile_next=np.zeros(ntiles, np.uint8),
        tile_wet=np.zeros(ntiles, np.uint16),
        tile_hmax=np.zeros(ntiles), tile_list=np.zeros(ntiles, np.int64), n_active=np.zeros(1, np.int64))


def tiles_of(mask: np.ndarray) -> np.ndarray:
    """uint8 per tile: 1 where any cell of ``mask`` ((nr, nc) bool) lies in the tile."""
    nr, nc = mask.shape
    ntr, ntc = (nr + TILE - 1) // TILE, (nc + TILE - 1) // TILE
    padded = np.zeros((ntr * TILE, ntc * TILE), dtype=bool)
    padded[:nr, :nc] = mask
    return padded.reshape(ntr, TILE, ntc, TILE).any(axis=(1, 3)).ravel().astype(np.uint8)


def new_accumulator() -> np.ndarray:
    """Zeroed accumulator vector (``ACC_*`` indices); the minimum time step starts at +inf."""
    acc = np.zeros(N_ACC)
    acc[ACC_DT_MIN] = np.inf
    return acc


def flood_advance(st: FloodState, tr: FloodTerrain, p: FloodParams, t_s: float, until_s: float,
                  rain_m_s: float, inflow_m3s: np.ndarray, acc: np.ndarray, rescan: bool = True) -> float:
    """Validate shapes and dtypes, then run :func:`flood_advance_kernel`; return the new time in s.

    Pass ``rescan=False`` only when ``st`` comes straight from the previous call (the caller wrote no
    depths since): it skips a whole-grid scan that costs about as much as a sub-step of a river flood.
    """
    nr, nc = st.h.shape
    for name, a, shape, dt in (
        ("h", st.h, (nr, nc), np.float64), ("z", tr.z, (nr, nc), np.float64),
        ("n2", tr.n2, (nr, nc), np.float64),
        ("inside", tr.inside, (nr, nc), np.uint8), ("rain_factor", tr.rain_factor, (nr, nc), np.float64),
        ("qx", st.qx, (2, nr, nc + 1), np.float64), ("qy", st.qy, (2, nr + 1, nc), np.float64),
    ):
        if a.shape != shape or a.dtype != dt or not a.flags.c_contiguous:
            raise ValueError(f"flood kernel: {name} must be C-contiguous {np.dtype(dt).name} {shape}, "
                             f"got {a.dtype} {a.shape}")
    if not 0.0 < p.theta <= 1.0 or not 0.0 < p.alpha <= 1.0 or p.dx <= 0 or p.dt_max <= 0:
        raise ValueError(f"flood kernel: bad parameters {p}")
    if tr.src_cell.size and (tr.src_group.max() >= inflow_m3s.size):
        raise ValueError("flood kernel: an inflow cell refers to a missing hydrograph")
    clamp = np.zeros(st.tile_wet.shape[0])
    inflow = np.ascontiguousarray(inflow_m3s, dtype=np.float64)
    return flood_advance_kernel(st, tr, p, float(t_s), float(until_s), float(rain_m_s), inflow, acc, clamp,
                                bool(rescan), 4 * numba.get_num_threads())


_DIRS = {"W": (0, 0, 0, -1.0), "E": (0, 0, 1, 1.0), "N": (1, 0, 0, -1.0), "S": (1, 1, 0, 1.0)}


def build_terrain(z: np.ndarray, manning_n: np.ndarray | float, inside: np.ndarray | None = None,
                  rain_factor: np.ndarray | None = None,
                  boundaries: list[tuple[int, int, str, int, float]] | None = None,
                  sources: list[tuple[int, int, int, float]] | None = None) -> FloodTerrain:
    """Assemble a :class:`FloodTerrain` from plain arrays.

    Parameters
    ----------
    z : (nr, nc) bed elevation, m. Cells outside ``inside`` are raised out of reach.
    manning_n : Manning roughness per cell (or one value), s/m^(1/3).
    inside : (nr, nc) bool, cells water may occupy (default all).
    rain_factor : (nr, nc) spatial rain multiplier (default 1 inside).
    boundaries : ``(row, col, side, kind, value)`` open faces: ``side`` in ``"WENS"`` (the face of cell
        ``(row, col)`` on that side), ``kind`` 0 free outflow with bed slope ``value`` (m/m) or 1 fixed water
        level ``value`` (m a.s.l.).
    sources : ``(row, col, hydrograph, share)`` inflow cells and the share of that hydrograph each takes.
    """
    z = np.asarray(z, dtype=np.float64)
    nr, nc = z.shape
    inside_b = np.ones((nr, nc), bool) if inside is None else np.asarray(inside, bool)
    finite = np.where(inside_b, z, 0.0)
    wall = (np.nanmax(finite) if inside_b.any() else 0.0) + 1.0e6
    zz = np.ascontiguousarray(np.where(inside_b, z, wall), dtype=np.float64)
    n = np.broadcast_to(np.asarray(manning_n, dtype=np.float64), (nr, nc))
    rf = inside_b.astype(np.float64) if rain_factor is None else np.where(inside_b, rain_factor, 0.0)
    b = boundaries or []
    axis, fi, fj, sign, cell, kind, value = [], [], [], [], [], [], []
    for r, c, side, k, v in b:
        ax, di, dj, sg = _DIRS[side]
        axis.append(ax)
        fi.append(r + di)
        fj.append(c + dj)
        sign.append(sg)
        cell.append(r * nc + c)
        kind.append(k)
        value.append(v)
    src = sources or []
    force = np.zeros((nr, nc), bool)
    for r, c, _, _ in src:
        force[r, c] = True
    for (r, c, _, k, _v) in b:
        if k == 1:
            force[r, c] = True
    i64 = np.int64
    ptr, idx = _tile_faces(nr, nc, axis, fi, fj)
    return FloodTerrain(
        z=zz, n2=np.ascontiguousarray(n * n), inside=np.ascontiguousarray(inside_b.astype(np.uint8)),
        rain_factor=np.ascontiguousarray(rf, dtype=np.float64), rain_tiles=tiles_of(rf > 0),
        force_tiles=tiles_of(force),
        bf_axis=np.array(axis, i64), bf_i=np.array(fi, i64), bf_j=np.array(fj, i64),
        bf_sign=np.array(sign, np.float64), bf_cell=np.array(cell, i64), bf_kind=np.array(kind, i64),
        bf_value=np.array(value, np.float64),
        src_cell=np.array([r * nc + c for r, c, _, _ in src], i64), src_share=np.array([s[3] for s in src], float),
        src_group=np.array([s[2] for s in src], i64), tile_bf_ptr=ptr, tile_bf_idx=idx)


def _tile_faces(nr: int, nc: int, axis: list[int], fi: list[int], fj: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Which open-boundary faces each tile's flux pass sees: its own faces and its east/south edge faces."""
    ntr, ntc = (nr + TILE - 1) // TILE, (nc + TILE - 1) // TILE
    by_tile: list[list[int]] = [[] for _ in range(ntr * ntc)]
    for b, (ax, i, j) in enumerate(zip(axis, fi, fj, strict=True)):
        # the face between cells (i, j-1) and (i, j) (x) or (i-1, j) and (i, j) (y); either cell's tile sees it
        cells = [(i, j - 1), (i, j)] if ax == 0 else [(i - 1, j), (i, j)]
        tiles = {(a // TILE) * ntc + c // TILE for a, c in cells if 0 <= a < nr and 0 <= c < nc}
        for t in sorted(tiles):
            by_tile[t].append(b)
    ptr = np.zeros(ntr * ntc + 1, np.int64)
    ptr[1:] = np.cumsum([len(v) for v in by_tile])
    idx = np.array([b for v in by_tile for b in v], np.int64)
    return ptr, idx
