"""The benchmarks' scripts run as a user runs them: `python benchmarks/<script> ...` in the repository."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_benchmark():
    """`run_benchmark("benchmark.py", *args)`: the finished script, its output as text."""

    def run(script: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        command = [sys.executable, f"benchmarks/{script}", *args]
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)

    return run
