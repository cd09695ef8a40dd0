"""The README's commands exist: every command line runs with --help, every make target is defined,
and every Python block compiles and imports what it names."""

import ast
import importlib
import re
import shlex
import subprocess
import sys

import pytest
from tool_process import REPO, run_tool, tool_environment

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.S | re.M)


def shell_commands() -> list[list[str]]:
    """Each command of the README's shell blocks as words, continuation lines joined, comments dropped."""
    commands = []
    for language, text in BLOCKS:
        if language == "python":
            continue
        for line in text.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].split(" # ")[0].strip()
            if line and not line.startswith("#"):
                commands.append(shlex.split(line, comments=True))
    return commands


def commands_to_check() -> list[tuple[str, ...]]:
    """The distinct tools the README runs: ("ssdlite", subcommand), ("python", script) or ("make", target)."""
    seen = []
    for words in shell_commands():
        if words[0] == "ssdlite":
            key = ("ssdlite", *words[1:3]) if words[1] == "convert" else ("ssdlite", words[1])
        elif words[0] == "python" and words[1].endswith(".py"):
            key = ("python", words[1])
        elif words[0] == "make":
            key = ("make", words[1])
        else:  # git clone, source, pip: the install itself, which CI runs
            continue
        if key not in seen:
            seen.append(key)
    return seen


def test_the_readme_runs_commands():
    kinds = {key[0] for key in commands_to_check()}
    assert {"ssdlite", "python", "make"} <= kinds


@pytest.mark.parametrize("command", commands_to_check(), ids=" ".join)
def test_each_command_exists(command):
    kind, *rest = command
    if kind == "make":
        assert re.search(rf"^{re.escape(rest[0])}:", (REPO / "Makefile").read_text(), flags=re.M), f"no make target {rest[0]}"
        return
    if kind == "python":
        process = run_tool(rest[0], "--help")
    else:  # what the `ssdlite` console command runs
        command = [sys.executable, "-m", "ssdlite", *rest, "--help"]
        process = subprocess.run(command, cwd=REPO, env=tool_environment(), capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr


@pytest.mark.parametrize("code", [text for language, text in BLOCKS if language == "python"])
def test_python_blocks_use_names_the_package_has(code):
    imported = {}
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"README imports {alias.name} from {node.module}"
                imported[alias.asname or alias.name] = getattr(module, alias.name)
    for node in ast.walk(tree):  # Detector.load, config.model...: attributes of what was imported
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
            assert hasattr(imported[node.value.id], node.attr), f"README uses {node.value.id}.{node.attr}"
