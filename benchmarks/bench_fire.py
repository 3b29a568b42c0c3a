"""Wildfire spread: numba front kernel vs a plain-numpy full-grid reference vs a Mesa agent-per-tree model.

Run: ``.venv/bin/python benchmarks/bench_fire.py [--quick]`` (``--quick`` skips the 30 m district).
Prints one JSON object per line:

* ``compile`` — first call of the kernel in a fresh process with an empty numba cache (compile) and in a
  second process reading that cache (load), seconds;
* ``front_scaling`` — one kernel step (uniforms drawn for the front included) on uniform grids of 200² and
  2000² cells with the same burning fronts (square blocks of n cells): cost follows the front, not the grid;
* ``district`` — the 2022 Beishanping fire burning freely on the 100 m (and 30 m) district through
  :class:`sim.hazards.fire.FireField`: time per clock step binned by the number of burning cells;
* ``same_state`` — one step from the same state (a block of 900 burning cells in the middle of uniform
  grass, 4 m/s wind) by the numba kernel, the numpy full-grid reference (``tests/reference``) and a Mesa 3.3
  model with one agent per fuel cell (forest-fire example style on ``mesa.discrete_space.OrthogonalMooreGrid``,
  with the same ignition probabilities, made synchronous by a two-phase step), on 100², 200² (and, for numba
  and numpy, 723×751 and 2000²) grids: medians of repeats, cell updates per second (grid cells advanced per
  second of wall time), ratios against numba, peak traced memory of building the state plus one step
  (tracemalloc) and the process's peak RSS.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.kernels import fire as kf  # noqa: E402
from tests.reference.fire_reference import reference_step  # noqa: E402

COMPILE_CHILD = r"""
import time, numpy as np
t0 = time.perf_counter()
from sim.kernels import fire as kf
t_import = time.perf_counter() - t0
state = np.ones((5, 5), np.uint8); state[2, 2] = 2
fid = np.full((5, 5), -1, np.int32); fid[2, 2] = 0
ign = np.full((5, 5), np.nan); ign[2, 2] = 0.0
table = np.array([[0, 0, 0], [0.01, 600, 0]], float)
params = np.zeros(kf.N_PARAMS); params[:3] = (100, 60, 60)
t1 = time.perf_counter()
kf.spread_step(state, fid, ign, np.ones((5, 5), np.uint8), np.zeros((5, 5)), table, np.ones(8), params,
               np.array([12]), np.array([600.0]), np.full((1, 8), 0.5))
print(time.perf_counter() - t1)
"""


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def compile_times() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": tmp, "PYTHONPATH": str(ROOT)}
        runs = [float(subprocess.run([sys.executable, "-c", COMPILE_CHILD], env=env, capture_output=True, text=True,
                                     check=True, cwd=ROOT).stdout.strip()) for _ in range(2)]
    return {"first_call_compile_s": round(runs[0], 2), "first_call_cached_s": round(runs[1], 3)}


# ---------------------------------------------------------------------------------------------- setups
def grass_table(cell: float = 100.0) -> np.ndarray:
    from sim.hazards.fire import FireParams, fuel_table

    return fuel_table(FireParams(), 8.0, cell)


def block_state(nrows: int, ncols: int, n_burning: int) -> dict:
    """Uniform grass with a square block of ~n burning cells in the middle."""
    side = max(1, int(round(math.sqrt(n_burning))))
    state = np.full((nrows, ncols), kf.UNBURNED, np.uint8)
    r0, c0 = nrows // 2 - side // 2, ncols // 2 - side // 2
    state[r0:r0 + side, c0:c0 + side] = kf.BURNING
    fid = np.where(state == kf.BURNING, 0, -1).astype(np.int32)
    ign = np.where(state == kf.BURNING, 0.0, np.nan)
    front = np.flatnonzero(state == kf.BURNING).astype(np.int64)
    params = np.zeros(kf.N_PARAMS)
    params[[kf.P_CELL_M, kf.P_DT_S, kf.P_T_NEW_S, kf.P_SLOPE_A]] = (100.0, 60.0, 60.0, 0.078)
    return dict(state=state, fid=fid, ign=ign, fuel=np.ones((nrows, ncols), np.uint8),
                elev=np.zeros((nrows, ncols)), table=grass_table(), wind=kf.wind_factors(4.0, 270.0, 0.1814),
                params=params, front=front, end=np.full(front.size, 7200.0))


def time_numba_step(s: dict, repeats: int, rng: np.random.Generator) -> list[float]:
    """Time single steps from the same state; only the cells a step touched are reset (caches stay warm, as
    they do in a run where the front moves a cell at a time)."""
    out = []
    n = s["front"].size
    bufs = (np.empty(9 * n, np.int64), np.empty(9 * n, np.float64), np.empty(9 * n, np.int64))
    st, fid, ign = s["state"].copy(), s["fid"].copy(), s["ign"].copy()
    for _ in range(repeats):
        t = time.perf_counter()
        rand = rng.random((n, 8))
        _, _, new = kf.spread_step(st, fid, ign, s["fuel"], s["elev"], s["table"], s["wind"], s["params"], s["front"],
                                   s["end"], rand, None, out=bufs, check_front=False)
        out.append(time.perf_counter() - t)
        st.ravel()[new], fid.ravel()[new], ign.ravel()[new] = kf.UNBURNED, -1, np.nan
    return out


def time_numpy_step(s: dict, repeats: int, rng: np.random.Generator) -> list[float]:
    out = []
    n = s["front"].size
    end = np.full(s["state"].shape, np.nan)
    end.ravel()[s["front"]] = s["end"]
    for _ in range(repeats):
        t = time.perf_counter()
        rand = rng.random((n, 8))
        reference_step(s["state"], s["fid"], s["ign"], end, s["fuel"], s["elev"], s["table"], s["wind"], s["params"],
                       rand)
        out.append(time.perf_counter() - t)
    return out


# ---------------------------------------------------------------------------------------------- mesa
def build_mesa(nrows: int, ncols: int, burning: np.ndarray, p_dir: np.ndarray, seed: int = 0):
    """Mesa forest-fire model with the kernel's ignition probabilities (flat, uniform grass, synchronous)."""
    import mesa
    from mesa.discrete_space import FixedAgent, OrthogonalMooreGrid

    offsets = {(int(dr), int(dc)): k for k, (dr, dc) in enumerate(zip(kf.DR, kf.DC, strict=True))}

    class Tree(FixedAgent):
        def __init__(self, model, cell, on_fire: bool):
            super().__init__(model)
            self.cell = cell
            self.condition = "On Fire" if on_fire else "Fine"
            self.catch = False

        def step(self):  # phase 1: burning trees try their neighbours (reads the step-start conditions)
            if self.condition != "On Fire":
                return
            r, c = self.cell.coordinate
            for nb in self.cell.neighborhood.agents:
                if nb.condition == "Fine":
                    rr, cc = nb.cell.coordinate
                    if self.model.random.random() < p_dir[offsets[(rr - r, cc - c)]]:
                        nb.catch = True

        def advance(self):  # phase 2: apply
            if self.catch:
                self.condition, self.catch = "On Fire", False

    class ForestFire(mesa.Model):
        def __init__(self):
            super().__init__(seed=seed)
            self.grid = OrthogonalMooreGrid((nrows, ncols), capacity=1, random=self.random)
            for cell in self.grid.all_cells:
                r, c = cell.coordinate
                Tree(self, cell, bool(burning[r, c]))

        def step(self):
            self.agents.do("step")
            self.agents.do("advance")

    return ForestFire()


def p_directions(s: dict) -> np.ndarray:
    dist = np.where(np.arange(8) % 2 == 0, 100.0, 100.0 * math.sqrt(2.0))
    rate = s["table"][1, kf.T_ROS_M_S] * s["wind"]
    return -np.expm1(-rate * 60.0 / dist)


def peak_traced_mb(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 2**20, 2)


# ---------------------------------------------------------------------------------------------- sections
def front_scaling(rng: np.random.Generator) -> list[dict]:
    rows = []
    for n in (100, 1_000, 10_000):
        for size in (200, 2000):
            s = block_state(size, size, n)
            t = np.median(time_numba_step(s, 30, rng))
            rows.append({"grid": f"{size}x{size}", "burning_cells": int(s["front"].size), "step_us": round(t * 1e6, 1),
                         "ns_per_burning_cell": round(t * 1e9 / s["front"].size, 1)})
    return rows


def district_run(cell_size_m: float, hours: float, rng_seed: int = 0) -> dict:
    from sim.district import load_district
    from sim.hazards.fire import FireField
    from sim.scenario import DistrictSpec, load_component

    t = time.perf_counter()
    d = load_district(DistrictSpec(cell_size_m=cell_size_m))
    t_district = time.perf_counter() - t
    hz = load_component(ROOT / "scenarios/hazards/fire_2022_beishanping.yaml")
    t = time.perf_counter()
    ff = FireField(d, hz.fire, np.random.default_rng(rng_seed), start_time=hz.start_time)
    t_init = time.perf_counter() - t
    sizes, times = [], []
    while ff.time_s < hours * 3600.0:
        n = ff.burning_cells
        t = time.perf_counter()
        ff.advance(ff.time_s + ff.step_s)
        times.append(time.perf_counter() - t)
        sizes.append(n)
    sizes, times = np.array(sizes), np.array(times)
    bins = []
    for lo, hi in ((1, 100), (100, 1_000), (1_000, 10_000), (10_000, 100_000)):
        sel = (sizes >= lo) & (sizes < hi)
        if sel.any():
            bins.append({"burning_cells": f"{lo}-{hi}", "steps": int(sel.sum()),
                         "median_step_us": round(float(np.median(times[sel])) * 1e6, 1),
                         "median_ns_per_burning_cell": round(float(np.median(times[sel] / sizes[sel])) * 1e9, 1)})
    return {"cell_size_m": cell_size_m, "grid": list(d.grid.shape), "cells": int(d.grid.nrows * d.grid.ncols),
            "district_load_s": round(t_district, 2), "fire_init_s": round(t_init, 2), "hours": hours,
            "burned_ha": round(ff.burned_area_ha, 1), "max_burning_cells": int(sizes.max()),
            "run_s": round(float(times.sum()), 2), "by_front_size": bins, "peak_rss_mb": rss_mb()}


def same_state(rng: np.random.Generator, sizes, mesa_sizes) -> list[dict]:
    rows = []
    for nr, nc in sizes:
        s = block_state(nr, nc, 900)
        cells = nr * nc
        t_nb = float(np.median(time_numba_step(s, 20, rng)))
        reps = 10 if cells <= 1_000_000 else 3
        t_np = float(np.median(time_numpy_step(s, reps, rng)))
        mem_nb = peak_traced_mb(lambda nr=nr, nc=nc: time_numba_step(block_state(nr, nc, 900), 1, rng))
        mem_np = peak_traced_mb(lambda nr=nr, nc=nc: time_numpy_step(block_state(nr, nc, 900), 1, rng))
        row = {"grid": f"{nr}x{nc}", "cells": cells, "burning_cells": int(s["front"].size),
               "numba_step_ms": round(t_nb * 1e3, 3), "numpy_step_ms": round(t_np * 1e3, 2),
               "numba_cell_updates_per_s": f"{cells / t_nb:.3g}", "numpy_cell_updates_per_s": f"{cells / t_np:.3g}",
               "numba_burning_cell_updates_per_s": f"{s['front'].size / t_nb:.3g}",
               "numpy_over_numba": round(t_np / t_nb, 1), "numba_peak_traced_mb": mem_nb,
               "numpy_peak_traced_mb": mem_np}
        if (nr, nc) in mesa_sizes:
            burning = s["state"] == kf.BURNING
            p_dir = p_directions(s)
            t = time.perf_counter()
            model = build_mesa(nr, nc, burning, p_dir)
            t_init = time.perf_counter() - t
            steps = []
            for _ in range(5):
                for a in model.agents:  # reset to the same state, outside the timing
                    r, c = a.cell.coordinate
                    a.condition, a.catch = ("On Fire" if burning[r, c] else "Fine"), False
                t = time.perf_counter()
                model.step()
                steps.append(time.perf_counter() - t)
            t_mesa = float(np.median(steps))
            del model
            mem_mesa = peak_traced_mb(lambda nr=nr, nc=nc, burning=burning, p_dir=p_dir: build_mesa(
                nr, nc, burning, p_dir).step())
            row.update({"mesa_init_s": round(t_init, 2), "mesa_step_ms": round(t_mesa * 1e3, 1),
                        "mesa_cell_updates_per_s": f"{cells / t_mesa:.3g}", "mesa_over_numba": round(t_mesa / t_nb),
                        "mesa_over_numpy": round(t_mesa / t_np, 1), "mesa_peak_traced_mb": mem_mesa})
        rows.append(row)
    return rows


def main() -> None:
    import mesa
    import numba

    quick = "--quick" in sys.argv
    rng = np.random.default_rng(0)
    print(json.dumps({"versions": {"numba": numba.__version__, "numpy": np.__version__, "mesa": mesa.__version__},
                      "cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
                      "note": "the kernel is serial over the front: 1 and 2 threads give the same figures"}))
    print(json.dumps({"compile": compile_times()}))
    block_state(10, 10, 4)  # warm the kernel (cache load) outside the timings
    time_numba_step(block_state(10, 10, 4), 1, rng)
    print(json.dumps({"front_scaling": front_scaling(rng)}))
    print(json.dumps({"district": district_run(100.0, 24.0)}))
    if not quick:
        print(json.dumps({"district": district_run(30.0, 12.0)}))
    sizes = [(100, 100), (200, 200), (723, 751), (2000, 2000)]
    for row in same_state(rng, sizes, mesa_sizes={(100, 100), (200, 200)}):
        print(json.dumps({"same_state": row}, ensure_ascii=False))
    print(json.dumps({"peak_rss_mb": rss_mb()}))


if __name__ == "__main__":
    main()
