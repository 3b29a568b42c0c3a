from __future__ import annotations

import numpy as np
import pytest

from models.district.exposure import incremental, jonkman_mortality
from models.district.params import CasualtyParams


def test_jonkman_mortality_matches_the_published_curve():
    p = CasualtyParams()
    f = jonkman_mortality(np.array([1.0, 3.0, 5.0]), np.zeros(3), p.flood_mu, p.flood_sigma, p.breach_mu,
                          p.breach_sigma)
    # Φ((ln h − 7.60)/2.75): h = 1 m → Φ(−2.764) ≈ 0.0029; 3 m → 0.0091; 5 m → 0.0149
    assert f == pytest.approx([0.00286, 0.00911, 0.01486], rel=0.02)
    assert np.all(np.diff(f) > 0)
    # breach zone (h·v ≥ 7 m²/s and v ≥ 2 m/s): Φ((ln h − 1.46)/0.28) = 0.5 at h = e^1.46 = 4.31 m;
    # the same depth in still water is the remaining-zone value
    h = np.array([np.exp(1.46), np.exp(1.46)])
    fb = jonkman_mortality(h, np.array([2.0, 0.0]), p.flood_mu, p.flood_sigma, p.breach_mu, p.breach_sigma)
    assert fb[0] == pytest.approx(0.5) and fb[1] == pytest.approx(0.0129, abs=5e-4)


def test_incremental_harm_adds_up_to_the_cumulative_probability():
    # surviving two increments (0 → 0.01 → 0.03) equals surviving once (0 → 0.03)
    a = incremental(np.array([0.01]), np.array([0.0]))
    b = incremental(np.array([0.03]), np.array([0.01]))
    assert (1 - a) * (1 - b) == pytest.approx(1 - 0.03)
    assert incremental(np.array([0.02]), np.array([0.05]))[0] == 0.0
