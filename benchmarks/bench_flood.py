"""Flood kernel speed: cell updates per second on the district grids, against references in the same run.

Run from the repository root:  python benchmarks/bench_flood.py [--cell-size 100 30] [--hours 72]

Prints the machine's memory bandwidth, measured in the same run (a STREAM-style triad on the numba threads),
and from it two bounds: the issue's model of a fused local-inertial step (48 bytes per cell update: h, qx, qy
read and written) and the bytes this kernel really moves per cell update (``KERNEL_BYTES_PER_UPDATE``: its two
passes read terrain, friction, mask, rain, limiter and both flux slots, and keep three hazard diagnostics).
Then, per grid: the numba kernel on 1 and 2 threads (active tiles, and with every tile forced active), the
plain-numpy reference (tests/reference/flood_reference.py), landlab's OverlandFlow (``bench`` extra) on the
same terrain and initial water, two whole-grid numba peers (``simple_flood.py``): the issue's "simple numba
version" (dry faces skipped by a branch, libm's power) and a bare version of the same scheme written to
vectorise (no branch, multiply-only power), each on the river state, as the issue's figure, and on a lake
wetting every face, with the project kernel on the same lake; the bare version again on the project kernel's
active segments only (the ceiling of an active-set kernel of the scheme with this tile and segment layout);
and the arrays' size. With ``--hours`` it also times a whole Yangtze 2020 flood on the 100 m grid, and sets it
against landlab's time for the same cell updates over the whole grid (an estimate: landlab has no active set,
and its own time step would differ), and against a bare whole-grid step at its measured rate. Last, the
compute ceiling: the project kernel and both peers on a small lake that fits in the caches (64 × 512 cells,
every face wet, every segment full width), where memory costs little, so the rate is what the arithmetic
allows per thread; it is set against the per-thread rate the two targets need. Figures are medians of repeats;
compile time is reported separately.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.simple_flood import bare_step, bare_step_spans, simple_step  # noqa: E402
from sim.district import load_district  # noqa: E402
from sim.hazards.flood import FloodField  # noqa: E402
from sim.kernels import flood as K  # noqa: E402
from sim.scenario import DistrictSpec, load_component, scenarios_dir  # noqa: E402
from tests.reference import flood_reference as ref  # noqa: E402

ISSUE_BANDWIDTH_B_S = 16e9  # the figure the issue quotes for this machine
BYTES_PER_UPDATE = 48  # the issue's model of a fused step
# What the kernel moves per cell update, counted from the arrays its two passes touch (8-byte floats, the
# mask 1 B; an array only read costs 8 B, one read and written back or only written 16 B, the latter for
# the read-for-ownership). Flux pass: h, z, n2 and both old fluxes read, the mask read, both raw fluxes and
# the limiter written: 89 B. Continuity: limiter, both raw fluxes and rain factor read, the mask read; depth,
# max depth, wetting time and hazard rating updated; both limited fluxes written: 129 B.
KERNEL_BYTES_PER_UPDATE = (5 * 8 + 1 + 3 * 16) + (4 * 8 + 1 + 4 * 16 + 2 * 16)


@numba.njit(parallel=True, cache=True)
def _triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float) -> None:
    for i in numba.prange(a.size):
        a[i] = b[i] + s * c[i]


def measure_bandwidth(n: int = 20_000_000) -> float:
    """Best of 10 STREAM triads ``a = b + s c`` over 160 MB arrays, bytes/s (4 × 8 B per element with the
    write's read-for-ownership)."""
    a, b, c = np.zeros(n), np.random.default_rng(0).random(n), np.random.default_rng(1).random(n)
    _triad(a, b, c, 2.0)
    best = min(_time(lambda: _triad(a, b, c, 2.0)) for _ in range(10))
    return 4 * 8 * n / best


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _median_rate(fn, updates_per_call: float, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return updates_per_call / statistics.median(times)


def bench_grid(cell_size: float, sim_s: float) -> dict[str, float]:
    district = load_district(DistrictSpec(cell_size_m=cell_size))
    hz = load_component(scenarios_dir() / "hazards" / "yangtze_flood_2020.yaml", "hazard")
    ff = FloodField(district, hz.flood, spinup_h=0.0, use_cache=False)
    h0 = ff.state.h.copy()
    tr, p = ff.terrain, ff.params._replace(dt_fixed=0.5 * cell_size / 25.0)
    q = np.array([48000.0, 2500.0])
    n_cells = h0.size
    out: dict[str, float] = {"cells": n_cells, "wet_cells": int((h0 > 0).sum())}
    steps = max(4, int(sim_s / p.dt_fixed))

    def run(force: bool) -> tuple[float, float]:
        """One untimed sub-step builds the active set (a whole-grid scan), then ``steps`` timed ones."""
        trx = tr._replace(force_tiles=np.ones_like(tr.force_tiles)) if force else tr
        st = K.new_state(h0)
        K.flood_advance(st, trx, p, 0.0, p.dt_fixed, 0.0, q, K.new_accumulator())
        acc = K.new_accumulator()
        t0 = time.perf_counter()
        K.flood_advance(st, trx, p, p.dt_fixed, (steps + 1) * p.dt_fixed, 0.0, q, acc, rescan=False)
        return acc[K.ACC_CELL_UPDATES], time.perf_counter() - t0

    t0 = time.perf_counter()
    run(False)
    out["compile_and_first_s"] = time.perf_counter() - t0
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        for force in (False, True):
            res = [run(force) for _ in range(3)]
            upd = res[0][0]
            rate = upd / statistics.median(r[1] for r in res)
            key = f"numba_{threads}t_{'all_tiles' if force else 'active'}"
            out[key + "_updates_per_s"] = rate
            out[key + "_domain_cells_per_s"] = n_cells * steps / statistics.median(r[1] for r in res)
    # the two whole-grid peers (benchmarks/simple_flood.py): the issue's "simple numba version" (dry faces
    # skipped by a branch) and the bare vectorised step; on the river state (mostly dry, as the issue's
    # figure) and on a lake covering every inside cell 2 m above the highest one, where every face is wet
    # (as every face of an active tile costs the branch-free project kernel). The lake is deep, so the step
    # is cut to stay stable.
    inside = district.mask
    lake = np.where(inside, tr.z[inside].max() + 2.0 - tr.z, 0.0)
    dt_lake = 0.2 * cell_size / np.sqrt(K.G * lake.max())
    for label, h_start, dt in (("", h0, p.dt_fixed), ("_all_wet", lake, dt_lake)):
        for name, step in (("simple", simple_step), ("bare", bare_step)):
            for threads in (1, 2):
                numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
                hs = h_start.copy()
                qxs, qys = np.zeros((hs.shape[0], hs.shape[1] + 1)), np.zeros((hs.shape[0] + 1, hs.shape[1]))
                step(hs, tr.z, tr.n2, qxs, qys, dt, p.dx)

                def peer_steps(k: int = 5, hs=hs, qxs=qxs, qys=qys, dt=dt, step=step) -> None:
                    for _ in range(k):
                        step(hs, tr.z, tr.n2, qxs, qys, dt, p.dx)

                out[f"{name}_numba_{threads}t{label}_updates_per_s"] = _median_rate(peer_steps, 5 * n_cells)
    # the bare step on the project kernel's active segments of the river state (the set held fixed), counted
    # as the kernel counts: every cell of the active tiles
    st_a = K.new_state(h0)
    K.flood_advance(st_a, tr, p, 0.0, p.dt_fixed, 0.0, q, K.new_accumulator())
    ntc = (h0.shape[1] + K.TILE - 1) // K.TILE
    seg = np.empty((st_a.tile_list.size, 3), np.int64)
    n_seg = K._segments(st_a, ntc, seg)
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        hs = h0.copy()
        qxs, qys = np.zeros((hs.shape[0], hs.shape[1] + 1)), np.zeros((hs.shape[0] + 1, hs.shape[1]))
        bare_step_spans(seg, n_seg, K.TILE, hs, tr.z, tr.n2, qxs, qys, p.dt_fixed, p.dx)

        def span_steps(k: int = 20, hs=hs, qxs=qxs, qys=qys) -> None:
            for _ in range(k):
                bare_step_spans(seg, n_seg, K.TILE, hs, tr.z, tr.n2, qxs, qys, p.dt_fixed, p.dx)

        out[f"bare_numba_{threads}t_active_segments_updates_per_s"] = _median_rate(
            span_steps, 20 * st_a.n_active[0] * K.TILE * K.TILE, repeats=5)
    # the project kernel on the same lake, 2 threads (its updates: every cell of the active tiles)
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    st_l = K.new_state(lake)
    p_l = p._replace(dt_fixed=dt_lake)
    K.flood_advance(st_l, tr, p_l, 0.0, dt_lake, 0.0, q, K.new_accumulator())
    acc_l = K.new_accumulator()

    def lake_steps(k: int = 5) -> None:
        K.flood_advance(st_l, tr, p_l, 0.0, k * dt_lake, 0.0, q, acc_l, rescan=False)

    lake_steps()
    per_call = acc_l[K.ACC_CELL_UPDATES]
    out["numba_2t_all_wet_updates_per_s"] = _median_rate(lake_steps, per_call)
    # plain numpy reference on the full grid

    def numpy_steps(k: int = 3) -> None:
        h, qx, qy = h0.copy(), np.zeros((h0.shape[0], h0.shape[1] + 1)), np.zeros((h0.shape[0] + 1, h0.shape[1]))
        for _ in range(k):
            h, qx, qy = ref.step(h, tr.z, tr.n2, inside, qx, qy, p.dt_fixed, p.dx, p.theta)

    out["numpy_updates_per_s"] = _median_rate(numpy_steps, 3 * n_cells)
    # landlab OverlandFlow (de Almeida scheme) on the same terrain and water
    try:
        from landlab import RasterModelGrid
        from landlab.components import OverlandFlow

        grid = RasterModelGrid(h0.shape, xy_spacing=cell_size)
        grid.add_field("topographic__elevation", np.flipud(tr.z).ravel().copy(), at="node")
        grid.add_field("surface_water__depth", np.flipud(h0).ravel().copy() + 1e-6, at="node")
        of = OverlandFlow(grid, mannings_n=0.03, theta=0.7, steep_slopes=True)
        of.overland_flow(dt=p.dt_fixed)

        def ll_steps(k: int = 3) -> None:
            for _ in range(k):
                of.overland_flow(dt=p.dt_fixed)

        out["landlab_updates_per_s"] = _median_rate(ll_steps, 3 * n_cells)
    except ImportError:
        out["landlab_updates_per_s"] = float("nan")
    arrays = list(ff.state) + list(tr)
    out["kernel_arrays_MB"] = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray)) / 1e6
    return out


def compute_ceiling(nr: int = 64, nc: int = 512, steps: int = 20) -> dict[str, float]:
    """Updates/s of the project kernel and the two peers on a small all-wet lake held in cache.

    Random bed in [0, 1) m, water level 3 m, closed box, 100 m cells: every face is wet, every segment is
    ``SEG`` tiles wide and the ~4 MB of arrays stay in L2/L3. This is an upper bound on what each can do per
    thread on this machine, whatever the flood.
    """
    rng = np.random.default_rng(0)
    z = rng.random((nr, nc))
    h = 3.0 - z
    tr = K.build_terrain(z, 0.03)
    dx = 100.0
    dt = 0.2 * dx / np.sqrt(K.G * h.max())
    p = K.FloodParams(dx=dx, theta=0.7, alpha=0.7, dt_max=10.0, dt_fixed=dt)
    no_inflow = np.zeros(1)
    out: dict[str, float] = {}
    threads_before = numba.get_num_threads()
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        st = K.new_state(h)
        K.flood_advance(st, tr, p, 0.0, dt, 0.0, no_inflow, K.new_accumulator())
        acc = K.new_accumulator()

        def kernel_steps(st=st, acc=acc) -> None:
            K.flood_advance(st, tr, p, 0.0, steps * dt, 0.0, no_inflow, acc, rescan=False)

        kernel_steps()
        per_call = acc[K.ACC_CELL_UPDATES]
        out[f"numba_{threads}t_in_cache_updates_per_s"] = _median_rate(kernel_steps, per_call, repeats=7)
        for name, step in (("simple", simple_step), ("bare", bare_step)):
            hs, qxs, qys = h.copy(), np.zeros((nr, nc + 1)), np.zeros((nr + 1, nc))
            step(hs, tr.z, tr.n2, qxs, qys, dt, dx)

            def peer_steps(hs=hs, qxs=qxs, qys=qys, step=step) -> None:
                for _ in range(steps):
                    step(hs, tr.z, tr.n2, qxs, qys, dt, dx)

            out[f"{name}_numba_{threads}t_in_cache_updates_per_s"] = _median_rate(peer_steps, steps * nr * nc,
                                                                                  repeats=7)
    numba.set_num_threads(threads_before)
    return out


def whole_flood(hours: float) -> dict[str, float]:
    district = load_district(DistrictSpec())
    hz = load_component(scenarios_dir() / "hazards" / "yangtze_flood_2020.yaml", "hazard")
    t0 = time.perf_counter()
    ff = FloodField(district, hz.flood)
    init = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(int(hours * 60)):
        ff.advance((k + 1) * 60.0)
    run = time.perf_counter() - t0
    b = ff.balance()
    peak = max(s["fuling_yangtze"] for _, s in ff.stage_log)
    return {"init_s (incl. spin-up unless cached)": init, "run_s": run, "steps": b["steps"],
            "active_cells_mean": b["cell_updates"] / b["steps"], "grid_cells": district.mask.size,
            "updates_per_s": b["cell_updates"] / run, "relative_volume_error": b["relative_error"],
            "peak_stage_fuling_m": peak, "spinup_h": ff.spinup_hours}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cell-size", type=float, nargs="*", default=[100.0, 30.0])
    ap.add_argument("--seconds", type=float, default=600.0, help="simulated seconds per timed kernel run")
    ap.add_argument("--hours", type=float, default=0.0, help="also time a whole Yangtze flood of this length")
    a = ap.parse_args()
    bw = measure_bandwidth()
    bound = bw / BYTES_PER_UPDATE
    kbound = bw / KERNEL_BYTES_PER_UPDATE
    print(f"memory bandwidth (triad, {numba.get_num_threads()} threads): {bw / 1e9:.1f} GB/s "
          f"(the issue quotes {ISSUE_BANDWIDTH_B_S / 1e9:.0f} GB/s)")
    print(f"bound at {BYTES_PER_UPDATE} B/update (issue's model): {bound:.2e} updates/s; "
          f"at the {ISSUE_BANDWIDTH_B_S / 1e9:.0f} GB/s quoted: {ISSUE_BANDWIDTH_B_S / BYTES_PER_UPDATE:.2e}")
    print(f"bound at the kernel's own {KERNEL_BYTES_PER_UPDATE} B/update: {kbound:.2e} updates/s")
    ll100 = bare100 = float("nan")
    for cs in a.cell_size:
        r = bench_grid(cs, a.seconds)
        print(f"\n== {cs:.0f} m grid: {r['cells']:,} cells, {r['wet_cells']:,} wet at start, "
              f"kernel arrays {r['kernel_arrays_MB']:.0f} MB; compile+first run {r['compile_and_first_s']:.1f} s")
        ll = r["landlab_updates_per_s"]
        if cs == 100.0:
            ll100 = ll
        for k, v in r.items():
            if k.endswith("_updates_per_s"):
                extra = f"  {v / bound:5.1%} of 48 B bound, {v / kbound:5.1%} of own-bytes bound"
                extra += f", {v / ll:6.1f}x landlab" if np.isfinite(ll) else ""
                print(f"  {k:44s} {v:10.3e}{extra}")
            elif k.endswith("_domain_cells_per_s"):
                print(f"  {k:44s} {v:10.3e}  (whole grid per step / time)")
        kern_ms = 1e3 * r["cells"] / r["numba_2t_active_domain_cells_per_s"]
        bare_ms = 1e3 * r["cells"] / r["bare_numba_2t_updates_per_s"]
        print(f"  one sub-step of the river state, 2 threads: project kernel {kern_ms:.2f} ms (active tiles), "
              f"bare whole-grid step {bare_ms:.2f} ms")
        if cs == 100.0:
            bare100 = r["bare_numba_2t_updates_per_s"]
    c = compute_ceiling()
    need_bound, need_ll = 0.4 * bound, 15.0 * ll100
    print("\n== compute ceiling: a 64 x 512-cell lake in cache, every face wet, full-width segments")
    for k, v in c.items():
        threads = 1 if "_1t_" in k else 2
        extra = f"  {v / bound:5.1%} of 48 B bound" + (f", {v / ll100:5.1f}x landlab" if np.isfinite(ll100) else "")
        print(f"  {k:44s} {v:10.3e}  {threads * 1e9 / v:5.1f} ns per update per thread;{extra}")
    need = (f"  the targets need {need_bound:.2e} (40 % of the 48 B bound, {2e9 / need_bound:.1f} ns per update "
            "per thread")
    if np.isfinite(need_ll):
        need += f"; 15x landlab: {need_ll:.2e}, {2e9 / need_ll:.1f} ns"
    print(need + ") on 2 threads")
    if a.hours:
        print(f"\n== whole Yangtze 2020 flood, {a.hours:.0f} h on the 100 m grid, {numba.get_num_threads()} threads")
        w = whole_flood(a.hours)
        for k, v in w.items():
            print(f"  {k:40s} {v:.4g}")
        u = w["updates_per_s"]
        print(f"  {'per active cell update':40s} {u / bound:.1%} of the 48 B bound, {u / kbound:.1%} of the "
              f"own-bytes bound, {u * KERNEL_BYTES_PER_UPDATE / 1e9:.1f} GB/s moved")
        if np.isfinite(ll100):
            t_ll = w["grid_cells"] * w["steps"] / ll100
            print(f"  {'landlab, same steps on the whole grid':40s} ~{t_ll:.0f} s (est.), "
                  f"{t_ll / w['run_s']:.0f}x this run's time")
        if np.isfinite(bare100):
            t_bare = w["grid_cells"] * w["steps"] / bare100
            print(f"  {'bare whole-grid step, same steps':40s} ~{t_bare:.0f} s (est.; no limiter, diagnostics, "
                  f"boundaries or inflows), {t_bare / w['run_s']:.1f}x this run's time")


if __name__ == "__main__":
    main()
