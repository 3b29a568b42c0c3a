from __future__ import annotations

import pandas as pd
import pytest

from sim.results import RunResult


def _result(tag: str) -> RunResult:
    df = pd.DataFrame({"time_s": [0.0, 60.0], "x": [1, 2]})
    return RunResult(timeseries=df, township_timeseries=df, events=df.assign(type=tag), townships=df, requests=df,
                     summary={"tag": tag, "deaths": 0}, provenance={"seed": 1}, parameters=[{"name": "a"}])


def test_write_read_roundtrip_and_atomic_replace(tmp_path):
    folder = tmp_path / "run"
    _result("first").write(folder)
    back = RunResult.read(folder)
    assert back.summary == {"tag": "first", "deaths": 0}
    pd.testing.assert_frame_equal(back.timeseries, _result("x").timeseries)
    _result("second").write(folder)
    assert RunResult.read(folder).summary["tag"] == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no partial or old folder left
    with pytest.raises(FileExistsError):
        _result("third").write(folder, overwrite=False)


def test_a_half_written_folder_is_not_a_result(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "timeseries.parquet").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="no complete run result"):
        RunResult.read(folder)


def test_partial_folders_of_killed_writers_are_removed_and_live_ones_kept(tmp_path):
    import os
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    orphan = tmp_path / f".run.{dead.stdout.strip()}.abc123.partial"  # a writer killed mid-write
    orphan.mkdir()
    (orphan / "timeseries.parquet").write_bytes(b"half")
    live = tmp_path / f".run.{os.getppid()}.def456.partial"  # another process still writing
    live.mkdir()
    other = tmp_path / f".other.{dead.stdout.strip()}.x.partial"  # another result's: not ours to judge now
    other.mkdir()
    sibling = tmp_path / f".run.5.{dead.stdout.strip()}.x.partial"  # the result "run.5", not "run"
    sibling.mkdir()
    _result("first").write(tmp_path / "run")
    assert not orphan.exists() and live.exists() and other.exists() and sibling.exists()
    assert RunResult.read(tmp_path / "run").summary["tag"] == "first"


def test_stored_result_is_none_when_damaged_and_inputs_ignore_the_output_folder(tmp_path):
    from sim.results import same_inputs, stored_result

    folder = tmp_path / "run"
    assert stored_result(folder) is None
    _result("first").write(folder)
    assert stored_result(folder).summary["tag"] == "first"
    (folder / "events.parquet").write_bytes(b"")  # truncated (e.g. a power cut before the data reached disk)
    assert stored_result(folder) is None
    a = {"plan": {"name": "p"}, "run": {"seed": 1, "outputs_dir": "results"}, "sources": {"plan": "a.yaml"}}
    b = {"plan": {"name": "p"}, "run": {"seed": 1, "outputs_dir": "/abs/results"}, "sources": {"plan": "./a.yaml"}}
    assert same_inputs({"scenario": a}, b)
    assert not same_inputs({"scenario": a}, {**b, "run": {"seed": 2, "outputs_dir": "results"}})


def test_reuse_needs_the_same_code_not_only_the_same_version():
    import sim
    from sim.results import code_sha256, same_version

    assert len(code_sha256()) == 64
    assert same_version({"fuling_sim_version": sim.__version__, "code_sha256": code_sha256()})
    assert not same_version({"fuling_sim_version": sim.__version__, "code_sha256": "0" * 64})
    assert not same_version({"fuling_sim_version": sim.__version__})  # made before sources were hashed
