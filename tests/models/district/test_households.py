from __future__ import annotations

import dataclasses

import numpy as np

from models.district.households import AT_HOME, STATES, cell_index, households_in_cells, synthesise
from models.district.params import PopulationParams


def test_households_hold_every_resident_once(district100):
    tab = synthesise(district100, PopulationParams(), np.random.default_rng(1))
    assert int(tab.size.sum()) == int(district100.population.sum()) == 1_115_016
    assert tab.n == int(district100.households.sum())
    per_cell = np.bincount(tab.home_cell, weights=tab.size, minlength=district100.population.size)
    assert np.array_equal(per_cell.astype(np.int64), district100.population.ravel().astype(np.int64))
    assert (tab.size >= 1).all() and (tab.state == AT_HOME).all()
    assert np.array_equal(tab.persons_by_state(), np.bincount([AT_HOME], minlength=len(STATES)) * 1_115_016)
    assert (tab.home_node >= 0).all() and (tab.home_node < district100.road_csr.indptr.size - 1).all()


def test_vulnerability_and_cars_follow_the_shares(district100):
    p = PopulationParams()
    tab = synthesise(district100, p, np.random.default_rng(2))
    pop = tab.size.sum()
    assert abs(tab.elderly.sum() / pop - p.elderly_share) < 0.005
    assert abs(tab.disabled.sum() / pop - p.disabled_share) < 0.005
    assert (tab.elderly + tab.children <= tab.size).all()
    old = tab.size[tab.old_housing].sum()
    assert p.old_housing_residents <= old < p.old_housing_residents + 20  # one household past the count
    assert tab.urban[tab.old_housing].all()
    assert abs(tab.car[tab.urban].mean() - p.car_share_urban) < 0.01
    assert abs(tab.car[~tab.urban].mean() - p.car_share_rural) < 0.01


def test_same_seed_same_households_and_no_home_in_an_empty_cell(district100):
    a = synthesise(district100, PopulationParams(), np.random.default_rng(5))
    b = synthesise(district100, PopulationParams(), np.random.default_rng(5))
    for f in dataclasses.fields(a):
        assert np.array_equal(getattr(a, f.name), getattr(b, f.name)), f.name
    # a township emptied of people gets no household; the cell index finds none there
    pop = district100.population.copy()
    tw0 = district100.township_id == 0
    pop[tw0] = 0
    hh = district100.households.copy()
    hh[tw0] = 0
    empty = dataclasses.replace(district100, population=pop, households=hh)
    tab = synthesise(empty, PopulationParams(), np.random.default_rng(5))
    assert not (tab.township == 0).any()
    ptr, order = cell_index(tab.home_cell, pop.size)
    assert households_in_cells(ptr, order, np.flatnonzero(tw0)).size == 0


def test_no_homes_below_the_resettlement_line(district100):
    z = np.nan_to_num(district100.terrain.elevation_m, nan=np.inf)
    assert district100.population[z < district100.spec.resettlement_elevation_m].sum() == 0
