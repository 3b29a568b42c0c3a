"""Link-queue traffic kernel vs UXsim (C++ engine, and optionally its Python engine) on one grid scenario.

Run: ``.venv/bin/python benchmarks/bench_traffic.py [--size 32] [--vehicles 50000] [--repeats 3] [--python-engine]``
(needs ``pip install uxsim``, the ``bench`` extra). Prints one JSON object per line.

Scenario (UXsim's grid examples): a ``size × size`` grid of nodes 1 km apart, a link each way between
neighbours, 1 lane, free speed 20 m/s, jam density 0.2 veh/m (UXsim default; our jam spacing 5 m, storage
200 cars per km), capacity 0.8 veh/s (UXsim's triangular FD with reaction time 1 s: ``u w κ / (u + w)``
with ``w = 1 / (τ κ) = 5 m/s``; ours 2,880 veh/h). Link lengths are 1,000 m × U(1, 1.05) so that shortest
paths are unique in both models. Demand: ``vehicles / deltan`` platoons (UXsim's unit: one ``Vehicle``
object is ``deltan`` = 5 cars, and its time step is ``deltan × reaction time`` = 5 s), each with a uniform
random origin ≠ destination and departure time in [0, demand_s); our model gets ``deltan`` single cars per
platoon with the same origin, destination and departure time, so both carry the same cars.

Routing differs: UXsim re-routes platoons by dynamic user optimum (instantaneous travel times, updated every
600 s, with noise); ours follows static free-flow shortest paths (the evacuation model's routing).

Figures (both engines run in this process on the same inputs):

* ``ours`` — setup (routing table for all destinations, trip insertion) and run wall time, median of
  ``repeats`` runs after a warm-up that compiles (or loads) the kernel; the run covers the same horizon as
  UXsim's ``tmax``; cars completed, mean and total travel time, clearance time (last arrival);
* ``uxsim_cpp`` / ``uxsim_python`` — scenario build time, ``exec_simulation`` wall time (one run: it cannot
  be re-run on the same world), the same outcome figures (per platoon × deltan);
* ``ratio`` — UXsim run time / ours, and relative differences of clearance and mean travel time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.roads import RoadCSR  # noqa: E402
from sim.traffic import ARRIVED, Traffic, TrafficParams  # noqa: E402

SPACING_M = 1000.0
SPEED_M_S = 20.0
KAPPA_VEH_M = 0.2
CAP_VEH_S = 0.8


def grid_scenario(size: int, vehicles: int, deltan: int, demand_s: float, seed: int) -> dict:
    """Nodes, directed links (tail, head, length) and platoons (orig, dest, departure time)."""
    rng = np.random.default_rng(seed)
    n = size * size
    xy = np.array([(i % size, i // size) for i in range(n)], dtype=np.float64) * SPACING_M
    links = []
    for i in range(n):
        x, y = i % size, i // size
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            if 0 <= x + dx < size and 0 <= y + dy < size:
                links.append((i, (y + dy) * size + x + dx))
    links.sort()
    length = SPACING_M * rng.uniform(1.0, 1.05, len(links))
    n_pl = vehicles // deltan
    orig = rng.integers(0, n, n_pl)
    dest = rng.integers(0, n - 1, n_pl)
    dest = np.where(dest >= orig, dest + 1, dest)  # orig ≠ dest
    dep = np.sort(rng.uniform(0.0, demand_s, n_pl))
    return dict(n=n, xy=xy, tail=np.array([a for a, _ in links]), head=np.array([b for _, b in links]),
                length=length, orig=orig, dest=dest, dep=dep, deltan=deltan)


def to_csr(sc: dict) -> RoadCSR:
    n, tail, k = sc["n"], sc["tail"], sc["tail"].size
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, tail + 1, 1)
    return RoadCSR(indptr=np.cumsum(indptr), head=sc["head"].astype(np.int64), length_m=sc["length"],
                   free_speed_kmh=np.full(k, SPEED_M_S * 3.6), lanes=np.ones(k, np.int32),
                   capacity_veh_per_h=np.full(k, CAP_VEH_S * 3600.0), bridge=np.zeros(k, bool),
                   node_x_m=sc["xy"][:, 0], node_y_m=sc["xy"][:, 1])


def run_ours(sc: dict, dt: float, t_max: float) -> dict:
    t0 = time.perf_counter()
    csr = to_csr(sc)
    # every node may be a destination: one routing row per node (plus the nearest-open row)
    tr = Traffic(csr, np.arange(sc["n"], dtype=np.int64), dt, TrafficParams(jam_spacing_m=1.0 / KAPPA_VEH_M),
                 max_trips=sc["orig"].size * sc["deltan"])
    d = sc["deltan"]
    dep = np.repeat(sc["dep"], d)
    tr.add_trips(np.repeat(sc["orig"], d), np.repeat(sc["dest"], d), 0, 1, np.arange(dep.size), dep)
    t1 = time.perf_counter()
    arr_t = np.full(dep.size, np.nan)
    t = 0.0
    steps = int(round(t_max / dt))
    for _ in range(steps):
        rep = tr.step(t)
        arr_t[rep.arrived] = rep.arrived_t_s
        t = rep.t_end_s
    t2 = time.perf_counter()
    done = np.asarray(tr.trip_status) == ARRIVED
    tt = arr_t[done] - dep[done]
    return dict(setup_s=t1 - t0, run_s=t2 - t1, steps=steps, completed=int(done.sum()), total=int(dep.size),
                mean_tt_s=float(tt.mean()), total_tt_veh_h=float(tt.sum() / 3600.0),
                clearance_s=float(np.nanmax(arr_t)))


def run_uxsim(sc: dict, t_max: float, cpp: bool, seed: int) -> dict:
    import uxsim

    t0 = time.perf_counter()
    W = uxsim.World(name="", deltan=sc["deltan"], tmax=t_max, print_mode=0, save_mode=0, show_mode=0,
                    show_progress=0, random_seed=seed, vehicle_logging_timestep_interval=-1, cpp=cpp)
    for i in range(sc["n"]):
        W.addNode(f"n{i}", float(sc["xy"][i, 0]), float(sc["xy"][i, 1]))
    for k in range(sc["tail"].size):
        W.addLink(f"l{k}", f"n{sc['tail'][k]}", f"n{sc['head'][k]}", length=float(sc["length"][k]),
                  free_flow_speed=SPEED_M_S, jam_density=KAPPA_VEH_M, number_of_lanes=1)
    for o, d, t in zip(sc["orig"], sc["dest"], sc["dep"], strict=True):
        W.addVehicle(f"n{o}", f"n{d}", float(t))
    W.finalize_scenario()
    t1 = time.perf_counter()
    W.exec_simulation()
    t2 = time.perf_counter()
    arr, tt = [], []
    for veh in W.VEHICLES.values():
        if veh.state == "end" and veh.travel_time > 0:
            # arrival time, s: the C++ vehicle keeps seconds; the Python engine a time-step index (and its
            # departure_time_in_second is the departure in s multiplied by DELTAT again in 1.15.1)
            arr.append(veh._cpp_vehicle.arrival_time if cpp else veh.arrival_time * W.DELTAT)
            tt.append(veh.travel_time)
    arr_a, tt_a = np.array(arr), np.array(tt)
    d = sc["deltan"]
    return dict(build_s=t1 - t0, run_s=t2 - t1, completed=int(tt_a.size * d), total=int(len(W.VEHICLES) * d),
                mean_tt_s=float(tt_a.mean()), total_tt_veh_h=float(tt_a.sum() * d / 3600.0),
                clearance_s=float(arr_a.max()), version=uxsim.__version__)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=32, help="grid side, nodes")
    ap.add_argument("--vehicles", type=int, default=50_000)
    ap.add_argument("--deltan", type=int, default=5, help="UXsim platoon size")
    ap.add_argument("--demand-s", type=float, default=3600.0, help="departures spread over [0, demand_s)")
    ap.add_argument("--tmax", type=float, default=3 * 3600.0, help="simulated horizon of both models, s")
    ap.add_argument("--dt", type=float, nargs="+", default=[1.0, 5.0], help="our step(s), s")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--python-engine", action="store_true", help="also run UXsim's Python engine (slow)")
    args = ap.parse_args()

    sc = grid_scenario(args.size, args.vehicles, args.deltan, args.demand_s, args.seed)
    print(json.dumps(dict(scenario=dict(nodes=sc["n"], links=int(sc["tail"].size), cars=args.vehicles,
                                        platoons=int(sc["orig"].size), deltan=args.deltan, demand_s=args.demand_s,
                                        tmax_s=args.tmax))), flush=True)
    # warm-up: compile or load the kernel, outside the timings
    t0 = time.perf_counter()
    run_ours(grid_scenario(3, 50, 5, 60.0, 1), 1.0, 600.0)
    print(json.dumps(dict(warmup_compile_or_load_s=round(time.perf_counter() - t0, 3))), flush=True)

    ux = run_uxsim(sc, args.tmax, cpp=True, seed=args.seed)
    print(json.dumps(dict(uxsim_cpp=ux)), flush=True)
    engines = {"uxsim_cpp": ux}
    if args.python_engine:
        engines["uxsim_python"] = run_uxsim(sc, args.tmax, cpp=False, seed=args.seed)
        print(json.dumps(dict(uxsim_python=engines["uxsim_python"])), flush=True)

    for dt in args.dt:
        runs = [run_ours(sc, dt, args.tmax) for _ in range(args.repeats)]
        ours = dict(runs[0])
        ours["dt_s"] = dt
        ours["run_s"] = statistics.median(r["run_s"] for r in runs)
        ours["setup_s"] = statistics.median(r["setup_s"] for r in runs)
        assert all(r["clearance_s"] == ours["clearance_s"] for r in runs), "runs differ"
        print(json.dumps(dict(ours=ours)), flush=True)
        for name, other in engines.items():
            print(json.dumps(dict(ratio=dict(
                against=name, dt_s=dt, speedup=round(other["run_s"] / ours["run_s"], 2),
                clearance_rel_diff=round(ours["clearance_s"] / other["clearance_s"] - 1.0, 4),
                mean_tt_rel_diff=round(ours["mean_tt_s"] / other["mean_tt_s"] - 1.0, 4),
                completed=(ours["completed"], other["completed"])))), flush=True)


if __name__ == "__main__":
    main()
