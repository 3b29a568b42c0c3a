from __future__ import annotations

import numpy as np
import pytest

from models.district.params import WarningParams
from models.district.warnings import WarningChain, rainstorm_level, stage_level


def _chain(channels, n=2000, n_tw=2, vulnerable=None, seed=0, **params):
    rng = np.random.default_rng(seed)
    tw = np.repeat(np.arange(n_tw), n // n_tw)
    vul = np.zeros(n, bool) if vulnerable is None else vulnerable
    return WarningChain(WarningParams(**params), channels, tw, np.ones(n, bool), vul, np.zeros(n, bool),
                        np.bincount(tw), rng)


def test_every_household_is_reached_once_after_the_issue_and_in_time_order():
    ch = _chain(["cell_broadcast_sms", "loudspeaker", "grid_worker"])
    hh = np.arange(2000)
    ch.issue(100.0, hh, level=2, order=True)
    got = []
    for t in np.arange(0, 48 * 3600, 60.0):
        for h, level, order, _ in ch.due(t):
            assert level == 2 and order
            got.append(h)
    got = np.concatenate(got)
    assert np.array_equal(np.sort(got), hh)  # grid workers reach everyone eventually, once each
    assert ch.pending == 0


def test_grid_workers_visit_at_their_rate_and_vulnerable_first():
    n = 3000
    vul = np.zeros(n, bool)
    vul[::10] = True
    ch = _chain(["grid_worker"], n=n, n_tw=1, vulnerable=vul, households_per_grid_worker=300.0,
                visits_per_hour=12.0, relay_delay_min={"city_to_district": 0.0, "district_to_township": 0.0,
                                                       "township_to_village": 0.0})
    ch.issue(0.0, np.arange(n), level=3, order=True)
    b = ch.batches[0]
    # 10 workers × 12 visits/h = 120 households per hour: 3000 take 25 h
    assert b.time_s[-1] == pytest.approx(n / 120 * 3600.0)
    assert vul[b.hh[: vul.sum()]].all()  # the first visits are the vulnerable households
    assert b.visited.all()


def test_no_channel_reaches_a_household_twice_and_unreached_stay_unwarned():
    ch = _chain(["tv_internet"], reach_urban={"cell_broadcast_sms": 0.85, "emergency_broadcast": 0.45,
                                              "tv_internet": 0.4, "loudspeaker": 0.3, "grid_worker": 1.0})
    ch.issue(0.0, np.arange(2000), level=0, order=False)
    n = ch.batches[0].hh.size
    assert 0.35 * 2000 < n < 0.45 * 2000
    assert np.unique(ch.batches[0].hh).size == n


def test_stage_and_rainstorm_levels():
    trig = {"blue": 175.0, "yellow": 177.0, "orange": 179.0, "red": 181.0}
    assert stage_level(174.9, trig) == -1
    assert stage_level(175.0, trig) == 0
    assert stage_level(179.5, trig) == 2
    assert stage_level(190.0, trig) == 3
    # CMA Order No. 16: 50 mm/12 h blue, 50/6 h yellow, 50/3 h orange, 100/3 h red
    assert rainstorm_level(lambda h: {12.0: 49, 6.0: 10, 3.0: 5}[h]) == -1
    assert rainstorm_level(lambda h: {12.0: 55, 6.0: 30, 3.0: 20}[h]) == 0
    assert rainstorm_level(lambda h: {12.0: 80, 6.0: 55, 3.0: 40}[h]) == 1
    assert rainstorm_level(lambda h: {12.0: 90, 6.0: 80, 3.0: 60}[h]) == 2
    assert rainstorm_level(lambda h: {12.0: 150, 6.0: 120, 3.0: 101}[h]) == 3


def test_incomplete_or_out_of_range_parameters_are_refused():
    from pydantic import ValidationError

    from models.district.params import ResidentParams, SupplyParams

    with pytest.raises(ValidationError, match="missing"):
        WarningParams(reach_urban={"cell_broadcast_sms": 0.9})
    with pytest.raises(ValidationError, match=r"\[0.0, 1.0\]"):
        WarningParams(reach_rural={"cell_broadcast_sms": 1.5, "emergency_broadcast": 0.5, "tv_internet": 0.3,
                                   "loudspeaker": 0.8, "grid_worker": 1.0})
    with pytest.raises(ValidationError, match="level_compliance"):
        ResidentParams(level_compliance={"blue": 0.1})
    with pytest.raises(ValidationError, match="water_l"):
        SupplyParams(daily_need_per_person={"water": 3.0})
