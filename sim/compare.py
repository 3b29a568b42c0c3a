"""Compare response plans on one hazard: every plan × the same replicate seeds, then the scorecard.

Each run is written as a complete :class:`~sim.results.RunResult` folder under
``<outputs>/compare-<hazard>-<digest>/runs/<plan>-seed<seed>/`` before the next starts, and a folder whose
recorded scenario and fuling-sim version equal the ones asked for is reused — so an interrupted comparison
resumes where it stopped, and asking for more replicates later only runs the new seeds (``SeedSequence.spawn`` gives the
same first seeds for any count).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sim
from sim.paths import scenarios_dir
from sim.results import RunResult, same_inputs, same_version, stored_result
from sim.scenario import DistrictSpec, HazardSpec, Plan, RunSettings, Scenario, load_component
from sim.scorecard import Scorecard, build_scorecard, replicate_seeds
from sim.targets import TargetFile
from sim.yamlio import InputError


@dataclass(frozen=True)
class CompareRequest:
    """What to compare: one hazard, several plans, ``replicates`` seeds from ``base_seed``."""

    district: DistrictSpec
    hazard: HazardSpec
    plans: tuple[Plan, ...]
    replicates: int
    base_seed: int
    duration_h: float
    step_s: float = 60.0
    hazard_label: str = ""

    def digest(self) -> str:
        """Short hash of everything but the replicate count (runs are shared between counts)."""
        key = [self.district.model_dump(mode="json"), self.hazard.model_dump(mode="json"),
               [p.model_dump(mode="json") for p in self.plans], self.base_seed, self.duration_h, self.step_s]
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]


def resolve(kind: str, name_or_path: str | Path) -> tuple[object, Path]:
    """Load a shipped hazard or plan by name (``scenarios/<kind>s/<name>.yaml``) or any file by path."""
    p = Path(name_or_path)
    if not p.suffix:
        p = scenarios_dir() / f"{kind}s" / f"{name_or_path}.yaml"
        if not p.exists():
            shipped = sorted(f.stem for f in p.parent.glob("*.yaml"))
            close = difflib.get_close_matches(str(name_or_path), shipped, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(f"{kind} {name_or_path!r}: no such shipped {kind}. Fix: {hint}use one of "
                             f"{', '.join(shipped)}, or a path to a .yaml file")
    return load_component(p, kind=kind), p


def scenarios(req: CompareRequest, outputs_dir: Path) -> list[tuple[Plan, int, Scenario]]:
    """Every (plan, seed, scenario) of the request, in run order (plan by plan)."""
    seeds = replicate_seeds(req.base_seed, req.replicates)
    return [(plan, seed, Scenario(district=req.district, hazard=req.hazard, plan=plan,
                                  run=RunSettings(duration_h=req.duration_h, step_s=req.step_s, seed=seed,
                                                  outputs_dir=outputs_dir)))
            for plan in req.plans for seed in seeds]


def run_compare(req: CompareRequest, outputs_dir: Path | str, builder: Callable, district=None,
                targets: TargetFile | None = None,
                on_run: Callable[[int, int, str, int, bool], None] | None = None,
                progress: Callable[[float], None] | None = None) -> tuple[Scorecard, Path]:
    """Run (or reuse) every plan × seed, build the scorecard and return it with the comparison folder.

    ``on_run(i, n, plan, seed, reused)`` is called before each run; ``progress(fraction)`` within runs.
    """
    names = [p.name for p in req.plans]
    if len(set(names)) != len(names):
        raise ValueError(f"plans must have distinct names, got {names}")
    folder = Path(outputs_dir) / f"compare-{_slug(req.hazard_label or req.hazard.name)}-{req.digest()}"
    pending = scenarios(req, Path(outputs_dir))
    runs: dict[str, list[tuple[int, RunResult]]] = {p.name: [] for p in req.plans}
    t0 = time.perf_counter()
    folders = []
    for i, (plan, seed, sc) in enumerate(pending):
        run_dir = folder / "runs" / f"{_slug(plan.name)}-seed{seed}"
        folders.append(str(run_dir.relative_to(folder)))
        want = sc.model_dump(mode="json")
        result = stored_result(run_dir)  # None when missing or damaged: then it runs again
        if result is not None and not (same_inputs(result.provenance, want) and same_version(result.provenance)):
            result = None
        if on_run:
            on_run(i, len(pending), plan.name, seed, result is not None)
        if result is None:
            def part(f: float, i=i) -> None:
                if progress:
                    progress((i + f) / len(pending))

            result = builder(sc, district=district, progress=part)
            result.write(run_dir)
        runs[plan.name].append((seed, result))
    card = build_scorecard(runs, targets)
    card.meta.update({
        "hazard": req.hazard_label or req.hazard.name, "hazard_name_zh": req.hazard.name_zh,
        "replicates": req.replicates, "base_seed": req.base_seed, "seeds": replicate_seeds(req.base_seed,
                                                                                           req.replicates),
        "duration_h": req.duration_h, "runs": folders, "fuling_sim_version": sim.__version__,
        "annual_frequency_per_year": req.hazard.annual_frequency_per_year,
        "frequency_source": req.hazard.frequency_source,
        "wall_seconds": round(time.perf_counter() - t0, 1),
    })
    from sim.report import write

    write(card, folder)
    return card, folder


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in text.strip())
    while "--" in keep:
        keep = keep.replace("--", "-")
    return keep.strip("-")[:60] or "x"
