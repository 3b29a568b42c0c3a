"""The flood benchmark's compute-ceiling block runs and reports a rate for each peer and thread count."""

from __future__ import annotations

import math

from benchmarks.bench_flood import compute_ceiling


def test_compute_ceiling_reports_every_peer_and_thread_count() -> None:
    rates = compute_ceiling(nr=16, nc=64, steps=2)
    peers = ("numba", "simple_numba", "bare_numba")
    assert set(rates) == {f"{who}_{t}t_in_cache_updates_per_s" for who in peers for t in (1, 2)}
    assert all(math.isfinite(v) and v > 0 for v in rates.values())
