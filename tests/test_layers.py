"""The package's layers (issue 25), checked on every module `pkgutil.walk_packages` finds.

- Outside `ssdlite.training` (and `ssdlite train`, its command) every module imports without Lightning installed: the
  detector, data, inference, export and tracking work without the training stack.
- Data code and model code never import each other, nor inference, training, tracking or
  conversion code, directly or through another module (STYLE.md, principles 5 and 11).
- No ssdlite modules import each other round a loop, counting imports inside functions:
  a cycle hidden by a function-level import is still two modules that own one idea.
"""

import ast
import graphlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import ssdlite

REPO = Path(ssdlite.__file__).resolve().parents[1]
# The Lightning system and `ssdlite train`, which runs it: the only modules that may import Lightning.
TRAINING = ("ssdlite.training", "ssdlite.commands.train")
LIGHTNING = ("lightning", "pytorch_lightning", "lightning_fabric")
OUTER = ("ssdlite.inference", "ssdlite.training", "ssdlite.tracking", "ssdlite.convert")
APART = {"ssdlite.data": ("ssdlite.model", *OUTER), "ssdlite.model": ("ssdlite.data", *OUTER)}  # package: what it never reaches

# Imports each named module in a Python where Lightning cannot be found, and prints the
# modules that needed it. Any other import error is a bug and fails with its traceback.
WITHOUT_LIGHTNING = f"""
import importlib, sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {LIGHTNING!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, NotInstalled())
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name.partition(".")[0] not in {LIGHTNING!r}:
            raise
        print(module)
"""


def package_modules() -> dict[str, Path]:
    """Every module and package of ssdlite: name -> source file."""
    modules = {"ssdlite": Path(ssdlite.__file__)}
    for info in pkgutil.walk_packages(ssdlite.__path__, "ssdlite."):
        path = Path(info.module_finder.path) / info.name.rpartition(".")[2]
        modules[info.name] = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The ssdlite modules `name` imports anywhere in its file (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names)
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    """Each ssdlite module -> the ssdlite modules it imports."""
    modules = package_modules()
    return {name: imported_modules(name, path, set(modules)) for name, path in modules.items()}


def reached(graph: dict[str, set[str]], name: str) -> set[str]:
    """The modules `name` imports, directly or through others."""
    seen, todo = set(), [name]
    while todo:
        for module in graph[todo.pop()] - seen:
            seen.add(module)
            todo.append(module)
    return seen


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_outside_training_nothing_needs_lightning():
    modules = [name for name in package_modules() if not any(in_package(name, layer) for layer in TRAINING)]
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_LIGHTNING, *modules], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    needing = result.stdout.split()
    assert not needing, f"{', '.join(needing)} need Lightning: move what they use out of ssdlite.training"


def test_data_and_model_code_stay_apart():
    graph = import_graph()
    crossings = [
        f"{name} -> {module}"
        for name in graph
        for package, kept_out in APART.items()
        if in_package(name, package)
        for module in sorted(reached(graph, name))
        if any(in_package(module, outer) for outer in kept_out)
    ]
    assert not crossings, "pass the value in instead of importing its maker: " + "; ".join(crossings)


def test_ssdlite_modules_import_one_another_without_a_cycle():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle {' -> '.join(error.args[1])}: move what both use into a module of its own")


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from ssdlite.data.synthetic import write_clip\n")
    assert imported_modules("ssdlite.late", module, set(package_modules())) == {"ssdlite.data.synthetic"}
