"""Build time and peak memory of the district at several cell sizes, against the flood-fill reference.

Run: ``.venv/bin/python benchmarks/bench_district_build.py [cell sizes…]`` (default 100 30).
Each size is built in a fresh subprocess (no cache), so peak RSS is that build's own. The
priority-flood kernel is timed in the same run against the plain-python reference of tests/kernels.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, time, sys
t0 = time.perf_counter()
from sim.district import build_district
from sim.scenario import DistrictSpec
t_import = time.perf_counter() - t0
t1 = time.perf_counter()
d = build_district(DistrictSpec(cell_size_m=float(sys.argv[1])))
t_build = time.perf_counter() - t1
print(json.dumps({"cell_size_m": float(sys.argv[1]), "cells": int(d.mask.sum()), "import_s": round(t_import, 2),
                  "build_s": round(t_build, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "road_nodes": d.roads.number_of_nodes()}))
"""


def routing_vs_reference(n: int = 200) -> dict:
    import numpy as np

    sys.path.insert(0, "tests/kernels")
    from test_routing import reference_fill

    from sim.kernels.routing import fill_depressions

    rng = np.random.default_rng(0)
    z = rng.random((n, n)) * 100
    mask = np.ones(z.shape, bool)
    fill_depressions(z, mask)  # compile / load cache
    t = time.perf_counter()
    fill_depressions(z, mask)
    t_kernel = time.perf_counter() - t
    t = time.perf_counter()
    reference_fill(z, mask)
    t_ref = time.perf_counter() - t
    return {"grid": f"{n}x{n}", "numba_s": round(t_kernel, 4), "python_reference_s": round(t_ref, 3),
            "speedup": round(t_ref / t_kernel, 1)}


def main() -> None:
    sizes = [float(s) for s in sys.argv[1:]] or [100.0, 30.0]
    print(json.dumps({"priority_flood": routing_vs_reference()}))
    for s in sizes:
        out = subprocess.run([sys.executable, "-c", CHILD, str(s)], capture_output=True, text=True, check=True)
        print(out.stdout.strip())


if __name__ == "__main__":
    main()
