"""Rain forcing shared by the hazards: where a scenario storm falls and how hard, at any time.

A :class:`sim.scenario.Rainfall` is a piecewise-linear intensity series (``time_h``, ``intensity_mm_per_h``)
plus a footprint: the whole district (``township`` = None) or a storm centred on a township's centre.

Spatial shape of a centred storm (a choice, documented here once): a raised-cosine (Hann) taper of the
distance ``d`` from the township centre,

    f(d) = ½ (1 + cos(π d / R))   for d < R,      f(d) = 0   for d ≥ R,

with ``R = radius_km`` × 1000 m. It is 1 at the centre, smooth, and exactly zero beyond ``R``, so rain stays
where the scenario author put it. The series gives the intensity at the centre (factor 1); a cell gets
``f × I(t)``. The storm's rain volume per unit intensity is ∫f dA = π R² (1 − 4/π²) ≈ 0.595 π R² (m² per
mm/h → m³/h after × 1e-3).

Time: intensity is linear between knots and 0 before the first and after the last knot, so a series with a
single knot carries no rain. :func:`accumulated_mm` is the exact integral of that function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.yamlio import InputError

if TYPE_CHECKING:
    from sim.district import District
    from sim.geo import Township
    from sim.scenario import Rainfall

__all__ = ["accumulated_mm", "intensity_mm_per_h", "rain_factor", "rain_factor_at", "storm_centre_xy"]


def storm_centre_xy(rain: Rainfall, townships: list[Township]) -> tuple[float, float] | None:
    """Return the storm centre (UTM 48N metres) or None for district-wide rain.

    Parameters
    ----------
    rain : the scenario rainfall; ``rain.township`` is the canonical Chinese name (validated by the schema).
    townships : ``District.townships``.

    Raises
    ------
    InputError
        If the township is not among ``townships``.
    """
    if rain.township is None:
        return None
    for t in townships:
        if t.name == rain.township:
            return float(t.x_m), float(t.y_m)
    raise InputError(f"rain.township {rain.township!r} is not a township of this district. "
                     f"Fix: use one of {', '.join(t.name for t in townships[:5])}, …")


def rain_factor_at(rain: Rainfall, townships: list[Township], x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
    """Return the spatial rain factor (0…1, dimensionless) at points, ignoring any mask.

    Parameters
    ----------
    rain : scenario rainfall.
    townships : ``District.townships`` (to locate ``rain.township``).
    x_m, y_m : broadcastable arrays of point coordinates, UTM 48N metres.

    Returns
    -------
    numpy.ndarray
        float32 of the broadcast shape: 1 everywhere for district-wide rain, else the Hann taper.
    """
    x = np.asarray(x_m, dtype=np.float64)
    y = np.asarray(y_m, dtype=np.float64)
    centre = storm_centre_xy(rain, townships)
    if centre is None:
        return np.ones(np.broadcast_shapes(x.shape, y.shape), dtype=np.float32)
    radius = rain.radius_km * 1000.0
    d = np.hypot(x - centre[0], y - centre[1])
    f = np.where(d < radius, 0.5 * (1.0 + np.cos(np.pi * np.minimum(d, radius) / radius)), 0.0)
    return f.astype(np.float32)


def rain_factor(district: District, rain: Rainfall) -> np.ndarray:
    """Return the per-cell spatial rain factor on the district grid.

    Parameters
    ----------
    district : the district (its ``grid``, ``mask`` and ``townships`` are read).
    rain : scenario rainfall.

    Returns
    -------
    numpy.ndarray
        float32 ``(nrows, ncols)``, dimensionless, in [0, 1]; 0 outside ``district.mask``. Multiply by
        :func:`intensity_mm_per_h` to get the cell's rain intensity in mm/h.
    """
    xs, ys = district.grid.centres()
    f = rain_factor_at(rain, district.townships, xs[None, :], ys[:, None])
    f = np.broadcast_to(f, district.grid.shape).copy()
    f[~district.mask] = 0.0
    return f


def _knots(rain: Rainfall) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(rain.time_h, dtype=np.float64) * 3600.0,
            np.asarray(rain.intensity_mm_per_h, dtype=np.float64))


def intensity_mm_per_h(rain: Rainfall, t_s: float | np.ndarray) -> float | np.ndarray:
    """Return the storm-centre intensity (mm/h) at time(s) ``t_s`` (s after the scenario start).

    Linear between knots; 0 before the first knot and after the last one.

    Parameters
    ----------
    rain : scenario rainfall.
    t_s : scalar or array of times, seconds.

    Returns
    -------
    float or numpy.ndarray
        float64 intensity, mm/h (a Python float for scalar input).
    """
    tk, ik = _knots(rain)
    t = np.asarray(t_s, dtype=np.float64)
    out = np.interp(t, tk, ik, left=0.0, right=0.0)
    if tk.size == 1:
        out = np.zeros_like(t)
    return float(out) if out.ndim == 0 else out


def _cumulative_mm(tk: np.ndarray, ik: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Exact ∫_{-∞}^{t} I dt' in mm for the piecewise-linear series (I in mm/h, times in s)."""
    tc = np.clip(t, tk[0], tk[-1])
    if tk.size == 1:
        return np.zeros_like(tc)
    seg_mm = 0.5 * (ik[1:] + ik[:-1]) * np.diff(tk) / 3600.0
    cum = np.concatenate([[0.0], np.cumsum(seg_mm)])
    k = np.clip(np.searchsorted(tk, tc, side="right") - 1, 0, tk.size - 2)
    slope = (ik[k + 1] - ik[k]) / (tk[k + 1] - tk[k])  # mm/h per s
    dt = tc - tk[k]
    return cum[k] + (ik[k] * dt + 0.5 * slope * dt * dt) / 3600.0


def accumulated_mm(rain: Rainfall, t0_s: float | np.ndarray, t1_s: float | np.ndarray) -> float | np.ndarray:
    """Return the rain depth (mm) at the storm centre between ``t0_s`` and ``t1_s``: the exact integral.

    Parameters
    ----------
    rain : scenario rainfall.
    t0_s, t1_s : broadcastable scalars or arrays, seconds; times before 0 or after the series carry no rain.
        If ``t1_s < t0_s`` the result is negative (∫ from t0 to t1).

    Returns
    -------
    float or numpy.ndarray
        float64 depth, mm (a Python float for scalar input). A cell receives ``rain_factor ×`` this.
    """
    tk, ik = _knots(rain)
    t0 = np.asarray(t0_s, dtype=np.float64)
    t1 = np.asarray(t1_s, dtype=np.float64)
    out = _cumulative_mm(tk, ik, t1) - _cumulative_mm(tk, ik, t0)
    return float(out) if out.ndim == 0 else out
