"""Plain-numpy reference of one local-inertial step on the full grid (no tiles), for kernel tests."""

from __future__ import annotations

import numpy as np

from sim.kernels.flood import H_EPS, G


def _faces(q_old, zl, hl, zr, hr, n2l, n2r, q_prev, q_next, theta, dt, dx):
    etal, etar = zl + hl, zr + hr
    hf = np.maximum(etal, etar) - np.maximum(zl, zr)
    ok = hf > H_EPS
    hs = np.where(ok, hf, 1.0)
    qa = theta * q_old + 0.5 * (1.0 - theta) * (q_prev + q_next)
    num = qa - G * hs * dt * (etar - etal) / dx
    den = 1.0 + G * dt * (0.5 * (n2l + n2r)) * np.abs(q_old) / (hs * hs * np.exp(np.log(hs) * (1.0 / 3.0)))
    return np.where(ok, num / den, 0.0)


def step(h, z, n2, inside, qx_old, qy_old, dt, dx, theta, rain_m_s=0.0, rain_factor=None, sources=()):
    """Return (h, qx, qy) after one step of length ``dt``; fluxes returned are the limited ones."""
    nr, nc = h.shape
    qx = np.zeros((nr, nc + 1))
    qy = np.zeros((nr + 1, nc))
    qx[:, 1:-1] = _faces(qx_old[:, 1:-1], z[:, :-1], h[:, :-1], z[:, 1:], h[:, 1:], n2[:, :-1], n2[:, 1:],
                         qx_old[:, :-2], qx_old[:, 2:], theta, dt, dx)
    qy[1:-1, :] = _faces(qy_old[1:-1, :], z[:-1, :], h[:-1, :], z[1:, :], h[1:, :], n2[:-1, :], n2[1:, :],
                         qy_old[:-2, :], qy_old[2:, :], theta, dt, dx)
    out = (np.maximum(qx[:, 1:], 0) + np.maximum(-qx[:, :-1], 0) + np.maximum(qy[1:, :], 0)
           + np.maximum(-qy[:-1, :], 0)) * dt * dx
    vol = h * dx * dx
    lim = np.where(out <= vol, 1.0, vol / np.where(out > 0, out, 1.0))
    lim = np.where(inside, lim, 1.0)
    lp = np.pad(lim, 1, constant_values=1.0)
    qxe = np.where(qx > 0, qx * lp[1:-1, :-1], qx * lp[1:-1, 1:])
    qye = np.where(qy > 0, qy * lp[:-1, 1:-1], qy * lp[1:, 1:-1])
    rf = np.ones_like(h) if rain_factor is None else rain_factor
    hn = h + dt / dx * (qxe[:, :-1] - qxe[:, 1:] + qye[:-1, :] - qye[1:, :]) + rain_m_s * dt * rf
    hn = np.where(inside, np.maximum(hn, 0.0), h)
    for (r, c, q_m3s) in sources:
        hn[r, c] += q_m3s * dt / (dx * dx)
    return hn, qxe, qye
