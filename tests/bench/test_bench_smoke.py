"""The benchmark runs end to end on a small data set, so it never rots (timings not checked).

The `app` fixture is requested only so that the suite's autouse rate-limit reset finds an
initialised limiter; the bench itself runs in a subprocess on its own SQLite file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (
    "case_list",
    "case_list_all",
    "case_list_filter",
    "case_page",
    "patterns_matrix",
    "patterns_filtered",
    "opportunities",
    "export_csv",
    "export_csv_cli",
    "import_10k",
)


def _is_measurement(value) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value["median_ms"], int | float)
        and isinstance(value["p95_ms"], int | float)
        and value["median_ms"] >= 0
    )


@pytest.mark.slow
def test_bench_writes_a_result_per_operation(app, tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--sizes",
            "300",
            "--dbs",
            "sqlite",
            "--reps",
            "2",
            "--heavy-reps",
            "1",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = list(out.glob("*-sqlite-300.json"))
    assert len(files) == 1
    result = json.loads(files[0].read_text())
    assert result["meta"]["size"] == 300 and result["meta"]["db"] == "sqlite"
    assert set(result["operations"]) == set(OPERATIONS)
    for name, entry in result["operations"].items():
        # The raw SQL side is the bench's own: always measured.
        assert _is_measurement(entry["raw"]), (name, entry["raw"])
        # The app side is measured, or says why not (an area not landed, or its error).
        app = entry["app"]
        assert _is_measurement(app) or app.startswith(("n/a", "error (")), (name, app)
        assert isinstance(entry["ratio"], int | float) or entry["ratio"] == "n/a"
    # The human summary names every operation.
    for name in OPERATIONS:
        assert name in proc.stdout

    # --compare reads an earlier file and prints the change.
    again = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--sizes",
            "300",
            "--dbs",
            "sqlite",
            "--reps",
            "1",
            "--heavy-reps",
            "1",
            "--only",
            "case_list",
            "--out",
            str(tmp_path / "second"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--compare",
            str(files[0]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "reusing" in again.stderr, "the cached SQLite file is reused"
    assert f"Change against {files[0].name}" in again.stdout


def test_bad_arguments_are_refused(app):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "--sizes must be numbers" in proc.stderr
