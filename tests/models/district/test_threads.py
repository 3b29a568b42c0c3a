"""Same seed, same results with 1 and 2 numba threads (the flood kernel runs in parallel)."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import hashlib, sys
import pandas as pd
sys.path.insert(0, {here!r})
from conftest import scenario
from models.district import DistrictModel
from models.district.metrics import build_result
import numba
m = DistrictModel(scenario("yangtze_2020_chain", hours=1.5, seed=9))
m.run()
r = build_result(m)
h = hashlib.sha256()
for t in (r.timeseries, r.events, r.townships, r.township_timeseries):
    h.update(pd.util.hash_pandas_object(t, index=False).values.tobytes())
h.update(m.hazards.component("flood").state.h.tobytes())
print(numba.get_num_threads(), h.hexdigest())
"""


def _run(threads: int, district100) -> str:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    code = SCRIPT.format(here=os.path.dirname(__file__))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    n, digest = out.stdout.strip().splitlines()[-1].split()
    assert int(n) == threads
    return digest


def test_one_and_two_threads_give_identical_results(district100):
    assert _run(1, district100) == _run(2, district100)
