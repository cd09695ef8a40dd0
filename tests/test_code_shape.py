"""Small pieces (issue 9): no module of the package over 300 lines, no function over 50."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ssdlite"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50


def test_modules_and_functions_are_small():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(PACKAGE.parent)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "split these by idea: " + "; ".join(too_long)
