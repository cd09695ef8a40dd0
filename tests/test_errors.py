"""The error layer (ssdlite/errors.py): a project error is one `error:` line and exit status 1; a bug keeps its traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from ssdlite.assets import AssetError
from ssdlite.checkpoint import CheckpointError
from ssdlite.config import ConfigError
from ssdlite.convert.labels import LabelMapError
from ssdlite.convert.tf_graph import TFGraphError
from ssdlite.convert.tflite_graph import TFLiteError
from ssdlite.data.build import DataNotFoundError
from ssdlite.data.coco import DatasetError
from ssdlite.data.converters import ConversionError
from ssdlite.data.image_file import UnreadableImageError
from ssdlite.errors import InputError, SsdliteError, reports_errors
from ssdlite.training.runner import RunDirError
from ssdlite.video import VideoError

REPO = Path(__file__).resolve().parents[1]
ERRORS = (
    AssetError,
    CheckpointError,
    ConfigError,
    ConversionError,
    DataNotFoundError,
    DatasetError,
    InputError,
    LabelMapError,
    RunDirError,
    TFGraphError,
    TFLiteError,
    UnreadableImageError,
    VideoError,
)


@pytest.mark.parametrize("error", ERRORS)
def test_the_projects_errors_share_one_base_and_stay_value_errors(error):
    assert issubclass(error, SsdliteError) and issubclass(error, ValueError)


def test_a_project_error_becomes_one_line_and_exit_status_1():
    @reports_errors
    def main(argv):
        raise CheckpointError("run/best.ckpt could not be read as a checkpoint:\n  unpickling failed;\n  truncated")

    with pytest.raises(SystemExit) as exit:
        main([])
    message = exit.value.code  # sys.exit(message): printed to stderr, exit status 1
    assert isinstance(message, str) and "\n" not in message
    assert message.startswith("error: run/best.ckpt could not be read") and message.endswith("truncated")


def test_other_exceptions_pass_through():
    @reports_errors
    def main(argv):
        raise ValueError(f"a bug, not bad input: {argv}")

    with pytest.raises(ValueError, match="a bug, not bad input"):
        main(["--flag"])


def command(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_a_command_prints_a_project_error_as_one_line(tmp_path):
    missing = tmp_path / "missing.ckpt"
    result = command("from ssdlite.commands import main; main()", "eval", "--checkpoint", str(missing))
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and str(missing) in line and "does not exist" in line


def test_a_bug_inside_a_command_keeps_its_traceback(tmp_path):
    """A ValueError from a bug (five tools once turned any ValueError into one line) reaches the user whole."""
    code = (
        "import ssdlite.commands.eval as command\n"
        "def load_checkpoint(path, **options):\n"
        "    raise ValueError('a bug in the loader')\n"
        "command.load_checkpoint = load_checkpoint\n"
        "command.main()\n"
    )
    result = command(code, "--checkpoint", str(tmp_path / "model.ckpt"))
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr and "in load_checkpoint" in result.stderr
    assert result.stderr.splitlines()[-1] == "ValueError: a bug in the loader"
    assert not any(line.startswith("error: ") for line in result.stderr.splitlines())
