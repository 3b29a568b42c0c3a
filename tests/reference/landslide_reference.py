"""Plain-numpy/python references for the landslide kernels (written from the equations, not from the kernels).

* :func:`reference_failure_times` — hourly Bernoulli view of the hazard: the cumulative hazard
  Λ(t) = Σ λ_k Δt_k is built with ``np.cumsum`` over all steps at once and the first passage of ``x`` is found
  with ``np.searchsorted``, then interpolated linearly inside the step.
* :func:`reference_runout` — the travel-angle rule walked with (row, col) tuples and ``math.hypot`` distances.
"""

from __future__ import annotations

import math

import numpy as np


def reference_failure_times(e0, t_edges, gain, susc, rate_per_h, exceed_cap, expo):
    """Return failure times (s, +inf = none) for each cell, vectorised over steps."""
    e0 = np.asarray(e0, float)
    t_edges = np.asarray(t_edges, float)
    dt = np.diff(t_edges)
    out = np.full(len(gain), np.inf)
    for i, (g, s, x) in enumerate(zip(gain, susc, expo, strict=True)):
        e = np.minimum(g * e0, exceed_cap)
        lam = np.where(g * e0 > 1.0, rate_per_h / 3600.0 * s * (e - 1.0), 0.0)
        cum = np.concatenate([[0.0], np.cumsum(lam * dt)])
        k = np.searchsorted(cum, x, side="left")  # first edge with Λ ≥ x
        if k == 0 or k > len(dt):
            continue
        step = k - 1
        out[i] = min(t_edges[step] + (x - cum[step]) / lam[step], t_edges[step + 1])
    return out


def reference_runout(source, tan_reach, crown_m, z, receiver, river_id, cell_size, max_steps):
    """Return (cells, hit_river) of one slide by the travel-angle rule on a 2-D grid."""
    nrows, ncols = z.shape
    r, c = divmod(int(source), ncols)
    top = z[r, c] + crown_m
    path = [(r, c)]
    length = cell_size / 2.0
    hit = False
    while len(path) < max_steps:
        rec = int(receiver[r, c])
        if rec < 0:
            break
        rr, cc = divmod(rec, ncols)
        if river_id[rr, cc] in (1, 2):
            hit = True
            break
        if not z[rr, cc] <= z[r, c]:
            break
        length += math.hypot(rr - r, cc - c) * cell_size
        if top - z[rr, cc] < tan_reach * length:
            break
        path.append((rr, cc))
        r, c = rr, cc
    return [a * ncols + b for a, b in path], hit
