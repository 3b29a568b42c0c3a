"""Rain forcing: spatial factor (mask, bounds, peak, support) and the exact time integral.

Tolerances: ``accumulated_mm`` vs an independent numerical integral (scipy ``quad`` with the knots as break
points): rtol 1e-9, atol 1e-9 mm; the storm factor at the centre cell ≥ 1 − (π²/4)(Δx/√2 / R)² (the taper's
drop over half a cell diagonal).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from sim.hazards.rainfall import accumulated_mm, intensity_mm_per_h, rain_factor, rain_factor_at
from sim.scenario import Rainfall


def _rain(times, values, township=None, radius_km=15.0) -> Rainfall:
    return Rainfall(time_h=times, intensity_mm_per_h=values, township=township, radius_km=radius_km)


def test_storm_factor_zero_outside_mask_bounded_and_peaks_at_centre(district100):
    rain = _rain([0, 6, 12], [0, 30, 0], township="义和镇", radius_km=12)
    f = rain_factor(district100, rain)
    g = district100.grid
    assert f.dtype == np.float32 and f.shape == g.shape
    assert (f[~district100.mask] == 0).all()
    assert f.min() >= 0 and f.max() <= 1
    tw = next(t for t in district100.townships if t.name == "义和镇")
    r, c = g.rowcol(tw.x_m, tw.y_m)
    assert f[r, c] == f.max()
    half_diag = g.cell_size_m / np.sqrt(2) / 12_000.0
    assert f[r, c] >= 1 - (np.pi**2 / 4) * half_diag**2
    xs, ys = g.centres()
    d = np.hypot(xs[None, :] - tw.x_m, ys[:, None] - tw.y_m)
    assert (f[d >= 12_000.0] == 0).all()
    assert (f[(d < 11_000.0) & district100.mask] > 0).all()
    # monotone in distance from the centre
    inside = district100.mask & (d < 12_000.0)
    order = np.argsort(d[inside])
    assert np.all(np.diff(f[inside][order].astype(np.float64)) <= 1e-6)


def test_uniform_rain_is_one_on_the_mask():
    mask = np.zeros((4, 5), bool)
    mask[1:3, 1:4] = True
    grid = SimpleNamespace(shape=(4, 5), centres=lambda: (np.arange(5.0), np.arange(4.0)))
    district = SimpleNamespace(grid=grid, mask=mask, townships=[])
    f = rain_factor(district, _rain([0, 1], [5, 5]))
    np.testing.assert_array_equal(f, mask.astype(np.float32))


def test_unknown_township_is_an_error():
    tw = SimpleNamespace(name="义和镇", x_m=0.0, y_m=0.0)
    with pytest.raises(ValueError):
        rain_factor_at(_rain([0, 1], [1, 1], township="龙潭镇"), [tw], np.zeros(1), np.zeros(1))


def test_hann_taper_values():
    tw = SimpleNamespace(name="义和镇", x_m=0.0, y_m=0.0)
    rain = _rain([0, 1], [1, 1], township="义和镇", radius_km=10)
    f = rain_factor_at(rain, [tw], np.array([0.0, 5000.0, 10_000.0, 20_000.0]), np.zeros(4))
    np.testing.assert_allclose(f, [1.0, 0.5, 0.0, 0.0], atol=1e-7)


def test_intensity_is_linear_between_knots_and_zero_outside():
    rain = _rain([1, 3, 4], [10, 20, 0])
    t = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 3.5, 4.0, 10.0]) * 3600
    np.testing.assert_allclose(intensity_mm_per_h(rain, t), [0, 0, 10, 15, 20, 10, 0, 0])
    assert isinstance(intensity_mm_per_h(rain, 7200.0), float)
    assert intensity_mm_per_h(_rain([2], [50]), 7200.0) == 0.0
    assert accumulated_mm(_rain([2], [50]), 0.0, 1e5) == 0.0


series = st.integers(2, 8).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.1, 10.0), min_size=n, max_size=n),
    st.lists(st.floats(0.0, 200.0), min_size=n, max_size=n),
    st.floats(-5.0, 60.0), st.floats(0.0, 40.0)))


@settings(max_examples=60, deadline=None)
@given(series)
def test_accumulated_equals_numerical_integral(s):
    gaps, values, t0_h, span_h = s
    times = np.cumsum(gaps).tolist()
    rain = _rain(times, values)
    t0, t1 = t0_h * 3600, (t0_h + span_h) * 3600
    pts = [t * 3600 for t in times if t0 < t * 3600 < t1]
    ref, _ = quad(lambda t: intensity_mm_per_h(rain, t) / 3600.0, t0, t1, points=pts or None, limit=200,
                  epsabs=1e-12, epsrel=1e-12) if t1 > t0 else (0.0, 0.0)
    got = accumulated_mm(rain, t0, t1)
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-9)
    # additivity and antisymmetry
    mid = 0.5 * (t0 + t1)
    assert accumulated_mm(rain, t0, mid) + accumulated_mm(rain, mid, t1) == pytest.approx(got, rel=1e-12, abs=1e-9)
    assert accumulated_mm(rain, t1, t0) == pytest.approx(-got, rel=1e-12, abs=1e-12)


def test_accumulated_total_is_the_trapezoid_sum_and_vectorises():
    rain = _rain([0, 6, 12, 18, 24], [0, 15, 40, 20, 0])
    assert accumulated_mm(rain, -100.0, 1e6) == pytest.approx(6 * (7.5 + 27.5 + 30 + 10))
    t = np.array([0.0, 3600.0, 7200.0])
    np.testing.assert_allclose(accumulated_mm(rain, t, t + 3600.0),
                               [accumulated_mm(rain, a, a + 3600.0) for a in t])
