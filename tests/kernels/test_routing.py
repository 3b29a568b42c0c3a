"""Flow-routing kernels: filling, receivers and accumulation against plain-python references."""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.kernels.routing import d8_receivers, fill_depressions, flow_accumulation


def reference_fill(z: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Plain-python priority flood (Barnes 2014, ε = nextafter), the textbook algorithm."""
    nr, nc = z.shape
    filled = np.full(z.shape, np.nan)
    closed = np.zeros(z.shape, bool)
    heap = []
    for r in range(nr):
        for c in range(nc):
            if not mask[r, c]:
                continue
            edge = r in (0, nr - 1) or c in (0, nc - 1) or any(
                not mask[r + dr, c + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1))
            if edge:
                closed[r, c] = True
                filled[r, c] = z[r, c]
                heapq.heappush(heap, (float(z[r, c]), r * nc + c))
    while heap:
        e, i = heapq.heappop(heap)
        r, c = divmod(i, nc)
        for dr, dc in ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < nr and 0 <= cc < nc and mask[rr, cc] and not closed[rr, cc]:
                closed[rr, cc] = True
                filled[rr, cc] = max(float(z[rr, cc]), np.nextafter(e, np.inf))
                heapq.heappush(heap, (filled[rr, cc], rr * nc + cc))
    return filled


grids = arrays(np.float64, st.tuples(st.integers(3, 12), st.integers(3, 12)),
               elements=st.floats(0, 100, allow_nan=False, width=32))


@settings(max_examples=60, deadline=None)
@given(grids)
def test_fill_equals_reference_and_every_cell_drains(z):
    mask = np.ones(z.shape, bool)
    filled, order = fill_depressions(z, mask)
    np.testing.assert_array_equal(filled, reference_fill(z, mask))
    assert (filled >= z).all()
    receiver, _ = d8_receivers(filled, mask, 10.0)
    flat = receiver.ravel()
    for start in range(z.size):  # following receivers always reaches an outlet
        i, steps = start, 0
        while flat[i] >= 0:
            i = flat[i]
            steps += 1
            assert steps <= z.size
    assert sorted(order.tolist()) == list(range(z.size))


@settings(max_examples=40, deadline=None)
@given(grids)
def test_accumulation_counts_upstream_cells(z):
    mask = np.ones(z.shape, bool)
    filled, order = fill_depressions(z, mask)
    receiver, _ = d8_receivers(filled, mask, 1.0)
    acc = flow_accumulation(order, receiver, np.ones(z.shape)).ravel()
    flat = receiver.ravel()
    expected = np.zeros(z.size)
    for start in range(z.size):
        i = start
        expected[i] += 1
        while flat[i] >= 0:
            i = flat[i]
            expected[i] += 1
    np.testing.assert_array_equal(acc, expected)
    outlets = flat < 0
    assert acc[outlets].sum() == z.size  # mass balance: every cell ends at exactly one outlet


def test_pit_is_filled_to_its_spill_level():
    z = np.full((5, 5), 10.0)
    z[2, 2] = 1.0  # a pit inside a plateau
    z[0, 2] = 5.0  # the spill point on the edge
    z[1, 2] = 6.0
    filled, _ = fill_depressions(z, np.ones(z.shape, bool))
    assert 6.0 <= filled[2, 2] < 6.0 + 1e-9
    rec, code = d8_receivers(filled, np.ones(z.shape, bool), 1.0)
    assert rec[2, 2] == 1 * 5 + 2 and code[2, 2] == 64  # drains north


def test_masked_cells_are_outside():
    z = np.arange(25, dtype=float).reshape(5, 5)
    mask = np.ones((5, 5), bool)
    mask[:, 0] = False
    filled, order = fill_depressions(z, mask)
    assert np.isnan(filled[:, 0]).all() and order.size == 20
    rec, _ = d8_receivers(filled, mask, 1.0)
    assert (rec[:, 0] == -1).all()


def _spill_reference(z, mask, seeds):
    """Minimax-path level by plain fixed-point iteration (8 neighbours)."""
    import numpy as np

    spill = np.where(seeds & mask, z, np.inf)
    while True:
        pad = np.pad(spill, 1, constant_values=np.inf)
        best = np.full(z.shape, np.inf)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                best = np.minimum(best, pad[1 + dr:1 + dr + z.shape[0], 1 + dc:1 + dc + z.shape[1]])
        new = np.where(mask, np.minimum(spill, np.maximum(z, best)), np.inf)
        if np.array_equal(new, spill):
            return np.where(np.isfinite(new), new, np.nan)
        spill = new


def test_spill_levels_equal_the_minimax_path_reference():
    import numpy as np

    from sim.kernels.routing import spill_levels

    rng = np.random.default_rng(3)
    z = rng.uniform(0, 50, (30, 40))
    mask = rng.random((30, 40)) > 0.05
    seeds = np.zeros_like(mask)
    seeds[15, :] = True  # a river across the middle
    spill, base = spill_levels(z, mask, seeds)
    ref = _spill_reference(z, mask, seeds)
    assert np.allclose(np.nan_to_num(spill, nan=-1), np.nan_to_num(ref, nan=-1))
    assert (spill[mask & ~np.isnan(spill)] >= z[mask & ~np.isnan(spill)]).all()
    assert np.allclose(base[seeds & mask], z[seeds & mask])
    # a ridge: cells behind a 100 m wall connect only above the wall's height
    z2 = np.zeros((5, 9))
    z2[:, 4] = 100.0
    s2, _ = spill_levels(z2, np.ones_like(z2, bool), np.eye(5, 9, dtype=bool) & (np.arange(9) < 4))
    assert (s2[:, 5:] == 100.0).all() and (s2[:, :4] == 0.0).all()
