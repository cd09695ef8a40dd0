"""Running a tool as a user does: its script in a fresh Python, output captured for the test to read."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tool_command(script: str | Path, *args) -> list[str]:
    """The command line of `script` (relative to the repository, e.g. "tools/train.py") with `args` as strings."""
    return [sys.executable, str(REPO / script), *map(str, args)]


def tool_environment() -> dict[str, str]:
    """This process's environment with this tree first on PYTHONPATH (a script's own folder comes first
    on its path, and an installed ssdlite could come before the tree under test), then tests/ as pytest
    has it, for the configs tests write that import test helpers."""
    path = os.pathsep.join(filter(None, [str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH")]))
    return os.environ | {"PYTHONPATH": path}


def run_tool(script: str | Path, *args, cwd: str | Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `script args...` to its end and return the finished process, stdout and stderr as text.

    Args:
        script: relative to the repository, e.g. "tools/train.py"; it runs from `cwd`.
        args: paths and numbers are passed as their strings.
    """
    return subprocess.run(
        tool_command(script, *args), cwd=cwd, env=tool_environment(), capture_output=True, text=True, timeout=timeout
    )


def error_line(result: subprocess.CompletedProcess, *facts) -> str:
    """The one-line error of a failed tool run, checked to name each of `facts` (a file, a record, an option).

    A failed run exits non-zero without a traceback, and its last stderr line is its only one that starts
    with `error: ` (libraries may print their own complaints, such as libpng's, before it).
    """
    assert result.returncode != 0, result.stdout[-2000:]
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr
    assert sum(line.startswith("error: ") for line in lines) == 1, result.stderr
    missing = [str(fact) for fact in facts if str(fact) not in lines[-1]]
    assert not missing, f"{lines[-1]!r} does not name {missing}"
    return lines[-1]


def line_naming(text: str, *facts) -> str:
    """The first line of a tool's output that names every one of `facts` (its file, record, reason)."""
    found = [line for line in text.splitlines() if all(str(fact) in line for fact in facts)]
    assert found, f"no line names all of {[str(fact) for fact in facts]}:\n{text[-3000:]}"
    return found[0]
