"""The `ssdlite` command (ssdlite/commands): every command listed with its help, and each script in tools/
the same code as its command."""

import runpy
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from ssdlite.commands import COMMANDS, main
from ssdlite.commands.convert import CONVERTERS

REPO = Path(__file__).resolve().parents[1]
COMMAND_LINES = [[name] for name in COMMANDS] + [["convert", name] for name in CONVERTERS]
TOOLS = sorted(str(path.relative_to(REPO)) for path in (REPO / "tools").rglob("*.py"))


def help_of(run, argv: list[str], monkeypatch, capsys) -> str:
    """What `run()` prints for --help, from its description on (the usage line names the program)."""
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit:
        run()
    assert exit.value.code == 0
    return capsys.readouterr().out.split("\n\n", 1)[1]


def test_the_console_script_is_the_command():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"ssdlite": "ssdlite.commands:main"}


def test_ssdlite_help_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-c", "from ssdlite.commands import main; main()", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.startswith("usage: ssdlite ")
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ") and line[4] != " "}
    assert listed == set(COMMANDS)


@pytest.mark.parametrize("command", COMMAND_LINES, ids=" ".join)
def test_each_command_gives_its_help(command, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ssdlite"])
    with pytest.raises(SystemExit) as exit:
        main([*command, "--help"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: ssdlite {' '.join(command)}")


def test_an_unknown_command_is_refused_with_the_list(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["infer"])
    assert exit.value.code == 2 and "invalid choice: 'infer'" in capsys.readouterr().err


@pytest.mark.parametrize("tool", TOOLS)
def test_each_tool_runs_a_command(tool, monkeypatch, capsys):
    """python tools/X.py is a command of `ssdlite`: the same options and help."""
    tool_help = help_of(partial(runpy.run_path, str(REPO / tool), run_name="__main__"), [tool, "--help"], monkeypatch, capsys)
    command_helps = [help_of(partial(main, [*command, "--help"]), ["ssdlite"], monkeypatch, capsys) for command in COMMAND_LINES]
    assert tool_help in command_helps
