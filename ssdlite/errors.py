"""The project's own errors, and the one way every command reports them.

An `SsdliteError` is input a user can fix: a config, a data or label file, a
checkpoint, a video, a flag's value. Its message names the file, record or flag
and the fix. A command (`reports_errors`) prints it as one `error: ...` line and
exits with status 1. Any other exception is a bug in ssdlite and keeps its
traceback.
"""

import functools
import sys
from collections.abc import Callable

Main = Callable[[list[str] | None], None]


class SsdliteError(Exception):
    """Input a user can fix; the message names the file, record or flag and the fix."""


class InputError(SsdliteError, ValueError):
    """A file, folder or flag value given to a command or to `Detector` that cannot be used."""


def reports_errors(main: Main) -> Main:
    """`main(argv)` with the project's errors printed as one `error:` line and exit status 1."""

    @functools.wraps(main)
    def command(argv: list[str] | None = None) -> None:
        try:
            main(argv)
        except SsdliteError as error:
            # one line, though some messages span several (torch.load's reasons in a CheckpointError)
            sys.exit(f"error: {' '.join(str(error).split())}")

    return command
