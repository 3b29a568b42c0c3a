"""Shortest travel times on the damaged road network, for responders and supply trucks.

One reverse Dijkstra per target (``scipy.sparse.csgraph``) gives the time from every node to it; results
are cached until the link speeds change. Closed links (speed factor 0) are impassable.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from sim.roads import RoadCSR


class RoadTimes:
    """Travel times to targets over ``csr`` with per-link speed factors (0 closed … 1 free)."""

    def __init__(self, csr: RoadCSR):
        self.csr = csr
        self.n = csr.indptr.size - 1
        self.tail = np.repeat(np.arange(self.n), np.diff(csr.indptr))
        self.free_s = csr.length_m / (csr.free_speed_kmh / 3.6)
        self._cache: dict[int, np.ndarray] = {}
        self.update(np.ones(csr.head.size))

    def update(self, speed_factor: np.ndarray) -> None:
        """Set link speed factors; rebuild the reversed graph and clear the cache."""
        f = np.asarray(speed_factor, dtype=np.float64)
        ok = f > 0
        t = self.free_s[ok] / f[ok]
        # reversed graph (head → tail) so one search from a target gives times from every node to it;
        # csr_matrix sums duplicate (parallel) links, so keep only the fastest of each pair
        h, tl = self.csr.head[ok], self.tail[ok]
        order = np.lexsort((t, tl, h))
        h, tl, t = h[order], tl[order], t[order]
        first = np.ones(h.size, dtype=bool)
        first[1:] = (h[1:] != h[:-1]) | (tl[1:] != tl[:-1])
        self.graph = sp.csr_matrix((t[first] + 1e-9, (h[first], tl[first])), shape=(self.n, self.n))
        self._cache.clear()

    def to(self, target: int) -> np.ndarray:
        """Seconds from every node to ``target`` (inf where unreachable)."""
        target = int(target)
        out = self._cache.get(target)
        if out is None:
            out = dijkstra(self.graph, directed=True, indices=target)
            self._cache[target] = out
        return out
