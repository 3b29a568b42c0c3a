"""The dependency direction of DESIGN §2: kernels ← sim ← models ← app; sim never imports models/streamlit."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] if not a.name.startswith("sim.") else a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module if node.module.startswith("sim") else node.module.split(".")[0])
    return out


def test_sim_never_imports_models_or_streamlit():
    for path in (ROOT / "sim").rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[0] in ("models", "streamlit", "app", "app_pages")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_kernels_import_only_numpy_numba_and_stdlib():
    allowed = {"numpy", "numba", "__future__", "heapq", "math", "typing"}
    for path in (ROOT / "sim" / "kernels").rglob("*.py"):
        bad = _imports(path) - allowed
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_kernels_are_cached_njit():
    for path in (ROOT / "sim" / "kernels").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"@(njit|jit)\s*$", text, re.M), f"{path}: bare @njit"
        for args in re.findall(r"@n?jit\(([^)]*)\)", text):
            assert "cache=True" in args, f"{path}: njit({args}) without cache=True"


def test_models_never_imports_streamlit():
    for path in (ROOT / "models").rglob("*.py"):
        assert "streamlit" not in _imports(path), path


def test_a_violation_would_be_caught(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("import models.district\nfrom streamlit import session_state\n")
    assert {"models", "streamlit"} <= {m.split(".")[0] for m in _imports(bad)}
