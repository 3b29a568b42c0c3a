"""``RunResult``: the tidy outputs of one run, written atomically to ``results/<run>/`` as Parquet + JSON.

Tables (fixed schemas, units in the column names):

* ``timeseries`` — one row per recorded time: people by state, flooded and burned area, road km open,
  slowed and closed, team utilisation, shelter occupancy, stock levels;
* ``township_timeseries`` — people by state per township and recorded time (long format);
* ``events`` — time_s, type, node, actor, target, details (JSON);
* ``townships`` — one row per township: population, exposed, warned in time, evacuated, casualties;
* ``requests`` — supply requests and whether each was met in time;
* ``summary`` (JSON) — headline figures; ``provenance`` (JSON) — inputs' hashes, version, seed, timings;
* optional ``frames`` — the replay map's sparse layers ``(time_s, layer, index, value)`` at regular times,
  and ``map`` (JSON) — the grids, shelters and teams those layers refer to (see
  ``models/district/frames.py``). Older results without them still read.

The folder is first written as ``.<name>.partial`` next to its destination and renamed into place, so a
reader never sees half a result; an existing complete folder is replaced only when ``overwrite``.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TABLES = ("timeseries", "township_timeseries", "events", "townships", "requests")


@dataclass
class RunResult:
    """All outputs of one run."""

    timeseries: pd.DataFrame
    township_timeseries: pd.DataFrame
    events: pd.DataFrame
    townships: pd.DataFrame
    requests: pd.DataFrame
    summary: dict
    provenance: dict
    parameters: list[dict] = field(default_factory=list)
    frames: pd.DataFrame | None = None
    map_meta: dict | None = None

    def write(self, folder: Path | str, overwrite: bool = True) -> Path:
        """Write every table (Parquet) and the JSON files into ``folder`` atomically; return the folder."""
        folder = Path(folder)
        if folder.exists() and not overwrite:
            raise FileExistsError(f"{folder} exists; pass overwrite=True or choose another run name")
        folder.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(folder)
        # a private temporary folder: two writers of the same result (two app sessions) never share one
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{os.getpid()}.", suffix=".partial", dir=folder.parent))
        for name in TABLES:
            getattr(self, name).to_parquet(tmp / f"{name}.parquet", index=False)
        if self.frames is not None:
            self.frames.to_parquet(tmp / "frames.parquet", index=False)
        if self.map_meta is not None:
            (tmp / "map.json").write_text(json.dumps(_finite(self.map_meta), ensure_ascii=False,
                                                     default=_json_default, allow_nan=False), encoding="utf-8")
        for name, obj in (("summary", self.summary), ("provenance", self.provenance),
                          ("parameters", self.parameters)):
            (tmp / f"{name}.json").write_text(
                json.dumps(_finite(obj), ensure_ascii=False, indent=1, default=_json_default, allow_nan=False),
                encoding="utf-8")
        tmp.chmod(0o755)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
            os.rmdir(old)
            os.replace(folder, old)
            try:
                os.replace(tmp, folder)
            except OSError:
                os.replace(old, folder)  # put the previous result back
                raise
            shutil.rmtree(old)
        else:
            try:
                os.replace(tmp, folder)
            except OSError:
                if not (folder / "summary.json").exists():
                    raise
                shutil.rmtree(tmp)  # another writer put the same complete result in place first
        return folder

    @classmethod
    def read(cls, folder: Path | str) -> RunResult:
        """Read a folder written by :meth:`write`."""
        folder = Path(folder)
        if not (folder / "summary.json").exists():
            raise FileNotFoundError(f"{folder} holds no complete run result (summary.json missing)")
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
        js = {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
              for name in ("summary", "provenance", "parameters")}
        frames = pd.read_parquet(folder / "frames.parquet") if (folder / "frames.parquet").exists() else None
        meta = (json.loads((folder / "map.json").read_text(encoding="utf-8"))
                if (folder / "map.json").exists() else None)
        return cls(**tables, **js, frames=frames, map_meta=meta)


def _remove_orphans(folder: Path) -> None:
    """Delete ``.<name>.<pid>.*.partial`` folders beside ``folder`` whose writing process has ended.

    A writer killed mid-write (power cut, SIGKILL) leaves its private temporary folder behind; it is never
    read as a result, and the next write of the same result removes it. A live writer's folder is kept. The
    check is by process id, so it assumes the writers of one results folder run on one machine.
    """
    own = re.compile(rf"^\.{re.escape(folder.name)}\.(\d+)\.[A-Za-z0-9_]+\.partial$")  # not "<name>.5"'s
    for tmp in folder.parent.glob(f".{glob.escape(folder.name)}.*.partial"):
        match = own.match(tmp.name)
        if match is None or _alive(int(match.group(1))):
            continue
        shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """SHA-256 of the engine's and the model's Python sources (``sim/``, ``models/``), path and content.

    The version string alone misses edits between releases (an editable install, a branch); results are
    reused only when both match.
    """
    import sim

    root = Path(sim.__file__).resolve().parents[1]
    h = hashlib.sha256()
    for package in ("sim", "models"):
        for path in sorted((root / package).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def same_version(provenance: dict) -> bool:
    """Tell whether a stored result was made by this fuling-sim version and these sources.

    Reusing a stored run (resume, the app's cache, comparisons) needs this as well as equal inputs: a new
    version may change results for the same scenario and seed (e.g. the flood scheme's defaults in 0.2.0),
    and so may an edit that kept the version (:func:`code_sha256`).
    """
    import sim

    return (provenance.get("fuling_sim_version") == sim.__version__
            and provenance.get("code_sha256") == code_sha256())


def _inputs(scenario_json: dict | None) -> dict | None:
    """Return a scenario's JSON without what does not change results (the output folder, file names)."""
    if not isinstance(scenario_json, dict):
        return None
    out = {k: v for k, v in scenario_json.items() if k != "sources"}
    if isinstance(out.get("run"), dict):
        out["run"] = {k: v for k, v in out["run"].items() if k != "outputs_dir"}
    return out


def same_inputs(provenance: dict, scenario_json: dict) -> bool:
    """Tell whether a stored result's scenario equals ``scenario_json`` (output folder aside)."""
    return _inputs(provenance.get("scenario")) == _inputs(scenario_json)


def stored_result(folder: Path | str) -> RunResult | None:
    """Read the complete result in ``folder``; None if there is none or it is damaged.

    A damaged result is simply run again: :meth:`RunResult.write` replaces the whole folder.
    """
    folder = Path(folder)
    if not (folder / "summary.json").exists():
        return None
    try:
        return RunResult.read(folder)
    except Exception:  # noqa: BLE001 - a truncated Parquet, bad JSON, a missing file: all mean "run again"
        return None


def _finite(obj):
    """Replace NaN and ±inf (also numpy scalars) by None, recursively, so the JSON is standard."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)
