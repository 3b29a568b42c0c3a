"""Stochastic cellular wildfire spread: one synchronous step over the burning front.

The kernel follows the project contract (DESIGN §3.1): ``@njit(cache=True)``, arrays in, ``out=`` buffers,
no globals but constants, no random calls inside — the caller draws the uniforms for the front from the run's
``numpy.random.Generator`` and passes them in.

Model of one step ``t → t_new = t + dt`` (see :mod:`sim.hazards.fire` for the parameters and sources):

* every burning cell ``s`` of the front tries to ignite each Moore neighbour ``n`` (offset ``k``, centre
  distance ``d_k = Δx`` or ``Δx√2``) that holds unburned fuel, with probability
  ``p = 1 − exp(−R dt / d_k)``, ``R = R0[fuel_n] · W[k] · exp(a θ)``, where ``R0`` is the calm, flat
  per-link rate of the neighbour's fuel (m/s; :mod:`sim.hazards.fire` passes the rate of spread divided by
  the measured front-speed factor κ), ``W[k]`` the wind factor of direction ``k`` (see
  :func:`wind_factors`) and ``θ = atan((z_n − z_s) / d_k)`` the slope angle from ``s`` to ``n`` in degrees
  (positive uphill; Alexandridis et al. 2008);
* with spotting, a burning cell whose fuel can loft embers sends one with probability ``p_spot`` to a cell
  at distance ``L = −L̄ ln(1 − u₁)`` along bearing ``ψ = ψ_wind + (2u₂ − 1) δ`` (downwind ± spread);
* a cell ignited in this step starts burning at ``t_new`` and burns out at ``t_new + residence[fuel]``;
  front cells whose burn-out time is ``≤ t_new`` become burned out (after they spread in this step).

**Synchronous.** Each attempt reads only the state at the start of the step: a cell ignited in this step is
not a source until the next step, and targets are tested against the step-start state (a cell that was
burning before the step is skipped; one ignited in this step by another source stays ignited). When
several fires reach a cell in the same step the smallest fire id wins. The outcome is therefore a function
of the step-start state and the random numbers alone, independent of the order of the front — the
plain-numpy reference in ``tests/reference/fire_reference.py`` computes it grid-wide and must agree exactly.

**Cost.** Work is proportional to the number of burning cells (8 neighbour tests plus one spot draw
each) and never touches the rest of the grid; the front is kept as a sorted list of flat indices.

References
----------
Alexandridis, A., Vakalis, D., Siettos, C. I., Bafas, G. V. (2008). A cellular automata model for forest fire
spread prediction: the case of the wildfire that swept through Spetses Island in 1990. *Applied Mathematics
and Computation* 204, 191–201 (wind factor ``exp(c1 V) exp(c2 V (cos θ − 1))`` with ``c1 = 0.045 s/m``,
``c2 = 0.131 s/m``; slope factor ``exp(a θ_s)``, ``a = 0.078 /°``). The default ``c1 = 0.1814 s/m`` of
:func:`wind_factors` is the Canadian FBP head-fire wind function (Van Wagner 1987), see :mod:`sim.hazards.fire`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# cell states (uint8)
NONFUEL, UNBURNED, BURNING, BURNED, EXTINGUISHED, FIRELINE = 0, 1, 2, 3, 4, 5
STATE_NAMES = {
    NONFUEL: "non-fuel / barrier 非燃",
    UNBURNED: "unburned fuel 未燃",
    BURNING: "burning 燃烧",
    BURNED: "burned out 燃尽",
    EXTINGUISHED: "extinguished by crews 扑灭",
    FIRELINE: "fireline built by crews 隔离带",
}

# Moore neighbour offsets (drow, dcol), clockwise from east; even k are the orthogonal neighbours.
DR = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
DC = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)

# entries of the float64 ``params`` vector
P_CELL_M = 0  # cell edge, m
P_DT_S = 1  # step length, s
P_T_NEW_S = 2  # time at the end of the step, s
P_SLOPE_A = 3  # slope coefficient a, 1/degree
P_SPOT_P = 4  # probability per step that a spot-capable burning cell lofts an ember
P_SPOT_MEAN_M = 5  # mean ember travel distance, m
P_SPOT_SPREAD_RAD = 6  # half-width of the ember bearing fan, rad
P_WIND_TO_RAD = 7  # bearing the wind blows TO, rad clockwise from north
N_PARAMS = 8

# columns of the float64 ``fuel_table`` (one row per fuel class)
T_ROS_M_S = 0  # calm, flat rate of spread R0, m/s (0 = cannot burn)
T_RESIDENCE_S = 1  # time a cell of this fuel burns, s
T_SPOT = 2  # > 0 if a burning cell of this fuel lofts embers
N_TABLE = 3

RAD2DEG = 180.0 / math.pi


def wind_factors(speed_m_s: float, from_deg: float, c1_s_m: float = 0.1814, c2_s_m: float = 0.131) -> np.ndarray:
    """Return the wind factor of each Moore direction (form of Alexandridis et al. 2008).

    Parameters
    ----------
    speed_m_s : wind speed V, m/s.
    from_deg : direction the wind blows from, degrees clockwise from north.
    c1_s_m, c2_s_m : coefficients, s/m. Defaults: ``c1`` of the FBP head-fire wind function (see
        :mod:`sim.hazards.fire`; Alexandridis' own 0.045 s/m is the probability-scale value), ``c2`` of
        Alexandridis.

    Returns
    -------
    (8,) float64, dimensionless: ``exp(c1 V) exp(c2 V (cos θ_k − 1))`` with ``θ_k`` the angle between the
    spread direction ``k`` (order of :data:`DR`, :data:`DC`) and the direction the wind blows to.

    Examples
    --------
    >>> w = wind_factors(5.0, 270.0)  # westerly wind: blows to the east (k = 0)
    >>> int(np.argmax(w)), int(np.argmin(w))
    (0, 4)
    """
    to = math.radians(from_deg + 180.0)
    wx, wy = math.sin(to), math.cos(to)  # unit vector the wind blows to (x east, y north)
    dx, dy = DC.astype(np.float64), -DR.astype(np.float64)
    cos_t = (dx * wx + dy * wy) / np.hypot(dx, dy)
    return np.exp(c1_s_m * speed_m_s) * np.exp(c2_s_m * speed_m_s * (cos_t - 1.0))


@njit(cache=True)
def _ignite(state, fire_id, ign_time_s, r, c, src_id, t_new, out_new, m):
    """Ignite (r, c) from a fire ``src_id`` (or lower its id if ignited this step); return the new count."""
    st = state[r, c]
    if st == UNBURNED:
        state[r, c] = BURNING
        fire_id[r, c] = src_id
        ign_time_s[r, c] = t_new
        out_new[m] = r * state.shape[1] + c
        return m + 1
    if st == BURNING and ign_time_s[r, c] == t_new and src_id < fire_id[r, c]:
        fire_id[r, c] = src_id
    return m


@njit(cache=True)
def _is_target(state, ign_time_s, r, c, t_new):
    """Return True if (r, c) held unburned fuel at the start of the step (it may have been ignited in it)."""
    st = state[r, c]
    return st == UNBURNED or (st == BURNING and ign_time_s[r, c] == t_new)


@njit(cache=True)
def _spread_step(grids, fuel_table, wind_factor, params, front, front_end_s, rand, spot_rand, out):
    state, fire_id, ign_time_s, fuel, elev_m = grids
    out_front, out_end_s, out_new = out
    nrows, ncols = state.shape
    n_fuel = fuel_table.shape[0]
    cell = params[P_CELL_M]
    dt = params[P_DT_S]
    t_new = params[P_T_NEW_S]
    a = params[P_SLOPE_A]
    diag = cell * math.sqrt(2.0)
    n = front.shape[0]
    spot = spot_rand.shape[0] == n and n > 0 and params[P_SPOT_P] > 0.0
    m = 0
    for i in range(n):
        s = front[i]
        r = s // ncols
        c = s - r * ncols
        if state[r, c] != BURNING:  # put out by crews since the front was built
            continue
        sid = fire_id[r, c]
        zs = elev_m[r, c]
        for k in range(8):
            rr = r + DR[k]
            cc = c + DC[k]
            if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
                continue
            if not _is_target(state, ign_time_s, rr, cc, t_new):
                continue
            f = fuel[rr, cc]
            if f >= n_fuel:
                continue
            dist = cell if k % 2 == 0 else diag
            theta = math.atan((elev_m[rr, cc] - zs) / dist) * RAD2DEG
            rate = fuel_table[f, T_ROS_M_S] * wind_factor[k] * math.exp(a * theta)
            p = -math.expm1(-(rate * dt / dist))
            if rand[i, k] < p:
                m = _ignite(state, fire_id, ign_time_s, rr, cc, sid, t_new, out_new, m)
        if spot:
            f = fuel[r, c]
            if f < n_fuel and fuel_table[f, T_SPOT] > 0.0 and spot_rand[i, 0] < params[P_SPOT_P]:
                dist_m = -params[P_SPOT_MEAN_M] * math.log(1.0 - spot_rand[i, 1])
                ang = params[P_WIND_TO_RAD] + (2.0 * spot_rand[i, 2] - 1.0) * params[P_SPOT_SPREAD_RAD]
                rr = r + np.int64(math.floor(-dist_m * math.cos(ang) / cell + 0.5))
                cc = c + np.int64(math.floor(dist_m * math.sin(ang) / cell + 0.5))
                if rr >= 0 and cc >= 0 and rr < nrows and cc < ncols:
                    if _is_target(state, ign_time_s, rr, cc, t_new) and fuel[rr, cc] < n_fuel:
                        if fuel_table[fuel[rr, cc], T_ROS_M_S] > 0.0:
                            m = _ignite(state, fire_id, ign_time_s, rr, cc, sid, t_new, out_new, m)
    # burn-out: front cells that reach their end time leave the front (sorted order kept)
    kept = 0
    for i in range(n):
        s = front[i]
        r = s // ncols
        c = s - r * ncols
        if state[r, c] != BURNING:
            continue  # put out by crews since the front was built
        if front_end_s[i] <= t_new:
            state[r, c] = BURNED
        else:
            out_front[kept] = s
            out_end_s[kept] = front_end_s[i]
            kept += 1
    # merge the sorted new cells into the kept front from the back
    out_new[:m].sort()
    i = kept - 1
    j = m - 1
    w = kept + m - 1
    while j >= 0:
        if i >= 0 and out_front[i] > out_new[j]:
            out_front[w] = out_front[i]
            out_end_s[w] = out_end_s[i]
            i -= 1
        else:
            cnew = out_new[j]
            rn = cnew // ncols
            out_front[w] = cnew
            out_end_s[w] = t_new + fuel_table[fuel[rn, cnew - rn * ncols], T_RESIDENCE_S]
            j -= 1
        w -= 1
    return kept + m, m


@njit(cache=True)
def _front_edges(state, front, edge, faces):
    nrows, ncols = state.shape
    for i in range(front.shape[0]):
        s = front[i]
        r = s // ncols
        c = s - r * ncols
        e = False
        f = 0
        for k in range(8):
            rr = r + DR[k]
            cc = c + DC[k]
            if rr < 0 or cc < 0 or rr >= nrows or cc >= ncols:
                continue
            if state[rr, cc] == UNBURNED:
                e = True
                if k % 2 == 0:
                    f += 1
        edge[i] = e
        faces[i] = f
    return edge, faces


def front_edges(state: np.ndarray, front: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return, per front cell, whether a Moore neighbour holds unburned fuel and how many orthogonal ones do.

    Parameters
    ----------
    state : (nrows, ncols) uint8 cell states.
    front : (n,) int64 flat indices of burning cells.

    Returns
    -------
    edge : (n,) bool, True for cells on the active edge.
    faces : (n,) int64, unburned orthogonal neighbours (cell faces on the active perimeter).
    """
    _check("state", state, np.uint8, 2)
    _check("front", front, np.int64, 1)
    return _front_edges(state, front, np.empty(front.size, np.bool_), np.empty(front.size, np.int64))


def _check(name: str, a: np.ndarray, dtype, ndim: int, shape=None) -> None:
    if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != ndim:
        got = f"{a.dtype} {a.ndim}-D" if isinstance(a, np.ndarray) else type(a).__name__
        raise TypeError(f"{name} must be a {ndim}-D {np.dtype(dtype)} array, got {got}")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, expected {shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")


def spread_step(state: np.ndarray, fire_id: np.ndarray, ign_time_s: np.ndarray, fuel: np.ndarray,
                elev_m: np.ndarray, fuel_table: np.ndarray, wind_factor: np.ndarray, params: np.ndarray,
                front: np.ndarray, front_end_s: np.ndarray, rand: np.ndarray, spot_rand: np.ndarray | None = None,
                out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, check_front: bool = True,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance the fire by one synchronous step; update the grids in place and return the new front.

    Parameters
    ----------
    state : (nrows, ncols) uint8, cell states (:data:`NONFUEL` … :data:`FIRELINE`); updated in place.
    fire_id : (nrows, ncols) int32, id of the fire that reached each cell (-1 none); updated in place.
    ign_time_s : (nrows, ncols) float64, ignition time of each cell, s (NaN never); updated in place.
    fuel : (nrows, ncols) uint8, fuel class (row of ``fuel_table``).
    elev_m : (nrows, ncols) float64, elevation, m (finite).
    fuel_table : (n_fuel, 3) float64, per fuel class: R0 (m/s), residence time (s), spot flag (> 0 = lofts).
    wind_factor : (8,) float64, wind factor per Moore direction (:func:`wind_factors`), dimensionless.
    params : (8,) float64, see ``P_*``: cell size (m), dt (s), t_new (s), slope coefficient (1/°),
        spot probability per step, mean spot distance (m), spot fan half-width (rad), wind-to bearing (rad).
    front : (n,) int64, flat indices of the burning cells, strictly increasing.
    front_end_s : (n,) float64, burn-out time of each front cell, s.
    rand : (n, 8) float64 uniforms in [0, 1), one per front cell and direction.
    spot_rand : (n, 3) float64 uniforms for spotting, or None / a (0, 3) array for no spotting.
    out : optional buffers (new_front int64, new_end_s float64, new_cells int64), each of length ≥ 9 n.
    check_front : verify that ``front`` is strictly increasing (O(n)).

    Returns
    -------
    new_front : (n',) int64 view, flat indices of the cells burning after the step, increasing.
    new_end_s : (n',) float64 view, their burn-out times, s.
    new_cells : (m,) int64 view, cells ignited in this step, increasing.
    """
    shape = state.shape
    _check("state", state, np.uint8, 2)
    _check("fire_id", fire_id, np.int32, 2, shape)
    _check("ign_time_s", ign_time_s, np.float64, 2, shape)
    _check("fuel", fuel, np.uint8, 2, shape)
    _check("elev_m", elev_m, np.float64, 2, shape)
    _check("fuel_table", fuel_table, np.float64, 2)
    if fuel_table.shape[1] != N_TABLE:
        raise ValueError(f"fuel_table must have {N_TABLE} columns (R0, residence, spot), got {fuel_table.shape}")
    _check("wind_factor", wind_factor, np.float64, 1, (8,))
    _check("params", params, np.float64, 1, (N_PARAMS,))
    _check("front", front, np.int64, 1)
    n = front.shape[0]
    _check("front_end_s", front_end_s, np.float64, 1, (n,))
    _check("rand", rand, np.float64, 2, (n, 8))
    if spot_rand is None:
        spot_rand = np.empty((0, 3), dtype=np.float64)
    _check("spot_rand", spot_rand, np.float64, 2)
    if spot_rand.shape not in ((n, 3), (0, 3)):
        raise ValueError(f"spot_rand has shape {spot_rand.shape}, expected ({n}, 3) or (0, 3)")
    if check_front and n and ((front[0] < 0) or (front[-1] >= state.size) or np.any(front[1:] <= front[:-1])):
        raise ValueError("front must hold strictly increasing flat indices inside the grid")
    cap = 9 * n
    if out is None:
        out = (np.empty(cap, np.int64), np.empty(cap, np.float64), np.empty(cap, np.int64))
    for name, buf, dt in zip(("new_front", "new_end_s", "new_cells"), out, (np.int64, np.float64, np.int64),
                             strict=True):
        _check(name, buf, dt, 1)
        if buf.shape[0] < cap:
            raise ValueError(f"out buffer {name} has length {buf.shape[0]}, needs ≥ 9 × front = {cap}")
    n_out, m = _spread_step((state, fire_id, ign_time_s, fuel, elev_m), fuel_table, wind_factor, params, front,
                            front_end_s, rand, spot_rand, out)
    return out[0][:n_out], out[1][:n_out], out[2][:m]


__all__ = [
    "BURNED",
    "BURNING",
    "DC",
    "DR",
    "EXTINGUISHED",
    "FIRELINE",
    "NONFUEL",
    "N_PARAMS",
    "N_TABLE",
    "P_CELL_M",
    "P_DT_S",
    "P_SLOPE_A",
    "P_SPOT_MEAN_M",
    "P_SPOT_P",
    "P_SPOT_SPREAD_RAD",
    "P_T_NEW_S",
    "P_WIND_TO_RAD",
    "STATE_NAMES",
    "T_RESIDENCE_S",
    "T_ROS_M_S",
    "T_SPOT",
    "UNBURNED",
    "front_edges",
    "spread_step",
    "wind_factors",
]
