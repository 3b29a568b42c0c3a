"""Benchmark: the default scenario (72-hour Yangtze flood + forest fire + landslides, full population).

Prints wall time (district load, model init, run), peak resident memory, the share of run time in the
hazard kernels, the traffic kernel and the Python agent logic, and — as the reference in the same run —
what stepping every household as a Mesa agent with an empty ``step`` would cost (measured over a few
steps with ``AgentSet.shuffle_do``, extrapolated to the run). Targets (issue 4): under 2 minutes and under
4 GB on 2 cores.

    python benchmarks/bench_district.py                 # the full 72 h
    python benchmarks/bench_district.py --hours 6       # a quicker look
"""

from __future__ import annotations

import argparse
import resource
import time

import numba

from models.district import DistrictModel
from models.district.agents import Household
from models.district.metrics import build_result
from sim.district import load_district
from sim.scenario import default_scenario_path, load_scenario


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def naive_step_cost(model: DistrictModel, steps: int) -> float:
    """Seconds per model step if every household were stepped as a Mesa agent doing nothing."""
    agents = model.agents_by_type[Household]
    t0 = time.perf_counter()
    for _ in range(steps):
        agents.shuffle_do("step")
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=None, help="simulated hours (default: the scenario's 72)")
    ap.add_argument("--naive-steps", type=int, default=5, help="steps of the naive Mesa reference")
    ap.add_argument("--set", action="append", default=[], help="scenario override section.key=value")
    args = ap.parse_args()
    sc = load_scenario(default_scenario_path(), args.set)
    print(f"numba threads: {numba.get_num_threads()}")
    t0 = time.perf_counter()
    d = load_district(sc.district)
    t1 = time.perf_counter()
    m = DistrictModel(sc, district=d, duration_h=args.hours)
    t2 = time.perf_counter()
    m.run()
    t3 = time.perf_counter()
    res = build_result(m, t3 - t1)
    t4 = time.perf_counter()
    naive = naive_step_cost(m, args.naive_steps)
    steps = int(round(m.duration_s / m.dt_s))
    tm = m.timing
    run_s = t3 - t2
    kernels = tm["hazards"] + tm["traffic"]
    agents = run_s - kernels
    print(f"households: {m.households.n:,}  residents: {m.population:,}  steps: {steps}")
    print(f"district load {t1 - t0:.1f} s | model init {t2 - t1:.1f} s (incl. {tm['init']:.1f} s) | "
          f"run {run_s:.1f} s | results {t4 - t3:.1f} s | total {t4 - t0:.1f} s")
    print(f"peak resident memory: {rss_gb():.2f} GB")
    print("run time by phase (s): " + ", ".join(f"{k} {v:.1f}" for k, v in tm.items() if k != "init"))
    print(f"share in kernels (hazards + traffic): {kernels / run_s:.0%}; in agents and bookkeeping: "
          f"{agents / run_s:.0%}")
    print(f"reference — every household a stepped Mesa agent: {naive * 1e3:.0f} ms per step, "
          f"{naive * steps:.0f} s for the run before any work; ours: {agents / steps * 1e3:.1f} ms per step "
          f"for all agent logic ({naive * steps / max(agents, 1e-9):.0f}× less)")
    s = res.summary
    print(f"summary: deaths {s['deaths']}, evacuated {s['evacuated_persons']:,}, trapped at end "
          f"{s['trapped_persons_end']:,}, warning coverage {s['warning_coverage']}")
    print(f"targets: total < 120 s -> {'met' if t4 - t0 < 120 else 'MISSED'}; memory < 4 GB -> "
          f"{'met' if rss_gb() < 4 else 'MISSED'}")


if __name__ == "__main__":
    main()
