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
