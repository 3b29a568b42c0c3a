"""Benchmark: sweep throughput on a Dask LocalCluster — runs per minute on 1 and 2 workers (scaling efficiency).

Each run is the default scenario (72-hour chain) cut to ``--hours`` (default 24, as in the issue) with a
different warning lead time; the reference in the same run is the same runs one after another in this
process with numba on all cores (what a user would do without the sweep runner).

    python benchmarks/bench_sweep.py                  # 24 h runs, 4 runs per setting
    python benchmarks/bench_sweep.py --hours 2 --runs 4
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from sim import experiments as ex
from sim.scenario import default_scenario_path


def sweep_file(folder: Path, hours: float, runs: int) -> Path:
    p = folder / "bench.yaml"
    p.write_text(f"kind: sweep\nname: bench\nbase: {default_scenario_path()}\nhours: {hours}\n"
                 "factors:\n  - {path: plan.warning.lead_time_min, range: [30, 180]}\n"
                 f"sampler: {{method: lhs, n: {runs}}}\noutcomes: [T3, deaths]\n", encoding="utf-8")
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--runs", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    spec, base = ex.load_sweep(sweep_file(tmp, args.hours, args.runs))
    out = {}
    # reference: the same runs in series in this process (numba threads = all cores)
    from sim.runner import resolve_builder
    from sim.scenario import Scenario

    builder = resolve_builder()
    design = ex.design(spec)
    t0 = time.perf_counter()
    for lead in design["plan.warning.lead_time_min"]:
        data = json.loads(json.dumps(base))
        data["plan"]["warning"]["lead_time_min"] = float(lead)
        builder(Scenario.model_validate(data), duration_h=args.hours)
    out["serial_in_process"] = time.perf_counter() - t0
    for workers in (1, 2):
        t0 = time.perf_counter()
        ex.run_sweep(spec, base, tmp / f"w{workers}", n_workers=workers, resume=False)
        out[f"dask_{workers}_workers"] = time.perf_counter() - t0
    n = len(design)
    print(f"{n} runs of {args.hours:g} h each")
    for k, v in out.items():
        print(f"  {k:20s} {v:8.1f} s   {60.0 * n / v:6.2f} runs/min")
    ratio = out["dask_1_workers"] / out["dask_2_workers"]
    print(f"  scaling efficiency 1→2 workers: {ratio / 2:.0%} (runs/min ratio {ratio:.2f}×)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
